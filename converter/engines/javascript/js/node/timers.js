'use strict';
// Node's `timers` module for the QuickJS engine, over a virtual clock.
//
// The engine has no event loop of its own: the prelude calls `__runNext()`
// whenever the job queue is empty, and this module plays one iteration of
// node's loop at a time, one callback per call:
//
//   1. timers phase: every timer due at the current virtual time runs, by
//      due time and then creation order (an interval rescheduled, or a timer
//      refreshed, counts as created anew);
//   2. check phase: the immediates queued before the phase began run, in
//      order; those queued meanwhile wait for the next iteration;
//   3. the next iteration starts at once if immediates wait; otherwise the
//      virtual clock jumps to the earliest due timer.
//
// So, as in node when a handler runs (from an I/O callback), an immediate
// runs before a timer due at the same time, and a timeout of 0 runs
// after setImmediate callbacks queued in the same job. The loop ends —
// `__runNext()` returns false — when only unref()ed timers and immediates
// remain, or nothing at all. A callback that throws makes `__runNext()`
// throw (node would crash with an uncaught exception); an interval is still
// rescheduled first, as in node.
//
// Left out: the TimeoutOverflowWarning (delays above 2^31-1 ms become 1 ms,
// silently) and async hooks; timer ids are small integers.
//
// Checked against the real module by ../test/vectors.js.

const { validateFunction } = require('edgeport:errors');

const TIMEOUT_MAX = 2 ** 31 - 1;

let now = 0;
let sequence = 0;
let nextId = 1;
const timers = new Set();
const timersById = new Map();
let immediateQueue = [];
let checkBatch = [];
let phase = 'timers';

class Timeout {
  constructor(callback, after, args, isRepeat) {
    after *= 1;
    if (!(after >= 1 && after <= TIMEOUT_MAX)) after = 1;
    this._idleTimeout = after;
    this._onTimeout = callback;
    this._timerArgs = args;
    this._repeat = isRepeat ? after : null;
    this._destroyed = false;
    Object.defineProperty(this, 'id', { value: nextId++ });
    Object.defineProperty(this, 'refed', { value: true, writable: true });
    this.schedule();
  }

  schedule() {
    this._idleStart = now;
    Object.defineProperty(this, 'due', { value: now + this._idleTimeout, writable: true, configurable: true });
    Object.defineProperty(this, 'seq', { value: sequence++, writable: true, configurable: true });
    timers.add(this);
    timersById.set(this.id, this);
  }

  // Reschedules from now, even a timer that has fired; not a cleared one.
  refresh() {
    if (this._onTimeout) {
      this._destroyed = false;
      this.schedule();
    }
    return this;
  }

  ref() {
    this.refed = true;
    return this;
  }

  unref() {
    this.refed = false;
    return this;
  }

  hasRef() {
    return this.refed;
  }

  close() {
    clearTimeout(this);
    return this;
  }

  [Symbol.toPrimitive]() {
    return this.id;
  }
}

class Immediate {
  constructor(callback, args) {
    this._onImmediate = callback;
    this._argv = args;
    this._destroyed = false;
    Object.defineProperty(this, 'refed', { value: true, writable: true });
    immediateQueue.push(this);
  }

  ref() {
    this.refed = true;
    return this;
  }

  unref() {
    this.refed = false;
    return this;
  }

  hasRef() {
    return this.refed;
  }
}

function setTimeout(callback, after, ...args) {
  validateFunction(callback, 'callback');
  return new Timeout(callback, after, args, false);
}

function setInterval(callback, repeat, ...args) {
  validateFunction(callback, 'callback');
  return new Timeout(callback, repeat, args, true);
}

function setImmediate(callback, ...args) {
  validateFunction(callback, 'callback');
  return new Immediate(callback, args);
}

function clearTimeout(timer) {
  if (timer && timer._onTimeout) {
    timer._onTimeout = null;
    unenroll(timer);
    return;
  }
  // clearTimeout(+timeout): node finds the timer by its primitive id.
  if (typeof timer === 'number' || typeof timer === 'string') {
    const found = timersById.get(Number(timer));
    if (found) {
      found._onTimeout = null;
      unenroll(found);
    }
  }
}

function unenroll(timer) {
  timer._destroyed = true;
  timers.delete(timer);
  timersById.delete(timer.id);
}

function clearImmediate(immediate) {
  if (!immediate || immediate._destroyed) return;
  immediate._destroyed = true;
  immediate._onImmediate = null;
  immediateQueue = immediateQueue.filter((i) => i !== immediate);
}

function earliestTimer(dueBy) {
  let best = null;
  for (const timer of timers) {
    if (timer.due > dueBy) continue;
    if (best === null || timer.due < best.due || (timer.due === best.due && timer.seq < best.seq)) best = timer;
  }
  return best;
}

function runTimer(timer) {
  timers.delete(timer);
  const callback = timer._onTimeout;
  try {
    callback.apply(timer, timer._timerArgs);
  } finally {
    // Rescheduled unless the callback cleared it.
    if (timer._repeat !== null && timer._onTimeout === callback && !timer._destroyed && !timers.has(timer)) {
      timer._idleTimeout = timer._repeat;
      timer.schedule();
    } else if (!timers.has(timer)) {
      unenroll(timer);
    }
  }
}

function alive() {
  for (const timer of timers) if (timer.refed) return true;
  return immediateQueue.some((i) => i.refed);
}

// Runs the next callback of the virtual loop; false when the loop has ended.
function __runNext() {
  for (;;) {
    if (phase === 'timers') {
      const timer = earliestTimer(now);
      if (timer !== null) {
        runTimer(timer);
        return true;
      }
      phase = 'check';
      checkBatch = immediateQueue;
      immediateQueue = [];
    }
    while (checkBatch.length > 0) {
      const immediate = checkBatch.shift();
      if (immediate._destroyed) continue;
      immediate._destroyed = true;
      const callback = immediate._onImmediate;
      immediate._onImmediate = null;
      callback.apply(immediate, immediate._argv);
      return true;
    }
    phase = 'timers';
    if (!alive()) return false;
    if (immediateQueue.length === 0) {
      const next = earliestTimer(Infinity);
      if (next.due > now) now = next.due;
    }
  }
}

module.exports = {
  setTimeout,
  clearTimeout,
  setInterval,
  clearInterval: clearTimeout,
  setImmediate,
  clearImmediate,
  __runNext,
};

// `util.promisify(setTimeout)` is timers/promises' setTimeout, as in node, which attaches the
// promise forms under util.promisify.custom.
const kCustomPromisified = Symbol.for('nodejs.util.promisify.custom');
for (const name of ['setTimeout', 'setImmediate']) {
  Object.defineProperty(module.exports[name], kCustomPromisified, {
    enumerable: true,
    configurable: true,
    get() {
      return require('timers/promises')[name];
    },
  });
}

Object.defineProperty(module.exports, 'promises', {
  enumerable: true,
  configurable: true,
  get() {
    return require('timers/promises');
  },
});
