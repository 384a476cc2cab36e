//! Smoke test and timings for the Python engine on edgeport's own runtime.
//!
//! Loads the engine module built by `converter/engines/python` (a bare engine, no artifact
//! metadata), starts instances with a frozen clock, and drives them through the runtime's
//! public API as the converter and `edgeport test` would: `Instance::init`, `Instance::load`
//! (with the handler's source where the JavaScript engine takes bytecode) and
//! `Instance::invoke`. Each check covers one part of the Lambda Python contract; the timings
//! are printed as a table.
//!
//! Usage: `edgeport-engine-python-smoke [ENGINE.wasm]` (default: the engine's release build in
//! `target/engines-python`, relative to the repository root). Exits 1 when a check fails, 2
//! when the engine cannot be run.

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use edgeport_runtime::invocation::DEFAULT_FIXED_NOW_MS;
use edgeport_runtime::wasi::{self, Clock, Entropy, WasiState};
use edgeport_runtime::{
    Instance, InstanceOptions, Invocation, LambdaContext, LoadedFunction, Outcome, Runtime, RuntimeError,
    RuntimeOptions, INIT_TIMEOUT,
};
use serde_json::{json, Value};

mod adapt;
mod raw;

const DEFAULT_ENGINE: &str = "target/engines-python/wasm32-wasip1/release/edgeport_engine_python.wasm";

/// Warm invocations per timing; the median is reported.
const WARM_SAMPLES: usize = 300;

/// The handler from issue #4: a redirect, else the request with a random header.
const REDIRECT_HANDLER: &str = r#"import json, random, time, base64, re, hashlib, urllib.parse
def handler(event, context):
    request = event['Records'][0]['cf']['request']
    if request['uri'] == '/old':
        return {'status': '301', 'headers': {'location': [{'key': 'Location', 'value': '/new'}]}}
    request['headers']['x-rand'] = [{'key': 'X-Rand', 'value': str(random.random())}]
    return request
"#;

/// Reports what the standard library and the context see, for the checks below.
const PROBE_HANDLER: &str = r#"import base64, datetime, hashlib, hmac, json, re, time, urllib.parse, zlib
calls = 0
def handler(event, context):
    global calls
    calls += 1
    print('probe', calls)
    uri = event['Records'][0]['cf']['request']['uri']
    if uri == '/missing':
        return event['nope']
    if uri == '/set':
        return {1, 2}
    if uri == '/loop':
        while True:
            pass
    return {
        'calls': calls,
        'time': time.time(),
        'now': datetime.datetime.now(datetime.timezone.utc).isoformat(),
        'remaining': context.get_remaining_time_in_millis(),
        'context': [context.function_name, context.function_version, context.invoked_function_arn,
                    context.memory_limit_in_mb, context.aws_request_id, context.log_group_name,
                    context.log_stream_name],
        'tuple': (1, 2),
        'b64': base64.b64encode(b'edge').decode(),
        'sha256': hashlib.sha256(b'edge').hexdigest(),
        'hmac': hmac.new(b'k', b'edge', 'sha1').hexdigest(),
        'query': urllib.parse.parse_qs('a=1&b=2&a=3'),
        'quote': urllib.parse.quote('/a b?c'),
        're': re.sub(r'(\d+)', r'<\1>', 'a1b22'),
        'crc': zlib.crc32(b'edge'),
        'json': json.dumps({'b': 1, 'a': [True, None]}, sort_keys=True),
    }
"#;

/// What the probe handler answers on its first call, from CPython 3 and the frozen clock.
fn expected_probe(deadline_ms: u64) -> Value {
    json!({
        "calls": 1,
        "time": DEFAULT_FIXED_NOW_MS as f64 / 1000.0,
        "now": "2026-01-01T00:00:00+00:00",
        "remaining": deadline_ms - DEFAULT_FIXED_NOW_MS,
        "context": ["smoke", "$LATEST", "arn:aws:lambda:us-east-1:123456789012:function:smoke", "128", "req-1",
                    "/aws/lambda/us-east-1.smoke", "2026/01/01/[$LATEST]00000000000000000000000000000000"],
        "tuple": [1, 2],
        "b64": "ZWRnZQ==",
        "sha256": "a1cb100f57e971cacf269e7c26e4630a25a8e9d4bdd35e32df1a80b66b896254",
        "hmac": "9bfab0cfa549c0ca46e80b335210ccf84544b3f4",
        "query": {"a": ["1", "3"], "b": ["2"]},
        "quote": "/a%20b%3Fc",
        "re": "a<1>b<22>",
        "crc": 1_963_381_606,
        "json": "{\"a\": [true, null], \"b\": 1}",
    })
}

