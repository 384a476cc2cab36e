'use strict';
// Node's `string_decoder` module for the QuickJS engine.
//
// Streams of bytes (request bodies, fetched responses) are turned into text
// chunk by chunk; a multi-byte UTF-8 or UTF-16 character, or a base64 group,
// may be split between chunks. This follows Node 20's src/string_decoder.cc
// step by step: up to four bytes of an unfinished character are kept, a
// chunk that does not continue it ends it as U+FFFD, and end() flushes what
// is left the way node does (a lone UTF-16 byte is dropped, base64 is padded).
// Decoding itself is Buffer's, so invalid input reads exactly as in node.
//
// Checked against the real module by ../test/vectors.js.

const { Buffer } = require('buffer');
const { nodeError, determineSpecificType } = require('edgeport:errors');

const encodings = {
  __proto__: null,
  utf8: 'utf8', 'utf-8': 'utf8',
  utf16le: 'utf16le', 'utf-16le': 'utf16le', ucs2: 'utf16le', 'ucs-2': 'utf16le',
  latin1: 'latin1', binary: 'latin1',
  base64: 'base64', base64url: 'base64url', hex: 'hex', ascii: 'ascii',
};

function normalizeEncoding(encoding) {
  if (encoding === undefined || encoding === null || encoding === '') return 'utf8';
  const normalized = encodings[`${encoding}`.toLowerCase()];
  if (normalized === undefined) {
    throw nodeError(TypeError, 'ERR_UNKNOWN_ENCODING', `Unknown encoding: ${encoding}`);
  }
  return normalized;
}

const kState = Symbol('kState');

// Decodes `bytes` [start, end) without copying them.
function decode(bytes, start, end, encoding) {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString(encoding);
}

function StringDecoder(encoding) {
  this.encoding = normalizeEncoding(encoding);
  // The unfinished character's bytes, how many are held and how many are still to come.
  this[kState] = { incomplete: Buffer.alloc(4), buffered: 0, missing: 0 };
}

StringDecoder.prototype.write = function write(buf) {
  if (typeof buf === 'string') return buf;
  if (!ArrayBuffer.isView(buf)) {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE',
      `The "buf" argument must be an instance of Buffer, TypedArray, or DataView. Received ${determineSpecificType(buf)}`);
  }
  const state = this[kState];
  if (state === undefined) {
    throw nodeError(TypeError, 'ERR_INVALID_THIS', 'Value of "this" must be of type StringDecoder');
  }
  const encoding = this.encoding;
  const data = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  if (encoding === 'latin1' || encoding === 'ascii' || encoding === 'hex') return decode(data, 0, data.length, encoding);

  let start = 0;
  let prepend = '';
  if (state.missing > 0) {
    if (encoding === 'utf8') {
      // A byte that is not a continuation ends the unfinished character early.
      for (let i = 0; i < data.length && i < state.missing; i++) {
        if ((data[i] & 0xc0) !== 0x80) {
          state.missing = 0;
          state.incomplete.set(data.subarray(0, i), state.buffered);
          state.buffered += i;
          start = i;
          break;
        }
      }
    }
    const found = Math.min(data.length - start, state.missing);
    state.incomplete.set(data.subarray(start, start + found), state.buffered);
    start += found;
    state.missing -= found;
    state.buffered += found;
    if (state.missing === 0) {
      prepend = decode(state.incomplete, 0, state.buffered, encoding);
      state.buffered = 0;
    }
  }
  let end = data.length;
  if (start === end) return prepend;

  // Hold back a character that the next chunk may finish.
  if (encoding === 'utf8' && (data[end - 1] & 0x80)) {
    for (let i = end - 1; ; i--) {
      state.buffered++;
      if ((data[i] & 0xc0) === 0x80) {
        // A continuation byte: keep looking for the lead byte, within reach.
        if (state.buffered >= 4 || i === start) {
          state.buffered = 0;
          break;
        }
      } else {
        if ((data[i] & 0xe0) === 0xc0) state.missing = 2;
        else if ((data[i] & 0xf0) === 0xe0) state.missing = 3;
        else if ((data[i] & 0xf8) === 0xf0) state.missing = 4;
        else {
          state.buffered = 0;
          break;
        }
        if (state.buffered >= state.missing) {
          // Complete (or too long to ever be valid): nothing to hold back.
          state.missing = 0;
          state.buffered = 0;
        }
        state.missing -= state.buffered;
        break;
      }
    }
  } else if (encoding === 'utf16le') {
    if ((end - start) % 2 === 1) {
      state.buffered = 1;
      state.missing = 1;
    } else if ((data[end - 1] & 0xfc) === 0xd8) {
      // The high half of a surrogate pair.
      state.buffered = 2;
      state.missing = 2;
    }
  } else if (encoding === 'base64' || encoding === 'base64url') {
    state.buffered = (end - start) % 3;
    if (state.buffered > 0) state.missing = 3 - state.buffered;
  }
  if (state.buffered > 0) {
    end -= state.buffered;
    state.incomplete.set(data.subarray(end, end + state.buffered), 0);
  }
  return prepend + (end > start ? decode(data, start, end, encoding) : '');
};

StringDecoder.prototype.end = function end(buf) {
  let ret = '';
  if (buf !== undefined) ret = this.write(buf);
  const state = this[kState];
  if (state.buffered > 0) {
    // A lone trailing UTF-16 byte is dropped.
    if (this.encoding === 'utf16le' && state.buffered % 2 === 1) {
      state.missing--;
      state.buffered--;
    }
    if (state.buffered > 0) ret += decode(state.incomplete, 0, state.buffered, this.encoding);
    state.missing = 0;
    state.buffered = 0;
  }
  return ret;
};

// Decodes `buf` from `offset`, forgetting any unfinished character.
StringDecoder.prototype.text = function text(buf, offset) {
  const state = this[kState];
  state.missing = 0;
  state.buffered = 0;
  return this.write(buf.slice(offset));
};

Object.defineProperties(StringDecoder.prototype, {
  lastChar: {
    configurable: true,
    enumerable: true,
    get() { return this[kState].incomplete.subarray(0, 4); },
  },
  lastNeed: {
    configurable: true,
    enumerable: true,
    get() { return this[kState].missing; },
  },
  lastTotal: {
    configurable: true,
    enumerable: true,
    get() { return this[kState].buffered + this[kState].missing; },
  },
});

module.exports = { StringDecoder };
