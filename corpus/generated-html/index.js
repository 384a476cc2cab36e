'use strict';

// Maintenance mode for the shop while the backend moves regions.
// Everything is answered at the edge; nothing reaches the origin.
// Trigger: viewer-request
function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

function page(path) {
  const year = new Date().getFullYear();
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>We'll be right back</title>
  <style>body { font-family: sans-serif; max-width: 40em; margin: 4em auto; }</style>
</head>
<body>
  <h1>We&#39;ll be right back</h1>
  <p>The shop is being upgraded. Your link to <code>${escapeHtml(decodeURIComponent(path))}</code> will work again shortly.</p>
  <footer>&copy; ${year} Example Shop — Grüße aus Berlin</footer>
</body>
</html>`;
}

exports.handler = (event, context, callback) => {
  const request = event.Records[0].cf.request;

  if (request.uri === '/robots.txt') {
    return callback(null, {
      status: '200',
      statusDescription: 'OK',
      headers: { 'content-type': [{ key: 'Content-Type', value: 'text/plain' }] },
      body: 'User-agent: *\nDisallow: /\n',
    });
  }

  if (request.uri === '/healthz') {
    // The load tester wants base64, don't ask.
    const status = JSON.stringify({ ok: false, mode: 'maintenance', checkedAt: new Date().toISOString() });
    return callback(null, {
      status: '200',
      statusDescription: 'OK',
      headers: { 'content-type': [{ key: 'Content-Type', value: 'application/json' }] },
      body: Buffer.from(status).toString('base64'),
      bodyEncoding: 'base64',
    });
  }

  callback(null, {
    status: '200',
    statusDescription: 'OK',
    headers: {
      'content-type': [{ key: 'Content-Type', value: 'text/html; charset=utf-8' }],
      'cache-control': [{ key: 'Cache-Control', value: 'no-cache' }],
      'retry-after': [{ key: 'Retry-After', value: '3600' }],
    },
    body: page(request.uri),
  });
};
