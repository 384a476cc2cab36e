exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  request.headers['x-added-by-origin-request'] = [{ key: 'X-Added-By-Origin-Request', value: 'yes' }];
  return request;
};
