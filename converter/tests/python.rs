//! Converting Python handlers end to end on the RustPython engine: reproducible snapshots that
//! re-seed what they froze, bundled local modules, WASI the standard library needs, and
//! diagnostics for failures only the engine can see.

use std::cell::RefCell;
use std::path::Path;
use std::sync::OnceLock;

use edgeport_converter::{ConvertError, ConvertOptions, Converted, Converter, FunctionSource};
use edgeport_runtime::artifact;
use edgeport_runtime::invocation::DEFAULT_FIXED_NOW_MS;
use edgeport_runtime::{Instance, InstanceOptions, Invocation, LambdaContext, Outcome, Runtime, RuntimeOptions};

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        Runtime::new(RuntimeOptions { cache_dir: Some(Path::new(env!("CARGO_TARGET_TMPDIR")).join("edgeport-cache")), memory_limit: None })
    })
}

/// Writes `files` (name, text) into a fresh directory and converts its `lambda_function.py`.
fn convert(files: &[(&str, &str)], options: &ConvertOptions) -> Result<Converted, ConvertError> {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    convert_dir(dir.path(), options)
}

/// Converts the `lambda_function.py` of `dir` (whose name becomes the function's).
fn convert_dir(dir: &Path, options: &ConvertOptions) -> Result<Converted, ConvertError> {
    let function = FunctionSource::from_file(&dir.join("lambda_function.py"));
    thread_local! {
        static CONVERTER: RefCell<Option<Converter>> = const { RefCell::new(None) };
    }
    CONVERTER.with_borrow_mut(|converter| {
        converter
            .get_or_insert_with(|| Converter::new(runtime()).expect("engine loads"))
            .convert(&function, options)
    })
}

fn handler(source: &str) -> Converted {
    convert(&[("lambda_function.py", source)], &ConvertOptions::default()).expect("converts")
}

fn instance(converted: &Converted) -> Instance {
    let function = runtime().load_bytes(converted.wasm.clone()).expect("artifact loads");
    function.instantiate(InstanceOptions::deterministic(DEFAULT_FIXED_NOW_MS)).expect("instantiates")
}

const EVENT: &str = r#"{"Records":[{"cf":{"config":{"eventType":"viewer-request"},"request":{"clientIp":"203.0.113.9","method":"GET","uri":"/a","querystring":"x=1","headers":{}}}}]}"#;

fn invoke_on(instance: &mut Instance, event: &str, seed: u32, budget_ms: u64) -> Outcome {
    let context = LambdaContext::for_function("test", "id");
    let invocation = Invocation { event_json: event, context: &context, seed, deadline_ms: DEFAULT_FIXED_NOW_MS + budget_ms };
    instance.invoke(&invocation).expect("invokes")
}

fn result(outcome: Outcome) -> serde_json::Value {
    match outcome {
        Outcome::Result { value } => value,
        other => panic!("expected a result, got {other:?}"),
    }
}

/// Module state, top-level work, randomness and time: everything a snapshot must capture.
const STATEFUL: &str = r#"
import random, time
TABLE = {'/a': '/alpha', '/b': '/beta'}
calls = 0

def lambda_handler(event, context):
    global calls
    calls += 1
    request = event['Records'][0]['cf']['request']
    request['uri'] = TABLE.get(request['uri'], request['uri'])
    request['headers']['x-calls'] = [{'key': 'X-Calls', 'value': str(calls)}]
    request['headers']['x-random'] = [{'key': 'X-Random', 'value': repr(random.random())}]
    request['headers']['x-now'] = [{'key': 'X-Now', 'value': str(time.time())}]
    return request
"#;

#[test]
fn snapshots_are_reproducible_and_behave_like_plain_artifacts() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("lambda_function.py"), STATEFUL).expect("write");
    let first = convert_dir(dir.path(), &ConvertOptions::default()).expect("converts");
    let second = convert_dir(dir.path(), &ConvertOptions::default()).expect("converts");
    assert!(first.wasm == second.wasm, "converting the same source twice must give the same bytes");
    let metadata = artifact::parse(&first.wasm).expect("parses").metadata.expect("metadata");
    assert_eq!((metadata.language.as_str(), metadata.handler.as_str()), ("python", "lambda_handler"));
    assert!(metadata.builtins.contains(&"random".to_string()), "{:?}", metadata.builtins);
    let plain = convert(&[("lambda_function.py", STATEFUL)], &ConvertOptions { no_snapshot: true, ..ConvertOptions::default() })
        .expect("converts");
    let outcome = invoke_on(&mut instance(&first), EVENT, 3, 5000);
    assert_eq!(outcome, invoke_on(&mut instance(&plain), EVENT, 3, 5000));
    let value = result(outcome);
    assert_eq!(value["uri"], "/alpha");
    assert_eq!(value["headers"]["x-now"][0]["value"], format!("{}.0", DEFAULT_FIXED_NOW_MS / 1000));
}

