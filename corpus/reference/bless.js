#!/usr/bin/env node
'use strict';
// Regenerates the corpus's expected outcomes from the original handlers.
//
//   node corpus/reference/bless.js [case...]
//
// A case is a directory under corpus/ holding a handler (index.js, index.mjs,
// index.cjs, index.ts, or for Python lambda_function.py or index.py) and an
// events/ folder. For every events/NAME.json this runs the reference harness
// in a fresh process — harness.js on node, harness.py on python3 — with the
// export name and seed from the case's case.json, and writes the outcome,
// pretty-printed, to expected/NAME.json. Expected files whose event is gone are
// removed. These files are only ever written here: an expected outcome is what
// the real interpreter did, not what anyone thinks it should do.
//
// Exit status: 0 when every case was blessed, 2 when a case is malformed or
// the harness failed to produce an outcome.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const corpusDir = path.resolve(__dirname, '..');
const reference = path.join(__dirname, '..', '..', 'difftest', 'reference');
const handlerNames = ['index.js', 'index.mjs', 'index.cjs', 'index.ts', 'lambda_function.py', 'index.py'];

// How to run the one-shot harness for a handler: the program, its leading
// arguments, and the environment besides Lambda's locale and zone.
function harnessFor(handler) {
  if (handler.endsWith('.py')) {
    return {
      program: process.env.EDGEPORT_PYTHON || 'python3',
      // No bytecode written into the corpus, no user site-packages, unbuffered.
      args: ['-B', '-s', '-u', path.join(reference, 'python', 'harness.py')],
      // String hashing (so set iteration order) pinned, as in the worker and the engine.
      env: { PYTHONHASHSEED: '0', PYTHONIOENCODING: 'utf-8' },
    };
  }
  return { program: process.execPath, args: [path.join(reference, 'node', 'harness.js')], env: {} };
}

function fail(message) {
  process.stderr.write(`bless: ${message}\n`);
  process.exit(2);
}

function findHandler(caseDir) {
  const found = handlerNames.filter((name) => fs.existsSync(path.join(caseDir, name)));
  if (found.length > 1) fail(`${caseDir} has more than one handler file: ${found.join(', ')}`);
  return found.length === 1 ? path.join(caseDir, found[0]) : undefined;
}

function isCase(caseDir) {
  return findHandler(caseDir) !== undefined && fs.existsSync(path.join(caseDir, 'events'));
}

function readCaseConfig(caseDir) {
  const file = path.join(caseDir, 'case.json');
  if (!fs.existsSync(file)) return {};
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    return fail(`cannot read ${file}: ${error.message}`);
  }
}

// Writes through a temporary file and a rename, so an interrupted bless never
// leaves a half-written expectation behind.
function writeAtomically(file, text) {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(temp, text);
  fs.renameSync(temp, file);
}

function runHarness(handler, eventFile, config) {
  const harness = harnessFor(handler);
  const args = [...harness.args, '--handler', handler, '--event', eventFile, '--seed', String(config.seed ?? 1)];
  if (config.export !== undefined) args.push('--export', config.export);
  // Lambda@Edge's limits: 5 s for viewer triggers, 30 s for origin triggers. edgeport's
  // conformance test gives the converted function the same deadline.
  const eventType = JSON.parse(fs.readFileSync(eventFile, 'utf8')).Records[0].cf.config.eventType;
  args.push('--timeout-ms', eventType.startsWith('origin') ? '30000' : '5000');
  const child = spawnSync(harness.program, args, {
    encoding: 'utf8',
    // Lambda's locale and zone; the harness pins the zone itself as well.
    env: { PATH: process.env.PATH, TZ: 'UTC', LANG: 'en_US.UTF-8', ...harness.env },
    timeout: 120000,
  });
  const lines = (child.stdout || '').trim().split('\n');
  if (child.status !== 0 || lines.length !== 1 || lines[0] === '') {
    const why = child.error ? child.error.message : `exit ${child.status}`;
    fail(`the harness produced no outcome for ${eventFile} (${why}):\n${child.stderr}`);
  }
  return JSON.parse(lines[0]);
}

// --- Deploy-time placeholders --------------------------------------------------
//
// A case.json `defines` object gives placeholder values, as a deploy pipeline
// (and edgeport convert --define) fills them in. The original is blessed as it
// was deployed: from a copy of the case with every text file substituted,
// reaching its packages through a node_modules link. The substitution follows
// converter/src/placeholders.rs: `${NAME}`, `{{NAME}}`, `{{ NAME }}` and
// `__NAME__`, for defined names only; the conformance test holds the two to
// the same outcomes.

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\{\{ *([A-Za-z_][A-Za-z0-9_]*) *\}\}|__([A-Za-z](?:_?[A-Za-z0-9])*)__/g;

