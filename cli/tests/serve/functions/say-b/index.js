exports.handler = async () => ({ status: '200', body: 'b' });
