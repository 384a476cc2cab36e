'use strict';
// Node's `buffer` module for the QuickJS engine.
//
// Legacy Lambda@Edge handlers decode `Authorization: Basic` headers, build
// base64 bodies and hex digests with `Buffer`; QuickJS has none. This file
// reimplements the part of Node 20's Buffer that handlers use, following
// lib/buffer.js, lib/internal/buffer.js and src/string_bytes.cc closely so that
// every result — including the lenient decoding of malformed input and the
// error messages — is the one Node produces. Only plain ECMAScript is used: no
// TextEncoder/TextDecoder, no atob/btoa, no Node internals. The module also
// exports node's `atob` and `btoa`, which the prelude installs as globals.
//
// Checked against the real module by ../test/vectors.js.

// ---------------------------------------------------------------------------
// Errors, shaped like Node's internal/errors (name, message, code, toString).

const { nodeError, inspect, errInvalidArgType } = require('edgeport:errors');

function addNumericalSeparator(val) {
  let res = '';
  let i = val.length;
  const start = val[0] === '-' ? 1 : 0;
  for (; i >= start + 4; i -= 3) res = `_${val.slice(i - 3, i)}${res}`;
  return `${val.slice(0, i)}${res}`;
}

function errOutOfRange(name, range, input) {
  const received = Number.isInteger(input) && Math.abs(input) > 2 ** 32
    ? addNumericalSeparator(String(input))
    : inspect(input);
  return nodeError(RangeError, 'ERR_OUT_OF_RANGE',
    `The value of "${name}" is out of range. It must be ${range}. Received ${received}`);
}

function errBufferOutOfBounds(name) {
  return nodeError(RangeError, 'ERR_BUFFER_OUT_OF_BOUNDS',
    name ? `"${name}" is outside of buffer bounds` : 'Attempt to access memory outside buffer bounds');
}

function errUnknownEncoding(encoding) {
  return nodeError(TypeError, 'ERR_UNKNOWN_ENCODING', `Unknown encoding: ${encoding}`);
}

function errInvalidArgValue(name, value) {
  let inspected = inspect(value);
  if (inspected.length > 128) inspected = `${inspected.slice(0, 128)}...`;
  return nodeError(TypeError, 'ERR_INVALID_ARG_VALUE',
    `The ${name.includes('.') ? 'property' : 'argument'} '${name}' is invalid. Received ${inspected}`);
}

function validateNumber(value, name, min, max) {
  if (typeof value !== 'number') throw errInvalidArgType(name, 'number', value);
  if ((min != null && value < min) || (max != null && value > max) ||
      ((min != null || max != null) && Number.isNaN(value))) {
    throw errOutOfRange(name,
      `${min != null ? `>= ${min}` : ''}${min != null && max != null ? ' && ' : ''}${max != null ? `<= ${max}` : ''}`,
      value);
  }
}

function validateOffset(value, name, min = 0, max = kMaxLength) {
  if (typeof value !== 'number') throw errInvalidArgType(name, 'number', value);
  if (!Number.isInteger(value)) throw errOutOfRange(name, 'an integer', value);
  if (value < min || value > max) throw errOutOfRange(name, `>= ${min} && <= ${max}`, value);
}

function isUint8Array(value) {
  return value instanceof Uint8Array;
}

function isAnyArrayBuffer(value) {
  if (value instanceof ArrayBuffer) return true;
  return typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer;
}

// ---------------------------------------------------------------------------
// String <-> byte conversions. Every `*Write` stores at most `length` bytes at
// `offset` and returns the number stored; every `*Slice` decodes [start, end).

// Builds a string from UTF-16 code units without overflowing the argument
// limit of Function.prototype.apply on long inputs.
class StringBuilder {
  constructor() {
    this.parts = [];
    this.units = [];
  }

  push(unit) {
    this.units.push(unit);
    if (this.units.length >= 4096) this.flush();
  }

  flush() {
    if (this.units.length > 0) {
      this.parts.push(String.fromCharCode.apply(null, this.units));
      this.units = [];
    }
  }

  toString() {
    this.flush();
    return this.parts.join('');
  }
}

// UTF-8 as V8 writes it: a lone surrogate becomes U+FFFD (EF BF BD), and a
// character that does not fit entirely in the space left is not written.
function utf8Write(buf, string, offset, length) {
  const limit = offset + length;
  let pos = offset;
  for (let i = 0; i < string.length; i++) {
    let c = string.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < string.length ? string.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        if (pos + 4 > limit) break;
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        buf[pos++] = 0xf0 | (c >> 18);
        buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
        buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
        buf[pos++] = 0x80 | (c & 0x3f);
        i++;
        continue;
      }
      c = 0xfffd;
    }
    if (c < 0x80) {
      if (pos + 1 > limit) break;
      buf[pos++] = c;
    } else if (c < 0x800) {
      if (pos + 2 > limit) break;
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
      if (pos + 3 > limit) break;
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos - offset;
}

function byteLengthUtf8(string) {
  let length = 0;
  for (let i = 0; i < string.length; i++) {
    const c = string.charCodeAt(i);
    if (c < 0x80) {
      length += 1;
    } else if (c < 0x800) {
      length += 2;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < string.length) {
      const next = string.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length += 4;
        i++;
      } else {
        length += 3;
      }
    } else {
      length += 3;
    }
  }
  return length;
}

