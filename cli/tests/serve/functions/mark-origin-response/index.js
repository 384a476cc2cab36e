exports.handler = async (event) => {
  const response = event.Records[0].cf.response;
  response.headers['x-origin-response-ran'] = [{ key: 'X-Origin-Response-Ran', value: 'yes' }];
  return response;
};
