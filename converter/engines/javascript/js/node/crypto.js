'use strict';
// Node's `crypto` module for the QuickJS engine.
//
// Handlers sign cookies and URLs, compare tokens, derive cache keys and make
// request ids: createHash, createHmac, timingSafeEqual and the random*
// functions cover that. The digests (MD5, SHA-1, SHA-224/256, SHA-384/512 and
// SHA-512/224, SHA-512/256) are plain JavaScript on 32-bit integer arrays;
// SHA-512 keeps each 64-bit word as a pair of 32-bit halves, which QuickJS
// runs far faster than BigInt. Algorithm names are resolved as OpenSSL does
// for node (case-insensitive, with its aliases and OIDs), and errors carry
// node's names, messages and codes.
//
// Random bytes come from the engine's `edgeport:random` module, seeded per
// invocation, so a converted function can be replayed and compared.
//
// Left out on purpose: ciphers, signatures, key pairs, Diffie-Hellman, key
// derivation, SHA-3/BLAKE2/RIPEMD digests and most of webcrypto.subtle. The
// functions still exist (packages probe for them when they load) but throw
// ERR_EDGEPORT_UNSUPPORTED. Hash and Hmac are not streams (no write/end/pipe).
//
// Checked against the real module by ../test/vectors.js.

const { Buffer } = require('buffer');

// ---------------------------------------------------------------------------
// Errors, shaped like Node's internal/errors (name, message, code, toString).

const { nodeError, determineSpecificType } = require('edgeport:errors');

// `expected` is node's wording, e.g. 'of type string or an instance of Buffer'.
function errInvalidArgType(name, expected, actual) {
  const kind = name.includes('.') ? 'property' : 'argument';
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE',
    `The "${name}" ${kind} must be ${expected}. Received ${determineSpecificType(actual)}`);
}

function errOutOfRange(name, range, value) {
  let received;
  if (Number.isInteger(value) && Math.abs(value) > 2 ** 32) {
    // Node groups the digits of large integers: 281_474_976_710_656.
    received = String(value).replace(/(\d)(?=(\d{3})+$)/g, '$1_');
  } else {
    received = require('util').inspect(value);
  }
  return nodeError(RangeError, 'ERR_OUT_OF_RANGE',
    `The value of "${name}" is out of range. It must be ${range}. Received ${received}`);
}

function errInvalidArgValue(name, value, reason = 'is invalid') {
  const kind = name.includes('.') ? 'property' : 'argument';
  return nodeError(TypeError, 'ERR_INVALID_ARG_VALUE',
    `The ${kind} '${name}' ${reason}. Received ${require('util').inspect(value)}`);
}

// Errors node raises from C++ carry a code but print without it.
function nativeError(Base, code, message) {
  const error = new Base(message);
  error.code = code;
  return error;
}

function errHashFinalized() {
  return nodeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
}

function errUnsupported(what) {
  return nodeError(Error, 'ERR_EDGEPORT_UNSUPPORTED',
    `${what} is not available in the edge engine (it has hashes, HMAC and random values only)`);
}

// Node's DOMException where the engine has none: webcrypto reports its errors
// with one.
const DOMException = globalThis.DOMException || (() => {
  const legacyCodes = { TypeMismatchError: 17, QuotaExceededError: 22, NotSupportedError: 9 };
  return class DOMException extends Error {
    constructor(message = '', name = 'Error') {
      super(message);
      Object.defineProperty(this, 'name', { value: name, configurable: true, writable: true });
      Object.defineProperty(this, 'code', { value: legacyCodes[name] || 0, configurable: true, writable: true });
    }
  };
})();

function validateString(value, name) {
  if (typeof value !== 'string') throw errInvalidArgType(name, 'of type string', value);
}

function validateFunction(value, name) {
  if (typeof value !== 'function') throw errInvalidArgType(name, 'of type function', value);
}

function validateNumber(value, name) {
  if (typeof value !== 'number') throw errInvalidArgType(name, 'of type number', value);
}

function validateObject(value, name) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw errInvalidArgType(name, 'of type object', value);
  }
}

function isAnyArrayBuffer(value) {
  return Object.prototype.toString.call(value) === '[object ArrayBuffer]' ||
    Object.prototype.toString.call(value) === '[object SharedArrayBuffer]';
}

