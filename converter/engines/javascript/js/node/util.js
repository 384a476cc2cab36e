'use strict';
// Node's `util` module for the QuickJS engine.
//
// Handlers log with util.format / util.inspect (through console too) and wrap
// callback APIs with promisify. This file follows Node 20's lib/util.js and
// lib/internal/util/inspect.js: format's placeholders, inspect's quoting,
// line breaking (breakLength 80, compact 3, grouping of long arrays of short
// items), `<ref *1>` / `[Circular *1]`, getters, symbols, class and
// null-prototype prefixes, so that logged lines read as they do on Lambda.
//
// What plain JavaScript cannot see is approximated and documented where it
// happens: a Promise's state (shown as `Promise { <unknown> }`), proxies
// (inspected as their target, types.isProxy is always false), the entries of
// WeakMap/WeakSet (`<items unknown>`, as node without showHidden), and type
// checks that node does on internal slots are done on brands or
// Symbol.toStringTag. inspect has no colors. Error stacks come from the engine
// and so name its frames, not node's.
//
// Checked against the real module by ../test/vectors.js.

// ---------------------------------------------------------------------------
// Errors, shaped like Node's internal/errors (name, message, code, toString).

const { nodeError, determineSpecificType } = require('edgeport:errors');

// `expected` is node's wording, e.g. 'of type function'.
function errInvalidArgType(name, expected, actual) {
  let subject;
  if (name.endsWith(' argument')) subject = `The ${name}`;
  else subject = `The "${name}" ${name.includes('.') ? 'property' : 'argument'}`;
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE',
    `${subject} must be ${expected}. Received ${determineSpecificType(actual)}`);
}

function validateFunction(value, name) {
  if (typeof value !== 'function') throw errInvalidArgType(name, 'of type function', value);
}

// Runs `callback(...args)` after the current job, as process.nextTick would.
function nextTick(callback, ...args) {
  if (globalThis.process && typeof globalThis.process.nextTick === 'function') {
    globalThis.process.nextTick(callback, ...args);
  } else {
    Promise.resolve().then(() => callback(...args));
  }
}

// ---------------------------------------------------------------------------
// Type checks (util.types). Brands are checked through built-in methods that
// reject foreign receivers, which also works across realms.

const toStringTag = (value) => Object.prototype.toString.call(value).slice(8, -1);

function hasBrand(getter, value) {
  if (value === null || typeof value !== 'object') return false;
  try {
    getter.call(value);
    return true;
  } catch {
    return false;
  }
}

const getterOf = (proto, name) => Object.getOwnPropertyDescriptor(proto, name).get;
const typedArrayName = getterOf(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag);
const regExpSource = getterOf(RegExp.prototype, 'source');
const mapSize = getterOf(Map.prototype, 'size');
const setSize = getterOf(Set.prototype, 'size');
const arrayBufferByteLength = getterOf(ArrayBuffer.prototype, 'byteLength');
const sharedArrayBufferByteLength = typeof SharedArrayBuffer === 'function'
  ? getterOf(SharedArrayBuffer.prototype, 'byteLength') : undefined;
const dataViewByteLength = getterOf(DataView.prototype, 'byteLength');

const isTypedArray = (value) => typedArrayName.call(value) !== undefined;
const isTypedArrayOf = (name) => (value) => typedArrayName.call(value) === name;
const isDate = (value) => hasBrand(Date.prototype.getTime, value);
const isRegExp = (value) => value !== RegExp.prototype && hasBrand(regExpSource, value);
const isMap = (value) => hasBrand(mapSize, value);
const isSet = (value) => hasBrand(setSize, value);
const isWeakMap = (value) => hasBrand(function has() { return WeakMap.prototype.has.call(this, {}); }, value);
const isWeakSet = (value) => hasBrand(function has() { return WeakSet.prototype.has.call(this, {}); }, value);
const isArrayBuffer = (value) => hasBrand(arrayBufferByteLength, value);
const isSharedArrayBuffer = (value) =>
  sharedArrayBufferByteLength !== undefined && hasBrand(sharedArrayBufferByteLength, value);
const isAnyArrayBuffer = (value) => isArrayBuffer(value) || isSharedArrayBuffer(value);
const isDataView = (value) => hasBrand(dataViewByteLength, value);
const isNumberObject = (value) => hasBrand(Number.prototype.valueOf, value);
const isStringObject = (value) => hasBrand(String.prototype.valueOf, value);
const isBooleanObject = (value) => hasBrand(Boolean.prototype.valueOf, value);
const isBigIntObject = (value) => typeof BigInt === 'function' && hasBrand(BigInt.prototype.valueOf, value);
const isSymbolObject = (value) => hasBrand(Symbol.prototype.valueOf, value);
const isBoxedPrimitive = (value) => isNumberObject(value) || isStringObject(value) || isBooleanObject(value) ||
  isBigIntObject(value) || isSymbolObject(value);
const isObjectTagged = (tag) => (value) => value !== null && typeof value === 'object' && toStringTag(value) === tag;
const isPromise = isObjectTagged('Promise');
const isNativeError = isObjectTagged('Error');
// What inspect and the legacy util.isError treat as an error.
const isError = (value) => isNativeError(value) || value instanceof Error;
const isFunctionTagged = (...tags) => (value) => typeof value === 'function' && tags.includes(toStringTag(value));

