// X-Amz-Cf-* headers are CloudFront's own: adding one is a validation error.
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  request.headers['x-amz-cf-foo'] = [{ key: 'X-Amz-Cf-Foo', value: 'bar' }];
  return request;
};