function bytesOf(view) {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

// ---------------------------------------------------------------------------
// Digests. Each compress function folds one block of `data` at `p` into
// `state`; module-level scratch arrays are safe because nothing here yields.

const md5K = Int32Array.from([
  0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
  0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
  0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
  0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
  0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
  0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
  0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
  0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
]);
const md5Shifts = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const md5X = new Int32Array(16);

function md5Compress(state, data, p) {
  const X = md5X;
  for (let i = 0; i < 16; i++, p += 4) {
    X[i] = data[p] | (data[p + 1] << 8) | (data[p + 2] << 16) | (data[p + 3] << 24);
  }
  let a = state[0];
  let b = state[1];
  let c = state[2];
  let d = state[3];
  for (let i = 0; i < 64; i++) {
    let f;
    let g;
    if (i < 16) {
      f = (b & c) | (~b & d);
      g = i;
    } else if (i < 32) {
      f = (d & b) | (~d & c);
      g = (5 * i + 1) & 15;
    } else if (i < 48) {
      f = b ^ c ^ d;
      g = (3 * i + 5) & 15;
    } else {
      f = c ^ (b | ~d);
      g = (7 * i) & 15;
    }
    const s = md5Shifts[((i >> 4) << 2) | (i & 3)];
    const t = (a + f + md5K[i] + X[g]) | 0;
    a = d;
    d = c;
    c = b;
    b = (b + ((t << s) | (t >>> (32 - s)))) | 0;
  }
  state[0] = (state[0] + a) | 0;
  state[1] = (state[1] + b) | 0;
  state[2] = (state[2] + c) | 0;
  state[3] = (state[3] + d) | 0;
}

const sha1W = new Int32Array(80);

function sha1Compress(state, data, p) {
  const W = sha1W;
  for (let i = 0; i < 16; i++, p += 4) {
    W[i] = (data[p] << 24) | (data[p + 1] << 16) | (data[p + 2] << 8) | data[p + 3];
  }
  for (let i = 16; i < 80; i++) {
    const x = W[i - 3] ^ W[i - 8] ^ W[i - 14] ^ W[i - 16];
    W[i] = (x << 1) | (x >>> 31);
  }
  let a = state[0];
  let b = state[1];
  let c = state[2];
  let d = state[3];
  let e = state[4];
  for (let i = 0; i < 80; i++) {
    let f;
    let k;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5a827999;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ed9eba1;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8f1bbcdc;
    } else {
      f = b ^ c ^ d;
      k = 0xca62c1d6;
    }
    const t = (((a << 5) | (a >>> 27)) + f + e + k + W[i]) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  state[0] = (state[0] + a) | 0;
  state[1] = (state[1] + b) | 0;
  state[2] = (state[2] + c) | 0;
  state[3] = (state[3] + d) | 0;
  state[4] = (state[4] + e) | 0;
}

// SHA-512's round constants as (high, low) halves; SHA-256 uses the high
// halves of the first 64.
const K512 = Int32Array.from([
  0x428a2f98, 0xd728ae22, 0x71374491, 0x23ef65cd, 0xb5c0fbcf, 0xec4d3b2f, 0xe9b5dba5, 0x8189dbbc,
  0x3956c25b, 0xf348b538, 0x59f111f1, 0xb605d019, 0x923f82a4, 0xaf194f9b, 0xab1c5ed5, 0xda6d8118,
  0xd807aa98, 0xa3030242, 0x12835b01, 0x45706fbe, 0x243185be, 0x4ee4b28c, 0x550c7dc3, 0xd5ffb4e2,
  0x72be5d74, 0xf27b896f, 0x80deb1fe, 0x3b1696b1, 0x9bdc06a7, 0x25c71235, 0xc19bf174, 0xcf692694,
  0xe49b69c1, 0x9ef14ad2, 0xefbe4786, 0x384f25e3, 0x0fc19dc6, 0x8b8cd5b5, 0x240ca1cc, 0x77ac9c65,
  0x2de92c6f, 0x592b0275, 0x4a7484aa, 0x6ea6e483, 0x5cb0a9dc, 0xbd41fbd4, 0x76f988da, 0x831153b5,
  0x983e5152, 0xee66dfab, 0xa831c66d, 0x2db43210, 0xb00327c8, 0x98fb213f, 0xbf597fc7, 0xbeef0ee4,
  0xc6e00bf3, 0x3da88fc2, 0xd5a79147, 0x930aa725, 0x06ca6351, 0xe003826f, 0x14292967, 0x0a0e6e70,
  0x27b70a85, 0x46d22ffc, 0x2e1b2138, 0x5c26c926, 0x4d2c6dfc, 0x5ac42aed, 0x53380d13, 0x9d95b3df,
  0x650a7354, 0x8baf63de, 0x766a0abb, 0x3c77b2a8, 0x81c2c92e, 0x47edaee6, 0x92722c85, 0x1482353b,
  0xa2bfe8a1, 0x4cf10364, 0xa81a664b, 0xbc423001, 0xc24b8b70, 0xd0f89791, 0xc76c51a3, 0x0654be30,
  0xd192e819, 0xd6ef5218, 0xd6990624, 0x5565a910, 0xf40e3585, 0x5771202a, 0x106aa070, 0x32bbd1b8,
  0x19a4c116, 0xb8d2d0c8, 0x1e376c08, 0x5141ab53, 0x2748774c, 0xdf8eeb99, 0x34b0bcb5, 0xe19b48a8,
  0x391c0cb3, 0xc5c95a63, 0x4ed8aa4a, 0xe3418acb, 0x5b9cca4f, 0x7763e373, 0x682e6ff3, 0xd6b2b8a3,
  0x748f82ee, 0x5defb2fc, 0x78a5636f, 0x43172f60, 0x84c87814, 0xa1f0ab72, 0x8cc70208, 0x1a6439ec,
  0x90befffa, 0x23631e28, 0xa4506ceb, 0xde82bde9, 0xbef9a3f7, 0xb2c67915, 0xc67178f2, 0xe372532b,
  0xca273ece, 0xea26619c, 0xd186b8c7, 0x21c0c207, 0xeada7dd6, 0xcde0eb1e, 0xf57d4f7f, 0xee6ed178,
  0x06f067aa, 0x72176fba, 0x0a637dc5, 0xa2c898a6, 0x113f9804, 0xbef90dae, 0x1b710b35, 0x131c471b,
  0x28db77f5, 0x23047d84, 0x32caab7b, 0x40c72493, 0x3c9ebe0a, 0x15c9bebc, 0x431d67c4, 0x9c100d4c,
  0x4cc5d4be, 0xcb3e42b6, 0x597f299c, 0xfc657e2a, 0x5fcb6fab, 0x3ad6faec, 0x6c44198c, 0x4a475817,
]);
const K256 = K512.filter((_, i) => i % 2 === 0).subarray(0, 64);
const sha256W = new Int32Array(64);

function sha256Compress(state, data, p) {
  const W = sha256W;
  for (let i = 0; i < 16; i++, p += 4) {
    W[i] = (data[p] << 24) | (data[p + 1] << 16) | (data[p + 2] << 8) | data[p + 3];
  }
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15];
    const y = W[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
  }
  let a = state[0];
  let b = state[1];
  let c = state[2];
  let d = state[3];
  let e = state[4];
  let f = state[5];
  let g = state[6];
  let h = state[7];
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K256[i] + W[i]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0] + a) | 0;
  state[1] = (state[1] + b) | 0;
  state[2] = (state[2] + c) | 0;
  state[3] = (state[3] + d) | 0;
  state[4] = (state[4] + e) | 0;
  state[5] = (state[5] + f) | 0;
  state[6] = (state[6] + g) | 0;
  state[7] = (state[7] + h) | 0;
}

