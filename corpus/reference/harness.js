#!/usr/bin/env node
'use strict';
// The reference side of edgeport's differential tests: runs one *original*
// Lambda@Edge handler on one event under node, the way AWS's Node.js runtime
// interface client (aws-lambda-nodejs-runtime-interface-client, "RIC") runs
// it, and prints the outcome as one line of JSON on stdout:
//
//   {"kind":"result","value":<the response body RIC would send, JSON round-tripped>}
//   {"kind":"error","errorType":"TypeError","errorMessage":"..."}
//   {"kind":"timeout","reason":"the handler neither settled its promise nor called back"}
//   {"kind":"timeout","reason":"task timed out after 5000 ms"}
//
// usage: node harness.js --handler FILE --event FILE [--export NAME] [--seed N]
//          [--now MS] [--timeout-ms N] [--function-name S] [--request-id S]
//
// Nondeterminism is pinned so that the converted function can be held to the
// same answer: Math.random is the seeded generator the engine also uses
// (converter/engines/javascript/js/determinism.js), Date.now() and `new Date()`
// read a fixed clock, the time zone is UTC (as on Lambda) and process.env is
// empty (Lambda@Edge has no environment variables). Whatever the handler logs
// goes to stderr, so stdout carries nothing but the outcome.
//
// Exit status: 0 whenever an outcome was printed (an error outcome is data,
// not a failure of the harness); 2 when the harness was used wrongly.

const fs = require('fs');
const path = require('path');
const Module = require('module');
const { pathToFileURL } = require('url');
const { types } = require('util');

const { createRandom } = require('../../converter/engines/javascript/js/determinism.js');

const USAGE = 'usage: node harness.js --handler FILE --event FILE [--export NAME] [--seed N] ' +
  '[--now MS] [--timeout-ms N] [--function-name S] [--request-id S]';

const DEFAULTS = {
  exportName: 'handler',
  seed: 1,
  now: 1767225600000, // 2026-01-01T00:00:00Z
  timeoutMs: 5000,
  requestId: '8f5e2a3c-0000-4000-8000-000000000000',
};

