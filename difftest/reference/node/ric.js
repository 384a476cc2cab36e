'use strict';
// Runs an *original* Lambda@Edge handler the way AWS's Node.js runtime
// interface client (aws-lambda-nodejs-runtime-interface-client, "RIC") runs
// it, and reports its outcome as edgeport's runtime does:
//
//   {"kind":"result","value":<the response body RIC would send, JSON round-tripped>}
//   {"kind":"error","errorType":"TypeError","errorMessage":"..."}
//   {"kind":"timeout","reason":"the handler neither settled its promise nor called back"}
//   {"kind":"timeout","reason":"task timed out after 5000 ms"}
//
// Two programs use it: harness.js runs one event in a fresh process (it
// writes the corpus's expected outcomes) and worker.js runs many, one after
// the other, for `edgeport test`.
//
// Nondeterminism is pinned so that the converted function can be held to the
// same answer: Math.random is the seeded generator the engine also uses
// (determinism.js is the engine's own file), Date.now() and `new Date()` read
// a fixed clock, the time zone is UTC (as on Lambda) and process.env is empty
// (Lambda@Edge has no environment variables).

const fs = require('fs');
const path = require('path');
const Module = require('module');
const { pathToFileURL } = require('url');
const { types } = require('util');
const vm = require('vm');

const { createRandom } = require('./determinism.js');

// --- Outcomes ------------------------------------------------------------------

function isErrorLike(obj) {
  return Boolean(obj && obj.name && obj.message && obj.stack &&
    typeof obj.name === 'string' && typeof obj.message === 'string' && typeof obj.stack === 'string');
}

// RIC's Errors.toRapidResponse: errors report their name and message, any
// other value its typeof and toString() (a thrown string 'boom' becomes
// errorType "string", errorMessage "boom"; a plain object "[object Object]").
function errorOutcome(error) {
  try {
    if (types.isNativeError(error) || isErrorLike(error)) {
      return { kind: 'error', errorType: error.name, errorMessage: error.message };
    }
    return { kind: 'error', errorType: typeof error, errorMessage: error.toString() };
  } catch {
    return {
      kind: 'error',
      errorType: 'handled',
      errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

// RIC's RAPIDClient.postInvocationResponse: the body is JSON.stringify of the
// result (undefined sent as null); the caller sees that JSON parsed back.
function resultOutcome(result) {
  let body;
  try {
    body = JSON.stringify(result === undefined ? null : result);
  } catch {
    return errorOutcome(new Error('Unable to stringify response body'));
  }
  return { kind: 'result', value: body === undefined ? null : JSON.parse(body) };
}

// Errors RIC raises itself carry a "Runtime." name.
function runtimeError(name, message) {
  const error = new Error(message);
  error.name = `Runtime.${name}`;
  return error;
}

// --- Pinned nondeterminism ------------------------------------------------------

let fixedNow = 1767225600000; // 2026-01-01T00:00:00Z

// Installs the fixed clock and the empty environment once per process;
// `setClock` moves the clock for the next invocation.
function installDeterminism() {
  // Lambda runs in UTC; node applies a TZ assignment immediately.
  process.env.TZ = 'UTC';
  process.env = {};

  const RealDate = Date;
  // `new Date()` and `Date()` read the fixed clock; every other use of Date
  // (parsing, explicit timestamps, arithmetic) is the real thing.
  function FixedDate(...args) {
    if (new.target === undefined) return new RealDate(fixedNow).toString();
    return Reflect.construct(RealDate, args.length === 0 ? [fixedNow] : args, new.target);
  }
  Object.defineProperty(FixedDate, 'name', { value: 'Date' });
  Object.defineProperty(FixedDate, 'length', { value: 7 });
  FixedDate.prototype = RealDate.prototype;
  Object.defineProperty(RealDate.prototype, 'constructor', {
    value: FixedDate, writable: true, enumerable: false, configurable: true,
  });
  Object.setPrototypeOf(FixedDate, RealDate);
  FixedDate.now = function now() { return fixedNow; };
  FixedDate.parse = RealDate.parse;
  FixedDate.UTC = RealDate.UTC;
  globalThis.Date = FixedDate;
  installSeededCrypto();
}

// crypto's random values (randomBytes, randomUUID, getRandomValues ...) come from the
// engine's own implementation (engine-crypto.js and engine-errors.js are the engine's files) over a generator seeded
// like the engine's prelude seeds it, created on first use in each invocation.
const BYTES_SEED_MIX = 0x5bd1e995;
let bytesSeed = 0;
let bytesRandom = null;
const seededBytes = {
  bytes(n) {
    if (bytesRandom === null) bytesRandom = createRandom(bytesSeed ^ BYTES_SEED_MIX);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(bytesRandom() * 256);
    return out;
  },
};

function installSeededCrypto() {
  const crypto = require('crypto');
  const module = { exports: {} };
  const engineRequire = (name) => {
    if (name === 'edgeport:random') return seededBytes;
    if (name === 'edgeport:errors') return require('./engine-errors.js');
    return require(name);
  };
  const source = fs.readFileSync(path.join(__dirname, 'engine-crypto.js'), 'utf8');
  vm.runInThisContext(`(function (exports, require, module) {${source}\n})`, { filename: 'engine-crypto.js' })(
    module.exports, engineRequire, module);
  const engine = module.exports;
  for (const name of ['randomBytes', 'randomFill', 'randomFillSync', 'randomInt', 'randomUUID']) {
    crypto[name] = engine[name];
  }
  // The module's getRandomValues is a fixed getter for webcrypto's, pinned below.
  for (const name of ['getRandomValues', 'randomUUID']) {
    Object.defineProperty(crypto.webcrypto, name, { value: engine.webcrypto[name].bind(engine.webcrypto), configurable: true, writable: true });
  }
  Module.syncBuiltinESMExports();
}

// The clock and the seed an invocation (and the module load before it) sees.
function pin(now, seed) {
  fixedNow = now;
  Math.random = createRandom(seed);
  bytesSeed = seed >>> 0;
  bytesRandom = null;
}

// --- Loading the handler (RIC's UserFunction.load) ---------------------------------

function nearestPackageIsModule(dir) {
  for (;;) {
    if (dir.endsWith(`${path.sep}node_modules`)) return false;
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        return JSON.parse(fs.readFileSync(pj, 'utf8')).type === 'module';
      } catch {
        return false;
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return false;
    dir = parent;
  }
}

// The project's own compiler when it has one (what its build would use),
// else one installed beside this file.
function loadTypeScript(file) {
  for (const from of [path.dirname(file), __dirname]) {
    try {
      return require(require.resolve('typescript', { paths: [from] }));
    } catch {
      // try the next place
    }
  }
  throw runtimeError('ImportModuleError',
    `running the original ${path.basename(file)} needs the typescript package: install it in the project (npm install --save-dev typescript)`);
}

// TypeScript is compiled the way a typical project's tsc build would emit it
// for Lambda (CommonJS, ES2022, esModuleInterop as `tsc --init` sets it). The
// source map lets coverage be reported on the TypeScript lines.
function compileTypeScript(file) {
  const ts = loadTypeScript(file);
  const { outputText, sourceMapText } = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
    fileName: file,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      sourceMap: true,
    },
  });
  // Without the trailing sourceMappingURL comment the text is exactly tsc's.
  const source = outputText.replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');
  return { source, mappings: JSON.parse(sourceMapText).mappings };
}

