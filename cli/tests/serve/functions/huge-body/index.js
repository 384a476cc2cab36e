exports.handler = async () => ({ status: '200', body: 'x'.repeat(10 * 1024 * 1024) });