fn main() -> ExitCode {
    let engine_path = std::env::args().nth(1).unwrap_or_else(|| DEFAULT_ENGINE.to_string());
    match run(&engine_path) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

fn run(engine_path: &str) -> Result<bool, String> {
    let bytes = std::fs::read(engine_path).map_err(|e| {
        format!("cannot read {engine_path}: {e}; build the engine first (see converter/engines/python/README.md)")
    })?;
    println!("engine: {engine_path} ({:.1} MB)", bytes.len() as f64 / 1e6);
    let mut timings = Timings::default();
    let (bytes, filled) =
        timings.time("fill missing WASI imports", || adapt::fill_missing_wasi(&bytes, &runtime_wasi_imports()))?;
    if !filled.is_empty() {
        println!(
            "the runtime lacks {} WASI functions the engine imports; stubbed in the module: {}",
            filled.len(),
            filled.join(", ")
        );
    }
    let runtime = Runtime::new(RuntimeOptions { cache_dir: RuntimeOptions::default_cache_dir() });
    let function = timings.time("load_bytes (compile or cache)", || runtime.load_bytes(bytes.clone())).map_err(text)?;

    let mut checks = Checks::default();
    let context = LambdaContext::for_function("smoke", "req-1");
    let deadline_ms = DEFAULT_FIXED_NOW_MS + 5_000;
    let invocation =
        |event: &'static str, seed: u32| Invocation { event_json: event, context: &context, seed, deadline_ms };

    // The handler from the issue, every phase timed.
    let mut instance = timings.time("instantiate", || start(&function)).map_err(text)?;
    timings.time("init (interpreter + shim)", || instance.init()).map_err(text)?;
    // As `LoadedFunction::instantiate` does for an artifact without snapshot.
    instance.set_budget(INIT_TIMEOUT).map_err(text)?;
    timings
        .time("load (compile + top level)", || {
            instance.load("handler", "lambda_function.py", &[], REDIRECT_HANDLER.as_bytes())
        })
        .map_err(text)?;
    let redirect = timings.time("first invoke", || instance.invoke(&invocation(event("/old"), 1))).map_err(text)?;
    let location = json!({"location": [{"key": "Location", "value": "/new"}]});
    checks.outcome("redirect", &redirect, &json!({"kind": "result", "value": {"status": "301", "headers": location}}));
    let seeded = instance.invoke(&invocation(event("/x"), 1)).map_err(text)?;
    let drawn = match &seeded {
        Outcome::Result { value } => value["headers"]["x-rand"][0]["value"].as_str().unwrap_or_default().to_string(),
        other => format!("{other:?}"),
    };
    match cpython_random(1) {
        Some(expected) => checks.equal("random.seed(1); random.random() as in CPython", &drawn, &expected),
        None => println!("SKIPPED: random.random() against CPython: python3 is not installed"),
    }
    let again = instance.invoke(&invocation(event("/x"), 1)).map_err(text)?;
    checks.equal("random is re-seeded on every invocation", &format!("{again:?}"), &format!("{seeded:?}"));
    let warm_event = event("/x");
    let warm = median(|| instance.invoke(&invocation(warm_event, 7)).map(drop).map_err(text))?;

    // The contract details, on a second instance.
    let mut probe = start(&function).map_err(text)?;
    probe.init().map_err(text)?;
    probe.load("handler", "lambda_function.py", &[], PROBE_HANDLER.as_bytes()).map_err(text)?;
    let _ = probe.take_logs();
    let answer = probe.invoke(&invocation(event("/probe"), 1)).map_err(text)?;
    let (stdout, _) = probe.take_logs();
    checks.equal("print reaches the host's stdout", &String::from_utf8_lossy(&stdout), "probe 1\n");
    match &answer {
        Outcome::Result { value } => checks.fields("probe", value, &expected_probe(deadline_ms)),
        other => checks.fail("probe", &format!("{other:?}")),
    }
    let missing = probe.invoke(&invocation(event("/missing"), 1)).map_err(text)?;
    checks.error("exception", &missing, ("KeyError", "'nope'"), Some("lambda_function.py:9:"));
    let set = probe.invoke(&invocation(event("/set"), 1)).map_err(text)?;
    let marshal = ("Runtime.MarshalError", "Unable to marshal response: Object of type set is not JSON serializable");
    checks.error("unserialisable result", &set, marshal, None);
    let short = Invocation { deadline_ms: DEFAULT_FIXED_NOW_MS + 200, ..invocation(event("/loop"), 1) };
    let looping = timings.time("endless loop, 200 ms budget", || probe.invoke(&short)).map_err(text)?;
    checks.outcome(
        "the budget stops an endless loop",
        &looping,
        &json!({"kind": "timeout", "reason": "task timed out after 200 ms"}),
    );
    let after = probe.invoke(&invocation(event("/probe"), 1)).map_err(text)?;
    checks.record(
        "the instance still works after a timeout",
        matches!(after, Outcome::Result { .. }),
        &format!("{after:?}"),
    );

    // Load-time failures come back as guest errors, as with the JavaScript engine.
    for (name, source, error_type, message) in [
        (
            "syntax error",
            "def handler(event, context)\n    return 1\n",
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module 'lambda_function': ",
        ),
        (
            "missing module",
            "import requests\n",
            "Runtime.ImportModuleError",
            "Unable to import module 'lambda_function': No module named 'requests'",
        ),
        (
            "missing handler",
            "def other(event, context):\n    return 1\n",
            "Runtime.HandlerNotFound",
            "Handler 'handler' missing on module 'lambda_function'",
        ),
        ("top-level exception", "x = {}['k']\n", "KeyError", "'k'"),
    ] {
        let mut instance = start(&function).map_err(text)?;
        instance.init().map_err(text)?;
        match instance.load("handler", "lambda_function.py", &[], source.as_bytes()) {
            Err(RuntimeError::Guest(error)) => {
                let ok = error.error_type == error_type && error.error_message.starts_with(message);
                let detail = format!("{}: {} {:?}", error.error_type, error.error_message, error.trace);
                checks.record(&format!("load: {name}"), ok, &detail);
                println!("      {detail}");
            }
            other => checks.fail(&format!("load: {name}"), &format!("{other:?}")),
        }
    }

    // What the budget tracer costs, on a raw instance (the runtime always sets a budget).
    let mut raw = raw::RawEngine::new(&bytes, DEFAULT_FIXED_NOW_MS)?;
    raw.load("handler", "lambda_function.py", REDIRECT_HANDLER)?;
    let envelope = invocation(warm_event, 7).envelope(true);
    let unbudgeted = median(|| raw.invoke(&envelope, None))?;
    let budgeted = median(|| raw.invoke(&envelope, Some(5_000)))?;

    println!();
    println!("{:<36} {:>12}", "phase", "time");
    for (phase, elapsed) in &timings.0 {
        println!("{phase:<36} {:>9.3} ms", elapsed.as_secs_f64() * 1e3);
    }
    for (phase, elapsed) in [
        ("warm invoke via Instance (median)", warm),
        ("warm invoke, raw, no budget", unbudgeted),
        ("warm invoke, raw, 5 s budget", budgeted),
    ] {
        println!("{phase:<36} {:>9.3} ms", elapsed.as_secs_f64() * 1e3);
    }
    println!();
    println!("{} passed, {} failed", checks.passed, checks.failed);
    Ok(checks.failed == 0)
}

/// The `wasi_snapshot_preview1` functions edgeport's runtime defines.
fn runtime_wasi_imports() -> Vec<String> {
    let mut store = wasmer::Store::default();
    let env = wasmer::FunctionEnv::new(&mut store, WasiState::new(Clock::System, Entropy::Os));
    let imports = wasi::imports(&mut store, &env);
    let mut names: Vec<String> = (&imports)
        .into_iter()
        .filter(|((module, _), _)| module == "wasi_snapshot_preview1")
        .map(|((_, name), _)| name)
        .collect();
    names.sort();
    names
}

fn text(error: impl std::fmt::Display) -> String {
    error.to_string()
}

/// A fresh instance of the bare engine with the frozen clock differential runs use.
fn start(function: &LoadedFunction) -> Result<Instance, RuntimeError> {
    function.instantiate(InstanceOptions::deterministic(DEFAULT_FIXED_NOW_MS))
}

/// A viewer-request event for `uri`. Leaked: `Invocation` borrows its event text, and the
/// program makes a handful of them.
fn event(uri: &str) -> &'static str {
    let event = json!({"Records": [{"cf": {
        "config": {"distributionDomainName": "d111111abcdef8.cloudfront.net", "distributionId": "EDFDVBD6EXAMPLE",
                   "eventType": "viewer-request", "requestId": "r"},
        "request": {"clientIp": "203.0.113.178", "method": "GET", "uri": uri, "querystring": "",
                    "headers": {"host": [{"key": "Host", "value": "d111111abcdef8.cloudfront.net"}]}}
    }}]});
    Box::leak(event.to_string().into_boxed_str())
}

