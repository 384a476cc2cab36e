// Counts its invocations like `counter`; on /loop it marks its instance and never finishes, so
// an instance that timed out and was used again would answer `reused`.
let n = 0;
let timedOut = false;
exports.handler = async (event) => {
  if (event.Records[0].cf.request.uri === '/loop') {
    timedOut = true;
    while (true) {}
  }
  return { status: '200', body: timedOut ? 'reused' : String(++n) };
};
