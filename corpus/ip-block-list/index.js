'use strict';

// Block abusive clients (incident 2021-11-03). TODO: move this to WAF.
// Trigger: viewer-request
const BLOCKED = [
  '198.51.100.7',
  '203.0.113.0/24',   // scraper farm
  '192.0.2.128/25',
  '2001:db8::1',      // IPv6 only by exact match for now
];

function ipToInt(ip) {
  // `<<` goes negative past 2^31; the final >>> 0 makes it unsigned again.
  return ip.split('.').reduce((acc, octet) => (acc << 8) + parseInt(octet, 10), 0) >>> 0;
}

function inCidr(ip, cidr) {
  const [range, bits = '32'] = cidr.split('/');
  const mask = bits === '0' ? 0 : (~0 << (32 - bits)) >>> 0;
  return (ipToInt(ip) & mask) === (ipToInt(range) & mask);
}

function isBlocked(ip) {
  if (ip.indexOf(':') !== -1) {
    return BLOCKED.indexOf(ip) !== -1;
  }
  return BLOCKED.some((entry) => (entry.indexOf('/') !== -1 && entry.indexOf(':') === -1 ? inCidr(ip, entry) : entry === ip));
}

exports.handler = (event, context, callback) => {
  const request = event.Records[0].cf.request;
  const ip = request.clientIp;

  if (isBlocked(ip)) {
    console.log(`blocked ${ip} ${request.uri}`);
    return callback(null, {
      status: '403',
      statusDescription: 'Forbidden',
      headers: {
        'content-type': [{ key: 'Content-Type', value: 'text/plain' }],
        'cache-control': [{ key: 'Cache-Control', value: 'no-store' }],
      },
      body: 'Access denied\n',
    });
  }

  callback(null, request);
};
