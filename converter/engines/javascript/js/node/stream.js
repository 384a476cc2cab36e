'use strict';
// Node's `stream` module for the QuickJS engine, minimal.
//
// What handlers and their packages need at import time and for simple
// in-memory use: the legacy `Stream` (an EventEmitter with node's pipe(), the
// base of e.g. jws's DataStream, which sets `readable = true` and emits
// 'data' itself), and small `Readable`, `Writable`, `Duplex`, `Transform` and
// `PassThrough` built on plain prototypes so that both `class extends` and
// `Readable.call(this)` + prototype inheritance work. Chunks flow in order,
// 'data' / 'end' / 'finish' come on later jobs as in node, and `for await`
// reads a Readable.
//
// Left out: backpressure (highWaterMark is ignored: write() returns true,
// there is no 'drain' from these classes), object-mode distinctions (chunks
// pass as given; strings are not turned into Buffers), cork/uncork,
// 'readable' events and paused-mode read(n), destroy() semantics beyond
// 'close', pipeline/finished/compose, web streams.
//
// Checked against the real module by ../test/vectors.js.

const EventEmitter = require('events');

const later = (fn) => Promise.resolve().then(fn);

function inherit(Child, Parent) {
  Object.setPrototypeOf(Child.prototype, Parent.prototype);
  Object.setPrototypeOf(Child, Parent);
}

// --- the legacy Stream --------------------------------------------------------

function Stream(opts) {
  EventEmitter.call(this, opts);
}
inherit(Stream, EventEmitter);

// Node's legacy pipe: forwards 'data' to dest.write(), ends dest on 'end'.
Stream.prototype.pipe = function pipe(dest, options) {
  const source = this;
  function ondata(chunk) {
    if (dest.writable && dest.write(chunk) === false && source.pause) source.pause();
  }
  source.on('data', ondata);
  function ondrain() {
    if (source.readable && source.resume) source.resume();
  }
  dest.on('drain', ondrain);
  let didOnEnd = false;
  function onend() {
    if (didOnEnd) return;
    didOnEnd = true;
    dest.end();
  }
  function onclose() {
    if (didOnEnd) return;
    didOnEnd = true;
    if (typeof dest.destroy === 'function') dest.destroy();
  }
  if (!options || options.end !== false) {
    source.on('end', onend);
    source.on('close', onclose);
  }
  function onerror(er) {
    cleanup();
    if (EventEmitter.listenerCount(this, 'error') === 0) this.emit('error', er);
  }
  source.prependListener('error', onerror);
  dest.prependListener('error', onerror);
  function cleanup() {
    source.removeListener('data', ondata);
    dest.removeListener('drain', ondrain);
    source.removeListener('end', onend);
    source.removeListener('close', onclose);
    source.removeListener('error', onerror);
    dest.removeListener('error', onerror);
    source.removeListener('end', cleanup);
    source.removeListener('close', cleanup);
    dest.removeListener('close', cleanup);
  }
  source.on('end', cleanup);
  source.on('close', cleanup);
  dest.on('close', cleanup);
  dest.emit('pipe', source);
  return dest;
};

// --- Readable -----------------------------------------------------------------

function Readable(options) {
  if (!(this instanceof Readable)) return new Readable(options);
  Stream.call(this, options);
  this.readable = true;
  this.destroyed = false;
  Object.defineProperty(this, '_readableState', {
    value: { buffer: [], ended: false, endEmitted: false, flowing: null, scheduled: false, reading: false, encoding: null },
    writable: true,
    configurable: true,
  });
  if (options && typeof options.read === 'function') this._read = options.read;
  if (options && typeof options.destroy === 'function') this._destroy = options.destroy;
  if (options && options.encoding) this._readableState.encoding = options.encoding;
}
inherit(Readable, Stream);

Readable.prototype._read = function _read() {
  throw Object.assign(new Error('The _read() method is not implemented'), { code: 'ERR_METHOD_NOT_IMPLEMENTED' });
};

Readable.prototype.push = function push(chunk, encoding) {
  const state = this._readableState;
  if (chunk === null) {
    state.ended = true;
  } else if (!state.ended) {
    if (state.encoding && typeof chunk !== 'string' && chunk && typeof chunk.toString === 'function') {
      chunk = chunk.toString(state.encoding);
    } else if (encoding && typeof chunk === 'string' && state.encoding === null) {
      chunk = require('buffer').Buffer.from(chunk, encoding);
    }
    state.buffer.push(chunk);
  }
  state.reading = false;
  scheduleFlow(this);
  return !state.ended;
};