// The WHATWG UTF-8 decoder (https://encoding.spec.whatwg.org/#utf-8-decoder),
// which is what V8 applies to Buffer#toString: every maximal invalid
// subsequence becomes one U+FFFD.
function utf8Slice(buf, start, end) {
  const out = new StringBuilder();
  let codePoint = 0;
  let bytesNeeded = 0;
  let bytesSeen = 0;
  let lower = 0x80;
  let upper = 0xbf;
  for (let i = start; i < end; i++) {
    const byte = buf[i];
    if (bytesNeeded === 0) {
      if (byte <= 0x7f) {
        out.push(byte);
      } else if (byte >= 0xc2 && byte <= 0xdf) {
        bytesNeeded = 1;
        codePoint = byte & 0x1f;
      } else if (byte >= 0xe0 && byte <= 0xef) {
        if (byte === 0xe0) lower = 0xa0;
        if (byte === 0xed) upper = 0x9f;
        bytesNeeded = 2;
        codePoint = byte & 0xf;
      } else if (byte >= 0xf0 && byte <= 0xf4) {
        if (byte === 0xf0) lower = 0x90;
        if (byte === 0xf4) upper = 0x8f;
        bytesNeeded = 3;
        codePoint = byte & 0x7;
      } else {
        out.push(0xfffd);
      }
      continue;
    }
    if (byte < lower || byte > upper) {
      codePoint = bytesNeeded = bytesSeen = 0;
      lower = 0x80;
      upper = 0xbf;
      out.push(0xfffd);
      i--; // The byte starts the next sequence.
      continue;
    }
    lower = 0x80;
    upper = 0xbf;
    codePoint = (codePoint << 6) | (byte & 0x3f);
    if (++bytesSeen !== bytesNeeded) continue;
    if (codePoint > 0xffff) {
      codePoint -= 0x10000;
      out.push(0xd800 + (codePoint >> 10));
      out.push(0xdc00 + (codePoint & 0x3ff));
    } else {
      out.push(codePoint);
    }
    codePoint = bytesNeeded = bytesSeen = 0;
  }
  if (bytesNeeded !== 0) out.push(0xfffd);
  return out.toString();
}

// latin1 and ascii writes keep the low byte of each UTF-16 code unit.
function latin1Write(buf, string, offset, length) {
  const n = Math.min(string.length, length);
  for (let i = 0; i < n; i++) buf[offset + i] = string.charCodeAt(i) & 0xff;
  return n;
}

function latin1Slice(buf, start, end) {
  const out = new StringBuilder();
  for (let i = start; i < end; i++) out.push(buf[i]);
  return out.toString();
}

function asciiSlice(buf, start, end) {
  const out = new StringBuilder();
  for (let i = start; i < end; i++) out.push(buf[i] & 0x7f);
  return out.toString();
}

function ucs2Write(buf, string, offset, length) {
  const n = Math.min(string.length, length >>> 1);
  for (let i = 0; i < n; i++) {
    const c = string.charCodeAt(i);
    buf[offset + 2 * i] = c & 0xff;
    buf[offset + 2 * i + 1] = c >>> 8;
  }
  return n * 2;
}

function ucs2Slice(buf, start, end) {
  const out = new StringBuilder();
  for (let i = start; i + 1 < end; i += 2) out.push(buf[i] | (buf[i + 1] << 8));
  return out.toString();
}

// Node reads every character of a hex or base64 string through a uint8_t
// cast, so U+0161 counts as 'a' (0x61); the tables below are indexed the same.
const hexValues = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) hexValues[48 + i] = i;
for (let i = 0; i < 6; i++) hexValues[65 + i] = hexValues[97 + i] = 10 + i;

// Stops at the first pair that is not two hex digits; an odd last digit is dropped.
function hexWrite(buf, string, offset, length) {
  let i = 0;
  for (; i < length && i * 2 + 1 < string.length; i++) {
    const high = hexValues[string.charCodeAt(i * 2) & 0xff];
    const low = hexValues[string.charCodeAt(i * 2 + 1) & 0xff];
    if (high < 0 || low < 0) break;
    buf[offset + i] = (high << 4) | low;
  }
  return i;
}

const hexDigits = '0123456789abcdef';

function hexSlice(buf, start, end) {
  let out = '';
  for (let i = start; i < end; i++) out += hexDigits[buf[i] >> 4] + hexDigits[buf[i] & 0xf];
  return out;
}

const base64Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const base64urlAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

// Both alphabets decode under either encoding name, as in Node.
const base64Values = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) {
  base64Values[base64Alphabet.charCodeAt(i)] = i;
  base64Values[base64urlAlphabet.charCodeAt(i)] = i;
}

// Node's lenient decoder (src/base64-inl.h): characters outside the alphabet
// are skipped, the first '=' ends the input, a trailing partial group yields
// the whole bytes it holds, and a single leftover character yields nothing.
function base64Write(buf, string, offset, length) {
  let written = 0;
  let group = 0;
  let previous = 0;
  for (let i = 0; i < string.length && written < length; i++) {
    const code = string.charCodeAt(i) & 0xff;
    const value = base64Values[code];
    if (value < 0) {
      if (code === 0x3d) break;
      continue;
    }
    switch (group) {
      case 1: buf[offset + written++] = ((previous & 0x3f) << 2) | ((value & 0x30) >> 4); break;
      case 2: buf[offset + written++] = ((previous & 0x0f) << 4) | ((value & 0x3c) >> 2); break;
      case 3: buf[offset + written++] = ((previous & 0x03) << 6) | (value & 0x3f); break;
    }
    previous = value;
    group = (group + 1) & 3;
  }
  return written;
}

