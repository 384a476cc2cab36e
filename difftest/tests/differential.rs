//! The differential test on real node and the real runtime: the corpus shows no difference,
//! a deliberately altered artifact is caught, and the reference worker reproduces the
//! one-shot harness and survives handlers that hang or exit.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use edgeport_converter::{discover, ConvertOptions, Converter, FunctionSource};
use edgeport_difftest::reference::{
    ReferenceInvocation, ReferenceLanguage, ReferenceWorker, WorkerOptions,
};
use edgeport_difftest::report::{EventOrigin, FunctionStatus, Verdict};
use edgeport_difftest::runner::{FunctionTester, REQUEST_ID};
use edgeport_difftest::{Format, TestOptions};
use edgeport_runtime::invocation::DEFAULT_FIXED_NOW_MS;
use edgeport_runtime::{cloudfront, Outcome, Runtime, RuntimeOptions};
use serde_json::{json, Value};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus")
        .canonicalize()
        .expect("the corpus exists")
}

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let cache_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("edgeport-cache");
        Runtime::new(RuntimeOptions {
            cache_dir: Some(cache_dir),
            memory_limit: None,
        })
    })
}

fn worker_options(coverage: bool) -> WorkerOptions {
    WorkerOptions {
        coverage,
        install_dir: Some(Path::new(env!("CARGO_TARGET_TMPDIR")).to_path_buf()),
    }
}

fn options() -> TestOptions {
    TestOptions {
        max_events: 40,
        jobs: 2,
        worker: worker_options(true),
        ..TestOptions::default()
    }
}

#[test]
fn corpus_has_no_differences_and_synthesized_events_raise_coverage() {
    let root = corpus();
    let functions = discover::discover(&root).expect("corpus functions");
    let report = edgeport_difftest::run(&root, &functions, runtime(), &options(), &|_| {})
        .expect("node runs");

    assert_eq!(report.functions.len(), functions.len());
    assert!(
        report.all_identical(),
        "{}",
        report.render(Format::Markdown)
    );
    let mut gained = Vec::new();
    for function in &report.functions {
        let coverage = function
            .coverage
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no coverage", function.name));
        assert!(
            coverage.branches.total > 0,
            "{}: no branches found",
            function.name
        );
        assert!(
            function
                .events
                .iter()
                .any(|e| e.origin == EventOrigin::Provided),
            "{}",
            function.name
        );
        assert!(
            function
                .events
                .iter()
                .any(|e| e.origin == EventOrigin::Synthesized),
            "{}",
            function.name
        );
        let provided = coverage
            .provided_branches
            .expect("both kinds of events ran");
        assert!(
            coverage.branches.covered >= provided.covered,
            "{}: coverage cannot shrink",
            function.name
        );
        if coverage.branches.covered > provided.covered {
            gained.push(function.name.as_str());
        }
    }
    assert!(
        !gained.is_empty(),
        "synthesized events reached no branch the corpus events missed"
    );
}

/// Copies a corpus function into a temporary directory, with `edit` applied to its handler.
fn copy_function(name: &str, edit: impl Fn(&str) -> String) -> (tempfile::TempDir, FunctionSource) {
    let dir = tempfile::tempdir().expect("temp dir");
    let function_dir = dir.path().join(name);
    std::fs::create_dir_all(function_dir.join("events")).expect("mkdir");
    let source = corpus().join(name);
    std::fs::write(
        function_dir.join("index.js"),
        edit(&std::fs::read_to_string(source.join("index.js")).expect("handler")),
    )
    .expect("write handler");
    for entry in std::fs::read_dir(source.join("events"))
        .expect("events")
        .flatten()
    {
        std::fs::copy(
            entry.path(),
            function_dir.join("events").join(entry.file_name()),
        )
        .expect("copy event");
    }
    let function = FunctionSource::from_file(&function_dir.join("index.js"));
    (dir, function)
}

