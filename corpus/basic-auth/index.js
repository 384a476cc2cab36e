'use strict';

// Password-protects the staging distribution.
// Trigger: viewer-request
exports.handler = (event, context, callback) => {

    // Get request and request headers
    const request = event.Records[0].cf.request;
    const headers = request.headers;

    // Configure authentication
    const authUser = 'staging';
    const authPass = 'n0t-s3cr3t!';

    // Construct the Basic Auth string
    const authString = 'Basic ' + new Buffer(authUser + ':' + authPass).toString('base64');

    if (headers.authorization) {
        // Who is trying? (helps when someone shares the password)
        const encoded = headers.authorization[0].value.split(' ')[1] || '';
        const decoded = Buffer.from(encoded, 'base64').toString('utf8');
        console.log('login attempt by ' + JSON.stringify(decoded.split(':')[0]));
    }

    // Require Basic authentication
    if (typeof headers.authorization == 'undefined' || headers.authorization[0].value != authString) {
        const body = 'Unauthorized';
        const response = {
            status: '401',
            statusDescription: 'Unauthorized',
            body: body,
            headers: {
                'www-authenticate': [{key: 'WWW-Authenticate', value:'Basic realm="Staging"'}]
            },
        };
        callback(null, response);
    }

    // Continue request processing if authentication passed
    // (no `return` above: on failure this second call is ignored)
    headers['x-staging-user'] = [{key: 'X-Staging-User', value: authUser}];
    callback(null, request);
};
