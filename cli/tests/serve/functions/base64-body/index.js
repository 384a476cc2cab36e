exports.handler = async () => ({
  status: '200',
  headers: { 'content-type': [{ key: 'Content-Type', value: 'application/octet-stream' }] },
  body: 'aGVsbG8gYmFzZTY0',
  bodyEncoding: 'base64',
});
