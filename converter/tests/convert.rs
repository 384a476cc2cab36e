//! Converting real handlers end to end: reproducible snapshots, the artifact format's
//! invariants, and diagnostics for failures only the engine can see.

use std::path::Path;
use std::cell::RefCell;
use std::sync::OnceLock;

use edgeport_converter::{ConvertError, ConvertOptions, Converted, Converter, FunctionSource};
use edgeport_runtime::artifact;
use edgeport_runtime::invocation::DEFAULT_FIXED_NOW_MS;
use edgeport_runtime::{InstanceOptions, Invocation, LambdaContext, Outcome, Runtime, RuntimeOptions};

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        Runtime::new(RuntimeOptions { cache_dir: Some(Path::new(env!("CARGO_TARGET_TMPDIR")).join("edgeport-cache")), memory_limit: None })
    })
}

fn convert(source: &str, options: &ConvertOptions) -> Result<Converted, ConvertError> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("index.js");
    std::fs::write(&file, source).expect("write");
    convert_file(&FunctionSource::from_file(&file), options)
}

fn convert_file(function: &FunctionSource, options: &ConvertOptions) -> Result<Converted, ConvertError> {
    thread_local! {
        static CONVERTER: RefCell<Option<Converter>> = const { RefCell::new(None) };
    }
    CONVERTER.with_borrow_mut(|converter| {
        converter
            .get_or_insert_with(|| Converter::new(runtime()).expect("engine loads"))
            .convert(function, options)
    })
}

fn invoke(converted: &Converted, event: &str) -> Outcome {
    let function = runtime().load_bytes(converted.wasm.clone()).expect("artifact loads");
    let mut instance = function.instantiate(InstanceOptions::deterministic(DEFAULT_FIXED_NOW_MS)).expect("instantiates");
    let context = LambdaContext::for_function("test", "id");
    let invocation = Invocation { event_json: event, context: &context, seed: 3, deadline_ms: DEFAULT_FIXED_NOW_MS + 5000 };
    instance.invoke(&invocation).expect("invokes")
}

const EVENT: &str = r#"{"Records":[{"cf":{"config":{"eventType":"viewer-request"},"request":{"clientIp":"203.0.113.9","method":"GET","uri":"/a","querystring":"x=1","headers":{}}}}]}"#;

/// Module state, top-level work, randomness and time: everything a snapshot must capture.
const STATEFUL: &str = r#"
const table = new Map([['/a', '/alpha'], ['/b', '/beta']]);
let calls = 0;
exports.handler = async (event) => {
  calls += 1;
  const request = event.Records[0].cf.request;
  request.uri = table.get(request.uri) || request.uri;
  request.headers['x-calls'] = [{ key: 'X-Calls', value: String(calls) }];
  request.headers['x-random'] = [{ key: 'X-Random', value: Math.random().toFixed(6) }];
  request.headers['x-now'] = [{ key: 'X-Now', value: new Date().toISOString() }];
  return request;
};
"#;

#[test]
fn snapshots_are_reproducible() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("index.js");
    std::fs::write(&file, STATEFUL).expect("write");
    let function = FunctionSource::from_file(&file);
    let first = convert_file(&function, &ConvertOptions::default()).expect("converts");
    let second = convert_file(&function, &ConvertOptions::default()).expect("converts");
    assert!(first.wasm == second.wasm, "converting the same source twice must give the same bytes");
}

#[test]
fn snapshot_and_plain_artifacts_behave_the_same() {
    let snapshot = convert(STATEFUL, &ConvertOptions::default()).expect("converts");
    let plain = convert(STATEFUL, &ConvertOptions { no_snapshot: true, ..ConvertOptions::default() }).expect("converts");
    assert!(snapshot.metadata.preinitialized && !plain.metadata.preinitialized);
    let outcome = invoke(&snapshot, EVENT);
    assert_eq!(outcome, invoke(&plain, EVENT));
    let Outcome::Result { value } = outcome else { panic!("expected a result, got {outcome:?}") };
    assert_eq!(value["uri"], "/alpha");
    assert_eq!(value["headers"]["x-calls"][0]["value"], "1");
    assert_eq!(value["headers"]["x-now"][0]["value"], "2026-01-01T00:00:00.000Z");
}

#[test]
fn artifacts_are_valid_modules_that_keep_the_format_invariants() {
    let converted = convert(STATEFUL, &ConvertOptions::default()).expect("converts");
    wasmparser::validate(&converted.wasm).expect("a valid WebAssembly module");
    let parsed = artifact::parse(&converted.wasm).expect("parses");
    let metadata = parsed.metadata.expect("has metadata");
    assert_eq!(metadata.handler, "handler");
    assert_eq!(metadata.event_types, ["viewer-request", "origin-request"]);
    let code = artifact::engine_code(&converted.wasm).expect("engine code");
    assert_eq!(metadata.code_hash, artifact::sha256_hex(&code));
    assert!(parsed.bytecode.is_some_and(|b| !b.is_empty()));
}

