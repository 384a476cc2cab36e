//! Differential-test throughput, end to end: events per second through `edgeport_difftest::run`
//! (conversion, the node reference worker, a fresh converted instance per event, comparison,
//! coverage), and the per-event cost of each side on its own.
//!
//! `cargo bench -p edgeport-difftest --bench throughput`

use std::path::Path;
use std::time::{Duration, Instant};

use edgeport_converter::{discover, ConvertOptions, Converter, FunctionSource};
use edgeport_difftest::reference::{
    ReferenceInvocation, ReferenceLanguage, ReferenceWorker, WorkerOptions,
};
use edgeport_difftest::runner::REQUEST_ID;
use edgeport_difftest::TestOptions;
use edgeport_runtime::invocation::DEFAULT_FIXED_NOW_MS;
use edgeport_runtime::{InstanceOptions, Invocation, LambdaContext, Runtime, RuntimeOptions};
use serde_json::json;

/// A simple viewer-request handler: a redirect table and a header.
const SIMPLE: &str = r#"'use strict';
const REDIRECTS = { '/old': '/new', '/blog': '/articles' };
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const target = REDIRECTS[request.uri];
  if (target) {
    return { status: '301', statusDescription: 'Moved Permanently',
             headers: { location: [{ key: 'Location', value: target }] } };
  }
  if (request.uri.endsWith('/')) request.uri += 'index.html';
  request.headers['x-edge'] = [{ key: 'X-Edge', value: 'edgeport' }];
  return request;
};
"#;

fn event(uri: &str) -> serde_json::Value {
    json!({"Records": [{"cf": {
        "config": {"distributionDomainName": "d111111abcdef8.cloudfront.net", "distributionId": "EDFDVBD6EXAMPLE",
                   "eventType": "viewer-request", "requestId": "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ=="},
        "request": {"clientIp": "203.0.113.178", "method": "GET", "querystring": "", "uri": uri,
                    "headers": {"host": [{"key": "Host", "value": "example.com"}]}}}}]})
}

/// `functions` copies of the simple handler with `events` provided events each.
fn simple_functions(root: &Path, functions: usize, events: usize) {
    for f in 0..functions {
        let dir = root.join(format!("simple-{f}"));
        std::fs::create_dir_all(dir.join("events")).expect("mkdir");
        std::fs::write(dir.join("index.js"), SIMPLE).expect("write handler");
        for e in 0..events {
            let uri = match e % 4 {
                0 => "/old".to_string(),
                1 => format!("/docs/{e}/"),
                2 => "/blog".to_string(),
                _ => format!("/assets/{e}.css"),
            };
            std::fs::write(
                dir.join("events").join(format!("{e:04}.json")),
                event(&uri).to_string(),
            )
            .expect("write event");
        }
    }
}

