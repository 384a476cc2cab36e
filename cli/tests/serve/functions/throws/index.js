exports.handler = async (event) => {
  console.log('about to throw for', event.Records[0].cf.request.uri);
  throw new Error('boom');
};