// 64-bit words are (high, low) pairs at even and odd indices. Low halves are
// summed as unsigned doubles (exact below 2**53) and the carry is their
// quotient by 2**32.
const sha512W = new Int32Array(160);
const TWO32 = 0x100000000;

function sha512Compress(state, data, p) {
  const W = sha512W;
  for (let i = 0; i < 32; i++, p += 4) {
    W[i] = (data[p] << 24) | (data[p + 1] << 16) | (data[p + 2] << 8) | data[p + 3];
  }
  for (let i = 32; i < 160; i += 2) {
    // σ0(W[t-15]) = rotr 1 ^ rotr 8 ^ shr 7
    let h = W[i - 30];
    let l = W[i - 29];
    const s0h = ((h >>> 1) | (l << 31)) ^ ((h >>> 8) | (l << 24)) ^ (h >>> 7);
    const s0l = ((l >>> 1) | (h << 31)) ^ ((l >>> 8) | (h << 24)) ^ ((l >>> 7) | (h << 25));
    // σ1(W[t-2]) = rotr 19 ^ rotr 61 ^ shr 6
    h = W[i - 4];
    l = W[i - 3];
    const s1h = ((h >>> 19) | (l << 13)) ^ ((l >>> 29) | (h << 3)) ^ (h >>> 6);
    const s1l = ((l >>> 19) | (h << 13)) ^ ((h >>> 29) | (l << 3)) ^ ((l >>> 6) | (h << 26));
    const lo = (s0l >>> 0) + (s1l >>> 0) + (W[i - 13] >>> 0) + (W[i - 31] >>> 0);
    W[i] = s0h + s1h + W[i - 14] + W[i - 32] + ((lo / TWO32) | 0);
    W[i + 1] = lo;
  }
  let ah = state[0], al = state[1], bh = state[2], bl = state[3];
  let ch = state[4], cl = state[5], dh = state[6], dl = state[7];
  let eh = state[8], el = state[9], fh = state[10], fl = state[11];
  let gh = state[12], gl = state[13], hh = state[14], hl = state[15];
  for (let i = 0; i < 160; i += 2) {
    // Σ1(e) = rotr 14 ^ rotr 18 ^ rotr 41
    const S1h = ((eh >>> 14) | (el << 18)) ^ ((eh >>> 18) | (el << 14)) ^ ((el >>> 9) | (eh << 23));
    const S1l = ((el >>> 14) | (eh << 18)) ^ ((el >>> 18) | (eh << 14)) ^ ((eh >>> 9) | (el << 23));
    const chh = (eh & fh) ^ (~eh & gh);
    const chl = (el & fl) ^ (~el & gl);
    let lo = (hl >>> 0) + (S1l >>> 0) + (chl >>> 0) + (K512[i + 1] >>> 0) + (W[i + 1] >>> 0);
    const t1h = (hh + S1h + chh + K512[i] + W[i] + ((lo / TWO32) | 0)) | 0;
    const t1l = lo | 0;
    // Σ0(a) = rotr 28 ^ rotr 34 ^ rotr 39
    const S0h = ((ah >>> 28) | (al << 4)) ^ ((al >>> 2) | (ah << 30)) ^ ((al >>> 7) | (ah << 25));
    const S0l = ((al >>> 28) | (ah << 4)) ^ ((ah >>> 2) | (al << 30)) ^ ((ah >>> 7) | (al << 25));
    const majh = (ah & bh) ^ (ah & ch) ^ (bh & ch);
    const majl = (al & bl) ^ (al & cl) ^ (bl & cl);
    hh = gh; hl = gl;
    gh = fh; gl = fl;
    fh = eh; fl = el;
    lo = (dl >>> 0) + (t1l >>> 0);
    eh = (dh + t1h + ((lo / TWO32) | 0)) | 0;
    el = lo | 0;
    dh = ch; dl = cl;
    ch = bh; cl = bl;
    bh = ah; bl = al;
    lo = (t1l >>> 0) + (S0l >>> 0) + (majl >>> 0);
    ah = (t1h + S0h + majh + ((lo / TWO32) | 0)) | 0;
    al = lo | 0;
  }
  add64(state, 0, ah, al);
  add64(state, 2, bh, bl);
  add64(state, 4, ch, cl);
  add64(state, 6, dh, dl);
  add64(state, 8, eh, el);
  add64(state, 10, fh, fl);
  add64(state, 12, gh, gl);
  add64(state, 14, hh, hl);
}

