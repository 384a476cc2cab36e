'use strict';

// Redirect table and origin routing driven by files shipped with the
// function: settings in a JSON module, the redirect list read with fs at
// start-up (the deploy pipeline regenerates it from the CMS), and the matching
// logic in a local module.
// Trigger: origin-request
const fs = require('fs');
const path = require('path');
const config = require('./config.json');
const { compileRules, findRedirect } = require('./lib/rules');

const redirects = compileRules(JSON.parse(fs.readFileSync(path.join(__dirname, 'data', 'redirects.json'), 'utf8')));
const banner = fs.readFileSync('data/banner.txt').toString('utf8').trim();

exports.handler = (event, context, callback) => {
  const request = event.Records[0].cf.request;
  const target = findRedirect(redirects, request.uri);
  if (target) {
    const location = request.querystring && config.keepQueryOnRedirect ? `${target}?${request.querystring}` : target;
    callback(null, {
      status: String(config.redirectStatus),
      statusDescription: 'Moved Permanently',
      headers: { location: [{ key: 'Location', value: location }] },
    });
    return;
  }
  for (const [prefix, domain] of Object.entries(config.origins)) {
    if (request.uri.startsWith(prefix)) {
      request.origin.custom.domainName = domain;
      request.headers.host = [{ key: 'Host', value: domain }];
      request.uri = request.uri.slice(prefix.length - 1);
    }
  }
  const mobile = request.headers['cloudfront-is-mobile-viewer'];
  if (mobile && mobile[0].value === 'true') request.uri = config.mobilePrefix + request.uri;
  request.headers['x-edge-banner'] = [{ key: 'X-Edge-Banner', value: banner }];
  request.headers['x-config-version'] = [{ key: 'X-Config-Version', value: config.version }];
  callback(null, request);
};
