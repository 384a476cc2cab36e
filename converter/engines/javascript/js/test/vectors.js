'use strict';
// Differential test of the engine's Node built-ins against node itself.
//
//   node converter/engines/javascript/js/test/vectors.js
//
// Every case is a small function `(m) => value` given as source text. It runs
// twice: once in this realm with node's real module, and once in a bare V8
// context (no Buffer, require, TextEncoder/TextDecoder, atob or btoa — what
// QuickJS offers) with our module loaded through the same
// `(function (exports, require, module) {...})` wrapper the engine uses. The
// two outcomes, thrown errors included, must be identical. A case may return
// a promise (timers, fs callbacks): both sides are awaited, the engine side
// with the prelude's timer loop emulated (see settle()). fs cases read a
// fixture of bundled files (see bundledFiles).

const fs = require('fs');
const path = require('path');
const vm = require('vm');

const jsDir = path.join(__dirname, '..');

// One case calls the deprecated `Buffer()` on purpose.
process.noDeprecation = true;

// --- The engine-like realm -------------------------------------------------

function createEngineRealm() {
  const context = vm.createContext({});
  const cache = new Map();
  const load = (file) => {
    if (cache.has(file)) return cache.get(file).exports;
    const source = fs.readFileSync(file, 'utf8');
    const wrapper = vm.runInContext(`(function (exports, require, module) {${source}\n})`, context, { filename: file });
    const module = vm.runInContext('({ exports: {} })', context);
    cache.set(file, module);
    wrapper(module.exports, engineRequire, module);
    return module.exports;
  };
  // The engine resolves `require` of a built-in to js/node/<name>.js, `node:` prefix or not,
  // with '/' spelled '_' ('timers/promises' is timers_promises.js).
  const engineRequire = (name) => {
    const id = (name.startsWith('node:') ? name.slice(5) : name).replace(/\//g, '_');
    if (id === 'edgeport:determinism') return load(path.join(jsDir, 'determinism.js'));
    if (id === 'edgeport:errors') return load(path.join(jsDir, 'errors.js'));
    if (id === 'edgeport:random') return random;
    if (id === 'edgeport:files') return files;
    const file = path.join(jsDir, 'node', `${id}.js`);
    if (/^[a-z_]+$/.test(id) && fs.existsSync(file)) return load(file);
    throw new Error(`the engine has no module '${name}'`);
  };
  // The engine's per-invocation random bytes (crypto.randomBytes and friends),
  // here from a fixed seed: node's values differ, so random cases compare shapes.
  const draw = load(path.join(jsDir, 'determinism.js')).createRandom(1);
  const EngineUint8Array = vm.runInContext('Uint8Array', context);
  const random = {
    bytes: (n) => {
      const bytes = new EngineUint8Array(n);
      for (let i = 0; i < n; i++) bytes[i] = Math.floor(draw() * 256);
      return bytes;
    },
  };
  // The engine's `edgeport:files`: the function's bundled files, here the fixture.
  const files = vm.runInContext(`(function (table) {
    const paths = Object.keys(table).sort();
    return {
      read: (p) => (Object.prototype.hasOwnProperty.call(table, p) ? new Uint8Array(table[p]) : undefined),
      list: () => paths.slice(),
    };
  })`, context)(Object.fromEntries(Object.entries(bundledFiles).map(([p, text]) => [p, Array.from(Buffer.from(text))])));
  const modules = { determinism: load(path.join(jsDir, 'determinism.js')) };
  for (const module of Object.keys(cases)) {
    if (module !== 'determinism') modules[module] = engineRequire(module);
  }
  return {
    context,
    modules,
    require: engineRequire,
    compile: (source) => vm.runInContext(`(${source})`, context),
    // What the prelude does whenever the job queue is empty: run the next timer.
    runNextTimer: () => engineRequire('timers').__runNext(),
  };
}

// --- fs fixture -----------------------------------------------------------------
//
// The files bundled with the function. The engine realm reads them through
// `edgeport:files`; node reads the same files, written to a temporary
// directory, with its real fs (see nodeFs below).

const bundledFiles = {
  '/var/task/index.js': 'exports.handler = async () => ({ status: 200 });\n',
  '/var/task/config.json': '{"origin":"example.com","ttl":300,"paths":["/a","/b"]}',
  '/var/task/data/a.txt': 'hello from a\n',
  '/var/task/data/b.bin': '\u00ff\u00fe\u0000\u0001',
  '/var/task/data/nested/deep.txt': 'd\u00e9j\u00e0 vu \u20ac',
  '/var/task/empty.txt': '',
  '/var/task/node_modules/lib/package.json': '{"name":"lib","main":"index.js"}',
  '/var/task/node_modules/lib/index.js': 'module.exports = 42;\n',
};

function writeFixture() {
  const root = fs.mkdtempSync(path.join(require('os').tmpdir(), 'edgeport-fs-'));
  for (const [file, text] of Object.entries(bundledFiles)) {
    const target = path.join(root, path.relative('/var/task', file));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, text);
  }
  return root;
}

