#!/usr/bin/env node
'use strict';
// Runs one original Lambda@Edge handler on one event in this (fresh) node
// process, as AWS's runtime interface client would, and prints the outcome as
// one line of JSON on stdout (the shapes are described in ric.js). The
// corpus's expected outcomes are made with it (corpus/reference/bless.js).
//
// usage: node harness.js --handler FILE --event FILE [--export NAME] [--seed N]
//          [--now MS] [--timeout-ms N] [--function-name S] [--request-id S]
//
// Whatever the handler logs goes to stderr, so stdout carries nothing but the
// outcome. Exit status: 0 whenever an outcome was printed (an error outcome is
// data, not a failure of the harness); 2 when the harness was used wrongly.

const fs = require('fs');
const path = require('path');
const ric = require('./ric.js');

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

function printOutcome(outcome) {
  fs.writeSync(1, `${JSON.stringify(outcome)}\n`);
  process.exit(0);
}

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

  let handler;
  try {
    const typeScript = path.extname(options.handler) === '.ts' ? ric.compileTypeScript(options.handler) : undefined;
    ric.installDeterminism();
    ric.pin(options.now, options.seed);
    handler = ric.resolveHandler(await ric.loadModule(options.handler, { typeScript }), options.exportName, options.handler);
  } catch (error) {
    printOutcome(ric.errorOutcome(error));
    return;
  }
  ric.invoke(handler, event, { ...options, log: (line) => console.error(line) }, printOutcome);
}

main().catch((error) => {
  process.stderr.write(`harness: internal error: ${error && error.stack}\n`);
  process.exit(2);
});
