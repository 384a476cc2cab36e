// Sends the request to the port the viewer names in x-target-port.
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const port = request.headers['x-target-port'][0].value;
  request.origin.custom.domainName = '127.0.0.1';
  request.origin.custom.port = Number(port);
  return request;
};