function base64Encode(buf, start, end, alphabet, pad) {
  let out = '';
  let i = start;
  for (; i + 2 < end; i += 3) {
    const n = (buf[i] << 16) | (buf[i + 1] << 8) | buf[i + 2];
    out += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + alphabet[(n >> 6) & 63] + alphabet[n & 63];
  }
  if (end - i === 1) {
    const n = buf[i] << 16;
    out += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + (pad ? '==' : '');
  } else if (end - i === 2) {
    const n = (buf[i] << 16) | (buf[i + 1] << 8);
    out += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + alphabet[(n >> 6) & 63] + (pad ? '=' : '');
  }
  return out;
}

function base64ByteLength(str, bytes) {
  if (str.charCodeAt(bytes - 1) === 0x3d) bytes--;
  if (bytes > 1 && str.charCodeAt(bytes - 1) === 0x3d) bytes--;
  return (bytes * 3) >>> 2;
}

// ---------------------------------------------------------------------------
// Encodings, named and normalised as in lib/buffer.js.

const encodingOps = {
  utf8: {
    encoding: 'utf8',
    byteLength: byteLengthUtf8,
    write: utf8Write,
    slice: utf8Slice,
  },
  utf16le: {
    encoding: 'utf16le',
    byteLength: (string) => string.length * 2,
    write: ucs2Write,
    slice: ucs2Slice,
  },
  latin1: {
    encoding: 'latin1',
    byteLength: (string) => string.length,
    write: latin1Write,
    slice: latin1Slice,
  },
  ascii: {
    encoding: 'ascii',
    byteLength: (string) => string.length,
    write: latin1Write,
    slice: asciiSlice,
  },
  base64: {
    encoding: 'base64',
    byteLength: (string) => base64ByteLength(string, string.length),
    write: base64Write,
    slice: (buf, start, end) => base64Encode(buf, start, end, base64Alphabet, true),
  },
  base64url: {
    encoding: 'base64url',
    byteLength: (string) => base64ByteLength(string, string.length),
    write: base64Write,
    slice: (buf, start, end) => base64Encode(buf, start, end, base64urlAlphabet, false),
  },
  hex: {
    encoding: 'hex',
    byteLength: (string) => string.length >>> 1,
    write: hexWrite,
    slice: hexSlice,
  },
};

const encodingNames = {
  'utf8': 'utf8',
  'utf-8': 'utf8',
  'ucs2': 'utf16le',
  'ucs-2': 'utf16le',
  'utf16le': 'utf16le',
  'utf-16le': 'utf16le',
  'latin1': 'latin1',
  'binary': 'latin1',
  'ascii': 'ascii',
  'base64': 'base64',
  'base64url': 'base64url',
  'hex': 'hex',
};

function normalizeEncoding(encoding) {
  if (encoding == null || encoding === '') return 'utf8';
  const name = encodingNames[`${encoding}`.toLowerCase()];
  return Object.prototype.hasOwnProperty.call(encodingNames, `${encoding}`.toLowerCase()) ? name : undefined;
}

function getEncodingOps(encoding) {
  const key = `${encoding}`.toLowerCase();
  if (!Object.prototype.hasOwnProperty.call(encodingNames, key)) return undefined;
  return encodingOps[encodingNames[key]];
}

// ---------------------------------------------------------------------------
// The Buffer type. As in Node, `Buffer` is a plain function (so legacy
// `Buffer(x)` and `new Buffer(x)` keep working) whose prototype is shared with
// FastBuffer, the actual Uint8Array subclass.

const kMaxLength = 2 ** 32;
const kStringMaxLength = 2 ** 29 - 24;

class FastBuffer extends Uint8Array {
  constructor(bufferOrLength, byteOffset, length) {
    super(bufferOrLength, byteOffset, length);
  }
}

function Buffer(arg, encodingOrOffset, length) {
  if (typeof arg === 'number') {
    if (typeof encodingOrOffset === 'string') throw errInvalidArgType('string', 'string', arg);
    return Buffer.alloc(arg);
  }
  return Buffer.from(arg, encodingOrOffset, length);
}

FastBuffer.prototype.constructor = Buffer;
Buffer.prototype = FastBuffer.prototype;
Object.setPrototypeOf(Buffer, Uint8Array);
Object.defineProperty(Buffer, Symbol.species, {
  enumerable: false,
  configurable: true,
  get() { return FastBuffer; },
});

Buffer.poolSize = 8 * 1024;

function fromString(string, encoding) {
  let ops;
  if (typeof encoding !== 'string' || encoding.length === 0) {
    if (string.length === 0) return new FastBuffer();
    ops = encodingOps.utf8;
  } else {
    ops = getEncodingOps(encoding);
    if (ops === undefined) throw errUnknownEncoding(encoding);
    if (string.length === 0) return new FastBuffer();
  }
  // Node writes into a pool slice sized from an upper bound and keeps what
  // was written; an upper bound of four bytes per code unit covers every
  // encoding, so the exact length is simply what the writer reports.
  const scratch = new FastBuffer(Math.max(string.length * 4, ops.byteLength(string)));
  const actual = ops.write(scratch, string, 0, scratch.length);
  return new FastBuffer(scratch.buffer, 0, actual);
}

