// Swaps the custom origin for an S3 one, as origin-switching functions do.
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  request.origin = {
    s3: {
      domainName: 'assets.s3.test',
      path: '',
      region: 'us-east-1',
      authMethod: 'none',
      customHeaders: {},
    },
  };
  return request;
};
