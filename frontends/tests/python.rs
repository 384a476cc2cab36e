//! Fixture tests for the Python frontend.
//!
//! Every file in `tests/fixtures/python` is one test: it is analyzed, and what users and the
//! converter see (the facts as JSON with every span shown as text, the rendered diagnostics)
//! is compared with the snapshot in `tests/snapshots`. Run with `INSTA_UPDATE=always` (or
//! `cargo insta review`) to bless new output. A fixture whose first line is
//! `# edgeport: --handler NAME` is analyzed with that handler name.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use edgeport_frontends::diagnostic::{codes, explain};
use edgeport_frontends::python::{analyze, Analysis, Options};
use edgeport_frontends::SourceFile;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python")
}

fn load(file_name: &str) -> SourceFile {
    let path = fixture_dir().join(file_name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    SourceFile::new(format!("fixtures/python/{file_name}"), text)
}

fn options_for(file: &SourceFile) -> Options {
    let handler = file
        .text
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("# edgeport: --handler "))
        .map(|name| name.trim().to_owned());
    Options { handler }
}

/// What a user and the converter see, as one reviewable document.
fn report(file: &SourceFile, analysis: &Analysis) -> String {
    let mut out = String::from("=== facts ===\n");
    let value = analysis
        .facts
        .as_ref()
        .map(|facts| serde_json::to_value(facts).expect("facts serialize"));
    match &value {
        Some(value) => out.push_str(&serde_json::to_string_pretty(value).expect("json prints")),
        None => out.push_str("(none)"),
    }
    out.push_str("\n\n=== spans ===\n");
    if let Some(value) = &value {
        describe_spans(&file.text, "", value, &mut out);
    }
    out.push_str("\n=== diagnostics ===\n");
    if analysis.diagnostics.is_empty() {
        out.push_str("(none)\n");
    }
    for diagnostic in &analysis.diagnostics {
        out.push_str(&diagnostic.render(file));
        out.push_str("\n\n");
    }
    let lowered = match &analysis.lowered {
        None => "(none)",
        Some(lowered) if lowered == &file.text => "(unchanged)",
        Some(_) => "(changed)",
    };
    let _ = writeln!(out, "\n=== lowered ===\n{lowered}");
    out
}

/// Lists every `span` in the facts with its line, column and first line of text.
fn describe_spans(text: &str, path: &str, value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(object) => {
            if let Some(span) = object.get("span") {
                let offset = |key: &str| {
                    span[key]
                        .as_u64()
                        .and_then(|offset| usize::try_from(offset).ok())
                        .unwrap_or(0)
                };
                let (start, end) = (offset("start"), offset("end"));
                let before = text.get(..start).unwrap_or_default();
                let line = before.matches('\n').count() + 1;
                let column = before
                    .rsplit('\n')
                    .next()
                    .unwrap_or_default()
                    .chars()
                    .count()
                    + 1;
                let covered = text
                    .get(start..end)
                    .unwrap_or("<not on a character boundary>");
                let first_line: String = covered
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .chars()
                    .take(70)
                    .collect();
                let more = if first_line.len() < covered.len() {
                    " ..."
                } else {
                    ""
                };
                let _ = writeln!(out, "{path} {line}:{column} `{first_line}`{more}");
            }
            for (key, child) in object {
                describe_spans(text, &format!("{path}.{key}"), child, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                describe_spans(text, &format!("{path}[{index}]"), item, out);
            }
        }
        _ => {}
    }
}

fn check(file_name: &str) {
    let file = load(file_name);
    let analysis = analyze(&file, &options_for(&file));
    insta::assert_snapshot!(file_name.replace('.', "_"), report(&file, &analysis));
    for diagnostic in &analysis.diagnostics {
        assert!(
            explain(diagnostic.code).is_some(),
            "{} has no explanation",
            diagnostic.code
        );
        for label in &diagnostic.labels {
            assert!(label.span.start <= label.span.end && label.span.end <= file.text.len());
        }
    }
    let has_syntax_error = analysis
        .diagnostics
        .iter()
        .any(|diagnostic| diagnostic.code == codes::SYNTAX_ERROR);
    assert_eq!(analysis.lowered.is_none(), has_syntax_error);
    assert_eq!(analysis.facts.is_none(), has_syntax_error);
}

macro_rules! fixtures {
    ($($test:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check($file);
            }
        )*

        /// Every fixture, so that a fixture without a test is noticed.
        const FIXTURES: &[&str] = &[$($file),*];
    };
}

fixtures! {
    security_headers => "security_headers.py",
    redirects_by_host => "redirects_by_host.py",
    basic_auth => "basic_auth.py",
    ip_allow_list => "ip_allow_list.py",
    cookies_and_query => "cookies_and_query.py",
    origin_switch => "origin_switch.py",
    module_state => "module_state.py",
    edge_diagnostics => "edge_diagnostics.py",
    handler_missing => "handler_missing.py",
    handler_async => "handler_async.py",
    handler_alias => "handler_alias.py",
    syntax_error => "syntax_error.py",
}

#[test]
fn every_fixture_has_a_test() {
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(fixture_dir()).expect("fixture directory exists") {
        let name = entry.expect("fixture directory is readable").file_name();
        let name = name.to_string_lossy();
        if !FIXTURES.contains(&name.as_ref()) {
            missing.push(name.into_owned());
        }
    }
    assert!(
        missing.is_empty(),
        "fixtures without a test in fixtures! {{ ... }}: {missing:?}"
    );
}