function fromArrayBuffer(obj, byteOffset, length) {
  if (byteOffset === undefined) {
    byteOffset = 0;
  } else {
    byteOffset = +byteOffset;
    if (Number.isNaN(byteOffset)) byteOffset = 0;
  }
  const maxLength = obj.byteLength - byteOffset;
  if (maxLength < 0) throw errBufferOutOfBounds('offset');
  if (length === undefined) {
    length = maxLength;
  } else {
    length = +length;
    if (length > 0) {
      if (length > maxLength) throw errBufferOutOfBounds('length');
    } else {
      length = 0;
    }
  }
  return new FastBuffer(obj, byteOffset, length);
}

function fromArrayLike(obj) {
  if (obj.length <= 0) return new FastBuffer();
  const b = new FastBuffer(obj.length);
  b.set(obj, 0);
  return b;
}

function fromObject(obj) {
  if (obj.length !== undefined || isAnyArrayBuffer(obj.buffer)) {
    if (typeof obj.length !== 'number') return new FastBuffer();
    return fromArrayLike(obj);
  }
  if (obj.type === 'Buffer' && Array.isArray(obj.data)) return fromArrayLike(obj.data);
  return undefined;
}

Buffer.from = function from(value, encodingOrOffset, length) {
  if (typeof value === 'string') return fromString(value, encodingOrOffset);
  if (typeof value === 'object' && value !== null) {
    if (isAnyArrayBuffer(value)) return fromArrayBuffer(value, encodingOrOffset, length);
    const valueOf = value.valueOf && value.valueOf();
    if (valueOf != null && valueOf !== value &&
        (typeof valueOf === 'string' || typeof valueOf === 'object')) {
      return from(valueOf, encodingOrOffset, length);
    }
    const b = fromObject(value);
    if (b) return b;
    if (typeof value[Symbol.toPrimitive] === 'function') {
      const primitive = value[Symbol.toPrimitive]('string');
      if (typeof primitive === 'string') return fromString(primitive, encodingOrOffset);
    }
  }
  throw errInvalidArgType('first argument',
    ['string', 'Buffer', 'ArrayBuffer', 'Array', 'Array-like Object'], value);
};

Buffer.of = function of(...items) {
  const b = new FastBuffer(items.length);
  for (let k = 0; k < items.length; k++) b[k] = items[k];
  return b;
};

Buffer.alloc = function alloc(size, fill, encoding) {
  validateNumber(size, 'size', 0, kMaxLength);
  if (fill !== undefined && fill !== 0 && size > 0) {
    return fillBuffer(new FastBuffer(size), fill, 0, size, encoding);
  }
  return new FastBuffer(size);
};

// The engine has no uninitialised memory to hand out; zeroed is a valid
// "unsafe" buffer.
Buffer.allocUnsafe = function allocUnsafe(size) {
  validateNumber(size, 'size', 0, kMaxLength);
  return new FastBuffer(size);
};

Buffer.allocUnsafeSlow = Buffer.allocUnsafe;

Buffer.isBuffer = function isBuffer(b) {
  return b instanceof Buffer;
};

function compareBytes(a, aStart, aEnd, b, bStart, bEnd) {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  for (let i = 0; i < n; i++) {
    const x = a[aStart + i];
    const y = b[bStart + i];
    if (x !== y) return x < y ? -1 : 1;
  }
  const aLength = aEnd - aStart;
  const bLength = bEnd - bStart;
  return aLength < bLength ? -1 : aLength > bLength ? 1 : 0;
}

Buffer.compare = function compare(buf1, buf2) {
  if (!isUint8Array(buf1)) throw errInvalidArgType('buf1', ['Buffer', 'Uint8Array'], buf1);
  if (!isUint8Array(buf2)) throw errInvalidArgType('buf2', ['Buffer', 'Uint8Array'], buf2);
  if (buf1 === buf2) return 0;
  return compareBytes(buf1, 0, buf1.length, buf2, 0, buf2.length);
};

Buffer.isEncoding = function isEncoding(encoding) {
  return typeof encoding === 'string' && encoding.length !== 0 &&
    getEncodingOps(encoding) !== undefined;
};

function copyActual(source, target, targetStart, sourceStart, sourceEnd) {
  if (sourceEnd - sourceStart > target.length - targetStart) sourceEnd = sourceStart + target.length - targetStart;
  let nb = sourceEnd - sourceStart;
  const sourceLen = source.length - sourceStart;
  if (nb > sourceLen) nb = sourceLen;
  if (sourceStart !== 0 || sourceEnd < source.length) {
    source = new Uint8Array(source.buffer, source.byteOffset + sourceStart, nb);
  }
  target.set(source, targetStart);
  return nb;
}

Buffer.concat = function concat(list, length) {
  if (!Array.isArray(list)) throw errInvalidArgType('list', 'Array', list);
  if (list.length === 0) return new FastBuffer();
  if (length === undefined) {
    length = 0;
    for (let i = 0; i < list.length; i++) {
      if (list[i].length) length += list[i].length;
    }
  } else {
    validateOffset(length, 'length');
  }
  const buffer = new FastBuffer(length);
  let pos = 0;
  for (let i = 0; i < list.length; i++) {
    const buf = list[i];
    if (!isUint8Array(buf)) throw errInvalidArgType(`list[${i}]`, ['Buffer', 'Uint8Array'], list[i]);
    pos += copyActual(buf, buffer, pos, 0, buf.length);
  }
  return buffer;
};

