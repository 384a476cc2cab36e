//! Benchmark: convert time, cold start, instantiation and warm invocation of every corpus
//! function, with and without the pre-initialised snapshot, beside the original running on its
//! own runtime (node, or python3 for Python handlers).
//!
//! `cargo bench -p edgeport-corpus --bench cold_start [-- CASE...]` prints one table. Times
//! are medians unless marked p99. "cold" is artifact on disk -> first result in a process whose
//! runtime is already up (the engine code compiled or loaded from the cache); "process load"
//! is what a brand-new process pays once to get the compiled engine from the disk cache.
//! "fresh" cold starts instantiate the engine on the request path; "sandbox" cold starts use a
//! blank engine instance provisioned beforehand (`LoadedFunction::sandbox`), as a server keeps
//! a few ready: the function's own state is still restored from its artifact on the request.
//! "Δ base" is how much of the function's memory image differs, page by page, from the image
//! of a handler that does nothing, converted with the same engine: what a sandbox already
//! holding that base image would still have to copy on a cold start.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use edgeport_converter::{output, ConvertOptions, Converter};
use edgeport_corpus::{corpus_dir, reference_options, Case};
use edgeport_runtime::{artifact, Runtime, RuntimeOptions};

const COLD_RUNS: usize = 200;
/// Cold runs stop early past this time (Python without a snapshot takes ~100 ms a start), but
/// never before [`MIN_COLD_RUNS`].
const COLD_TIME: Duration = Duration::from_secs(4);
const MIN_COLD_RUNS: usize = 20;
const WARM_RUNS: usize = 5000;
const ORIGINAL_SPAWNS: usize = 10;

fn main() {
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let work = tempfile_dir();
    let cache_dir = work.join("cache");
    let runtime = Runtime::new(RuntimeOptions { cache_dir: Some(cache_dir.clone()), memory_limit: None });
    let started = Instant::now();
    let mut converter = Converter::new(&runtime).expect("engine loads");
    let engine_compile = started.elapsed();
    let cases = Case::all(&corpus_dir()).expect("corpus reads");
    let process_load = {
        let first = convert(&mut converter, &cases[0], false, &work);
        let fresh = Runtime::new(RuntimeOptions { cache_dir: Some(cache_dir), memory_limit: None });
        let started = Instant::now();
        fresh.load(&first.1).expect("the engine code loads from the cache");
        started.elapsed()
    };
    println!("engine: compile {:.0} ms (once per machine), process load from cache {:.2} ms (once per process)\n",
        ms(engine_compile), ms(process_load));
    let bases = [("javascript", "index.js", "exports.handler = async () => null;\n"), ("python", "lambda_function.py", "def lambda_handler(event, context):\n    return None\n")]
        .map(|(language, file, source)| (language, base_image(&mut converter, &work, file, source)));
    println!(
        "{:<22} {:>8} {:>8} {:>7} | {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} | {:>9} {:>9} | {:>9} {:>9} {:>9}",
        "", "convert", "artifact", "Δ base", "cold", "cold", "cold", "cold", "inst.", "warm", "warm", "no-snap", "no-snap", "original", "original", "original"
    );
    println!(
        "{:<22} {:>8} {:>8} {:>7} | {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} | {:>9} {:>9} | {:>9} {:>9} {:>9}",
        "function", "ms", "KiB", "KiB", "fresh µs", "p99", "sandbox", "p99", "µs", "µs", "p99 µs", "cold µs", "warm µs", "spawn ms", "warm µs", "p99 µs"
    );
    for case in cases.iter().filter(|c| filter.is_empty() || filter.contains(&c.name)) {
        let event = &case.events[0];
        let snapshot = convert(&mut converter, case, false, &work);
        let plain = convert(&mut converter, case, true, &work);
        let with = measure(&runtime, case, &snapshot.1, event);
        let without = measure(&runtime, case, &plain.1, event);
        let (spawn, original_warm, original_p99) = original(case, event);
        let engine = if case.function.language() == "python" { "python" } else { "javascript" };
        let base = &bases.iter().find(|(language, _)| *language == engine).expect("a base per engine").1;
        let image = memory_image(&std::fs::read(&snapshot.1).expect("artifact reads"));
        println!(
            "{:<22} {:>8.1} {:>8.0} {:>7.0} | {:>9.0} {:>9.0} {:>9.0} {:>9.0} {:>9.0} {:>9.1} {:>9.1} | {:>9.0} {:>9.1} | {:>9.1} {:>9.1} {:>9.1}",
            case.name,
            ms(snapshot.0),
            snapshot.2 as f64 / 1024.0,
            (differing_pages(&image, base) * PAGE) as f64 / 1024.0,
            us(with.cold),
            us(with.cold_p99),
            us(with.provisioned),
            us(with.provisioned_p99),
            us(with.instantiate),
            us(with.warm),
            us(with.warm_p99),
            us(without.cold),
            us(without.warm),
            ms(spawn),
            original_warm,
            original_p99
        );
    }
}

const PAGE: usize = 4096;

/// The memory image of a handler that does nothing, converted in `work`.
fn base_image(converter: &mut Converter, work: &Path, file: &str, source: &str) -> Vec<u8> {
    let dir = work.join("base").join(file.replace('.', "-"));
    std::fs::create_dir_all(&dir).expect("base dir");
    std::fs::write(dir.join(file), source).expect("base handler");
    let function = edgeport_converter::FunctionSource::from_file(&dir.join(file));
    let converted = converter.convert(&function, &ConvertOptions::default()).expect("the base converts");
    memory_image(&converted.wasm)
}