function add64(state, i, h, l) {
  const lo = (state[i + 1] >>> 0) + (l >>> 0);
  state[i] = state[i] + h + ((lo / TWO32) | 0);
  state[i + 1] = lo;
}

const iv512 = [
  0x6a09e667, 0xf3bcc908, 0xbb67ae85, 0x84caa73b, 0x3c6ef372, 0xfe94f82b, 0xa54ff53a, 0x5f1d36f1,
  0x510e527f, 0xade682d1, 0x9b05688c, 0x2b3e6c1f, 0x1f83d9ab, 0xfb41bd6b, 0x5be0cd19, 0x137e2179,
];
const iv384 = [
  0xcbbb9d5d, 0xc1059ed8, 0x629a292a, 0x367cd507, 0x9159015a, 0x3070dd17, 0x152fecd8, 0xf70e5939,
  0x67332667, 0xffc00b31, 0x8eb44a87, 0x68581511, 0xdb0c2e0d, 0x64f98fa7, 0x47b5481d, 0xbefa4fa4,
];

// blockSize and digestLength in bytes; `littleEndian` for MD5's words and length.
const algorithms = {
  md5: { compress: md5Compress, blockSize: 64, digestLength: 16, littleEndian: true,
    iv: [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476] },
  sha1: { compress: sha1Compress, blockSize: 64, digestLength: 20,
    iv: [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0] },
  sha224: { compress: sha256Compress, blockSize: 64, digestLength: 28, iv: iv384.filter((_, i) => i % 2 === 1) },
  sha256: { compress: sha256Compress, blockSize: 64, digestLength: 32, iv: iv512.filter((_, i) => i % 2 === 0) },
  sha384: { compress: sha512Compress, blockSize: 128, digestLength: 48, iv: iv384 },
  sha512: { compress: sha512Compress, blockSize: 128, digestLength: 64, iv: iv512 },
  'sha512-224': { compress: sha512Compress, blockSize: 128, digestLength: 28, iv: [
    0x8c3d37c8, 0x19544da2, 0x73e19966, 0x89dcd4d6, 0x1dfab7ae, 0x32ff9c82, 0x679dd514, 0x582f9fcf,
    0x0f6d2b69, 0x7bd44da8, 0x77e36f73, 0x04c48942, 0x3f9d85a8, 0x6a1d36c8, 0x1112e6ad, 0x91d692a1,
  ] },
  'sha512-256': { compress: sha512Compress, blockSize: 128, digestLength: 32, iv: [
    0x22312194, 0xfc2bf72c, 0x9f555fa3, 0xc84c64c2, 0x2393b86b, 0x6f53b151, 0x96387719, 0x5940eabd,
    0x96283ee2, 0xa88effe3, 0xbe5e1e25, 0x53863992, 0x2b0199fc, 0x2c85b8aa, 0x0eb72ddc, 0x81c52ca2,
  ] },
};
for (const name of Object.keys(algorithms)) algorithms[name].iv = Int32Array.from(algorithms[name].iv);

// The names OpenSSL gives node for each digest, lower-cased (lookups ignore case).
const digestNames = {
  md5: ['md5', 'ssl3-md5', 'rsa-md5', 'md5withrsaencryption', '1.2.840.113549.2.5'],
  sha1: ['sha1', 'sha-1', 'ssl3-sha1', 'rsa-sha1', 'rsa-sha1-2', 'sha1withrsaencryption', '1.3.14.3.2.26'],
  sha224: ['sha224', 'sha-224', 'sha2-224', 'rsa-sha224', 'sha224withrsaencryption', '2.16.840.1.101.3.4.2.4'],
  sha256: ['sha256', 'sha-256', 'sha2-256', 'rsa-sha256', 'sha256withrsaencryption', '2.16.840.1.101.3.4.2.1'],
  sha384: ['sha384', 'sha-384', 'sha2-384', 'rsa-sha384', 'sha384withrsaencryption', '2.16.840.1.101.3.4.2.2'],
  sha512: ['sha512', 'sha-512', 'sha2-512', 'rsa-sha512', 'sha512withrsaencryption', '2.16.840.1.101.3.4.2.3'],
  'sha512-224': ['sha512-224', 'sha-512/224', 'sha2-512/224', 'rsa-sha512/224', 'sha512-224withrsaencryption',
    '2.16.840.1.101.3.4.2.5'],
  'sha512-256': ['sha512-256', 'sha-512/256', 'sha2-512/256', 'rsa-sha512/256', 'sha512-256withrsaencryption',
    '2.16.840.1.101.3.4.2.6'],
};
const digestByName = new Map();
for (const [algorithm, names] of Object.entries(digestNames)) {
  for (const name of names) digestByName.set(name, algorithms[algorithm]);
}

// Digests node has and this engine does not: asking for one is a porting
// problem, not a typo, so it gets ERR_EDGEPORT_UNSUPPORTED.
const missingDigests = new Set([
  'blake2b512', 'blake2s256', 'md5-sha1', 'ripemd', 'ripemd160', 'rmd160', 'ripemd160withrsa', 'rsa-ripemd160',
  'sha3-224', 'sha3-256', 'sha3-384', 'sha3-512', 'rsa-sha3-224', 'rsa-sha3-256', 'rsa-sha3-384', 'rsa-sha3-512',
  'id-rsassa-pkcs1-v1_5-with-sha3-224', 'id-rsassa-pkcs1-v1_5-with-sha3-256',
  'id-rsassa-pkcs1-v1_5-with-sha3-384', 'id-rsassa-pkcs1-v1_5-with-sha3-512',
  'shake128', 'shake256', 'sm3', 'rsa-sm3', 'sm3withrsaencryption',
]);

