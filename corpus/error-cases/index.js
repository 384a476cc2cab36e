'use strict';

// API key check in front of the partner API. Every way it fails surfaces as
// a Lambda error, which CloudFront turns into a 503 -- a long-standing bug
// ("should be 401/403") nobody has fixed because partners rely on it.
// Trigger: viewer-request
const KEYS = {
  'k-live-7f3a': { client: 'acme', revoked: false },
  'k-live-0b1e': { client: 'globex', revoked: true },
};

function lookupKey(key) {
  return new Promise((resolve, reject) => {
    const entry = KEYS[key];
    if (!entry) {
      reject(new Error('unknown api key'));
    } else if (entry.revoked) {
      reject(new RangeError(`api key for ${entry.client} was revoked`));
    } else {
      resolve(entry);
    }
  });
}

exports.handler = (event, context, callback) => {
  const request = event.Records[0].cf.request;
  const headers = request.headers;

  if (request.uri.startsWith('/admin')) {
    throw new Error('admin endpoints are not served through this distribution');
  }

  if (headers['x-maintenance']) {
    // Someone's "quick fix" from an incident: throws a bare string.
    throw 'maintenance mode';
  }

  const key = headers['x-api-key'] && headers['x-api-key'][0].value;
  if (!key) {
    callback(new Error('Unauthorized: missing x-api-key header'));
    return;
  }

  return lookupKey(key).then((entry) => {
    headers['x-api-client'] = [{ key: 'X-Api-Client', value: entry.client }];
    return request;
  });
};