function usageError(message) {
  process.stderr.write(`harness: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { ...DEFAULTS };
  const integer = (flag, value, min) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) usageError(`${flag} needs an integer >= ${min}, not '${value}'`);
    return n;
  };
  const flags = ['--handler', '--event', '--export', '--seed', '--now', '--timeout-ms', '--function-name', '--request-id'];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (!flags.includes(flag)) usageError(`unknown option '${flag}'`);
    if (value === undefined) usageError(`${flag} needs a value`);
    i++;
    switch (flag) {
      case '--handler': options.handler = path.resolve(value); break;
      case '--event': options.event = path.resolve(value); break;
      case '--export': options.exportName = value; break;
      case '--seed': options.seed = integer(flag, value, 0); break;
      case '--now': options.now = integer(flag, value, 0); break;
      case '--timeout-ms': options.timeoutMs = integer(flag, value, 1); break;
      case '--function-name': options.functionName = value; break;
      case '--request-id': options.requestId = value; break;
    }
  }
  if (!options.handler) usageError('--handler is required');
  if (!options.event) usageError('--event is required');
  if (options.functionName === undefined) options.functionName = path.basename(path.dirname(options.handler));
  return options;
}

// --- The outcome -------------------------------------------------------------

const writeStdout = process.stdout.write.bind(process.stdout);
let outcomePrinted = false;

function printOutcome(outcome) {
  if (outcomePrinted) return;
  outcomePrinted = true;
  writeStdout(`${JSON.stringify(outcome)}\n`);
  process.exit(0);
}

function isErrorLike(obj) {
  return Boolean(obj && obj.name && obj.message && obj.stack &&
    typeof obj.name === 'string' && typeof obj.message === 'string' && typeof obj.stack === 'string');
}

// RIC's Errors.toRapidResponse: errors report their name and message, any
// other value its typeof and toString() (a thrown string 'boom' becomes
// errorType "string", errorMessage "boom"; a plain object "[object Object]").
function toRapidResponse(error) {
  try {
    if (types.isNativeError(error) || isErrorLike(error)) {
      return { errorType: error.name, errorMessage: error.message };
    }
    return { errorType: typeof error, errorMessage: error.toString() };
  } catch {
    return {
      errorType: 'handled',
      errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

function postError(error) {
  printOutcome({ kind: 'error', ...toRapidResponse(error) });
}

// RIC's RAPIDClient.postInvocationResponse: the body is JSON.stringify of the
// result (undefined sent as null); the caller sees that JSON parsed back.
function postResponse(result) {
  let body;
  try {
    body = JSON.stringify(result === undefined ? null : result);
  } catch {
    throw new Error('Unable to stringify response body');
  }
  printOutcome({ kind: 'result', value: body === undefined ? null : JSON.parse(body) });
}

// Errors RIC raises itself carry a "Runtime." name.
function runtimeError(name, message) {
  const error = new Error(message);
  error.name = `Runtime.${name}`;
  return error;
}

// --- Pinned nondeterminism ------------------------------------------------------

function installDeterminism(options) {
  // Lambda runs in UTC; node applies a TZ assignment immediately.
  process.env.TZ = 'UTC';
  process.env = {};

  Math.random = createRandom(options.seed);

  const RealDate = Date;
  const fixedNow = options.now;
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

// TypeScript is compiled the way a typical project's tsc build would emit it
// for Lambda (CommonJS, ES2022, esModuleInterop as `tsc --init` sets it).
function compileTypeScript(file) {
  let ts;
  try {
    ts = require(require.resolve('typescript', { paths: [__dirname] }));
  } catch {
    usageError(`loading ${file} needs the typescript package: run 'npm ci' in ${__dirname}`);
  }
  const { outputText } = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
    fileName: file,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
    },
  });
  return outputText;
}

function loadTranspiled(file, source) {
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(path.dirname(file));
  mod._compile(source, file);
  return mod.exports;
}

async function loadUserModule(file, typeScriptOutput) {
  try {
    if (typeScriptOutput !== undefined) return loadTranspiled(file, typeScriptOutput);
    const ext = path.extname(file);
    if (ext === '.mjs' || (ext === '.js' && nearestPackageIsModule(path.dirname(file)))) {
      return await import(pathToFileURL(file).href);
    }
    return require(file);
  } catch (error) {
    if (error instanceof SyntaxError) throw runtimeError('UserCodeSyntaxError', String(error));
    if (error && error.code === 'MODULE_NOT_FOUND') {
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

// RIC keeps one 'beforeExit' listener: node emits 'beforeExit' once the event
// loop has nothing left to run, which is when a callback result is sent (the
// default callbackWaitsForEmptyEventLoop) or when the handler is found to have
// never answered.
let beforeExitListener = () => {};
process.on('beforeExit', () => beforeExitListener());

function neverSettled() {
  printOutcome({ kind: 'timeout', reason: 'the handler neither settled its promise nor called back' });
}

function invoke(handler, event, options) {
  const noop = () => {};
  beforeExitListener = neverSettled;

  let isCompleteInvoked = false;
  const complete = (result) => {
    if (isCompleteInvoked) {
      console.error('Invocation has already been reported as done. Cannot call complete more than once per invocation.');
      return;
    }
    isCompleteInvoked = true;
    postResponse(result);
  };

  let waitForEmptyEventLoop = true;
  const callback = (err, result) => {
    beforeExitListener = noop;
    if (err !== undefined && err !== null) {
      postError(err);
    } else if (!waitForEmptyEventLoop) {
      complete(result);
    } else {
      beforeExitListener = () => setImmediate(() => complete(result));
    }
  };
  const done = (err, result) => {
    beforeExitListener = noop;
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
  setTimeout(() => {
    printOutcome({ kind: 'timeout', reason: `task timed out after ${options.timeoutMs} ms` });
  }, options.timeoutMs).unref();

  // Reseed for the event, as the engine does before each invocation.
  Math.random = createRandom(options.seed);
  try {
    const result = handler(event, context, wrappedCallback);
    if (result && result.then && typeof result.then === 'function') {
      result.then(context.succeed, context.fail).catch(context.fail);
    }
  } catch (err) {
    wrappedCallback(err);
  }
}

// --- Main -----------------------------------------------------------------------------

async function main() {
  const options = parseArgs(process.argv.slice(2));

  let event;
  try {
    event = JSON.parse(fs.readFileSync(options.event, 'utf8'));
  } catch (error) {
    usageError(`cannot read event ${options.event}: ${error.message}`);
  }
  if (!fs.existsSync(options.handler)) usageError(`no handler file ${options.handler}`);

  // Everything the handler prints, console.* included, goes to stderr.
  process.stdout.write = process.stderr.write.bind(process.stderr);

  // Errors that escape the handler fail the invocation, as RIC's process
  // listeners make them do.
  process.on('uncaughtException', (error) => postError(error));
  process.on('unhandledRejection', (reason) => {
    let message;
    try {
      message = reason === undefined ? '' : String(reason);
    } catch {
      message = '';
    }
    postError(runtimeError('UnhandledPromiseRejection', message));
  });

  const typeScriptOutput = path.extname(options.handler) === '.ts' ? compileTypeScript(options.handler) : undefined;
  installDeterminism(options);

  let handler;
  try {
    handler = resolveHandler(await loadUserModule(options.handler, typeScriptOutput), options.exportName, options.handler);
  } catch (error) {
    postError(error);
    return;
  }
  invoke(handler, event, options);
}

main().catch((error) => {
  process.stderr.write(`harness: internal error: ${error && error.stack}\n`);
  process.exit(2);
});
