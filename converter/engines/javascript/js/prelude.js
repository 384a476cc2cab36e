// The edgeport shim: evaluated once when the engine starts (so it lives in the snapshot).
//
// It reproduces what AWS's Lambda Node.js runtime interface client does around a handler:
// `handler(event, context, callback)`, a returned thenable settles the invocation, the first of
// callback / context.succeed / fail / done / promise wins, a synchronous throw is an error.
// difftest/reference/node/ric.js does the same on real node; the two must stay in step.
//
// The host talks to it through `globalThis.__edgeport` (see src/lib.rs):
//   load(moduleFunction, filename, handlerName)  run the module's top level, find the handler
//   invoke(envelopeJson)                         start one invocation
//   outcome()                                    after the job queue drained: the outcome JSON
// The envelope is {"event", "context"?: {functionName, ...}, "awsRequestId", "seed",
// "deadlineMs"} ("context" only when it differs from the previous invocation's); the outcome
// is {"kind":"result","value"} | {"kind":"error","errorType","errorMessage","trace"} |
// {"kind":"timeout","reason"}.
(function () {
  'use strict';

  const factories = Object.create(null);
  const cache = Object.create(null);
  // The function's own modules (converter/src/js_bundle.rs): id → { resolutions, wrapper },
  // and the modules loaded so far, id → module object (require.cache).
  const bundled = Object.create(null);
  const moduleCache = Object.create(null);
  // The files bundled for `fs`, path → Uint8Array.
  let files = Object.create(null);
  // crypto's generator, created on first use in an invocation like Math.random's.
  let bytesRandom = null;
  // Separates crypto's sequence from Math.random's under the same seed.
  const BYTES_SEED_MIX = 0x5bd1e995;
  // Math.random's generator, created on first use in an invocation from `randomSeed`: most
  // handlers never draw a number, and seeding costs more than the rest of a small invocation.
  let createRandom = null;
  let random = null;
  let randomSeed = 0;
  // The constant part of the Lambda context, sent by the host only when it changes.
  let baseContext = null;
  let handler = null;
  // The invocation in progress: its answers and the rejections nobody handled yet.
  let invocation = null;

  // Built-in modules are compiled on first require, from sources the engine holds (src/lib.rs):
  // compiled code is most of a snapshot, and most handlers need few built-ins. The converter
  // preloads the ones a handler uses, so they are in its snapshot and never compiled per call.
  const compileBuiltin = globalThis.__edgeport_compileBuiltin;
  delete globalThis.__edgeport_compileBuiltin;

  // Node's built-ins the engine does not provide; requiring one says so rather than claiming
  // the module does not exist.
  const NODE_ONLY = ['assert', 'async_hooks', 'child_process', 'cluster', 'console', 'constants',
    'dgram', 'diagnostics_channel', 'dns', 'domain', 'http', 'http2', 'https', 'inspector', 'module',
    'net', 'os', 'perf_hooks', 'process', 'punycode', 'readline', 'repl', 'sys', 'tls',
    'trace_events', 'tty', 'v8', 'vm', 'wasi', 'worker_threads', 'zlib'];

  function requireBuiltin(name) {
    const id = typeof name === 'string' && name.startsWith('node:') ? name.slice(5) : name;
    const cached = cache[id];
    if (cached !== undefined) return cached.exports;
    if (factories[id] === undefined && typeof id === 'string') compileBuiltin(id);
    const factory = factories[id];
    if (factory === undefined) {
      const base = typeof id === 'string' ? id.split('/')[0] : id;
      if (NODE_ONLY.includes(base)) {
        const error = new Error(`Node built-in '${id}' is not available in the edge engine`);
        error.code = 'ERR_EDGEPORT_UNSUPPORTED';
        throw error;
      }
      const error = new Error(`Cannot find module '${name}'`);
      error.code = 'MODULE_NOT_FOUND';
      throw error;
    }
    const module = { exports: {} };
    cache[id] = module;
    factory.call(module.exports, module.exports, requireBuiltin, module);
    return module.exports;
  }

  // QuickJS words the errors it raises itself differently from V8. An error that escapes the
  // handler is reported (and logged by Lambda) with node's wording, so alerts keyed on messages
  // and the differential test see the same text; only the commonest messages whose node
  // wording follows from QuickJS's are translated. V8's "x.y is not a function" names the
  // callee's source text, which QuickJS does not report, so it stays as it is.
  const NODE_WORDING = [
    [/^cannot read property '(.*)' of (undefined|null)$/s, "Cannot read properties of $2 (reading '$1')"],
    [/^cannot set property '(.*)' of (undefined|null)$/s, "Cannot set properties of $2 (setting '$1')"],
    [/^invalid array length$/, 'Invalid array length'],
    [/^(.* in JSON at position \d+) \(line \d+ column \d+\)$/s, '$1'],
  ];

  function nodeWording(error) {
    const message = error.message;
    if (typeof message !== 'string' || !(error instanceof Error)) return message;
    for (const [pattern, replacement] of NODE_WORDING) {
      if (pattern.test(message)) return message.replace(pattern, replacement);
    }
    return message;
  }

  // RIC's Errors.toRapidResponse: errors report name and message, any other value its typeof
  // and toString(). The trace is ours (the converter points diagnostics at it); comparisons
  // with node ignore it.
  function describeError(error) {
    try {
      if (error instanceof Error || isErrorLike(error)) {
        const trace = typeof error.stack === 'string'
          ? error.stack.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.includes('(edgeport:'))
          : [];
        const message = nodeWording(error);
        return JSON.stringify({
          errorType: error.name,
          errorMessage: message,
          trace: [`${error.name}: ${message}`, ...trace],
        });
      }
      return JSON.stringify({ errorType: typeof error, errorMessage: error.toString(), trace: [] });
    } catch (_) {
      return JSON.stringify({
        errorType: 'handled',
        errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
        trace: [],
      });
    }
  }

  function isErrorLike(value) {
    return Boolean(value && value.name && value.message && value.stack &&
      typeof value.name === 'string' && typeof value.message === 'string' && typeof value.stack === 'string');
  }

  function errorOutcome(error) {
    return `{"kind":"error",${describeError(error).slice(1)}`;
  }

  // RIC's postInvocationResponse: the body is JSON.stringify of the result, undefined as null.
  function resultOutcome(result) {
    let body;
    try {
      body = JSON.stringify(result === undefined ? null : result);
    } catch (_) {
      throw new Error('Unable to stringify response body');
    }
    return `{"kind":"result","value":${body === undefined ? 'null' : body}}`;
  }

  function runtimeError(name, message) {
    const error = new Error(message);
    error.name = `Runtime.${name}`;
    return error;
  }

  // A global that compiles its built-in module on first use, as Buffer does.
  function lazyGlobal(name, get) {
    Object.defineProperty(globalThis, name, {
      configurable: true,
      enumerable: false,
      get() {
        const value = get();
        Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
        return value;
      },
      set(value) {
        Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
      },
    });
  }

  // Internal modules for the built-ins: the bundled files (fs) and the invocation's seeded
  // bytes (crypto), which difftest/reference/node/ric.js pins to the same sequence on node.
  function defineInternalModules() {
    factories['edgeport:files'] = function (exports) {
      exports.read = (path) => files[path];
      exports.list = () => Object.keys(files);
    };
    factories['edgeport:random'] = function (exports) {
      exports.bytes = (n) => {
        if (bytesRandom === null) bytesRandom = createRandom(randomSeed ^ BYTES_SEED_MIX);
        const out = new Uint8Array(n);
        for (let i = 0; i < n; i++) out[i] = Math.floor(bytesRandom() * 256);
        return out;
      };
    };
  }

  function installGlobals() {
    defineInternalModules();
    createRandom = requireBuiltin('edgeport:determinism').createRandom;
    Math.random = function random_() {
      if (random === null) random = createRandom(randomSeed);
      return random();
    };
    globalThis.global = globalThis;
    // Node's Buffer global, compiled on first use (see requireBuiltin).
    Object.defineProperty(globalThis, 'Buffer', {
      configurable: true,
      enumerable: false,
      get() {
        const { Buffer } = requireBuiltin('buffer');
        Object.defineProperty(globalThis, 'Buffer', { value: Buffer, writable: true, configurable: true, enumerable: false });
        return Buffer;
      },
      set(value) {
        Object.defineProperty(globalThis, 'Buffer', { value, writable: true, configurable: true, enumerable: false });
      },
    });
    lazyGlobal('URL', () => requireBuiltin('url').URL);
    lazyGlobal('URLSearchParams', () => requireBuiltin('url').URLSearchParams);
    lazyGlobal('atob', () => requireBuiltin('buffer').atob);
    lazyGlobal('btoa', () => requireBuiltin('buffer').btoa);
    lazyGlobal('crypto', () => requireBuiltin('crypto').webcrypto);
    for (const name of ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate']) {
      lazyGlobal(name, () => requireBuiltin('timers')[name]);
    }
    const console = globalThis.console;
    console.info = console.log;
    console.debug = console.log;
    console.warn = console.error;
    console.trace = console.error;
    globalThis.process = {
      env: {},
      argv: [],
      platform: 'linux',
      version: 'v20.0.0',
      versions: { node: '20.0.0' },
      nextTick(callback, ...args) { queueMicrotask(() => callback(...args)); },
    };
  }

  // The function's modules, loaded as Node's CommonJS loader would: each module's `require`
  // looks its specifiers up in the table the converter resolved, then the built-ins.
  function dirnameOf(id) {
    const slash = id.lastIndexOf('/');
    return slash > 0 ? id.slice(0, slash) : '/';
  }

  function notFound(specifier, parent) {
    const stack = [];
    for (let module = parent; module; module = module.parent) stack.push(`- ${module.filename}`);
    const error = new Error(`Cannot find module '${specifier}'\nRequire stack:\n${stack.join('\n')}`);
    error.code = 'MODULE_NOT_FOUND';
    error.requireStack = stack.map((line) => line.slice(2));
    return error;
  }

  function makeRequire(module, resolutions) {
    function require(specifier) {
      if (typeof specifier !== 'string') {
        const error = new TypeError(`The "id" argument must be of type string. Received ${specifier === null ? 'null' : typeof specifier}`);
        error.code = 'ERR_INVALID_ARG_TYPE';
        throw error;
      }
      const target = resolutions[specifier];
      if (target === undefined) {
        try {
          return requireBuiltin(specifier);
        } catch (error) {
          if (error && error.code === 'MODULE_NOT_FOUND') throw notFound(specifier, module);
          throw error;
        }
      }
      if (target.startsWith('node:')) return requireBuiltin(target.slice(5));
      return loadModule(target, module);
    }
    require.resolve = function resolve(specifier) {
      const target = resolutions[specifier];
      if (target !== undefined) return target.startsWith('node:') ? target.slice(5) : target;
      const id = specifier.replace(/^node:/, '');
      if (factories[id] !== undefined || compileBuiltin(id) || NODE_ONLY.includes(id.split('/')[0])) return id;
      throw notFound(specifier, module);
    };
    require.cache = moduleCache;
    // No `require.main`: on Lambda the main module is the runtime's bootstrap, never the
    // handler, so `require.main === module` is false there as here.
    return require;
  }

  function loadModule(id, parent) {
    const cached = moduleCache[id];
    if (cached !== undefined) return cached.exports;
    const entry = bundled[id];
    if (entry === undefined) throw notFound(id, parent);
    const module = { id: parent ? id : '.', path: dirnameOf(id), exports: {}, filename: id, loaded: false, children: [], paths: [], parent };
    if (parent) parent.children.push(module);
    module.require = makeRequire(module, entry.resolutions);
    moduleCache[id] = module;
    let threw = true;
    try {
      entry.wrapper.call(module.exports, module.exports, module.require, module, id, dirnameOf(id));
      threw = false;
    } finally {
      // Node forgets a module whose top level threw, so a second require runs it again.
      if (threw) delete moduleCache[id];
    }
    module.loaded = true;
    return module.exports;
  }

  // `table`: [id, resolutions JSON, CommonJS wrapper] per module, the handler's first; `data`:
  // the bundled files; `preload`: the built-ins the function uses (from the frontend's facts),
  // loaded before its top-level code so that they belong to the snapshot; names the engine
  // lacks are skipped.
  function load(table, data, filename, exportName, preload) {
    files = data;
    for (const [id, resolutions, wrapper] of table) bundled[id] = { resolutions: JSON.parse(resolutions), wrapper };
    for (const name of preload) {
      if (factories[name] !== undefined || compileBuiltin(name)) requireBuiltin(name);
    }
    const exports = loadModule(table[0][0], null);
    const candidate = exportName.split('.').reduce((nested, key) => nested && nested[key], exports);
    const slash = filename.lastIndexOf('/');
    const base = filename.slice(slash + 1).replace(/\.[^.]*$/, '');
    if (!candidate) throw runtimeError('HandlerNotFound', `${base}.${exportName} is undefined or not exported`);
    if (typeof candidate !== 'function') throw runtimeError('HandlerNotFound', `${base}.${exportName} is not a function`);
    handler = candidate;
  }

  // Called by the engine between promise jobs: runs the next timer while the invocation still
  // waits for an answer. Lambda freezes the process once the answer is posted, so timers left
  // behind wait for a later invocation, as they do there.
  function runTimer() {
    const timers = cache.timers;
    if (timers === undefined || invocation === null || invocation.immediate !== null) return false;
    try {
      return timers.exports.__runNext();
    } catch (error) {
      // An exception thrown by a timer is uncaught: the runtime reports it for the invocation.
      post(invocation, errorOutcome(error));
      return false;
    }
  }

  // Called by the engine's promise rejection tracker (src/lib.rs).
  function trackRejection(promise, reason, handled) {
    if (invocation === null) return;
    if (handled) {
      if (invocation.unhandled !== null) invocation.unhandled.delete(promise);
    } else {
      if (invocation.unhandled === null) invocation.unhandled = new Map();
      invocation.unhandled.set(promise, reason);
    }
  }

  // One invocation, shaped like RIC's Runtime.handleOnce and CallbackContext (and like
  // difftest/reference/node/ric.js, line for line where it matters). Node posts the first
  // immediate answer and exits; a callback's answer waits for the event loop to empty.
  //
  // The functions a handler receives are bound to the invocation's state rather than created
  // as closures: creating a dozen closures per call cost more than a small handler's own work.
  function InvocationState(deadline) {
    this.immediate = null;
    this.deferred = null;
    this.unhandled = null;
    this.finished = false;
    this.completeInvoked = false;
    this.context = null;
    this.deadline = deadline;
  }

  function post(state, outcomeJson) {
    if (state.immediate === null) state.immediate = outcomeJson;
  }

  function complete(state, result) {
    if (state.completeInvoked) return;
    state.completeInvoked = true;
    post(state, resultOutcome(result));
  }

  function callbackBody(state, err, result) {
    state.deferred = null;
    if (err !== undefined && err !== null) post(state, errorOutcome(err));
    // Read when the callback fires, as RIC reads its flag: the handler may have changed it.
    else if (!state.context.callbackWaitsForEmptyEventLoop) complete(state, result);
    else state.deferred = { result };
  }

  function doneBody(state, err, result) {
    state.deferred = null;
    if (err !== undefined && err !== null) post(state, errorOutcome(err));
    else complete(state, result);
  }

  // Only the first call counts; the flag is set after the call, so a call that throws (an
  // unserialisable result) does not use up the invocation.
  function callbackOnce(err, result) {
    if (this.finished) return;
    callbackBody(this, err, result);
    this.finished = true;
  }

  function doneOnce(err, result) {
    if (this.finished) return;
    doneBody(this, err, result);
    this.finished = true;
  }

  function succeedOnce(result) {
    if (this.finished) return;
    doneBody(this, null, result);
    this.finished = true;
  }

  function failOnce(err) {
    if (this.finished) return;
    if (err === undefined || err === null) doneBody(this, 'handled');
    else doneBody(this, err, null);
    this.finished = true;
  }

  // One function for every invocation: it answers for the invocation in progress.
  function getRemainingTimeInMillis() {
    return invocation === null ? 0 : invocation.deadline - Date.now();
  }

  function invoke(envelopeJson) {
    const envelope = JSON.parse(envelopeJson);
    randomSeed = envelope.seed >>> 0;
    random = null;
    bytesRandom = null;
    if (envelope.context !== undefined) baseContext = envelope.context;
    const state = new InvocationState(envelope.deadlineMs);
    invocation = state;
    const context = baseContext;
    const succeed = succeedOnce.bind(state);
    const fail = failOnce.bind(state);
    // RIC exposes callbackWaitsForEmptyEventLoop through a getter and setter over a variable;
    // a data property read when the callback fires behaves the same and costs no closures.
    const lambdaContext = {
      callbackWaitsForEmptyEventLoop: true,
      succeed,
      fail,
      done: doneOnce.bind(state),
      functionVersion: context.functionVersion,
      functionName: context.functionName,
      memoryLimitInMB: context.memoryLimitInMB,
      logGroupName: context.logGroupName,
      logStreamName: context.logStreamName,
      clientContext: undefined,
      identity: undefined,
      invokedFunctionArn: context.invokedFunctionArn,
      awsRequestId: envelope.awsRequestId,
      getRemainingTimeInMillis,
    };
    state.context = lambdaContext;
    const callback = callbackOnce.bind(state);
    try {
      const result = handler(envelope.event, lambdaContext, callback);
      if (result && result.then && typeof result.then === 'function') {
        result.then(succeed, fail).catch(fail);
      }
    } catch (err) {
      callback(err);
    }
  }

  // The answer once the job queue is empty, in the order node would have produced it: an
  // immediate answer, else an unhandled rejection, else the callback's deferred answer.
  function outcome() {
    const state = invocation;
    invocation = null;
    if (state === null) throw new Error('outcome() called without an invocation');
    if (state.immediate !== null) return state.immediate;
    for (const reason of state.unhandled === null ? [] : state.unhandled.values()) {
      let message;
      try { message = reason === undefined ? '' : String(reason); } catch (_) { message = ''; }
      return errorOutcome(runtimeError('UnhandledPromiseRejection', message));
    }
    if (state.deferred !== null) {
      try {
        complete(state, state.deferred.result);
      } catch (error) {
        return errorOutcome(error);
      }
      return state.immediate;
    }
    return JSON.stringify({ kind: 'timeout', reason: 'the handler neither settled its promise nor called back' });
  }

  globalThis.__edgeport = {
    defineBuiltin(name, factory) { factories[name] = factory; },
    installGlobals,
    load,
    runTimer,
    invoke,
    outcome,
    describeError,
    trackRejection,
  };
})();
