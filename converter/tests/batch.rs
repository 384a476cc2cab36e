//! Batches end to end: parallel conversion into an output directory, and the content-hash
//! cache deciding what a second run rebuilds.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use edgeport_converter::batch::{convert_all, BatchOptions, BatchReport, Event, FunctionStatus};
use edgeport_converter::{discover, ConvertOptions};
use edgeport_runtime::{Runtime, RuntimeOptions};

fn runtime() -> Runtime {
    Runtime::new(RuntimeOptions { cache_dir: Some(Path::new(env!("CARGO_TARGET_TMPDIR")).join("edgeport-cache")), memory_limit: None })
}

const REWRITE: &str = "exports.handler = async (event) => {\n  const request = event.Records[0].cf.request;\n  request.uri = '/index.html';\n  return request;\n};\n";

/// A repository of JavaScript functions and its output directory.
struct Repository {
    root: tempfile::TempDir,
}

impl Repository {
    fn new(names: &[&str]) -> Self {
        let root = tempfile::tempdir().expect("temp dir");
        for name in names {
            std::fs::create_dir_all(root.path().join("src").join(name)).expect("mkdir");
            let source = REWRITE.replace("/index.html", &format!("/{name}.html"));
            std::fs::write(root.path().join("src").join(name).join("index.js"), source).expect("write");
        }
        Repository { root }
    }

    fn handler(&self, name: &str) -> PathBuf {
        self.root.path().join("src").join(name).join("index.js")
    }

    fn out(&self) -> PathBuf {
        self.root.path().join("dist")
    }

    fn convert(&self, convert: ConvertOptions) -> BatchReport {
        let functions = discover::discover(&self.root.path().join("src")).expect("functions");
        let options = BatchOptions { convert, out_dir: self.out(), jobs: 2, cache: true };
        let events = Mutex::new(Vec::new());
        let record = |event: Event<'_>| {
            let name = match event {
                Event::Started(function) => format!("start {}", function.name),
                Event::Finished(report) => format!("end {}", report.function.name),
            };
            events.lock().expect("not poisoned").push(name);
        };
        let report = convert_all(&runtime(), &functions, &options, &record).expect("the batch runs");
        for function in report.functions.iter().filter(|f| f.status == FunctionStatus::Failed) {
            // Shown when an assertion on the statuses fails.
            eprintln!("{} failed: {}", function.function.name, function.first_error().unwrap_or_default());
        }
        let events = events.into_inner().expect("not poisoned");
        assert_eq!(events.len(), 2 * functions.len(), "a start and an end per function: {events:?}");
        report
    }
}

fn statuses(report: &BatchReport) -> Vec<(String, &'static str)> {
    report.functions.iter().map(|f| (f.function.name.clone(), f.status.as_str())).collect()
}

fn expect(pairs: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
    pairs.iter().map(|(name, status)| (name.to_string(), *status)).collect()
}

