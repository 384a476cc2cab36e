//! Converting many functions at once: in parallel, each failure isolated, current artifacts
//! reused ([`crate::cache`]), with progress events and one report in the input's order.
//!
//! Every worker thread owns its `Converter` (engine instances are not shareable) and takes the
//! next function from a shared queue; Python functions are queued first because they take
//! several times longer, so the batch does not end on one slow function with the other cores
//! idle. A panic while converting one function is that function's failure; the worker then
//! starts over with a fresh `Converter`, since the one that panicked may hold a half-changed
//! engine instance.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use edgeport_frontends::diagnostic::Diagnostic;
use edgeport_frontends::SourceFile;
use edgeport_runtime::artifact::sha256_hex;
use edgeport_runtime::Runtime;

use crate::cache::{self, CacheRecord};
use crate::output::{self, DiagnosticRecord, IndexEntry};
use crate::{ConvertError, ConvertOptions, Converter, EngineKind, FunctionSource};

/// How a batch runs.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// What every function is converted with.
    pub convert: ConvertOptions,
    /// Where `<name>/function.wasm`, the manifests and the index go.
    pub out_dir: PathBuf,
    /// Functions converted at once (at least 1).
    pub jobs: usize,
    /// Reuse artifacts whose fingerprint still matches; `false` rebuilds everything.
    pub cache: bool,
}

/// What happened to one function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionStatus {
    /// Converted and written by this run.
    Converted,
    /// An earlier run's artifact is still current.
    Cached,
    /// Did not convert (diagnostics, an engine or I/O error, a panic).
    Failed,
}

impl FunctionStatus {
    /// How reports and the index name it.
    pub fn as_str(self) -> &'static str {
        match self {
            FunctionStatus::Converted => "converted",
            FunctionStatus::Cached => "cached",
            FunctionStatus::Failed => "failed",
        }
    }
}

/// Diagnostics this run produced, with the source to render them against.
#[derive(Debug, Clone)]
pub struct SourceDiagnostics {
    /// The analysed file.
    pub file: SourceFile,
    /// Errors and warnings, in the order they were found.
    pub diagnostics: Vec<Diagnostic>,
}

/// One function's result.
#[derive(Debug, Clone)]
pub struct FunctionReport {
    /// The function.
    pub function: FunctionSource,
    /// What happened.
    pub status: FunctionStatus,
    /// The handler file, as its manifest names it.
    pub source: String,
    /// The artifact's size, when converted or cached.
    pub artifact_bytes: Option<u64>,
    /// Time spent on it (for a cached function, checking that it is current).
    pub elapsed: Duration,
    /// Errors and warnings as the index records them (a cached function's are its last
    /// conversion's warnings).
    pub diagnostics: Vec<DiagnosticRecord>,
    /// A failure that is not a diagnostic: an engine or I/O error, a panic.
    pub error: Option<String>,
    /// The diagnostics to show, when this run produced any.
    pub rendered: Option<SourceDiagnostics>,
}

impl FunctionReport {
    /// The first error: `CODE message at file:line:column` for a diagnostic, else the error.
    pub fn first_error(&self) -> Option<String> {
        let diagnostic = self.diagnostics.iter().find(|d| d.severity == "error");
        diagnostic
            .map(|d| format!("{} {} at {}", d.code, d.message, d.location.as_deref().unwrap_or(&self.source)))
            .or_else(|| self.error.clone())
    }

    /// Its line in `<out>/manifest.json`.
    pub fn index_entry(&self) -> IndexEntry {
        let written = self.status != FunctionStatus::Failed;
        IndexEntry {
            name: self.function.name.clone(),
            source: self.source.clone(),
            status: self.status.as_str(),
            artifact: written.then(|| format!("{}/{}", self.function.name, output::ARTIFACT_FILE)),
            artifact_bytes: self.artifact_bytes.filter(|_| written),
            diagnostics: self.diagnostics.clone(),
            error: self.error.clone(),
        }
    }

    fn failed(function: &FunctionSource, started: Instant, error: String) -> Self {
        FunctionReport {
            function: function.clone(),
            status: FunctionStatus::Failed,
            source: function.display_path(),
            artifact_bytes: None,
            elapsed: started.elapsed(),
            diagnostics: Vec::new(),
            error: Some(error),
            rendered: None,
        }
    }
}

/// The whole run, functions in the order they were given.
#[derive(Debug, Clone)]
pub struct BatchReport {
    /// One report per function.
    pub functions: Vec<FunctionReport>,
    /// Wall time of the batch.
    pub elapsed: Duration,
}

impl BatchReport {
    /// How many functions ended with `status`.
    pub fn count(&self, status: FunctionStatus) -> usize {
        self.functions.iter().filter(|f| f.status == status).count()
    }

    /// Throughput over the whole batch, cached functions included.
    pub fn functions_per_minute(&self) -> f64 {
        let minutes = self.elapsed.as_secs_f64() / 60.0;
        if minutes > 0.0 {
            self.functions.len() as f64 / minutes
        } else {
            0.0
        }
    }
}

