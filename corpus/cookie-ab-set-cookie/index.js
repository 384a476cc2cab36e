'use strict';

// Companion of cookie-ab-test: remember the group the visitor was put in so
// the next visit lands on the same variant.
// Trigger: viewer-response
const COOKIE_NAME = 'X-Experiment-Name';
const THIRTY_DAYS_MS = 30 * 24 * 60 * 60 * 1000;

function hasCookie(request, name, value) {
  const cookies = request.headers.cookie || [];
  return cookies.some((header) =>
    header.value.split(';').some((pair) => pair.trim() === `${name}=${value}`));
}

exports.handler = async (event) => {
  const { request, response } = event.Records[0].cf;

  const match = /^\/experiments\/(a|b)\//.exec(request.uri);
  if (!match) {
    return response;
  }
  const variant = match[1].toUpperCase();

  if (hasCookie(request, COOKIE_NAME, variant)) {
    return response;
  }

  const expires = new Date(Date.now() + THIRTY_DAYS_MS).toUTCString();
  const cookie = `${COOKIE_NAME}=${variant}; Path=/; Expires=${expires}; Secure; HttpOnly; SameSite=Lax`;

  // The origin may set cookies of its own; add ours next to them.
  response.headers['set-cookie'] = (response.headers['set-cookie'] || [])
    .concat([{ key: 'Set-Cookie', value: cookie }]);

  return response;
};