const types = {
  isAnyArrayBuffer,
  isArrayBuffer,
  isArrayBufferView: (value) => ArrayBuffer.isView(value),
  isArgumentsObject: isObjectTagged('Arguments'),
  isAsyncFunction: isFunctionTagged('AsyncFunction', 'AsyncGeneratorFunction'),
  isBigInt64Array: isTypedArrayOf('BigInt64Array'),
  isBigIntObject,
  isBigUint64Array: isTypedArrayOf('BigUint64Array'),
  isBooleanObject,
  isBoxedPrimitive,
  isDataView,
  isDate,
  isExternal: () => false,
  isFloat32Array: isTypedArrayOf('Float32Array'),
  isFloat64Array: isTypedArrayOf('Float64Array'),
  isGeneratorFunction: isFunctionTagged('GeneratorFunction', 'AsyncGeneratorFunction'),
  isGeneratorObject: isObjectTagged('Generator'),
  isInt8Array: isTypedArrayOf('Int8Array'),
  isInt16Array: isTypedArrayOf('Int16Array'),
  isInt32Array: isTypedArrayOf('Int32Array'),
  isMap,
  isMapIterator: isObjectTagged('Map Iterator'),
  isModuleNamespaceObject: isObjectTagged('Module'),
  isNativeError,
  isNumberObject,
  isPromise,
  isProxy: () => false,
  isRegExp,
  isSet,
  isSetIterator: isObjectTagged('Set Iterator'),
  isSharedArrayBuffer,
  isStringObject,
  isSymbolObject,
  isTypedArray,
  isUint8Array: isTypedArrayOf('Uint8Array'),
  isUint8ClampedArray: isTypedArrayOf('Uint8ClampedArray'),
  isUint16Array: isTypedArrayOf('Uint16Array'),
  isUint32Array: isTypedArrayOf('Uint32Array'),
  isWeakMap,
  isWeakSet,
};

// ---------------------------------------------------------------------------
// inspect

const customInspectSymbol = Symbol.for('nodejs.util.inspect.custom');

const inspectDefaultOptions = {
  showHidden: false,
  depth: 2,
  colors: false,
  customInspect: true,
  showProxy: false,
  maxArrayLength: 100,
  maxStringLength: 10000,
  breakLength: 80,
  compact: 3,
  sorted: false,
  getters: false,
  numericSeparator: false,
};

const kObjectType = 0;
const kArrayExtrasType = 1;

// Escapes for strEscape: control characters, quote, backslash, C1 controls.
const meta = [];
for (let i = 0; i < 0xa0; i++) {
  meta.push(i < 0x20 || (i >= 0x7f && i < 0xa0) ? `\\x${i.toString(16).toUpperCase().padStart(2, '0')}` : '');
}
Object.assign(meta, { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r', 39: "\\'", 92: '\\\\' });

// Quotes a string as node does: single quotes, else double quotes if the
// string has a single quote, else backticks if it also has a double quote.
function strEscape(str) {
  let quote = "'";
  if (str.includes("'")) {
    if (!str.includes('"')) quote = '"';
    else if (!str.includes('`') && !str.includes('${')) quote = '`';
  }
  let result = '';
  let last = 0;
  for (let i = 0; i < str.length; i++) {
    const point = str.charCodeAt(i);
    if ((point === 39 && quote === "'") || point === 92 || point < 32 || (point > 126 && point < 160)) {
      result += str.slice(last, i) + meta[point];
      last = i + 1;
    } else if (point >= 0xd800 && point <= 0xdfff) {
      if (point <= 0xdbff && i + 1 < str.length) {
        const next = str.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) {
          i++;
          continue;
        }
      }
      result += `${str.slice(last, i)}\\u${point.toString(16)}`;
      last = i + 1;
    }
  }
  return quote + result + str.slice(last) + quote;
}

const keyStrRegExp = /^[a-zA-Z_][a-zA-Z_0-9]*$/;

function formatNumber(number) {
  return Object.is(number, -0) ? '-0' : `${number}`;
}

function formatPrimitive(ctx, value) {
  switch (typeof value) {
    case 'string': {
      let trailer = '';
      if (value.length > ctx.maxStringLength) {
        const remaining = value.length - ctx.maxStringLength;
        value = value.slice(0, ctx.maxStringLength);
        trailer = `... ${remaining} more character${remaining > 1 ? 's' : ''}`;
      }
      return strEscape(value) + trailer;
    }
    case 'number': return formatNumber(value);
    case 'bigint': return `${value}n`;
    case 'boolean': return `${value}`;
    case 'undefined': return 'undefined';
    default: return value.toString(); // symbol
  }
}

// The name of the nearest constructor on the prototype chain, null if the
// chain ends without one ([Object: null prototype]).
function getConstructorName(obj) {
  let proto = obj;
  while (proto !== null && proto !== undefined) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, 'constructor');
    if (descriptor !== undefined && typeof descriptor.value === 'function' && descriptor.value.name !== '' &&
        isInstanceof(obj, descriptor.value)) {
      return descriptor.value.name;
    }
    proto = Object.getPrototypeOf(proto);
  }
  return null;
}

function isInstanceof(object, constructor) {
  try {
    return object instanceof constructor;
  } catch {
    return false;
  }
}

function getPrefix(constructor, tag, fallback, size = '') {
  if (constructor === null) {
    if (tag !== '' && fallback !== tag) return `[${fallback}${size}: null prototype] [${tag}] `;
    return `[${fallback}${size}: null prototype] `;
  }
  if (tag !== '' && constructor !== tag) return `${constructor}${size} [${tag}] `;
  return `${constructor}${size} `;
}

function getKeys(value, showHidden) {
  const symbols = Object.getOwnPropertySymbols(value);
  if (showHidden) return [...Object.getOwnPropertyNames(value), ...symbols];
  const keys = Object.keys(value);
  for (const symbol of symbols) {
    if (Object.prototype.propertyIsEnumerable.call(value, symbol)) keys.push(symbol);
  }
  return keys;
}

function isIndexKey(key) {
  return typeof key === 'string' && /^(0|[1-9][0-9]*)$/.test(key) && Number(key) < 2 ** 32 - 1;
}

function formatValue(ctx, value, recurseTimes, typedArray) {
  if (typeof value !== 'object' && typeof value !== 'function') return formatPrimitive(ctx, value);
  if (value === null) return 'null';

  if (ctx.customInspect) {
    // Node's Buffer prints itself through inspect.custom; the engine's has inspect().
    const { Buffer } = require('buffer');
    if (value instanceof Buffer) return value.inspect();
    const maybeCustom = value[customInspectSymbol];
    if (typeof maybeCustom === 'function' && maybeCustom !== inspect) {
      const depth = ctx.depth === null ? null : ctx.depth - recurseTimes;
      const options = { ...ctx, depth };
      delete options.seen;
      delete options.circular;
      delete options.indentationLvl;
      delete options.currentDepth;
      const ret = maybeCustom.call(value, depth, options, inspect);
      if (ret !== value) {
        if (typeof ret !== 'string') return formatValue(ctx, ret, recurseTimes);
        return ret.replace(/\n/g, `\n${' '.repeat(ctx.indentationLvl)}`);
      }
    }
  }

  if (ctx.seen.includes(value)) {
    let index = 1;
    if (ctx.circular === undefined) {
      ctx.circular = new Map([[value, index]]);
    } else {
      index = ctx.circular.get(value);
      if (index === undefined) {
        index = ctx.circular.size + 1;
        ctx.circular.set(value, index);
      }
    }
    return `[Circular *${index}]`;
  }
  return formatRaw(ctx, value, recurseTimes, typedArray);
}

