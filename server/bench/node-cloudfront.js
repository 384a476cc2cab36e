#!/usr/bin/env node
'use strict';
// The baseline `cargo bench -p edgeport-server --bench serve` measures `edgeport serve` against:
// an *original* Lambda@Edge handler on node behind node's own http server, with the request
// mapping of docs/serve.md ("The chain"). Each request becomes a viewer-request event (or an
// origin-request event with --event-type origin-request); a generated response is answered,
// a request is forwarded to the origin and the origin's response relayed.
//
// usage: node node-cloudfront.js --handler FILE --origin http://HOST:PORT
//          [--export NAME] [--listen HOST:PORT] [--event-type viewer-request|origin-request]
//          [--timeout-ms N]
//
// When ready it prints `listening on http://ADDR` on stdout, as serve does (port 0 binds any
// free port and prints the one bound); the handler's console output goes to stderr.
//
// Unlike the reference harness (difftest/reference/node/ric.js, which loads the handler here),
// nothing is pinned: the clock and Math.random are real, as on a warm Lambda. Only the first of
// callback / context.succeed / fail / done / promise settlement counts, and a callback's result
// is taken once the microtasks queued before it have run (a server's event loop never runs dry,
// so Lambda's wait for an empty one cannot be reproduced).

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');

const ric = require(path.join(__dirname, '..', '..', 'difftest', 'reference', 'node', 'ric.js'));

const USAGE = 'usage: node node-cloudfront.js --handler FILE --origin http://HOST:PORT [--export NAME] ' +
  '[--listen HOST:PORT] [--event-type viewer-request|origin-request] [--timeout-ms N]';

const DISTRIBUTION_DOMAIN_NAME = 'd111111abcdef8.cloudfront.net';
const DISTRIBUTION_ID = 'EDFDVBD6EXAMPLE';

// Hop-by-hop headers (RFC 9110 section 7.6.1) belong to one connection and are never passed on.
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

