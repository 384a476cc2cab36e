// Host is read-only on viewer-request: CloudFront refuses the result.
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  request.headers['host'] = [{ key: 'Host', value: 'elsewhere.example' }];
  return request;
};