// Node's real fs, with '/var/task' mapped to the fixture directory `root` in
// arguments and back in errors, so that a case reads the same on both sides.
// (Relative paths work because main() makes `root` the working directory.)
// The write functions fail the way node does on Lambda's read-only /var/task:
// no read-only file system is available to this test, so that error is built
// from node's own errno table in the form node 20 gives it on a read-only
// mount (checked by hand on a read-only tmpfs).
function nodeFs(root) {
  const toReal = (p) => {
    if (typeof p === 'string' && (p === '/var/task' || p.startsWith('/var/task/'))) return root + p.slice(9);
    if (p !== null && typeof p === 'object' && p.protocol === 'file:' && p.pathname.startsWith('/var/task')) return new URL(`file://${root}${p.pathname.slice(9)}`);
    if (Buffer.isBuffer(p)) return Buffer.from(toReal(p.toString()));
    return p;
  };
  const fromReal = (error) => {
    if (error && typeof error.message === 'string') {
      error.message = error.message.split(root).join('/var/task');
      if (typeof error.path === 'string') error.path = error.path.split(root).join('/var/task');
    }
    return error;
  };
  const wrapSync = (fn) => (p, ...rest) => {
    try {
      return fn(toReal(p), ...rest);
    } catch (error) {
      throw fromReal(error);
    }
  };
  const [erofsErrno, [erofs, erofsText]] = [...require('util').getSystemErrorMap()].find(([, [name]]) => name === 'EROFS');
  const readOnly = (syscall, p, dest) => {
    const shown = (v) => (v instanceof URL ? v.pathname : String(v));
    const error = new Error(`${erofs}: ${erofsText}, ${syscall} '${shown(p)}'${dest === undefined ? '' : ` -> '${shown(dest)}'`}`);
    Object.assign(error, { errno: erofsErrno, code: erofs, syscall, path: shown(p) });
    if (dest !== undefined) error.dest = shown(dest);
    return error;
  };
  const writes = {
    writeFileSync: (p) => { throw readOnly('open', p); },
    appendFileSync: (p) => { throw readOnly('open', p); },
    mkdirSync: (p) => { throw readOnly('mkdir', p); },
    rmdirSync: (p) => { throw readOnly('rmdir', p); },
    unlinkSync: (p) => { throw readOnly('unlink', p); },
    renameSync: (p, d) => { throw readOnly('rename', p, d); },
    copyFileSync: (p, d) => { throw readOnly('copyfile', p, d); },
    writeFile: (p, data, options, cb) => { process.nextTick(typeof options === 'function' ? options : cb, readOnly('open', p)); },
  };
  return {
    ...fs,
    ...writes,
    readFileSync: wrapSync(fs.readFileSync),
    existsSync: (p) => fs.existsSync(toReal(p)),
    statSync: wrapSync(fs.statSync),
    lstatSync: wrapSync(fs.lstatSync),
    readdirSync: wrapSync(fs.readdirSync),
    accessSync: wrapSync(fs.accessSync),
    readFile: (p, ...rest) => {
      const cb = rest[rest.length - 1];
      if (typeof cb === 'function') rest[rest.length - 1] = (error, data) => cb(fromReal(error), data);
      return fs.readFile(toReal(p), ...rest);
    },
    promises: {
      ...fs.promises,
      readFile: (p, ...rest) => fs.promises.readFile(toReal(p), ...rest).catch((error) => { throw fromReal(error); }),
      writeFile: async (p) => { throw readOnly('open', p); },
    },
  };
}

// --- Outcome normalisation ---------------------------------------------------

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// Turns a case's result into plain JSON that is comparable across realms.
function normalize(value, isBuffer, seen = new Set()) {
  if (value === undefined) return { undefined: true };
  if (typeof value === 'number') {
    if (Object.is(value, -0)) return { number: '-0' };
    if (!Number.isFinite(value)) return { number: String(value) };
    return value;
  }
  if (typeof value === 'bigint') return { bigint: String(value) };
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return { circular: true };
  seen.add(value);
  if (ArrayBuffer.isView(value)) {
    return { bytes: hex(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)), isBuffer: isBuffer(value) };
  }
  if (Array.isArray(value)) return value.map((v) => normalize(v, isBuffer, seen));
  const proto = Object.getPrototypeOf(value);
  const entries = Object.keys(value).map((k) => [k, normalize(value[k], isBuffer, seen)]);
  return { nullPrototype: proto === null, entries };
}

function run(fn, isBuffer) {
  try {
    return { value: normalize(fn(), isBuffer) };
  } catch (error) {
    return { threw: { name: error && error.name, message: error && error.message, code: error && error.code } };
  }
}

// --- Cases --------------------------------------------------------------------

const cases = { buffer: [], querystring: [], determinism: [] };
const add = (module, source) => cases[module].push(source);
const q = (v) => JSON.stringify(v);

// Strings covering ASCII, Latin-1, BMP, astral characters and broken UTF-16.
const strings = [
  '', 'hello', 'héllo wörld', '€100', '😀', 'a😀b', '👍🏽 👨‍👩‍👧', '日本語テキスト',
  '\ud800', '\udc00', 'x\ud800y', '\ud83d', 'x\ude00', '\ude00\ud83d', '\u0000\u007f\u0080\u00ff\u0100',
  'Łódź', 'AAAA', 'tab\tnl\n', 'x'.repeat(5000) + '€', '\uffff\ufffe\ufeff',
];
const encodings = ['utf8', 'utf-8', 'UTF8', 'base64', 'base64url', 'hex', 'latin1', 'binary', 'ascii', 'utf16le', 'ucs2', 'UCS-2', 'utf-16le'];

