'use strict';
// Node's `url` module for the QuickJS engine.
//
// Two APIs live here. The WHATWG `URL` / `URLSearchParams` classes follow the
// URL Standard's state machine as Node 20's parser (Ada) implements it — in
// particular its older percent-encode sets: '^' and '|' stay as they are in
// paths, and spaces stay as they are in opaque paths. The legacy
// `url.parse` / `format` / `resolve` follow Node 20's lib/url.js (MIT
// licence, Joyent and Node contributors) step by step, quirks included,
// because that is what old Lambda@Edge handlers call on `request.uri`.
//
// Deliberately left out: full UTS #46 for non-ASCII hosts (a label is mapped
// with NFKC and lower-casing, then Punycode-encoded; the disallowed, bidi and
// joiner checks are not made), `URL.createObjectURL` / `revokeObjectURL`
// (no Blob), `urlToHttpOptions`, Windows paths in `fileURLToPath` /
// `pathToFileURL`, and the DEP0169 / DEP0170 warnings of `url.parse`.
//
// Checked against the real module by ../test/vectors.js.

const { Buffer } = require('buffer');
const querystring = require('querystring');
const { nodeError, errInvalidArgType, validateString, validateFunction } = require('edgeport:errors');

function errInvalidUrl(input, base) {
  const error = nodeError(TypeError, 'ERR_INVALID_URL', 'Invalid URL');
  error.input = input;
  if (base != null) error.base = base;
  return error;
}

function errMissingArgs(...names) {
  const wrapped = names.map((n) => `"${n}"`);
  const list = wrapped.length === 1 ? wrapped[0] : `${wrapped.slice(0, -1).join(', ')} and ${wrapped[wrapped.length - 1]}`;
  return nodeError(TypeError, 'ERR_MISSING_ARGS', `The ${list} argument${names.length > 1 ? 's' : ''} must be specified`);
}

// USVString conversion: lone surrogates become U+FFFD.
function toUSV(string) {
  return string.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(^|[^\ud800-\udbff])[\udc00-\udfff]/g,
    (m) => (m.length === 2 ? m[0] + '\ufffd' : '\ufffd'));
}

// ---------------------------------------------------------------------------
// Percent-encoding (https://url.spec.whatwg.org/#percent-encoded-bytes)

const C0 = (c) => c < 0x20 || c > 0x7e;
const setOf = (base, chars) => {
  const extra = new Set(Array.from(chars, (ch) => ch.charCodeAt(0)));
  return (c) => base(c) || extra.has(c);
};
const FRAGMENT_SET = setOf(C0, ' "<>`');
const QUERY_SET = setOf(C0, ' "#<>');
const SPECIAL_QUERY_SET = setOf(QUERY_SET, "'");
const PATH_SET = setOf(QUERY_SET, '?`{}');
const USERINFO_SET = setOf(PATH_SET, '/:;=@[\\]^|');

function hexByte(b) {
  return '%' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase();
}

// Encodes one code point (a string of one or two code units).
function encodeCodePoint(cp, inSet) {
  const c = cp.codePointAt(0);
  if (!inSet(c)) return cp;
  let out = '';
  for (const b of Buffer.from(cp, 'utf8')) out += hexByte(b);
  return out;
}

function encodeString(string, inSet) {
  let out = '';
  for (const cp of string) out += encodeCodePoint(cp, inSet);
  return out;
}

const isHex = (ch) => ch !== undefined && /^[0-9A-Fa-f]$/.test(ch);

// Percent-decodes the UTF-8 bytes of `string` into bytes.
function percentDecode(string) {
  const bytes = Buffer.from(string, 'utf8');
  const out = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x25 && i + 2 < bytes.length && isHex(String.fromCharCode(bytes[i + 1])) && isHex(String.fromCharCode(bytes[i + 2]))) {
      out.push(parseInt(String.fromCharCode(bytes[i + 1], bytes[i + 2]), 16));
      i += 2;
    } else {
      out.push(b);
    }
  }
  return Buffer.from(out);
}

// ---------------------------------------------------------------------------
// Punycode (RFC 3492) and the host's domain-to-ASCII step.

const BASE = 36;
const T_MIN = 1;
const T_MAX = 26;

function adapt(delta, numPoints, firstTime) {
  delta = firstTime ? Math.floor(delta / 700) : delta >> 1;
  delta += Math.floor(delta / numPoints);
  let k = 0;
  while (delta > 455) {
    delta = Math.floor(delta / 35);
    k += BASE;
  }
  return k + Math.floor(36 * delta / (delta + 38));
}

const digitChar = (d) => String.fromCharCode(d < 26 ? d + 97 : d + 22);

function punycodeEncode(label) {
  const input = Array.from(label, (ch) => ch.codePointAt(0));
  let output = input.filter((c) => c < 0x80).map((c) => String.fromCharCode(c)).join('');
  const basic = output.length;
  let handled = basic;
  if (basic > 0) output += '-';
  let n = 128;
  let delta = 0;
  let bias = 72;
  while (handled < input.length) {
    const m = Math.min(...input.filter((c) => c >= n));
    delta += (m - n) * (handled + 1);
    n = m;
    for (const c of input) {
      if (c < n) delta++;
      if (c === n) {
        let q = delta;
        for (let k = BASE; ; k += BASE) {
          const t = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias;
          if (q < t) break;
          output += digitChar(t + (q - t) % (BASE - t));
          q = Math.floor((q - t) / (BASE - t));
        }
        output += digitChar(q);
        bias = adapt(delta, handled + 1, handled === basic);
        delta = 0;
        handled++;
      }
    }
    delta++;
    n++;
  }
  return output;
}

// Returns the decoded label, or null when `encoded` is not valid Punycode.
function punycodeDecode(encoded) {
  const delimiter = encoded.lastIndexOf('-');
  const output = [];
  for (let j = 0; j < Math.max(delimiter, 0); j++) {
    if (encoded.charCodeAt(j) >= 0x80) return null;
    output.push(encoded.charCodeAt(j));
  }
  let n = 128;
  let i = 0;
  let bias = 72;
  for (let index = delimiter > 0 ? delimiter + 1 : 0; index < encoded.length;) {
    const oldi = i;
    let w = 1;
    for (let k = BASE; ; k += BASE) {
      if (index >= encoded.length) return null;
      const c = encoded.charCodeAt(index++);
      const digit = c - 48 < 10 ? c - 22 : c - 65 < 26 ? c - 65 : c - 97 < 26 ? c - 97 : BASE;
      if (digit >= BASE) return null;
      i += digit * w;
      const t = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias;
      if (digit < t) break;
      w *= BASE - t;
    }
    bias = adapt(i - oldi, output.length + 1, oldi === 0);
    n += Math.floor(i / (output.length + 1));
    i %= output.length + 1;
    if (n > 0x10ffff) return null;
    output.splice(i++, 0, n);
  }
  return String.fromCodePoint(...output);
}