function formatRaw(ctx, value, recurseTimes, typedArray) {
  let keys;
  const constructor = getConstructorName(value);
  let tag = value[Symbol.toStringTag];
  if (typeof tag !== 'string' || (tag !== '' && (ctx.showHidden
    ? Object.prototype.hasOwnProperty : Object.prototype.propertyIsEnumerable).call(value, Symbol.toStringTag))) {
    tag = '';
  }
  let base = '';
  let formatter = formatEmpty;
  let braces;
  let noIterator = true;
  let extrasType = kObjectType;

  // Iterables first, as node does: arrays, sets, maps, typed arrays, iterators.
  if (Symbol.iterator in value || constructor === null) {
    noIterator = false;
    if (Array.isArray(value)) {
      const prefix = (constructor !== 'Array' || tag !== '') ? getPrefix(constructor, tag, 'Array', `(${value.length})`) : '';
      keys = getOwnNonIndexProperties(value, ctx.showHidden);
      braces = [`${prefix}[`, ']'];
      if (value.length === 0 && keys.length === 0) return `${braces[0]}]`;
      extrasType = kArrayExtrasType;
      formatter = formatArray;
    } else if (isSet(value)) {
      const size = setSize.call(value);
      const prefix = getPrefix(constructor, tag, 'Set', `(${size})`);
      keys = getKeys(value, ctx.showHidden);
      formatter = formatSet;
      if (size === 0 && keys.length === 0) return `${prefix}{}`;
      braces = [`${prefix}{`, '}'];
    } else if (isMap(value)) {
      const size = mapSize.call(value);
      const prefix = getPrefix(constructor, tag, 'Map', `(${size})`);
      keys = getKeys(value, ctx.showHidden);
      formatter = formatMap;
      if (size === 0 && keys.length === 0) return `${prefix}{}`;
      braces = [`${prefix}{`, '}'];
    } else if (isTypedArray(value)) {
      keys = getOwnNonIndexProperties(value, ctx.showHidden);
      const fallback = typedArrayName.call(value);
      const size = value.length;
      const prefix = getPrefix(constructor, tag, fallback, `(${size})`);
      braces = [`${prefix}[`, ']'];
      if (value.length === 0 && keys.length === 0) return `${braces[0]}]`;
      formatter = formatTypedArray;
      extrasType = kArrayExtrasType;
    } else if (types.isMapIterator(value) || types.isSetIterator(value)) {
      keys = getKeys(value, ctx.showHidden);
      braces = [`[${tag}] {`, '}'];
      formatter = formatUnknownIterator;
    } else {
      noIterator = true;
    }
  }
  if (noIterator) {
    keys = getKeys(value, ctx.showHidden);
    braces = ['{', '}'];
    if (constructor === 'Object') {
      if (types.isArgumentsObject(value)) braces[0] = '[Arguments] {';
      else if (tag !== '') braces[0] = `${getPrefix(constructor, tag, 'Object')}{`;
      if (keys.length === 0) return `${braces[0]}}`;
    } else if (typeof value === 'function') {
      base = getFunctionBase(value, constructor, tag);
      if (keys.length === 0) return base;
    } else if (isRegExp(value)) {
      base = RegExp.prototype.toString.call(constructor !== null ? value : new RegExp(value));
      const prefix = getPrefix(constructor, tag, 'RegExp');
      if (prefix !== 'RegExp ') base = `${prefix}${base}`;
      if (keys.length === 0 || recurseTimes > ctx.depth) return base;
    } else if (isDate(value)) {
      base = Number.isNaN(Date.prototype.getTime.call(value))
        ? Date.prototype.toString.call(value) : Date.prototype.toISOString.call(value);
      const prefix = getPrefix(constructor, tag, 'Date');
      if (prefix !== 'Date ') base = `${prefix}${base}`;
      if (keys.length === 0) return base;
    } else if (isError(value)) {
      base = formatError(value, constructor, tag, ctx, keys);
      if (keys.length === 0) return base;
    } else if (isAnyArrayBuffer(value)) {
      const arrayType = isArrayBuffer(value) ? 'ArrayBuffer' : 'SharedArrayBuffer';
      const prefix = getPrefix(constructor, tag, arrayType);
      if (typedArray === undefined) {
        formatter = formatArrayBuffer;
      } else if (keys.length === 0) {
        return `${prefix}{ byteLength: ${formatNumber(value.byteLength)} }`;
      }
      braces[0] = `${prefix}{`;
      keys.unshift('byteLength');
    } else if (isDataView(value)) {
      braces[0] = `${getPrefix(constructor, tag, 'DataView')}{`;
      keys.unshift('byteLength', 'byteOffset', 'buffer');
    } else if (isPromise(value)) {
      braces[0] = `${getPrefix(constructor, tag, 'Promise')}{`;
      formatter = () => ['<unknown>'];
    } else if (isWeakSet(value) || isWeakMap(value)) {
      braces[0] = `${getPrefix(constructor, tag, isWeakSet(value) ? 'WeakSet' : 'WeakMap')}{`;
      formatter = () => ['<items unknown>'];
    } else if (isBoxedPrimitive(value)) {
      base = getBoxedBase(value, keys, constructor, tag);
      if (keys.length === 0) return base;
    } else {
      if (keys.length === 0) return `${getPrefix(constructor, tag, 'Object')}{}`;
      braces[0] = `${getPrefix(constructor, tag, 'Object')}{`;
    }
  }

  if (recurseTimes > ctx.depth && ctx.depth !== null) {
    let name = getPrefix(constructor, tag, 'Object').slice(0, -1);
    if (constructor !== null) name = `[${name}]`;
    return name;
  }
  recurseTimes += 1;
  ctx.seen.push(value);
  ctx.currentDepth = recurseTimes;
  let output = formatter(ctx, value, recurseTimes);
  for (const key of keys) {
    output.push(formatProperty(ctx, value, recurseTimes, key, kObjectType));
  }
  ctx.seen.pop();

  if (ctx.circular !== undefined) {
    const index = ctx.circular.get(value);
    if (index !== undefined) base = base === '' ? `<ref *${index}>` : `<ref *${index}> ${base}`;
  }
  if (ctx.sorted) {
    const comparator = ctx.sorted === true ? undefined : ctx.sorted;
    if (extrasType === kObjectType) output = output.sort(comparator);
    else if (keys.length > 1) {
      const sorted = output.slice(output.length - keys.length).sort(comparator);
      output.splice(output.length - keys.length, keys.length, ...sorted);
    }
  }
  return reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value);
}