for (const s of strings) {
  for (const enc of encodings) {
    add('buffer', `(m) => { const b = m.Buffer.from(${q(s)}, ${q(enc)}); return [b, b.length, m.Buffer.byteLength(${q(s)}, ${q(enc)})]; }`);
  }
  add('buffer', `(m) => m.Buffer.from(${q(s)})`);
  add('buffer', `(m) => m.Buffer.from(${q(s)}).toString()`);
  add('buffer', `(m) => { const b = m.Buffer.from(${q(s)}); return ['base64', 'base64url', 'hex', 'latin1', 'ascii', 'utf16le'].map((e) => b.toString(e)); }`);
  add('buffer', `(m) => m.Buffer.from(m.Buffer.from(${q(s)}, 'utf16le').toString('base64'), 'base64').toString('ucs2')`);
}

// Byte sequences, valid and invalid UTF-8 among them.
const byteArrays = [
  [], [0x41], [0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xc1, 0x80], [0xc2], [0xc2, 0x41], [0xe0, 0x80, 0x80],
  [0xe0, 0xa0], [0xe0, 0xa0, 0x80], [0xed, 0xa0, 0x80], [0xed, 0x9f, 0xbf], [0xef, 0xbf, 0xbd],
  [0xf0, 0x9f, 0x98, 0x80], [0xf0, 0x9f, 0x98], [0xf0, 0x8f, 0xbf, 0xbf], [0xf4, 0x8f, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80, 0x80, 0x41],
  [0x61, 0xf0, 0x9f, 0x61, 0x62], [0xe2, 0x82], [0xe2, 0x82, 0xac, 0xe2], [0x00, 0x01, 0x7f],
  [0xc3, 0xa9, 0xc3], [0xe6, 0x97, 0xa5, 0xe6, 0x9c],
];
for (const bytes of byteArrays) {
  for (const enc of ['utf8', 'latin1', 'ascii', 'hex', 'base64', 'base64url', 'utf16le']) {
    add('buffer', `(m) => m.Buffer.from(${q(bytes)}).toString(${q(enc)})`);
  }
  add('buffer', `(m) => m.Buffer.from(${q(bytes)}).toString('utf8', 1)`);
  add('buffer', `(m) => m.Buffer.from(${q(bytes)}).toString('utf8', 0, 2)`);
}

// Lenient base64 and hex decoding.
const base64Inputs = [
  'aGVsbG8=', 'aGVsbG8', 'aGVsbG8==', 'aGVsbG8===', 'aGV sbG8', 'aGV\nsbG8=', 'aGV\r\n\tsbG8', '!!aGVsbG8',
  'aGVs=bG8', 'aGVs==bG8', '=', '==', 'a', 'ab', 'abc', 'abcd', 'abcde', '-_-_', '+/+/', '-_+/', 'YQ', 'YQ=',
  'YWI', 'YWI=', 'Łaaa', 'aŁaa', 'a==b', ' ', '\u00c1QUJD', 'QUJD\u0000RA', '😀QUJD', 'QU*JD', '====QUJD',
  'QUJDRA', 'QUJDR', 'QUJ=RA', 'dXNlcjpwYXNz', 'dXNlcjpwYXNz\n', 'YWRtaW46c2VjcmV0', '%%%', 'Zm9v.YmFy',
];
for (const s of base64Inputs) {
  add('buffer', `(m) => { const b = m.Buffer.from(${q(s)}, 'base64'); return [b, m.Buffer.byteLength(${q(s)}, 'base64')]; }`);
  add('buffer', `(m) => m.Buffer.from(${q(s)}, 'base64url')`);
  add('buffer', `(m) => m.Buffer.from(${q(s)}, 'base64').toString()`);
}
const hexInputs = ['abcdef', 'ABCDEF', 'abc', 'zz', 'a', '0g', 'šb', 'ab cd', 'ab\u0100cd', '00ff', 'f', '0x12', 'deadbeefz1'];
for (const s of hexInputs) {
  add('buffer', `(m) => [m.Buffer.from(${q(s)}, 'hex'), m.Buffer.byteLength(${q(s)}, 'hex')]`);
}