#[test]
fn an_artifact_with_an_altered_header_is_caught_with_a_readable_diff() {
    let (_original_dir, original) = copy_function("security-headers", str::to_string);
    let (_altered_dir, altered) = copy_function("security-headers", |text| {
        assert!(
            text.contains("value: 'DENY'"),
            "the corpus handler sets X-Frame-Options: DENY"
        );
        text.replace("value: 'DENY'", "value: 'SAMEORIGIN'")
    });
    let mut converter = Converter::new(runtime()).expect("engine");
    let altered_artifact = converter
        .convert(&altered, &ConvertOptions::default())
        .expect("converts");

    let options = options();
    let root = original
        .path
        .parent()
        .and_then(Path::parent)
        .expect("root")
        .to_path_buf();
    let mut tester = FunctionTester::new(runtime(), &options, &root).expect("node runs");
    let report = tester.test_artifact(&original, &altered_artifact);

    assert_eq!(report.status, FunctionStatus::Different, "{report:#?}");
    let differing: Vec<_> = report
        .events
        .iter()
        .filter(|e| e.verdict == Verdict::Different)
        .collect();
    assert!(!differing.is_empty());
    // Every provided event goes through the header-adding path.
    assert!(report
        .events
        .iter()
        .filter(|e| e.origin == EventOrigin::Provided)
        .all(|e| e.verdict == Verdict::Different));
    let diff = &differing[0].difference.as_ref().expect("evidence").diff;
    assert!(
        diff.contains("-") && diff.contains("\"value\": \"DENY\""),
        "{diff}"
    );
    assert!(
        diff.contains("+") && diff.contains("\"value\": \"SAMEORIGIN\""),
        "{diff}"
    );

    // The same artifact tested against its own source is identical.
    let report = tester.test_artifact(&altered, &altered_artifact);
    assert_eq!(
        report.status,
        FunctionStatus::Identical,
        "{}",
        report.events.len()
    );
}

#[test]
fn the_worker_reproduces_the_expected_outcomes_of_the_corpus() {
    let mut worker =
        ReferenceWorker::spawn(ReferenceLanguage::Node, worker_options(false)).expect("node runs");
    let mut checked = 0;
    for function in discover::discover(&corpus()).expect("corpus functions") {
        let dir = function.path.parent().expect("function dir");
        let config = edgeport_difftest::FunctionConfig::read(dir).expect("case.json");
        // A case with placeholder values was blessed as deployed: with them filled in.
        let deployed = edgeport_difftest::deployed::deployed(dir, &function.path, &config.defines)
            .expect("the deployed copy");
        for entry in std::fs::read_dir(dir.join("events"))
            .expect("events")
            .flatten()
        {
            let event: Value =
                serde_json::from_str(&std::fs::read_to_string(entry.path()).expect("event"))
                    .expect("JSON");
            let expected: Outcome = serde_json::from_str(
                &std::fs::read_to_string(dir.join("expected").join(entry.file_name()))
                    .expect("expected outcome"),
            )
            .expect("an outcome");
            let event_type = cloudfront::event_type_of(&event).expect("event type");
            let run = worker
                .invoke(&ReferenceInvocation {
                    file: &deployed.handler,
                    export: config.export.as_deref().unwrap_or("handler"),
                    event: &event,
                    seed: config.seed,
                    now_ms: DEFAULT_FIXED_NOW_MS,
                    timeout_ms: event_type.timeout_ms(),
                    function_name: &function.name,
                    request_id: REQUEST_ID,
                })
                .expect("the worker answers");
            // Expected outcomes hold no stack trace (harness.py and node's leave it out).
            assert_eq!(run.outcome.normalized(), expected, "{}", entry.path().display());
            checked += 1;
        }
    }
    assert!(checked >= 80, "only {checked} corpus events");
}

fn scratch_handler(source: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("index.js");
    std::fs::write(&file, source).expect("write handler");
    (dir, file)
}

