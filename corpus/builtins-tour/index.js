'use strict';

// An image-URL signer and request normaliser that leans on Node's built-ins
// the way real handlers do: url.parse and URL for the request, crypto for
// signatures, ids and ETags, path for the rewrite, util.format and
// promisify, string_decoder, events, and a timer awaited before answering.
// Trigger: origin-request
const crypto = require('crypto');
const path = require('path');
const url = require('url');
const util = require('util');
const { EventEmitter } = require('events');
const { StringDecoder } = require('string_decoder');

const SECRET = Buffer.from('c2lnbmluZy1zZWNyZXQtZm9yLWltYWdlcw==', 'base64');
const sleep = util.promisify(setTimeout);

function sign(pathname, expires) {
  return crypto.createHmac('sha256', SECRET).update(`${pathname}:${expires}`).digest('base64url');
}

exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const parsed = url.parse(`${request.uri}?${request.querystring}`, true);
  const whatwg = new URL(`https://${request.headers.host[0].value}${request.uri}?${request.querystring}`);
  const audit = new EventEmitter();
  const notes = [];
  audit.on('note', (n) => notes.push(n));

  const ext = path.extname(parsed.pathname).toLowerCase();
  const base = path.basename(parsed.pathname, ext);
  const normalised = path.posix.normalize(decodeURIComponent(parsed.pathname));
  audit.emit('note', util.format('%s %d%% %j', base, 100, { ext }));

  if (whatwg.searchParams.has('sig')) {
    const expires = Number(whatwg.searchParams.get('expires'));
    const given = Buffer.from(whatwg.searchParams.get('sig') || '', 'base64url');
    const wanted = Buffer.from(sign(normalised, expires), 'base64url');
    const valid = given.length === wanted.length && crypto.timingSafeEqual(given, wanted);
    if (!valid || expires * 1000 < Date.now()) {
      await sleep(5);
      return { status: '403', statusDescription: 'Forbidden', body: util.format('bad signature for %s (%i)', normalised, expires) };
    }
    audit.emit('note', 'signature ok');
  }

  const decoder = new StringDecoder('utf8');
  const bytes = Buffer.from(normalised, 'utf8');
  const decoded = decoder.write(bytes.subarray(0, 3)) + decoder.write(bytes.subarray(3)) + decoder.end();
  const digest = crypto.createHash('md5').update(decoded).digest('hex');
  const sha1 = crypto.createHash('sha1').update(bytes).digest('base64');
  const sha512 = crypto.createHash('sha512').update(request.clientIp).digest('hex').slice(0, 16);

  request.uri = path.posix.join('/images', ext.slice(1) || 'raw', `${base}${ext}`);
  request.querystring = new URLSearchParams([...whatwg.searchParams].filter(([k]) => k !== 'sig' && k !== 'expires')).toString();
  const setHeader = (name, value) => { request.headers[name.toLowerCase()] = [{ key: name, value }]; };
  setHeader('X-Request-Id', crypto.randomUUID());
  setHeader('X-Nonce', crypto.randomBytes(8).toString('hex'));
  setHeader('X-Etag-Hint', `"${digest}"`);
  setHeader('X-Sha1', sha1);
  setHeader('X-Client-Hash', sha512);
  setHeader('X-Query', JSON.stringify(parsed.query));
  setHeader('X-Basic', btoa(`edge:${atob('c2VjcmV0')}`));
  setHeader('X-Encoded', Array.from(new TextEncoder().encode(base)).join(','));
  setHeader('X-Notes', notes.join(' | '));
  await new Promise((resolve) => setTimeout(resolve, 1));
  setHeader('X-Inspect', util.inspect({ ext, parts: normalised.split('/').filter(Boolean) }));
  return request;
};
