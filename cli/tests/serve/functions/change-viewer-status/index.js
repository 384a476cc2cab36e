// viewer-response may not change the status.
exports.handler = async (event) => {
  const response = event.Records[0].cf.response;
  response.status = '201';
  return response;
};