fn invoke(worker: &mut ReferenceWorker, file: &Path, timeout_ms: u64) -> Outcome {
    let event = json!({"Records": [{"cf": {"config": {"eventType": "viewer-request"}, "request": {"uri": "/"}}}]});
    worker
        .invoke(&ReferenceInvocation {
            file,
            export: "handler",
            event: &event,
            seed: 1,
            now_ms: DEFAULT_FIXED_NOW_MS,
            timeout_ms,
            function_name: "scratch",
            request_id: REQUEST_ID,
        })
        .expect("the worker answers")
        .outcome
}

#[test]
fn the_worker_survives_busy_loops_exits_and_leftover_state() {
    let mut worker =
        ReferenceWorker::spawn(ReferenceLanguage::Node, worker_options(false)).expect("node runs");
    let (_busy_dir, busy) = scratch_handler("exports.handler = () => { for (;;) {} };\n");
    assert_eq!(
        invoke(&mut worker, &busy, 200),
        Outcome::Timeout {
            reason: "task timed out after 200 ms".into()
        }
    );

    let (_exit_dir, exits) = scratch_handler("exports.handler = () => process.exit(3);\n");
    let Outcome::Error { error_type, .. } = invoke(&mut worker, &exits, 1000) else {
        panic!("an exit is an error")
    };
    assert_eq!(error_type, "Runtime.ExitError");

    // Globals and module state do not leak from one invocation into the next, and a timer
    // left behind does not fire into a later invocation.
    let (_state_dir, state) = scratch_handler(
        "let calls = 0;\n\
         exports.handler = (event, context, callback) => {\n\
           calls += 1; globalThis.leaked = (globalThis.leaked || 0) + 1;\n\
           context.callbackWaitsForEmptyEventLoop = false;\n\
           setTimeout(() => { throw new Error('late timer'); }, 50);\n\
           callback(null, { calls, leaked: globalThis.leaked });\n\
         };\n",
    );
    for _ in 0..3 {
        assert_eq!(
            invoke(&mut worker, &state, 1000),
            Outcome::Result {
                value: json!({"calls": 1, "leaked": 1})
            }
        );
        std::thread::sleep(std::time::Duration::from_millis(80));
    }

    // A double callback: the first wins. A handler that never answers times out at once.
    let (_twice_dir, twice) =
        scratch_handler("exports.handler = (e, c, cb) => { cb(null, 1); cb(null, 2); };\n");
    assert_eq!(
        invoke(&mut worker, &twice, 1000),
        Outcome::Result { value: json!(1) }
    );
    let (_never_dir, never) = scratch_handler("exports.handler = (e, c, cb) => {};\n");
    assert_eq!(
        invoke(&mut worker, &never, 5000),
        Outcome::Timeout {
            reason: "the handler neither settled its promise nor called back".into()
        }
    );
}

#[test]
fn the_worker_keeps_node_semantics_of_timers_and_crypto() {
    let mut worker =
        ReferenceWorker::spawn(ReferenceLanguage::Node, worker_options(false)).expect("node runs");
    // The worker tracks timers through wrappers; `util.promisify(setTimeout)` must still be
    // timers/promises' setTimeout.
    let (_sleep_dir, sleep) = scratch_handler(
        "const sleep = require('util').promisify(setTimeout);\n\
         exports.handler = async () => sleep(5, 'woke');\n",
    );
    assert_eq!(invoke(&mut worker, &sleep, 1000), Outcome::Result { value: json!("woke") });

    // crypto's random values follow the invocation's seed, as the engine's do.
    let (_random_dir, random) = scratch_handler(
        "const crypto = require('crypto');\n\
         exports.handler = async () => [crypto.randomUUID(), crypto.randomBytes(4).toString('hex')];\n",
    );
    let first = invoke(&mut worker, &random, 1000);
    assert_eq!(first, invoke(&mut worker, &random, 1000), "the same seed draws the same values");
    let Outcome::Result { value } = first else { panic!("a result") };
    assert_eq!(value[0].as_str().map(str::len), Some(36));
}
