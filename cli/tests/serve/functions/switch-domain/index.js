// Sends the request to another origin by name; the test maps the name with --resolve.
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  request.origin.custom.domainName = 'second-origin.test';
  return request;
};
