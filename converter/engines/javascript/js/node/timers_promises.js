'use strict';
// Node's `timers/promises` for the QuickJS engine: promise forms of
// setTimeout and setImmediate over timers.js's virtual clock.
//
// Left out: the `signal` option (no AbortController in the engine) and
// setInterval's async iterator; `{ ref: false }` is honoured.

const timers = require('timers');
const { nodeError, errInvalidArgType } = require('edgeport:errors');

function validateOptions(options) {
  if (options === null || typeof options !== 'object') throw errInvalidArgType('options', 'Object', options);
  if (options.ref !== undefined && typeof options.ref !== 'boolean') throw errInvalidArgType('options.ref', 'boolean', options.ref);
  if (options.signal !== undefined) {
    throw nodeError(Error, 'ERR_METHOD_NOT_IMPLEMENTED', 'The signal option of timers/promises is not implemented');
  }
}

function setTimeout(after, value, options = {}) {
  try {
    validateOptions(options);
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise((resolve) => {
    const timeout = timers.setTimeout(resolve, after, value);
    if (options.ref === false) timeout.unref();
  });
}

function setImmediate(value, options = {}) {
  try {
    validateOptions(options);
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise((resolve) => {
    const immediate = timers.setImmediate(resolve, value);
    if (options.ref === false) immediate.unref();
  });
}

module.exports = { setTimeout, setImmediate };