const FORBIDDEN_HOST = /[\u0000\t\n\r #/:<>?@[\\\]^|]/;
const FORBIDDEN_DOMAIN = /[\u0000-\u001f #%/:<>?@[\\\]^|\u007f]/;

// An approximation of UTS #46 ToASCII (non-transitional, no STD3 rules) good
// for the hosts real URLs carry: ASCII is lower-cased; other labels are mapped
// with NFKC and lower-casing, then Punycode-encoded; existing "xn--" labels
// must decode. Returns null on failure.
function domainToAsciiInternal(domain) {
  let mapped = domain;
  if (/[^\x00-\x7f]/.test(mapped)) {
    mapped = mapped.replace(/[\u00ad\u200b\u2060\ufeff\u034f\u180b-\u180d\ufe00-\ufe0f]/g, '')
      .normalize('NFKC').toLowerCase().replace(/[\u3002\uff0e\uff61]/g, '.');
  } else {
    mapped = mapped.toLowerCase();
  }
  const labels = mapped.split('.').map((label) => {
    if (/[^\x00-\x7f]/.test(label)) return 'xn--' + punycodeEncode(label);
    if (label.startsWith('xn--')) {
      const decoded = punycodeDecode(label.slice(4));
      if (decoded === null || decoded === '' || !/[^\x00-\x7f]/.test(decoded) || /[\u0080-\u009f]/.test(decoded) ||
          punycodeEncode(decoded) !== label.slice(4)) return null;
    }
    return label;
  });
  if (labels.includes(null)) return null;
  const result = labels.join('.');
  return result === '' && domain !== '' ? null : result;
}

// ---------------------------------------------------------------------------
// IPv4 and IPv6 (https://url.spec.whatwg.org/#host-parsing)

// Returns the number, or null on failure.
function parseIPv4Number(input) {
  if (input === '') return null;
  let radix = 10;
  if (/^0[xX]/.test(input)) {
    input = input.slice(2);
    radix = 16;
  } else if (input.length > 1 && input[0] === '0') {
    input = input.slice(1);
    radix = 8;
  }
  if (input === '') return 0;
  const valid = radix === 10 ? /^[0-9]+$/ : radix === 16 ? /^[0-9A-Fa-f]+$/ : /^[0-7]+$/;
  return valid.test(input) ? parseInt(input, radix) : null;
}

function endsInANumber(input) {
  const parts = input.split('.');
  if (parts[parts.length - 1] === '') {
    if (parts.length === 1) return false;
    parts.pop();
  }
  const last = parts[parts.length - 1];
  if (last !== '' && /^[0-9]+$/.test(last)) return true;
  return parseIPv4Number(last) !== null;
}

function parseIPv4(input) {
  const parts = input.split('.');
  if (parts[parts.length - 1] === '' && parts.length > 1) parts.pop();
  if (parts.length > 4) return null;
  const numbers = parts.map(parseIPv4Number);
  if (numbers.includes(null)) return null;
  if (numbers.slice(0, -1).some((n) => n > 255)) return null;
  const last = numbers[numbers.length - 1];
  if (last >= 256 ** (5 - numbers.length)) return null;
  let ipv4 = last;
  numbers.slice(0, -1).forEach((n, i) => { ipv4 += n * 256 ** (3 - i); });
  const out = [];
  for (let i = 0; i < 4; i++) {
    out.unshift(String(ipv4 % 256));
    ipv4 = Math.floor(ipv4 / 256);
  }
  return out.join('.');
}

function parseIPv6(input) {
  const address = [0, 0, 0, 0, 0, 0, 0, 0];
  let pieceIndex = 0;
  let compress = null;
  let pointer = 0;
  const at = (p) => input[p];
  if (at(pointer) === ':') {
    if (at(pointer + 1) !== ':') return null;
    pointer += 2;
    pieceIndex++;
    compress = pieceIndex;
  }
  while (at(pointer) !== undefined) {
    if (pieceIndex === 8) return null;
    if (at(pointer) === ':') {
      if (compress !== null) return null;
      pointer++;
      pieceIndex++;
      compress = pieceIndex;
      continue;
    }
    let value = 0;
    let length = 0;
    while (length < 4 && isHex(at(pointer))) {
      value = value * 16 + parseInt(at(pointer), 16);
      pointer++;
      length++;
    }
    if (at(pointer) === '.') {
      if (length === 0) return null;
      pointer -= length;
      if (pieceIndex > 6) return null;
      let numbersSeen = 0;
      while (at(pointer) !== undefined) {
        let ipv4Piece = null;
        if (numbersSeen > 0) {
          if (at(pointer) === '.' && numbersSeen < 4) pointer++;
          else return null;
        }
        if (!/^[0-9]$/.test(at(pointer) || '')) return null;
        while (/^[0-9]$/.test(at(pointer) || '')) {
          const number = Number(at(pointer));
          if (ipv4Piece === null) ipv4Piece = number;
          else if (ipv4Piece === 0) return null;
          else ipv4Piece = ipv4Piece * 10 + number;
          if (ipv4Piece > 255) return null;
          pointer++;
        }
        address[pieceIndex] = address[pieceIndex] * 0x100 + ipv4Piece;
        numbersSeen++;
        if (numbersSeen === 2 || numbersSeen === 4) pieceIndex++;
      }
      if (numbersSeen !== 4) return null;
      break;
    } else if (at(pointer) === ':') {
      pointer++;
      if (at(pointer) === undefined) return null;
    } else if (at(pointer) !== undefined) {
      return null;
    }
    address[pieceIndex] = value;
    pieceIndex++;
  }
  if (compress !== null) {
    let swaps = pieceIndex - compress;
    pieceIndex = 7;
    while (pieceIndex !== 0 && swaps > 0) {
      const other = compress + swaps - 1;
      [address[pieceIndex], address[other]] = [address[other], address[pieceIndex]];
      pieceIndex--;
      swaps--;
    }
  } else if (pieceIndex !== 8) {
    return null;
  }
  return address;
}

function serializeIPv6(address) {
  // The first longest run of two or more zero pieces is compressed to '::'.
  let compress = null;
  let best = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && address[j] === 0) j++;
    if (j - i > best) {
      best = j - i;
      compress = i;
    }
    i = j > i ? j : i + 1;
  }
  let output = '';
  let ignore0 = false;
  for (let i = 0; i < 8; i++) {
    if (ignore0 && address[i] === 0) continue;
    ignore0 = false;
    if (compress === i) {
      output += i === 0 ? '::' : ':';
      ignore0 = true;
      continue;
    }
    output += address[i].toString(16);
    if (i !== 7) output += ':';
  }
  return output;
}

// Returns the serialized host, or null on failure.
function parseHost(input, isOpaque) {
  if (input[0] === '[') {
    if (input[input.length - 1] !== ']') return null;
    const address = parseIPv6(input.slice(1, -1));
    return address === null ? null : `[${serializeIPv6(address)}]`;
  }
  if (isOpaque) {
    if (FORBIDDEN_HOST.test(input)) return null;
    return encodeString(input, C0);
  }
  const domain = percentDecode(input).toString('utf8').replace(/^\ufeff/, '');
  const ascii = domainToAsciiInternal(domain);
  if (ascii === null || ascii === '' || FORBIDDEN_DOMAIN.test(ascii)) return null;
  if (endsInANumber(ascii)) return parseIPv4(ascii);
  return ascii;
}

// ---------------------------------------------------------------------------
// The basic URL parser (https://url.spec.whatwg.org/#concept-basic-url-parser)

const SPECIAL = { ftp: 21, file: null, http: 80, https: 443, ws: 80, wss: 443 };
const isSpecialScheme = (scheme) => Object.prototype.hasOwnProperty.call(SPECIAL, scheme);
const isAlpha = (c) => c !== undefined && /^[A-Za-z]$/.test(c);
const isDigit = (c) => c !== undefined && /^[0-9]$/.test(c);
const isWindowsDriveLetter = (s) => /^[A-Za-z][:|]$/.test(s);
const isNormalizedWindowsDriveLetter = (s) => /^[A-Za-z]:$/.test(s);
const isSingleDot = (s) => s === '.' || s.toLowerCase() === '%2e';
const isDoubleDot = (s) => ['..', '.%2e', '%2e.', '%2e%2e'].includes(s.toLowerCase());

function startsWithWindowsDriveLetter(cps, pointer) {
  if (pointer + 2 > cps.length) return false;
  if (!isWindowsDriveLetter(cps[pointer] + cps[pointer + 1])) return false;
  if (pointer + 2 === cps.length) return true;
  return ['/', '\\', '?', '#'].includes(cps[pointer + 2]);
}

function shortenPath(url) {
  if (url.scheme === 'file' && url.path.length === 1 && isNormalizedWindowsDriveLetter(url.path[0])) return;
  url.path.pop();
}

const includesCredentials = (url) => url.username !== '' || url.password !== '';
const hasOpaquePath = (url) => typeof url.path === 'string';