/// The codes only Python emits are each produced by some fixture.
#[test]
fn fixtures_cover_the_python_codes() {
    let mut seen = std::collections::BTreeSet::new();
    for file_name in FIXTURES {
        let file = load(file_name);
        seen.extend(
            analyze(&file, &options_for(&file))
                .diagnostics
                .iter()
                .map(|diagnostic| diagnostic.code),
        );
    }
    let python_codes = [
        codes::SYNTAX_ERROR,
        codes::MISSING_HANDLER,
        codes::CHILD_PROCESS,
        codes::OUTBOUND_NETWORK,
        codes::FILESYSTEM_WRITE,
        codes::NATIVE_ADDON,
        codes::PROCESS_ENV,
        codes::AWS_SDK,
        codes::THREADS_AND_SIGNALS,
        codes::ASYNC_PYTHON_HANDLER,
        codes::HANDLER_SIGNATURE,
    ];
    for code in python_codes {
        assert!(seen.contains(code), "no Python fixture produces {code}");
    }
}

/// Every prefix of every fixture (an editor's view of a file being typed) analyzes and renders
/// without panicking.
#[test]
fn truncated_fixtures_never_panic() {
    let mut runs = 0;
    for file_name in FIXTURES {
        let file = load(file_name);
        let options = options_for(&file);
        let text = &file.text;
        let cuts = (0..=text.len()).filter(|cut| text.is_char_boundary(*cut));
        for cut in cuts.step_by(7) {
            let prefix = SourceFile::new(file.name.clone(), &text[..cut]);
            let analysis = analyze(&prefix, &options);
            for diagnostic in &analysis.diagnostics {
                let _ = diagnostic.render(&prefix);
                let _ = diagnostic.location(&prefix);
            }
            runs += 1;
        }
    }
    assert!(runs > 500, "only {runs} prefixes analyzed");
}

/// Inputs no handler file looks like.
#[test]
fn garbage_never_panics() {
    let handler = "def lambda_handler(event, context):\n    x = ";
    let inputs: Vec<String> = vec![
        String::new(),
        "\u{feff}".to_owned(),
        "\u{feff}def handler(event, context):\n    return event\n".to_owned(),
        "\0\0\0".to_owned(),
        "\u{fffd}\u{fffd} def \u{7f}".to_owned(),
        "é = 'ü'\n\tdef".to_owned(),
        "(".repeat(20_000),
        "[".repeat(20_000) + &"]".repeat(20_000),
        format!("{handler}{}1{}\n", "(".repeat(5_000), ")".repeat(5_000)),
        format!("{handler}{}event\n", "-".repeat(20_000)),
        format!("{handler}event{}\n", "['a']".repeat(20_000)),
        format!("{handler}{}\n", "a.".repeat(20_000) + "b"),
        format!("{handler}{}\n", vec!["'x' in event"; 5_000].join(" or ")),
        format!("{}pass\n", (0..100).map(|depth| format!("{}if x:\n", "    ".repeat(depth))).collect::<String>()),
        "def handler(event, context):\n    match event:\n        case {'a': [1, *rest]} | None:\n            pass\n".to_owned(),
        "lambda_handler = lambda event, context: event\nhandler = lambda_handler\n".to_owned(),
        "from ...... import *\nimport a.b.c as d\nfrom . import (x as y,)\n".to_owned(),
        "def f(a, /, b=1, *c, d, **e): pass\nhandler = f\n".to_owned(),
        "'''unterminated".to_owned(),
        "def handler(event, context):\n\treturn 1\n        return 2\n".to_owned(),
        "x = 1\r\ny = 2\rdef handler(event, context): return x\r\n".to_owned(),
    ];
    for (index, text) in inputs.iter().enumerate() {
        let file = SourceFile::new(format!("garbage{index}.py"), text.as_str());
        let analysis = analyze(&file, &Options::default());
        assert!(
            analysis
                .diagnostics
                .iter()
                .all(|diagnostic| diagnostic.code != codes::INTERNAL_ERROR),
            "input {index} made the analyzer fail"
        );
        for diagnostic in &analysis.diagnostics {
            let _ = diagnostic.render(&file);
        }
    }
}

/// A syntax error's label points at the offending token.
#[test]
fn syntax_error_points_at_the_token() {
    let file = load("syntax_error.py");
    let analysis = analyze(&file, &Options::default());
    let [diagnostic] = analysis.diagnostics.as_slice() else {
        panic!("one diagnostic expected: {:?}", analysis.diagnostics);
    };
    assert_eq!(diagnostic.code, codes::SYNTAX_ERROR);
    let start = diagnostic.labels[0].span.start;
    assert!(
        file.text[start..].starts_with("\"python 2\""),
        "{:?}",
        &file.text[start..]
    );
    assert_eq!(diagnostic.location(&file), Some((4, 15)));
}

/// `try: import ujson as json` / `except ImportError: import json` runs the fallback at the
/// edge: what the edge lacks inside such a `try` is a warning, not an error.
#[test]
fn imports_guarded_by_except_import_error_are_warnings() {
    let source = "try:\n    import ujson as json\nexcept ImportError:\n    import json\n\ntry:\n    import requests\nexcept ValueError:\n    pass\n\ndef lambda_handler(event, context):\n    return json.dumps(event)\n";
    let analysis = analyze(&SourceFile::new("lambda_function.py", source), &Options::default());
    let severities: Vec<(&str, bool)> = analysis
        .diagnostics
        .iter()
        .map(|d| (d.code, d.severity == edgeport_frontends::diagnostic::Severity::Error))
        .collect();
    // `except ValueError` does not catch a failed import: requests stays an error.
    assert_eq!(severities, [(codes::NATIVE_ADDON, false), (codes::OUTBOUND_NETWORK, true)]);
}