/// An artifact's linear memory as its data segments lay it out.
fn memory_image(wasm: &[u8]) -> Vec<u8> {
    let parsed = artifact::parse(wasm).expect("artifact parses");
    let mut memory = vec![0u8; parsed.memory_pages as usize * 65536];
    for segment in &parsed.segments {
        let start = segment.offset as usize;
        memory[start..start + segment.bytes.len()].copy_from_slice(segment.bytes);
    }
    memory
}

/// How many 4 KiB pages differ between two images (the shorter one zero-extended).
fn differing_pages(a: &[u8], b: &[u8]) -> usize {
    fn page(image: &[u8], index: usize) -> &[u8] {
        let start = (index * PAGE).min(image.len());
        &image[start..(start + PAGE).min(image.len())]
    }
    let zero = |bytes: &[u8]| bytes.iter().all(|&byte| byte == 0);
    (0..a.len().max(b.len()).div_ceil(PAGE))
        .filter(|&index| {
            let (a, b) = (page(a, index), page(b, index));
            a != b && !(zero(a) && zero(b))
        })
        .count()
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("edgeport-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Converts and writes the artifact; returns (convert time, artifact path, size).
fn convert(converter: &mut Converter, case: &Case, no_snapshot: bool, work: &Path) -> (Duration, PathBuf, usize) {
    let options = ConvertOptions { handler: Some(case.export.clone()), no_snapshot, ..ConvertOptions::default() };
    let started = Instant::now();
    let converted = converter.convert(&case.function, &options).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    let elapsed = started.elapsed();
    let out = work.join(if no_snapshot { "plain" } else { "snapshot" });
    let dir = output::write_function(&out, &converted).expect("write artifact");
    (elapsed, dir.join(output::ARTIFACT_FILE), converted.wasm.len())
}

fn measure(runtime: &Runtime, case: &Case, artifact: &Path, event: &Path) -> Measured {
    let prepared = case.prepare(event).expect("event");
    let invocation = prepared.invocation();
    let options = reference_options();
    runtime.load(artifact).expect("load"); // the engine code is compiled or cached by now

    let mut cold = Vec::with_capacity(COLD_RUNS);
    let mut instantiate = Vec::with_capacity(COLD_RUNS);
    let mut provisioned = Vec::with_capacity(COLD_RUNS);
    let measuring = Instant::now();
    while cold.len() < COLD_RUNS && (cold.len() < MIN_COLD_RUNS || measuring.elapsed() < COLD_TIME) {
        let started = Instant::now();
        let function = runtime.load(artifact).expect("load");
        let before_instance = Instant::now();
        let mut instance = function.instantiate(options).expect("instantiate");
        instantiate.push(before_instance.elapsed());
        instance.invoke(&invocation).expect("invoke");
        cold.push(started.elapsed());
        drop(instance);

        // The same, in a sandbox provisioned before the request arrived.
        let sandbox = function.sandbox(options).expect("sandbox");
        let started = Instant::now();
        let function = runtime.load(artifact).expect("load");
        let mut instance = function.instantiate_in(sandbox).expect("instantiate");
        instance.invoke(&invocation).expect("invoke");
        provisioned.push(started.elapsed());
    }
    let function = runtime.load(artifact).expect("load");
    let mut instance = function.instantiate(options).expect("instantiate");
    let mut warm = Vec::with_capacity(WARM_RUNS);
    for _ in 0..WARM_RUNS {
        let started = Instant::now();
        instance.invoke(&invocation).expect("invoke");
        warm.push(started.elapsed());
        instance.take_logs();
    }
    Measured {
        cold: median(&mut cold),
        cold_p99: percentile(&mut cold, 0.99),
        provisioned: median(&mut provisioned),
        provisioned_p99: percentile(&mut provisioned, 0.99),
        instantiate: median(&mut instantiate),
        warm: median(&mut warm),
        warm_p99: percentile(&mut warm, 0.99),
    }
}

/// Medians unless marked p99.
struct Measured {
    cold: Duration,
    cold_p99: Duration,
    provisioned: Duration,
    provisioned_p99: Duration,
    instantiate: Duration,
    warm: Duration,
    warm_p99: Duration,
}

/// (process spawn to outcome, warm in-process median µs, p99 µs) for the original on node or
/// python3. A spawn is one process running the handler once, start to outcome.
fn original(case: &Case, event: &Path) -> (Duration, f64, f64) {
    let reference = corpus_dir().join("reference");
    let python = case.function.language() == "python";
    let command = || {
        let mut command = if python {
            let mut command = Command::new("python3");
            command.arg(reference.join("bench.py"));
            command
        } else {
            let mut command = Command::new("node");
            command.arg(reference.join("bench.js"));
            command
        };
        command
            .args(["--handler".as_ref(), case.function.path.as_os_str(), "--event".as_ref(), event.as_os_str()])
            .args(["--export", &case.export]);
        command
    };
    let mut spawns = Vec::with_capacity(ORIGINAL_SPAWNS);
    for _ in 0..ORIGINAL_SPAWNS {
        let started = Instant::now();
        let status = command()
            .args(["--runs", "1"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("the original's runtime runs");
        assert!(status.success(), "the reference bench failed for {}", case.name);
        spawns.push(started.elapsed());
    }
    let output = command().output().expect("the original's runtime runs");
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
    (
        median(&mut spawns),
        result["medianUs"].as_f64().unwrap_or(f64::NAN),
        result["p99Us"].as_f64().unwrap_or(f64::NAN),
    )
}

fn median(samples: &mut [Duration]) -> Duration {
    percentile(samples, 0.5)
}

fn percentile(samples: &mut [Duration], q: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