/// Median duration of `WARM_SAMPLES` calls of `op`.
fn median(mut op: impl FnMut() -> Result<(), String>) -> Result<Duration, String> {
    let mut samples = Vec::with_capacity(WARM_SAMPLES);
    for _ in 0..WARM_SAMPLES {
        let started = Instant::now();
        op()?;
        samples.push(started.elapsed());
    }
    samples.sort();
    Ok(samples[samples.len() / 2])
}

/// `random.seed(seed); random.random()` as CPython prints it, if python3 is installed.
fn cpython_random(seed: u32) -> Option<String> {
    let output = Command::new("python3")
        .args(["-c", &format!("import random; random.seed({seed}); print(str(random.random()))")])
        .output()
        .ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Durations of the phases, in the order they were taken.
#[derive(Default)]
struct Timings(Vec<(&'static str, Duration)>);

impl Timings {
    fn time<T>(&mut self, phase: &'static str, op: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let value = op();
        self.0.push((phase, started.elapsed()));
        value
    }
}

/// Pass/fail bookkeeping; every check prints one line.
#[derive(Default)]
struct Checks {
    passed: usize,
    failed: usize,
}

impl Checks {
    fn record(&mut self, name: &str, ok: bool, detail: &str) {
        if ok {
            self.passed += 1;
            println!("ok    {name}");
        } else {
            self.failed += 1;
            println!("FAIL  {name}: {detail}");
        }
    }

    fn fail(&mut self, name: &str, detail: &str) {
        self.record(name, false, detail);
    }

    fn equal(&mut self, name: &str, actual: &str, expected: &str) {
        self.record(name, actual == expected, &format!("got {actual:?}, expected {expected:?}"));
    }

    fn outcome(&mut self, name: &str, outcome: &Outcome, expected: &Value) {
        let actual = serde_json::to_value(outcome.normalized()).unwrap_or(Value::Null);
        self.record(name, &actual == expected, &format!("got {actual}, expected {expected}"));
    }

    /// An error outcome of `(errorType, errorMessage)` whose trace, if `location` is given,
    /// has a frame starting with it.
    fn error(&mut self, name: &str, outcome: &Outcome, (error_type, message): (&str, &str), location: Option<&str>) {
        match outcome {
            Outcome::Error { error_type: actual_type, error_message, trace } => {
                let located = location.is_none_or(|at| trace.iter().any(|line| line.starts_with(at)));
                let ok = actual_type == error_type && error_message == message && located;
                self.record(name, ok, &format!("{actual_type}: {error_message} {trace:?}"));
            }
            other => self.fail(name, &format!("{other:?}")),
        }
    }

    /// One check per field of `expected`.
    fn fields(&mut self, name: &str, actual: &Value, expected: &Value) {
        for (key, expected) in expected.as_object().expect("the expectation is an object") {
            let actual = &actual[key];
            self.record(&format!("{name}: {key}"), actual == expected, &format!("got {actual}, expected {expected}"));
        }
    }
}
