// viewer-request with "include body": replaces the body with its upper-case copy and says
// in a header how much of it the event exposed.
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  if (!request.body) return { status: '500', body: 'no request.body in the event' };
  const text = Buffer.from(request.body.data, 'base64').toString('utf8');
  request.headers['x-body-seen'] = [{ value: `${text.length} truncated=${request.body.inputTruncated}` }];
  request.body.action = 'replace';
  request.body.encoding = 'text';
  request.body.data = text.toUpperCase();
  return request;
};