function getOwnNonIndexProperties(value, showHidden) {
  return getKeys(value, showHidden).filter((key) => !isIndexKey(key));
}

function getFunctionBase(value, constructor, tag) {
  const source = Function.prototype.toString.call(value);
  if (source.startsWith('class') && source.endsWith('}')) {
    const body = source.slice(5, -1);
    const brace = body.indexOf('{');
    let base = `[class ${Object.prototype.hasOwnProperty.call(value, 'name') && value.name ? value.name : '(anonymous)'}`;
    if (brace !== -1 && /\bextends\b/.test(body.slice(0, brace))) {
      const superclass = Object.getPrototypeOf(value);
      if (superclass && superclass.name) base += ` extends ${superclass.name}`;
    } else if (constructor !== 'Function' && constructor !== null) {
      base += ` [${constructor}]`;
    }
    if (tag !== '' && constructor !== tag) base += ` [${tag}]`;
    return `${base}]`;
  }
  let type = 'Function';
  if (types.isGeneratorFunction(value)) type = `Generator${type}`;
  if (types.isAsyncFunction(value)) type = `Async${type}`;
  let base = `[${type}`;
  if (constructor === null) base += ' (null prototype)';
  base += value.name === '' ? ' (anonymous)' : `: ${value.name}`;
  base += ']';
  if (constructor !== type && constructor !== null) base += ` ${constructor}`;
  if (tag !== '' && constructor !== tag) base += ` [${tag}]`;
  return base;
}

function getBoxedBase(value, keys, constructor, tag) {
  let type;
  let fallback;
  if (isNumberObject(value)) {
    fallback = 'Number';
    type = formatNumber(Number.prototype.valueOf.call(value));
  } else if (isStringObject(value)) {
    fallback = 'String';
    const primitive = String.prototype.valueOf.call(value);
    type = strEscape(primitive);
    // The string's indices are shown by the base already.
    keys.splice(0, primitive.length);
  } else if (isBooleanObject(value)) {
    fallback = 'Boolean';
    type = `${Boolean.prototype.valueOf.call(value)}`;
  } else if (isBigIntObject(value)) {
    fallback = 'BigInt';
    type = `${BigInt.prototype.valueOf.call(value)}n`;
  } else {
    fallback = 'Symbol';
    type = Symbol.prototype.toString.call(Symbol.prototype.valueOf.call(value));
  }
  let base = `[${fallback}`;
  if (fallback !== constructor) base += constructor === null ? ' (null prototype)' : ` (${constructor})`;
  base += `: ${type}]`;
  if (tag !== '' && tag !== constructor) base += ` [${tag}]`;
  return base;
}

// An error prints as its stack (the engine's), bracketed when it has no
// frames, followed by its other own properties.
function formatError(err, constructor, tag, ctx, keys) {
  const name = err.name != null ? String(err.name) : 'Error';
  const message = err.message != null ? String(err.message) : '';
  let stack = typeof err.stack === 'string' && err.stack !== '' ? err.stack : Error.prototype.toString.call(err);
  // message and stack are shown by the stack already.
  for (const key of ['stack', 'message']) {
    const index = keys.indexOf(key);
    if (index !== -1 && (key === 'stack' || stack.includes(message))) keys.splice(index, 1);
  }
  if ('cause' in err && (keys.length === 0 || !keys.includes('cause'))) keys.push('cause');
  if (constructor === null || (name.endsWith('Error') && stack.startsWith(name) &&
      (stack.length === name.length || stack[name.length] === ':' || stack[name.length] === '\n'))) {
    let fallback = 'Error';
    if (constructor === null) {
      const start = /^([A-Z][a-z_ A-Z0-9[\]()-]+)(?::|\n\s+at)/.exec(stack) || /^([a-z_A-Z0-9-]*Error)$/.exec(stack);
      fallback = (start && start[1]) || '';
      stack = stack.slice(fallback.length);
      stack = `[${fallback}: null prototype]${stack}`;
    } else if (constructor !== name && !stack.startsWith(constructor)) {
      stack = `${constructor} [${name}]${stack.slice(name.length)}`;
    }
  }
  const stackStart = stack.indexOf('\n    at');
  if (stackStart === -1) stack = `[${stack}]`;
  if (ctx.indentationLvl !== 0) {
    const indentation = ' '.repeat(ctx.indentationLvl);
    stack = stack.replace(/\n/g, `\n${indentation}`);
  }
  return stack;
}

function formatEmpty() {
  return [];
}

function formatArrayBuffer(ctx, value) {
  const bytes = new Uint8Array(value);
  let str = Array.from(bytes.subarray(0, Math.min(ctx.maxArrayLength, bytes.length)),
    (b) => b.toString(16).padStart(2, '0')).join(' ');
  const remaining = bytes.length - ctx.maxArrayLength;
  if (remaining > 0) str += ` ... ${remaining} more byte${remaining > 1 ? 's' : ''}`;
  return [`[Uint8Contents]: <${str}>`];
}

