//! The `edgeport` binary as users run it: conversions that fail with diagnostics, batches that
//! survive a broken function, invocations that map failures to CloudFront's answers.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn edgeport(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgeport"))
        .args(args)
        .env("EDGEPORT_CACHE_DIR", Path::new(env!("CARGO_TARGET_TMPDIR")).join("edgeport-cache"))
        .output()
        .expect("edgeport runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A directory of functions, one per `(name, source)`.
fn functions(sources: &[(&str, &str)]) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("temp dir");
    for (name, source) in sources {
        let dir = root.path().join(name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("index.js"), source).expect("write");
    }
    root
}

fn path(dir: &tempfile::TempDir, rest: &str) -> PathBuf {
    dir.path().join(rest)
}

const GOOD: &str = "exports.handler = async (event) => {\n  const request = event.Records[0].cf.request;\n  request.uri = '/index.html';\n  return request;\n};\n";

/// Converts one function that must fail; returns its stderr after checking the exit code.
fn failed_conversion(name: &str, source: &str) -> (String, String) {
    let dir = functions(&[(name, source)]);
    let out = path(&dir, "dist");
    let output = edgeport(&["convert", path(&dir, name).to_str().expect("utf-8"), "--out", out.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(1), "stderr: {}", text(&output.stderr));
    (text(&output.stderr), text(&output.stdout))
}

#[test]
fn syntax_error_is_a_located_diagnostic_and_exit_1() {
    let (stderr, stdout) = failed_conversion("broken", "exports.handler = async (event) => {\n  return event.;\n};\n");
    assert!(stderr.contains("EP0001"), "{stderr}");
    assert!(stderr.contains("index.js:2:"), "diagnostic names file:line:col: {stderr}");
    assert!(stdout.lines().any(|l| l.starts_with("broken") && l.contains("failed")), "{stdout}");
}

#[test]
fn missing_handler_is_a_diagnostic_naming_the_file() {
    let (stderr, _) = failed_conversion("nohandler", "exports.main = async () => ({ status: '200' });\n");
    assert!(stderr.contains("EP0002"), "{stderr}");
    assert!(stderr.contains("index.js:1:1"), "{stderr}");
}

#[test]
fn unsupported_api_is_a_diagnostic_with_its_location() {
    let source = "const cp = require('child_process');\nexports.handler = async (event) => {\n  cp.execSync('ls');\n  return event.Records[0].cf.request;\n};\n";
    let (stderr, _) = failed_conversion("shell", source);
    assert!(stderr.contains("EP0101"), "{stderr}");
    assert!(stderr.contains("index.js:1:"), "{stderr}");
}

fn index_statuses(out: &Path) -> Vec<String> {
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).expect("index")).expect("JSON");
    index["functions"].as_array().expect("list").iter().map(|f| f["status"].as_str().unwrap_or("").to_string()).collect()
}

#[test]
fn one_broken_function_does_not_stop_the_batch_and_the_next_run_reuses_the_others() {
    let dir = functions(&[("alpha", GOOD), ("broken", "exports.handler = ;\n"), ("gamma", GOOD)]);
    let out = path(&dir, "dist");
    let convert = |extra: &[&str]| {
        let mut args = vec!["convert", dir.path().to_str().expect("utf-8"), "--out", out.to_str().expect("utf-8"), "--jobs", "2"];
        args.extend_from_slice(extra);
        edgeport(&args)
    };
    let output = convert(&[]);
    assert_eq!(output.status.code(), Some(1), "stderr: {}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("2 converted, 0 cached, 1 failed in "), "{stdout}");
    let broken = stdout.lines().find(|l| l.starts_with("broken")).unwrap_or_default();
    assert!(broken.contains("failed") && broken.contains("EP0001") && broken.contains("index.js:1:"), "{stdout}");
    assert!(text(&output.stderr).contains("EP0001"), "diagnostics are rendered on stderr");
    assert!(out.join("alpha/function.wasm").is_file());
    assert!(out.join("gamma/function.wasm").is_file());
    assert!(!out.join("broken").exists());
    assert_eq!(index_statuses(&out), ["converted", "failed", "converted"]);

    let again = convert(&[]);
    assert_eq!(again.status.code(), Some(1), "stderr: {}", text(&again.stderr));
    let stdout = text(&again.stdout);
    assert!(stdout.contains("0 converted, 2 cached, 1 failed in "), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("alpha") && l.contains("cached")), "{stdout}");
    assert_eq!(index_statuses(&out), ["cached", "failed", "cached"]);

    std::fs::write(path(&dir, "broken/index.js"), GOOD).expect("fix");
    let fixed = convert(&[]);
    assert_eq!(fixed.status.code(), Some(0), "stderr: {}", text(&fixed.stderr));
    assert!(text(&fixed.stdout).contains("1 converted, 2 cached, 0 failed in "), "{}", text(&fixed.stdout));
    let forced = convert(&["--no-cache"]);
    assert!(text(&forced.stdout).contains("3 converted, 0 cached, 0 failed in "), "{}", text(&forced.stdout));
}