// The rest of the API.
const apiCases = [
  `(m) => m.Buffer.from([1, 2, 3, 256, -1, 1.9, '7', 'x', null])`,
  `(m) => m.Buffer.from(new Uint8Array([9, 8, 7]))`,
  `(m) => m.Buffer.from(new Uint16Array([0x1234, 0xffff]))`,
  `(m) => m.Buffer.from(new Uint8Array([1, 2, 3, 4]).buffer, 1, 2)`,
  `(m) => { const ab = new ArrayBuffer(4); const b = m.Buffer.from(ab); new Uint8Array(ab)[0] = 7; return b; }`,
  `(m) => m.Buffer.from(new ArrayBuffer(4), 5)`,
  `(m) => m.Buffer.from(new ArrayBuffer(4), 1, 9)`,
  `(m) => m.Buffer.from({ type: 'Buffer', data: [104, 105] })`,
  `(m) => m.Buffer.from({ length: 3, 0: 1, 2: 3 })`,
  `(m) => m.Buffer.from(new String('boxed'))`,
  `(m) => m.Buffer.from(5)`,
  `(m) => m.Buffer.from(null)`,
  `(m) => m.Buffer.from({})`,
  `(m) => m.Buffer.from('abc', 'utf9')`,
  `(m) => m.Buffer.from('abc', '')`,
  `(m) => m.Buffer.from('abc', null)`,
  `(m) => { const a = m.Buffer.from('abc'); const b = m.Buffer.from(a); a[0] = 0; return [a, b]; }`,
  `(m) => m.Buffer.alloc(5)`,
  `(m) => m.Buffer.alloc(5, 1)`,
  `(m) => m.Buffer.alloc(5, 257)`,
  `(m) => m.Buffer.alloc(5, 'ab')`,
  `(m) => m.Buffer.alloc(5, '\u00e9')`,
  `(m) => m.Buffer.alloc(5, '\u00e9', 'latin1')`,
  `(m) => m.Buffer.alloc(5, 'aGk=', 'base64')`,
  `(m) => m.Buffer.alloc(4, 'ab12', 'hex')`,
  `(m) => m.Buffer.alloc(3, 'zz', 'hex')`,
  `(m) => m.Buffer.alloc(4, '')`,
  `(m) => m.Buffer.alloc(3, true)`,
  `(m) => m.Buffer.alloc(4, m.Buffer.from([1, 2, 3]))`,
  `(m) => m.Buffer.alloc(3, m.Buffer.alloc(0))`,
  `(m) => m.Buffer.alloc(-1)`,
  `(m) => m.Buffer.alloc('3')`,
  `(m) => m.Buffer.alloc(2, 'x', 'nope')`,
  `(m) => m.Buffer.allocUnsafe(3).fill(0)`,
  `(m) => m.Buffer.allocUnsafe(0)`,
  `(m) => m.Buffer.of(1, 2, 300)`,
  `(m) => [m.Buffer.isBuffer(m.Buffer.from('a')), m.Buffer.isBuffer(new Uint8Array(1)), m.Buffer.isBuffer('a'), m.Buffer.isBuffer(null)]`,
  `(m) => ['utf8', 'UTF-8', 'hex', 'HEX', 'base64', 'base64url', 'binary', 'latin1', 'ascii', 'ucs2', 'ucs-2', 'utf16le', 'utf-16le', 'utf16', 'utf-16', 'utf32', '', 'buffer', null, undefined, 1].map((e) => m.Buffer.isEncoding(e))`,
  `(m) => m.Buffer.concat([m.Buffer.from('ab'), m.Buffer.from('cd'), new Uint8Array([101])])`,
  `(m) => m.Buffer.concat([m.Buffer.from('ab'), m.Buffer.from('cd')], 3)`,
  `(m) => m.Buffer.concat([m.Buffer.from('ab'), m.Buffer.from('cd')], 6)`,
  `(m) => m.Buffer.concat([])`,
  `(m) => m.Buffer.concat([m.Buffer.from('a'), 'b'])`,
  `(m) => m.Buffer.concat('ab')`,
  `(m) => m.Buffer.concat([m.Buffer.from('ab')], -1)`,
  `(m) => [m.Buffer.compare(m.Buffer.from('a'), m.Buffer.from('b')), m.Buffer.compare(m.Buffer.from('b'), m.Buffer.from('a')), m.Buffer.compare(m.Buffer.from('ab'), m.Buffer.from('a')), m.Buffer.compare(m.Buffer.from(''), m.Buffer.from('')), m.Buffer.compare(m.Buffer.from('abc'), m.Buffer.from('abc'))]`,
  `(m) => m.Buffer.compare('a', m.Buffer.from('a'))`,
  `(m) => [m.Buffer.from('a').equals(m.Buffer.from('a')), m.Buffer.from('a').equals(m.Buffer.from('b')), m.Buffer.from('a').equals(new Uint8Array([97])), m.Buffer.from('').equals(m.Buffer.alloc(0))]`,
  `(m) => m.Buffer.from('a').equals('a')`,
  `(m) => { const b = m.Buffer.from('abcdef'); return [b.compare(m.Buffer.from('abd')), b.compare(m.Buffer.from('cd'), 0, 2, 2, 4), b.compare(m.Buffer.from('xyz'), 1, 1), b.compare(m.Buffer.from('xyz'), 0, 3, 6, 6), b.compare(m.Buffer.from('abcdef'), 0, 6)]; }`,
  `(m) => m.Buffer.from('abc').compare(m.Buffer.from('abc'), 0, 5)`,
  `(m) => { const b = m.Buffer.from('hello world'); const s = b.slice(0, 5); s[0] = 72; return [b, s, b.slice(-5), b.slice(3, 1), b.slice(-100, 3), b.slice(2, 1e9), b.slice('1', '3'), b.slice(NaN), b.slice(1.7, 4.2)]; }`,
  `(m) => { const b = m.Buffer.from('hello'); const s = b.subarray(1, 3); s[0] = 69; return [b, s, m.Buffer.isBuffer(s), b.subarray(-2)]; }`,
  `(m) => { const b = m.Buffer.from('hello'); return [m.Buffer.isBuffer(b.map((x) => x + 1)), b.map((x) => x + 1), m.Buffer.isBuffer(b.filter((x) => x > 104))]; }`,
  `(m) => [m.Buffer.from('hi').toJSON(), m.Buffer.alloc(0).toJSON(), JSON.stringify(m.Buffer.from([1, 255])), JSON.stringify({ b: m.Buffer.from('x') })]`,
  `(m) => { const b = m.Buffer.alloc(8); return [b.write('héllo'), b]; }`,
  `(m) => { const b = m.Buffer.alloc(8); return [b.write('abc', 2), b]; }`,
  `(m) => { const b = m.Buffer.alloc(8); return [b.write('abcdef', 2, 3), b]; }`,
  `(m) => { const b = m.Buffer.alloc(8); return [b.write('6869', 'hex'), b]; }`,
  `(m) => { const b = m.Buffer.alloc(8); return [b.write('6869zz', 1, 'hex'), b]; }`,
  `(m) => { const b = m.Buffer.alloc(8); return [b.write('aGVsbG8gd29ybGQ=', 0, 'base64'), b]; }`,
  `(m) => { const b = m.Buffer.alloc(5); return [b.write('😀😀'), b]; }`,
  `(m) => { const b = m.Buffer.alloc(4); return [b.write('\u00e9\u00e9\u00e9', 1), b]; }`,
  `(m) => { const b = m.Buffer.alloc(3); return [b.write('abcd', 'utf16le'), b]; }`,
  `(m) => { const b = m.Buffer.alloc(3); return [b.write('\u0100bc', 'latin1'), b]; }`,
  `(m) => m.Buffer.alloc(3).write('a', 4)`,
  `(m) => m.Buffer.alloc(3).write('a', 0, 'nope')`,
  `(m) => m.Buffer.alloc(3).write('a', 1.5)`,
  `(m) => { const b = m.Buffer.from('hello world, hello'); return [b.indexOf('hello'), b.indexOf('hello', 1), b.lastIndexOf('hello'), b.indexOf('o', -3), b.indexOf('xyz'), b.indexOf(''), b.indexOf('', 100), b.indexOf(111), b.indexOf(111 + 256), b.indexOf(m.Buffer.from('world')), b.indexOf('68656c6c6f', 'hex'), b.indexOf('aGVsbG8=', 1, 'base64'), b.includes('world'), b.includes('World'), b.includes('o', 17), b.lastIndexOf('o', 5), b.lastIndexOf(111, -1), b.indexOf('hello', -100), b.lastIndexOf('hello', -100)]; }`,
  `(m) => { const b = m.Buffer.from('h\u00e9llo \u20ac'); return [b.indexOf('\u00e9'), b.indexOf('\u20ac'), b.indexOf('\u00e9', 0, 'latin1'), b.includes('llo', 'utf8'), b.indexOf('l', 2.9)]; }`,
  `(m) => { const b = m.Buffer.from('abcabc', 'utf16le'); return [b.indexOf('b', 0, 'utf16le'), b.indexOf('ca', 'ucs2'), b.lastIndexOf('c', undefined, 'utf16le'), b.indexOf('b', 3, 'utf16le')]; }`,
  `(m) => m.Buffer.from('abc').indexOf({})`,
  `(m) => m.Buffer.from('abc').indexOf('a', 0, 'nope')`,
  `(m) => { const b = m.Buffer.from([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc]); return [b.readUInt8(0), b.readUInt8(5), b.readUInt16BE(0), b.readUInt16LE(0), b.readUInt32BE(0), b.readUInt32LE(2), b.readInt32BE(2), b.readInt32LE(2), b.readInt8(4), b.readInt16BE(4), b.readInt16LE(4), b.readUint16BE(1), b.readUint32LE(1)]; }`,
  `(m) => m.Buffer.from([1, 2]).readUInt16BE(1)`,
  `(m) => m.Buffer.from([1, 2]).readUInt32LE()`,
  `(m) => m.Buffer.from([1, 2]).readUInt8(1.5)`,
  `(m) => m.Buffer.from([1, 2]).readUInt8('0')`,
  `(m) => m.Buffer.from([1, 2]).readUInt8(-1)`,
  `(m) => m.Buffer.from([1, 2]).readInt32BE(0)`,
  `(m) => m.Buffer.from([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]).readDoubleLE(0)`,
  `(m) => { const b = m.Buffer.alloc(10); return [b.writeUInt8(255, 0), b.writeUInt16BE(0x1234, 1), b.writeUInt16LE(0x1234, 3), b.writeUInt32BE(0xdeadbeef, 5), b.writeInt8(-2, 9), b]; }`,
  `(m) => { const b = m.Buffer.alloc(8); return [b.writeInt32LE(-123456, 0), b.writeInt16BE(-2, 4), b.writeUInt16LE(1.9, 6), b]; }`,
  `(m) => m.Buffer.alloc(4).writeUInt32BE(2 ** 32)`,
  `(m) => m.Buffer.alloc(4).writeUInt8(256)`,
  `(m) => m.Buffer.alloc(4).writeInt16LE(40000)`,
  `(m) => m.Buffer.alloc(2).writeUInt16LE(1, 1)`,
  `(m) => { const a = m.Buffer.from('abcdef'); const t = m.Buffer.alloc(4); return [a.copy(t), t, a.copy(t, 1, 4), t, a.copy(t, 10), a.copy(t, 0, 5, 2)]; }`,
  `(m) => { const b = m.Buffer.from('abcdef'); return [b.fill('xy', 1, 4), b.fill(0x41), b.fill('')]; }`,
  `(m) => m.Buffer.from('abcd').swap16()`,
  `(m) => m.Buffer.from('abcd').swap32()`,
  `(m) => m.Buffer.from('abc').swap16()`,
  `(m) => { const b = m.Buffer.from('abc'); return [b.toString('utf8', -1, 2), b.toString(undefined, 1), b.toString('hex', 1, 1), b.toString('hex', 2, 100), b.toString('latin1', 1.5, 2.5), b.toString('utf8', '1'), b.toString('ascii', 5)]; }`,
  `(m) => m.Buffer.from('abc').toString('utf9')`,
  `(m) => m.Buffer.from('abc').toString(null)`,
  `(m) => m.Buffer.from('abc').toString('')`,
  `(m) => [String(m.Buffer.from('x\u00e9')), m.Buffer.from('ab') + '', \`\${m.Buffer.from('tmpl')}\`]`,
  `(m) => { try { m.Buffer.from('a').toString('bogus'); } catch (e) { return [e.name, e.message, e.code, String(e), e instanceof TypeError]; } }`,
  `(m) => { try { m.Buffer.from([1]).readUInt16LE(0); } catch (e) { return [e.name, e.message, e.code, String(e), e instanceof RangeError]; } }`,
  `(m) => [m.Buffer.byteLength('abc', 'nope'), m.Buffer.byteLength(new Uint16Array(3)), m.Buffer.byteLength(new ArrayBuffer(7)), m.Buffer.byteLength('', 'hex'), m.Buffer.byteLength('QUJD=', 'base64'), m.Buffer.byteLength('\ud800', 'utf8')]`,
  `(m) => m.Buffer.byteLength(5)`,
  `(m) => { const b = m.Buffer.from('xyz'); return [b.length, b.byteLength, b.parent === b.buffer, typeof b.offset, b instanceof Uint8Array, b instanceof m.Buffer, b.constructor === m.Buffer]; }`,
  `(m) => [m.Buffer('abc'), new m.Buffer('6869', 'hex'), new m.Buffer(3), m.Buffer([1, 2])]`,
  `(m) => m.Buffer(3, 'utf8')`,
  `(m) => { const auth = 'Basic ' + m.Buffer.from('user:p\u00e4ss').toString('base64'); return [auth, m.Buffer.from(auth.split(' ')[1], 'base64').toString()]; }`,
  `(m) => m.Buffer.from(JSON.stringify({ sub: '123', exp: 1 })).toString('base64url')`,
  `(m) => JSON.parse(m.Buffer.from('eyJhbGciOiJIUzI1NiJ9', 'base64url').toString())`,
];
for (const source of apiCases) add('buffer', source);