function formatArray(ctx, value, recurseTimes) {
  const valLen = value.length;
  const len = Math.min(Math.max(0, ctx.maxArrayLength), valLen);
  const remaining = valLen - len;
  const output = [];
  for (let i = 0; i < len; i++) {
    if (!Object.prototype.hasOwnProperty.call(value, i)) return formatArrayWithHoles(ctx, value, recurseTimes, len, output);
    output.push(formatProperty(ctx, value, recurseTimes, i, kArrayExtrasType));
  }
  return moreItems(output, remaining);
}

// Runs of holes print as `<n empty items>`.
function formatArrayWithHoles(ctx, value, recurseTimes, len, output) {
  let i = output.length;
  let shown = output.length;
  while (i < value.length && shown < len) {
    if (Object.prototype.hasOwnProperty.call(value, i)) {
      output.push(formatProperty(ctx, value, recurseTimes, i, kArrayExtrasType));
      i++;
    } else {
      let j = i;
      while (j < value.length && !Object.prototype.hasOwnProperty.call(value, j)) j++;
      const holes = j - i;
      output.push(`<${holes} empty item${holes > 1 ? 's' : ''}>`);
      i = j;
    }
    shown++;
  }
  return moreItems(output, value.length - i);
}

function formatTypedArray(ctx, value, recurseTimes) {
  const length = value.length;
  const maxLength = Math.min(Math.max(0, ctx.maxArrayLength), length);
  const remaining = length - maxLength;
  const output = [];
  for (let i = 0; i < maxLength; ++i) {
    output.push(typeof value[i] === 'bigint' ? `${value[i]}n` : formatNumber(value[i]));
  }
  moreItems(output, remaining);
  if (ctx.showHidden) {
    ctx.indentationLvl += 2;
    for (const key of ['BYTES_PER_ELEMENT', 'length', 'byteLength', 'byteOffset', 'buffer']) {
      output.push(`[${key}]: ${formatValue(ctx, value[key], recurseTimes, true)}`);
    }
    ctx.indentationLvl -= 2;
  }
  return output;
}

function moreItems(output, remaining) {
  if (remaining > 0) output.push(`... ${remaining} more item${remaining > 1 ? 's' : ''}`);
  return output;
}

function formatSet(ctx, value, recurseTimes) {
  const size = setSize.call(value);
  const max = Math.min(Math.max(0, ctx.maxArrayLength), size);
  const output = [];
  ctx.indentationLvl += 2;
  for (const v of Set.prototype.values.call(value)) {
    if (output.length >= max) break;
    output.push(formatValue(ctx, v, recurseTimes));
  }
  ctx.indentationLvl -= 2;
  return moreItems(output, size - max);
}

function formatMap(ctx, value, recurseTimes) {
  const size = mapSize.call(value);
  const max = Math.min(Math.max(0, ctx.maxArrayLength), size);
  const output = [];
  ctx.indentationLvl += 2;
  for (const [k, v] of Map.prototype.entries.call(value)) {
    if (output.length >= max) break;
    output.push(`${formatValue(ctx, k, recurseTimes)} => ${formatValue(ctx, v, recurseTimes)}`);
  }
  ctx.indentationLvl -= 2;
  return moreItems(output, size - max);
}

// Map and Set iterators can only be read by consuming a copy: node peeks at
// them natively; here the remaining entries are not shown.
function formatUnknownIterator() {
  return [];
}

function formatProperty(ctx, value, recurseTimes, key, type) {
  let name;
  let str;
  const desc = Object.getOwnPropertyDescriptor(value, key) || { value: value[key], enumerable: true };
  if (desc.value !== undefined) {
    ctx.indentationLvl += 2;
    str = formatValue(ctx, desc.value, recurseTimes);
    ctx.indentationLvl -= 2;
  } else if (desc.get !== undefined) {
    str = desc.set !== undefined ? '[Getter/Setter]' : '[Getter]';
  } else if (desc.set !== undefined) {
    str = '[Setter]';
  } else {
    str = 'undefined';
  }
  if (type === kArrayExtrasType) return str;
  if (typeof key === 'symbol') {
    name = `[${strEscapeSymbol(key)}]`;
  } else if (key === '__proto__') {
    name = "['__proto__']";
  } else if (desc.enumerable === false) {
    name = `[${keyStrRegExp.test(key) ? key : strEscape(key)}]`;
  } else if (keyStrRegExp.test(key)) {
    name = key;
  } else {
    name = strEscape(key);
  }
  return `${name}: ${str}`;
}

function strEscapeSymbol(symbol) {
  const description = symbol.description;
  if (description === undefined || keyStrRegExp.test(description) || /^[^\s'"`\\]*$/.test(description)) {
    return symbol.toString();
  }
  return `Symbol(${strEscape(description)})`;
}

function isBelowBreakLength(ctx, output, start, base) {
  let totalLength = output.length + start;
  if (totalLength + output.length > ctx.breakLength) return false;
  for (let i = 0; i < output.length; i++) {
    totalLength += output[i].length;
    if (totalLength > ctx.breakLength) return false;
  }
  return base === '' || !base.includes('\n');
}

function reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value) {
  if (ctx.compact !== true) {
    if (typeof ctx.compact === 'number' && ctx.compact >= 1) {
      const entries = output.length;
      if (extrasType === kArrayExtrasType && entries > 6) output = groupArrayElements(ctx, output, value);
      if (ctx.currentDepth - recurseTimes < ctx.compact && entries === output.length) {
        const start = output.length + ctx.indentationLvl + braces[0].length + base.length + 10;
        if (isBelowBreakLength(ctx, output, start, base)) {
          const joined = output.join(', ');
          if (!joined.includes('\n')) return `${base ? `${base} ` : ''}${braces[0]} ${joined} ${braces[1]}`;
        }
      }
    }
    const indentation = `\n${' '.repeat(ctx.indentationLvl)}`;
    return `${base ? `${base} ` : ''}${braces[0]}${indentation}  ${output.join(`,${indentation}  `)}${indentation}${braces[1]}`;
  }
  if (isBelowBreakLength(ctx, output, 0, base)) {
    return `${braces[0]}${base ? ` ${base}` : ''} ${output.join(', ')} ${braces[1]}`;
  }
  const indentation = `\n${' '.repeat(ctx.indentationLvl)}`;
  const ln = base === '' && braces[0].length === 1 ? ' ' : `${base ? ` ${base}` : ''}\n${indentation}  `;
  return `${braces[0]}${ln}${output.join(`,\n${indentation}  `)} ${braces[1]}`;
}

