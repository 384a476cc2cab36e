'use strict';

// Security headers on every response from the origin.
const HEADERS = {
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains; preload',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
};

exports.handler = (event, context, callback) => {
  const response = event.Records[0].cf.response;
  for (const [name, value] of Object.entries(HEADERS)) {
    response.headers[name.toLowerCase()] = [{ key: name, value }];
  }
  if (response.status.startsWith('5')) {
    response.headers['cache-control'] = [{ key: 'Cache-Control', value: 'no-store' }];
  }
  callback(null, response);
};
