'use strict';
// The engine's stand-in for Node's internal/errors, shared by the built-ins:
// errors carrying Node's `code`, `toString()` and exact argument-type
// messages.
// Handlers never require it; node has no public module of that name.

function nodeError(Base, code, message) {
  const error = new Base(message);
  Object.defineProperty(error, 'toString', {
    value() { return `${this.name} [${code}]: ${this.message}`; },
    enumerable: false,
    writable: true,
    configurable: true,
  });
  error.code = code;
  return error;
}

// util.inspect for the values that appear in argument errors: primitives and
// byte arrays.
function inspect(value) {
  if (typeof value === 'string') {
    let quote = "'";
    if (value.includes("'")) {
      if (!value.includes('"')) quote = '"';
      else if (!value.includes('`') && !value.includes('${')) quote = '`';
    }
    const escaped = value.replace(/[\\\x00-\x1f\x7f]/g, (c) => {
      const named = { '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r', '\b': '\\b', '\f': '\\f', '\v': '\\v' };
      if (named[c] !== undefined) return named[c];
      return '\\x' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
    });
    return quote + (quote === "'" ? escaped.replace(/'/g, "\\'") : escaped) + quote;
  }
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) {
    const shown = Array.from(value.subarray(0, 50), (b) => b.toString(16).padStart(2, '0')).join(' ');
    const more = value.length > 50 ? ` ... ${value.length - 50} more byte${value.length - 50 > 1 ? 's' : ''}` : '';
    if (value instanceof require('buffer').Buffer) return `<Buffer ${shown}${more}>`;
    return `Uint8Array(${value.length}) [ ${Array.from(value).join(', ')} ]`;
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === null) {
    return Object.keys(value).length === 0 ? '[Object: null prototype] {}' : '[Object: null prototype] {...}';
  }
  return String(value);
}

// The "Received ..." part of Node's argument errors, as node's
// determineSpecificType words it (util.inspect, cut at 28 characters).
function determineSpecificType(value) {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `function ${value.name}`;
  if (typeof value === 'object') {
    if (value.constructor && value.constructor.name) return `an instance of ${value.constructor.name}`;
    return require('util').inspect(value, { depth: -1 });
  }
  let inspected = require('util').inspect(value);
  if (inspected.length > 28) inspected = `${inspected.slice(0, 25)}...`;
  return `type ${typeof value} (${inspected})`;
}

const kTypes = ['string', 'function', 'number', 'object', 'Function', 'Object', 'boolean', 'bigint', 'symbol'];

function formatList(array, type) {
  switch (array.length) {
    case 0: return '';
    case 1: return `${array[0]}`;
    case 2: return `${array[0]} ${type} ${array[1]}`;
    case 3: return `${array[0]}, ${array[1]}, ${type} ${array[2]}`;
    default: return `${array.slice(0, -1).join(', ')}, ${type} ${array[array.length - 1]}`;
  }
}

function errInvalidArgType(name, expected, actual) {
  if (!Array.isArray(expected)) expected = [expected];
  let msg = 'The ';
  if (name.endsWith(' argument')) msg += `${name} `;
  else msg += `"${name}" ${name.includes('.') ? 'property' : 'argument'} `;
  msg += 'must be ';
  const types = [];
  const instances = [];
  const other = [];
  for (const value of expected) {
    if (kTypes.includes(value)) types.push(value.toLowerCase());
    else if (/^[A-Z][a-zA-Z0-9]*$/.test(value)) instances.push(value);
    else other.push(value);
  }
  if (instances.length > 0) {
    const pos = types.indexOf('object');
    if (pos !== -1) {
      types.splice(pos, 1);
      instances.push('Object');
    }
  }
  if (types.length > 0) {
    msg += `${types.length > 1 ? 'one of type' : 'of type'} ${formatList(types, 'or')}`;
    if (instances.length > 0 || other.length > 0) msg += ' or ';
  }
  if (instances.length > 0) {
    msg += `an instance of ${formatList(instances, 'or')}`;
    if (other.length > 0) msg += ' or ';
  }
  if (other.length > 0) {
    if (other.length > 1) {
      msg += `one of ${formatList(other, 'or')}`;
    } else {
      if (other[0].toLowerCase() !== other[0]) msg += 'an ';
      msg += `${other[0]}`;
    }
  }
  msg += `. Received ${determineSpecificType(actual)}`;
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', msg);
}

function validateString(value, name) {
  if (typeof value !== 'string') throw errInvalidArgType(name, 'string', value);
}

function validateFunction(value, name) {
  if (typeof value !== 'function') throw errInvalidArgType(name, 'Function', value);
}

module.exports = { nodeError, inspect, determineSpecificType, errInvalidArgType, validateString, validateFunction };
