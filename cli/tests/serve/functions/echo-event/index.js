// Answers with the event it was given, so a test can read the event serve built.
exports.handler = async (event) => ({
  status: '200',
  statusDescription: 'OK',
  headers: { 'content-type': [{ key: 'Content-Type', value: 'application/json' }] },
  body: JSON.stringify(event),
});
