//! Runs the differential test of a set of functions and assembles the report.
//!
//! Functions are shared out to `jobs` threads; each thread owns a converter and a reference
//! worker, and takes the next function when it is done with one. Per function: convert it,
//! gather its events (the provided `events/*.json`, then synthesized ones up to the bound), run
//! each on the original (fresh module) and on the converted function (fresh instance), compare,
//! and read the coverage the events reached.
//!
//! Invariant: one function's failure — it does not convert, an event file is broken, the
//! reference worker dies — is reported for that function and never stops the others.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use edgeport_contract::EventType;
use edgeport_converter::{ConvertError, ConvertOptions, Converted, Converter, FunctionSource};
use edgeport_runtime::invocation::DEFAULT_FIXED_NOW_MS;
use edgeport_runtime::{
    cloudfront, InstanceOptions, Invocation, LambdaContext, LoadedFunction, Outcome, Runtime,
};
use serde_json::Value;

use crate::compare::{compare, observe};
use crate::coverage::CoverageTally;
use crate::reference::{
    ReferenceError, ReferenceInvocation, ReferenceLanguage, ReferenceWorker, WorkerOptions,
};
use crate::report::{Coverage, EventOrigin, EventReport, FunctionReport, FunctionStatus, HooksSummary, Logs, Report};
use crate::deployed::deployed;
use crate::synthesize::{synthesize, SynthesisOptions};

/// The request id every invocation gets, on both sides.
pub const REQUEST_ID: &str = "8f5e2a3c-0000-4000-8000-000000000000";

/// How a run is done.
#[derive(Debug, Clone)]
pub struct TestOptions {
    /// Seed for synthesizing events.
    pub seed: u32,
    /// At most this many events per function: provided events always run, synthesized ones
    /// fill the rest.
    pub max_events: usize,
    /// Synthesize events from the frontend's facts (otherwise only provided events run).
    pub synthesize: bool,
    /// Measure coverage of the original source.
    pub coverage: bool,
    /// Functions tested at once (each with its own reference worker).
    pub jobs: usize,
    /// Options for the reference workers (their `coverage` follows [`TestOptions::coverage`]).
    pub worker: WorkerOptions,
    /// Deploy-time placeholder values for every function (a function's `case.json` may add
    /// its own); both sides run the code with them filled in.
    pub defines: BTreeMap<String, String>,
    /// Also recognise and prove each function's eBPF hook rules (the report's hooks column).
    pub hooks: bool,
}

impl Default for TestOptions {
    fn default() -> Self {
        TestOptions {
            seed: 1,
            max_events: 64,
            synthesize: true,
            coverage: true,
            jobs: std::thread::available_parallelism().map_or(1, usize::from),
            worker: WorkerOptions::default(),
            defines: BTreeMap::new(),
            hooks: false,
        }
    }
}

impl TestOptions {
    fn worker_options(&self) -> WorkerOptions {
        WorkerOptions { coverage: self.coverage, ..self.worker.clone() }
    }
}

/// Per-function settings from an optional `case.json` beside the handler (the corpus's
/// format): `{"export": "handler", "eventTypes": ["viewer-request"], "seed": 1,
/// "defines": {"NAME": "value"}}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionConfig {
    /// The handler export; detected when `None`.
    pub export: Option<String>,
    /// The triggers the function is attached to; inferred when empty.
    pub event_types: Vec<EventType>,
    /// The `Math.random` seed both sides use (default 1).
    pub seed: u32,
    /// Deploy-time placeholder values for this function.
    pub defines: BTreeMap<String, String>,
}

impl FunctionConfig {
    /// Reads `case.json` in `dir`; no file means the defaults.
    pub fn read(dir: &Path) -> Result<Self, String> {
        let path = dir.join("case.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(FunctionConfig {
                seed: 1,
                ..FunctionConfig::default()
            });
        };
        let value: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let event_types = match value.get("eventTypes").and_then(Value::as_array) {
            None => Vec::new(),
            Some(list) => list
                .iter()
                .map(|t| t.as_str().unwrap_or_default().parse::<EventType>())
                .collect::<Result<_, _>>()
                .map_err(|e| format!("{}: eventTypes: {e}", path.display()))?,
        };
        Ok(FunctionConfig {
            export: value
                .get("export")
                .and_then(Value::as_str)
                .map(str::to_string),
            event_types,
            seed: value
                .get("seed")
                .and_then(Value::as_u64)
                .map_or(1, |s| s as u32),
            defines: match value.get("defines") {
                None => BTreeMap::new(),
                Some(defines) => serde_json::from_value(defines.clone())
                    .map_err(|e| format!("{}: defines must map names to strings: {e}", path.display()))?,
            },
        })
    }
}