#[test]
fn top_level_errors_surface_at_convert_time_with_a_location() {
    let source = "const config = JSON.parse('{bad json');\nexports.handler = async () => config;\n";
    let error = convert(source, &ConvertOptions::default()).expect_err("top-level code throws");
    let ConvertError::Diagnostics { file, diagnostics } = error else { panic!("expected diagnostics") };
    let diagnostic = diagnostics.iter().find(|d| d.code == "EP0006").expect("EP0006");
    assert!(diagnostic.message.contains("SyntaxError"), "{}", diagnostic.message);
    assert_eq!(diagnostic.location(&file).map(|(line, _)| line), Some(1));
}

#[test]
fn warm_instances_keep_module_state() {
    let converted = convert(STATEFUL, &ConvertOptions::default()).expect("converts");
    let function = runtime().load_bytes(converted.wasm.clone()).expect("loads");
    let mut instance = function.instantiate(InstanceOptions::deterministic(DEFAULT_FIXED_NOW_MS)).expect("instantiates");
    let context = LambdaContext::for_function("test", "id");
    let invocation = Invocation { event_json: EVENT, context: &context, seed: 3, deadline_ms: DEFAULT_FIXED_NOW_MS + 5000 };
    instance.invoke(&invocation).expect("first");
    let Outcome::Result { value } = instance.invoke(&invocation).expect("second") else { panic!("expected a result") };
    assert_eq!(value["headers"]["x-calls"][0]["value"], "2", "a warm instance is a warm container");
}

#[test]
fn a_provisioned_sandbox_starts_the_function_like_a_fresh_instance() {
    let converted = convert(STATEFUL, &ConvertOptions::default()).expect("converts");
    let function = runtime().load_bytes(converted.wasm.clone()).expect("loads");
    let options = InstanceOptions::deterministic(DEFAULT_FIXED_NOW_MS);
    let context = LambdaContext::for_function("test", "id");
    let invocation = Invocation { event_json: EVENT, context: &context, seed: 3, deadline_ms: DEFAULT_FIXED_NOW_MS + 5000 };
    let mut fresh = function.instantiate(options).expect("instantiates");
    let mut provisioned = function.instantiate_in(function.sandbox(options).expect("sandbox")).expect("instantiates");
    assert_eq!(fresh.invoke(&invocation).expect("fresh"), provisioned.invoke(&invocation).expect("provisioned"));
}

#[test]
fn top_level_code_that_never_ends_is_stopped_at_the_init_timeout() {
    let options = ConvertOptions { init_timeout: std::time::Duration::from_millis(200), ..ConvertOptions::default() };
    let error = convert("while (true) {}\nexports.handler = async () => 1;\n", &options).expect_err("never finishes");
    let ConvertError::Diagnostics { diagnostics, .. } = error else { panic!("expected diagnostics") };
    let diagnostic = diagnostics.iter().find(|d| d.code == "EP0006").expect("EP0006");
    assert!(diagnostic.message.contains("Runtime.InitTimeout"), "{}", diagnostic.message);
}

#[test]
fn a_handler_that_loops_forever_times_out_and_the_instance_serves_the_next_event() {
    let source = "exports.handler = async (event) => {\n  const request = event.Records[0].cf.request;\n  while (request.uri === '/loop') {}\n  return request;\n};\n";
    let converted = convert(source, &ConvertOptions::default()).expect("converts");
    let function = runtime().load_bytes(converted.wasm.clone()).expect("loads");
    let mut instance = function.instantiate(InstanceOptions::deterministic(DEFAULT_FIXED_NOW_MS)).expect("instantiates");
    let context = LambdaContext::for_function("test", "id");
    let looping = EVENT.replace("\"/a\"", "\"/loop\"");
    let invocation = Invocation { event_json: &looping, context: &context, seed: 3, deadline_ms: DEFAULT_FIXED_NOW_MS + 300 };
    let outcome = instance.invoke(&invocation).expect("invokes");
    assert_eq!(outcome, Outcome::Timeout { reason: "task timed out after 300 ms".into() });
    let invocation = Invocation { event_json: EVENT, ..invocation };
    let Outcome::Result { value } = instance.invoke(&invocation).expect("invokes") else { panic!("expected a result") };
    assert_eq!(value["uri"], "/a");
}
