'use strict';

/*
 * Serve the lighter build to phones and tablets.
 *
 * Needs CloudFront-Is-Mobile-Viewer and CloudFront-Is-Tablet-Viewer in the
 * cache policy, otherwise CloudFront never sends them and everyone gets the
 * desktop site. Trigger: origin-request.
 */
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const headers = request.headers;

  const isTrue = (name) => headers[name] && headers[name][0].value === 'true';

  // Deep links into a device build are left alone.
  if (request.uri.startsWith('/mobile/') || request.uri.startsWith('/tablet/')) {
    return request;
  }

  if (isTrue('cloudfront-is-mobile-viewer')) {
    request.uri = '/mobile' + request.uri;
  } else if (isTrue('cloudfront-is-tablet-viewer')) {
    request.uri = '/tablet' + request.uri;
  }

  return request;
};
