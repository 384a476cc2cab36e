// A block rule `edgeport convert` can prove: /blocked is always answered 403 by the function,
// so serve's fast path answers it without entering Wasm.
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  if (request.uri === '/blocked') {
    return { status: '403', statusDescription: 'Forbidden', body: 'no' };
  }
  return request;
};
