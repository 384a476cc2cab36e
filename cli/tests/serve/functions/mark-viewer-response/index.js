exports.handler = async (event) => {
  const response = event.Records[0].cf.response;
  response.headers['x-viewer-response-ran'] = [{ key: 'X-Viewer-Response-Ran', value: 'yes' }];
  return response;
};