// --- querystring -------------------------------------------------------------

const queries = [
  '', 'a=1', 'a=1&b=2', 'a=1&a=2&a=3', 'a', 'a=', '=b', '=', '&', '&&', 'a&b', 'a=1&', '&a=1', 'a==1', 'a=1=2',
  'a+b=c+d', 'a%20b=c%20d', 'a=%zz', 'a=%', 'a=%E0%A4%A', 'a=%E0%A4%A4', '%zz=1', '%=1', 'a=%2', 'a=100%',
  'a[]=1&a[]=2', 'a[b]=1', '__proto__=1', '__proto__=1&__proto__=2', 'constructor=x&hasOwnProperty=y',
  'toString=1&valueOf=2', 'a=%C3%A9', 'a=%c3%a9', 'a=%C3', 'a=%FF', 'q=%F0%9F%98%80', 'q=😀', 'q=\ud83d',
  'q=é%', 'q=%E9', 'k=%u00e9', 'a=b;c=d', 'a=1&b', 'utm_source=x&utm_medium=y&id=7', '+=+', '+', 'a=+1+',
  'a=%2B', 'a=%26b%3Dc', 'empty=&empty=', 'a=1&&b=2', 'a%3Db=c', 'x=%25zz', 'x=%%41', 'x=%4', 'x=%41%4',
  'ключ=значение', '%D0%BA=%D0%B7', 'a=\u0000', 'a\nb=c', 'a=1&A=2', ' a = b ', 'a=%20%20', 'x=1&y=2&x=3&y=4&x=5',
  '%E0%A4%A=1&b=2', 'a%=1', 'a%2=1', 'a%41=1', 'a=%41+%42',
];
for (const s of queries) {
  add('querystring', `(m) => m.parse(${q(s)})`);
  add('querystring', `(m) => m.stringify(m.parse(${q(s)}))`);
}
const parseVariants = [
  `(m) => m.parse('a:1;b:2', ';', ':')`,
  `(m) => m.parse('a=>1<>b=>2', '<>', '=>')`,
  `(m) => m.parse('a=1&&b=2', '&&')`,
  `(m) => m.parse('a=1&b=2', '', '')`,
  `(m) => m.parse('a=1&b=2', null, null)`,
  `(m) => m.parse('a1b2', 1, 2)`,
  `(m) => m.parse('a=1&b=2&c=3', null, null, { maxKeys: 2 })`,
  `(m) => m.parse('a=1&b=2&c=3', null, null, { maxKeys: 0 })`,
  `(m) => m.parse('a=1&b=2&c=3', null, null, { maxKeys: -1 })`,
  `(m) => m.parse('&&&a=1&b=2', null, null, { maxKeys: 2 })`,
  `(m) => m.parse('a=1&b=2', null, null, { maxKeys: '1' })`,
  `(m) => Object.keys(m.parse(Array.from({ length: 1200 }, (_, i) => 'k' + i + '=' + i).join('&'))).length`,
  `(m) => Object.keys(m.parse(Array.from({ length: 1200 }, (_, i) => 'k' + i).join('&'), null, null, { maxKeys: 0 })).length`,
  `(m) => m.parse('a=%41&b=c+d', null, null, { decodeURIComponent: (s) => s.toUpperCase() })`,
  `(m) => m.parse('a=%41&b=x', null, null, { decodeURIComponent: (s) => { if (s === 'x') throw new Error('no'); return '[' + s + ']'; } })`,
  `(m) => m.parse('a=%E9', null, null, { decodeURIComponent: unescape })`,
  `(m) => m.parse(123)`,
  `(m) => m.parse(null)`,
  `(m) => Object.getPrototypeOf(m.parse('a=1'))`,
  `(m) => { const r = m.parse('__proto__=x&a=1'); return [typeof r.__proto__, Object.keys(r), r.a]; }`,
  `(m) => { const r = m.parse('a=1&a=2'); r.a.push('3'); return r; }`,
  `(m) => m.decode('x=1&y=2')`,
];
for (const source of parseVariants) add('querystring', source);

