'use strict';

// The bucket is private (OAI), so S3's website "index document" feature does
// not apply: rewrite directory-style URIs to their index.html ourselves.
// Trigger: origin-request
exports.handler = (event, context, callback) => {
    var request = event.Records[0].cf.request;

    // Extract the URI from the request
    var olduri = request.uri;

    // Match any '/' that occurs at the end of a URI. Replace it with a default index
    var newuri = olduri.replace(/\/$/, '\/index.html');

    // Hugo generates /docs/getting-started/index.html for /docs/getting-started
    if (!/\.[a-z0-9]+$/i.test(newuri)) {
        newuri = newuri + '/index.html';
    }

    // Log the URI as received by CloudFront and the new URI to be used to fetch from origin
    console.log("Old URI: " + olduri);
    console.log("New URI: " + newuri);

    // Replace the received URI with the URI that includes the index page
    request.uri = newuri;

    // Return to CloudFront
    return callback(null, request);
};
