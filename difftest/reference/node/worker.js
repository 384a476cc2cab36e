'use strict';
// A long-lived reference executor for `edgeport test`: runs original
// Lambda@Edge handlers on node, one invocation at a time, as ric.js describes,
// and speaks JSON lines — one request on stdin, one answer on stdout:
//
//   {"id":1,"op":"invoke","file":"/abs/index.js","export":"handler","event":{...},
//    "seed":1,"now":1767225600000,"timeoutMs":5000,"functionName":"f","requestId":"..."}
//     -> {"id":1,"outcome":{"kind":"result","value":{...}},"logs":"..."}
//   {"id":2,"op":"coverage","root":"/abs/function-dir"}
//     -> {"id":2,"scripts":[{"path":"/abs/index.js","ranges":[[start,end,count],...],
//                            "source":"...","mappings":"..."}]}
//
// The first line it writes is {"ready":true,"node":"v20..."}. `node worker.js
// --coverage` records V8 block coverage; a coverage request returns the counts
// gathered since the previous one for the scripts under `root` (outside
// node_modules), offsets in UTF-16 code units of the script's source; `source`
// and `mappings` (a source map's) come only with TypeScript, whose compiled
// text is what ran.
//
// Every invocation starts from a freshly loaded module, pinned clock and
// seed, and the globals as they were when the worker started, so its outcome
// does not depend on what ran before — the converted side gets a fresh
// instance per event too. Timers a handler leaves behind after its outcome are
// cancelled, as Lambda freezes them.

const path = require('path');
const ric = require('./ric.js');

const protocolOut = (line) => require('fs').writeSync(1, `${line}\n`);

// --- Logs ------------------------------------------------------------------------

// What the handler prints (console.* included) is kept for the answer, up to
// a limit, instead of reaching the protocol stream.
const LOG_LIMIT = 64 * 1024;
let logs = '';
function captureLog(chunk) {
  if (logs.length < LOG_LIMIT) logs += String(chunk).slice(0, LOG_LIMIT - logs.length);
  return true;
}
process.stdout.write = captureLog;
process.stderr.write = captureLog;

// --- Coverage ---------------------------------------------------------------------

const withCoverage = process.argv.includes('--coverage');
let session;
if (withCoverage) {
  const inspector = require('inspector');
  session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
}

// Compiled TypeScript by file, so each load reuses it and coverage can name it.
const compiled = new Map();

function scriptPath(url) {
  let file = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  const query = file.indexOf('?edgeport-load=');
  if (query >= 0) file = file.slice(0, query);
  return file;
}

function coverage(request, answer) {
  const root = path.resolve(request.root) + path.sep;
  session.post('Profiler.takePreciseCoverage', (error, result) => {
    if (error) throw error;
    const scripts = [];
    for (const script of result.result) {
      const file = scriptPath(script.url);
      if (!file.startsWith(root) || file.includes(`${path.sep}node_modules${path.sep}`)) continue;
      const ranges = [];
      for (const fn of script.functions) {
        for (const r of fn.ranges) ranges.push([r.startOffset, r.endOffset, r.count]);
      }
      const entry = { path: file, ranges };
      const typeScript = compiled.get(file);
      if (typeScript) Object.assign(entry, typeScript);
      scripts.push(entry);
    }
    answer({ scripts });
  });
}

// --- A clean slate per invocation -------------------------------------------------

const pristineGlobals = new Map();

function rememberGlobals() {
  for (const key of Reflect.ownKeys(globalThis)) {
    pristineGlobals.set(key, Object.getOwnPropertyDescriptor(globalThis, key));
  }
}

function restoreGlobals() {
  for (const key of Reflect.ownKeys(globalThis)) {
    const before = pristineGlobals.get(key);
    if (before === undefined) {
      delete globalThis[key];
      continue;
    }
    const now = Object.getOwnPropertyDescriptor(globalThis, key);
    if (now.value !== before.value || now.get !== before.get || now.set !== before.set) {
      try {
        Object.defineProperty(globalThis, key, before);
      } catch {
        // A handler froze a global; nothing to restore it with.
      }
    }
  }
}