/// What the batch tells its caller as it goes, from the worker threads.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A worker took this function.
    Started(&'a FunctionSource),
    /// This function is done.
    Finished(&'a FunctionReport),
}

/// Why a batch could not run at all. One function's failure is never one of these.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// An engine could not be prepared: nothing can convert.
    #[error("cannot prepare the engines: {0}")]
    Engine(ConvertError),
    /// The run's index could not be written.
    #[error("cannot write {path}: {source}")]
    Index {
        /// `<out>/manifest.json`.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Converts `functions` into `options.out_dir` and writes the run's index. `on_event` is called
/// from the worker threads as functions start and finish.
pub fn convert_all(
    runtime: &Runtime,
    functions: &[FunctionSource],
    options: &BatchOptions,
    on_event: &(dyn Fn(Event<'_>) + Sync),
) -> Result<BatchReport, BatchError> {
    let started = Instant::now();
    let queue = work_order(functions);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let fatal: Mutex<Option<ConvertError>> = Mutex::new(None);
    let results: Mutex<Vec<Option<FunctionReport>>> = Mutex::new(vec![None; functions.len()]);

    let worker = || {
        let mut converter: Option<Converter> = None;
        while !stop.load(Ordering::Relaxed) {
            let Some(&index) = queue.get(next.fetch_add(1, Ordering::Relaxed)) else { break };
            let function = &functions[index];
            on_event(Event::Started(function));
            let started = Instant::now();
            let attempt = catch_unwind(AssertUnwindSafe(|| process(runtime, function, options, &mut converter)));
            let outcome = attempt.unwrap_or_else(|panic| {
                // The converter that panicked may hold a half-changed engine instance.
                converter = None;
                let _ = output::remove_function(&options.out_dir, &function.name);
                let message = format!("edgeport panicked converting it: {}", panic_message(&*panic));
                Ok(FunctionReport::failed(function, started, message))
            });
            match outcome {
                Ok(report) => {
                    on_event(Event::Finished(&report));
                    lock(&results)[index] = Some(report);
                }
                Err(error) => {
                    stop.store(true, Ordering::Relaxed);
                    lock(&fatal).get_or_insert(error);
                }
            }
        }
    };
    let threads = options.jobs.clamp(1, functions.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(worker);
        }
    });

    if let Some(error) = lock(&fatal).take() {
        return Err(BatchError::Engine(error));
    }
    let functions: Vec<FunctionReport> = std::mem::take(&mut *lock(&results))
        .into_iter()
        .zip(functions)
        .map(|(report, function)| {
            // Every index is taken exactly once unless the batch stopped, which returned above.
            report.unwrap_or_else(|| FunctionReport::failed(function, started, "not converted".into()))
        })
        .collect();
    let index: Vec<IndexEntry> = functions.iter().map(FunctionReport::index_entry).collect();
    output::write_index(&options.out_dir, &index)
        .map_err(|source| BatchError::Index { path: options.out_dir.join(output::MANIFEST_FILE), source })?;
    Ok(BatchReport { functions, elapsed: started.elapsed() })
}

/// Indices of `functions` in the order to start them: Python first (slowest), then as given.
fn work_order(functions: &[FunctionSource]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..functions.len()).collect();
    order.sort_by_key(|&i| (functions[i].engine() != EngineKind::Python, i));
    order
}

/// A poisoned lock only means another worker panicked outside `catch_unwind`; the data (a list
/// of finished reports) is still whole.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One function, start to finish: the cache, else a conversion. `Err` only when no engine can
/// be prepared. A panic in here is caught by the worker.
fn process(
    runtime: &Runtime,
    function: &FunctionSource,
    options: &BatchOptions,
    converter: &mut Option<Converter>,
) -> Result<FunctionReport, ConvertError> {
    let started = Instant::now();
    if options.cache {
        if let Some(hit) = cache::lookup(&options.out_dir, function, &options.convert) {
            return Ok(FunctionReport {
                function: function.clone(),
                status: FunctionStatus::Cached,
                source: hit.source,
                artifact_bytes: Some(hit.artifact_bytes),
                elapsed: started.elapsed(),
                diagnostics: hit.warnings,
                error: None,
                rendered: None,
            });
        }
    }
    // Engines are prepared on the first function that needs them, so a run that finds
    // everything cached never loads one.
    let converter = match converter {
        Some(converter) => converter,
        None => converter.insert(Converter::new(runtime)?),
    };
    Ok(convert_and_write(function, options, converter, started))
}

fn convert_and_write(function: &FunctionSource, options: &BatchOptions, converter: &mut Converter, started: Instant) -> FunctionReport {
    let out_dir = &options.out_dir;
    let converted = match converter.convert(function, &options.convert) {
        Ok(converted) => converted,
        Err(error) => {
            // The previous artifact, if any, is for sources that no longer convert.
            let removed = output::remove_function(out_dir, &function.name);
            let mut report = match error {
                ConvertError::Diagnostics { file, diagnostics } => FunctionReport {
                    diagnostics: diagnostics.iter().map(|d| DiagnosticRecord::new(d, &file)).collect(),
                    source: file.name.clone(),
                    error: None,
                    rendered: Some(SourceDiagnostics { file, diagnostics }),
                    ..FunctionReport::failed(function, started, String::new())
                },
                other => FunctionReport::failed(function, started, other.to_string()),
            };
            if let Err(error) = removed {
                let stale = format!("cannot remove its previous artifact from {}: {error}", out_dir.join(&function.name).display());
                report.error = Some(report.error.map_or(stale.clone(), |e| format!("{e}; {stale}")));
            }
            return report;
        }
    };
    // Without a record (an input vanished since it was read) the function is simply
    // rebuilt next time.
    let record = CacheRecord::for_conversion(function, &options.convert, &converted).ok();
    let diagnostics = converted.warnings.iter().map(|d| DiagnosticRecord::new(d, &converted.file)).collect();
    let rendered = (!converted.warnings.is_empty())
        .then(|| SourceDiagnostics { file: converted.file.clone(), diagnostics: converted.warnings.clone() });
    if let Err(error) = output::write_function_with_cache(out_dir, &converted, record.as_ref()) {
        let _ = output::remove_function(out_dir, &function.name);
        let message = format!("cannot write {}: {error}", out_dir.join(&function.name).display());
        return FunctionReport { diagnostics, rendered, ..FunctionReport::failed(function, started, message) };
    }
    FunctionReport {
        function: function.clone(),
        status: FunctionStatus::Converted,
        source: converted.file.name.clone(),
        artifact_bytes: Some(converted.wasm.len() as u64),
        elapsed: started.elapsed(),
        diagnostics,
        error: None,
        rendered,
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// `--shard i/n`: the share of a batch one CI job converts.
///
/// A function belongs to shard `1 + h mod n`, `h` a hash of its name alone, so adding or
/// removing a function never moves another between shards, and every machine agrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based index of this shard.
    pub index: u64,
    /// How many shards there are.
    pub count: u64,
}

/// A `--shard` value that is not `i/n` with `1 <= i <= n`.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a shard: expected i/n with 1 <= i <= n, e.g. --shard 2/4")]
pub struct ShardError(String);

impl std::str::FromStr for Shard {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || ShardError(text.to_string());
        let (index, count) = text.split_once('/').ok_or_else(invalid)?;
        let index: u64 = index.trim().parse().map_err(|_| invalid())?;
        let count: u64 = count.trim().parse().map_err(|_| invalid())?;
        if index == 0 || index > count {
            return Err(invalid());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Whether the function named `name` is this shard's.
    pub fn contains(&self, name: &str) -> bool {
        let hash = sha256_hex(name.as_bytes());
        let bucket = u64::from_str_radix(&hash[..16], 16).expect("SHA-256 hex digits");
        bucket % self.count + 1 == self.index
    }

    /// The functions of this shard, in their order.
    pub fn select(&self, functions: Vec<FunctionSource>) -> Vec<FunctionSource> {
        functions.into_iter().filter(|function| self.contains(&function.name)).collect()
    }
}

/// The functions `--changed-since` keeps for conversion into `out_dir`: a changed file is under
/// the function's directory, or is one its previous conversion there read.
pub fn changed_functions(functions: Vec<FunctionSource>, changed: &[PathBuf], out_dir: &Path) -> Vec<FunctionSource> {
    crate::changed::touched_or_read(functions, changed, |function| cache::previous_inputs(out_dir, function))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_functions_and_ignore_newcomers() {
        let names: Vec<String> = (0..200).map(|i| format!("function-{i}")).collect();
        let shards: Vec<Shard> = (1..=4).map(|index| Shard { index, count: 4 }).collect();
        let owners = |name: &str| shards.iter().filter(|s| s.contains(name)).count();
        assert!(names.iter().all(|name| owners(name) == 1), "every function is in exactly one shard");
        for shard in &shards {
            let size = names.iter().filter(|n| shard.contains(n)).count();
            assert!((30..=70).contains(&size), "shard {shard} holds {size} of 200");
        }
        // The assignment depends on the name alone: the same today as with more functions.
        let before: Vec<u64> = names.iter().map(|n| shards.iter().find(|s| s.contains(n)).map_or(0, |s| s.index)).collect();
        assert_eq!(before[..3], [4, 4, 1], "stable across runs, versions and machines");
    }

    #[test]
    fn shard_values_are_i_of_n() {
        assert_eq!("2/4".parse::<Shard>().expect("valid"), Shard { index: 2, count: 4 });
        assert_eq!("1/1".parse::<Shard>().expect("valid"), Shard { index: 1, count: 1 });
        for bad in ["0/4", "5/4", "2", "a/b", "2/0", "-1/4", ""] {
            let error = bad.parse::<Shard>().expect_err(bad).to_string();
            assert!(error.contains("expected i/n"), "{error}");
        }
    }

    #[test]
    fn python_functions_start_first_and_the_rest_keep_their_order() {
        let functions: Vec<FunctionSource> =
            ["a/index.js", "b/index.py", "c/index.ts", "d/lambda_function.py"].iter().map(|p| FunctionSource::from_file(Path::new(p))).collect();
        assert_eq!(work_order(&functions), [1, 3, 0, 2]);
    }
}