// Lays out many short array items in aligned columns, as node does.
function groupArrayElements(ctx, output, value) {
  let totalLength = 0;
  let maxLength = 0;
  let outputLength = output.length;
  if (ctx.maxArrayLength < output.length) outputLength--; // leave "... n more items" alone
  const separatorSpace = 2;
  const dataLen = new Array(outputLength);
  for (let i = 0; i < outputLength; i++) {
    const len = output[i].length;
    dataLen[i] = len;
    totalLength += len + separatorSpace;
    if (maxLength < len) maxLength = len;
  }
  const actualMax = maxLength + separatorSpace;
  if (actualMax * 3 + ctx.indentationLvl < ctx.breakLength &&
      (totalLength / actualMax > 5 || maxLength <= 6)) {
    const averageBias = Math.sqrt(actualMax - totalLength / output.length);
    const biasedMax = Math.max(actualMax - 3 - averageBias, 1);
    const columns = Math.min(
      Math.round(Math.sqrt(2.5 * biasedMax * outputLength) / biasedMax),
      Math.floor((ctx.breakLength - ctx.indentationLvl) / actualMax),
      ctx.compact * 4,
      15,
    );
    if (columns <= 1) return output;
    const tmp = [];
    const maxLineLength = [];
    for (let i = 0; i < columns; i++) {
      let lineLength = 0;
      for (let j = i; j < output.length; j += columns) {
        if (dataLen[j] > lineLength) lineLength = dataLen[j];
      }
      maxLineLength.push(lineLength + separatorSpace);
    }
    let padStart = true;
    if (value !== undefined) {
      for (let i = 0; i < output.length; i++) {
        if (typeof value[i] !== 'number' && typeof value[i] !== 'bigint') {
          padStart = false;
          break;
        }
      }
    }
    for (let i = 0; i < outputLength; i += columns) {
      const max = Math.min(i + columns, outputLength);
      let str = '';
      let j = i;
      for (; j < max - 1; j++) {
        const cell = `${output[j]}, `;
        str += padStart ? cell.padStart(maxLineLength[j - i]) : cell.padEnd(maxLineLength[j - i]);
      }
      str += padStart ? output[j].padStart(maxLineLength[j - i] - separatorSpace) : output[j];
      tmp.push(str);
    }
    if (ctx.maxArrayLength < output.length) tmp.push(output[outputLength]);
    output = tmp;
  }
  return output;
}

function inspect(value, opts) {
  const ctx = { indentationLvl: 0, seen: [], currentDepth: 0, ...inspectDefaultOptions };
  if (arguments.length > 1) {
    // Legacy signature: inspect(value, showHidden, depth, colors).
    if (arguments.length > 2 && arguments[2] !== undefined) ctx.depth = arguments[2];
    if (typeof opts === 'boolean') ctx.showHidden = opts;
    else if (opts) {
      for (const key of Object.keys(opts)) {
        if (Object.prototype.hasOwnProperty.call(inspectDefaultOptions, key)) ctx[key] = opts[key];
      }
    }
  }
  if (ctx.maxArrayLength === null) ctx.maxArrayLength = Infinity;
  if (ctx.maxStringLength === null) ctx.maxStringLength = Infinity;
  return formatValue(ctx, value, 0);
}
inspect.custom = customInspectSymbol;
inspect.defaultOptions = inspectDefaultOptions;

// ---------------------------------------------------------------------------
// format

// Global constructors whose toString is the built-in one: %s inspects them.
const builtInObjects = new Set(Object.getOwnPropertyNames(globalThis).filter((name) => /^[A-Z][a-zA-Z0-9]+$/.test(name)));

function hasBuiltInToString(value) {
  if (typeof value.toString !== 'function') return true;
  if (Object.prototype.hasOwnProperty.call(value, 'toString')) return false;
  let pointer = value;
  do {
    pointer = Object.getPrototypeOf(pointer);
  } while (!Object.prototype.hasOwnProperty.call(pointer, 'toString'));
  const descriptor = Object.getOwnPropertyDescriptor(pointer, 'constructor');
  return descriptor !== undefined && typeof descriptor.value === 'function' && builtInObjects.has(descriptor.value.name);
}

function tryStringify(arg) {
  try {
    return JSON.stringify(arg);
  } catch (err) {
    // V8 and QuickJS word the circular-structure error differently.
    if (err instanceof TypeError && /circular/i.test(err.message)) return '[Circular]';
    throw err;
  }
}

