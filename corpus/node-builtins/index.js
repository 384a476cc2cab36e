'use strict';

// A debugging endpoint someone left enabled: it echoes how the edge decodes
// things. It doubles as edgeport's probe of Buffer and querystring: the body
// is JSON of many results over awkward inputs, so the converted function only
// matches node if the engine's built-ins do.
// Trigger: viewer-request
const querystring = require('querystring');
const { Buffer: BufferFromModule } = require('buffer');

const hex = (buf) => buf.toString('hex');

// Runs `fn`, reporting a thrown error by name and message instead.
function attempt(fn) {
  try {
    return fn();
  } catch (err) {
    return { error: err.name, code: err.code, message: err.message };
  }
}

const strings = ['', 'plain ascii', 'café', '€ and 😀', 'x\ud800y', '\udc00', 'Grüße, 日本'];
const encodings = ['utf8', 'base64', 'base64url', 'hex', 'latin1', 'binary', 'ascii', 'utf16le', 'ucs2'];
const brokenUtf8 = [
  [0xff, 0x41], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80],
];
const looseBase64 = ['aGVsbG8', 'aGVs bG8=', 'aGVs\nbG8=', '-_-_', 'a', 'aGVs=bG8', '!!!aGk=', 'Łaaa'];
const queries = [
  'a=1&b=2&a=3', 'a+b=c+d', 'x=%zz&y=%E0%A4%A', 'k=%', 'empty=&=v&&', 'a[]=1&a[]=2',
  '__proto__=polluted&constructor=x', 'q=caf%C3%A9', 'bad=%C3', 'utf=%F0%9F%98%80',
];

function probe(request) {
  const results = {};

  results.roundTrips = strings.map((s) => encodings.map((enc) => {
    const buf = Buffer.from(s, enc);
    return [hex(buf), buf.toString(enc), Buffer.byteLength(s, enc)];
  }));
  results.brokenUtf8 = brokenUtf8.map((bytes) => Buffer.from(bytes).toString());
  results.looseBase64 = looseBase64.map((s) => [hex(Buffer.from(s, 'base64')), Buffer.from(s, 'base64url').toString('latin1')]);
  results.looseHex = ['abzz', 'abc', 'ABCDEF', 'g0'].map((s) => hex(Buffer.from(s, 'hex')));

  const buf = Buffer.from('hello, world: hello!');
  const view = buf.slice(7, 12);
  view[0] = 0x57; // slices share memory
  results.slicing = [buf.toString(), view.toString(), buf.subarray(-6).toString(), Buffer.isBuffer(view)];
  results.searching = [buf.indexOf('hello'), buf.lastIndexOf('hello'), buf.indexOf('o', 5), buf.includes('World'), buf.indexOf(Buffer.from('!')), buf.indexOf(0x6c)];
  results.concat = hex(Buffer.concat([Buffer.from('ab'), new Uint8Array([0, 255]), Buffer.alloc(2, 'z')], 7));
  results.compare = [Buffer.compare(Buffer.from('a'), Buffer.from('b')), Buffer.from('abc').equals(Buffer.from('abc')), Buffer.from('b').compare(Buffer.from('a'))];
  results.json = JSON.parse(JSON.stringify({ b: Buffer.from([1, 2, 250]) }));
  const ints = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x01, 0x80]);
  results.integers = [ints.readUInt8(0), ints.readUInt16BE(0), ints.readUInt16LE(0), ints.readUInt32BE(0), ints.readUInt32LE(2), ints.readInt32BE(0)];
  const target = Buffer.alloc(10);
  results.write = [target.write('héllo', 1), target.write('ff00', 7, 'hex'), hex(target)];
  results.fromModule = BufferFromModule === Buffer;
  results.legacyConstructor = hex(new Buffer('legacy'));

  results.errors = [
    attempt(() => Buffer.from('x', 'utf-7')),
    attempt(() => Buffer.from('abc').toString('bogus')),
    attempt(() => Buffer.alloc(2).readUInt32LE(0)),
    attempt(() => Buffer.from(42)),
    attempt(() => querystring.escape('\ud800')),
  ];
  results.encodings = ['UTF8', 'Base64', 'hex', 'utf-16le', 'utf16', 'binary', ''].map((e) => Buffer.isEncoding(e));

  results.parsed = queries.map((q) => {
    const parsed = querystring.parse(q);
    return [Object.getPrototypeOf(parsed) === null, Object.keys(parsed), parsed, querystring.stringify(parsed)];
  });
  results.parseOptions = [
    querystring.parse('a:1;b:2;c:3', ';', ':', { maxKeys: 2 }),
    querystring.parse('a=%41', null, null, { decodeURIComponent: (s) => s.toLowerCase() }),
  ];
  results.stringified = [
    querystring.stringify({ s: 'a b&c', n: 1.5, inf: Infinity, t: true, arr: ['x', 'y'], empty: [], obj: { x: 1 }, nul: null, u: undefined }),
    querystring.stringify({ a: 'b' }, ';', ':'),
    querystring.stringify({ 'ключ': 'значение', emoji: '😀' }),
  ];
  results.escaping = [querystring.escape("a b!'()*~"), querystring.unescape('%41%zz%'), querystring.unescape('caf%C3%A9+au+lait'), querystring.unescape('%C3%28')];
  results.request = querystring.parse(request.querystring);

  return results;
}

exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  if (request.uri !== '/__debug/builtins') {
    return request;
  }
  return {
    status: '200',
    statusDescription: 'OK',
    headers: { 'content-type': [{ key: 'Content-Type', value: 'application/json' }] },
    body: JSON.stringify(probe(request)),
  };
};
