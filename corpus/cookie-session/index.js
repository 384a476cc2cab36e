'use strict';

// Session gate and language routing with the `cookie` npm package, the way
// many sites did it before CloudFront Functions: visitors without a session
// cookie are sent to the login page with a return-to cookie; a `lang` cookie
// picks the localized tree of the site.
// Trigger: viewer-request
const cookie = require('cookie');

const LANGUAGES = new Set(['en', 'de', 'fr', 'ja']);
const PUBLIC_PREFIXES = ['/login', '/assets/', '/favicon.ico'];

function readCookies(headers) {
  const merged = (headers.cookie || []).map((h) => h.value).join('; ');
  return cookie.parse(merged);
}

exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const cookies = readCookies(request.headers);

  if (!cookies.session && !PUBLIC_PREFIXES.some((p) => request.uri.startsWith(p))) {
    const returnTo = cookie.serialize('return_to', request.uri + (request.querystring ? `?${request.querystring}` : ''), {
      path: '/',
      httpOnly: true,
      secure: true,
      sameSite: 'lax',
      maxAge: 600,
    });
    return {
      status: '302',
      statusDescription: 'Found',
      headers: {
        location: [{ key: 'Location', value: '/login' }],
        'set-cookie': [{ key: 'Set-Cookie', value: returnTo }],
        'cache-control': [{ key: 'Cache-Control', value: 'no-store' }],
      },
    };
  }

  const lang = (cookies.lang || '').toLowerCase();
  if (LANGUAGES.has(lang) && !request.uri.startsWith(`/${lang}/`) && !request.uri.startsWith('/assets/')) {
    request.uri = `/${lang}${request.uri}`;
  }
  if (cookies.session) {
    request.headers['x-session-id'] = [{ key: 'X-Session-Id', value: cookies.session }];
  }
  return request;
};
