// A generated response over viewer-request's 40 KB.
exports.handler = async () => ({ status: '200', body: 'x'.repeat(50 * 1024) });