/// Tests `functions` (found under `root`, which report paths are relative to). `progress` is
/// called as each function finishes, from the thread that tested it.
pub fn run(
    root: &Path,
    functions: &[FunctionSource],
    runtime: &Runtime,
    options: &TestOptions,
    progress: &(dyn Fn(&FunctionReport) + Sync),
) -> Result<Report, ReferenceError> {
    let jobs = options.jobs.clamp(1, functions.len().max(1));
    // Workers start up front with the first function's interpreter, so a missing one fails the
    // run at once; each worker starts another language's interpreter when it meets one.
    let language = functions
        .first()
        .map_or(ReferenceLanguage::Node, |f| ReferenceLanguage::of_file(&f.path));
    let workers = (0..jobs)
        .map(|_| ReferenceWorker::spawn(language, options.worker_options()))
        .collect::<Result<Vec<_>, _>>()?;
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::with_capacity(functions.len()));

    std::thread::scope(|scope| {
        for worker in workers {
            let (next, results) = (&next, &results);
            scope.spawn(move || {
                // The converter holds wasmer instances, which stay on the thread that made them.
                let mut tester = FunctionTester {
                    runtime,
                    options,
                    root,
                    worker,
                    converter: None,
                };
                while let Some(function) = functions.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let report = tester.test(function);
                    progress(&report);
                    if let Ok(mut results) = results.lock() {
                        results.push(report);
                    }
                }
            });
        }
    });

    let mut functions = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    functions.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.source.cmp(&b.source)));
    Ok(Report {
        edgeport_version: env!("CARGO_PKG_VERSION").to_string(),
        seed: options.seed,
        functions,
    })
}

/// Tests functions one after another with its own converter and reference worker.
pub struct FunctionTester<'a> {
    runtime: &'a Runtime,
    options: &'a TestOptions,
    root: &'a Path,
    worker: ReferenceWorker,
    converter: Option<Converter>,
}

/// An event to run, with its JSON text as the converted side receives it.
pub(crate) struct TestEvent {
    pub(crate) name: String,
    origin: EventOrigin,
    purpose: Option<String>,
    pub(crate) event_type: EventType,
    pub(crate) event: Value,
    text: String,
}

impl<'a> FunctionTester<'a> {
    /// A tester for functions under `root`; starts its reference worker.
    pub fn new(
        runtime: &'a Runtime,
        options: &'a TestOptions,
        root: &'a Path,
    ) -> Result<Self, ReferenceError> {
        let worker = ReferenceWorker::spawn(ReferenceLanguage::Node, options.worker_options())?;
        Ok(FunctionTester {
            runtime,
            options,
            root,
            worker,
            converter: None,
        })
    }

    /// Converts `function` and tests the result against the original.
    pub fn test(&mut self, function: &FunctionSource) -> FunctionReport {
        self.guarded(function, |tester, report| {
            let config = FunctionConfig::read(&function_dir(function))?;
            let converted = match tester.convert(function, &config) {
                Ok(converted) => converted,
                Err(error) => {
                    report.status = FunctionStatus::ConversionFailed;
                    return Err(match error {
                        ConvertError::Diagnostics { file, diagnostics } => diagnostics
                            .iter()
                            .map(|d| d.render(&file))
                            .collect::<Vec<_>>()
                            .join("\n"),
                        other => other.to_string(),
                    });
                }
            };
            tester.compare_all(function, &config, &converted, report)
        })
    }

    /// Tests a given artifact against the original `function` — for checking that the test
    /// catches an artifact that does not behave like its source.
    pub fn test_artifact(
        &mut self,
        function: &FunctionSource,
        converted: &Converted,
    ) -> FunctionReport {
        self.guarded(function, |tester, report| {
            let config = FunctionConfig::read(&function_dir(function))?;
            tester.compare_all(function, &config, converted, report)
        })
    }

