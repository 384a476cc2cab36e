//! Fixture tests for the JavaScript/TypeScript frontend.
//!
//! Every file in `tests/fixtures/javascript` is one test: it is analyzed, and what users and the
//! converter see (the facts as JSON, the rendered diagnostics, the lowered text) is compared
//! with the snapshot in `tests/snapshots`. Run with `INSTA_UPDATE=always` (or `cargo insta
//! review`) to bless new output. A fixture whose first line is `// edgeport: --handler NAME`
//! is analyzed with that handler name.
//!
//! Every lowered text is also parsed again as a CommonJS script, checked with `node --check`
//! when Node.js is installed, and compared line by line with the original.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use edgeport_frontends::diagnostic::{explain, Severity};
use edgeport_frontends::javascript::{
    analyze, Analysis, ComparedLiteral, ComparisonOperator, HandlerFacts, Options,
};
use edgeport_frontends::SourceFile;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/javascript")
}

fn load(file_name: &str) -> SourceFile {
    let path = fixture_dir().join(file_name);
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    SourceFile::new(
        format!("fixtures/javascript/{file_name}"),
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn options_for(file: &SourceFile) -> Options {
    let handler = file
        .text
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("// edgeport: --handler "))
        .map(|name| name.trim().to_owned());
    Options { handler }
}

/// What a user and the converter see, as one reviewable document.
fn report(file: &SourceFile, analysis: &Analysis) -> String {
    let mut out = String::new();
    out.push_str("=== facts ===\n");
    match &analysis.facts {
        Some(facts) => out.push_str(&serde_json::to_string_pretty(facts).expect("facts serialize")),
        None => out.push_str("(none)"),
    }
    out.push_str("\n\n=== spans ===\n");
    if let Some(facts) = &analysis.facts {
        let value = serde_json::to_value(facts).expect("facts serialize");
        describe_spans(&file.text, "", &value, &mut out);
    }
    out.push_str("\n=== diagnostics ===\n");
    if analysis.diagnostics.is_empty() {
        out.push_str("(none)\n");
    }
    for diagnostic in &analysis.diagnostics {
        out.push_str(&diagnostic.render(file));
        out.push_str("\n\n");
    }
    out.push_str("\n=== lowered ===\n");
    match &analysis.lowered {
        None => out.push_str("(none)\n"),
        Some(lowered) if lowered == &file.text => out.push_str("(unchanged)\n"),
        Some(lowered) => {
            // Trailing blanks are invisible in a snapshot; mark line ends to review alignment.
            for line in lowered.split('\n') {
                let _ = writeln!(out, "{}|", line.trim_end_matches('\r'));
            }
        }
    }
    out
}

/// Lists every `span` in the facts with its line, column and text, so that a reviewer can
/// check the byte offsets.
fn describe_spans(text: &str, path: &str, value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(object) => {
            if let Some(span) = object.get("span") {
                let start = span["start"]
                    .as_u64()
                    .and_then(|start| usize::try_from(start).ok())
                    .unwrap_or(0);
                let end = span["end"]
                    .as_u64()
                    .and_then(|end| usize::try_from(end).ok())
                    .unwrap_or(0);
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
                let first_line = covered.lines().next().unwrap_or_default();
                let shown: String = first_line.chars().take(70).collect();
                let more = if shown.len() < covered.len() {
                    " ..."
                } else {
                    ""
                };
                let _ = writeln!(out, "{path} {line}:{column} `{shown}`{more}");
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
    let name = file_name.replace('.', "_");
    insta::assert_snapshot!(name, report(&file, &analysis));
    for diagnostic in &analysis.diagnostics {
        assert!(
            explain(diagnostic.code).is_some(),
            "{} has no explanation",
            diagnostic.code
        );
    }
    if let Some(lowered) = &analysis.lowered {
        check_lowered(&file, lowered);
    }
    let has_syntax_error = analysis
        .diagnostics
        .iter()
        .any(|diagnostic| diagnostic.code == "EP0001");
    assert_eq!(
        analysis.lowered.is_none(),
        analysis.facts.is_none()
            || has_syntax_error
            || analysis
                .diagnostics
                .iter()
                .any(|diagnostic| diagnostic.code == "EP0003"),
        "lowered text is missing exactly when the file cannot be lowered"
    );
}

/// The lowered text must be a CommonJS script, and every original line must still be where it
/// was: either the same text with some characters blanked, or a rewritten import, export or enum.
fn check_lowered(file: &SourceFile, lowered: &str) {
    let errors = parse_as_commonjs(lowered);
    assert!(
        errors.is_empty(),
        "lowered {} does not parse: {errors:?}\n{lowered}",
        file.name
    );
    node_check(&file.name, lowered);

    let original: Vec<&str> = file.text.split('\n').collect();
    let lowered_lines: Vec<&str> = lowered.split('\n').collect();
    assert!(
        lowered_lines.len() >= original.len(),
        "lowering removed lines of {}",
        file.name
    );
    for (number, (before, after)) in original.iter().zip(&lowered_lines).enumerate() {
        let before = before.trim_start_matches('\u{feff}');
        let after = after.trim_start_matches('\u{feff}');
        let blanked = after.trim().is_empty()
            || (before.chars().count() == after.chars().count()
                && before
                    .chars()
                    .zip(after.chars())
                    .all(|(old, new)| old == new || new == ' '));
        // Imports, exports and enums are rewritten in place.
        let rewritten = ["require(", "exports", "__default", "(function (", "\"] = ", "})("]
            .iter()
            .any(|marker| after.contains(marker));
        assert!(
            blanked || rewritten,
            "line {} of {} moved:\n  before: {before:?}\n  after:  {after:?}",
            number + 1,
            file.name
        );
    }
    for extra in &lowered_lines[original.len()..] {
        assert!(
            extra.is_empty() || (extra.starts_with("exports") && extra.ends_with(';')),
            "unexpected appended line {extra:?} in {}",
            file.name
        );
    }
}

fn parse_as_commonjs(text: &str) -> Vec<String> {
    use swc_common::{sync::Lrc, FileName, SourceMap};
    let source_map: Lrc<SourceMap> = Lrc::default();
    let file = source_map.new_source_file(FileName::Anon.into(), text.to_owned());
    let mut errors = Vec::new();
    let result = swc_ecma_parser::parse_file_as_commonjs(
        &file,
        swc_ecma_parser::Syntax::Es(Default::default()),
        swc_ecma_ast::EsVersion::latest(),
        None,
        &mut errors,
    );
    let mut messages: Vec<String> = errors
        .iter()
        .map(|error| error.kind().msg().into_owned())
        .collect();
    if let Err(error) = result {
        messages.push(error.kind().msg().into_owned());
    }
    messages
}

/// Runs `node --check` on the lowered text as a CommonJS file, when Node.js is installed.
fn node_check(name: &str, lowered: &str) {
    let Ok(version) = Command::new("node").arg("--version").output() else {
        println!("SKIPPED: node --check of {name}: node is not on PATH");
        return;
    };
    if !version.status.success() {
        println!("SKIPPED: node --check of {name}: node --version failed");
        return;
    }
    let path = std::env::temp_dir().join(format!(
        "edgeport-lowered-{}-{}.cjs",
        std::process::id(),
        name.replace(['/', '.'], "_")
    ));
    std::fs::write(&path, lowered).expect("temporary directory is writable");
    let output = Command::new("node")
        .arg("--check")
        .arg(&path)
        .output()
        .expect("node ran once already");
    let _ = std::fs::remove_file(&path);
    assert!(
        output.status.success(),
        "node --check rejects lowered {name}:\n{}\n{lowered}",
        String::from_utf8_lossy(&output.stderr)
    );
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
    handler_exports_property => "handler_exports_property.js",
    handler_module_exports_property => "handler_module_exports_property.js",
    handler_module_exports_object => "handler_module_exports_object.js",
    handler_module_exports_object_key => "handler_module_exports_object_key.js",
    handler_module_exports_object_function => "handler_module_exports_object_function.js",
    handler_export_const => "handler_export_const.mjs",
    handler_export_async_function => "handler_export_async_function.mjs",
    handler_export_function => "handler_export_function.mjs",
    handler_export_specifier => "handler_export_specifier.mjs",
    handler_declared_elsewhere => "handler_declared_elsewhere.js",
    handler_option_override => "handler_option_override.js",
    handler_missing => "handler_missing.js",
    handler_missing_module_exports => "handler_missing_module_exports.js",
    handler_not_function => "handler_not_function.js",
    handler_tsc_output => "handler_tsc_output.js",
    style_promise => "style_promise.js",
    style_both => "style_both.js",
    style_sync => "style_sync.js",
    edge_child_process => "edge_child_process.js",
    edge_network => "edge_network.js",
    edge_fs_write => "edge_fs_write.js",
    edge_native_addon => "edge_native_addon.js",
    edge_process_env => "edge_process_env.js",
    edge_eval => "edge_eval.js",
    edge_aws_sdk => "edge_aws_sdk.js",
    edge_modules => "edge_modules.js",
    edge_unimplemented_builtins => "edge_unimplemented_builtins.js",
    typescript_enums => "typescript_enums.ts",
    facts_module_state => "facts_module_state.js",
    facts_nondeterminism => "facts_nondeterminism.js",
    facts_event_response => "facts_event_response.js",
    facts_event_origin => "facts_event_origin.js",
    comparisons_strings => "comparisons_strings.js",
    comparisons_regex => "comparisons_regex.js",
    comparisons_lists => "comparisons_lists.js",
    comparisons_headers => "comparisons_headers.js",
    comparisons_list_iteration => "comparisons_list_iteration.js",
    comparisons_cookie_loop => "comparisons_cookie_loop.js",
    comparisons_literal_arguments => "comparisons_literal_arguments.js",
    reads_request => "reads_request.js",
    reads_response => "reads_response.js",
    typescript_types => "typescript_types.ts",
    typescript_unsupported => "typescript_unsupported.ts",
    typescript_esm => "typescript_esm.ts",
    esm_lowering => "esm_lowering.mjs",
    esm_top_level_await => "esm_top_level_await.mjs",
    syntax_error => "syntax_error.js",
    syntax_error_recoverable => "syntax_error_recoverable.mjs",
    garbage => "garbage.js",
    empty => "empty.js",
    shebang_bom_crlf => "shebang_bom_crlf.js",
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

/// Every diagnostic code that a fixture produces, so that each code is covered.
#[test]
fn fixtures_cover_every_diagnostic_code() {
    let mut seen = std::collections::BTreeSet::new();
    for file_name in FIXTURES {
        let file = load(file_name);
        for diagnostic in analyze(&file, &options_for(&file)).diagnostics {
            seen.insert(diagnostic.code);
        }
    }
    use edgeport_frontends::diagnostic::codes;
    // The analyzer's own failure has no fixture; the engine's codes, module resolution's and
    // placeholders' come from the converter and are covered by its tests; Python-only codes
    // are covered by `tests/python.rs`.
    let elsewhere = [
        codes::INTERNAL_ERROR,
        codes::ENGINE_REJECTED_SCRIPT,
        codes::TOP_LEVEL_FAILED,
        codes::UNRESOLVED_MODULE,
        codes::LOCAL_MODULE,
        codes::UNDEFINED_PLACEHOLDER,
        codes::THIRD_PARTY_PACKAGE,
        codes::THREADS_AND_SIGNALS,
        codes::ASYNC_PYTHON_HANDLER,
        codes::HANDLER_SIGNATURE,
    ];
    for info in edgeport_frontends::diagnostic::CODES {
        assert!(
            elsewhere.contains(&info.code) || seen.contains(info.code),
            "no fixture produces {}",
            info.code
        );
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
        for cut in cuts.step_by(3) {
            let prefix = SourceFile::new(file.name.clone(), &text[..cut]);
            let analysis = analyze(&prefix, &options);
            for diagnostic in &analysis.diagnostics {
                let _ = diagnostic.render(&prefix);
                let _ = diagnostic.location(&prefix);
            }
            runs += 1;
        }
    }
    assert!(runs > 1000, "only {runs} prefixes analyzed");
}

/// Inputs no handler file looks like.
#[test]
fn garbage_never_panics() {
    let mut inputs: Vec<String> = vec![
        String::new(),
        "\u{feff}".to_owned(),
        "\0\0\0".to_owned(),
        "(".repeat(20_000),
        "[".repeat(20_000) + &"]".repeat(20_000),
        format!(
            "exports.handler = {}1{};",
            "(".repeat(5_000),
            ")".repeat(5_000)
        ),
        format!(
            "exports.handler = async (event) => {}event{};",
            "[".repeat(3_000),
            "]".repeat(3_000)
        ),
        "a".repeat(200_000),
        "`${".repeat(2_000),
        "/*".to_owned(),
        "'\\".to_owned(),
        "\u{2028}\u{2029}\r\r\n".to_owned(),
        "exports.handler = async (e) => e.Records[0].cf.request".to_owned() + &"\n".repeat(10_000),
        "export default".to_owned(),
        "import".to_owned(),
        "enum".to_owned(),
        "class A { constructor(private".to_owned(),
        // Long chains and deep nesting once made the analysis quadratic or worse.
        format!(
            "exports.handler = async (event) => 1{};",
            "-".repeat(50_000)
        ),
        format!(
            "exports.handler = async (event) => {}1;",
            "a+".repeat(50_000)
        ),
        format!(
            "exports.handler = async (event) => event{};",
            ".b".repeat(50_000)
        ),
        format!(
            "exports.handler = async (event) => event{};",
            "?.b".repeat(50_000)
        ),
        format!(
            "exports.handler = async (event) => {}1;",
            "x = ".repeat(50_000)
        ),
        format!(
            "exports.handler = async (event) => {}1{};",
            "{a:".repeat(400),
            "}".repeat(400)
        ),
        format!(
            "exports.handler = async (event) => {}1{};",
            "{a:".repeat(50_000),
            "}".repeat(50_000)
        ),
        // Callbacks over literal lists nested as deep as the parser allows.
        format!(
            "const L = [/a/, 'b']; exports.handler = async (event) => {{ \
             const u = event.Records[0].cf.request.uri; return {}u.startsWith(re){}; }};",
            "L.some((re) => re.test(u) && ".repeat(240),
            ")".repeat(240)
        ),
        // Helpers that call helpers with literals: each distinct call is followed once, not
        // once per path through the calls.
        {
            let mut chain = String::from(
                "exports.handler = async (event) => { const h = event.Records[0].cf.request.headers; return f0('x'); };\n",
            );
            for level in 0..40 {
                let _ = writeln!(
                    chain,
                    "function f{level}(name) {{ return h[name][0].value === name && f{next}('a') && f{next}('b') && f{level}('c'); }}",
                    next = level + 1
                );
            }
            chain
        },
        "function f(name) { return f(name) || f('x') || event.Records[0].cf.request.headers[name]; } f('y');".to_owned(),
        "for (const re of [/a/]) { for (const re of re) re.test(re); } [/a/].some(([re]) => re);".to_owned(),
    ];
    // A deterministic pseudo-random byte soup biased towards JavaScript punctuation.
    let alphabet: Vec<char> = "{}()[]<>;:,.=+-*/%!?&|^~'\"`$@#\\ \n\tabcdefxyz0123456789éλ\u{2028}"
        .chars()
        .collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for length in [10usize, 100, 1_000, 10_000] {
        for _ in 0..8 {
            let mut input = String::with_capacity(length);
            for _ in 0..length {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let index = usize::try_from(state % alphabet.len() as u64).expect("index fits");
                input.push(alphabet[index]);
            }
            inputs.push(input);
        }
    }
    for (index, input) in inputs.iter().enumerate() {
        for extension in ["js", "mjs", "ts"] {
            let file = SourceFile::new(format!("garbage{index}.{extension}"), input.clone());
            let analysis = analyze(&file, &Options::default());
            assert!(
                analysis.facts.is_some() || analysis.has_errors(),
                "no facts and no error for input {index}"
            );
            for diagnostic in &analysis.diagnostics {
                assert!(!diagnostic.render(&file).is_empty());
            }
        }
    }
}

#[test]
fn handler_option_changes_the_export_looked_for() {
    let file = SourceFile::new(
        "index.js",
        "exports.handler = async () => {};\nexports.main = async () => {};\n",
    );
    let analysis = analyze(
        &file,
        &Options {
            handler: Some("main".to_owned()),
        },
    );
    let handler = analysis
        .facts
        .and_then(|facts| facts.handler)
        .expect("main is found");
    assert_eq!(handler.name, "main");
    let second_line = file.text.find('\n').expect("two lines");
    assert!(handler.span.start > second_line);
    assert_eq!(&file.text[handler.span], "async () => {}");
}

#[test]
fn syntax_errors_render_with_file_line_and_column() {
    let file = load("syntax_error.js");
    let analysis = analyze(&file, &Options::default());
    let error = analysis
        .diagnostics
        .iter()
        .find(|diagnostic| diagnostic.code == "EP0001")
        .expect("a syntax error");
    assert_eq!(error.severity, Severity::Error);
    let (line, column) = error.location(&file).expect("the error has a location");
    assert_eq!(line, 3);
    assert!(error.render(&file).contains(&format!(
        "fixtures/javascript/syntax_error.js:{line}:{column}"
    )));
}

fn facts_of(name: &str, text: &str) -> HandlerFacts {
    analyze(&SourceFile::new(name, text), &Options::default())
        .facts
        .expect("the file parses")
}

/// The comparisons of a text, without spans.
fn comparisons_of(name: &str, text: &str) -> Vec<(String, ComparisonOperator, ComparedLiteral)> {
    facts_of(name, text)
        .comparisons
        .into_iter()
        .map(|comparison| (comparison.field, comparison.operator, comparison.literal))
        .collect()
}

fn string(value: &str) -> ComparedLiteral {
    ComparedLiteral::String {
        value: value.to_owned(),
    }
}

fn regex(pattern: &str, flags: &str) -> ComparedLiteral {
    ComparedLiteral::Regex {
        pattern: pattern.to_owned(),
        flags: flags.to_owned(),
    }
}

/// Corpus handlers whose comparisons are reached only through a list, a loop index or a
/// helper's parameter: synthesis needs them to make events that take each branch.
#[test]
fn corpus_comparisons_through_lists_loops_and_helpers() {
    use ComparisonOperator::{Equals, IndexOf, RegexTest};
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let cases = [
        (
            "user-agent-block",
            vec![
                (
                    "header:user-agent",
                    RegexTest,
                    regex("python-requests", "i"),
                ),
                ("header:user-agent", RegexTest, regex(r"curl\/", "i")),
                ("header:user-agent", RegexTest, regex("scrapy", "i")),
                (
                    "header:user-agent",
                    RegexTest,
                    regex("AhrefsBot|SemrushBot|MJ12bot", ""),
                ),
                ("header:user-agent", RegexTest, regex("^$", "")),
            ],
        ),
        (
            "cookie-ab-test",
            vec![
                ("cookie", IndexOf, string("X-Experiment-Name=A")),
                ("cookie", IndexOf, string("X-Experiment-Name=B")),
            ],
        ),
        (
            "device-routing",
            vec![
                ("header:cloudfront-is-mobile-viewer", Equals, string("true")),
                ("header:cloudfront-is-tablet-viewer", Equals, string("true")),
            ],
        ),
    ];
    for (case, expected) in cases {
        let path = corpus.join(case).join("index.js");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        let comparisons = comparisons_of("index.js", &text);
        for (field, operator, literal) in expected {
            let wanted = (field.to_owned(), operator, literal);
            assert!(
                comparisons.contains(&wanted),
                "{case}: {wanted:?} is missing from {comparisons:#?}"
            );
        }
    }
}

/// A comparison with a list element is recorded once per element, so a small file can ask for
/// a great many comparisons; their number is bounded.
#[test]
fn comparisons_with_list_elements_are_bounded() {
    let elements: Vec<String> = (0..5_000).map(|index| format!("'a{index}'")).collect();
    let elements = elements.join(", ");
    let sites = "if (L.some((s) => uri.includes(s))) return;\n".repeat(2_000);
    let text = format!(
        "const L = [{elements}];\nexports.handler = async (event) => {{\n  \
         const uri = event.Records[0].cf.request.uri;\n{sites}}};\n"
    );
    let comparisons = comparisons_of("index.js", &text);
    // Unbounded, this file records 10 000 000 comparisons.
    assert!(
        (1_000..=200_000).contains(&comparisons.len()),
        "{} comparisons",
        comparisons.len()
    );
}

/// The fields a text reads, in order.
fn reads_of(name: &str, text: &str) -> Vec<String> {
    facts_of(name, text)
        .reads
        .into_iter()
        .map(|read| read.field)
        .collect()
}

/// Corpus handlers that read fields without comparing them with a literal (besides fields
/// they compare): synthesis gives such fields realistic values, so the facts must name them.
#[test]
fn corpus_handlers_read_the_fields_they_parse() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let cases = [
        (
            "async-style",
            "index.js",
            &["header:accept-language", "uri"][..],
        ),
        ("basic-auth", "index.js", &["header:authorization"]),
        (
            "callback-style",
            "index.js",
            &["header:cloudfront-viewer-country"],
        ),
        ("query-normalize", "index.js", &["querystring"]),
        ("esm-module", "index.mjs", &["uri", "querystring"]),
        ("index-rewrite", "index.js", &["uri"]),
        (
            "security-headers",
            "index.js",
            &["response-header:content-type", "status"],
        ),
        ("static-redirect", "index.js", &["uri", "querystring"]),
        (
            "unchecked-headers",
            "index.js",
            &["header:x-tenant", "cookie", "uri"],
        ),
    ];
    for (case, file_name, expected) in cases {
        let path = corpus.join(case).join(file_name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        assert_eq!(reads_of(file_name, &text), expected, "{case}");
    }
}

#[test]
fn assignments_and_deletes_are_no_reads() {
    let reads = reads_of(
        "index.js",
        "exports.handler = async (event) => {
           const request = event.Records[0].cf.request;
           request.uri = '/index.html';
           request.querystring = '';
           request.headers['x-added'] = [{ key: 'X-Added', value: '1' }];
           delete request.headers['x-removed'];
           request.uri += '.gz';
           return request;
         };",
    );
    // `+=` reads the uri before it writes it.
    assert_eq!(reads, ["uri"]);
}
