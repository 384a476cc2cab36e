'use strict';

// Legacy URLs from the 2019 site migration.
// Keep in sync with the "redirects" tab of the marketing spreadsheet!
const redirects = {
  '/about-us': '/company/about',
  '/about-us/': '/company/about',
  '/careers': 'https://jobs.example.com/',
  '/blog/2018/hello-world.html': '/blog/hello-world',
  '/pricing.html': '/pricing',
};

// Trigger: viewer-request
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;

  // People type these by hand: ignore case and a trailing index.html.
  let uri = request.uri.toLowerCase();
  if (uri.endsWith('/index.html')) {
    uri = uri.slice(0, -'index.html'.length);
  }

  const target = redirects[uri];
  if (!target) {
    return request;
  }

  // Keep the query string, marketing needs the utm_* parameters.
  const location = request.querystring ? `${target}?${request.querystring}` : target;

  return {
    status: '301',
    statusDescription: 'Moved Permanently',
    headers: {
      location: [{ key: 'Location', value: location }],
      'cache-control': [{ key: 'Cache-Control', value: 'max-age=3600' }],
    },
  };
};