fn end_to_end(
    label: &str,
    root: &Path,
    runtime: &Runtime,
    options: &TestOptions,
    rows: &mut Vec<String>,
) {
    let functions = discover::discover(root).expect("functions");
    let started = Instant::now();
    let report = edgeport_difftest::run(root, &functions, runtime, options, &|_| {}).expect("run");
    let elapsed = started.elapsed();
    let events: usize = report.functions.iter().map(|f| f.events.len()).sum();
    assert!(
        report.all_identical(),
        "{label}: the benchmark expects no differences"
    );
    rows.push(format!(
        "| {label} | {} | {events} | {} | {:.2} s | {:.0} |",
        functions.len(),
        if options.coverage { "on" } else { "off" },
        elapsed.as_secs_f64(),
        events as f64 / elapsed.as_secs_f64()
    ));
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let work = tempfile::tempdir().expect("temp dir");
    let runtime = Runtime::new(RuntimeOptions {
        cache_dir: Some(work.path().join("cache")),
        memory_limit: None,
    });
    let worker = WorkerOptions {
        coverage: true,
        install_dir: Some(work.path().to_path_buf()),
    };
    let jobs = std::thread::available_parallelism().map_or(1, usize::from);

    // The engine's machine code is compiled once per machine and cached on disk; a user's
    // runs start from that cache, so the measurements do too.
    Converter::new(&runtime).expect("engine");

    let mut rows = Vec::new();
    let simple = work.path().join("simple");
    simple_functions(&simple, 2, 500);
    let provided_only = |coverage: bool| TestOptions {
        synthesize: false,
        coverage,
        max_events: usize::MAX,
        jobs,
        worker: worker.clone(),
        ..TestOptions::default()
    };
    // A first run pays one-time costs (the worker scripts' installation, node's own code
    // cache, the engine code's first load): not part of any row.
    end_to_end(
        "warm-up",
        &simple,
        &runtime,
        &provided_only(true),
        &mut Vec::new(),
    );
    end_to_end(
        "simple handler, 2 x 500 events",
        &simple,
        &runtime,
        &provided_only(true),
        &mut rows,
    );
    end_to_end(
        "simple handler, 2 x 500 events",
        &simple,
        &runtime,
        &provided_only(false),
        &mut rows,
    );
    let many = work.path().join("many");
    simple_functions(&many, 40, 10);
    end_to_end(
        "40 simple functions x 10 events",
        &many,
        &runtime,
        &provided_only(true),
        &mut rows,
    );
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let synthesized = TestOptions {
        jobs,
        worker: worker.clone(),
        ..TestOptions::default()
    };
    end_to_end(
        "corpus, provided + synthesized (max 64)",
        &corpus,
        &runtime,
        &synthesized,
        &mut rows,
    );

    println!("\nend to end ({jobs} jobs; conversion included)\n");
    println!("| run | functions | events | coverage | wall | events/s |");
    println!("| :-- | --: | --: | :-- | --: | --: |");
    for row in rows {
        println!("{row}");
    }

    // Per-event cost of each side on one thread.
    let function = FunctionSource::from_file(&simple.join("simple-0/index.js"));
    let converted = Converter::new(&runtime)
        .expect("engine")
        .convert(&function, &ConvertOptions::default())
        .expect("converts");
    let loaded = runtime.load_bytes(converted.wasm.clone()).expect("loads");
    let handler = std::fs::canonicalize(&function.path).expect("handler");
    let events: Vec<serde_json::Value> = (0..200).map(|i| event(&format!("/docs/{i}/"))).collect();
    let texts: Vec<String> = events.iter().map(|e| e.to_string()).collect();
    let context = LambdaContext::for_function(&function.name, REQUEST_ID);

    let mut table = Vec::new();
    for coverage in [false, true] {
        let mut node = ReferenceWorker::spawn(
            ReferenceLanguage::Node,
            WorkerOptions {
                coverage,
                ..worker.clone()
            },
        )
        .expect("node");
        let samples = events
            .iter()
            .map(|event| {
                let started = Instant::now();
                node.invoke(&ReferenceInvocation {
                    file: &handler,
                    export: "handler",
                    event,
                    seed: 1,
                    now_ms: DEFAULT_FIXED_NOW_MS,
                    timeout_ms: 5000,
                    function_name: &function.name,
                    request_id: REQUEST_ID,
                })
                .expect("invoke");
                started.elapsed()
            })
            .collect();
        let label = if coverage {
            "node worker, coverage on"
        } else {
            "node worker, coverage off"
        };
        table.push((label, median(samples)));
    }
    let samples = texts
        .iter()
        .map(|text| {
            let started = Instant::now();
            let invocation = Invocation {
                event_json: text,
                context: &context,
                seed: 1,
                deadline_ms: DEFAULT_FIXED_NOW_MS + 5000,
            };
            let mut instance = loaded
                .instantiate(InstanceOptions::deterministic(DEFAULT_FIXED_NOW_MS))
                .expect("instance");
            instance.invoke(&invocation).expect("invoke");
            started.elapsed()
        })
        .collect();
    table.push(("converted, fresh instance + invoke", median(samples)));

    println!("\nper event, one thread (median of 200)\n");
    println!("| side | time |");
    println!("| :-- | --: |");
    for (label, time) in table {
        println!("| {label} | {:.0} µs |", time.as_secs_f64() * 1e6);
    }
}
