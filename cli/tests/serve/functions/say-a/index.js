exports.handler = async () => ({ status: '200', body: 'a' });
