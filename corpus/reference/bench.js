#!/usr/bin/env node
'use strict';
// Times the original handler in one warm node process: loads it once, then calls it `--runs`
// times on the same event (a fresh copy each time) and prints {"medianUs", "p99Us"} as JSON.
// Used by edgeport's benchmark (corpus/benches/cold_start.rs) to put node beside the runtime.
//
// usage: node bench.js --handler FILE --event FILE [--export NAME] [--runs N]

const fs = require('fs');
const path = require('path');

function arg(name, fallback) {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : process.argv[at + 1];
}

async function load(file) {
  const ext = path.extname(file);
  if (ext === '.mjs') return import(require('url').pathToFileURL(file).href);
  if (ext === '.ts') {
    const ts = require(require.resolve('typescript', { paths: [__dirname] }));
    const { outputText } = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    const Module = require('module');
    const mod = new Module(file, module);
    mod.filename = file;
    mod.paths = Module._nodeModulePaths(path.dirname(file));
    mod._compile(outputText, file);
    return mod.exports;
  }
  return require(file);
}

// One call the way the Lambda runtime makes it: the first of callback or promise wins.
function call(handler, event, context) {
  return new Promise((resolve) => {
    let done = false;
    const finish = (error, value) => { if (!done) { done = true; resolve(error ?? value); } };
    try {
      const result = handler(event, context, finish);
      if (result && typeof result.then === 'function') result.then((v) => finish(null, v), finish);
    } catch (error) {
      finish(error);
    }
  });
}

async function main() {
  const file = path.resolve(arg('--handler'));
  const eventJson = fs.readFileSync(path.resolve(arg('--event')), 'utf8');
  const runs = Number(arg('--runs', '2000'));
  const handler = (await load(file))[arg('--export', 'handler')];
  const context = { functionName: 'bench', getRemainingTimeInMillis: () => 5000, callbackWaitsForEmptyEventLoop: true };
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const event = JSON.parse(eventJson);
    await call(handler, event, context);
    JSON.stringify(event);
    times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  process.stdout.write(`${JSON.stringify({ medianUs: at(0.5), p99Us: at(0.99) })}\n`);
}

// Handlers log; keep stdout for the result.
const write = process.stdout.write.bind(process.stdout);
console.log = console.info = console.warn = console.error = () => {};
process.stdout.write = (chunk, ...rest) => (String(chunk).startsWith('{"medianUs"') ? write(chunk, ...rest) : true);
main();
