'use strict';

// A/B test of the new landing page, adapted from the AWS Lambda@Edge example.
// Visitors keep their group through the X-Experiment-Name cookie, which
// cookie-ab-set-cookie sets on the way out; new visitors are split 75/25.
// Trigger: viewer-request
exports.handler = (event, context, callback) => {
    const request = event.Records[0].cf.request;
    const headers = request.headers;

    if (request.uri !== '/' && request.uri !== '/index.html') {
        // do not process if this is not an A-B test request
        callback(null, request);
        return;
    }

    const cookieExperimentA = 'X-Experiment-Name=A';
    const cookieExperimentB = 'X-Experiment-Name=B';
    const pathExperimentA = '/experiments/a/index.html';
    const pathExperimentB = '/experiments/b/index.html';

    /*
     * Lambda at the Edge headers are array objects.
     *
     * Client may send multiple Cookie headers, i.e.:
     * > GET /viewerRes/test HTTP/1.1
     * > Cookie: First=1; Second=2
     * > Cookie: ClientCode=abc
     */
    let experimentUri;
    if (headers.cookie) {
        for (let i = 0; i < headers.cookie.length; i++) {
            if (headers.cookie[i].value.indexOf(cookieExperimentA) >= 0) {
                console.log('Experiment A cookie found');
                experimentUri = pathExperimentA;
                break;
            } else if (headers.cookie[i].value.indexOf(cookieExperimentB) >= 0) {
                console.log('Experiment B cookie found');
                experimentUri = pathExperimentB;
                break;
            }
        }
    }

    if (!experimentUri) {
        console.log('Experiment cookie has not been found. Throwing dice...');
        // Bucket 0-99, logged so analytics can join on it.
        const bucket = Math.floor(Math.random() * 100);
        experimentUri = bucket < 75 ? pathExperimentA : pathExperimentB;
        headers['x-experiment-bucket'] = [{ key: 'X-Experiment-Bucket', value: String(bucket) }];
    }

    request.uri = experimentUri;
    console.log(`Request uri set to "${request.uri}"`);
    callback(null, request);
};