const escapeInputs = [
  '', 'abc', 'a b', 'a+b', 'a&b=c', "!'()*-._~", '~`@#$%^&[]{}|\\:";<>?,/', 'é', '€', '😀', '\ud800', '\ud800x',
  '\udc00', 'x\udc00y', '\u0000\u001f\u007f', 'ключ', '100%', '%41', 'a%2', '%E0%A4%A', '%zz', '+', 'a+b%20c',
  '%C3%A9', '%c3%a9', '%FF', '%F0%9F%98%80', '%ED%A0%80', 'é%', '%E9', '%', '%%', '%4', '%41%4', 'x\u0100%',
];
for (const s of escapeInputs) {
  add('querystring', `(m) => m.escape(${q(s)})`);
  add('querystring', `(m) => m.unescape(${q(s)})`);
  add('querystring', `(m) => m.unescape(${q(s)}, true)`);
  add('querystring', `(m) => m.unescapeBuffer(${q(s)})`);
  add('querystring', `(m) => m.unescapeBuffer(${q(s)}, true)`);
}
const escapeOthers = [
  `(m) => [m.escape(12), m.escape(true), m.escape(null), m.escape(undefined), m.escape({}), m.escape([1, 'a b']), m.escape(1e21)]`,
  `(m) => m.escape({ toString() { return 'x y'; } })`,
];
for (const source of escapeOthers) add('querystring', source);

