'use strict';

// Licensing: the video catalogue may only be shown in a few countries.
// Written for the nodejs8.10 runtime and never touched since.
// Trigger: origin-request (CloudFront-Viewer-Country is only sent to origin events)
var ALLOWED_COUNTRIES = ['US', 'CA', 'GB', 'IE'];

exports.handler = function(event, context, callback) {
    var request = event.Records[0].cf.request;
    var headers = request.headers;
    var country = 'XX';

    if (headers['cloudfront-viewer-country']) {
        country = headers['cloudfront-viewer-country'][0].value;
    }

    if (ALLOWED_COUNTRIES.indexOf(country) === -1) {
        var response = {
            status: '302',
            statusDescription: 'Found',
            headers: {
                location: [{
                    key: 'Location',
                    value: 'https://www.example.com/unavailable?country=' + country,
                }],
            },
        };
        callback(null, response);
        return;
    }

    headers['x-viewer-country'] = [{ key: 'X-Viewer-Country', value: country }];
    callback(null, request);
};