// Timers created while a handler runs, cancelled once it has answered.
const pendingTimers = new Set();
let trackTimers = false;
for (const [create, cancel] of [['setTimeout', 'clearTimeout'], ['setInterval', 'clearInterval'], ['setImmediate', 'clearImmediate']]) {
  const real = globalThis[create];
  const realCancel = globalThis[cancel];
  const tracked = Object.defineProperty(function (...args) {
    const handle = real(...args);
    if (trackTimers) pendingTimers.add(() => realCancel(handle));
    return handle;
  }, 'name', { value: create });
  // util.promisify.custom and the like: `util.promisify(setTimeout)` must stay
  // timers/promises' setTimeout.
  for (const key of Object.getOwnPropertySymbols(real)) {
    Object.defineProperty(tracked, key, Object.getOwnPropertyDescriptor(real, key));
  }
  globalThis[create] = tracked;
}

function cancelTimers() {
  for (const cancel of pendingTimers) cancel();
  pendingTimers.clear();
}

// Forgets every module a handler loaded, so the next load runs its top level
// again; node's own and this worker's files stay.
const ownFiles = new Set(Object.keys(require.cache));
function forgetModules() {
  for (const key of Object.keys(require.cache)) {
    if (!ownFiles.has(key)) delete require.cache[key];
  }
}

// --- Invocations --------------------------------------------------------------------

let loads = 0;
// Compiled CommonJS wrappers by file, for the worker's lifetime (one run).
const wrappers = new Map();

async function load(request) {
  const file = path.resolve(request.file);
  let typeScript;
  if (path.extname(file) === '.ts') {
    if (!compiled.has(file)) compiled.set(file, ric.compileTypeScript(file));
    typeScript = compiled.get(file);
  }
  forgetModules();
  ric.pin(request.now, request.seed);
  loads += 1;
  const userModule = await ric.loadModule(file, { typeScript, fresh: loads, scripts: wrappers });
  return ric.resolveHandler(userModule, request.export, file);
}

async function invoke(request, answer) {
  logs = '';
  restoreGlobals();
  trackTimers = true;
  const finish = (outcome) => {
    trackTimers = false;
    cancelTimers();
    answer({ outcome, logs });
  };
  let handler;
  try {
    handler = await load(request);
  } catch (error) {
    finish(ric.errorOutcome(error));
    return;
  }
  ric.invoke(handler, request.event, {
    now: request.now,
    seed: request.seed,
    timeoutMs: request.timeoutMs,
    functionName: request.functionName,
    requestId: request.requestId,
    log: (line) => captureLog(`${line}\n`),
  }, finish);
}

// --- The protocol ---------------------------------------------------------------------

// While a handler runs, stdin must not hold the event loop open: RIC's
// semantics hang on node noticing that the loop ran dry ('beforeExit').
let buffered = '';
let busy = false;

function serveNext() {
  const newline = buffered.indexOf('\n');
  if (busy || newline < 0) return;
  const line = buffered.slice(0, newline);
  buffered = buffered.slice(newline + 1);
  let request;
  try {
    request = JSON.parse(line);
  } catch (error) {
    protocolOut(JSON.stringify({ id: null, fatal: `not a JSON request: ${error.message}` }));
    serveNext();
    return;
  }
  busy = true;
  process.stdin.pause();
  process.stdin.unref();
  const answer = (body) => {
    protocolOut(JSON.stringify({ id: request.id, ...body }));
    busy = false;
    process.stdin.ref();
    process.stdin.resume();
    serveNext();
  };
  if (request.op === 'invoke') {
    invoke(request, answer);
  } else if (request.op === 'coverage' && withCoverage) {
    coverage(request, answer);
  } else {
    answer({ fatal: `unknown request '${request.op}'` });
  }
}

ric.installDeterminism();
rememberGlobals();
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  serveNext();
});
process.stdin.on('end', () => process.exit(0));
protocolOut(JSON.stringify({ ready: true, node: process.version }));
