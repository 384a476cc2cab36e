//! The corpus of legacy Lambda@Edge functions, read as test cases.
//!
//! Each case is a directory holding a handler (`index.js`, `.mjs`, `.cjs`, `.ts`, `index.py` or
//! `lambda_function.py`), an optional `case.json`, `events/*.json` and `expected/*.json`; a
//! directory without a handler (a repository such as `sam-app/`) is searched for cases. The expected outcomes are
//! written only by `corpus/reference/bless.js`, which runs the original handler on real node;
//! [`Case::run_converted`] runs the converted one the same way, so the two can be compared.

use std::path::{Path, PathBuf};

use edgeport_converter::{ConvertOptions, Converted, Converter, FunctionSource};
use edgeport_difftest::FunctionConfig;
use edgeport_runtime::cloudfront;
use edgeport_runtime::invocation::DEFAULT_FIXED_NOW_MS;
use edgeport_runtime::{InstanceOptions, Invocation, LambdaContext, LoadedFunction, Outcome, Runtime};

/// The request id the reference harness gives every invocation.
pub use edgeport_difftest::runner::REQUEST_ID;

/// The corpus directory of this checkout.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// One case of the corpus.
#[derive(Debug, Clone)]
pub struct Case {
    /// The case directory relative to the corpus (`basic-auth`, `sam-app/functions/auth`).
    pub name: String,
    /// The case directory.
    pub dir: PathBuf,
    /// The function to convert.
    pub function: FunctionSource,
    /// Handler export name from `case.json` (default `handler`).
    pub export: String,
    /// `Math.random` seed from `case.json` (default 1).
    pub seed: u32,
    /// Deploy-time placeholder values from `case.json`.
    pub defines: std::collections::BTreeMap<String, String>,
    /// The event files, sorted.
    pub events: Vec<PathBuf>,
}

/// One event's result on the converted function.
#[derive(Debug)]
pub struct EventRun {
    /// The event file.
    pub event: PathBuf,
    /// The outcome, normalised for comparison.
    pub outcome: Outcome,
}

impl Case {
    /// Every case under `corpus`, sorted by name; a directory with a handler file but no
    /// `events/` is reported as an error rather than skipped.
    pub fn all(corpus: &Path) -> Result<Vec<Case>, String> {
        let mut cases = Vec::new();
        Case::collect(corpus, corpus, &mut cases)?;
        cases.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(cases)
    }

    fn collect(corpus: &Path, dir: &Path, cases: &mut Vec<Case>) -> Result<(), String> {
        const NOT_CASES: &[&str] = &["node_modules", "reference", "benches", "src", "tests", "events", "expected"];
        let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if !path.is_dir() || name.starts_with('.') || NOT_CASES.contains(&name.as_str()) {
                continue;
            }
            match edgeport_converter::discover::HANDLER_FILES.iter().map(|file| path.join(file)).find(|file| file.is_file()) {
                Some(handler) => cases.push(Case::load(corpus, &path, &handler)?),
                None => Case::collect(corpus, &path, cases)?,
            }
        }
        Ok(())
    }

    fn load(corpus: &Path, dir: &Path, handler: &Path) -> Result<Case, String> {
        let name = dir.strip_prefix(corpus).unwrap_or(dir).to_string_lossy().into_owned();
        let config = FunctionConfig::read(dir)?;
        let mut events: Vec<PathBuf> = std::fs::read_dir(dir.join("events"))
            .map_err(|e| format!("{name}: a case needs an events/ directory ({e})"))?
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        events.sort();
        if events.is_empty() {
            return Err(format!("{name}: events/ holds no .json event"));
        }
        Ok(Case {
            function: FunctionSource::from_file(handler),
            export: config.export.unwrap_or_else(|| "handler".to_string()),
            seed: config.seed,
            defines: config.defines,
            name,
            dir: dir.to_path_buf(),
            events,
        })
    }

    /// Where the expected outcome of `event` lives.
    pub fn expected_path(&self, event: &Path) -> PathBuf {
        self.dir.join("expected").join(event.file_name().unwrap_or_default())
    }

    /// Converts the case's function, with its snapshot or (`no_snapshot`) without.
    pub fn convert(&self, converter: &mut Converter, no_snapshot: bool) -> Result<Converted, String> {
        let options = ConvertOptions {
            handler: Some(self.export.clone()),
            no_snapshot,
            defines: self.defines.clone(),
            ..ConvertOptions::default()
        };
        converter.convert(&self.function, &options).map_err(|error| match error {
            edgeport_converter::ConvertError::Diagnostics { file, diagnostics } => {
                diagnostics.iter().map(|d| d.render(&file)).collect::<Vec<_>>().join("\n")
            }
            other => other.to_string(),
        })
    }

    /// Runs every event on a fresh instance, under the reference harness's clock, seed,
    /// context and deadline.
    pub fn run_converted(&self, runtime: &Runtime, converted: &Converted) -> Result<Vec<EventRun>, String> {
        let function = runtime.load_bytes(converted.wasm.clone()).map_err(|e| e.to_string())?;
        self.events.iter().map(|event| self.run_event(&function, event)).collect()
    }

    fn run_event(&self, function: &LoadedFunction, event: &Path) -> Result<EventRun, String> {
        let prepared = self.prepare(event)?;
        let mut instance = function.instantiate(reference_options()).map_err(|e| e.to_string())?;
        let outcome = instance.invoke(&prepared.invocation()).map_err(|e| format!("{}: {e}", event.display()))?;
        Ok(EventRun { event: event.to_path_buf(), outcome: outcome.normalized() })
    }

    /// Reads `event` and sets up its invocation the way the reference harness runs it: this
    /// case's function name and seed, the harness's request id, the trigger's timeout.
    pub fn prepare(&self, event: &Path) -> Result<PreparedEvent, String> {
        let event_json = std::fs::read_to_string(event).map_err(|e| format!("{}: {e}", event.display()))?;
        let parsed: serde_json::Value = serde_json::from_str(&event_json).map_err(|e| format!("{}: {e}", event.display()))?;
        let event_type = cloudfront::event_type_of(&parsed).ok_or_else(|| format!("{}: no config.eventType", event.display()))?;
        Ok(PreparedEvent {
            event_json,
            context: LambdaContext::for_function(&self.name, REQUEST_ID),
            seed: self.seed,
            deadline_ms: DEFAULT_FIXED_NOW_MS + event_type.timeout_ms(),
        })
    }
}

/// The instance options the reference harness's run corresponds to: the frozen clock.
pub fn reference_options() -> InstanceOptions {
    InstanceOptions::deterministic(DEFAULT_FIXED_NOW_MS)
}

/// An event read from disk with everything its invocation needs.
#[derive(Debug, Clone)]
pub struct PreparedEvent {
    /// The event as JSON text.
    pub event_json: String,
    /// The context the harness gives the handler.
    pub context: LambdaContext,
    /// The `Math.random` seed.
    pub seed: u32,
    /// The deadline on the frozen clock.
    pub deadline_ms: u64,
}

impl PreparedEvent {
    /// The invocation to hand to an instance.
    pub fn invocation(&self) -> Invocation<'_> {
        Invocation { event_json: &self.event_json, context: &self.context, seed: self.seed, deadline_ms: self.deadline_ms }
    }
}