const FAILURE = null;

// Parses `input` into a new record, or with `stateOverride` into `url` (the
// setters). Returns the record, or FAILURE.
function basicParse(input, base, url, stateOverride) {
  if (!url) {
    url = { scheme: '', username: '', password: '', host: null, port: null, path: [], query: null, fragment: null };
    input = input.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '');
  }
  input = input.replace(/[\t\n\r]/g, '');
  const cps = Array.from(input);
  let state = stateOverride || 'scheme start';
  let buffer = '';
  let atSignSeen = false;
  let insideBrackets = false;
  let passwordTokenSeen = false;

  for (let pointer = 0; pointer <= cps.length; pointer++) {
    const c = cps[pointer];
    const special = isSpecialScheme(url.scheme);
    switch (state) {
      case 'scheme start':
        if (isAlpha(c)) {
          buffer += c.toLowerCase();
          state = 'scheme';
        } else if (!stateOverride) {
          state = 'no scheme';
          pointer--;
        } else {
          return FAILURE;
        }
        break;

      case 'scheme':
        if (c !== undefined && /^[A-Za-z0-9+\-.]$/.test(c)) {
          buffer += c.toLowerCase();
        } else if (c === ':') {
          if (stateOverride) {
            if (isSpecialScheme(url.scheme) !== isSpecialScheme(buffer)) return url;
            if ((includesCredentials(url) || url.port !== null) && buffer === 'file') return url;
            if (url.scheme === 'file' && url.host === '') return url;
          }
          url.scheme = buffer;
          if (stateOverride) {
            if (url.port === SPECIAL[url.scheme]) url.port = null;
            return url;
          }
          buffer = '';
          if (url.scheme === 'file') {
            state = 'file';
          } else if (isSpecialScheme(url.scheme) && base && base.scheme === url.scheme) {
            state = 'special relative or authority';
          } else if (isSpecialScheme(url.scheme)) {
            state = 'special authority slashes';
          } else if (cps[pointer + 1] === '/') {
            state = 'path or authority';
            pointer++;
          } else {
            url.path = '';
            state = 'opaque path';
          }
        } else if (!stateOverride) {
          buffer = '';
          state = 'no scheme';
          pointer = -1;
        } else {
          return FAILURE;
        }
        break;

      case 'no scheme':
        if (!base || (hasOpaquePath(base) && c !== '#')) return FAILURE;
        if (hasOpaquePath(base) && c === '#') {
          url.scheme = base.scheme;
          url.path = base.path;
          url.query = base.query;
          url.fragment = '';
          state = 'fragment';
        } else {
          state = base.scheme !== 'file' ? 'relative' : 'file';
          pointer--;
        }
        break;

      case 'special relative or authority':
        if (c === '/' && cps[pointer + 1] === '/') {
          state = 'special authority ignore slashes';
          pointer++;
        } else {
          state = 'relative';
          pointer--;
        }
        break;

      case 'path or authority':
        if (c === '/') {
          state = 'authority';
        } else {
          state = 'path';
          pointer--;
        }
        break;

      case 'relative':
        url.scheme = base.scheme;
        if (c === '/' || (isSpecialScheme(url.scheme) && c === '\\')) {
          state = 'relative slash';
        } else {
          url.username = base.username;
          url.password = base.password;
          url.host = base.host;
          url.port = base.port;
          url.path = base.path.slice();
          url.query = base.query;
          if (c === '?') {
            url.query = '';
            state = 'query';
          } else if (c === '#') {
            url.fragment = '';
            state = 'fragment';
          } else if (c !== undefined) {
            url.query = null;
            shortenPath(url);
            state = 'path';
            pointer--;
          }
        }
        break;

      case 'relative slash':
        if (special && (c === '/' || c === '\\')) {
          state = 'special authority ignore slashes';
        } else if (c === '/') {
          state = 'authority';
        } else {
          url.username = base.username;
          url.password = base.password;
          url.host = base.host;
          url.port = base.port;
          state = 'path';
          pointer--;
        }
        break;

      case 'special authority slashes':
        if (c === '/' && cps[pointer + 1] === '/') {
          pointer++;
        } else {
          pointer--;
        }
        state = 'special authority ignore slashes';
        break;

      case 'special authority ignore slashes':
        if (c !== '/' && c !== '\\') {
          state = 'authority';
          pointer--;
        }
        break;

      case 'authority':
        if (c === '@') {
          if (atSignSeen) buffer = '%40' + buffer;
          atSignSeen = true;
          for (const cp of buffer) {
            if (cp === ':' && !passwordTokenSeen) {
              passwordTokenSeen = true;
              continue;
            }
            const encoded = encodeCodePoint(cp, USERINFO_SET);
            if (passwordTokenSeen) url.password += encoded;
            else url.username += encoded;
          }
          buffer = '';
        } else if (c === undefined || c === '/' || c === '?' || c === '#' || (special && c === '\\')) {
          if (atSignSeen && buffer === '') return FAILURE;
          pointer -= Array.from(buffer).length + 1;
          buffer = '';
          state = 'host';
        } else {
          buffer += c;
        }
        break;

      case 'host':
      case 'hostname':
        if (stateOverride && url.scheme === 'file') {
          pointer--;
          state = 'file host';
        } else if (c === ':' && !insideBrackets) {
          if (buffer === '') return FAILURE;
          if (stateOverride === 'hostname') return url;
          const host = parseHost(buffer, !special);
          if (host === null) return FAILURE;
          url.host = host;
          buffer = '';
          state = 'port';
        } else if (c === undefined || c === '/' || c === '?' || c === '#' || (special && c === '\\')) {
          pointer--;
          if (special && buffer === '') return FAILURE;
          if (stateOverride && buffer === '' && (includesCredentials(url) || url.port !== null)) return url;
          const host = parseHost(buffer, !special);
          if (host === null) return FAILURE;
          url.host = host;
          buffer = '';
          state = 'path start';
          if (stateOverride) return url;
        } else {
          if (c === '[') insideBrackets = true;
          if (c === ']') insideBrackets = false;
          buffer += c;
        }
        break;

      case 'port':
        if (isDigit(c)) {
          buffer += c;
        } else if (c === undefined || c === '/' || c === '?' || c === '#' || (special && c === '\\') || stateOverride) {
          if (buffer !== '') {
            const port = parseInt(buffer, 10);
            if (port > 65535) return FAILURE;
            url.port = port === SPECIAL[url.scheme] ? null : port;
            buffer = '';
          }
          if (stateOverride) return url;
          state = 'path start';
          pointer--;
        } else {
          return FAILURE;
        }
        break;

      case 'file':
        url.scheme = 'file';
        url.host = '';
        if (c === '/' || c === '\\') {
          state = 'file slash';
        } else if (base && base.scheme === 'file') {
          url.host = base.host;
          url.path = base.path.slice();
          url.query = base.query;
          if (c === '?') {
            url.query = '';
            state = 'query';
          } else if (c === '#') {
            url.fragment = '';
            state = 'fragment';
          } else if (c !== undefined) {
            url.query = null;
            if (!startsWithWindowsDriveLetter(cps, pointer)) shortenPath(url);
            else url.path = [];
            state = 'path';
            pointer--;
          }
        } else {
          state = 'path';
          pointer--;
        }
        break;

      case 'file slash':
        if (c === '/' || c === '\\') {
          state = 'file host';
        } else {
          if (base && base.scheme === 'file') {
            url.host = base.host;
            if (!startsWithWindowsDriveLetter(cps, pointer) && isNormalizedWindowsDriveLetter(base.path[0] || '')) {
              url.path.push(base.path[0]);
            }
          }
          state = 'path';
          pointer--;
        }
        break;

      case 'file host':
        if (c === undefined || c === '/' || c === '\\' || c === '?' || c === '#') {
          pointer--;
          if (!stateOverride && isWindowsDriveLetter(buffer)) {
            state = 'path';
          } else if (buffer === '') {
            url.host = '';
            if (stateOverride) return url;
            state = 'path start';
          } else {
            let host = parseHost(buffer, false);
            if (host === null) return FAILURE;
            if (host === 'localhost') host = '';
            url.host = host;
            if (stateOverride) return url;
            buffer = '';
            state = 'path start';
          }
        } else {
          buffer += c;
        }
        break;

      case 'path start':
        if (special) {
          state = 'path';
          if (c !== '/' && c !== '\\') pointer--;
        } else if (!stateOverride && c === '?') {
          url.query = '';
          state = 'query';
        } else if (!stateOverride && c === '#') {
          url.fragment = '';
          state = 'fragment';
        } else if (c !== undefined) {
          state = 'path';
          if (c !== '/') pointer--;
        } else if (stateOverride && url.host === null) {
          url.path.push('');
        }
        break;

      case 'path':
        if (c === undefined || c === '/' || (special && c === '\\') || (!stateOverride && (c === '?' || c === '#'))) {
          const slash = c === '/' || (special && c === '\\');
          if (isDoubleDot(buffer)) {
            shortenPath(url);
            if (!slash) url.path.push('');
          } else if (isSingleDot(buffer) && !slash) {
            url.path.push('');
          } else if (!isSingleDot(buffer)) {
            if (url.scheme === 'file' && url.path.length === 0 && isWindowsDriveLetter(buffer)) {
              buffer = buffer[0] + ':';
            }
            url.path.push(buffer);
          }
          buffer = '';
          if (c === '?') {
            url.query = '';
            state = 'query';
          } else if (c === '#') {
            url.fragment = '';
            state = 'fragment';
          }
        } else {
          buffer += encodeCodePoint(c, PATH_SET);
        }
        break;

      case 'opaque path':
        if (c === '?') {
          url.query = '';
          state = 'query';
        } else if (c === '#') {
          url.fragment = '';
          state = 'fragment';
        } else if (c !== undefined) {
          url.path += encodeCodePoint(c, C0);
        }
        break;

      case 'query':
        if ((!stateOverride && c === '#') || c === undefined) {
          url.query += encodeString(buffer, special ? SPECIAL_QUERY_SET : QUERY_SET);
          buffer = '';
          if (c === '#') {
            url.fragment = '';
            state = 'fragment';
          }
        } else {
          buffer += c;
        }
        break;

      case 'fragment':
        if (c !== undefined) url.fragment += encodeCodePoint(c, FRAGMENT_SET);
        break;
    }
  }
  return url;
}

