exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  return {
    status: '302',
    statusDescription: 'Found',
    headers: { location: [{ key: 'Location', value: 'https://example.com/moved' + request.uri }] },
  };
};