function substitute(text, defines) {
  return text.replace(PLACEHOLDER, (whole, a, b, c) => {
    const name = a ?? b ?? c;
    return Object.prototype.hasOwnProperty.call(defines, name) ? defines[name] : whole;
  });
}

function deployedCopy(caseDir, defines) {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'edgeport-bless-'));
  const walk = (from, to) => {
    fs.mkdirSync(to, { recursive: true });
    for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || ['node_modules', 'events', 'expected', '__pycache__'].includes(entry.name)) continue;
      const source = path.join(from, entry.name);
      if (entry.isDirectory()) walk(source, path.join(to, entry.name));
      else {
        const bytes = fs.readFileSync(source);
        const text = bytes.toString('utf8');
        const valid = Buffer.from(text, 'utf8').equals(bytes);
        fs.writeFileSync(path.join(to, entry.name), valid ? substitute(text, defines) : bytes);
      }
    }
  };
  walk(caseDir, copy);
  for (let dir = caseDir; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'node_modules'))) {
      fs.symlinkSync(path.join(dir, 'node_modules'), path.join(copy, 'node_modules'));
      break;
    }
    if (path.dirname(dir) === dir) break;
  }
  return copy;
}

function blessCase(caseDir) {
  const config = readCaseConfig(caseDir);
  const defines = config.defines || {};
  const deployed = Object.keys(defines).length > 0 ? deployedCopy(caseDir, defines) : null;
  try {
    blessEvents(caseDir, deployed ? path.join(deployed, path.basename(findHandler(caseDir))) : findHandler(caseDir), config);
  } finally {
    if (deployed) fs.rmSync(deployed, { recursive: true, force: true });
  }
}

function blessEvents(caseDir, handler, config) {
  const eventsDir = path.join(caseDir, 'events');
  const expectedDir = path.join(caseDir, 'expected');
  const events = fs.readdirSync(eventsDir).filter((name) => name.endsWith('.json')).sort();
  if (events.length === 0) fail(`${eventsDir} has no events`);
  fs.mkdirSync(expectedDir, { recursive: true });

  const summary = [];
  for (const name of events) {
    const outcome = runHarness(handler, path.join(eventsDir, name), config);
    writeAtomically(path.join(expectedDir, name), `${JSON.stringify(outcome, null, 2)}\n`);
    summary.push(`${name.replace(/\.json$/, '')}: ${describe(outcome)}`);
  }
  for (const name of fs.readdirSync(expectedDir)) {
    if (name.endsWith('.json') && !events.includes(name)) {
      fs.unlinkSync(path.join(expectedDir, name));
      summary.push(`${name}: removed (no such event)`);
    }
  }
  console.log(`${path.basename(caseDir)}\n  ${summary.join('\n  ')}`);
}

// One line per outcome, enough to eyeball that a redirect redirects.
function describe(outcome) {
  if (outcome.kind === 'error') return `error ${outcome.errorType}: ${outcome.errorMessage}`;
  if (outcome.kind === 'timeout') return `timeout (${outcome.reason})`;
  const value = outcome.value;
  if (value && typeof value === 'object' && 'status' in value) {
    const location = value.headers && value.headers.location ? ` -> ${value.headers.location[0].value}` : '';
    return `response ${value.status}${location}`;
  }
  if (value && typeof value === 'object' && 'uri' in value) {
    const qs = value.querystring ? `?${value.querystring}` : '';
    const origin = value.origin ? ` via ${Object.keys(value.origin)[0]} ${Object.values(value.origin)[0].domainName}` : '';
    return `request ${value.method} ${value.uri}${qs}${origin}`;
  }
  return `result ${JSON.stringify(value).slice(0, 80)}`;
}

function main() {
  const requested = process.argv.slice(2);
  let caseDirs;
  if (requested.length > 0) {
    // A case is named by its directory name or by a path to it.
    caseDirs = requested.map((name) => (name.includes(path.sep) ? path.resolve(name) : path.join(corpusDir, name)));
    for (const dir of caseDirs) {
      if (!isCase(dir)) fail(`${dir} is not a corpus case (it needs ${handlerNames.join('|')} and events/)`);
    }
  } else {
    caseDirs = fs.readdirSync(corpusDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && entry.name !== 'reference')
      .map((entry) => path.join(corpusDir, entry.name))
      .filter(isCase)
      .sort();
  }
  for (const dir of caseDirs) blessCase(dir);
  console.log(`blessed ${caseDirs.length} case${caseDirs.length === 1 ? '' : 's'}`);
}

main();