// Returns the digest called `name`, undefined if node has no such digest.
function lookupDigest(name) {
  const key = name.toLowerCase();
  const algorithm = digestByName.get(key);
  if (algorithm === undefined && missingDigests.has(key)) throw errUnsupported(`The digest '${name}'`);
  return algorithm;
}

const hashNames = [
  'RSA-MD5', 'RSA-SHA1', 'RSA-SHA1-2', 'RSA-SHA224', 'RSA-SHA256', 'RSA-SHA384', 'RSA-SHA512', 'RSA-SHA512/224',
  'RSA-SHA512/256', 'md5', 'md5WithRSAEncryption', 'sha1', 'sha1WithRSAEncryption', 'sha224',
  'sha224WithRSAEncryption', 'sha256', 'sha256WithRSAEncryption', 'sha384', 'sha384WithRSAEncryption', 'sha512',
  'sha512-224', 'sha512-224WithRSAEncryption', 'sha512-256', 'sha512-256WithRSAEncryption',
  'sha512WithRSAEncryption', 'ssl3-md5', 'ssl3-sha1',
];

// One running digest: the chaining state, the partial block and the byte count.
class DigestState {
  constructor(algorithm) {
    this.algorithm = algorithm;
    this.state = algorithm.iv.slice();
    this.block = new Uint8Array(algorithm.blockSize);
    this.used = 0;
    this.length = 0;
  }

  clone() {
    const copy = new DigestState(this.algorithm);
    copy.state.set(this.state);
    copy.block.set(this.block);
    copy.used = this.used;
    copy.length = this.length;
    return copy;
  }

  update(data) {
    const { compress, blockSize } = this.algorithm;
    const { state, block } = this;
    const end = data.length;
    let pos = 0;
    this.length += end;
    if (this.used > 0) {
      pos = Math.min(blockSize - this.used, end);
      block.set(data.subarray(0, pos), this.used);
      this.used += pos;
      if (this.used < blockSize) return;
      compress(state, block, 0);
      this.used = 0;
    }
    for (; end - pos >= blockSize; pos += blockSize) compress(state, data, pos);
    if (pos < end) {
      block.set(data.subarray(pos), 0);
      this.used = end - pos;
    }
  }

  // Pads the message (0x80, zeros, the bit length) and returns the digest.
  digest() {
    const { compress, blockSize, digestLength, littleEndian } = this.algorithm;
    const { state, block } = this;
    let used = this.used;
    block[used++] = 0x80;
    if (used > blockSize - (blockSize === 128 ? 16 : 8)) {
      block.fill(0, used);
      compress(state, block, 0);
      used = 0;
    }
    block.fill(0, used);
    const bitsHigh = Math.floor(this.length / 0x20000000);
    const bitsLow = (this.length * 8) >>> 0;
    const out = Buffer.alloc(digestLength);
    if (littleEndian) {
      writeWordLE(block, blockSize - 8, bitsLow);
      writeWordLE(block, blockSize - 4, bitsHigh);
      compress(state, block, 0);
      for (let i = 0; i < digestLength; i += 4) writeWordLE(out, i, state[i >> 2]);
    } else {
      writeWordBE(block, blockSize - 8, bitsHigh);
      writeWordBE(block, blockSize - 4, bitsLow);
      compress(state, block, 0);
      for (let i = 0; i < digestLength; i += 4) writeWordBE(out, i, state[i >> 2]);
    }
    return out;
  }
}

function writeWordBE(bytes, i, word) {
  bytes[i] = word >>> 24;
  bytes[i + 1] = word >>> 16;
  bytes[i + 2] = word >>> 8;
  bytes[i + 3] = word;
}

function writeWordLE(bytes, i, word) {
  bytes[i] = word;
  bytes[i + 1] = word >>> 8;
  bytes[i + 2] = word >>> 16;
  bytes[i + 3] = word >>> 24;
}

// ---------------------------------------------------------------------------
// Hash and Hmac

// The bytes `update(data, encoding)` hashes. Node's C++ side reads strings in
// any encoding it knows and as UTF-8 otherwise ('buffer' included).
function updateBytes(data, encoding) {
  if (typeof data === 'string') {
    if (typeof encoding === 'string' && encoding.toLowerCase() === 'hex' && data.length % 2 !== 0) {
      throw errInvalidArgValue('encoding', encoding, `is invalid for data of length ${data.length}`);
    }
    return Buffer.from(data, Buffer.isEncoding(encoding) ? encoding : 'utf8');
  }
  if (!ArrayBuffer.isView(data)) {
    throw errInvalidArgType('data', 'of type string or an instance of Buffer, TypedArray, or DataView', data);
  }
  return bytesOf(data);
}

// `digest(encoding)`: a string in any encoding Buffer knows, else a Buffer.
function encodeDigest(bytes, encoding) {
  return encoding && Buffer.isEncoding(`${encoding}`) ? bytes.toString(`${encoding}`) : bytes;
}

const kState = Symbol('kState');
const kFinalized = Symbol('kFinalized');

function Hash(algorithm, options) {
  if (!(this instanceof Hash)) return new Hash(algorithm, options);
  validateString(algorithm, 'algorithm');
  const digest = lookupDigest(algorithm);
  if (digest === undefined) throw new Error('Digest method not supported');
  this[kState] = new DigestState(digest);
  this[kFinalized] = false;
}

Hash.prototype.update = function update(data, encoding) {
  if (this[kFinalized]) throw errHashFinalized();
  this[kState].update(updateBytes(data, encoding));
  return this;
};