#[test]
fn random_is_reseeded_for_every_invocation_after_the_snapshot_is_restored() {
    let converted = handler(STATEFUL);
    let mut warm = instance(&converted);
    let random = |outcome: Outcome| result(outcome)["headers"]["x-random"][0]["value"].clone();
    let first = random(invoke_on(&mut warm, EVENT, 3, 5000));
    assert_eq!(random(invoke_on(&mut warm, EVENT, 3, 5000)), first, "the same seed draws the same number");
    assert_ne!(random(invoke_on(&mut warm, EVENT, 4, 5000)), first, "another seed draws another");
    let value = result(invoke_on(&mut warm, EVENT, 3, 5000));
    assert_eq!(value["headers"]["x-calls"][0]["value"], "4", "a warm instance keeps module state");
}

#[test]
fn local_modules_next_to_the_handler_are_bundled() {
    let converted = convert(
        &[
            ("lambda_function.py", "import rules\nfrom helpers import shout\n\ndef lambda_handler(event, context):\n    return {'status': '200', 'body': shout(rules.GREETING)}\n"),
            ("helpers.py", "def shout(text):\n    return text.upper() + '!'\n"),
            ("rules/__init__.py", "from .text import GREETING\n"),
            ("rules/text.py", "GREETING = 'hello'\n"),
        ],
        &ConvertOptions::default(),
    )
    .expect("converts");
    let value = result(invoke_on(&mut instance(&converted), EVENT, 1, 5000));
    assert_eq!(value["body"], "HELLO!");
}

#[test]
fn a_module_that_is_nowhere_fails_at_convert_time_on_its_import_line() {
    let error = convert(&[("lambda_function.py", "import json\nimport pyjwt_missing\n\ndef lambda_handler(event, context):\n    return None\n")], &ConvertOptions::default())
        .expect_err("the import fails");
    let ConvertError::Diagnostics { file, diagnostics } = error else { panic!("expected diagnostics") };
    let diagnostic = diagnostics.iter().find(|d| d.code == "EP0006").expect("EP0006");
    assert!(diagnostic.message.contains("Runtime.ImportModuleError"), "{}", diagnostic.message);
    assert_eq!(diagnostic.location(&file).map(|(line, _)| line), Some(2));
}

#[test]
fn top_level_exceptions_point_at_their_line() {
    let source = "import json\nCONFIG = json.loads('{bad json')\n\ndef lambda_handler(event, context):\n    return CONFIG\n";
    let error = convert(&[("lambda_function.py", source)], &ConvertOptions::default()).expect_err("top level raises");
    let ConvertError::Diagnostics { file, diagnostics } = error else { panic!("expected diagnostics") };
    let diagnostic = diagnostics.iter().find(|d| d.code == "EP0006").expect("EP0006");
    assert!(diagnostic.message.contains("JSONDecodeError"), "{}", diagnostic.message);
    assert_eq!(diagnostic.location(&file).map(|(line, _)| line), Some(2));
}

#[test]
fn syntax_errors_are_the_frontends_diagnostics() {
    let error = convert(&[("lambda_function.py", "def lambda_handler(event, context)\n    return 1\n")], &ConvertOptions::default())
        .expect_err("does not parse");
    let ConvertError::Diagnostics { file, diagnostics } = error else { panic!("expected diagnostics") };
    let diagnostic = diagnostics.iter().find(|d| d.code == "EP0001").expect("EP0001");
    assert_eq!(diagnostic.location(&file).map(|(line, _)| line), Some(1));
}

#[test]
fn a_handler_that_loops_forever_times_out_and_the_instance_serves_the_next_event() {
    let source = "def lambda_handler(event, context):\n    request = event['Records'][0]['cf']['request']\n    while request['uri'] == '/loop':\n        pass\n    return request\n";
    let mut warm = instance(&handler(source));
    let looping = EVENT.replace("\"/a\"", "\"/loop\"");
    assert_eq!(invoke_on(&mut warm, &looping, 1, 300), Outcome::Timeout { reason: "task timed out after 300 ms".into() });
    assert_eq!(result(invoke_on(&mut warm, EVENT, 1, 5000))["uri"], "/a");
}

