'use strict';
// Cases for js/node/util.js: format's placeholders, inspect's layout of the
// values handlers log, promisify / callbackify / inherits / deprecate, the
// type checks and isDeepStrictEqual. Asynchronous results cannot be compared
// by the runner, so promisify and callbackify are checked on their shape and
// their synchronous errors.

module.exports = (add, q) => {
  // Values written as source, built in each realm.
  const values = [
    `'str'`, `''`, `"it's"`, `'say "hi"'`, `'both \\' and "'`, `'all \\' " \`'`, `'tab\\tnl\\n\\x00\\x7f\\x85'`, `'\\ud83d'`, `'😀 é'`,
    `42`, `-0`, `0`, `NaN`, `-Infinity`, `1.5e300`, `10n`, `-5n`, `true`, `null`, `undefined`, `Symbol('sym')`, `Symbol()`,
    `Symbol('with space')`, `{}`, `{ a: 1 }`, `{ a: 1, b: 'two', c: [3], d: { e: null } }`, `{ 'a-b': 1, __proto__x: 2, 3: 'n', $d: 4 }`,
    `{ a: { b: { c: { d: { e: 1 } } } } }`, `{ a: { b: { c: {} } } }`, `{ a: { b: { c: { d: 1 } } }, e: 1 }`,
    `[]`, `[1, 2, 3]`, `[1, 2, 3, 4, 5, 6]`, `[1, 2, 3, 4, 5, 6, 7]`, `Array.from({ length: 26 }, (_, i) => i)`,
    `Array.from({ length: 30 }, (_, i) => 'item' + i)`, `Array.from({ length: 120 }, (_, i) => i * 3)`,
    `Array.from({ length: 10 }, (_, i) => 'x'.repeat(i))`, `Array.from({ length: 8 }, (_, i) => i % 2 ? 'a' : 1)`,
    `[1, , 3]`, `new Array(5)`, `[[1, [2, [3, [4]]]]]`, `[{ a: 1 }, { b: 2 }]`, `Object.assign([1, 2], { extra: true })`,
    `{ long: 'x'.repeat(150) }`, `{ a: 'x'.repeat(60), b: 'y'.repeat(60) }`, `{ a: 'x'.repeat(50), b: 'y'.repeat(50) }`,
    `Array.from({ length: 12 }, (_, i) => ({ id: i }))`, `{ list: Array.from({ length: 8 }, (_, i) => i), nested: { deep: [1, { x: 1 }] } }`,
    `new Map()`, `new Map([['a', 1], ['b', { c: 2 }]])`, `new Set()`, `new Set([1, 'two', [3]])`, `new Map([[{ k: 1 }, new Set([1])]])`,
    `new Date(0)`, `new Date(1700000000123)`, `new Date(NaN)`, `/ab+c/gi`, `new RegExp('a/b')`,
    `function foo() {}`, `() => {}`, `async function af() {}`, `function* gen() {}`, `async function* agen() {}`,
    `class Foo {}`, `class Bar extends Array {}`, `class {}`, `Object.assign(function withProps() {}, { x: 1 })`,
    `new (class Point { constructor() { this.x = 1; this.y = 2; } })()`, `new (class Empty {})()`,
    `Object.create(null)`, `Object.assign(Object.create(null), { a: 1 })`, `Object.create({ inherited: 1 })`,
    `{ get a() { return 1; }, set b(v) {}, get c() { return 1; }, set c(v) {} }`, `{ [Symbol('k')]: 1, [Symbol.iterator]: 2, s: Symbol('v') }`,
    `new Number(3)`, `new String('ab')`, `new Boolean(false)`, `Object(Symbol('s'))`, `Object(1n)`, `new Number(-0)`,
    `new Uint8Array([1, 2, 3])`, `new Float64Array([1.5, -0])`, `new BigInt64Array([1n, -2n])`, `new Uint8Array(0)`,
    `new Uint16Array(150)`, `new ArrayBuffer(3)`, `new DataView(new ArrayBuffer(2))`,
    `(function () { return arguments; })(1, 'a')`, `new WeakMap()`, `new WeakSet()`,
    `{ toString() { return 'custom'; } }`, `{ [Symbol.for('nodejs.util.inspect.custom')]() { return 'CUSTOM'; } }`,
    `{ [Symbol.for('nodejs.util.inspect.custom')]() { return { replaced: true }; } }`,
    `{ [Symbol.for('nodejs.util.inspect.custom')](depth, opts) { return typeof depth + ':' + typeof opts; } }`,
    `{ inner: { [Symbol.for('nodejs.util.inspect.custom')]() { return 'line1\\nline2'; } } }`,
    `{ [Symbol.toStringTag]: 'Tagged', a: 1 }`, `new (class Tagged { get [Symbol.toStringTag]() { return 'T'; } })()`,
    `{ 'key with spaces': 1, "quote'key": 2, '': 3 }`, `{ __proto__: null, constructor: 1 }`,
    `{ a: undefined, b: null, c: NaN, d: -0, e: 1n }`, `[undefined, null, -0, 0n, Symbol('x')]`,
  ];
  for (const v of values) {
    add(`(m) => m.inspect(${v})`);
    add(`(m) => m.format('%s', ${v})`);
    add(`(m) => m.format('%O', ${v})`);
    add(`(m) => m.format('x', ${v})`);
    add(`(m) => m.format(${v}, 'y')`);
  }
  // %o shows hidden properties; functions differ between engines (V8's
  // sloppy functions own `arguments` and `caller`), so only data is used.
  for (const v of [`{ a: 1, b: [1, 2] }`, `[1, 2]`, `[]`, `'s'`, `5`, `{ a: { b: { c: { d: { e: { f: 1 } } } } } }`, `new Map([[1, 2]])`, `null`]) {
    add(`(m) => m.format('%o', ${v})`);
  }
  // Circular references.
  const circular = [
    `(() => { const o = { a: 1 }; o.self = o; return o; })()`,
    `(() => { const a = [1]; a.push(a); return a; })()`,
    `(() => { const o = { x: {} }; o.x.parent = o; o.x.me = o.x; return o; })()`,
    `(() => { const m = new Map(); m.set('m', m); return m; })()`,
    `(() => { const a = {}; const b = { a }; a.b = b; return [a, b]; })()`,
  ];
  for (const v of circular) {
    add(`(m) => m.inspect(${v})`);
    add(`(m) => m.format('%j', ${v})`);
  }
  // Errors print their stack, which names the engine's frames: compare only
  // errors whose stack is set, or their first line.
  const errors = [
    `(() => { const e = new Error('boom'); e.stack = 'Error: boom'; return e; })()`,
    `(() => { const e = new TypeError('bad'); e.stack = 'TypeError: bad'; e.code = 'E_BAD'; return e; })()`,
    `(() => { const e = new Error('x'); e.stack = 'Error: x'; return { err: e }; })()`,
    `(() => { const e = new RangeError('r'); delete e.stack; return e; })()`,
  ];
  for (const v of errors) {
    add(`(m) => m.inspect(${v})`);
    add(`(m) => m.format('%s', ${v})`);
  }
  add(`(m) => m.inspect(new Error('first line')).split('\\n')[0]`);
  add(`(m) => m.format('%s', new Error('first line')).split('\\n')[0]`);

  // Inspect options.
  const options = [
    `{ a: { b: { c: { d: 1 } } } }, { depth: 0 }`, `{ a: { b: { c: { d: 1 } } } }, { depth: 1 }`,
    `{ a: { b: { c: { d: 1 } } } }, { depth: null }`, `{ a: { b: { c: { d: 1 } } } }, { depth: Infinity }`,
    `[[[[1]]]], { depth: 1 }`, `{ a: [1, 2] }, { depth: -1 }`, `{ a: 1, b: 2 }, { breakLength: 5 }`,
    `{ a: 1, b: { c: 2 } }, { compact: 1 }`, `{ a: 1, b: { c: 2 } }, { compact: false }`,
    `{ b: 1, a: 2, c: 3 }, { sorted: true }`, `Array.from({ length: 10 }, (_, i) => i), { maxArrayLength: 3 }`,
    `'x'.repeat(20), { maxStringLength: 5 }`, `{ a: 1 }, { showHidden: true }`, `[1, 2], { showHidden: true }`,
    `{ a: 1 }, true`, `{ a: { b: { c: {} } } }, false, 0`, `{ [Symbol.for('nodejs.util.inspect.custom')]() { return 'c'; } }, { customInspect: false }`,
    `new Set(Array.from({ length: 120 }, (_, i) => i)), { maxArrayLength: 2 }`,
  ];
  for (const args of options) add(`(m) => m.inspect(${args})`);
  add(`(m) => [typeof m.inspect.custom, m.inspect.custom === Symbol.for('nodejs.util.inspect.custom'), m.inspect.defaultOptions.depth, m.inspect.defaultOptions.breakLength]`);

  // format.
  const formats = [
    `'%s', 'a'`, `'%s %s', 'a'`, `'%s', 'a', 'b'`, `'%s:%s', 'a', 'b', 'c', 1, { d: 1 }`, `'%%s', 'a'`, `'%%', 'a'`, `'%'`, `'%', 1`,
    `'a%', 1`, `'%x %s', 1`, `'%s'`, `'%d', '42'`, `'%d', 42.5`, `'%d', -0`, `'%d', 10n`, `'%d', 'abc'`, `'%d', {}`, `'%d', Symbol('s')`,
    `'%d', null`, `'%d', undefined`, `'%d', []`, `'%i', 42.9`, `'%i', '42.9abc'`, `'%i', -0.5`, `'%i', 10n`, `'%i', Symbol('s')`, `'%i', 'x'`,
    `'%f', '1.50'`, `'%f', 'abc'`, `'%f', 1n`, `'%f', Symbol('s')`, `'%f', -0`, `'%j', { a: [1, 'b'] }`, `'%j', 'str'`, `'%j', undefined`,
    `'%j', 10`, `'%j', { toJSON() { return 'J'; } }`, `'%c', 'color: red'`, `'a%cb', 'css'`, `'%s', -0`, `'%s', 5n`, `'%s', Symbol('q')`,
    `'%s', null`, `'%s', undefined`, `'%s', [1, [2, [3]]]`, `'%s', { a: { b: 1 } }`, `'%s', new Date(0)`, `'%s', () => 1`,
    `'%s', new (class A { toString() { return 'A!'; } })()`, `'%s', new (class B {})()`, `'%s', Object.create(null)`,
    `'%s', new Map([[1, 2]])`, `'%O', { a: { b: { c: { d: 1 } } } }`, `'%o', { a: { b: { c: { d: { e: { f: 1 } } } } } }`,
    `1, 2, 3`, `'a', 'b', 'c'`, `{ a: 1 }, 'str', 3`, `null`, `undefined`, `5`, ``, `'%s %d %i %f %j %o %O %c %%', 'x', 1, 2, 3, {}, [], {}, 'css'`,
    `'%s', 'a\\nb'`, `'%s=%d', 'k'`, `'%s', '%s', 'x'`, `'%-s', 1`, `'%5d', 1`,
  ];
  for (const args of formats) add(`(m) => m.format(${args})`);
  add(`(m) => m.formatWithOptions({ depth: 0 }, '%O', { a: { b: 1 } })`);
  add(`(m) => m.formatWithOptions({ breakLength: 3 }, { a: 1, b: 2 })`);
  add(`(m) => m.formatWithOptions(null, 'x')`);
  add(`(m) => m.formatWithOptions('x', 'y')`);

  // promisify and callbackify: shapes and synchronous errors.
  const functions = [
    `(() => { const f = m.promisify(function (a, cb) { cb(null, a); }); return [typeof f, f.length, f.name, typeof f(1).then]; })()`,
    `(() => { function orig(cb) {} orig.extra = 1; const f = m.promisify(orig); return [f.name, f.length, f.extra, f[m.promisify.custom] === f, m.promisify(f) === f]; })()`,
    `(() => { function orig() {} const custom = () => 'c'; orig[m.promisify.custom] = custom; return [m.promisify(orig) === custom, m.promisify(orig)()]; })()`,
    `(() => { function orig() {} orig[m.promisify.custom] = 5; return m.promisify(orig); })()`,
    `m.promisify(5)`, `m.promisify()`, `m.promisify.custom === Symbol.for('nodejs.util.promisify.custom')`,
    `(() => { const f = m.promisify(function () { throw new Error('sync'); }); const p = f(); p.catch(() => {}); return p instanceof Promise; })()`,
    `(() => { const f = m.callbackify(async function named(a, b) { return a + b; }); return [typeof f, f.name, f.length]; })()`,
    `(() => { const f = m.callbackify(async () => 1); return f(1, 2); })()`,
    `(() => { const f = m.callbackify(async () => 1); return f(); })()`,
    `m.callbackify('x')`,
    `(() => { function A() {} function B() {} m.inherits(A, B); return [A.super_ === B, Object.getPrototypeOf(A.prototype) === B.prototype, new A() instanceof B, Object.keys(A)]; })()`,
    `m.inherits(null, function () {})`, `m.inherits(function () {}, null)`, `m.inherits(function () {}, {})`, `m.inherits(function () {}, undefined)`,
    `(() => { const f = m.deprecate(function add(a, b) { return a + b; }, 'msg', 'DEP0'); return [typeof f, f(1, 2), f.name]; })()`,
    `(() => { class K { constructor(x) { this.x = x; } } const D = m.deprecate(K, 'msg'); const k = new D(3); return [k.x, k instanceof K]; })()`,
    `m.deprecate(() => 1, 'msg', 5)`,
  ];
  for (const source of functions) add(`(m) => ${source}`);

  // types and the legacy predicates.
  const samples = [
    `new Date()`, `/x/`, `RegExp.prototype`, `Promise.resolve()`, `{ then() {} }`, `new Uint8Array(1)`, `new Uint16Array(1)`,
    `new Float32Array(1)`, `new BigInt64Array(1)`, `new Uint8ClampedArray(1)`, `new ArrayBuffer(1)`, `new DataView(new ArrayBuffer(1))`,
    `new Map()`, `new Set()`, `new WeakMap()`, `new WeakSet()`, `new Map().keys()`, `new Set().values()`, `[].values()`,
    `new Number(1)`, `new String('s')`, `new Boolean(true)`, `Object(1n)`, `Object(Symbol())`, `1`, `'s'`, `null`, `undefined`,
    `new Error('e')`, `new TypeError('t')`, `{ __proto__: Error.prototype }`, `async () => {}`, `function* () {}`, `async function* () {}`,
    `(function* () {})()`, `(function () { return arguments; })()`, `{}`, `[]`, `() => {}`, `{ [Symbol.toStringTag]: 'Date' }`,
  ];
  const predicates = [
    'isDate', 'isRegExp', 'isPromise', 'isUint8Array', 'isUint16Array', 'isFloat32Array', 'isBigInt64Array', 'isUint8ClampedArray',
    'isTypedArray', 'isArrayBufferView', 'isAnyArrayBuffer', 'isArrayBuffer', 'isSharedArrayBuffer', 'isDataView', 'isMap', 'isSet',
    'isWeakMap', 'isWeakSet', 'isMapIterator', 'isSetIterator', 'isNumberObject', 'isStringObject', 'isBooleanObject',
    'isBigIntObject', 'isSymbolObject', 'isBoxedPrimitive', 'isNativeError', 'isAsyncFunction', 'isGeneratorFunction',
    'isGeneratorObject', 'isArgumentsObject', 'isProxy', 'isExternal',
  ];
  const legacy = ['isArray', 'isBoolean', 'isDate', 'isError', 'isFunction', 'isNull', 'isNullOrUndefined', 'isNumber', 'isObject',
    'isPrimitive', 'isRegExp', 'isString', 'isSymbol', 'isUndefined'];
  for (const sample of samples) {
    add(`(m) => { const v = ${sample}; return ${q(predicates)}.map((p) => p + ':' + m.types[p](v)); }`);
    add(`(m) => { const v = ${sample}; return ${q(legacy)}.map((p) => p + ':' + m[p](v)); }`);
  }
  add(`(m, require) => [m.isBuffer(require('buffer').Buffer.from('a')), m.isBuffer(new Uint8Array(1)), m.isBuffer('a')]`);

  // isDeepStrictEqual.
  const pairs = [
    `1, 1`, `1, '1'`, `0, -0`, `NaN, NaN`, `'a', 'a'`, `null, undefined`, `{}, {}`, `{ a: 1 }, { a: 1 }`, `{ a: 1 }, { a: '1' }`,
    `{ a: 1, b: 2 }, { b: 2, a: 1 }`, `{ a: 1 }, { a: 1, b: undefined }`, `[1, 2], [1, 2]`, `[1, 2], [2, 1]`, `[1, , 3], [1, undefined, 3]`,
    `{ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }`, `{ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] }`, `[1], { 0: 1, length: 1 }`,
    `new Date(0), new Date(0)`, `new Date(0), new Date(1)`, `/a/g, /a/g`, `/a/g, /a/i`, `new Set([1, 2]), new Set([2, 1])`,
    `new Set([{ a: 1 }]), new Set([{ a: 1 }])`, `new Set([{ a: 1 }]), new Set([{ a: 2 }])`, `new Map([['a', 1]]), new Map([['a', 1]])`,
    `new Map([['a', 1]]), new Map([['a', 2]])`, `new Map([[{ k: 1 }, 'v']]), new Map([[{ k: 1 }, 'v']])`,
    `new Uint8Array([1, 2]), new Uint8Array([1, 2])`, `new Uint8Array([1, 2]), new Int8Array([1, 2])`, `new Float64Array([0]), new Float64Array([-0])`,
    `new ArrayBuffer(2), new ArrayBuffer(2)`, `new Number(1), new Number(1)`, `new Number(1), new Number(2)`, `new String('a'), 'a'`,
    `new Error('a'), new Error('a')`, `new Error('a'), new TypeError('a')`, `Object.create(null), {}`,
    `(() => { const a = { x: 1 }; a.self = a; return a; })(), (() => { const b = { x: 1 }; b.self = b; return b; })()`,
    `{ [Symbol.for('s')]: 1 }, { [Symbol.for('s')]: 1 }`, `{ [Symbol.for('s')]: 1 }, { [Symbol.for('s')]: 2 }`,
    `new (class A {})(), new (class A {})()`,
  ];
  for (const pair of pairs) add(`(m) => m.isDeepStrictEqual(${pair})`);

  // Smaller helpers.
  add(`(m) => [m.stripVTControlCharacters('\\u001b[31mred\\u001b[0m'), m.toUSVString('a\\ud800b'), m.toUSVString('ok😀')]`);
  add(`(m) => m.stripVTControlCharacters(5)`);
  add(`(m) => { const log = m.debuglog('test'); return [typeof log, log.enabled, log('x')]; }`);
  add(`(m) => ${q(['format', 'formatWithOptions', 'inspect', 'promisify', 'callbackify', 'inherits', 'deprecate', 'debuglog', 'isDeepStrictEqual', 'stripVTControlCharacters', 'toUSVString'])}.map((k) => k + ':' + typeof m[k])`);
};