Readable.prototype.unshift = function unshift(chunk) {
  this._readableState.buffer.unshift(chunk);
  scheduleFlow(this);
};

Readable.prototype.setEncoding = function setEncoding(encoding) {
  this._readableState.encoding = encoding;
  return this;
};

// Emits buffered chunks while flowing, asks _read() for more, ends once.
function scheduleFlow(stream) {
  const state = stream._readableState;
  if (state.scheduled) return;
  state.scheduled = true;
  later(() => {
    state.scheduled = false;
    while (state.flowing && state.buffer.length > 0 && !stream.destroyed) stream.emit('data', state.buffer.shift());
    if (state.ended && state.buffer.length === 0 && !state.endEmitted && state.flowing !== false) {
      if (state.flowing === null) return;
      state.endEmitted = true;
      stream.readable = false;
      stream.emit('end');
      if (stream.autoDestroy !== false) later(() => stream.emit('close'));
      return;
    }
    if (state.flowing && !state.ended && !state.reading && !stream.destroyed) {
      state.reading = true;
      stream._read();
    }
  });
}

Readable.prototype.on = function on(event, listener) {
  const result = Stream.prototype.on.call(this, event, listener);
  if (event === 'data' && this._readableState.flowing !== false) this.resume();
  return result;
};
Readable.prototype.addListener = Readable.prototype.on;

Readable.prototype.resume = function resume() {
  this._readableState.flowing = true;
  scheduleFlow(this);
  return this;
};

Readable.prototype.pause = function pause() {
  if (this._readableState.flowing !== false) {
    this._readableState.flowing = false;
    this.emit('pause');
  }
  return this;
};

Readable.prototype.isPaused = function isPaused() {
  return this._readableState.flowing === false;
};

// Returns the next buffered chunk, or null; starts reading when empty.
Readable.prototype.read = function read() {
  const state = this._readableState;
  if (state.buffer.length > 0) return state.buffer.shift();
  if (!state.ended && !state.reading) {
    state.reading = true;
    this._read();
  }
  return null;
};

Readable.prototype.pipe = function pipe(dest, options) {
  Stream.prototype.pipe.call(this, dest, options);
  this.resume();
  return dest;
};

Readable.prototype.destroy = function destroy(error) {
  if (this.destroyed) return this;
  this.destroyed = true;
  const finish = (err) => later(() => {
    if (err) this.emit('error', err);
    this.emit('close');
  });
  if (typeof this._destroy === 'function') this._destroy(error || null, finish);
  else finish(error);
  return this;
};

Readable.prototype[Symbol.asyncIterator] = async function* iterate() {
  const chunks = [];
  let wake = null;
  let done = false;
  let failure = null;
  const notify = () => {
    if (wake) wake();
  };
  this.on('data', (chunk) => { chunks.push(chunk); notify(); });
  this.on('end', () => { done = true; notify(); });
  this.on('error', (err) => { failure = err; notify(); });
  for (;;) {
    if (failure) throw failure;
    if (chunks.length > 0) {
      yield chunks.shift();
      continue;
    }
    if (done) return;
    await new Promise((resolve) => { wake = resolve; });
    wake = null;
  }
};

Readable.from = function from(iterable, options) {
  if (typeof iterable === 'string' || (iterable && iterable instanceof Uint8Array)) iterable = [iterable];
  const readable = new Readable({ objectMode: true, ...options });
  const iterator = iterable[Symbol.iterator] ? iterable[Symbol.iterator]() : null;
  if (iterator === null) {
    throw Object.assign(new TypeError(`The "iterable" argument must be an instance of Iterable. Received ${typeof iterable}`), { code: 'ERR_INVALID_ARG_TYPE' });
  }
  readable._read = function () {
    const { value, done } = iterator.next();
    if (done) this.push(null);
    else this.push(value);
  };
  return readable;
};

// --- Writable -----------------------------------------------------------------

function Writable(options) {
  if (!(this instanceof Writable)) return new Writable(options);
  Stream.call(this, options);
  initWritable(this, options);
}
inherit(Writable, Stream);

