'use strict';

// Legacy pattern from functions that kept connections open: turn off waiting for the event
// loop so the callback's answer goes out at once. Anything changed after the callback must
// therefore not show up in the response. The remaining time is logged as a header for the
// operations team.
exports.handler = (event, context, callback) => {
  const request = event.Records[0].cf.request;
  const headers = request.headers;

  if (request.uri.startsWith('/fast')) {
    context.callbackWaitsForEmptyEventLoop = false;
  }
  headers['x-remaining-ms'] = [{ key: 'X-Remaining-Ms', value: String(context.getRemainingTimeInMillis()) }];
  headers['x-waits'] = [{ key: 'X-Waits', value: String(context.callbackWaitsForEmptyEventLoop) }];

  callback(null, request);

  // Too late when the loop is not awaited; visible when it is.
  request.uri = request.uri + '.late';
};
