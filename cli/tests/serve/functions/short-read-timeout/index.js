exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  request.origin.custom.readTimeout = 1;
  return request;
};
