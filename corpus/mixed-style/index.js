'use strict';

// Half-migrated from callbacks to async/await: the function is async but some
// paths still answer through the callback. Node (and so CloudFront) takes
// whichever answer comes first.
// Trigger: viewer-request
exports.handler = async (event, context, callback) => {
  const request = event.Records[0].cf.request;

  switch (request.uri) {
    case '/legacy':
      // Old path: answered via the callback, the async function then resolves
      // to undefined, which is ignored.
      callback(null, { status: '410', statusDescription: 'Gone' });
      return;

    case '/twice':
      // Copy-paste accident: two answers; the first one wins.
      callback(null, { status: '200', statusDescription: 'OK', body: 'first' });
      callback(null, { status: '200', statusDescription: 'OK', body: 'second' });
      return request;

    case '/late-callback':
      // The callback fires from a promise reaction queued *before* the async
      // function returns, so it beats the returned value.
      Promise.resolve().then(() => callback(null, { status: '200', statusDescription: 'OK', body: 'from callback' }));
      return { status: '200', statusDescription: 'OK', body: 'from return' };

    case '/mutate-after-callback': {
      // With callbackWaitsForEmptyEventLoop the result is serialised only
      // once the event loop is empty, so this later edit is sent too.
      const response = { status: '200', statusDescription: 'OK', headers: {} };
      callback(null, response);
      response.headers['x-edited'] = [{ key: 'X-Edited', value: 'after callback' }];
      return;
    }

    default:
      request.headers['x-mixed'] = [{ key: 'X-Mixed', value: 'true' }];
      return request;
  }
};