function initWritable(stream, options) {
  stream.writable = true;
  stream.destroyed = false;
  Object.defineProperty(stream, '_writableState', {
    value: { ending: false, finished: false, pending: 0, decodeStrings: !(options && options.decodeStrings === false) },
    writable: true,
    configurable: true,
  });
  if (options && typeof options.write === 'function') stream._write = options.write;
  if (options && typeof options.final === 'function') stream._final = options.final;
  if (options && typeof options.destroy === 'function') stream._destroy = options.destroy;
}

Writable.prototype._write = function _write() {
  throw Object.assign(new Error('The _write() method is not implemented'), { code: 'ERR_METHOD_NOT_IMPLEMENTED' });
};

Writable.prototype.write = function write(chunk, encoding, callback) {
  if (typeof encoding === 'function') {
    callback = encoding;
    encoding = null;
  }
  const state = this._writableState;
  if (state.ending) {
    const error = Object.assign(new Error('write after end'), { code: 'ERR_STREAM_WRITE_AFTER_END' });
    later(() => {
      if (callback) callback(error);
      this.emit('error', error);
    });
    return false;
  }
  if (typeof chunk === 'string' && state.decodeStrings) {
    chunk = require('buffer').Buffer.from(chunk, encoding || 'utf8');
    encoding = 'buffer';
  }
  state.pending++;
  this._write(chunk, encoding || 'buffer', (err) => {
    state.pending--;
    later(() => {
      if (callback) callback(err || null);
      if (err) this.emit('error', err);
      else maybeFinish(this);
    });
  });
  return true;
};

Writable.prototype.end = function end(chunk, encoding, callback) {
  if (typeof chunk === 'function') {
    callback = chunk;
    chunk = null;
  } else if (typeof encoding === 'function') {
    callback = encoding;
    encoding = null;
  }
  if (chunk !== null && chunk !== undefined) this.write(chunk, encoding);
  const state = this._writableState;
  if (callback) this.once('finish', callback);
  if (!state.ending) {
    state.ending = true;
    later(() => maybeFinish(this));
  }
  return this;
};

function maybeFinish(stream) {
  const state = stream._writableState;
  if (!state.ending || state.finished || state.pending > 0 || state.finalizing) return;
  const finish = () => {
    state.finished = true;
    stream.writable = false;
    stream.emit('finish');
    later(() => stream.emit('close'));
  };
  if (typeof stream._final === 'function') {
    state.finalizing = true;
    stream._final((err) => later(() => (err ? stream.emit('error', err) : finish())));
  } else {
    finish();
  }
}

Writable.prototype.destroy = Readable.prototype.destroy;

// --- Duplex, Transform, PassThrough -----------------------------------------

function Duplex(options) {
  if (!(this instanceof Duplex)) return new Duplex(options);
  Readable.call(this, options);
  initWritable(this, options);
}
inherit(Duplex, Readable);
for (const name of ['write', 'end', '_write']) Duplex.prototype[name] = Writable.prototype[name];

function Transform(options) {
  if (!(this instanceof Transform)) return new Transform(options);
  Duplex.call(this, options);
  if (options && typeof options.transform === 'function') this._transform = options.transform;
  if (options && typeof options.flush === 'function') this._flush = options.flush;
}
inherit(Transform, Duplex);

// The readable side ends once the writable side has flushed.
Transform.prototype._final = function _final(callback) {
  const done = (err, data) => {
    if (err) return callback(err);
    if (data !== null && data !== undefined) this.push(data);
    this.push(null);
    callback();
  };
  if (typeof this._flush === 'function') this._flush(done);
  else done();
};

Transform.prototype._transform = function _transform() {
  throw Object.assign(new Error('The _transform() method is not implemented'), { code: 'ERR_METHOD_NOT_IMPLEMENTED' });
};

Transform.prototype._write = function _write(chunk, encoding, callback) {
  this._transform(chunk, encoding, (err, data) => {
    if (err) return callback(err);
    if (data !== null && data !== undefined) this.push(data);
    callback();
  });
};

Transform.prototype._read = function _read() {};

function PassThrough(options) {
  if (!(this instanceof PassThrough)) return new PassThrough(options);
  Transform.call(this, options);
}
inherit(PassThrough, Transform);

PassThrough.prototype._transform = function _transform(chunk, encoding, callback) {
  callback(null, chunk);
};

module.exports = Stream;
Stream.Stream = Stream;
Stream.Readable = Readable;
Stream.Writable = Writable;
Stream.Duplex = Duplex;
Stream.Transform = Transform;
Stream.PassThrough = PassThrough;