Hash.prototype.digest = function digest(outputEncoding) {
  if (this[kFinalized]) throw errHashFinalized();
  this[kFinalized] = true;
  return encodeDigest(this[kState].digest(), outputEncoding);
};

Hash.prototype.copy = function copy() {
  if (this[kFinalized]) throw errHashFinalized();
  const hash = Object.create(Hash.prototype);
  hash[kState] = this[kState].clone();
  hash[kFinalized] = false;
  return hash;
};

// The raw bytes of an HMAC or secret key, as node's prepareSecretKey accepts them.
function secretKeyBytes(key, encoding, bufferOnly) {
  if (!bufferOnly && key instanceof KeyObject) return key[kKeyBytes];
  if (isAnyArrayBuffer(key)) return new Uint8Array(key);
  if (ArrayBuffer.isView(key)) return bytesOf(key);
  if (typeof key === 'string') return Buffer.from(key, encoding === 'buffer' ? 'utf8' : encoding);
  throw errInvalidArgType('key', bufferOnly
    ? 'an instance of ArrayBuffer, Buffer, TypedArray, or DataView'
    : 'of type string or an instance of ArrayBuffer, Buffer, TypedArray, DataView, KeyObject, or CryptoKey', key);
}

function Hmac(hmac, key, options) {
  if (!(this instanceof Hmac)) return new Hmac(hmac, key, options);
  validateString(hmac, 'hmac');
  const encoding = options != null ? options.encoding : undefined;
  if (encoding != null) validateString(encoding, 'options.encoding');
  let keyBytes = secretKeyBytes(key, encoding, false);
  const digest = lookupDigest(hmac);
  if (digest === undefined) throw nativeError(TypeError, 'ERR_CRYPTO_INVALID_DIGEST', `Invalid digest: ${hmac}`);
  // RFC 2104: keys longer than a block are hashed first, then zero-padded.
  if (keyBytes.length > digest.blockSize) {
    const state = new DigestState(digest);
    state.update(keyBytes);
    keyBytes = state.digest();
  }
  const pad = new Uint8Array(digest.blockSize);
  pad.set(keyBytes);
  for (let i = 0; i < pad.length; i++) pad[i] ^= 0x36;
  const inner = new DigestState(digest);
  inner.update(pad);
  for (let i = 0; i < pad.length; i++) pad[i] ^= 0x36 ^ 0x5c;
  const outer = new DigestState(digest);
  outer.update(pad);
  this[kState] = { inner, outer };
  this[kFinalized] = false;
}

Hmac.prototype.update = function update(data, encoding) {
  if (this[kFinalized]) throw errHashFinalized();
  this[kState].inner.update(updateBytes(data, encoding));
  return this;
};

// Unlike Hash, a second digest() answers an empty result instead of throwing.
Hmac.prototype.digest = function digest(outputEncoding) {
  const encoding = outputEncoding || 'buffer';
  if (this[kFinalized]) {
    const empty = Buffer.alloc(0);
    return encoding === 'buffer' ? empty : empty.toString(encoding);
  }
  this[kFinalized] = true;
  const { inner, outer } = this[kState];
  outer.update(inner.digest());
  return encodeDigest(outer.digest(), encoding);
};

function createHash(algorithm, options) {
  return new Hash(algorithm, options);
}

function createHmac(hmac, key, options) {
  return new Hmac(hmac, key, options);
}

// crypto.hash(algorithm, data[, outputEncoding]): a one-shot digest.
function hash(algorithm, input, outputEncoding = 'hex') {
  validateString(algorithm, 'algorithm');
  if (typeof input !== 'string' && !ArrayBuffer.isView(input)) {
    throw errInvalidArgType('input', 'of type string or an instance of Buffer, TypedArray, or DataView', input);
  }
  let encoding = outputEncoding;
  if (encoding !== 'hex') {
    validateString(encoding, 'outputEncoding');
    if (encoding.toLowerCase() === 'buffer') encoding = 'buffer';
    else if (!Buffer.isEncoding(encoding)) throw errInvalidArgValue('outputEncoding', encoding);
  }
  const digest = lookupDigest(algorithm);
  if (digest === undefined) throw new Error(`Digest method ${algorithm} is not supported`);
  const state = new DigestState(digest);
  state.update(typeof input === 'string' ? Buffer.from(input, 'utf8') : bytesOf(input));
  return encodeDigest(state.digest(), encoding);
}

function getHashes() {
  return hashNames.slice();
}

// ---------------------------------------------------------------------------
// Secret keys

const kKeyBytes = Symbol('kKeyBytes');

class KeyObject {
  constructor(type, bytes) {
    if (type !== 'secret') throw errUnsupported(`A KeyObject of type '${type}'`);
    this[kKeyBytes] = bytes;
  }

  get type() {
    return 'secret';
  }

  get symmetricKeySize() {
    return this[kKeyBytes].length;
  }

  export(options) {
    if (options !== undefined) {
      validateObject(options, 'options');
      const { format } = options;
      if (format !== undefined && format !== 'buffer' && format !== 'jwk') {
        throw errInvalidArgValue('options.format', format, "must be one of: undefined, 'buffer', 'jwk'");
      }
      if (format === 'jwk') return { kty: 'oct', k: Buffer.from(this[kKeyBytes]).toString('base64url') };
    }
    return Buffer.from(this[kKeyBytes]);
  }

