'use strict';

const querystring = require('querystring');

// Better cache hit ratio: drop tracking parameters, lower-case the names and
// sort what is left so ?b=1&a=2 and ?a=2&b=1 share a cache entry.
// Trigger: viewer-request
const DROP = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'fbclid', 'gclid'];

exports.handler = async (event) => {
    const request = event.Records[0].cf.request;
    const params = querystring.parse(request.querystring);

    const kept = {};
    Object.keys(params).sort().forEach((key) => {
        const name = key.toLowerCase();
        if (DROP.indexOf(name) !== -1) return;
        // Repeated names (a=1&A=2) collapse to the last one.
        kept[name] = params[key];
    });

    const normalized = querystring.stringify(kept);
    if (normalized !== request.querystring) {
        console.log(`querystring ${request.querystring} -> ${normalized}`);
    }
    request.querystring = normalized;
    return request;
};
