'use strict';

/**
 * Adds the security headers the pen-test report asked for to everything the
 * origin sends back.
 *
 * Trigger: origin-response (so the result is cached with the headers on).
 * Based on the AWS blog post "Adding HTTP Security Headers Using Lambda@Edge
 * and Amazon CloudFront".
 */
exports.handler = (event, context, callback) => {
    //Get contents of response
    const response = event.Records[0].cf.response;
    const headers = response.headers;

    //Set new headers
    headers['strict-transport-security'] = [{key: 'Strict-Transport-Security', value: 'max-age=63072000; includeSubdomains; preload'}];
    headers['content-security-policy'] = [{key: 'Content-Security-Policy', value: "default-src 'none'; img-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'"}];
    headers['x-content-type-options'] = [{key: 'X-Content-Type-Options', value: 'nosniff'}];
    headers['x-frame-options'] = [{key: 'X-Frame-Options', value: 'DENY'}];
    headers['x-xss-protection'] = [{key: 'X-XSS-Protection', value: '1; mode=block'}];
    headers['referrer-policy'] = [{key: 'Referrer-Policy', value: 'same-origin'}];

    // Don't advertise what the origin runs (finding #7).
    delete headers['server'];
    delete headers['x-powered-by'];

    // Only pages need the permissions policy; images and JSON don't.
    const contentType = headers['content-type'] ? headers['content-type'][0].value : '';
    if (contentType.indexOf('text/html') === 0) {
        headers['permissions-policy'] = [{key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=()'}];
    }

    // Origin sometimes returns 404s with a long max-age; don't cache them for a day.
    if (response.status == 404) {
        headers['cache-control'] = [{key: 'Cache-Control', value: 'max-age=10'}];
    }

    //Return modified response
    callback(null, response);
};
