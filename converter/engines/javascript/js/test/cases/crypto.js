'use strict';
// Cases for js/node/crypto.js: known-answer digests and HMACs (node computes
// the expected values), every error path, and the shape of random values
// (the engine's random bytes are seeded, so only lengths, types and formats
// can agree with node).

module.exports = (add, q) => {
  const algorithms = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'sha512-224', 'sha512-256'];

  // Lengths around every padding boundary of 64- and 128-byte blocks.
  const lengths = [0, 1, 3, 55, 56, 57, 63, 64, 65, 111, 112, 113, 119, 120, 127, 128, 129, 191, 192, 255, 256, 1000];
  for (const alg of algorithms) {
    for (const n of lengths) {
      add(`(m) => m.createHash(${q(alg)}).update('a'.repeat(${n})).digest('hex')`);
    }
    add(`(m) => m.createHash(${q(alg)}).update('abc').digest()`);
    add(`(m) => ['hex', 'base64', 'base64url', 'latin1', 'binary', 'HEX', 'Base64'].map((e) => m.createHash(${q(alg)}).update('abc').digest(e))`);
    add(`(m) => m.createHash(${q(alg)}).update('The quick brown fox jumps over the lazy dog').digest('hex')`);
    add(`(m) => m.createHash(${q(alg)}).update('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq').digest('hex')`);
    // A megabyte in one update, and the same bytes fed in uneven pieces.
    add(`(m) => m.createHash(${q(alg)}).update(new Uint8Array(1 << 20).map((_, i) => (i * 31 + (i >> 8)) & 255)).digest('hex')`);
    add(`(m) => { const data = new Uint8Array(5000).map((_, i) => (i * 7) & 255); const h = m.createHash(${q(alg)}); for (let i = 0, step = 1; i < data.length; i += step, step = (step * 3 + 1) % 200) h.update(data.subarray(i, i + step)); return h.digest('hex'); }`);
    // Unicode text is hashed as UTF-8, lone surrogates as U+FFFD.
    add(`(m) => ['héllo wörld', '€100', '😀', '日本語', '\\ud800', 'a\\udc00b'].map((s) => m.createHash(${q(alg)}).update(s).digest('hex'))`);
    add(`(m) => { const h = m.createHash(${q(alg)}).update('abc'); const c = h.copy(); c.update('def'); return [h.digest('hex'), c.digest('hex'), m.createHash(${q(alg)}).update('abcdef').digest('hex')]; }`);
    add(`(m) => m.createHmac(${q(alg)}, 'key').update('The quick brown fox jumps over the lazy dog').digest('hex')`);
    add(`(m) => [0, 1, 63, 64, 65, 127, 128, 129, 300].map((n) => m.createHmac(${q(alg)}, 'k'.repeat(n)).update('data').digest('base64'))`);
    add(`(m) => m.createHmac(${q(alg)}, 'key').digest()`);
  }

  // RFC 4231 (HMAC-SHA-2) test cases 1-7; case 5's output is truncated there, not here.
  const rfc4231 = [
    ['0b'.repeat(20), '4869205468657265'],
    ['4a656665', '7768617420646f2079612077616e7420666f72206e6f7468696e673f'],
    ['aa'.repeat(20), 'dd'.repeat(50)],
    ['0102030405060708090a0b0c0d0e0f10111213141516171819', 'cd'.repeat(50)],
    ['0c'.repeat(20), '546573742057697468205472756e636174696f6e'],
    ['aa'.repeat(131), '54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579204669727374'],
    ['aa'.repeat(131), Buffer.from('This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.').toString('hex')],
  ];
  for (const [key, data] of rfc4231) {
    for (const alg of ['sha224', 'sha256', 'sha384', 'sha512']) {
      add(`(m, require) => { const { Buffer } = require('buffer'); return m.createHmac(${q(alg)}, Buffer.from(${q(key)}, 'hex')).update(Buffer.from(${q(data)}, 'hex')).digest('hex'); }`);
    }
  }
  // RFC 2202 (HMAC-MD5 and HMAC-SHA-1) test cases 1-7.
  const rfc2202 = [
    ['0b'.repeat(16), 'Hi There'], ['4a656665', 'what do ya want for nothing?'], ['aa'.repeat(16), null],
    ['0102030405060708090a0b0c0d0e0f10111213141516171819', null], ['0c'.repeat(16), 'Test With Truncation'],
    ['aa'.repeat(80), 'Test Using Larger Than Block-Size Key - Hash Key First'],
    ['aa'.repeat(80), 'Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data'],
  ];
  for (const [key, text] of rfc2202) {
    for (const alg of ['md5', 'sha1']) {
      const data = text === null ? `new Uint8Array(50).fill(${key.startsWith('aa') ? 0xdd : 0xcd})` : q(text);
      const keyHex = alg === 'sha1' && key.length === 32 ? key + key.slice(0, 8) : key;
      add(`(m, require) => m.createHmac(${q(alg)}, require('buffer').Buffer.from(${q(keyHex)}, 'hex')).update(${data}).digest('hex')`);
    }
  }

  // Inputs of every kind, and input encodings.
  const inputs = [
    `m.createHash('md5').update('abc').digest('hex')`,
    `m.createHash('sha256').update(require('buffer').Buffer.from('abc')).digest('hex')`,
    `m.createHash('sha256').update(new Uint8Array([97, 98, 99])).digest('hex')`,
    `m.createHash('sha256').update(new Uint16Array([0x6261, 0x63])).digest('hex')`,
    `m.createHash('sha256').update(new Float64Array([1.5])).digest('hex')`,
    `m.createHash('sha256').update(new DataView(new Uint8Array([0, 97, 98, 99, 0]).buffer, 1, 3)).digest('hex')`,
    `m.createHash('sha256').update(new Uint8Array([0, 97, 98, 99, 0]).subarray(1, 4)).digest('hex')`,
    `m.createHash('sha256').update('616263', 'hex').digest('hex')`,
    `m.createHash('sha256').update('616263', 'HEX').digest('hex')`,
    `m.createHash('sha256').update('abcg', 'hex').digest('hex')`,
    `m.createHash('sha256').update('zz', 'hex').digest('hex')`,
    `m.createHash('sha256').update('YWJj', 'base64').digest('hex')`,
    `m.createHash('sha256').update('YWJj', 'base64url').digest('hex')`,
    `m.createHash('sha256').update('abc', 'utf16le').digest('hex')`,
    `m.createHash('sha256').update('é', 'latin1').digest('hex')`,
    `m.createHash('sha256').update('é', 'binary').digest('hex')`,
    `m.createHash('sha256').update('é', 'ascii').digest('hex')`,
    `m.createHash('sha256').update('é', 'utf8').digest('hex')`,
    `m.createHash('sha256').update('é', 'buffer').digest('hex')`,
    `m.createHash('sha256').update('é', 'nope').digest('hex')`,
    `m.createHash('sha256').update('é', null).digest('hex')`,
    `m.createHash('sha256').update('a').update('b').update('').update('c').digest('hex')`,
    `m.createHmac('sha256', 'key').update('a').update(new Uint8Array([98])).update('63', 'hex').digest('hex')`,
  ];
  for (const source of inputs) add(`(m, require) => ${source}`);

  // Output encodings, including ones node hands to Buffer#toString and unknown ones (a Buffer).
  for (const enc of ['hex', 'base64', 'base64url', 'latin1', 'binary', 'utf8', 'utf-8', 'ascii', 'ucs2', 'utf16le', 'buffer', 'nope', '', null, 5, undefined]) {
    add(`(m) => m.createHash('sha256').update('abc').digest(${enc === undefined ? 'undefined' : q(enc)})`);
    add(`(m) => m.createHmac('sha256', 'k').update('abc').digest(${enc === undefined ? 'undefined' : q(enc)})`);
  }

  // Algorithm names: case, aliases and OIDs.
  const names = [
    'SHA256', 'Sha-256', 'sha-256', 'sha2-256', 'RSA-SHA256', 'rsa-sha256', 'sha256WithRSAEncryption', 'SHA256WITHRSAENCRYPTION',
    'MD5', 'RSA-MD5', 'ssl3-md5', 'SSL3-MD5', 'md5WithRSAEncryption', 'SHA1', 'sha-1', 'RSA-SHA1', 'RSA-SHA1-2', 'ssl3-sha1',
    'sha1WithRSAEncryption', 'sha-224', 'sha2-224', 'RSA-SHA224', 'sha224WithRSAEncryption', 'sha-384', 'sha2-384',
    'RSA-SHA384', 'sha384WithRSAEncryption', 'SHA-512', 'sha2-512', 'RSA-SHA512', 'sha512WithRSAEncryption',
    'sha-512/224', 'SHA512-224', 'sha2-512/224', 'RSA-SHA512/224', 'sha512-224WithRSAEncryption', 'sha-512/256',
    'sha2-512/256', 'RSA-SHA512/256', 'sha512-256WithRSAEncryption', '1.2.840.113549.2.5', '1.3.14.3.2.26',
    '2.16.840.1.101.3.4.2.1', '2.16.840.1.101.3.4.2.2', '2.16.840.1.101.3.4.2.3', '2.16.840.1.101.3.4.2.4',
    '2.16.840.1.101.3.4.2.5', '2.16.840.1.101.3.4.2.6',
  ];
  for (const name of names) {
    add(`(m) => [m.createHash(${q(name)}).update('abc').digest('hex'), m.createHmac(${q(name)}, 'k').update('abc').digest('hex')]`);
  }
  for (const name of ['nope', '', 'sha256 ', 'sha 256', 'sha512/256', 'SHA', 'sha', 'sha256WithRSA', 'constructor', '__proto__', 'toString']) {
    add(`(m) => m.createHash(${q(name)})`);
    add(`(m) => m.createHmac(${q(name)}, 'key')`);
    add(`(m) => m.hash(${q(name)}, 'abc')`);
  }
  add(`(m) => ${q(['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'sha512-224', 'sha512-256', 'RSA-SHA256', 'sha256WithRSAEncryption', 'ssl3-md5'])}.map((h) => m.getHashes().includes(h))`);
  add(`(m) => m.getHashes().every((h) => typeof h === 'string' && m.getHashes().includes(h))`);

  // crypto.hash, the one-shot digest.
  const oneShot = [
    `m.hash('sha1', 'abc')`, `m.hash('SHA-256', 'abc')`, `m.hash('md5', '')`, `m.hash('sha512', 'é')`,
    `m.hash('sha1', 'abc', 'base64')`, `m.hash('sha1', 'abc', 'buffer')`, `m.hash('sha1', 'abc', 'BUFFER')`,
    `m.hash('sha1', 'abc', 'latin1')`, `m.hash('sha1', 'abc', 'Base64url')`, `m.hash('sha256', new Uint8Array([1, 2, 3]))`,
    `m.hash('sha256', new DataView(new ArrayBuffer(4)))`, `m.hash('sha1', 'abc', 'nope')`, `m.hash('sha1', 'abc', 5)`,
    `m.hash('sha1', 'abc', null)`, `m.hash('sha1', 5)`, `m.hash('sha1')`, `m.hash('sha1', new ArrayBuffer(2))`,
    `m.hash(5, 'abc')`, `m.hash('sha1', 'abc', undefined)`,
  ];
  for (const source of oneShot) add(`(m) => ${source}`);

  // Hash and Hmac objects.
  const objects = [
    `(m) => { const h = m.createHash('sha256'); return [h instanceof m.Hash, typeof m.Hash, m.Hash.name, h.constructor === m.Hash, typeof h.update, typeof h.digest, typeof h.copy]; }`,
    `(m) => { const h = m.createHmac('sha256', 'k'); return [h instanceof m.Hmac, typeof m.Hmac, m.Hmac.name, h.constructor === m.Hmac, typeof h.copy]; }`,
    `(m) => m.Hash('md5').update('abc').digest('hex')`,
    `(m) => new m.Hash('md5').update('abc').digest('hex')`,
    `(m) => m.Hmac('md5', 'k').update('abc').digest('hex')`,
    `(m) => { const h = m.createHash('sha256'); return h.update('a') === h; }`,
    `(m) => { const h = m.createHmac('sha256', 'k'); return h.update('a') === h; }`,
    `(m) => { const h = m.createHash('sha256').update('abc'); const c = h.copy(); return [h.digest('hex'), c.digest('hex')]; }`,
    `(m) => { const h = m.createHash('sha512'); h.update('x'.repeat(100)); const c = h.copy(); h.update('y'.repeat(100)); c.update('z'); return [h.digest('hex'), c.digest('base64')]; }`,
    `(m) => { const h = m.createHash('sha1'); h.copy().update('abc').digest(); return h.digest('hex'); }`,
    `(m) => { const h = m.createHash('md5'); h.digest(); return h.digest('hex'); }`,
    `(m) => { const h = m.createHash('md5'); h.digest(); return h.update('x'); }`,
    `(m) => { const h = m.createHash('md5'); h.digest(); return h.copy(); }`,
    `(m) => { try { const h = m.createHash('md5'); h.digest(); h.digest(); } catch (e) { return [e.name, e.message, e.code, String(e), e instanceof Error]; } }`,
    `(m) => { const h = m.createHmac('md5', 'k'); h.digest(); return [h.digest('hex'), h.digest('base64'), h.digest(), h.digest('buffer')]; }`,
    `(m) => { const h = m.createHmac('md5', 'k'); h.digest(); return h.digest('nope'); }`,
    `(m) => { const h = m.createHmac('md5', 'k'); h.digest(); return h.update('x'); }`,
    `(m) => { const h = m.createHmac('md5', 'k'); h.update('x'); return [h.digest('hex'), h.digest('hex')]; }`,
  ];
  for (const source of objects) add(source);

  // Argument errors.
  const errors = [
    `m.createHash()`, `m.createHash(5)`, `m.createHash(null)`, `m.createHash({})`, `m.createHash(['sha256'])`,
    `m.createHash('sha256').update()`, `m.createHash('sha256').update(5)`, `m.createHash('sha256').update(null)`,
    `m.createHash('sha256').update({})`, `m.createHash('sha256').update([1, 2])`, `m.createHash('sha256').update(new ArrayBuffer(3))`,
    `m.createHash('sha256').update(true)`, `m.createHash('sha256').update(1n)`, `m.createHash('sha256').update(Symbol('s'))`,
    `m.createHash('sha256').update(() => 1)`, `typeof m.createHash('sha256').update('x'.repeat(40))`,
    `m.createHash('sha256').update('abc', 'hex')`, `m.createHash('sha256').update('abc', 'HEX')`,
    `m.createHmac('sha256')`, `m.createHmac('sha256', 5)`, `m.createHmac('sha256', null)`, `m.createHmac('sha256', {})`,
    `m.createHmac('sha256', [1])`, `m.createHmac(5, 'k')`, `m.createHmac(undefined, 'k')`, `m.createHmac('nope', 5)`,
    `m.createHmac('sha256', 'k').update(5)`, `m.createHmac('sha256', 'k', { encoding: 5 })`,
    `m.createHmac('sha256', 'k', { encoding: 'nope' })`,
  ];
  for (const source of errors) add(`(m) => ${source}`);

  // HMAC keys of every kind.
  const keys = [
    `''`, `'key'`, `'k\u00e9y'`, `'\ud83d'`, `new Uint8Array([1, 2, 3])`, `new Uint8Array(200).fill(7)`, `new ArrayBuffer(5)`,
    `new DataView(new Uint8Array([9, 8, 7]).buffer)`, `new Uint32Array([1, 2])`, `require('buffer').Buffer.from('key')`,
    `m.createSecretKey(require('buffer').Buffer.from('key'))`,
  ];
  for (const key of keys) add(`(m, require) => m.createHmac('sha256', ${key}).update('msg').digest('hex')`);
  add(`(m) => m.createHmac('sha256', '6b6579', { encoding: 'hex' }).update('msg').digest('hex')`);
  add(`(m) => m.createHmac('sha256', 'a2V5', { encoding: 'base64' }).update('msg').digest('hex')`);
  add(`(m) => m.createHmac('sha256', 'key', { encoding: 'buffer' }).update('msg').digest('hex')`);
  add(`(m) => m.createHmac('sha256', 'key', null).update('msg').digest('hex')`);

  // Secret keys.
  const secretKeys = [
    `(m) => { const k = m.createSecretKey(new Uint8Array([1, 2, 3])); return [k.type, k.symmetricKeySize, k.export(), k.export({ format: 'buffer' }), k.export({ format: 'jwk' }), k instanceof m.KeyObject]; }`,
    `(m) => m.createSecretKey('abc', 'utf8').export()`,
    `(m) => m.createSecretKey('616263', 'hex').export()`,
    `(m) => m.createSecretKey(new ArrayBuffer(2)).symmetricKeySize`,
    `(m) => m.createSecretKey(5)`,
    `(m) => m.createSecretKey(null)`,
    `(m) => m.createSecretKey(new Uint8Array(1)).export({ format: 'pem' })`,
    `(m) => m.createSecretKey(new Uint8Array(1)).export(5)`,
    `(m) => { const a = m.createSecretKey(new Uint8Array([1, 2])); return [a.equals(m.createSecretKey(new Uint8Array([1, 2]))), a.equals(m.createSecretKey(new Uint8Array([1, 3]))), a.equals(m.createSecretKey(new Uint8Array([1])))]; }`,
    `(m) => { const b = new Uint8Array([1, 2]); const k = m.createSecretKey(b); b[0] = 9; return k.export(); }`,
  ];
  for (const source of secretKeys) add(source);

  // timingSafeEqual.
  const equal = [
    `m.timingSafeEqual(require('buffer').Buffer.from('abc'), require('buffer').Buffer.from('abc'))`,
    `m.timingSafeEqual(require('buffer').Buffer.from('abc'), require('buffer').Buffer.from('abd'))`,
    `m.timingSafeEqual(new Uint8Array(0), new Uint8Array(0))`,
    `m.timingSafeEqual(new Uint16Array([1]), new Uint8Array([1, 0]))`,
    `m.timingSafeEqual(new Float64Array([1]), new Uint8Array(8))`,
    `m.timingSafeEqual(new ArrayBuffer(2), new Uint8Array(2))`,
    `m.timingSafeEqual(new DataView(new ArrayBuffer(1)), new Uint8Array(1))`,
    `m.timingSafeEqual(new Uint8Array([1, 2, 3]).subarray(1), new Uint8Array([2, 3]))`,
    `m.timingSafeEqual('a', 'a')`,
    `m.timingSafeEqual(new Uint8Array(1), 'a')`,
    `m.timingSafeEqual(null, new Uint8Array(1))`,
    `m.timingSafeEqual([1], [1])`,
    `m.timingSafeEqual(new Uint8Array(1), new Uint8Array(2))`,
    `m.timingSafeEqual(new Uint16Array(1), new Uint8Array(1))`,
    `(() => { try { m.timingSafeEqual(new Uint8Array(1), new Uint8Array(2)); } catch (e) { return [String(e), e instanceof RangeError]; } })()`,
    `(() => { try { m.timingSafeEqual(1, new Uint8Array(2)); } catch (e) { return [String(e), e instanceof TypeError]; } })()`,
    `(() => { try { m.createHmac('nope', 'k'); } catch (e) { return [String(e), e instanceof TypeError]; } })()`,
  ];
  for (const source of equal) add(`(m, require) => ${source}`);

  // Random values: shapes and errors only.
  const uuid = '/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/';
  const random = [
    `[0, 1, 16, 1000].map((n) => m.randomBytes(n).length)`,
    `require('buffer').Buffer.isBuffer(m.randomBytes(4))`,
    `m.randomBytes(0)`,
    `m.randomBytes(1.5).length`,
    `m.randomBytes(-1)`, `m.randomBytes(NaN)`, `m.randomBytes(2 ** 31)`, `m.randomBytes(2 ** 32)`, `m.randomBytes(Infinity)`,
    `m.randomBytes('1')`, `m.randomBytes(null)`, `m.randomBytes()`, `m.randomBytes(2, 5)`, `m.randomBytes(2, null)`,
    `m.randomBytes('x', 5)`, `m.randomBytes(4, () => {})`,
    `m.randomBytes(64).some((b) => b !== 0)`,
    `[...new Set(Array.from({ length: 20 }, () => m.randomBytes(8).toString('hex')))].length`,
    `m.randomFillSync(new Uint8Array(4)).length`,
    `(() => { const a = new Uint8Array(4); return m.randomFillSync(a) === a; })()`,
    `m.randomFillSync(new ArrayBuffer(4)).byteLength`,
    `(() => { const a = new Uint8Array(6); m.randomFillSync(a, 2, 2); return [a[0], a[1], a[4], a[5]]; })()`,
    `(() => { const a = new Uint8Array(6); m.randomFillSync(a, 6); return a; })()`,
    `(() => { const a = new Uint32Array(4); m.randomFillSync(a, 1, 2); return [a[0], a[3]]; })()`,
    `(() => { const a = new Uint8Array(4); m.randomFillSync(a, 1.5); return a[0]; })()`,
    `(() => { const a = new Uint8Array(4); m.randomFillSync(a, 4, 0); return a; })()`,
    `m.randomFillSync(new Uint8Array(4), 5)`, `m.randomFillSync(new Uint8Array(4), -1)`, `m.randomFillSync(new Uint8Array(4), 1, 5)`,
    `m.randomFillSync(new Uint8Array(4), '1')`, `m.randomFillSync(new Uint8Array(4), 0, -1)`, `m.randomFillSync(new Uint8Array(4), NaN)`,
    `m.randomFillSync(new Uint32Array(4), 5)`, `m.randomFillSync(new Uint32Array(4), 2, 3)`, `m.randomFillSync([1, 2])`,
    `m.randomFillSync('abc')`, `m.randomFillSync()`,
    `m.randomFill(new Uint8Array(2), () => {})`, `m.randomFill(new Uint8Array(2))`, `m.randomFill(new Uint8Array(2), 5)`,
    `m.randomFill(new Uint8Array(2), 3, () => {})`, `m.randomFill([1], () => {})`,
    `typeof m.randomInt(10)`, `typeof m.randomInt(-5, 5)`,
    `Array.from({ length: 200 }, () => m.randomInt(3)).every((n) => Number.isInteger(n) && n >= 0 && n < 3)`,
    `Array.from({ length: 200 }, () => m.randomInt(-2, 2)).every((n) => n >= -2 && n < 2)`,
    `Array.from({ length: 50 }, () => m.randomInt(2 ** 48 - 1)).every((n) => Number.isSafeInteger(n) && n >= 0)`,
    `Array.from({ length: 50 }, () => m.randomInt(-(2 ** 47), 2 ** 47)).every((n) => n >= -(2 ** 47) && n < 2 ** 47)`,
    `m.randomInt(5, 6)`, `m.randomInt(1)`, `m.randomInt(0)`, `m.randomInt(5, 5)`, `m.randomInt(5, 3)`, `m.randomInt(-1)`,
    `m.randomInt(1.5)`, `m.randomInt('a')`, `m.randomInt(1, 'b')`, `m.randomInt(0.5, 3)`, `m.randomInt(2 ** 48)`,
    `m.randomInt(-(2 ** 47), 2 ** 47 + 1)`, `m.randomInt(Number.MAX_SAFE_INTEGER + 1)`, `m.randomInt(0, Number.MAX_SAFE_INTEGER)`,
    `m.randomInt(1, 2, 3)`, `m.randomInt(3, () => {})`, `m.randomInt(1, 3, () => {})`, `m.randomInt()`, `m.randomInt(NaN)`,
    `new RegExp(${q(uuid.slice(1, -1))}).test(m.randomUUID())`,
    `m.randomUUID().length`,
    `m.randomUUID() !== m.randomUUID()`,
    `new RegExp(${q(uuid.slice(1, -1))}).test(m.randomUUID({ disableEntropyCache: true }))`,
    `m.randomUUID({}).length`, `m.randomUUID(5)`, `m.randomUUID(null)`, `m.randomUUID([])`, `m.randomUUID('x')`,
    `m.randomUUID({ disableEntropyCache: 5 })`, `m.randomUUID({ disableEntropyCache: null })`,
    `Array.from({ length: 100 }, () => m.randomUUID()).every((u) => ${uuid}.test(u))`,
    `[m.getRandomValues(new Uint8Array(4)).length, m.getRandomValues(new Uint32Array(4)).length, m.getRandomValues(new BigInt64Array(2)).length, m.getRandomValues(new Uint8ClampedArray(3)).length, m.getRandomValues(new Int16Array(65536 / 2)).length]`,
    `(() => { const a = new Uint8Array(4); return m.getRandomValues(a) === a; })()`,
    `m.getRandomValues(new Uint8Array(0))`,
    `m.getRandomValues(new Float32Array(4))`, `m.getRandomValues(new Float64Array(1))`, `m.getRandomValues(new Uint8Array(65537))`,
    `m.getRandomValues([1])`, `m.getRandomValues()`, `m.getRandomValues(new DataView(new ArrayBuffer(2)))`,
    `m.getRandomValues(new ArrayBuffer(2))`,
    `(() => { try { m.getRandomValues(new Float32Array(1)); } catch (e) { return [e.name, e.message, e.code, e instanceof Error]; } })()`,
    `(() => { const g = m.getRandomValues; return g(new Uint8Array(2)).length; })()`,
    `(() => { const g = m.webcrypto.getRandomValues; return g(new Uint8Array(2)); })()`,
    `m.webcrypto.getRandomValues(new Uint16Array(3)).length`,
    `m.webcrypto.getRandomValues(new Float32Array(3))`,
    `${uuid}.test(m.webcrypto.randomUUID())`,
    `[typeof m.webcrypto, typeof m.webcrypto.subtle, m.subtle === m.webcrypto.subtle, typeof m.subtle.digest, typeof m.subtle.sign, typeof m.subtle.importKey]`,
  ];
  for (const source of random) add(`(m, require) => ${source}`);

  // The module's surface: what exists is a function, whether or not the engine implements it.
  const functions = [
    'createHash', 'createHmac', 'hash', 'getHashes', 'timingSafeEqual', 'randomBytes', 'randomFill', 'randomFillSync',
    'randomInt', 'randomUUID', 'getRandomValues', 'createSecretKey', 'getCiphers', 'getCurves', 'getFips',
    'createSign', 'createVerify', 'createCipheriv', 'createDecipheriv', 'pbkdf2', 'pbkdf2Sync', 'scrypt', 'scryptSync',
    'hkdf', 'hkdfSync', 'generateKeyPair', 'generateKeyPairSync', 'generateKey', 'generateKeySync', 'createPrivateKey',
    'createPublicKey', 'createECDH', 'createDiffieHellman', 'getDiffieHellman', 'publicEncrypt', 'privateDecrypt',
    'privateEncrypt', 'publicDecrypt', 'sign', 'verify', 'checkPrime', 'checkPrimeSync', 'generatePrime',
    'generatePrimeSync', 'diffieHellman', 'getCipherInfo', 'setEngine', 'setFips', 'secureHeapUsed',
    'Hash', 'Hmac', 'KeyObject', 'Sign', 'Verify', 'Cipher', 'Cipheriv', 'Decipher', 'Decipheriv', 'DiffieHellman',
    'DiffieHellmanGroup', 'ECDH', 'X509Certificate', 'Certificate',
  ];
  add(`(m) => ${q(functions)}.map((name) => name + ':' + typeof m[name])`);
  add(`(m) => [typeof m.webcrypto, typeof m.subtle, typeof m.constants, Array.isArray(m.getCiphers()), Array.isArray(m.getCurves())]`);
};