Buffer.byteLength = function byteLength(string, encoding) {
  if (typeof string !== 'string') {
    if (ArrayBuffer.isView(string) || isAnyArrayBuffer(string)) return string.byteLength;
    throw errInvalidArgType('string', ['string', 'Buffer', 'ArrayBuffer'], string);
  }
  if (string.length === 0) return 0;
  if (!encoding || encoding === 'utf8') return byteLengthUtf8(string);
  const ops = getEncodingOps(encoding);
  // Node falls back to UTF-8 for an unknown encoding here instead of throwing.
  if (ops === undefined) return byteLengthUtf8(string);
  return ops.byteLength(string);
};

const proto = Buffer.prototype;

Object.defineProperty(proto, 'parent', {
  enumerable: true,
  configurable: true,
  get() { return this instanceof Buffer ? this.buffer : undefined; },
});

Object.defineProperty(proto, 'offset', {
  enumerable: true,
  configurable: true,
  get() { return this instanceof Buffer ? this.byteOffset : undefined; },
});

proto.toString = function toString(encoding, start, end) {
  if (arguments.length === 0) return utf8Slice(this, 0, this.length);
  const len = this.length;
  if (start <= 0) start = 0;
  else if (start >= len) return '';
  else start = Math.trunc(start) || 0;
  if (end === undefined || end > len) end = len;
  else end = Math.trunc(end) || 0;
  if (end <= start) return '';
  if (encoding === undefined) return utf8Slice(this, start, end);
  const ops = getEncodingOps(encoding);
  if (ops === undefined) throw errUnknownEncoding(encoding);
  return ops.slice(this, start, end);
};

proto.toLocaleString = proto.toString;

proto.equals = function equals(otherBuffer) {
  if (!isUint8Array(otherBuffer)) throw errInvalidArgType('otherBuffer', ['Buffer', 'Uint8Array'], otherBuffer);
  if (this === otherBuffer) return true;
  if (this.byteLength !== otherBuffer.byteLength) return false;
  return compareBytes(this, 0, this.length, otherBuffer, 0, otherBuffer.length) === 0;
};

proto.compare = function compare(target, targetStart, targetEnd, sourceStart, sourceEnd) {
  if (!isUint8Array(target)) throw errInvalidArgType('target', ['Buffer', 'Uint8Array'], target);
  if (arguments.length === 1) return compareBytes(this, 0, this.length, target, 0, target.length);
  if (targetStart === undefined) targetStart = 0;
  else validateOffset(targetStart, 'targetStart');
  if (targetEnd === undefined) targetEnd = target.length;
  else validateOffset(targetEnd, 'targetEnd', 0, target.length);
  if (sourceStart === undefined) sourceStart = 0;
  else validateOffset(sourceStart, 'sourceStart');
  if (sourceEnd === undefined) sourceEnd = this.length;
  else validateOffset(sourceEnd, 'sourceEnd', 0, this.length);
  if (sourceStart >= sourceEnd) return targetStart >= targetEnd ? 0 : -1;
  if (targetStart >= targetEnd) return 1;
  // The starts are only checked against the lengths in C++ (CompareOffset).
  if (sourceStart > this.length) throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', 'The value of "sourceStart" is out of range.');
  if (targetStart > target.length) throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', 'The value of "targetStart" is out of range.');
  return compareBytes(this, sourceStart, sourceEnd, target, targetStart, targetEnd);
};

function toInteger(n, defaultVal) {
  n = +n;
  if (!Number.isNaN(n) && n >= Number.MIN_SAFE_INTEGER && n <= Number.MAX_SAFE_INTEGER) {
    return (n % 1) === 0 ? n : Math.floor(n);
  }
  return defaultVal;
}

proto.copy = function copy(target, targetStart, sourceStart, sourceEnd) {
  const source = this;
  if (!isUint8Array(source)) throw errInvalidArgType('source', ['Buffer', 'Uint8Array'], source);
  if (!isUint8Array(target)) throw errInvalidArgType('target', ['Buffer', 'Uint8Array'], target);
  if (targetStart === undefined) {
    targetStart = 0;
  } else {
    targetStart = Number.isInteger(targetStart) ? targetStart : toInteger(targetStart, 0);
    if (targetStart < 0) throw errOutOfRange('targetStart', '>= 0', targetStart);
  }
  if (sourceStart === undefined) {
    sourceStart = 0;
  } else {
    sourceStart = Number.isInteger(sourceStart) ? sourceStart : toInteger(sourceStart, 0);
    if (sourceStart < 0 || sourceStart > source.length) {
      throw errOutOfRange('sourceStart', `>= 0 && <= ${source.length}`, sourceStart);
    }
  }
  if (sourceEnd === undefined) {
    sourceEnd = source.length;
  } else {
    sourceEnd = Number.isInteger(sourceEnd) ? sourceEnd : toInteger(sourceEnd, 0);
    if (sourceEnd < 0) throw errOutOfRange('sourceEnd', '>= 0', sourceEnd);
  }
  if (targetStart >= target.length || sourceStart >= sourceEnd) return 0;
  return copyActual(source, target, targetStart, sourceStart, sourceEnd);
};

