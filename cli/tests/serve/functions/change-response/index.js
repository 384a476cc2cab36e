// Replaces the origin's answer: another status, a header and a body of its own.
exports.handler = async (event) => {
  const response = event.Records[0].cf.response;
  response.status = '201';
  response.statusDescription = 'Created';
  response.headers['x-set-by-origin-response'] = [{ key: 'X-Set-By-Origin-Response', value: 'yes' }];
  response.body = 'replaced by origin-response';
  return response;
};