function serializePath(url) {
  if (hasOpaquePath(url)) return url.path;
  return url.path.map((segment) => '/' + segment).join('');
}

function serializeURL(url, excludeFragment) {
  let output = url.scheme + ':';
  if (url.host !== null) {
    output += '//';
    if (includesCredentials(url)) {
      output += url.username;
      if (url.password !== '') output += ':' + url.password;
      output += '@';
    }
    output += url.host;
    if (url.port !== null) output += ':' + url.port;
  } else if (!hasOpaquePath(url) && url.path.length > 1 && url.path[0] === '') {
    output += '/.';
  }
  output += serializePath(url);
  if (url.query !== null) output += '?' + url.query;
  if (!excludeFragment && url.fragment !== null) output += '#' + url.fragment;
  return output;
}

function parseURL(input, base) {
  let baseRecord = null;
  if (base !== undefined) {
    baseRecord = basicParse(toUSV(`${base}`));
    if (baseRecord === FAILURE) return FAILURE;
  }
  return basicParse(toUSV(`${input}`), baseRecord);
}

// ---------------------------------------------------------------------------
// URLSearchParams

const kList = Symbol('list');
const kURL = Symbol('url');
const kRecord = Symbol('record');

// application/x-www-form-urlencoded parsing into [name, value] pairs.
function parseForm(input) {
  const list = [];
  for (const sequence of input.split('&')) {
    if (sequence === '') continue;
    const eq = sequence.indexOf('=');
    const name = eq === -1 ? sequence : sequence.slice(0, eq);
    const value = eq === -1 ? '' : sequence.slice(eq + 1);
    const decode = (s) => percentDecode(s.replace(/\+/g, ' ')).toString('utf8');
    list.push([decode(name), decode(value)]);
  }
  return list;
}

function serializeFormComponent(string) {
  let out = '';
  for (const cp of string) {
    if (cp === ' ') out += '+';
    else if (/^[A-Za-z0-9*\-._]$/.test(cp)) out += cp;
    else for (const b of Buffer.from(cp, 'utf8')) out += hexByte(b);
  }
  return out;
}

function serializeForm(list) {
  return list.map(([name, value]) => `${serializeFormComponent(name)}=${serializeFormComponent(value)}`).join('&');
}

function checkParams(self) {
  if (self === null || typeof self !== 'object' || !(kList in self)) {
    throw nodeError(TypeError, 'ERR_INVALID_THIS', 'Value of "this" must be of type URLSearchParams');
  }
}

// Writes the list back into the associated URL's query.
function updateURL(params) {
  const url = params[kURL];
  if (!url) return;
  const serialized = serializeForm(params[kList]);
  url[kRecord].query = serialized === '' ? null : serialized;
}

const errInvalidTuple = () => nodeError(TypeError, 'ERR_INVALID_TUPLE', 'Each query pair must be an iterable [name, value] tuple');

class URLSearchParams {
  constructor(init = undefined) {
    Object.defineProperty(this, kList, { value: [], writable: true });
    Object.defineProperty(this, kURL, { value: null, writable: true });
    if (init == null) return;
    if (typeof init === 'object' || typeof init === 'function') {
      const method = init[Symbol.iterator];
      if (method != null) {
        if (typeof method !== 'function') throw nodeError(TypeError, 'ERR_ARG_NOT_ITERABLE', 'Query pairs must be iterable');
        for (const pair of init) {
          if (pair == null || ((typeof pair !== 'object' && typeof pair !== 'function') || typeof pair[Symbol.iterator] !== 'function')) {
            throw errInvalidTuple();
          }
          const items = Array.from(pair, (v) => toUSV(`${v}`));
          if (items.length !== 2) throw errInvalidTuple();
          this[kList].push(items);
        }
      } else {
        // A record: later keys that become equal after USV conversion win in place.
        for (const key of Reflect.ownKeys(init)) {
          const desc = Reflect.getOwnPropertyDescriptor(init, key);
          if (desc === undefined || !desc.enumerable) continue;
          const name = toUSV(typeof key === 'symbol' ? String(key) : key);
          const value = toUSV(`${init[key]}`);
          const existing = this[kList].find((pair) => pair[0] === name);
          if (existing) existing[1] = value;
          else this[kList].push([name, value]);
        }
      }
    } else {
      const string = toUSV(`${init}`);
      this[kList] = parseForm(string[0] === '?' ? string.slice(1) : string);
    }
  }

  get size() {
    checkParams(this);
    return this[kList].length;
  }

  append(name, value) {
    checkParams(this);
    if (arguments.length < 2) throw errMissingArgs('name', 'value');
    this[kList].push([toUSV(`${name}`), toUSV(`${value}`)]);
    updateURL(this);
  }

  delete(name, value = undefined) {
    checkParams(this);
    if (arguments.length < 1) throw errMissingArgs('name');
    name = toUSV(`${name}`);
    if (value !== undefined) value = toUSV(`${value}`);
    this[kList] = this[kList].filter((pair) => !(pair[0] === name && (value === undefined || pair[1] === value)));
    updateURL(this);
  }

  get(name) {
    checkParams(this);
    if (arguments.length < 1) throw errMissingArgs('name');
    name = toUSV(`${name}`);
    const pair = this[kList].find((p) => p[0] === name);
    return pair ? pair[1] : null;
  }

  getAll(name) {
    checkParams(this);
    if (arguments.length < 1) throw errMissingArgs('name');
    name = toUSV(`${name}`);
    return this[kList].filter((p) => p[0] === name).map((p) => p[1]);
  }