// --- indexOf / lastIndexOf / includes (src/node_buffer.cc IndexOf*).

// Where a search starts, or -1 when no match is possible.
function indexOfOffset(length, offset, needleLength, isForward) {
  if (offset < 0) {
    if (offset + length >= 0) return length + offset;
    if (isForward || needleLength === 0) return 0;
    return -1;
  }
  if (offset + needleLength <= length) return offset;
  if (needleLength === 0) return length;
  if (isForward) return -1;
  return length - 1;
}

// Searches `haystack` for `needle` (arrays of units) forward from `start`, or
// backward for a match beginning at or before `start`.
function searchUnits(haystack, needle, start, isForward) {
  const last = haystack.length - needle.length;
  if (last < 0) return -1;
  const matchesAt = (p) => {
    for (let j = 0; j < needle.length; j++) if (haystack[p + j] !== needle[j]) return false;
    return true;
  };
  if (isForward) {
    for (let p = start; p <= last; p++) if (matchesAt(p)) return p;
  } else {
    for (let p = Math.min(start, last); p >= 0; p--) if (matchesAt(p)) return p;
  }
  return -1;
}

function toUnits16(bytes) {
  const units = new Array(bytes.length >>> 1);
  for (let i = 0; i < units.length; i++) units[i] = bytes[2 * i] | (bytes[2 * i + 1] << 8);
  return units;
}

function indexOfBytes(buffer, needle, byteOffset, isUcs2, isForward) {
  const offset = indexOfOffset(buffer.length, Math.trunc(byteOffset), needle.length, isForward);
  if (needle.length === 0) return offset;
  if (buffer.length === 0 || offset <= -1) return -1;
  if ((isForward && needle.length + offset > buffer.length) || needle.length > buffer.length) return -1;
  if (isUcs2) {
    if (buffer.length < 2 || needle.length < 2) return -1;
    const found = searchUnits(toUnits16(buffer), toUnits16(needle), offset >>> 1, isForward);
    return found === -1 ? -1 : found * 2;
  }
  return searchUnits(buffer, needle, offset, isForward);
}

function bidirectionalIndexOf(buffer, val, byteOffset, encoding, dir) {
  if (typeof byteOffset === 'string') {
    encoding = byteOffset;
    byteOffset = undefined;
  } else if (byteOffset > 0x7fffffff) {
    byteOffset = 0x7fffffff;
  } else if (byteOffset < -0x80000000) {
    byteOffset = -0x80000000;
  }
  byteOffset = +byteOffset;
  if (Number.isNaN(byteOffset)) byteOffset = dir ? 0 : (buffer.length || buffer.byteLength);
  dir = !!dir;

  if (typeof val === 'number') {
    const offset = indexOfOffset(buffer.length, Math.trunc(byteOffset), 1, dir);
    if (offset <= -1 || buffer.length === 0) return -1;
    const needle = (val >>> 0) & 0xff;
    if (dir) {
      for (let i = offset; i < buffer.length; i++) if (buffer[i] === needle) return i;
    } else {
      for (let i = offset; i >= 0; i--) if (buffer[i] === needle) return i;
    }
    return -1;
  }

  const ops = encoding === undefined ? encodingOps.utf8 : getEncodingOps(encoding);
  if (typeof val === 'string') {
    if (ops === undefined) throw errUnknownEncoding(encoding);
    return indexOfBytes(buffer, fromString(val, ops.encoding), byteOffset, ops.encoding === 'utf16le', dir);
  }
  if (isUint8Array(val)) {
    return indexOfBytes(buffer, val, byteOffset, ops !== undefined && ops.encoding === 'utf16le', dir);
  }
  throw errInvalidArgType('value', ['number', 'string', 'Buffer', 'Uint8Array'], val);
}

proto.indexOf = function indexOf(val, byteOffset, encoding) {
  return bidirectionalIndexOf(this, val, byteOffset, encoding, true);
};

proto.lastIndexOf = function lastIndexOf(val, byteOffset, encoding) {
  return bidirectionalIndexOf(this, val, byteOffset, encoding, false);
};

proto.includes = function includes(val, byteOffset, encoding) {
  return this.indexOf(val, byteOffset, encoding) !== -1;
};

// --- fill / write / toJSON / slicing.

// Uint8Array's own fill; Buffer#fill is the Node-flavoured one below.
const fillBytes = Uint8Array.prototype.fill;

