// Module-level state survives between invocations of a warm instance.
let n = 0;
exports.handler = async () => ({ status: '200', body: String(++n) });
