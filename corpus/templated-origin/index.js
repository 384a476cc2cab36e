'use strict';

// Origin routing whose settings the deploy pipeline writes into the code:
// the CloudFormation stack ran `sed` over the bundle before publishing the
// version (Lambda@Edge has no environment variables). Origin domain, API key
// and cache TTL are placeholders here; the region table is a JSON file
// templated the same way.
// Trigger: origin-request
const regions = require('./regions.json');

const ORIGIN_DOMAIN = '{{ORIGIN_DOMAIN}}';
const ORIGIN_API_KEY = '${ORIGIN_API_KEY}';
const DEFAULT_TTL = Number('__CACHE_TTL__');

exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const country = (request.headers['cloudfront-viewer-country'] || [{ value: '' }])[0].value;
  const domain = regions[country] || ORIGIN_DOMAIN;
  request.origin = {
    custom: {
      domainName: domain,
      port: 443,
      protocol: 'https',
      path: '',
      sslProtocols: ['TLSv1.2'],
      readTimeout: 30,
      keepaliveTimeout: 5,
      customHeaders: { 'x-api-key': [{ key: 'X-Api-Key', value: ORIGIN_API_KEY }] },
    },
  };
  request.headers.host = [{ key: 'Host', value: domain }];
  request.headers['x-default-ttl'] = [{ key: 'X-Default-TTL', value: String(DEFAULT_TTL) }];
  return request;
};