function fillBuffer(buf, value, offset, end, encoding) {
  if (typeof value === 'string') {
    if (offset === undefined || typeof offset === 'string') {
      encoding = offset;
      offset = 0;
      end = buf.length;
    } else if (typeof end === 'string') {
      encoding = end;
      end = buf.length;
    }
    const normalized = normalizeEncoding(encoding);
    if (normalized === undefined) {
      if (typeof encoding !== 'string') throw errInvalidArgType('encoding', 'string', encoding);
      throw errUnknownEncoding(encoding);
    }
    if (value.length === 0) {
      value = 0;
    } else if (value.length === 1) {
      if (normalized === 'utf8') {
        const code = value.charCodeAt(0);
        if (code < 128) value = code;
      } else if (normalized === 'latin1') {
        value = value.charCodeAt(0);
      }
    }
    encoding = normalized;
  } else {
    encoding = undefined;
  }

  if (offset === undefined) {
    offset = 0;
    end = buf.length;
  } else {
    validateOffset(offset, 'offset');
    if (end === undefined) end = buf.length;
    else validateOffset(end, 'end', 0, buf.length);
    if (offset >= end) return buf;
  }

  if (typeof value === 'number') {
    if (offset > end || end > buf.byteLength) throw errBufferOutOfBounds();
    fillBytes.call(buf, value, offset, end);
    return buf;
  }

  let pattern;
  if (typeof value === 'string') {
    pattern = fromString(value, encoding);
  } else if (isUint8Array(value)) {
    pattern = value;
  } else {
    // Node's C++ takes Uint32Value() & 255 of anything else (true -> 1).
    fillBytes.call(buf, (Number(value) >>> 0) & 0xff, offset, end);
    return buf;
  }
  if (offset > buf.length || end > buf.length) throw errBufferOutOfBounds();
  if (pattern.length === 0) throw errInvalidArgValue('value', value);
  for (let i = offset, j = 0; i < end; i++, j = (j + 1) % pattern.length) buf[i] = pattern[j];
  return buf;
}

proto.fill = function fill(value, offset, end, encoding) {
  return fillBuffer(this, value, offset, end, encoding);
};

proto.write = function write(string, offset, length, encoding) {
  if (typeof string !== 'string') throw errInvalidArgType('argument', 'string', string);
  if (offset === undefined) return utf8Write(this, string, 0, this.length);
  if (length === undefined && typeof offset === 'string') {
    encoding = offset;
    length = this.length;
    offset = 0;
  } else {
    validateOffset(offset, 'offset', 0, this.length);
    const remaining = this.length - offset;
    if (length === undefined) {
      length = remaining;
    } else if (typeof length === 'string') {
      encoding = length;
      length = remaining;
    } else {
      validateOffset(length, 'length', 0, this.length);
      if (length > remaining) length = remaining;
    }
  }
  if (!encoding || encoding === 'utf8') return utf8Write(this, string, offset, length);
  const ops = getEncodingOps(encoding);
  if (ops === undefined) throw errUnknownEncoding(encoding);
  return ops.write(this, string, offset, length);
};

proto.toJSON = function toJSON() {
  if (this.length > 0) {
    const data = new Array(this.length);
    for (let i = 0; i < this.length; ++i) data[i] = this[i];
    return { type: 'Buffer', data };
  }
  return { type: 'Buffer', data: [] };
};

function adjustOffset(offset, length) {
  offset = Math.trunc(offset);
  if (offset === 0) return 0;
  if (offset < 0) {
    offset += length;
    return offset > 0 ? offset : 0;
  }
  if (offset < length) return offset;
  return Number.isNaN(offset) ? 0 : length;
}

proto.subarray = function subarray(start, end) {
  const srcLength = this.length;
  start = adjustOffset(start, srcLength);
  end = end !== undefined ? adjustOffset(end, srcLength) : srcLength;
  const newLength = end > start ? end - start : 0;
  return new FastBuffer(this.buffer, this.byteOffset + start, newLength);
};

proto.slice = function slice(start, end) {
  return this.subarray(start, end);
};

function swapBytes(buf, size, label) {
  if (buf.length % size !== 0) {
    throw nodeError(RangeError, 'ERR_INVALID_BUFFER_SIZE', `Buffer size must be a multiple of ${label}`);
  }
  for (let i = 0; i < buf.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = buf[a];
      buf[a] = buf[b];
      buf[b] = t;
    }
  }
  return buf;
}

proto.swap16 = function swap16() { return swapBytes(this, 2, '16-bits'); };
proto.swap32 = function swap32() { return swapBytes(this, 4, '32-bits'); };
proto.swap64 = function swap64() { return swapBytes(this, 8, '64-bits'); };

// --- Integer and float access (lib/internal/buffer.js).

function boundsError(value, length, type) {
  if (Math.floor(value) !== value) {
    validateNumber(value, type || 'offset');
    throw errOutOfRange(type || 'offset', 'an integer', value);
  }
  if (length < 0) throw errBufferOutOfBounds();
  throw errOutOfRange(type || 'offset', `>= ${type ? 1 : 0} and <= ${length}`, value);
}

// Reads `size` bytes as an unsigned big- or little-endian integer after the
// same checks Node makes (a non-number offset, a fractional or out-of-range one).
function readUnsigned(buf, offset, size, littleEndian) {
  validateNumber(offset, 'offset');
  if (buf[offset] === undefined || buf[offset + size - 1] === undefined) boundsError(offset, buf.length - size);
  let value = 0;
  for (let i = 0; i < size; i++) {
    value = value * 256 + buf[offset + (littleEndian ? size - 1 - i : i)];
  }
  return value;
}

function readSigned(buf, offset, size, littleEndian) {
  const value = readUnsigned(buf, offset, size, littleEndian);
  const limit = 2 ** (8 * size - 1);
  return value >= limit ? value - 2 * limit : value;
}

function checkInt(value, min, max, buf, offset, size) {
  if (value > max || value < min) {
    throw errOutOfRange('value', `>= ${min} and <= ${max}`, value);
  }
  validateNumber(offset, 'offset');
  if (buf[offset] === undefined || buf[offset + size - 1] === undefined) boundsError(offset, buf.length - size);
}

