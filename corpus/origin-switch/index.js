'use strict';

// One distribution, several backends:
//   /api/*              -> the API (custom origin), /api prefix stripped
//   X-Preview: 1        -> the preview bucket
//   everything else     -> the default S3 origin, untouched
// Trigger: origin-request
const API_DOMAIN = 'api.example.com';
const PREVIEW_BUCKET = 'example-preview.s3.amazonaws.com';

exports.handler = (event, context, callback) => {
    const request = event.Records[0].cf.request;
    const headers = request.headers;

    if (request.uri === '/api' || request.uri.startsWith('/api/')) {
        request.origin = {
            custom: {
                domainName: API_DOMAIN,
                port: 443,
                protocol: 'https',
                path: '/v2',
                sslProtocols: ['TLSv1.2'],
                readTimeout: 30,
                keepaliveTimeout: 5,
                customHeaders: {
                    'x-origin-verify': [{ key: 'X-Origin-Verify', value: 'c2VjcmV0LWZyb20tc3NtCg' }],
                },
            },
        };
        headers['host'] = [{ key: 'host', value: API_DOMAIN }];
        request.uri = request.uri.replace(/^\/api/, '') || '/';
    } else if (headers['x-preview'] && headers['x-preview'][0].value === '1') {
        request.origin = {
            s3: {
                domainName: PREVIEW_BUCKET,
                region: 'eu-west-1',
                authMethod: 'origin-access-identity',
                path: '/drafts',
                customHeaders: {},
            },
        };
        headers['host'] = [{ key: 'host', value: PREVIEW_BUCKET }];
    }

    callback(null, request);
};
