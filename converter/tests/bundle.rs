//! Functions that are more than one file: local modules, JSON, npm packages and bundled data
//! files resolved as Node resolves them, deploy-time placeholders, and the Node built-ins that
//! need the engine's help (timers on a virtual clock, seeded random values, the read-only fs).

mod common;

use std::collections::BTreeMap;

use common::{convert_file, instance, invoke_on, result_value, write_files, EVENT};
use edgeport_converter::{ConvertError, ConvertOptions};
use serde_json::json;

/// Writes `files` into a fresh repository and converts `fn/index.js`.
fn convert_repo(files: &[(&str, &str)], options: &ConvertOptions) -> (tempfile::TempDir, Result<edgeport_converter::Converted, ConvertError>) {
    let dir = tempfile::tempdir().expect("temp dir");
    write_files(dir.path(), files);
    let converted = convert_file(&dir.path().join("fn/index.js"), options);
    (dir, converted)
}

fn run(files: &[(&str, &str)]) -> serde_json::Value {
    let (_dir, converted) = convert_repo(files, &ConvertOptions::default());
    let converted = converted.unwrap_or_else(|e| panic!("converts: {e:?}"));
    result_value(invoke_on(&mut instance(&converted), EVENT, 3, 5000))
}

#[test]
fn local_modules_json_and_packages_resolve_as_node_resolves_them() {
    let value = run(&[
        (
            "fn/index.js",
            r#"
            const util = require('./lib/util');
            const config = require('./config');
            const plain = require('plain');
            const mapped = require('mapped');
            const feature = require('mapped/feature/a');
            const scoped = require('@acme/tool');
            exports.handler = async () => ({
              util: util.shout('hi'), config, plain, mapped, feature, scoped,
              filename: __filename, dirname: __dirname, cached: Object.keys(require.cache).length,
              sameInstance: require('./lib/util') === util,
              isMain: require.main === module,
              resolved: [require.resolve('./lib/util'), require.resolve('url'), require.resolve('node:path')],
            });
            "#,
        ),
        ("fn/lib/util.js", "exports.shout = (s) => require('../lib/suffix.js').add(s.toUpperCase());"),
        ("fn/lib/suffix.js", "exports.add = (s) => s + '!';"),
        ("fn/config.json", "\u{feff}{\"origin\": \"example.com\", \"ttl\": 300}"),
        ("node_modules/plain/index.js", "module.exports = 'plain ' + require('./package.json').version;"),
        ("node_modules/plain/package.json", r#"{"name": "plain", "version": "1.2.3"}"#),
        ("node_modules/mapped/package.json", r#"{"exports": {".": {"import": "./esm.mjs", "require": "./cjs.js"}, "./feature/*": "./features/*.js"}}"#),
        ("node_modules/mapped/cjs.js", "module.exports = 'cjs';"),
        ("node_modules/mapped/esm.mjs", "export default 'esm';"),
        ("node_modules/mapped/features/a.js", "module.exports = 'feature a';"),
        ("node_modules/@acme/tool/package.json", r#"{"type": "module", "main": "dist/main"}"#),
        ("node_modules/@acme/tool/dist/main.js", "export const name = 'acme'; export default function tool() {}"),
    ]);
    assert_eq!(value["util"], "HI!");
    assert_eq!(value["config"], json!({"origin": "example.com", "ttl": 300}));
    assert_eq!(value["plain"], "plain 1.2.3");
    assert_eq!(value["mapped"], "cjs", "the require condition wins over import");
    assert_eq!(value["feature"], "feature a");
    assert_eq!(value["scoped"]["name"], "acme", "an ES module package is lowered to CommonJS");
    assert_eq!(value["filename"], "/var/task/index.js");
    assert_eq!(value["dirname"], "/var/task");
    assert_eq!(value["cached"], 9);
    assert_eq!(value["sameInstance"], true);
    assert_eq!(value["isMain"], false, "on Lambda the main module is the runtime's");
    assert_eq!(value["resolved"], json!(["/var/task/lib/util.js", "url", "path"]));
}

#[test]
fn circular_requires_see_partial_exports_and_failed_modules_run_again() {
    let value = run(&[
        (
            "fn/index.js",
            r#"
            const a = require('./a');
            let firstError, secondError;
            try { require('./flaky'); } catch (e) { firstError = e.message; }
            try { require('./flaky'); } catch (e) { secondError = e.message; }
            exports.handler = async () => ({ a: a.name, bSawA: a.bSawA, firstError, secondError, runs: globalThis.flakyRuns });
            "#,
        ),
        ("fn/a.js", "exports.name = 'a'; exports.bSawA = require('./b').sawA;"),
        ("fn/b.js", "exports.sawA = JSON.stringify(require('./a'));"),
        ("fn/flaky.js", "globalThis.flakyRuns = (globalThis.flakyRuns || 0) + 1; throw new Error('run ' + globalThis.flakyRuns);"),
    ]);
    assert_eq!(value["a"], "a");
    assert_eq!(value["bSawA"], r#"{"name":"a"}"#);
    assert_eq!(value["firstError"], "run 1");
    assert_eq!(value["secondError"], "run 2");
    assert_eq!(value["runs"], 2);
}

#[test]
fn fs_reads_the_files_shipped_with_the_function_and_nothing_else() {
    let value = run(&[
        (
            "fn/index.js",
            r#"
            const fs = require('fs');
            const path = require('path');
            const attempt = (f) => { try { return f(); } catch (e) { return `${e.code}: ${e.message}`; } };
            exports.handler = async () => ({
              absolute: fs.readFileSync(path.join(__dirname, 'data', 'a.txt'), 'utf8'),
              relative: fs.readFileSync('data/a.txt').toString('hex'),
              promised: await fs.promises.readFile('/var/task/data/nested/b.json', { encoding: 'utf8' }),
              listing: fs.readdirSync('/var/task/data'),
              missing: attempt(() => fs.readFileSync('/var/task/nope.txt')),
              write: attempt(() => fs['write' + 'FileSync']('/tmp/x', 'y')), // hidden from the frontend, which rejects writes
              events: fs.existsSync('/var/task/events/e.json'),
              modules: fs.existsSync('/var/task/node_modules/dep/index.js'),
            });
            "#,
        ),
        ("fn/data/a.txt", "café"),
        ("fn/data/nested/b.json", "{\"b\": 1}"),
        ("fn/events/e.json", "{}"),
        ("fn/node_modules/dep/index.js", ""),
    ]);
    assert_eq!(value["absolute"], "café");
    assert_eq!(value["relative"], "636166c3a9");
    assert_eq!(value["promised"], "{\"b\": 1}");
    assert_eq!(value["listing"], json!(["a.txt", "nested"]));
    assert_eq!(value["missing"], "ENOENT: ENOENT: no such file or directory, open '/var/task/nope.txt'");
    assert_eq!(value["write"], "EROFS: EROFS: read-only file system, open '/tmp/x'");
    assert_eq!(value["events"], false, "test data is not shipped");
    assert_eq!(value["modules"], false, "dependencies are modules, not files");
}

#[test]
fn a_template_function_is_packaged_from_its_code_directory() {
    // SAM's `CodeUri: fn/` with `Handler: src/app.handler`: /var/task is fn/, as in Lambda.
    let dir = tempfile::tempdir().expect("temp dir");
    write_files(
        dir.path(),
        &[
            ("fn/src/app.js", "const fs = require('fs');\nexports.handler = async () => [__dirname, fs.readFileSync('/var/task/config/site.txt', 'utf8'), require('../config/settings.json').mode];"),
            ("fn/config/site.txt", "example.com"),
            ("fn/config/settings.json", "{\"mode\": \"strict\"}"),
        ],
    );
    let function = edgeport_converter::FunctionSource {
        directory: Some(dir.path().join("fn")),
        handler: Some("handler".into()),
        ..edgeport_converter::FunctionSource::from_file(&dir.path().join("fn/src/app.js"))
    };
    let converted = common::convert_function(&function, &ConvertOptions::default()).expect("converts");
    assert_eq!(result_value(invoke_on(&mut instance(&converted), EVENT, 1, 5000)), json!(["/var/task/src", "example.com", "strict"]));
}

#[test]
fn the_conversion_lists_every_file_it_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_files(
        dir.path(),
        &[
            ("fn/index.js", "require('./lib'); require('dep'); require('fs'); exports.handler = async () => 1;"),
            ("fn/lib/index.js", ""),
            ("fn/notes.txt", "shipped"),
            ("node_modules/dep/package.json", r#"{"main": "main.js"}"#),
            ("node_modules/dep/main.js", ""),
        ],
    );
    let converted = convert_file(&dir.path().join("fn/index.js"), &ConvertOptions::default()).expect("converts");
    let root = std::fs::canonicalize(dir.path()).expect("canonical");
    let mut inputs: Vec<String> = converted
        .inputs
        .iter()
        .map(|p| std::fs::canonicalize(p).expect("exists").strip_prefix(&root).expect("inside").display().to_string())
        .collect();
    inputs.sort();
    assert_eq!(inputs, ["fn/index.js", "fn/lib/index.js", "fn/notes.txt", "node_modules/dep/main.js", "node_modules/dep/package.json"]);
}

/// The diagnostics of a failed conversion: the file they are reported against and, per
/// diagnostic, its code and `line:column`.
fn failure(result: Result<edgeport_converter::Converted, ConvertError>) -> (String, Vec<(String, String)>) {
    match result {
        Err(ConvertError::Diagnostics { file, diagnostics }) => {
            let found = diagnostics
                .iter()
                .map(|d| (d.code.to_string(), d.location(&file).map(|(l, c)| format!("{l}:{c}")).unwrap_or_default()))
                .collect();
            (file.name.rsplit('/').take(2).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("/"), found)
        }
        Err(other) => panic!("expected diagnostics, got {other}"),
        Ok(_) => panic!("expected the conversion to fail"),
    }
}

#[test]
fn a_require_that_node_could_not_satisfy_fails_in_the_file_that_holds_it() {
    let (_dir, result) = convert_repo(
        &[
            ("fn/index.js", "const a = require('./lib/a');\nexports.handler = async () => a;"),
            ("fn/lib/a.js", "// helper\nmodule.exports = require('./missing');"),
        ],
        &ConvertOptions::default(),
    );
    assert_eq!(failure(result), ("lib/a.js".to_string(), vec![("EP0110".to_string(), "2:18".to_string())]));

    let (_dir, result) = convert_repo(&[("fn/index.js", "\nconst x = require('not-installed');\nexports.handler = async () => x;")], &ConvertOptions::default());
    assert_eq!(failure(result), ("fn/index.js".to_string(), vec![("EP0108".to_string(), "2:11".to_string())]));
}

#[test]
fn top_level_errors_in_local_modules_point_at_the_module() {
    let (_dir, result) = convert_repo(
        &[
            ("fn/index.js", "const rules = require('./rules');\nexports.handler = async () => rules;"),
            ("fn/rules.js", "const table = {};\n\ntable.missing.push(1);\nmodule.exports = table;"),
        ],
        &ConvertOptions::default(),
    );
    let (file, found) = failure(result);
    assert_eq!(file, "fn/rules.js");
    assert_eq!(found[0].0, "EP0006");
    assert!(found[0].1.starts_with("3:"), "{found:?}");
}

#[test]
fn a_package_probing_an_optional_dependency_converts_with_a_warning() {
    let (_dir, result) = convert_repo(
        &[
            ("fn/index.js", "const pkg = require('pkg');\nexports.handler = async () => pkg;"),
            ("node_modules/pkg/index.js", "try { module.exports = require('optional-native'); } catch (e) { module.exports = { fallback: e.code }; }"),
        ],
        &ConvertOptions::default(),
    );
    let converted = result.expect("converts");
    let warning = converted.warnings.iter().find(|w| w.code == "EP0108").expect("a warning about the missing package");
    assert!(warning.message.contains("node_modules/pkg/index.js:1:"), "{}", warning.message);
    assert_eq!(warning.labels[0].span, 12..26, "shown at the handler's require of the package");
    assert_eq!(result_value(invoke_on(&mut instance(&converted), EVENT, 1, 5000)), json!({"fallback": "MODULE_NOT_FOUND"}));
}

#[test]
fn placeholders_are_filled_in_code_json_and_data_files() {
    let options = ConvertOptions {
        defines: BTreeMap::from([("ORIGIN".to_string(), "origin.example.com".to_string()), ("TTL".to_string(), "300".to_string())]),
        ..ConvertOptions::default()
    };
    let (_dir, result) = convert_repo(
        &[
            (
                "fn/index.js",
                "const cfg = require('./config.json');\nconst banner = require('fs').readFileSync('banner.txt', 'utf8');\nexports.handler = async () => ({ origin: '${ORIGIN}', ttl: __TTL__, cfg, banner, other: '{{OTHER}}', literal: `${1 + 1}` });",
            ),
            ("fn/config.json", r#"{"origin": "{{ ORIGIN }}"}"#),
            ("fn/banner.txt", "served from {{ORIGIN}}"),
        ],
        &options,
    );
    let converted = result.expect("converts");
    let undefined: Vec<_> = converted.warnings.iter().filter(|w| w.code == "EP0204").map(|w| w.message.clone()).collect();
    assert_eq!(undefined, ["placeholder '{{OTHER}}' has no value"]);
    assert_eq!(
        result_value(invoke_on(&mut instance(&converted), EVENT, 1, 5000)),
        json!({"origin": "origin.example.com", "ttl": 300, "cfg": {"origin": "origin.example.com"}, "banner": "served from origin.example.com", "other": "{{OTHER}}", "literal": "2"})
    );
}

#[test]
fn timers_run_on_a_virtual_clock_while_the_invocation_waits() {
    let value = run(&[(
        "fn/index.js",
        r#"
        exports.handler = (event, context, callback) => {
          const order = [];
          setTimeout(() => order.push('timeout 10'), 10);
          setTimeout(() => order.push('timeout 0'), 0);
          setImmediate(() => order.push('immediate'));
          Promise.resolve().then(() => order.push('microtask'));
          let ticks = 0;
          const interval = setInterval(() => { ticks += 1; if (ticks === 3) clearInterval(interval); }, 5);
          const cancelled = setTimeout(() => order.push('cancelled'), 1);
          clearTimeout(cancelled);
          setTimeout(() => callback(null, { order, ticks, now: Date.now() }), 50);
        };
        "#,
    )]);
    assert_eq!(value["order"], json!(["microtask", "immediate", "timeout 0", "timeout 10"]));
    assert_eq!(value["ticks"], 3);
}

#[test]
fn an_interval_left_running_times_a_callback_handler_out_and_the_instance_serves_on() {
    let (_dir, result) = convert_repo(
        &[(
            "fn/index.js",
            "let calls = 0;\nexports.handler = (event, context, callback) => { calls += 1; if (calls === 1) setInterval(() => {}, 1); callback(null, calls); };",
        )],
        &ConvertOptions::default(),
    );
    let converted = result.expect("converts");
    let mut instance = instance(&converted);
    assert!(matches!(invoke_on(&mut instance, EVENT, 1, 300), edgeport_runtime::Outcome::Timeout { .. }), "node waits for an empty event loop");
    // An async handler answers at once: its result does not wait for timers.
    let (_dir, result) = convert_repo(
        &[("fn/index.js", "exports.handler = async () => { setInterval(() => {}, 1); return 'answered'; };")],
        &ConvertOptions::default(),
    );
    let mut async_instance = common::instance(&result.expect("converts"));
    assert_eq!(result_value(invoke_on(&mut async_instance, EVENT, 1, 300)), "answered");
    assert_eq!(result_value(invoke_on(&mut async_instance, EVENT, 1, 300)), "answered", "still serving");
}

#[test]
fn crypto_random_values_follow_the_invocation_seed() {
    let (_dir, result) = convert_repo(
        &[(
            "fn/index.js",
            "const crypto = require('crypto');\nconst atLoad = crypto.randomUUID();\nexports.handler = async () => [atLoad, crypto.randomUUID(), crypto.randomBytes(4).toString('hex'), globalThis.crypto.getRandomValues(new Uint8Array(2)).join(), Math.random()];",
        )],
        &ConvertOptions::default(),
    );
    let converted = result.expect("converts");
    let mut first = instance(&converted);
    let mut second = instance(&converted);
    let a = result_value(invoke_on(&mut first, EVENT, 7, 5000));
    let b = result_value(invoke_on(&mut second, EVENT, 7, 5000));
    let c = result_value(invoke_on(&mut first, EVENT, 8, 5000));
    assert_eq!(a, b, "the same seed draws the same values");
    assert_ne!(a[1], c[1], "another seed draws other values");
    assert_ne!(a[1], a[0], "the snapshot does not replay what the top level drew");
    assert_ne!(a[2], c[2]);
    let uuid = a[1].as_str().expect("a string");
    assert_eq!(uuid.len(), 36);
    assert_eq!(&uuid[14..15], "4", "a version 4 UUID");
}