// A TypeScript project's build compiles its other .ts files too: node finds
// them through this loader (tried after .js and .json, as the converter does).
if (Module._extensions['.ts'] === undefined) {
  Module._extensions['.ts'] = (module, filename) => module._compile(compileTypeScript(filename).source, filename);
}

// Runs CommonJS `source` as the module `file`, the way node's loader wraps it.
// With a `scripts` cache the wrapper is compiled once and run afresh on every
// load: the top level runs again, but V8 keeps one script, so it stays fast
// and its coverage counters add up in one place.
function evaluateCommonJs(file, source, scripts) {
  let wrapper = scripts && scripts.get(file);
  if (!wrapper) {
    wrapper = vm.compileFunction(source, ['exports', 'require', 'module', '__filename', '__dirname'], { filename: file });
    if (scripts) scripts.set(file, wrapper);
  }
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(path.dirname(file));
  wrapper.call(mod.exports, mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
  mod.loaded = true;
  return mod.exports;
}

// Loads `file` as RIC would. Options: `typeScript`, its compiled form;
// `fresh`, a number that makes an ES module load anew (node caches ES modules
// by URL and cannot forget one); `scripts`, a cache of compiled CommonJS
// wrappers (see evaluateCommonJs) for processes that load the same file often.
async function loadModule(file, { typeScript, fresh, scripts } = {}) {
  // Lambda's working directory is the task root, the handler's directory, so relative
  // fs reads find the files shipped with the function.
  process.chdir(path.dirname(file));
  try {
    if (typeScript !== undefined) return evaluateCommonJs(file, typeScript.source, scripts);
    const ext = path.extname(file);
    if (ext === '.mjs' || (ext === '.js' && nearestPackageIsModule(path.dirname(file)))) {
      const url = pathToFileURL(file).href;
      return await import(fresh === undefined ? url : `${url}?edgeport-load=${fresh}`);
    }
    if (scripts) {
      const source = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
      // A #! line is only valid at the start of a script, not of a wrapper's body.
      if (!source.startsWith('#!')) return evaluateCommonJs(file, source, scripts);
    }
    return require(file);
  } catch (error) {
    if (error instanceof SyntaxError) throw runtimeError('UserCodeSyntaxError', String(error));
    if (error && (error.code === 'MODULE_NOT_FOUND' || error.code === 'ERR_MODULE_NOT_FOUND')) {
      // The require stack names paths on this machine; keep the first line.
      throw runtimeError('ImportModuleError', String(error).split('\n')[0]);
    }
    throw error;
  }
}

function resolveHandler(userModule, exportName, file) {
  const handler = exportName.split('.').reduce((nested, key) => nested && nested[key], userModule);
  const fullName = `${path.basename(file, path.extname(file))}.${exportName}`;
  if (!handler) throw runtimeError('HandlerNotFound', `${fullName} is undefined or not exported`);
  if (typeof handler !== 'function') throw runtimeError('HandlerNotFound', `${fullName} is not a function`);
  return handler;
}

// --- One invocation (RIC's Runtime.handleOnce + CallbackContext) -----------------

// The invocation in progress: errors that escape the handler and the moment
// the event loop runs dry are routed to it.
let current = null;

// RIC keeps one 'beforeExit' listener: node emits 'beforeExit' once the event
// loop has nothing left to run, which is when a callback result is sent (the
// default callbackWaitsForEmptyEventLoop) or when the handler is found to have
// never answered.
process.on('beforeExit', () => {
  if (current) current.onEmptyEventLoop();
});

// Errors that escape the handler fail the invocation, as RIC's process
// listeners make them do.
process.on('uncaughtException', (error) => {
  if (current) current.report(errorOutcome(error));
});
process.on('unhandledRejection', (reason) => {
  let message;
  try {
    message = reason === undefined ? '' : String(reason);
  } catch {
    message = '';
  }
  if (current) current.report(errorOutcome(runtimeError('UnhandledPromiseRejection', message)));
});

// Calls `handler` on `event` and calls `onOutcome` exactly once. options:
// { now, seed, timeoutMs, functionName, requestId, log }.
function invoke(handler, event, options, onOutcome) {
  const noop = () => {};
  let reported = false;
  let timer;
  const invocation = {
    onEmptyEventLoop: () => invocation.report({ kind: 'timeout', reason: 'the handler neither settled its promise nor called back' }),
    report(outcome) {
      if (reported) return;
      reported = true;
      clearTimeout(timer);
      if (current === invocation) current = null;
      onOutcome(outcome);
    },
  };
  current = invocation;

  let isCompleteInvoked = false;
  const complete = (result) => {
    if (isCompleteInvoked) {
      options.log('Invocation has already been reported as done. Cannot call complete more than once per invocation.');
      return;
    }
    isCompleteInvoked = true;
    invocation.report(resultOutcome(result));
  };
  const postError = (error) => invocation.report(errorOutcome(error));

  let waitForEmptyEventLoop = true;
  const callback = (err, result) => {
    invocation.onEmptyEventLoop = noop;
    if (err !== undefined && err !== null) {
      postError(err);
    } else if (!waitForEmptyEventLoop) {
      complete(result);
    } else {
      invocation.onEmptyEventLoop = () => setImmediate(() => complete(result));
    }
  };
  const done = (err, result) => {
    invocation.onEmptyEventLoop = noop;
    if (err !== undefined && err !== null) postError(err);
    else complete(result);
  };
  const succeed = (result) => done(null, result);
  const fail = (err) => {
    if (err === undefined || err === null) done('handled');
    else done(err, null);
  };

  // Only the first of callback/succeed/fail/done (and so of a returned
  // promise's settlement) counts. As in RIC the flag is set after the call,
  // so a call that throws does not use up the invocation.
  let finished = false;
  const onlyAllowFirstCall = (toWrap) => function () {
    if (!finished) {
      toWrap.apply(null, arguments);
      finished = true;
    }
  };

  const { functionName } = options;
  const deadline = options.now + options.timeoutMs;
  // Key order as RIC builds it (callback context, then environment data,
  // then invoke headers), for handlers that enumerate or log the context.
  const context = {
    get callbackWaitsForEmptyEventLoop() { return waitForEmptyEventLoop; },
    set callbackWaitsForEmptyEventLoop(value) { waitForEmptyEventLoop = value; },
    succeed: onlyAllowFirstCall(succeed),
    fail: onlyAllowFirstCall(fail),
    done: onlyAllowFirstCall(done),
    functionVersion: '$LATEST',
    functionName,
    memoryLimitInMB: '128',
    logGroupName: `/aws/lambda/us-east-1.${functionName}`,
    logStreamName: '2026/01/01/[$LATEST]00000000000000000000000000000000',
    clientContext: undefined,
    identity: undefined,
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    awsRequestId: options.requestId,
    getRemainingTimeInMillis() { return deadline - Date.now(); },
  };
  const wrappedCallback = onlyAllowFirstCall(callback);

  // The task timeout, measured on the real clock. unref() keeps this timer
  // from holding the event loop open, so 'beforeExit' still fires on time.
  timer = setTimeout(() => {
    invocation.report({ kind: 'timeout', reason: `task timed out after ${options.timeoutMs} ms` });
  }, options.timeoutMs);
  timer.unref();

  // Reseed for the event, as the engine does before each invocation.
  pin(options.now, options.seed);
  try {
    const result = handler(event, context, wrappedCallback);
    if (result && result.then && typeof result.then === 'function') {
      result.then(context.succeed, context.fail).catch(context.fail);
    }
  } catch (err) {
    wrappedCallback(err);
  }
}

module.exports = {
  compileTypeScript,
  errorOutcome,
  installDeterminism,
  invoke,
  loadModule,
  pin,
  resolveHandler,
};