function writeInteger(buf, value, offset, size, littleEndian, min, max) {
  value = +value;
  if (size === 1) {
    validateNumber(offset, 'offset');
    if (value > max || value < min) throw errOutOfRange('value', `>= ${min} and <= ${max}`, value);
    if (buf[offset] === undefined) boundsError(offset, buf.length - 1);
  } else {
    checkInt(value, min, max, buf, offset, size);
  }
  const bits = value >>> 0;
  for (let i = 0; i < size; i++) {
    buf[offset + (littleEndian ? i : size - 1 - i)] = (bits >>> (8 * i)) & 0xff;
  }
  return offset + size;
}

const integerAccessors = [
  ['UInt8', 1, false, false], ['UInt16LE', 2, false, true], ['UInt16BE', 2, false, false],
  ['UInt32LE', 4, false, true], ['UInt32BE', 4, false, false],
  ['Int8', 1, true, false], ['Int16LE', 2, true, true], ['Int16BE', 2, true, false],
  ['Int32LE', 4, true, true], ['Int32BE', 4, true, false],
];

for (const [name, size, signed, littleEndian] of integerAccessors) {
  const min = signed ? -(2 ** (8 * size - 1)) : 0;
  const max = signed ? 2 ** (8 * size - 1) - 1 : 2 ** (8 * size) - 1;
  const read = signed
    ? function (offset = 0) { return readSigned(this, offset, size, littleEndian); }
    : function (offset = 0) { return readUnsigned(this, offset, size, littleEndian); };
  const write = function (value, offset = 0) {
    return writeInteger(this, value, offset, size, littleEndian, min, max);
  };
  proto[`read${name}`] = read;
  proto[`write${name}`] = write;
  if (name.startsWith('UInt')) {
    proto[`readUint${name.slice(4)}`] = read;
    proto[`writeUint${name.slice(4)}`] = write;
  }
}

function floatAccessor(size, littleEndian, isWrite) {
  const method = size === 4 ? 'Float32' : 'Float64';
  if (isWrite) {
    return function (value, offset = 0) {
      value = +value;
      validateNumber(offset, 'offset');
      if (this[offset] === undefined || this[offset + size - 1] === undefined) boundsError(offset, this.length - size);
      new DataView(this.buffer, this.byteOffset, this.byteLength)[`set${method}`](offset, value, littleEndian);
      return offset + size;
    };
  }
  return function (offset = 0) {
    validateNumber(offset, 'offset');
    if (this[offset] === undefined || this[offset + size - 1] === undefined) boundsError(offset, this.length - size);
    return new DataView(this.buffer, this.byteOffset, this.byteLength)[`get${method}`](offset, littleEndian);
  };
}

proto.readFloatLE = floatAccessor(4, true, false);
proto.readFloatBE = floatAccessor(4, false, false);
proto.readDoubleLE = floatAccessor(8, true, false);
proto.readDoubleBE = floatAccessor(8, false, false);
proto.writeFloatLE = floatAccessor(4, true, true);
proto.writeFloatBE = floatAccessor(4, false, true);
proto.writeDoubleLE = floatAccessor(8, true, true);
proto.writeDoubleBE = floatAccessor(8, false, true);

proto.inspect = function inspectBuffer() {
  return inspect(this);
};

// ---------------------------------------------------------------------------
// atob / btoa. Node throws a DOMException named InvalidCharacterError (legacy
// code 5); QuickJS has no DOMException, so an Error carries the same name,
// message and code.

function invalidCharacterError(message) {
  const error = new Error(message);
  error.name = 'InvalidCharacterError';
  error.code = 5;
  return error;
}

function errMissingInput() {
  return nodeError(TypeError, 'ERR_MISSING_ARGS', 'The "input" argument must be specified');
}

function btoa(input) {
  if (arguments.length === 0) throw errMissingInput();
  input = `${input}`;
  for (let i = 0; i < input.length; i++) {
    if (input.charCodeAt(i) > 0xff) throw invalidCharacterError('Invalid character');
  }
  return Buffer.from(input, 'latin1').toString('base64');
}

// The WHATWG forgiving-base64 decode: ASCII whitespace is ignored, and up to
// two '=' only when they complete a multiple of four characters.
function atob(input) {
  if (arguments.length === 0) throw errMissingInput();
  let data = `${input}`.replace(/[\t\n\f\r ]/g, '');
  if (data.length % 4 === 0) data = data.replace(/={1,2}$/, '');
  if (/[^A-Za-z0-9+/]/.test(data)) throw invalidCharacterError('Invalid character');
  if (data.length % 4 === 1) throw invalidCharacterError('The string to be decoded is not correctly encoded.');
  return Buffer.from(data, 'base64').toString('latin1');
}

// Deprecated since node 6 and still required by old packages at load time
// (buffer-equal-constant-time, which jsonwebtoken 8 pulls in, patches its
// prototype): a function returning a Buffer, with a prototype of its own.
function SlowBuffer(size) {
  return Buffer.allocUnsafeSlow(size).fill(0);
}
SlowBuffer.prototype = Object.create(Uint8Array.prototype, {
  constructor: { value: SlowBuffer, writable: true, configurable: true },
});

module.exports = {
  Buffer,
  SlowBuffer,
  atob,
  btoa,
  kMaxLength,
  kStringMaxLength,
  constants: { MAX_LENGTH: kMaxLength, MAX_STRING_LENGTH: kStringMaxLength },
};