function formatWithOptionsInternal(inspectOptions, args) {
  const first = args[0];
  let a = 0;
  let str = '';
  let join = '';
  if (typeof first === 'string') {
    if (args.length === 1) return first;
    let tempStr;
    let lastPos = 0;
    for (let i = 0; i < first.length - 1; i++) {
      if (first.charCodeAt(i) !== 37) continue; // '%'
      const nextChar = first.charCodeAt(++i);
      if (a + 1 !== args.length) {
        switch (nextChar) {
          case 115: { // 's'
            const tempArg = args[++a];
            if (typeof tempArg === 'number') tempStr = formatNumber(tempArg);
            else if (typeof tempArg === 'bigint') tempStr = `${tempArg}n`;
            else if (typeof tempArg !== 'object' || tempArg === null || !hasBuiltInToString(tempArg)) tempStr = String(tempArg);
            else tempStr = inspect(tempArg, { ...inspectOptions, depth: 0, colors: false, compact: 3 });
            break;
          }
          case 106: // 'j'
            tempStr = tryStringify(args[++a]);
            break;
          case 100: { // 'd'
            const tempNum = args[++a];
            if (typeof tempNum === 'bigint') tempStr = `${tempNum}n`;
            else if (typeof tempNum === 'symbol') tempStr = 'NaN';
            else tempStr = formatNumber(Number(tempNum));
            break;
          }
          case 79: // 'O'
            tempStr = inspect(args[++a], inspectOptions);
            break;
          case 111: // 'o'
            tempStr = inspect(args[++a], { ...inspectOptions, showHidden: true, showProxy: true, depth: 4 });
            break;
          case 105: { // 'i'
            const tempInteger = args[++a];
            if (typeof tempInteger === 'bigint') tempStr = `${tempInteger}n`;
            else if (typeof tempInteger === 'symbol') tempStr = 'NaN';
            else tempStr = formatNumber(Number.parseInt(tempInteger));
            break;
          }
          case 102: { // 'f'
            const tempFloat = args[++a];
            if (typeof tempFloat === 'symbol') tempStr = 'NaN';
            else tempStr = formatNumber(Number.parseFloat(tempFloat));
            break;
          }
          case 99: // 'c': CSS, meaningless outside a browser console
            a += 1;
            tempStr = '';
            break;
          case 37: // '%'
            str += first.slice(lastPos, i);
            lastPos = i + 1;
            continue;
          default: // not a placeholder
            continue;
        }
        if (lastPos !== i - 1) str += first.slice(lastPos, i - 1);
        str += tempStr;
        lastPos = i + 1;
      } else if (nextChar === 37) {
        str += first.slice(lastPos, i);
        lastPos = i + 1;
      }
    }
    if (lastPos !== 0) {
      a++;
      join = ' ';
      if (lastPos < first.length) str += first.slice(lastPos);
    }
  }
  while (a < args.length) {
    const value = args[a];
    str += join;
    str += typeof value !== 'string' ? inspect(value, inspectOptions) : value;
    join = ' ';
    a++;
  }
  return str;
}

function format(...args) {
  return formatWithOptionsInternal(undefined, args);
}

function formatWithOptions(inspectOptions, ...args) {
  if (inspectOptions === null || typeof inspectOptions !== 'object' || Array.isArray(inspectOptions)) {
    throw errInvalidArgType('inspectOptions', 'of type object', inspectOptions);
  }
  return formatWithOptionsInternal(inspectOptions, args);
}

// ---------------------------------------------------------------------------
// Functions on functions

const kCustomPromisifiedSymbol = Symbol.for('nodejs.util.promisify.custom');

function copyProperties(target, source) {
  const descriptors = Object.getOwnPropertyDescriptors(source);
  for (const descriptor of Object.values(descriptors)) Object.setPrototypeOf(descriptor, null);
  return Object.defineProperties(target, descriptors);
}

function promisify(original) {
  validateFunction(original, 'original');
  if (original[kCustomPromisifiedSymbol]) {
    const fn = original[kCustomPromisifiedSymbol];
    validateFunction(fn, 'util.promisify.custom');
    return Object.defineProperty(fn, kCustomPromisifiedSymbol, {
      value: fn, enumerable: false, writable: false, configurable: true,
    });
  }
  function fn(...args) {
    return new Promise((resolve, reject) => {
      args.push((err, ...values) => {
        if (err) return reject(err);
        resolve(values[0]);
      });
      Reflect.apply(original, this, args);
    });
  }
  Object.setPrototypeOf(fn, Object.getPrototypeOf(original));
  Object.defineProperty(fn, kCustomPromisifiedSymbol, {
    value: fn, enumerable: false, writable: false, configurable: true,
  });
  return copyProperties(fn, original);
}
promisify.custom = kCustomPromisifiedSymbol;

function callbackifyOnRejected(reason, cb) {
  // A falsy rejection reason would read as success to the callback.
  if (!reason) {
    const error = nodeError(Error, 'ERR_FALSY_VALUE_REJECTION', 'Promise was rejected with falsy value');
    error.reason = reason;
    reason = error;
  }
  return cb(reason);
}

function callbackify(original) {
  validateFunction(original, 'original');
  function callbackified(...args) {
    const maybeCb = args.pop();
    validateFunction(maybeCb, 'last argument');
    const cb = maybeCb.bind(this);
    Reflect.apply(original, this, args).then(
      (ret) => nextTick(cb, null, ret),
      (rej) => nextTick(callbackifyOnRejected, rej, cb));
  }
  const descriptors = Object.getOwnPropertyDescriptors(original);
  if (typeof descriptors.length.value === 'number') descriptors.length.value++;
  if (typeof descriptors.name.value === 'string') descriptors.name.value += 'Callbackified';
  for (const descriptor of Object.values(descriptors)) Object.setPrototypeOf(descriptor, null);
  Object.defineProperties(callbackified, descriptors);
  return callbackified;
}

function inherits(ctor, superCtor) {
  if (ctor === undefined || ctor === null) throw errInvalidArgType('ctor', 'of type function', ctor);
  if (superCtor === undefined || superCtor === null) throw errInvalidArgType('superCtor', 'of type function', superCtor);
  if (superCtor.prototype === undefined) {
    throw errInvalidArgType('superCtor.prototype', 'of type object', superCtor.prototype);
  }
  Object.defineProperty(ctor, 'super_', { value: superCtor, writable: true, configurable: true });
  Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
}

// Node wraps `fn` to print a DeprecationWarning on first use. The wrapper is
// kept (callers may compare identities) but prints nothing: the engine has no
// process warnings, and a converted function's logs should be its own.
function deprecate(fn, msg, code) {
  if (code !== undefined && typeof code !== 'string') throw errInvalidArgType('code', 'of type string', code);
  function deprecated(...args) {
    if (new.target) return Reflect.construct(fn, args, new.target);
    return Reflect.apply(fn, this, args);
  }
  Object.setPrototypeOf(deprecated, fn);
  if (fn.prototype) deprecated.prototype = fn.prototype;
  return deprecated;
}

// ---------------------------------------------------------------------------
// isDeepStrictEqual, after node's comparisons.js in strict mode.

function isDeepStrictEqual(a, b) {
  return innerDeepEqual(a, b, new Map());
}