    /// Runs `work` on a fresh report; an `Err` is a failure message for a function that could
    /// not be tested (the status says which kind), and a panic becomes an `error` status.
    fn guarded(
        &mut self,
        function: &FunctionSource,
        work: impl FnOnce(&mut Self, &mut FunctionReport) -> Result<(), String>,
    ) -> FunctionReport {
        let mut report = FunctionReport {
            name: function.name.clone(),
            source: function
                .path
                .strip_prefix(self.root)
                .unwrap_or(&function.path)
                .display()
                .to_string(),
            language: function.language().to_string(),
            status: FunctionStatus::Error,
            failure: None,
            events: Vec::new(),
            coverage: None,
            hooks: None,
        };
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(self, &mut report)));
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(failure)) => report.failure = Some(failure),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
                report.status = FunctionStatus::Error;
                report.failure = Some(format!(
                    "internal error (a bug in edgeport): {}",
                    message.unwrap_or_default()
                ));
            }
        }
        report
    }

    /// Runs every event on both sides and fills in `report`.
    fn compare_all(
        &mut self,
        function: &FunctionSource,
        config: &FunctionConfig,
        converted: &Converted,
        report: &mut FunctionReport,
    ) -> Result<(), String> {
        let dir = function_dir(function);
        let loaded = self
            .runtime
            .load_bytes(converted.wasm.clone())
            .map_err(|e| e.to_string())?;
        let export = converted.metadata.handler.clone();

        let provided = provided_events(function, &dir)?;
        let synthesized = if self.options.synthesize {
            let budget = self.options.max_events.saturating_sub(provided.len());
            synthesized_events(converted, self.options.seed, budget)
        } else {
            Vec::new()
        };

        // The original as deployed (placeholders filled in); the worker names scripts by
        // absolute path.
        let deployed = deployed(&dir, &function.path, &self.defines(config))
            .map_err(|e| format!("cannot prepare {}: {e}", function.path.display()))?;
        let handler = deployed.handler.clone();
        let mut tally = CoverageTally::new(&handler);
        let mut provided_branches = None;
        for (events, origin) in [
            (&provided, EventOrigin::Provided),
            (&synthesized, EventOrigin::Synthesized),
        ] {
            for event in events {
                let entry = self
                    .run_event(function, &handler, &export, config.seed, &loaded, event)
                    .map_err(|e| e.to_string())?;
                report.events.push(entry);
            }
            if self.options.coverage && !events.is_empty() {
                tally.add(
                    &self
                        .worker
                        .take_coverage(handler.parent().unwrap_or(&dir))
                        .map_err(|e| e.to_string())?,
                );
                if origin == EventOrigin::Provided {
                    provided_branches = Some(tally.branches());
                }
            }
        }
        if tally.has_data() {
            report.coverage = Some(Coverage {
                branches: tally.branches(),
                provided_branches: provided_branches.filter(|_| !synthesized.is_empty()),
                uncovered_lines: tally.uncovered_lines(),
                partial_branch_lines: tally.partial_branch_lines(),
            });
        }
        report.status = if report.different() == 0 {
            FunctionStatus::Identical
        } else {
            FunctionStatus::Different
        };
        if self.options.hooks {
            report.hooks = Some(self.hooks(function));
        }
        Ok(())
    }

    /// The hook injector's result for `function`, run on this tester's worker.
    fn hooks(&mut self, function: &FunctionSource) -> HooksSummary {
        let summary = match crate::inject::inject(function, &mut self.worker) {
            Ok(injection) => injection.summary(),
            Err(error) => HooksSummary {
                rules: 0,
                blocks: 0,
                rejected: 0,
                requests: 0,
                evaluators: Vec::new(),
                failure: Some(error.to_string()),
            },
        };
        // The proof's requests are not the tested events: their coverage is dropped.
        if self.options.coverage {
            let _ = self.worker.take_coverage(Path::new("/"));
        }
        summary
    }

    /// The run's placeholder values with the function's own on top.
    fn defines(&self, config: &FunctionConfig) -> BTreeMap<String, String> {
        let mut defines = self.options.defines.clone();
        defines.extend(config.defines.clone());
        defines
    }

    fn convert(
        &mut self,
        function: &FunctionSource,
        config: &FunctionConfig,
    ) -> Result<Converted, ConvertError> {
        let options = ConvertOptions {
            handler: config.export.clone(),
            event_types: config.event_types.clone(),
            defines: self.defines(config),
            ..ConvertOptions::default()
        };
        let converter = match &mut self.converter {
            Some(converter) => converter,
            slot => slot.insert(Converter::new(self.runtime)?),
        };
        converter.convert(function, &options)
    }

    fn run_event(
        &mut self,
        function: &FunctionSource,
        handler: &Path,
        export: &str,
        seed: u32,
        loaded: &LoadedFunction,
        event: &TestEvent,
    ) -> Result<EventReport, ReferenceError> {
        let timeout_ms = event.event_type.timeout_ms();
        let invocation = ReferenceInvocation {
            file: handler,
            export,
            event: &event.event,
            seed,
            now_ms: DEFAULT_FIXED_NOW_MS,
            timeout_ms,
            function_name: &function.name,
            request_id: REQUEST_ID,
        };
        // Both sides run at once: the original in the worker process, the converted function
        // on this thread.
        let (reference, (converted, converted_logs)) = self.worker.invoke_while(&invocation, || {
            run_converted(loaded, &function.name, seed, timeout_ms, &event.text)
        });
        let reference = reference?;
        let reference_logs = reference.logs;

        let reference = observe(event.event_type, &event.event, &reference.outcome);
        let converted = observe(event.event_type, &event.event, &converted);
        let reference_name = ReferenceLanguage::of_file(&function.path).display_name();
        let (verdict, mut difference) = compare(&event.event, reference, converted, reference_name);
        if let Some(difference) = &mut difference {
            difference.logs = Logs::new(&reference_logs, &converted_logs);
        }
        Ok(EventReport {
            name: event.name.clone(),
            origin: event.origin,
            purpose: event.purpose.clone(),
            event_type: event.event_type,
            verdict,
            difference,
        })
    }
}