  equals(otherKeyObject) {
    if (!(otherKeyObject instanceof KeyObject)) {
      throw errInvalidArgType('otherKeyObject', 'an instance of KeyObject', otherKeyObject);
    }
    const a = this[kKeyBytes];
    const b = otherKeyObject[kKeyBytes];
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

function createSecretKey(key, encoding) {
  return new KeyObject('secret', Uint8Array.from(secretKeyBytes(key, encoding, true)));
}

// ---------------------------------------------------------------------------
// Comparison and randomness

function timingSafeEqual(buf1, buf2) {
  const expected = 'an instance of ArrayBuffer, Buffer, TypedArray, or DataView.';
  if (!isAnyArrayBuffer(buf1) && !ArrayBuffer.isView(buf1)) {
    throw nativeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "buf1" argument must be ${expected}`);
  }
  if (!isAnyArrayBuffer(buf2) && !ArrayBuffer.isView(buf2)) {
    throw nativeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "buf2" argument must be ${expected}`);
  }
  const a = isAnyArrayBuffer(buf1) ? new Uint8Array(buf1) : bytesOf(buf1);
  const b = isAnyArrayBuffer(buf2) ? new Uint8Array(buf2) : bytesOf(buf2);
  if (a.length !== b.length) {
    throw nativeError(RangeError, 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH', 'Input buffers must have the same byte length');
  }
  // Every byte is looked at, whatever the first difference.
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

const kMaxLength = 2 ** 31 - 1;

function fillRandom(bytes) {
  if (bytes.length > 0) bytes.set(require('edgeport:random').bytes(bytes.length));
}

// Node runs the asynchronous forms on its thread pool; here the callback runs
// as a microtask, still after the caller returns.
function defer(callback, ...args) {
  Promise.resolve().then(() => callback(...args));
}

function assertSize(size, elementSize, offset, length) {
  validateNumber(size, 'size');
  size *= elementSize;
  if (Number.isNaN(size) || size > kMaxLength || size < 0) {
    throw errOutOfRange('size', `>= 0 && <= ${kMaxLength}`, size);
  }
  if (size + offset > length) throw errOutOfRange('size + offset', `<= ${length}`, size + offset);
  return size >>> 0;
}

function assertOffset(offset, elementSize, length) {
  validateNumber(offset, 'offset');
  offset *= elementSize;
  if (Number.isNaN(offset) || offset > length || offset < 0) {
    throw errOutOfRange('offset', `>= 0 && <= ${length}`, offset);
  }
  return offset >>> 0;
}

function randomBytes(size, callback) {
  size = assertSize(size, 1, 0, Infinity);
  if (callback !== undefined) validateFunction(callback, 'callback');
  const buf = Buffer.alloc(size);
  fillRandom(buf);
  if (callback === undefined) return buf;
  defer(callback, null, buf);
  return undefined;
}

// The byte range [offset, offset + size) that randomFill(Sync) overwrites.
function randomFillTarget(buf, offset, size) {
  if (!isAnyArrayBuffer(buf) && !ArrayBuffer.isView(buf)) {
    throw errInvalidArgType('buf', 'an instance of ArrayBuffer or ArrayBufferView', buf);
  }
  const elementSize = buf.BYTES_PER_ELEMENT || 1;
  const byteLength = buf.byteLength;
  offset = assertOffset(offset, elementSize, byteLength);
  size = size === undefined ? byteLength - offset : assertSize(size, elementSize, offset, byteLength);
  const bytes = isAnyArrayBuffer(buf) ? new Uint8Array(buf) : bytesOf(buf);
  return bytes.subarray(offset, offset + size);
}

function randomFillSync(buf, offset = 0, size) {
  fillRandom(randomFillTarget(buf, offset, size));
  return buf;
}

function randomFill(buf, offset, size, callback) {
  if (typeof offset === 'function') {
    callback = offset;
    offset = 0;
    size = undefined;
  } else if (typeof size === 'function') {
    callback = size;
    size = undefined;
  }
  validateFunction(callback, 'callback');
  fillRandom(randomFillTarget(buf, offset, size));
  defer(callback, null, buf);
}

// Largest range randomInt supports: 2**48 - 1, drawn from 6 random bytes.
const RAND_MAX = 0xffffffffffff;

function randomInt(min, max, callback) {
  const minNotSpecified = typeof max === 'undefined' || typeof max === 'function';
  if (minNotSpecified) {
    callback = max;
    max = min;
    min = 0;
  }
  const isSync = typeof callback === 'undefined';
  if (!isSync) validateFunction(callback, 'callback');
  if (!Number.isSafeInteger(min)) throw errInvalidArgType('min', 'a safe integer', min);
  if (!Number.isSafeInteger(max)) throw errInvalidArgType('max', 'a safe integer', max);
  if (max <= min) throw errOutOfRange('max', `greater than the value of "min" (${min})`, max);
  const range = max - min;
  if (!(range <= RAND_MAX)) throw errOutOfRange(`max${minNotSpecified ? '' : ' - min'}`, `<= ${RAND_MAX}`, range);
  // x % range is unbiased only for x below the largest multiple of range.
  const randLimit = RAND_MAX - (RAND_MAX % range);
  const bytes = new Uint8Array(6);
  let x;
  do {
    fillRandom(bytes);
    x = bytes[0] * 2 ** 40 + bytes[1] * 2 ** 32 + ((bytes[2] << 24) >>> 0) + (bytes[3] << 16) + (bytes[4] << 8) + bytes[5];
  } while (x >= randLimit);
  const n = (x % range) + min;
  if (isSync) return n;
  defer(callback, undefined, n);
  return undefined;
}

const hexByte = Array.from({ length: 256 }, (_, i) => (i < 16 ? '0' : '') + i.toString(16));

function randomUUID(options) {
  if (options !== undefined) validateObject(options, 'options');
  const disableEntropyCache = options === undefined || options.disableEntropyCache === undefined
    ? false : options.disableEntropyCache;
  if (typeof disableEntropyCache !== 'boolean') {
    throw errInvalidArgType('options.disableEntropyCache', 'of type boolean', disableEntropyCache);
  }
  const b = require('edgeport:random').bytes(16);
  b[6] = (b[6] & 0x0f) | 0x40; // version 4
  b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
  return hexByte[b[0]] + hexByte[b[1]] + hexByte[b[2]] + hexByte[b[3]] + '-' + hexByte[b[4]] + hexByte[b[5]] +
    '-' + hexByte[b[6]] + hexByte[b[7]] + '-' + hexByte[b[8]] + hexByte[b[9]] + '-' + hexByte[b[10]] +
    hexByte[b[11]] + hexByte[b[12]] + hexByte[b[13]] + hexByte[b[14]] + hexByte[b[15]];
}

// ---------------------------------------------------------------------------
// Web Crypto: getRandomValues, randomUUID and subtle.digest.

const integerArrayTags = new Set([
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'BigInt64Array', 'BigUint64Array',
]);

const subtleDigests = { 'sha-1': 'sha1', 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' };

class SubtleCrypto {
  digest(algorithm, data) {
    return new Promise((resolve) => {
      const name = typeof algorithm === 'string' ? algorithm : algorithm && algorithm.name;
      const digest = algorithms[subtleDigests[String(name).toLowerCase()]];
      if (digest === undefined) throw new DOMException('Unrecognized algorithm name', 'NotSupportedError');
      if (!isAnyArrayBuffer(data) && !ArrayBuffer.isView(data)) {
        throw errInvalidArgType('data', 'an instance of ArrayBuffer, Buffer, TypedArray, or DataView', data);
      }
      const state = new DigestState(digest);
      state.update(isAnyArrayBuffer(data) ? new Uint8Array(data) : bytesOf(data));
      const out = state.digest();
      resolve(out.buffer.slice(out.byteOffset, out.byteOffset + out.length));
    });
  }
}

for (const method of ['encrypt', 'decrypt', 'sign', 'verify', 'generateKey', 'deriveKey', 'deriveBits',
  'importKey', 'exportKey', 'wrapKey', 'unwrapKey']) {
  SubtleCrypto.prototype[method] = {
    [method]() { return Promise.reject(errUnsupported(`crypto.subtle.${method}()`)); },
  }[method];
}

class Crypto {
  get subtle() {
    return subtle;
  }

  getRandomValues(data) {
    if (this !== webcrypto) throw nodeError(TypeError, 'ERR_INVALID_THIS', 'Value of "this" must be of type Crypto');
    if (!ArrayBuffer.isView(data) || !integerArrayTags.has(data[Symbol.toStringTag])) {
      throw new DOMException('The data argument must be an integer-type TypedArray', 'TypeMismatchError');
    }
    if (data.byteLength > 65536) {
      throw new DOMException('The requested length exceeds 65,536 bytes', 'QuotaExceededError');
    }
    fillRandom(bytesOf(data));
    return data;
  }

  randomUUID() {
    return randomUUID();
  }
}

const subtle = new SubtleCrypto();
const webcrypto = new Crypto();

function getRandomValues(data) {
  return webcrypto.getRandomValues(data);
}

// ---------------------------------------------------------------------------
// What the engine does not do. The names exist so that feature probes and
// destructuring imports keep working; a call throws ERR_EDGEPORT_UNSUPPORTED.

function unsupported(name) {
  return {
    [name]() { throw errUnsupported(`crypto.${name}()`); },
  }[name];
}

const unsupportedFunctions = [
  'checkPrime', 'checkPrimeSync', 'createCipheriv', 'createDecipheriv', 'createDiffieHellman',
  'createDiffieHellmanGroup', 'createECDH', 'createPrivateKey', 'createPublicKey', 'createSign', 'createVerify',
  'diffieHellman', 'generateKey', 'generateKeyPair', 'generateKeyPairSync', 'generateKeySync', 'generatePrime',
  'generatePrimeSync', 'getCipherInfo', 'getDiffieHellman', 'hkdf', 'hkdfSync', 'pbkdf2', 'pbkdf2Sync',
  'privateDecrypt', 'privateEncrypt', 'publicDecrypt', 'publicEncrypt', 'scrypt', 'scryptSync', 'secureHeapUsed',
  'setEngine', 'setFips', 'sign', 'verify',
  'Certificate', 'Cipher', 'Cipheriv', 'Decipher', 'Decipheriv', 'DiffieHellman', 'DiffieHellmanGroup', 'ECDH',
  'Sign', 'Verify', 'X509Certificate',
];

module.exports = {
  createHash,
  createHmac,
  hash,
  getHashes,
  Hash,
  Hmac,
  timingSafeEqual,
  randomBytes,
  randomFill,
  randomFillSync,
  randomInt,
  randomUUID,
  getRandomValues,
  createSecretKey,
  KeyObject,
  webcrypto,
  subtle,
  // Nothing to list: the engine has no ciphers or curves, and no FIPS mode.
  getCiphers: () => [],
  getCurves: () => [],
  getFips: () => 0,
  constants: {},
};
for (const name of unsupportedFunctions) module.exports[name] = unsupported(name);
