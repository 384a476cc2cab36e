// Moves every request under /rewritten and tags it, the way URI-rewriting functions do.
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  request.uri = '/rewritten' + request.uri;
  request.headers['x-added-by-viewer'] = [{ key: 'X-Added-By-Viewer', value: 'yes' }];
  return request;
};