function usageError(message) {
  process.stderr.write(`node-cloudfront: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { exportName: 'handler', listen: '127.0.0.1:0', eventType: 'viewer-request', timeoutMs: 5000 };
  const flags = ['--handler', '--export', '--origin', '--listen', '--event-type', '--timeout-ms'];
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (!flags.includes(flag)) usageError(`unknown option '${flag}'`);
    if (value === undefined) usageError(`${flag} needs a value`);
    switch (flag) {
      case '--handler': options.handler = path.resolve(value); break;
      case '--export': options.exportName = value; break;
      case '--origin': options.origin = new URL(value); break;
      case '--listen': options.listen = value; break;
      case '--event-type': options.eventType = value; break;
      case '--timeout-ms': options.timeoutMs = Number(value); break;
    }
  }
  if (!options.handler) usageError('--handler is required');
  if (!options.origin) usageError('--origin is required');
  if (options.origin.protocol !== 'http:') usageError('--origin must be an http:// URL');
  if (!['viewer-request', 'origin-request'].includes(options.eventType)) usageError(`unsupported --event-type '${options.eventType}'`);
  if (!Number.isSafeInteger(options.timeoutMs) || options.timeoutMs < 1) usageError('--timeout-ms needs a positive integer');
  const listen = /^\[?([^\]]*)\]?:(\d+)$/.exec(options.listen);
  if (!listen) usageError(`--listen needs HOST:PORT, not '${options.listen}'`);
  options.listenHost = listen[1];
  options.listenPort = Number(listen[2]);
  return options;
}

// --- Viewer request -> event ------------------------------------------------------------

// CloudFront's request ids are 56 characters of URL-safe base64 ending in "==".
function requestId() {
  return crypto.randomBytes(39).toString('base64url') + '==';
}

function clientIp(socket) {
  const address = socket.remoteAddress || '';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

// Headers keyed by lower-case name, each an array of {key, value} in arrival order.
function cloudFrontHeaders(rawHeaders) {
  const headers = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const key = rawHeaders[i];
    const name = key.toLowerCase();
    (headers[name] || (headers[name] = [])).push({ key, value: rawHeaders[i + 1] });
  }
  return headers;
}

function viewerRequest(req) {
  const target = req.url;
  const question = target.indexOf('?');
  return {
    clientIp: clientIp(req.socket),
    headers: cloudFrontHeaders(req.rawHeaders),
    method: req.method,
    querystring: question === -1 ? '' : target.slice(question + 1),
    uri: question === -1 ? target : target.slice(0, question),
  };
}

// What CloudFront adds to a request it forwards: the viewer's address and its own hop.
function addForwardingHeaders(request, id) {
  const forwardedFor = request.headers['x-forwarded-for'];
  if (forwardedFor && forwardedFor.length > 0) {
    forwardedFor[0].value = `${forwardedFor[0].value}, ${request.clientIp}`;
  } else {
    request.headers['x-forwarded-for'] = [{ key: 'X-Forwarded-For', value: request.clientIp }];
  }
  const hop = `1.1 ${id.slice(0, 32).toLowerCase().replace(/[^a-z0-9]/g, '0')}.cloudfront.net (CloudFront)`;
  (request.headers.via || (request.headers.via = [])).push({ key: 'Via', value: hop });
}

function customOrigin(origin) {
  return {
    custom: {
      customHeaders: {},
      domainName: origin.hostname,
      keepaliveTimeout: 5,
      path: origin.pathname === '/' ? '' : origin.pathname,
      port: Number(origin.port || 80),
      protocol: 'http',
      readTimeout: 30,
      sslProtocols: ['TLSv1.2'],
    },
  };
}

function event(eventType, id, request) {
  return {
    Records: [{
      cf: {
        config: { distributionDomainName: DISTRIBUTION_DOMAIN_NAME, distributionId: DISTRIBUTION_ID, eventType, requestId: id },
        request,
      },
    }],
  };
}

// --- Running the handler ---------------------------------------------------------------

// Calls the handler and resolves with {result} or {failure: {status, cache, reason}}.
function invoke(handler, cfEvent, id, options) {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const timer = setTimeout(() => finish(failure(503, 'LambdaLimitExceeded', `task timed out after ${options.timeoutMs} ms`)), options.timeoutMs);
    const answer = (err, result) => {
      if (err !== undefined && err !== null) {
        finish(failure(503, 'LambdaExecutionError', String(err && err.message !== undefined ? err.message : err)));
        return;
      }
      // What the runtime sends CloudFront is the JSON of the result.
      let json;
      try {
        json = JSON.stringify(result === undefined ? null : result);
      } catch (error) {
        finish(failure(502, 'LambdaValidationError', `unable to stringify the result: ${error.message}`));
        return;
      }
      finish({ result: json === undefined ? null : JSON.parse(json) });
    };
    const deadline = Date.now() + options.timeoutMs;
    const functionName = path.basename(path.dirname(options.handler));
    // With callbackWaitsForEmptyEventLoop (the default) Lambda sends a callback's result once the
    // event loop is empty, so edits made after the call are sent too. A server's loop never
    // empties; the result is taken once the microtasks queued so far have run, as the engine
    // takes it once its job queue is drained.
    let waitForEmptyEventLoop = true;
    const callback = (err, result) => {
      if (err !== undefined && err !== null) answer(err);
      else if (waitForEmptyEventLoop) setImmediate(() => answer(null, result));
      else answer(null, result);
    };
    // Only the first of callback / succeed / fail / done (and so a returned promise) counts. As
    // in RIC the flag is set after the call, so a call that throws does not use up the invocation.
    let called = false;
    const first = (fn) => (...args) => {
      if (called) return;
      fn(...args);
      called = true;
    };
    const context = {
      get callbackWaitsForEmptyEventLoop() { return waitForEmptyEventLoop; },
      set callbackWaitsForEmptyEventLoop(value) { waitForEmptyEventLoop = value; },
      succeed: first((result) => answer(null, result)),
      fail: first((err) => answer(err === undefined || err === null ? 'handled' : err)),
      done: first(answer),
      functionVersion: '$LATEST',
      functionName,
      memoryLimitInMB: '128',
      logGroupName: `/aws/lambda/us-east-1.${functionName}`,
      logStreamName: '2026/01/01/[$LATEST]00000000000000000000000000000000',
      invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
      awsRequestId: id,
      getRemainingTimeInMillis: () => deadline - Date.now(),
    };
    const wrappedCallback = first(callback);
    try {
      const returned = handler(cfEvent, context, wrappedCallback);
      if (returned && typeof returned.then === 'function') returned.then(context.succeed, context.fail);
    } catch (err) {
      wrappedCallback(err);
    }
  });
}

function failure(status, cache, reason) {
  return { failure: { status, cache: `${cache} from cloudfront`, reason } };
}

// --- Answering the viewer ----------------------------------------------------------------

function isGeneratedResponse(result) {
  return result !== null && typeof result === 'object' && !Array.isArray(result) && 'status' in result;
}

function isRequest(result) {
  return result !== null && typeof result === 'object' && !Array.isArray(result) && typeof result.uri === 'string';
}

// `{name: [{key, value}]}` as node's flat raw-header list, hop-by-hop headers and `omit` left out.
function rawHeaders(headers, omit) {
  const raw = [];
  for (const [name, values] of Object.entries(headers || {})) {
    if (HOP_BY_HOP.has(name) || name === omit || !Array.isArray(values)) continue;
    for (const { key, value } of values) raw.push(key || name, String(value));
  }
  return raw;
}

function sendFailure(res, id, { status, cache, reason }) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `<!DOCTYPE html>\n<title>${status} ERROR</title>\n<h1>${status} ERROR</h1>\n<p>The request could not be satisfied.</p>\n`;
  res.writeHead(status, {
    'Content-Type': 'text/html',
    'Content-Length': Buffer.byteLength(body),
    'X-Cache': cache,
    'X-Amz-Cf-Id': id,
    'X-Edgeport-Error': reason.replace(/[^\t\x20-\x7e]/g, '?'),
  });
  res.end(body);
}

function sendGeneratedResponse(res, id, response) {
  const status = Number(response.status);
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    sendFailure(res, id, failure(502, 'LambdaValidationError', `invalid status ${JSON.stringify(response.status)}`).failure);
    return;
  }
  const body = typeof response.body === 'string'
    ? Buffer.from(response.body, response.bodyEncoding === 'base64' ? 'base64' : 'utf8')
    : Buffer.alloc(0);
  // The body's length is the server's to state, whatever a function said.
  const headers = rawHeaders(response.headers, 'content-length');
  // No body may follow a 1xx, 204 or 304, so neither may a length (RFC 9110 section 8.6).
  if (status >= 200 && status !== 204 && status !== 304) headers.push('Content-Length', String(body.length));
  headers.push('X-Cache', 'LambdaGeneratedResponse from cloudfront', 'X-Amz-Cf-Id', id);
  try {
    res.writeHead(status, response.statusDescription || undefined, headers);
  } catch (error) {
    sendFailure(res, id, failure(502, 'LambdaValidationError', error.message).failure);
    return;
  }
  res.end(body);
}

function forward(req, res, id, request, options, agent) {
  const custom = request.origin && request.origin.custom;
  const target = request.querystring ? `${request.uri}?${request.querystring}` : request.uri;
  const headers = rawHeaders(request.headers, 'content-length');
  const contentLength = req.headers['content-length'];
  if (contentLength !== undefined) headers.push('Content-Length', contentLength);
  const upstream = http.request({
    agent,
    host: custom ? custom.domainName : options.origin.hostname,
    port: custom ? custom.port : Number(options.origin.port || 80),
    method: request.method || req.method,
    path: `${custom && custom.path ? custom.path : ''}${target}`,
    headers,
    setHost: false,
  });
  upstream.setTimeout(((custom && custom.readTimeout) || 30) * 1000, () => {
    upstream.destroy(Object.assign(new Error('the origin did not answer within its readTimeout'), { status: 504 }));
  });
  upstream.on('response', (originRes) => {
    const relayed = [];
    for (let i = 0; i < originRes.rawHeaders.length; i += 2) {
      if (!HOP_BY_HOP.has(originRes.rawHeaders[i].toLowerCase())) relayed.push(originRes.rawHeaders[i], originRes.rawHeaders[i + 1]);
    }
    relayed.push('X-Cache', 'Miss from cloudfront', 'X-Amz-Cf-Id', id);
    res.writeHead(originRes.statusCode, originRes.statusMessage, relayed);
    originRes.pipe(res);
  });
  upstream.on('error', (error) => sendFailure(res, id, failure(error.status || 502, 'Error', `origin: ${error.message}`).failure));
  req.pipe(upstream);
}

async function serve(req, res, handler, options, agent) {
  const id = requestId();
  let request = viewerRequest(req);
  if (options.eventType === 'origin-request') {
    addForwardingHeaders(request, id);
    request.origin = customOrigin(options.origin);
  }
  const outcome = await invoke(handler, event(options.eventType, id, request), id, options);
  if (outcome.failure) return sendFailure(res, id, outcome.failure);
  const result = outcome.result;
  if (isGeneratedResponse(result)) return sendGeneratedResponse(res, id, result);
  if (!isRequest(result)) return sendFailure(res, id, failure(502, 'LambdaValidationError', 'the result is neither a request nor a response').failure);
  request = result;
  if (options.eventType === 'viewer-request') addForwardingHeaders(request, id);
  return forward(req, res, id, request, options, agent);
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(options.handler)) usageError(`no handler file ${options.handler}`);
  // stdout carries the `listening on` line alone; whatever the handler prints goes to stderr.
  const stdout = (line) => fs.writeSync(1, `${line}\n`);
  process.stdout.write = process.stderr.write.bind(process.stderr);

  const typeScript = path.extname(options.handler) === '.ts' ? ric.compileTypeScript(options.handler) : undefined;
  const handler = ric.resolveHandler(await ric.loadModule(options.handler, { typeScript }), options.exportName, options.handler);
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    serve(req, res, handler, options, agent).catch((error) => sendFailure(res, '', failure(502, 'Error', String(error)).failure));
  });
  server.keepAliveTimeout = 60_000;
  server.listen(options.listenPort, options.listenHost, () => {
    const { address, port } = server.address();
    stdout(`listening on http://${address.includes(':') ? `[${address}]` : address}:${port}`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error) => {
  process.stderr.write(`node-cloudfront: ${error && error.stack ? error.stack : error}\n`);
  process.exit(2);
});
