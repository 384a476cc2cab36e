'use strict';
// Cases for js/node/string_decoder.js: every encoding fed whole, byte by
// byte and in every two-way split, so that characters cut anywhere (and
// invalid sequences) decode as node decodes them; plus end(), text(), the
// lastChar/lastNeed/lastTotal state and the errors.

module.exports = (add, q) => {
  const encodings = ['utf8', 'utf16le', 'base64', 'base64url', 'hex', 'latin1', 'ascii'];
  const byteArrays = [
    [], [0x61], [0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80], [0x61, 0xf0, 0x9f, 0x98, 0x80, 0x62],
    [0xe6, 0x97, 0xa5, 0xe6, 0x9c, 0xac, 0xe8, 0xaa, 0x9e], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc3, 0x41],
    [0xe2, 0x41, 0x42], [0xf0, 0x9f, 0x41], [0x80, 0x80], [0xff, 0xfe, 0xfd], [0xc0, 0xaf], [0xed, 0xa0, 0x80],
    [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x3d, 0xd8, 0x00, 0xde], [0x3d, 0xd8, 0x41, 0x00],
    [0x00, 0xdc, 0x41, 0x00], [0x41, 0x00, 0x42], [0x01, 0x02, 0x03, 0x04, 0x05], [0x80, 0xc3, 0xa9, 0xe2, 0x82],
    [0xc3, 0xa9, 0xc3, 0xa9, 0xc3, 0xa9, 0xc3], [0xe2, 0x82, 0xac, 0x80, 0x80, 0x80, 0x80],
  ];
  for (const enc of encodings) {
    for (const bytes of byteArrays) {
      const b = `new Uint8Array(${q(bytes)})`;
      // Whole, then end().
      add(`(m) => { const d = new m.StringDecoder(${q(enc)}); const b = ${b}; return [d.write(b), d.lastNeed, d.lastTotal, d.end()]; }`);
      // One byte at a time.
      add(`(m) => { const d = new m.StringDecoder(${q(enc)}); const out = []; for (const x of ${b}) out.push(d.write(new Uint8Array([x])), d.lastNeed); out.push(d.end()); return out; }`);
      // Every split into two chunks.
      add(`(m) => { const b = ${b}; const out = []; for (let i = 0; i <= b.length; i++) { const d = new m.StringDecoder(${q(enc)}); out.push(d.write(b.subarray(0, i)) + '|' + d.write(b.subarray(i)) + '|' + d.end()); } return out; }`);
      // Split, then end(buf) with the rest.
      add(`(m) => { const b = ${b}; const out = []; for (let i = 0; i <= b.length; i++) { const d = new m.StringDecoder(${q(enc)}); out.push(d.write(b.subarray(0, i)) + '|' + d.end(b.subarray(i))); } return out; }`);
    }
    add(`(m) => { const d = new m.StringDecoder(${q(enc)}); return [d.encoding, d.write('a string'), d.end()]; }`);
    add(`(m, require) => { const d = new m.StringDecoder(${q(enc)}); return d.write(require('buffer').Buffer.from('héllo wörld 😀 日本')) + d.end(); }`);
  }

  // Text split across chunks.
  const texts = ['héllo wörld', '€100 😀👍🏽', '日本語テキスト', 'plain ascii', 'a😀b😀c'];
  for (const text of texts) {
    for (const enc of ['utf8', 'utf16le', 'base64', 'hex']) {
      add(`(m, require) => { const b = require('buffer').Buffer.from(${q(text)}, ${q(enc === 'utf16le' ? 'utf16le' : 'utf8')}); const d = new m.StringDecoder(${q(enc)}); let s = ''; for (let i = 0; i < b.length; i += 3) s += d.write(b.subarray(i, i + 3)); return s + d.end(); }`);
    }
  }

  const others = [
    `(m) => ['utf8', 'UTF-8', 'utf-8', 'ucs2', 'UCS-2', 'utf-16le', 'binary', 'BASE64', 'Hex', undefined, null].map((e) => new m.StringDecoder(e).encoding)`,
    `(m) => new m.StringDecoder().encoding`,
    `(m) => new m.StringDecoder('').encoding`,
    `(m) => new m.StringDecoder('utf9')`,
    `(m) => new m.StringDecoder('constructor')`,
    `(m) => new m.StringDecoder(5)`,
    `(m) => new m.StringDecoder('utf8').write(5)`,
    `(m) => new m.StringDecoder('utf8').write(null)`,
    `(m) => new m.StringDecoder('utf8').write([0x61])`,
    `(m) => new m.StringDecoder('utf8').write(new ArrayBuffer(2))`,
    `(m) => new m.StringDecoder('utf8').write()`,
    `(m) => new m.StringDecoder('utf8').end()`,
    `(m) => new m.StringDecoder('utf8').end(5)`,
    `(m) => m.StringDecoder.prototype.write.call({}, new Uint8Array(1))`,
    `(m) => new m.StringDecoder('utf8').write(new DataView(new Uint8Array([0x61, 0xc3, 0xa9]).buffer, 1))`,
    `(m) => new m.StringDecoder('utf16le').write(new Uint16Array([0x61, 0x20ac]))`,
    `(m) => { const d = new m.StringDecoder('utf8'); d.write(new Uint8Array([0xe2, 0x82])); return [d.lastChar, d.lastNeed, d.lastTotal]; }`,
    `(m) => { const d = new m.StringDecoder('utf8'); d.write(new Uint8Array([0xf0])); return [d.lastChar.length, d.lastNeed, d.lastTotal]; }`,
    `(m) => { const d = new m.StringDecoder('base64'); d.write(new Uint8Array([1, 2, 3, 4])); return [d.lastNeed, d.lastTotal, d.end(), d.lastNeed]; }`,
    `(m) => { const d = new m.StringDecoder('utf8'); d.write(new Uint8Array([0xe2, 0x82])); return [d.text(new Uint8Array([0x61, 0x62, 0xc3, 0xa9]), 1), d.end()]; }`,
    `(m, require) => { const d = new m.StringDecoder('utf8'); return d.text(require('buffer').Buffer.from('héllo'), 2); }`,
    `(m) => { const d = new m.StringDecoder('utf8'); d.write(new Uint8Array([0xe2])); d.end(); return [d.write(new Uint8Array([0x82, 0xac])), d.end()]; }`,
    `(m) => { const d = new m.StringDecoder('utf8'); return [d.write(new Uint8Array(0)), d.write(new Uint8Array([0xe2])), d.write(new Uint8Array(0)), d.write(new Uint8Array([0x82])), d.write(new Uint8Array([0xac]))]; }`,
    `(m) => { const d = new m.StringDecoder('utf16le'); return [d.write(new Uint8Array([0x3d])), d.write(new Uint8Array([0xd8])), d.write(new Uint8Array([0x00])), d.write(new Uint8Array([0xde])), d.end()]; }`,
    `(m) => { const d = new m.StringDecoder('utf16le'); return [d.write(new Uint8Array([0x3d, 0xd8])), d.end()]; }`,
    `(m) => { const d = new m.StringDecoder('utf16le'); return [d.write(new Uint8Array([0x3d, 0xd8, 0x00])), d.end()]; }`,
    `(m) => { const d = new m.StringDecoder('base64url'); return [d.write(new Uint8Array([0xfb, 0xff])), d.end()]; }`,
    `(m) => Object.keys(new m.StringDecoder('utf8'))`,
    `(m) => [typeof m.StringDecoder, m.StringDecoder.name]`,
  ];
  for (const source of others) add(source);
};