  has(name, value = undefined) {
    checkParams(this);
    if (arguments.length < 1) throw errMissingArgs('name');
    name = toUSV(`${name}`);
    if (value !== undefined) value = toUSV(`${value}`);
    return this[kList].some((p) => p[0] === name && (value === undefined || p[1] === value));
  }

  set(name, value) {
    checkParams(this);
    if (arguments.length < 2) throw errMissingArgs('name', 'value');
    name = toUSV(`${name}`);
    value = toUSV(`${value}`);
    const list = this[kList];
    const first = list.findIndex((p) => p[0] === name);
    if (first === -1) {
      list.push([name, value]);
    } else {
      list[first][1] = value;
      this[kList] = list.filter((p, i) => i <= first || p[0] !== name);
    }
    updateURL(this);
  }

  sort() {
    checkParams(this);
    // Stable, by UTF-16 code units, as the standard asks.
    const list = this[kList];
    this[kList] = list.map((p, i) => [p, i]).sort((a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1])).map((e) => e[0]);
    updateURL(this);
  }

  forEach(callback, thisArg = undefined) {
    checkParams(this);
    validateFunction(callback, 'callback');
    // Live: the callback may change the list.
    for (let i = 0; i < this[kList].length; i++) {
      const [name, value] = this[kList][i];
      callback.call(thisArg, value, name, this);
    }
  }

  entries() {
    checkParams(this);
    return new URLSearchParamsIterator(this, 'key+value');
  }

  keys() {
    checkParams(this);
    return new URLSearchParamsIterator(this, 'key');
  }

  values() {
    checkParams(this);
    return new URLSearchParamsIterator(this, 'value');
  }

  toString() {
    checkParams(this);
    return serializeForm(this[kList]);
  }
}

Object.defineProperty(URLSearchParams.prototype, Symbol.iterator, {
  configurable: true, writable: true, value: URLSearchParams.prototype.entries,
});
Object.defineProperty(URLSearchParams.prototype, Symbol.toStringTag, { configurable: true, value: 'URLSearchParams' });
for (const name of ['append', 'delete', 'get', 'getAll', 'has', 'set', 'size', 'sort', 'entries', 'forEach', 'keys', 'values', 'toString']) {
  Object.defineProperty(URLSearchParams.prototype, name, { enumerable: true });
}

// Reads the live list by index, as Node's iterator does.
class URLSearchParamsIterator {
  constructor(params, kind) {
    Object.defineProperty(this, 'state', { value: { params, kind, index: 0 } });
  }

  next() {
    const state = this.state;
    const list = state.params[kList];
    if (state.index >= list.length) return { value: undefined, done: true };
    const [name, value] = list[state.index++];
    return { value: state.kind === 'key' ? name : state.kind === 'value' ? value : [name, value], done: false };
  }

  [Symbol.iterator]() {
    return this;
  }
}
Object.defineProperty(URLSearchParamsIterator.prototype, Symbol.toStringTag, { configurable: true, value: 'URLSearchParams Iterator' });

// ---------------------------------------------------------------------------
// URL

function recordOf(self) {
  if (self === null || typeof self !== 'object' || !(kRecord in self)) {
    throw nodeError(TypeError, 'ERR_INVALID_THIS', 'Value of "this" must be of type URL');
  }
  return self[kRecord];
}

// After href or search changed, the URLSearchParams reflects the new query.
function refreshParams(self) {
  const params = self[kURL];
  if (params) params[kList] = parseForm(self[kRecord].query || '');
}

const cannotHaveCredentialsOrPort = (url) => url.host === null || url.host === '' || url.scheme === 'file';

class URL {
  constructor(input, base = undefined) {
    if (arguments.length === 0) throw errMissingArgs('url');
    input = `${input}`;
    if (base !== undefined) base = `${base}`;
    const record = parseURL(input, base);
    if (record === FAILURE) throw errInvalidUrl(input, base);
    Object.defineProperty(this, kRecord, { value: record, writable: true });
    Object.defineProperty(this, kURL, { value: null, writable: true });
  }

  static canParse(input, base = undefined) {
    if (arguments.length === 0) throw errMissingArgs('url');
    return parseURL(`${input}`, base === undefined ? undefined : `${base}`) !== FAILURE;
  }

  toString() {
    return serializeURL(recordOf(this));
  }

  toJSON() {
    return serializeURL(recordOf(this));
  }

  get href() {
    return serializeURL(recordOf(this));
  }

  set href(value) {
    recordOf(this);
    value = `${value}`;
    const record = parseURL(value);
    if (record === FAILURE) throw errInvalidUrl(value);
    this[kRecord] = record;
    refreshParams(this);
  }

  get origin() {
    const url = recordOf(this);
    if (url.scheme === 'blob') {
      const inner = parseURL(serializePath(url));
      if (inner !== FAILURE && (inner.scheme === 'http' || inner.scheme === 'https')) {
        return `${inner.scheme}://${inner.host}${inner.port === null ? '' : ':' + inner.port}`;
      }
      return 'null';
    }
    if (!isSpecialScheme(url.scheme) || url.scheme === 'file') return 'null';
    return `${url.scheme}://${url.host}${url.port === null ? '' : ':' + url.port}`;
  }

  get protocol() {
    return recordOf(this).scheme + ':';
  }

  set protocol(value) {
    basicParse(`${value}:`, null, recordOf(this), 'scheme start');
  }

  get username() {
    return recordOf(this).username;
  }

  set username(value) {
    const url = recordOf(this);
    if (cannotHaveCredentialsOrPort(url)) return;
    url.username = encodeString(toUSV(`${value}`), USERINFO_SET);
  }

  get password() {
    return recordOf(this).password;
  }

  set password(value) {
    const url = recordOf(this);
    if (cannotHaveCredentialsOrPort(url)) return;
    url.password = encodeString(toUSV(`${value}`), USERINFO_SET);
  }

  get host() {
    const url = recordOf(this);
    if (url.host === null) return '';
    return url.port === null ? url.host : `${url.host}:${url.port}`;
  }

  set host(value) {
    this.#setHost(`${value}`, 'host');
  }

  get hostname() {
    const url = recordOf(this);
    return url.host === null ? '' : url.host;
  }

  set hostname(value) {
    this.#setHost(`${value}`, 'hostname');
  }

  // The setters work on a copy so that a failure leaves the URL untouched.
  #setHost(value, state) {
    const url = recordOf(this);
    if (hasOpaquePath(url)) return;
    const copy = { ...url, path: url.path.slice() };
    if (basicParse(toUSV(value), null, copy, state) !== FAILURE) this[kRecord] = copy;
  }

  get port() {
    const url = recordOf(this);
    return url.port === null ? '' : String(url.port);
  }

  set port(value) {
    const url = recordOf(this);
    if (cannotHaveCredentialsOrPort(url)) return;
    value = `${value}`;
    if (value === '') {
      url.port = null;
      return;
    }
    const copy = { ...url };
    if (basicParse(value, null, copy, 'port') !== FAILURE) url.port = copy.port;
  }

  get pathname() {
    return serializePath(recordOf(this));
  }

  set pathname(value) {
    const url = recordOf(this);
    if (hasOpaquePath(url)) return;
    url.path = [];
    basicParse(toUSV(`${value}`), null, url, 'path start');
  }

  get search() {
    const url = recordOf(this);
    return url.query === null || url.query === '' ? '' : '?' + url.query;
  }

  set search(value) {
    const url = recordOf(this);
    value = toUSV(`${value}`);
    if (value === '') {
      url.query = null;
    } else {
      url.query = '';
      basicParse(value[0] === '?' ? value.slice(1) : value, null, url, 'query');
    }
    refreshParams(this);
  }

  get searchParams() {
    recordOf(this);
    if (this[kURL] === null) {
      const params = new URLSearchParams(this[kRecord].query || '');
      params[kURL] = this;
      this[kURL] = params;
    }
    return this[kURL];
  }

  get hash() {
    const url = recordOf(this);
    return url.fragment === null || url.fragment === '' ? '' : '#' + url.fragment;
  }

  set hash(value) {
    const url = recordOf(this);
    value = toUSV(`${value}`);
    if (value === '') {
      url.fragment = null;
      return;
    }
    url.fragment = '';
    basicParse(value[0] === '#' ? value.slice(1) : value, null, url, 'fragment');
  }
}

