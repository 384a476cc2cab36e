'use strict';
/*
 * Origin-request function from a multi-tenant setup: picks the tenant from the
 * X-Tenant header and its settings from a JSON cookie. Written when every
 * client sent both, it never checks that they are there — so a request
 * without them crashes the function, and CloudFront answers 503. The converted
 * function must crash the same way, with the same error.
 */

exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const tenant = request.headers['x-tenant'][0].value;
  const prefs = JSON.parse(decodeURIComponent(request.headers.cookie[0].value.replace(/^prefs=/, '')));
  request.uri = `/${tenant}/${prefs.lang || 'en'}${request.uri}`;
  return request;
};
