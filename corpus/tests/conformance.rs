//! The corpus as a conformance suite: one test per case directory. Each converts the case's
//! function, runs every event on the converted artifact and compares the outcome with
//! `expected/`, which real node produced (corpus/reference/bless.js).
//!
//! `EDGEPORT_BLESS=1 cargo test --release -p edgeport-corpus --test conformance` first runs
//! the originals on node again to refresh `expected/`; expectations are never written from
//! edgeport's own output.

use std::path::Path;
use std::process::Command;
use std::cell::RefCell;
use std::sync::OnceLock;

use edgeport_converter::Converter;
use edgeport_corpus::{corpus_dir, Case};
use edgeport_difftest::compare::json_diff;
use edgeport_runtime::{Runtime, RuntimeOptions};
use libtest_mimic::{Arguments, Failed, Trial};

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let cache_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("edgeport-cache");
        Runtime::new(RuntimeOptions { cache_dir: Some(cache_dir), memory_limit: None })
    })
}

thread_local! {
    /// One converter per test thread (wasmer instances cannot move between threads); the
    /// engine code itself is compiled once per process by the shared runtime.
    static CONVERTER: RefCell<Option<Converter>> = const { RefCell::new(None) };
}

fn convert(case: &Case, no_snapshot: bool) -> Result<edgeport_converter::Converted, String> {
    CONVERTER.with_borrow_mut(|converter| {
        let converter = match converter {
            Some(converter) => converter,
            None => converter.insert(Converter::new(runtime()).map_err(|e| e.to_string())?),
        };
        case.convert(converter, no_snapshot)
    })
}

fn bless(case: &Case) -> Result<(), Failed> {
    let script = corpus_dir().join("reference").join("bless.js");
    let status = Command::new("node")
        .arg(&script)
        .arg(&case.dir)
        .status()
        .map_err(|e| format!("EDGEPORT_BLESS needs node on PATH: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed for {}", script.display(), case.name).into())
    }
}

fn check(case: &Case) -> Result<(), Failed> {
    if std::env::var_os("EDGEPORT_BLESS").is_some() {
        bless(case)?;
    }
    // Both artifact kinds must answer like node: the snapshot (what ships) and the plain module
    // that loads the handler at instantiation (what the snapshot must be equivalent to).
    let mut runs = Vec::new();
    for (kind, no_snapshot) in [("snapshot", false), ("no snapshot", true)] {
        let converted = convert(case, no_snapshot)?;
        runs.extend(case.run_converted(runtime(), &converted)?.into_iter().map(|run| (kind, run)));
    }
    let mut failures = Vec::new();
    for (kind, run) in runs {
        let expected_path = case.expected_path(&run.event);
        let expected: serde_json::Value = match std::fs::read_to_string(&expected_path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{}: {e}", expected_path.display()))?,
            Err(_) => {
                failures.push(format!(
                    "{} is missing: run `node corpus/reference/bless.js {}`",
                    expected_path.display(),
                    case.name
                ));
                continue;
            }
        };
        let actual = serde_json::to_value(&run.outcome).map_err(|e| e.to_string())?;
        if actual != expected {
            failures.push(format!("{} ({kind}):\n{}", run.event.display(), json_diff(&expected, &actual, "expected (node)", "actual (edgeport)")));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n").into())
    }
}

fn main() {
    let arguments = Arguments::from_args();
    let cases = Case::all(&corpus_dir()).unwrap_or_else(|error| panic!("reading the corpus: {error}"));
    assert!(cases.len() >= 15, "the corpus must keep at least 15 cases, found {}", cases.len());
    let trials = cases
        .into_iter()
        .map(|case| Trial::test(case.name.clone(), move || check(&case)))
        .collect();
    libtest_mimic::run(&arguments, trials).exit();
}
