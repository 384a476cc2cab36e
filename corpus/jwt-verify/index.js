'use strict';

// Token gate in front of a members area, with the jsonwebtoken package and an
// HS256 key baked in at deploy time (Lambda@Edge has no environment). The
// token comes from the Authorization header or the `token` cookie; a valid
// one forwards the subject and roles to the origin.
// Trigger: viewer-request
const jwt = require('jsonwebtoken');

const SIGNING_KEY = 'edge-demo-signing-key-0f3c9a1e7b2d';

function unauthorized(message) {
  return {
    status: '401',
    statusDescription: 'Unauthorized',
    headers: {
      'www-authenticate': [{ key: 'WWW-Authenticate', value: 'Bearer realm="members"' }],
      'content-type': [{ key: 'Content-Type', value: 'application/json' }],
    },
    body: JSON.stringify({ error: message }),
  };
}

function tokenOf(headers) {
  const auth = headers.authorization && headers.authorization[0].value;
  if (auth && auth.startsWith('Bearer ')) return auth.slice(7);
  const cookies = (headers.cookie || []).map((h) => h.value).join('; ');
  const match = /(?:^|;\s*)token=([^;]+)/.exec(cookies);
  return match ? match[1] : null;
}

exports.handler = (event, context, callback) => {
  const request = event.Records[0].cf.request;
  if (!request.uri.startsWith('/members')) return callback(null, request);
  const token = tokenOf(request.headers);
  if (!token) return callback(null, unauthorized('missing token'));
  jwt.verify(token, SIGNING_KEY, { algorithms: ['HS256'], audience: 'members', issuer: 'https://auth.example.com/' }, (err, claims) => {
    if (err) return callback(null, unauthorized(`${err.name}: ${err.message}`));
    request.headers['x-user'] = [{ key: 'X-User', value: claims.sub }];
    request.headers['x-roles'] = [{ key: 'X-Roles', value: (claims.roles || []).join(',') }];
    const remaining = claims.exp - Math.floor(Date.now() / 1000);
    request.headers['x-token-ttl'] = [{ key: 'X-Token-TTL', value: String(remaining) }];
    return callback(null, request);
  });
};