const objects = [
  `{ a: 1, b: 'two', c: true, d: false }`,
  `{ a: [1, 2, 3], b: [] , c: ['x'] }`,
  `{ n: NaN, i: Infinity, m: -Infinity, z: -0, big: 1e21, small: 1e-7, neg: -5.5 }`,
  `{ o: { x: 1 }, f: () => 1, u: undefined, nul: null, s: Symbol.iterator === undefined ? 1 : 'sym' }`,
  `{ 'a b': 'c d', 'é': '€', '😀': '😀', 'a&b': 'c=d', '': 'empty', 'e': '' }`,
  `{ arr: [null, undefined, NaN, {}, 'x', 1n] }`,
  `{ big: 10n }`,
  `{ '__proto__': 1 }`,
  `Object.assign(Object.create({ inherited: 1 }), { own: 2 })`,
  `{ lone: '\ud800' }`,
  `{ a: 'x\ud800y' }`,
  `[1, 2, 'three']`,
  `new Map([['a', 1]])`,
  `'a=1'`,
  `null`,
  `42`,
];
for (const o of objects) {
  add('querystring', `(m) => m.stringify(${o})`);
  add('querystring', `(m) => m.stringify(${o}, ';', ':')`);
  add('querystring', `(m) => m.encode(${o}, null, null, { encodeURIComponent: (s) => '<' + s + '>' })`);
}
const stringifyOthers = [
  `(m) => m.stringify({ a: '1', b: '2' }, '', '')`,
  `(m) => m.stringify({ a: 'x y' }, '&', '=', { encodeURIComponent: encodeURIComponent })`,
  `(m) => m.stringify({ a: "x y!'()*" }, '&', '=', { encodeURIComponent: encodeURIComponent })`,
  `(m) => m.stringify({ a: 'b' }, '&', '=', { encodeURIComponent: 'not a function' })`,
  `(m) => { const saved = m.escape; m.escape = (s) => s.toUpperCase(); try { return m.stringify({ a: 'b c' }); } finally { m.escape = saved; } }`,
  `(m) => { const saved = m.unescape; m.unescape = (s) => '#' + s; try { return m.parse('a=%41'); } finally { m.unescape = saved; } }`,
  `(m) => { const sorted = {}; const p = m.parse('z=1&a=2&m=3&a=4'); for (const k of Object.keys(p).sort()) sorted[k] = p[k]; return m.stringify(sorted); }`,
];
for (const source of stringifyOthers) add('querystring', source);

