'use strict';

// Keep scrapers off the product catalogue. Trigger: viewer-request
const BAD_BOTS = [
  /python-requests/i,
  /curl\//i,
  /scrapy/i,
  /AhrefsBot|SemrushBot|MJ12bot/,
  /^$/, // no User-Agent at all
];

exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const ua = (request.headers['user-agent'] && request.headers['user-agent'][0].value) || '';

  if (BAD_BOTS.some((re) => re.test(ua))) {
    // NB: status as a number; CloudFront's docs say string but this has
    // been in production for years.
    return {
      status: 403,
      statusDescription: 'Forbidden',
      headers: { 'content-type': [{ key: 'Content-Type', value: 'text/plain; charset=utf-8' }] },
      body: 'Automated access is not allowed. Contact api@example.com for an API key.',
    };
  }

  return request;
};