/// Runs the converted function on a fresh instance under the reference's clock, seed, context
/// and deadline. A failure of the runtime itself is an outcome too: the converted function
/// did not do what the original did.
fn run_converted(
    loaded: &LoadedFunction,
    name: &str,
    seed: u32,
    timeout_ms: u64,
    event_json: &str,
) -> (Outcome, String) {
    let context = LambdaContext::for_function(name, REQUEST_ID);
    let invocation = Invocation {
        event_json,
        context: &context,
        seed,
        deadline_ms: DEFAULT_FIXED_NOW_MS + timeout_ms,
    };
    let run = loaded.instantiate(InstanceOptions::deterministic(DEFAULT_FIXED_NOW_MS)).and_then(|mut instance| {
        let outcome = instance.invoke(&invocation)?;
        let (stdout, stderr) = instance.take_logs();
        let logs = String::from_utf8_lossy(&stdout).into_owned() + &String::from_utf8_lossy(&stderr);
        Ok((outcome, logs))
    });
    run.unwrap_or_else(|error| {
        let outcome = Outcome::Error {
            error_type: "edgeport.RuntimeError".into(),
            error_message: error.to_string(),
            trace: Vec::new(),
        };
        (outcome, String::new())
    })
}

/// The directory a function's `events/` and `case.json` live in: the directory it owns (its
/// template's code directory, or an `index.*` handler's directory), else the handler's.
pub(crate) fn function_dir(function: &FunctionSource) -> PathBuf {
    function.directory().map_or_else(
        || function.path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        Path::to_path_buf,
    )
}

/// The function's `events/*.json`, sorted by name.
pub(crate) fn provided_events(function: &FunctionSource, dir: &Path) -> Result<Vec<TestEvent>, String> {
    let events_dir = dir.join("events");
    if !function.owns_directory() || !events_dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&events_dir)
        .map_err(|e| format!("cannot read {}: {e}", events_dir.display()))?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let event: Value = serde_json::from_str(&text)
                .map_err(|e| format!("{}: not valid JSON: {e}; fix the event file or remove it", path.display()))?;
            let event_type = cloudfront::event_type_of(&event).ok_or_else(|| {
                format!(
                    "{}: no Records[0].cf.config.eventType; a Lambda@Edge event names its trigger there (viewer-request, origin-request, origin-response or viewer-response)",
                    path.display()
                )
            })?;
            Ok(TestEvent {
                name: path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
                origin: EventOrigin::Provided,
                purpose: None,
                event_type,
                event,
                text,
            })
        })
        .collect()
}

fn synthesized_events(
    converted: &Converted,
    seed: u32,
    budget: usize,
) -> Vec<TestEvent> {
    if budget == 0 {
        return Vec::new();
    }
    // The triggers the artifact records: case.json's, else the frontend's inference (synthesis
    // falls back to viewer-request when there are none).
    let attached: Vec<EventType> =
        converted.metadata.event_types.iter().filter_map(|t| t.parse().ok()).collect();
    synthesize(
        &converted.facts,
        &attached,
        &SynthesisOptions {
            seed,
            max_events: budget,
        },
    )
    .into_iter()
    .map(|synthetic| TestEvent {
        text: synthetic.event.to_string(),
        name: format!("synth/{}", synthetic.name),
        origin: EventOrigin::Synthesized,
        purpose: Some(synthetic.purpose),
        event_type: synthetic.event_type,
        event: synthetic.event,
    })
    .collect()
}