function innerDeepEqual(a, b, memos) {
  if (a === b) return a !== 0 || Object.is(a, b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return typeof a === 'number' && Number.isNaN(a) && Number.isNaN(b);
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (toStringTag(a) !== toStringTag(b)) return false;
  // Cycles: a pair already under comparison is taken as equal.
  let seen = memos.get(a);
  if (seen !== undefined && seen.has(b)) return true;
  if (seen === undefined) memos.set(a, seen = new Set());
  seen.add(b);

  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
  } else if (isDate(a)) {
    if (!isDate(b) || Date.prototype.getTime.call(a) !== Date.prototype.getTime.call(b)) return false;
  } else if (isRegExp(a)) {
    if (!isRegExp(b) || a.source !== b.source || a.flags !== b.flags || a.lastIndex !== b.lastIndex) return false;
  } else if (isNativeError(a)) {
    if (!isNativeError(b) || a.message !== b.message || a.name !== b.name) return false;
  } else if (ArrayBuffer.isView(a)) {
    if (!ArrayBuffer.isView(b) || typedArrayName.call(a) !== typedArrayName.call(b)) return false;
    if (a.byteLength !== b.byteLength) return false;
    if (isTypedArray(a) && (typedArrayName.call(a) === 'Float32Array' || typedArrayName.call(a) === 'Float64Array')) {
      for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
    } else if (!bytesEqual(a.buffer, a.byteOffset, b.buffer, b.byteOffset, a.byteLength)) {
      return false;
    }
  } else if (isAnyArrayBuffer(a)) {
    if (!isAnyArrayBuffer(b) || a.byteLength !== b.byteLength || !bytesEqual(a, 0, b, 0, a.byteLength)) return false;
  } else if (isBoxedPrimitive(a)) {
    if (!isBoxedPrimitive(b) || !Object.is(a.valueOf(), b.valueOf())) return false;
  } else if (isSet(a)) {
    if (!isSet(b) || a.size !== b.size || !setEquiv(a, b, memos)) return false;
  } else if (isMap(a)) {
    if (!isMap(b) || a.size !== b.size || !mapEquiv(a, b, memos)) return false;
  } else if (isWeakMap(a) || isWeakSet(a) || isPromise(a)) {
    return false;
  }
  const keysA = getKeys(a, false);
  const keysB = getKeys(b, false);
  if (keysA.length !== keysB.length) return false;
  for (const key of keysA) {
    if (!Object.prototype.propertyIsEnumerable.call(b, key)) return false;
    if (!innerDeepEqual(a[key], b[key], memos)) return false;
  }
  return true;
}

function bytesEqual(bufferA, offsetA, bufferB, offsetB, length) {
  const x = new Uint8Array(bufferA, offsetA, length);
  const y = new Uint8Array(bufferB, offsetB, length);
  for (let i = 0; i < length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function setEquiv(a, b, memos) {
  const pending = [];
  for (const value of a) {
    if (!b.has(value)) {
      if (typeof value !== 'object' || value === null) return false;
      pending.push(value);
    }
  }
  if (pending.length === 0) return true;
  const candidates = [...b].filter((value) => typeof value === 'object' && value !== null && !a.has(value));
  for (const value of pending) {
    const index = candidates.findIndex((candidate) => innerDeepEqual(value, candidate, memos));
    if (index === -1) return false;
    candidates.splice(index, 1);
  }
  return true;
}

function mapEquiv(a, b, memos) {
  const pending = [];
  for (const [key, value] of a) {
    if (b.has(key)) {
      if (!innerDeepEqual(value, b.get(key), memos)) return false;
    } else {
      if (typeof key !== 'object' || key === null) return false;
      pending.push([key, value]);
    }
  }
  if (pending.length === 0) return true;
  const candidates = [...b].filter(([key]) => typeof key === 'object' && key !== null && !a.has(key));
  for (const [key, value] of pending) {
    const index = candidates.findIndex(([k, v]) => innerDeepEqual(key, k, memos) && innerDeepEqual(value, v, memos));
    if (index === -1) return false;
    candidates.splice(index, 1);
  }
  return true;
}

// ---------------------------------------------------------------------------
// Small helpers

function stripVTControlCharacters(str) {
  if (typeof str !== 'string') throw errInvalidArgType('str', 'of type string', str);
  // The ANSI escape pattern node uses.
  return str.replace(/[\u001B\u009B][[\]()#;?]*(?:(?:(?:(?:;[-a-zA-Z\d/#&.:=?%@~_]+)*|[a-zA-Z\d]+(?:;[-a-zA-Z\d/#&.:=?%@~_]*)*)?\u0007)|(?:(?:\d{1,4}(?:;\d{0,4})*)?[\dA-PR-TZcf-ntqry=><~]))/g, '');
}

function toUSVString(string) {
  return String(string).replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

// debuglog(section) logs when NODE_DEBUG names the section; the engine has
// no NODE_DEBUG, so the logger is always disabled.
function debuglog() {
  const logger = () => {};
  Object.defineProperty(logger, 'enabled', { get: () => false, configurable: true, enumerable: true });
  return logger;
}

module.exports = {
  format,
  formatWithOptions,
  inspect,
  promisify,
  callbackify,
  inherits,
  deprecate,
  debuglog,
  debug: debuglog,
  isDeepStrictEqual,
  stripVTControlCharacters,
  toUSVString,
  types,
  TextEncoder: globalThis.TextEncoder,
  TextDecoder: globalThis.TextDecoder,
  // The long-deprecated type predicates, still used by old packages.
  isArray: Array.isArray,
  isBoolean: (arg) => typeof arg === 'boolean',
  isBuffer: (arg) => arg instanceof require('buffer').Buffer,
  isDate,
  isError,
  isFunction: (arg) => typeof arg === 'function',
  isNull: (arg) => arg === null,
  isNullOrUndefined: (arg) => arg === null || arg === undefined,
  isNumber: (arg) => typeof arg === 'number',
  isObject: (arg) => arg !== null && typeof arg === 'object',
  isPrimitive: (arg) => arg === null || (typeof arg !== 'object' && typeof arg !== 'function'),
  isRegExp,
  isString: (arg) => typeof arg === 'string',
  isSymbol: (arg) => typeof arg === 'symbol',
  isUndefined: (arg) => arg === undefined,
};