Object.defineProperty(URL.prototype, Symbol.toStringTag, { configurable: true, value: 'URL' });
for (const name of ['toString', 'toJSON', 'href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'searchParams', 'hash']) {
  Object.defineProperty(URL.prototype, name, { enumerable: true });
}

function domainToASCII(domain) {
  if (arguments.length < 1) throw errMissingArgs('domain');
  const host = parseHost(`${domain}`, false);
  return host === null ? '' : host;
}

function domainToUnicode(domain) {
  if (arguments.length < 1) throw errMissingArgs('domain');
  const host = parseHost(`${domain}`, false);
  if (host === null) return '';
  return host.split('.').map((label) => (label.startsWith('xn--') ? punycodeDecode(label.slice(4)) : label)).join('.');
}

// ---------------------------------------------------------------------------
// File URLs (POSIX: Lambda runs on Linux)

function isURL(value) {
  return Boolean(value && value.href && value.protocol && value.auth === undefined && value.path === undefined);
}

function fileURLToPath(path) {
  if (typeof path === 'string') path = new URL(path);
  else if (!isURL(path)) throw errInvalidArgType('path', ['string', 'URL'], path);
  if (path.protocol !== 'file:') throw nodeError(TypeError, 'ERR_INVALID_URL_SCHEME', 'The URL must be of scheme file');
  if (path.hostname !== '') {
    throw nodeError(TypeError, 'ERR_INVALID_FILE_URL_HOST', 'File URL host must be "localhost" or empty on linux');
  }
  const pathname = path.pathname;
  if (/%2f/i.test(pathname)) {
    throw nodeError(TypeError, 'ERR_INVALID_FILE_URL_PATH', 'File URL path must not include encoded / characters');
  }
  return decodeURIComponent(pathname);
}

// The characters RFC 1738 calls unsafe, '%' first so it is not encoded twice.
const FILE_PATH_ESCAPES = [
  ['%', '%25'], ['\t', '%09'], ['\n', '%0A'], ['\r', '%0D'], [' ', '%20'], ['"', '%22'], ['#', '%23'], ['?', '%3F'],
  ['[', '%5B'], ['\\', '%5C'], [']', '%5D'], ['^', '%5E'], ['|', '%7C'], ['~', '%7E'],
];

function pathToFileURL(filepath) {
  validateString(filepath, 'path');
  let resolved = require('path').resolve(filepath);
  if (filepath.endsWith('/') && !resolved.endsWith('/')) resolved += '/';
  for (const [ch, escaped] of FILE_PATH_ESCAPES) resolved = resolved.split(ch).join(escaped);
  return new URL(`file://${resolved}`);
}

// ---------------------------------------------------------------------------
// The legacy API (Node 20's lib/url.js)

function Url() {
  this.protocol = null;
  this.slashes = null;
  this.auth = null;
  this.host = null;
  this.port = null;
  this.hostname = null;
  this.hash = null;
  this.search = null;
  this.query = null;
  this.pathname = null;
  this.path = null;
  this.href = null;
}

const protocolPattern = /^[a-z0-9.+-]+:/i;
const portPattern = /:[0-9]*$/;
const hostPattern = /^\/\/[^@/]+@[^@/]+/;
const simplePathPattern = /^(\/\/?(?!\/)[^?\s]*)(\?[^\s]*)?$/;
const hostnameMaxLen = 255;
const unsafeProtocol = new Set(['javascript', 'javascript:']);
const hostlessProtocol = new Set(['javascript', 'javascript:']);
const slashedProtocol = new Set(['http', 'http:', 'https', 'https:', 'ftp', 'ftp:', 'gopher', 'gopher:', 'file', 'file:',
  'ws', 'ws:', 'wss', 'wss:']);
// Node rejects these in a hostname after IDNA ('[', ']', ':' allowed for IPv6).
const forbiddenHostChars = /[\0\t\n\r #%/:<>?@[\\\]^|]/;
const forbiddenHostCharsIpv6 = /[\0\t\n\r #%/<>?@\\^|]/;

function urlParse(url, parseQueryString, slashesDenoteHost) {
  if (url instanceof Url) return url;
  const urlObject = new Url();
  urlObject.parse(url, parseQueryString, slashesDenoteHost);
  return urlObject;
}

const isIpv6Hostname = (hostname) => hostname[0] === '[' && hostname[hostname.length - 1] === ']';

Url.prototype.parse = function parse(url, parseQueryString, slashesDenoteHost) {
  validateString(url, 'url');

  // Trim whitespace (code units below 33, NBSP, BOM) and turn backslashes
  // before the first '?' or '#' into slashes, as browsers do.
  let hasHash = false;
  let hasAt = false;
  let start = -1;
  let end = -1;
  let rest = '';
  let lastPos = 0;
  for (let i = 0, inWs = false, split = false; i < url.length; ++i) {
    const code = url.charCodeAt(i);
    const isWs = code < 33 || code === 0xa0 || code === 0xfeff;
    if (start === -1) {
      if (isWs) continue;
      lastPos = start = i;
    } else if (inWs) {
      if (!isWs) {
        end = -1;
        inWs = false;
      }
    } else if (isWs) {
      end = i;
      inWs = true;
    }
    if (!split) {
      if (code === 0x40) {
        hasAt = true;
      } else if (code === 0x23 || code === 0x3f) {
        if (code === 0x23) hasHash = true;
        split = true;
      } else if (code === 0x5c) {
        if (i - lastPos > 0) rest += url.slice(lastPos, i);
        rest += '/';
        lastPos = i + 1;
      }
    } else if (!hasHash && code === 0x23) {
      hasHash = true;
    }
  }
  if (start !== -1) {
    if (lastPos === start) {
      rest = end === -1 ? url.slice(start) : url.slice(start, end);
    } else if (end === -1 && lastPos < url.length) {
      rest += url.slice(lastPos);
    } else if (end !== -1 && lastPos < end) {
      rest += url.slice(lastPos, end);
    }
  }

  if (!slashesDenoteHost && !hasHash && !hasAt) {
    // The fast path for plain paths, the common case for a request URI.
    const simplePath = simplePathPattern.exec(rest);
    if (simplePath) {
      this.path = rest;
      this.href = rest;
      this.pathname = simplePath[1];
      if (simplePath[2]) {
        this.search = simplePath[2];
        this.query = parseQueryString ? querystring.parse(this.search.slice(1)) : this.search.slice(1);
      } else if (parseQueryString) {
        this.search = null;
        this.query = Object.create(null);
      }
      return this;
    }
  }

  let proto = protocolPattern.exec(rest);
  let lowerProto;
  if (proto) {
    proto = proto[0];
    lowerProto = proto.toLowerCase();
    this.protocol = lowerProto;
    rest = rest.slice(proto.length);
  }

  // user@server is always a host, and //foo/bar is host foo, path /bar, as in
  // a browser's relative URL resolution.
  let slashes;
  if (slashesDenoteHost || proto || hostPattern.test(rest)) {
    slashes = rest.charCodeAt(0) === 0x2f && rest.charCodeAt(1) === 0x2f;
    if (slashes && !(proto && hostlessProtocol.has(lowerProto))) {
      rest = rest.slice(2);
      this.slashes = true;
    }
  }

  if (!hostlessProtocol.has(lowerProto) && (slashes || (proto && !slashedProtocol.has(proto)))) {
    // The host ends at the first '/', '?' or '#'; the last '@' before that
    // ends the auth; the characters RFC 2396 never allows in a host end it too.
    let hostEnd = -1;
    let atSign = -1;
    let nonHost = -1;
    for (let i = 0; i < rest.length; ++i) {
      switch (rest[i]) {
        case '\t':
        case '\n':
        case '\r':
          // WHATWG URL drops tabs and newlines; so does Node here.
          rest = rest.slice(0, i) + rest.slice(i + 1);
          i -= 1;
          break;
        case ' ': case '"': case '%': case "'": case ';': case '<': case '>':
        case '\\': case '^': case '`': case '{': case '|': case '}':
          if (nonHost === -1) nonHost = i;
          break;
        case '#': case '/': case '?':
          if (nonHost === -1) nonHost = i;
          hostEnd = i;
          break;
        case '@':
          atSign = i;
          nonHost = -1;
          break;
      }
      if (hostEnd !== -1) break;
    }
    start = 0;
    if (atSign !== -1) {
      this.auth = decodeURIComponent(rest.slice(0, atSign));
      start = atSign + 1;
    }
    if (nonHost === -1) {
      this.host = rest.slice(start);
      rest = '';
    } else {
      this.host = rest.slice(start, nonHost);
      rest = rest.slice(nonHost);
    }

    this.parseHost();
    if (typeof this.hostname !== 'string') this.hostname = '';
    const hostname = this.hostname;
    const ipv6Hostname = isIpv6Hostname(hostname);

    // A '/', '\\', '#', '?' or ':' left in the hostname starts the path
    // (Node warns about the ':' case with DEP0170; the engine does not).
    if (!ipv6Hostname) {
      for (let i = 0; i < hostname.length; ++i) {
        if ('/\\#?:'.includes(hostname[i])) {
          this.hostname = hostname.slice(0, i);
          rest = `/${hostname.slice(i)}${rest}`;
          break;
        }
      }
    }

    this.hostname = this.hostname.length > hostnameMaxLen ? '' : this.hostname.toLowerCase();

    if (this.hostname !== '') {
      if (ipv6Hostname) {
        if (forbiddenHostCharsIpv6.test(this.hostname)) throw errInvalidUrl(url);
      } else {
        this.hostname = legacyToASCII(this.hostname);
        // Spoofing guard: toASCII must not have produced an empty host or
        // characters the loop above would have split on.
        if (this.hostname === '' || forbiddenHostChars.test(this.hostname)) throw errInvalidUrl(url);
      }
    }

    const p = this.port ? ':' + this.port : '';
    const h = this.hostname || '';
    this.host = h + p;

    // The hostname loses its brackets; the host keeps them.
    if (ipv6Hostname) {
      this.hostname = this.hostname.slice(1, -1);
      if (rest[0] !== '/') rest = '/' + rest;
    }
  }

  if (!unsafeProtocol.has(lowerProto)) rest = autoEscapeStr(rest);

  let questionIdx = -1;
  let hashIdx = -1;
  for (let i = 0; i < rest.length; ++i) {
    if (rest[i] === '#') {
      this.hash = rest.slice(i);
      hashIdx = i;
      break;
    } else if (rest[i] === '?' && questionIdx === -1) {
      questionIdx = i;
    }
  }

  if (questionIdx !== -1) {
    if (hashIdx === -1) {
      this.search = rest.slice(questionIdx);
      this.query = rest.slice(questionIdx + 1);
    } else {
      this.search = rest.slice(questionIdx, hashIdx);
      this.query = rest.slice(questionIdx + 1, hashIdx);
    }
    if (parseQueryString) this.query = querystring.parse(this.query);
  } else if (parseQueryString) {
    this.search = null;
    this.query = Object.create(null);
  }

  const useQuestionIdx = questionIdx !== -1 && (hashIdx === -1 || questionIdx < hashIdx);
  const firstIdx = useQuestionIdx ? questionIdx : hashIdx;
  if (firstIdx === -1) {
    if (rest.length > 0) this.pathname = rest;
  } else if (firstIdx > 0) {
    this.pathname = rest.slice(0, firstIdx);
  }
  if (slashedProtocol.has(lowerProto) && this.hostname && !this.pathname) this.pathname = '/';

  if (this.pathname || this.search) this.path = (this.pathname || '') + (this.search || '');

  this.href = this.format();
  return this;
};

// Node's toASCII for url.parse: lenient, '' when the domain is not valid. Node
// hands the hostname to Ada as a C string, so a NUL ends it.
function legacyToASCII(hostname) {
  const ascii = domainToAsciiInternal(hostname.split('\0')[0]);
  return ascii === null ? '' : ascii;
}

// Delimiters and unwise characters of RFC 2396, and the single quote.
const autoEscapeMap = {
  '\t': '%09', '\n': '%0A', '\r': '%0D', ' ': '%20', '"': '%22', "'": '%27', '<': '%3C', '>': '%3E',
  '\\': '%5C', '^': '%5E', '`': '%60', '{': '%7B', '|': '%7C', '}': '%7D',
};

function autoEscapeStr(rest) {
  return rest.replace(/[\t\n\r "'<>\\^`{|}]/g, (ch) => autoEscapeMap[ch]);
}

Url.prototype.parseHost = function parseHost() {
  let host = this.host;
  let port = portPattern.exec(host);
  if (port) {
    port = port[0];
    if (port !== ':') this.port = port.slice(1);
    host = host.slice(0, host.length - port.length);
  }
  if (host) this.hostname = host;
};

// Characters left unescaped in a formatted auth: ! - . _ ~ ' ( ) * : and alphanumerics.
function escapeAuth(auth) {
  let out = '';
  for (const cp of auth) {
    if (/^[A-Za-z0-9!\-._~'()*:]$/.test(cp)) out += cp;
    else out += encodeURIComponent(cp);
  }
  return out;
}

Url.prototype.format = function format() {
  let auth = this.auth || '';
  if (auth) auth = escapeAuth(auth) + '@';

  let protocol = this.protocol || '';
  let pathname = this.pathname || '';
  let hash = this.hash || '';
  let host = '';
  let query = '';

  if (this.host) {
    host = auth + this.host;
  } else if (this.hostname) {
    host = auth + (this.hostname.includes(':') && !isIpv6Hostname(this.hostname) ? '[' + this.hostname + ']' : this.hostname);
    if (this.port) host += ':' + this.port;
  }

  if (this.query !== null && typeof this.query === 'object') query = querystring.stringify(this.query);

  let search = this.search || (query && ('?' + query)) || '';

  if (protocol && protocol[protocol.length - 1] !== ':') protocol += ':';

  pathname = pathname.replace(/[#?]/g, (ch) => (ch === '#' ? '%23' : '%3F'));

  // Only the slashed protocols get '//' (not mailto:, xmpp: ...), unless the
  // URL had them to begin with.
  if (this.slashes || slashedProtocol.has(protocol)) {
    if (this.slashes || host) {
      if (pathname && pathname[0] !== '/') pathname = '/' + pathname;
      host = '//' + host;
    } else if (protocol.startsWith('file')) {
      host = '//';
    }
  }

  search = search.replace(/#/g, '%23');

  if (hash && hash[0] !== '#') hash = '#' + hash;
  if (search && search[0] !== '?') search = '?' + search;

  return protocol + host + pathname + search + hash;
};

function urlFormat(urlObject, options) {
  if (typeof urlObject === 'string') {
    urlObject = urlParse(urlObject);
  } else if (typeof urlObject !== 'object' || urlObject === null) {
    throw errInvalidArgType('urlObject', ['Object', 'string'], urlObject);
  } else if (urlObject instanceof URL) {
    let fragment = true;
    let unicode = false;
    let search = true;
    let auth = true;
    if (options) {
      if (typeof options !== 'object') throw errInvalidArgType('options', 'Object', options);
      if (options.fragment != null) fragment = Boolean(options.fragment);
      if (options.unicode != null) unicode = Boolean(options.unicode);
      if (options.search != null) search = Boolean(options.search);
      if (options.auth != null) auth = Boolean(options.auth);
    }
    const record = { ...urlObject[kRecord] };
    if (!fragment) record.fragment = null;
    if (!search) record.query = null;
    if (!auth) record.username = record.password = '';
    if (unicode && record.host !== null && record.host[0] !== '[') record.host = domainToUnicode(record.host);
    return serializeURL(record);
  }
  return Url.prototype.format.call(urlObject);
}

function urlResolve(source, relative) {
  return urlParse(source, false, true).resolve(relative);
}

Url.prototype.resolve = function resolve(relative) {
  return this.resolveObject(urlParse(relative, false, true)).format();
};

function urlResolveObject(source, relative) {
  if (!source) return relative;
  return urlParse(source, false, true).resolveObject(relative);
}

Url.prototype.resolveObject = function resolveObject(relative) {
  if (typeof relative === 'string') {
    const rel = new Url();
    rel.parse(relative, false, true);
    relative = rel;
  }

  const result = new Url();
  Object.assign(result, this);

  // The hash always comes from the relative URL, even href="" removes it.
  result.hash = relative.hash;

  if (relative.href === '') {
    result.href = result.format();
    return result;
  }

  // '//foo/bar' keeps only the protocol.
  if (relative.slashes && !relative.protocol) {
    for (const key of Object.keys(relative)) {
      if (key !== 'protocol') result[key] = relative[key];
    }
    if (slashedProtocol.has(result.protocol) && result.hostname && !result.pathname) {
      result.path = result.pathname = '/';
    }
    result.href = result.format();
    return result;
  }

  if (relative.protocol && relative.protocol !== result.protocol) {
    // Another protocol: non-slashed ones are absolute; slashed ones other
    // than file: must have a host, taken from the path if need be.
    if (!slashedProtocol.has(relative.protocol)) {
      Object.assign(result, relative);
      result.href = result.format();
      return result;
    }
    result.protocol = relative.protocol;
    if (!relative.host && !/^file:?$/.test(relative.protocol) && !hostlessProtocol.has(relative.protocol)) {
      const relPath = (relative.pathname || '').split('/');
      while (relPath.length && !(relative.host = relPath.shift()));
      if (!relative.host) relative.host = '';
      if (!relative.hostname) relative.hostname = '';
      if (relPath[0] !== '') relPath.unshift('');
      if (relPath.length < 2) relPath.unshift('');
      result.pathname = relPath.join('/');
    } else {
      result.pathname = relative.pathname;
    }
    result.search = relative.search;
    result.query = relative.query;
    result.host = relative.host || '';
    result.auth = relative.auth;
    result.hostname = relative.hostname || relative.host;
    result.port = relative.port;
    if (result.pathname || result.search) result.path = (result.pathname || '') + (result.search || '');
    result.slashes = result.slashes || relative.slashes;
    result.href = result.format();
    return result;
  }

  const isSourceAbs = result.pathname && result.pathname[0] === '/';
  const isRelAbs = relative.host || (relative.pathname && relative.pathname[0] === '/');
  let mustEndAbs = isRelAbs || isSourceAbs || (result.host && relative.pathname);
  const removeAllDots = mustEndAbs;
  let srcPath = (result.pathname && result.pathname.split('/')) || [];
  const relPath = (relative.pathname && relative.pathname.split('/')) || [];
  const noLeadingSlashes = result.protocol && !slashedProtocol.has(result.protocol);

  // In a non-slashed URL '../..' may climb into the host: the host joins the
  // path for the dot handling and is taken back out at the end.
  if (noLeadingSlashes) {
    result.hostname = '';
    result.port = null;
    if (result.host) {
      if (srcPath[0] === '') srcPath[0] = result.host;
      else srcPath.unshift(result.host);
    }
    result.host = '';
    if (relative.protocol) {
      relative.hostname = null;
      relative.port = null;
      result.auth = null;
      if (relative.host) {
        if (relPath[0] === '') relPath[0] = relative.host;
        else relPath.unshift(relative.host);
      }
      relative.host = null;
    }
    mustEndAbs = mustEndAbs && (relPath[0] === '' || srcPath[0] === '');
  }

  if (isRelAbs) {
    if (relative.host || relative.host === '') {
      if (result.host !== relative.host) result.auth = null;
      result.host = relative.host;
      result.port = relative.port;
    }
    if (relative.hostname || relative.hostname === '') {
      if (result.hostname !== relative.hostname) result.auth = null;
      result.hostname = relative.hostname;
    }
    result.search = relative.search;
    result.query = relative.query;
    srcPath = relPath;
  } else if (relPath.length) {
    // Relative: replace the last segment.
    srcPath.pop();
    srcPath = srcPath.concat(relPath);
    result.search = relative.search;
    result.query = relative.query;
  } else if (relative.search !== null && relative.search !== undefined) {
    // Only a query, like href='?foo'.
    if (noLeadingSlashes) {
      result.hostname = result.host = srcPath.shift();
      const authInHost = result.host && result.host.indexOf('@') > 0 && result.host.split('@');
      if (authInHost) {
        result.auth = authInHost.shift();
        result.host = result.hostname = authInHost.shift();
      }
    }
    result.search = relative.search;
    result.query = relative.query;
    if (result.pathname !== null || result.search !== null) {
      result.path = (result.pathname ? result.pathname : '') + (result.search ? result.search : '');
    }
    result.href = result.format();
    return result;
  }

  if (!srcPath.length) {
    result.pathname = null;
    result.path = result.search ? '/' + result.search : null;
    result.href = result.format();
    return result;
  }

  // A path ending in '.' or '..' gets a trailing slash; other endings do not.
  let last = srcPath.slice(-1)[0];
  const hasTrailingSlash = ((result.host || relative.host || srcPath.length > 1) && (last === '.' || last === '..')) || last === '';

  // Drop '.', resolve '..'; `up` counts the '..' that climb above the root.
  let up = 0;
  for (let i = srcPath.length - 1; i >= 0; i--) {
    last = srcPath[i];
    if (last === '.') {
      srcPath.splice(i, 1);
    } else if (last === '..') {
      srcPath.splice(i, 1);
      up++;
    } else if (up) {
      srcPath.splice(i, 1);
      up--;
    }
  }

  if (!mustEndAbs && !removeAllDots) {
    while (up--) srcPath.unshift('..');
  }

  if (mustEndAbs && srcPath[0] !== '' && (!srcPath[0] || srcPath[0][0] !== '/')) srcPath.unshift('');

  if (hasTrailingSlash && srcPath.join('/').slice(-1) !== '/') srcPath.push('');

  const isAbsolute = srcPath[0] === '' || (srcPath[0] && srcPath[0][0] === '/');

  if (noLeadingSlashes) {
    result.hostname = result.host = isAbsolute ? '' : srcPath.length ? srcPath.shift() : '';
    const authInHost = result.host && result.host.indexOf('@') > 0 ? result.host.split('@') : false;
    if (authInHost) {
      result.auth = authInHost.shift();
      result.host = result.hostname = authInHost.shift();
    }
  }

  mustEndAbs = mustEndAbs || (result.host && srcPath.length);

  if (mustEndAbs && !isAbsolute) srcPath.unshift('');

  if (!srcPath.length) {
    result.pathname = null;
    result.path = null;
  } else {
    result.pathname = srcPath.join('/');
  }

  if (result.pathname !== null || result.search !== null) {
    result.path = (result.pathname ? result.pathname : '') + (result.search ? result.search : '');
  }
  result.auth = relative.auth || result.auth;
  result.slashes = result.slashes || relative.slashes;
  result.href = result.format();
  return result;
};

module.exports = {
  Url,
  parse: urlParse,
  resolve: urlResolve,
  resolveObject: urlResolveObject,
  format: urlFormat,
  URL,
  URLSearchParams,
  domainToASCII,
  domainToUnicode,
  pathToFileURL,
  fileURLToPath,
};