// --- determinism: the engine realm must draw exactly node's numbers ----------

for (const seed of [0, 1, 2, 42, 123456789, 4294967295, 4294967296, -1, 2.5, 0xdeadbeef]) {
  add('determinism', `(m) => { const r = m.createRandom(${seed}); return Array.from({ length: 50 }, () => r()); }`);
}
add('determinism', `(m) => { const r = m.createRandom(7); let min = 1, max = 0; for (let i = 0; i < 100000; i++) { const v = r(); if (v < min) min = v; if (v > max) max = v; } return [min >= 0, max < 1]; }`);

// --- Further modules: js/test/cases/<module>.js --------------------------------
//
// Each file exports `(add, q) => void`, adding cases for the built-in it is named after.
// A case may take a second parameter, its realm's `require` (node's, or the
// engine's), to build inputs from other built-ins: `(m, require) => ...`.

const casesDir = path.join(__dirname, 'cases');
if (fs.existsSync(casesDir)) {
  for (const file of fs.readdirSync(casesDir).filter((f) => f.endsWith('.js')).sort()) {
    const module = file.slice(0, -3);
    cases[module] = cases[module] || [];
    require(path.join(casesDir, file))((source) => cases[module].push(source), q);
  }
}

// --- Running -------------------------------------------------------------------

// A case may return a promise: it is awaited. In the engine realm, while it is
// pending, the runner plays the prelude: whenever the job queue is empty (this
// realm's setImmediate), it runs the engine's next timer, and gives up when
// there is none.
async function settle(promise, runNextTimer) {
  let done = false;
  promise.then(() => { done = true; }, () => { done = true; });
  if (runNextTimer) {
    while (!done) {
      await new Promise((resolve) => setImmediate(resolve));
      if (!done && !runNextTimer()) throw new Error('the promise can never settle: no timer is pending');
    }
  } else {
    let timer;
    const timeout = new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error('the promise did not settle in 5 s')), 5000);
    });
    try {
      await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
  return promise;
}

async function runCase(fn, isBuffer, runNextTimer) {
  try {
    let value = fn();
    if (value !== null && typeof value === 'object' && typeof value.then === 'function') value = await settle(value, runNextTimer);
    return { value: normalize(value, isBuffer) };
  } catch (error) {
    return { threw: { name: error && error.name, message: error && error.message, code: error && error.code } };
  }
}

// Built-ins whose name holds a '/', by the name of their file and case file.
const SUBMODULES = { timers_promises: 'timers/promises', fs_promises: 'fs/promises' };

async function main() {
  const engine = createEngineRealm();
  const fixtureRoot = writeFixture();
  const savedCwd = process.cwd();
  process.chdir(fixtureRoot);
  const nodeModules = { determinism: require(path.join(jsDir, 'determinism.js')) };
  for (const module of Object.keys(cases)) {
    // Case files name node's modules with '_' for '/' (timers_promises).
    if (module === 'fs') nodeModules.fs = nodeFs(fixtureRoot);
    else if (module !== 'determinism') nodeModules[module] = require(SUBMODULES[module] || module);
  }
  const nodeIsBuffer = (v) => v instanceof nodeModules.buffer.Buffer;
  const engineIsBuffer = (v) => v instanceof engine.modules.buffer.Buffer;

  let passed = 0;
  let failed = 0;
  const verbose = process.argv.includes('--verbose');
  try {
    await runAll();
  } finally {
    process.chdir(savedCwd);
    fs.rmSync(fixtureRoot, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;

  async function runAll() {
    for (const [module, sources] of Object.entries(cases)) {
      let modulePassed = 0;
      for (const source of sources) {
        // determinism has no node counterpart: the reference is the same file run
        // in node's own realm.
        const expected = await runCase(() => eval(`(${source})`)(nodeModules[module], require), nodeIsBuffer, null);
        const actual = await runCase(() => engine.compile(source)(engine.modules[module], engine.require), engineIsBuffer, engine.runNextTimer);
        const want = JSON.stringify(expected);
        const got = JSON.stringify(actual);
        if (want === got) {
          passed++;
          modulePassed++;
          if (verbose) console.log(`ok   ${module}: ${source.slice(0, 120)}`);
        } else {
          failed++;
          console.log(`FAIL ${module}: ${source.slice(0, 300)}\n  node:   ${want.slice(0, 600)}\n  engine: ${got.slice(0, 600)}`);
        }
      }
      console.log(`${module}: ${modulePassed}/${sources.length} cases agree with node`);
    }
  }
}

// Other runners (another engine, say) can reuse the cases and normalisation.
module.exports = { cases, normalize, run, runCase, hex, bundledFiles };

if (require.main === module) main();
