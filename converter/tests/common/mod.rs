//! What the converter's integration tests share: one runtime per test process (its compiled
//! engine cached under the target directory), one converter per test thread, temporary
//! function directories, and invoking an artifact.

#![allow(dead_code)] // Each test file uses a different part.

use std::cell::RefCell;
use std::path::Path;
use std::sync::OnceLock;

use edgeport_converter::{ConvertError, ConvertOptions, Converted, Converter, FunctionSource};
use edgeport_runtime::invocation::DEFAULT_FIXED_NOW_MS;
use edgeport_runtime::{Instance, InstanceOptions, Invocation, LambdaContext, Outcome, Runtime, RuntimeOptions};

/// A viewer-request event for `/a?x=1`.
pub const EVENT: &str = r#"{"Records":[{"cf":{"config":{"eventType":"viewer-request"},"request":{"clientIp":"203.0.113.9","method":"GET","uri":"/a","querystring":"x=1","headers":{}}}}]}"#;

pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        Runtime::new(RuntimeOptions { cache_dir: Some(Path::new(env!("CARGO_TARGET_TMPDIR")).join("edgeport-cache")), memory_limit: None })
    })
}

/// Writes `files` (path, text) under `root`, creating directories.
pub fn write_files(root: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
}

/// Converts the handler file `handler` with this thread's converter.
pub fn convert_file(handler: &Path, options: &ConvertOptions) -> Result<Converted, ConvertError> {
    convert_function(&FunctionSource::from_file(handler), options)
}

/// Converts `function` with this thread's converter.
pub fn convert_function(function: &FunctionSource, options: &ConvertOptions) -> Result<Converted, ConvertError> {
    thread_local! {
        static CONVERTER: RefCell<Option<Converter>> = const { RefCell::new(None) };
    }
    CONVERTER.with_borrow_mut(|converter| {
        converter.get_or_insert_with(|| Converter::new(runtime()).expect("engine loads")).convert(function, options)
    })
}

/// A fresh instance of the artifact, with the frozen clock.
pub fn instance(converted: &Converted) -> Instance {
    let function = runtime().load_bytes(converted.wasm.clone()).expect("artifact loads");
    function.instantiate(InstanceOptions::deterministic(DEFAULT_FIXED_NOW_MS)).expect("instantiates")
}

/// Invokes `instance` on `event` with `seed`, allowing `budget_ms`.
pub fn invoke_on(instance: &mut Instance, event: &str, seed: u32, budget_ms: u64) -> Outcome {
    let context = LambdaContext::for_function("test", "id");
    let invocation = Invocation { event_json: event, context: &context, seed, deadline_ms: DEFAULT_FIXED_NOW_MS + budget_ms };
    instance.invoke(&invocation).expect("invokes")
}

/// The value of a result outcome; panics with the outcome otherwise.
pub fn result_value(outcome: Outcome) -> serde_json::Value {
    match outcome {
        Outcome::Result { value } => value,
        other => panic!("expected a result, got {other:?}"),
    }
}
