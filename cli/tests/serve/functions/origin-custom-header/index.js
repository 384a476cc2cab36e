// Adds a custom header to the origin object: CloudFront sends it to the origin with the request.
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  request.origin.custom.customHeaders['x-origin-secret'] = [{ key: 'X-Origin-Secret', value: 's3cret' }];
  return request;
};