#[test]
fn sleeping_under_a_frozen_clock_returns_at_once_and_prints_are_logs() {
    let source = "import time\n\ndef lambda_handler(event, context):\n    time.sleep(30)\n    print('slept', time.time())\n    return None\n";
    let mut warm = instance(&handler(source));
    let started = std::time::Instant::now();
    assert_eq!(result(invoke_on(&mut warm, EVENT, 1, 5000)), serde_json::Value::Null);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "time.sleep waited under a frozen clock");
    let (stdout, _) = warm.take_logs();
    assert_eq!(String::from_utf8_lossy(&stdout), format!("slept {}.0\n", DEFAULT_FIXED_NOW_MS / 1000));
}

#[test]
fn results_json_cannot_hold_are_marshal_errors_and_decimals_are_numbers() {
    let source = "import decimal\n\ndef lambda_handler(event, context):\n    uri = event['Records'][0]['cf']['request']['uri']\n    if uri == '/set':\n        return {'a': {1, 2}}\n    return {'status': '200', 'n': decimal.Decimal('1.5'), 't': (1, 'x'), 'u': 'caf\\u00e9 \"q\"\\n'}\n";
    let mut warm = instance(&handler(source));
    let value = result(invoke_on(&mut warm, EVENT, 1, 5000));
    assert_eq!(value, serde_json::json!({"status": "200", "n": 1.5, "t": [1, "x"], "u": "café \"q\"\n"}));
    let Outcome::Error { error_type, error_message, .. } = invoke_on(&mut warm, &EVENT.replace("\"/a\"", "\"/set\""), 1, 5000) else {
        panic!("expected an error")
    };
    assert_eq!(error_type, "Runtime.MarshalError");
    assert_eq!(error_message, "Unable to marshal response: Object of type set is not JSON serializable");
}

#[test]
fn a_package_that_is_nowhere_but_imported_under_try_converts_with_a_warning() {
    let source = "try:\n    import fastjsonx as json\nexcept ImportError:\n    import json\n\ndef lambda_handler(event, context):\n    return json.loads('[1]')\n";
    let converted = handler(source);
    let warning = converted.warnings.iter().find(|d| d.code == "EP0111").expect("EP0111");
    assert_eq!(warning.location(&converted.file).map(|(line, _)| line), Some(2));
    assert_eq!(result(invoke_on(&mut instance(&converted), EVENT, 1, 5000)), serde_json::json!([1]));
}

#[test]
fn top_level_code_that_never_ends_is_stopped_at_the_init_timeout() {
    let options = ConvertOptions { init_timeout: std::time::Duration::from_millis(200), ..ConvertOptions::default() };
    let source = "while True:\n    pass\n\ndef lambda_handler(event, context):\n    return None\n";
    let error = convert(&[("lambda_function.py", source)], &options).expect_err("never finishes");
    let ConvertError::Diagnostics { diagnostics, .. } = error else { panic!("expected diagnostics") };
    let diagnostic = diagnostics.iter().find(|d| d.code == "EP0006").expect("EP0006");
    assert!(diagnostic.message.contains("Runtime.InitTimeout"), "{}", diagnostic.message);
}

#[test]
fn a_loop_in_a_bundled_module_is_stopped_too() {
    let converted = convert(
        &[
            ("lambda_function.py", "import helpers\n\ndef lambda_handler(event, context):\n    return helpers.spin()\n"),
            ("helpers.py", "def spin():\n    n = 0\n    while True:\n        n += 1\n"),
        ],
        &ConvertOptions::default(),
    )
    .expect("converts");
    let mut warm = instance(&converted);
    assert_eq!(invoke_on(&mut warm, EVENT, 1, 300), Outcome::Timeout { reason: "task timed out after 300 ms".into() });
}

#[test]
fn a_loop_in_the_standard_librarys_python_code_is_stopped_too() {
    let source = "import textwrap\n\ndef lambda_handler(event, context):\n    return len(textwrap.wrap('ab ' * 10**6, 50))\n";
    let mut warm = instance(&handler(source));
    assert_eq!(invoke_on(&mut warm, EVENT, 1, 300), Outcome::Timeout { reason: "task timed out after 300 ms".into() });
}