#[test]
fn a_second_run_reuses_everything_and_an_edit_rebuilds_only_its_function() {
    let repo = Repository::new(&["alpha", "beta", "gamma"]);
    let first = repo.convert(ConvertOptions::default());
    assert_eq!(statuses(&first), expect(&[("alpha", "converted"), ("beta", "converted"), ("gamma", "converted")]));
    let artifact = repo.out().join("beta/function.wasm");
    let built = std::fs::metadata(&artifact).expect("written").modified().expect("mtime");

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo.out().join("beta/manifest.json")).expect("manifest")).expect("JSON");
    let inputs = manifest["inputs"].as_array().expect("inputs are recorded");
    let handler = inputs.iter().find(|input| input["path"].as_str().is_some_and(|p| p.ends_with("beta/index.js"))).expect("the handler");
    assert_eq!(handler["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(manifest["fingerprint"].as_str().map(str::len), Some(64));

    let second = repo.convert(ConvertOptions::default());
    assert_eq!(statuses(&second), expect(&[("alpha", "cached"), ("beta", "cached"), ("gamma", "cached")]));
    assert_eq!(second.functions[1].artifact_bytes, first.functions[1].artifact_bytes);
    assert_eq!(std::fs::metadata(&artifact).expect("still there").modified().expect("mtime"), built, "not rewritten");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo.out().join("manifest.json")).expect("index")).expect("JSON");
    assert_eq!(index["functions"].as_array().map(Vec::len), Some(3), "cached functions are in the index");
    assert_eq!(index["functions"][1]["status"], "cached");
    assert_eq!(index["functions"][1]["artifact"], "beta/function.wasm");

    std::fs::write(repo.handler("beta"), REWRITE.replace("/index.html", "/edited.html")).expect("edit");
    let third = repo.convert(ConvertOptions::default());
    assert_eq!(statuses(&third), expect(&[("alpha", "cached"), ("beta", "converted"), ("gamma", "cached")]));

    // A file added beside a handler is no input yet, but could be one (a data file fs would
    // serve, a module that resolves first): its function is rebuilt.
    let gamma_dir = repo.handler("gamma").parent().expect("a directory").to_path_buf();
    std::fs::write(gamma_dir.join("redirects.json"), "[]").expect("add a file");
    std::fs::create_dir_all(gamma_dir.join("events")).expect("mkdir");
    std::fs::write(gamma_dir.join("events/e.json"), "{}").expect("test data");
    let fourth = repo.convert(ConvertOptions::default());
    assert_eq!(statuses(&fourth), expect(&[("alpha", "cached"), ("beta", "cached"), ("gamma", "converted")]));
    std::fs::write(gamma_dir.join("events/other.json"), "{}").expect("more test data");
    let fifth = repo.convert(ConvertOptions::default());
    assert_eq!(statuses(&fifth), expect(&[("alpha", "cached"), ("beta", "cached"), ("gamma", "cached")]), "test data is not bundled");
}

#[test]
fn changing_a_define_or_the_snapshot_option_rebuilds() {
    let repo = Repository::new(&["alpha"]);
    repo.convert(ConvertOptions::default());
    let mut defined = ConvertOptions::default();
    defined.defines.insert("API_HOST".into(), "api.example.com".into());
    assert_eq!(statuses(&repo.convert(defined.clone())), expect(&[("alpha", "converted")]));
    assert_eq!(statuses(&repo.convert(defined.clone())), expect(&[("alpha", "cached")]));
    defined.defines.insert("API_HOST".into(), "api.example.org".into());
    assert_eq!(statuses(&repo.convert(defined.clone())), expect(&[("alpha", "converted")]));
    let no_snapshot = ConvertOptions { no_snapshot: true, ..defined };
    assert_eq!(statuses(&repo.convert(no_snapshot)), expect(&[("alpha", "converted")]));
}

#[test]
fn a_corrupt_manifest_or_a_missing_artifact_rebuilds() {
    let repo = Repository::new(&["alpha", "beta"]);
    repo.convert(ConvertOptions::default());
    std::fs::write(repo.out().join("alpha/manifest.json"), "{\"metadata\": ").expect("corrupt");
    std::fs::remove_file(repo.out().join("beta/function.wasm")).expect("remove");
    let report = repo.convert(ConvertOptions::default());
    assert_eq!(statuses(&report), expect(&[("alpha", "converted"), ("beta", "converted")]));
    assert!(repo.out().join("beta/function.wasm").is_file());
    assert_eq!(statuses(&repo.convert(ConvertOptions::default())), expect(&[("alpha", "cached"), ("beta", "cached")]));
}

#[test]
fn a_function_that_stops_converting_loses_its_stale_artifact() {
    let repo = Repository::new(&["alpha", "beta"]);
    repo.convert(ConvertOptions::default());
    std::fs::write(repo.handler("alpha"), "exports.handler = ;\n").expect("break");
    let report = repo.convert(ConvertOptions::default());
    assert_eq!(statuses(&report), expect(&[("alpha", "failed"), ("beta", "cached")]));
    let failure = report.functions[0].first_error().expect("a first error");
    assert!(failure.starts_with("EP0001 ") && failure.contains("index.js:1:"), "{failure}");
    assert!(!repo.out().join("alpha/function.wasm").exists(), "no stale artifact to deploy");
    assert_eq!(report.count(FunctionStatus::Failed), 1);
}