#[test]
fn convert_usage_errors_exit_2_and_say_what_was_expected() {
    let dir = functions(&[("alpha", GOOD)]);
    let root = dir.path().to_str().expect("utf-8");
    let output = edgeport(&["convert", root, "--shard", "5/4"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("expected i/n with 1 <= i <= n"), "{}", text(&output.stderr));

    let values = path(&dir, "prod.env");
    std::fs::write(&values, "API_HOST=api.example.com\nnot a pair\n").expect("write");
    let output = edgeport(&["convert", root, "--values", values.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("prod.env:2: `not a pair` is not NAME=VALUE"), "{}", text(&output.stderr));

    let output = edgeport(&["convert", root, "--define", "NOVALUE"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("NAME=VALUE"), "{}", text(&output.stderr));
}

#[test]
fn invoke_prints_the_forwarded_request_and_maps_errors_to_503() {
    let thrower = "exports.handler = async () => { throw new Error('boom'); };\n";
    let dir = functions(&[("rewrite", GOOD), ("thrower", thrower)]);
    let out = path(&dir, "dist");
    let converted = edgeport(&["convert", dir.path().to_str().expect("utf-8"), "--out", out.to_str().expect("utf-8")]);
    assert_eq!(converted.status.code(), Some(0), "{}", text(&converted.stderr));
    let event = path(&dir, "event.json");
    std::fs::write(
        &event,
        r#"{"Records":[{"cf":{"config":{"eventType":"viewer-request","requestId":"r1"},"request":{"clientIp":"203.0.113.9","method":"GET","uri":"/","querystring":"","headers":{"host":[{"key":"Host","value":"example.com"}]}}}}]}"#,
    )
    .expect("event");

    let output = edgeport(&["invoke", out.join("rewrite").to_str().expect("utf-8"), "--event", event.to_str().expect("utf-8"), "--now"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let request: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(request["uri"], "/index.html");

    let output = edgeport(&["invoke", out.join("thrower").to_str().expect("utf-8"), "--event", event.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("503") && stderr.contains("Error: boom"), "{stderr}");
}

#[test]
fn explain_knows_every_code_it_is_asked_about() {
    let output = edgeport(&["explain", "EP0101"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(text(&output.stdout).contains("EP0101"));
    let output = edgeport(&["explain", "EP9999"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("unknown diagnostic code"));
}

/// A handler whose output depends on `Intl`, which the embedded engine does not implement the
/// way node does: a real behaviour difference for `edgeport test` to find.
const LOCALE_DEPENDENT: &str =
    "exports.handler = async () => ({ status: '200', body: (1234.5).toLocaleString('de-DE') });\n";

#[test]
fn test_reports_differences_and_conversion_failures_in_every_format() {
    let dir = functions(&[("same", GOOD), ("locale", LOCALE_DEPENDENT), ("broken", "exports.handler = async (event => {\n")]);
    let [md, json, xml] = ["report.md", "report.json", "report.xml"].map(|name| path(&dir, name));
    let output = edgeport(&[
        "test",
        dir.path().to_str().expect("utf-8"),
        "--max-events",
        "8",
        "--out",
        md.to_str().expect("utf-8"),
        "--out",
        json.to_str().expect("utf-8"),
        "--out",
        xml.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(1), "stderr: {}", text(&output.stderr));
    assert!(text(&output.stderr).contains("3 functions"), "{}", text(&output.stderr));

    let markdown = std::fs::read_to_string(&md).expect("markdown report");
    assert!(markdown.contains("| ✅ same |"), "{markdown}");
    assert!(markdown.contains("❌ locale"), "{markdown}");
    assert!(markdown.contains("broken"), "{markdown}");
    assert!(markdown.contains("-      \"body\": \"1.234,5\""), "the diff shows node's output: {markdown}");

    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("valid JSON");
    let status = |name: &str| {
        report["functions"].as_array().expect("functions").iter().find(|f| f["name"] == name).expect("listed")["status"].clone()
    };
    assert_eq!(status("same"), "identical");
    assert_eq!(status("locale"), "different");
    assert_eq!(status("broken"), "conversion-failed");

    let junit = std::fs::read_to_string(&xml).expect("junit");
    assert!(junit.starts_with("<?xml"), "{junit}");
    assert!(junit.contains("<testsuite name=\"locale\""), "{junit}");
    assert!(junit.contains("<failure"), "{junit}");
    assert!(junit.contains("<error"), "{junit}");
}

#[test]
fn test_exits_0_when_nothing_differs_and_2_on_a_bad_git_ref() {
    let dir = functions(&[("same", GOOD)]);
    let root = dir.path().to_str().expect("utf-8");
    let output = edgeport(&["test", root, "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(report["functions"][0]["status"], "identical");

    let output = edgeport(&["test", root, "--changed-since", "HEAD~1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("git"), "{}", text(&output.stderr));
}

#[test]
fn test_names_a_broken_event_file_and_still_tests_the_others() {
    let dir = functions(&[("broken-event", GOOD), ("fine", GOOD)]);
    std::fs::create_dir_all(path(&dir, "broken-event/events")).expect("mkdir");
    std::fs::write(path(&dir, "broken-event/events/truncated.json"), "{\"Records\": [\n").expect("write");
    let output = edgeport(&["test", dir.path().to_str().expect("utf-8"), "--format", "json"]);
    assert_eq!(output.status.code(), Some(2), "stderr: {}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("could not test broken-event"), "{stderr}");
    assert!(stderr.contains("truncated.json: not valid JSON"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("the report is still written");
    assert_eq!(report["functions"][0]["status"], "error");
    assert_eq!(report["functions"][1]["status"], "identical");
}
