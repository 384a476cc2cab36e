//! Compiles legacy edge handlers into self-contained, pre-initialised Wasm modules.
//!
//! For each function: the frontend analyses the source (facts, diagnostics, a CommonJS script);
//! the embedded engine compiles the script to bytecode; a fresh engine instance loads it; its
//! memory becomes the artifact's snapshot ([`artifact_builder`]); [`output`] writes the artifact
//! and its manifest atomically.

mod artifact_builder;
pub mod discover;
pub mod output;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use edgeport_frontends::diagnostic::{codes, Diagnostic, Label, Severity};
use edgeport_frontends::javascript::{self, HandlerFacts};
use edgeport_frontends::SourceFile;
use edgeport_runtime::artifact::{self, Metadata, FORMAT_VERSION};
use edgeport_runtime::cloudfront::EventType;
use edgeport_runtime::invocation::DEFAULT_FIXED_NOW_MS;
use edgeport_runtime::{Instance, InstanceOptions, LoadedFunction, Runtime, RuntimeError};

pub use discover::FunctionSource;

/// The JavaScript engine (QuickJS through javy), built for wasm32-wasip1 by build.rs.
pub const JAVASCRIPT_ENGINE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/engine-javascript.wasm"));
/// Length of `(function (exports, require, module, __filename, __dirname) {`, which the engine
/// puts before the first line of every script (engines/javascript/src/lib.rs).
const COMMONJS_WRAPPER_PREFIX_LEN: usize = 61;
/// How artifacts name the engine they embed.
pub const JAVASCRIPT_ENGINE_NAME: &str = "quickjs (javy 8.1.0)";

/// Why a function did not convert.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The source has problems the user must fix; the diagnostics say which.
    #[error("{} error(s) in {}", .diagnostics.iter().filter(|d| d.severity == Severity::Error).count(), .file.name)]
    Diagnostics {
        /// The analysed file (to render the diagnostics against).
        file: SourceFile,
        /// Every diagnostic, errors and warnings.
        diagnostics: Vec<Diagnostic>,
    },
    /// The source file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The handler file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The engine failed in a way that is not the handler's fault.
    #[error("engine failure: {0}")]
    Engine(String),
}

/// Per-function choices.
#[derive(Debug, Clone)]
pub struct ConvertOptions {
    /// Handler export name; the frontend's detection when `None`.
    pub handler: Option<String>,
    /// Event types to record; the frontend's inference when empty.
    pub event_types: Vec<EventType>,
    /// Build without a pre-initialised snapshot (for comparison; slower cold start).
    pub no_snapshot: bool,
    /// How long the module's top-level code may run at conversion before it is stopped.
    pub init_timeout: std::time::Duration,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            handler: None,
            event_types: Vec::new(),
            no_snapshot: false,
            init_timeout: edgeport_runtime::INIT_TIMEOUT,
        }
    }
}

/// A converted function, not yet written anywhere.
#[derive(Debug)]
pub struct Converted {
    /// The artifact bytes (`function.wasm`).
    pub wasm: Vec<u8>,
    /// What the artifact's metadata section holds.
    pub metadata: Metadata,
    /// The frontend's facts about the handler.
    pub facts: HandlerFacts,
    /// The analysed source.
    pub file: SourceFile,
    /// Warnings (conversion went ahead).
    pub warnings: Vec<Diagnostic>,
    /// Time spent converting.
    pub elapsed: Duration,
}

/// Converts functions; holds the engine, compiled once, and an instance used for compiling.
pub struct Converter {
    engine: LoadedFunction,
    compiler: Instance,
    code_hash: String,
}

impl Converter {
    /// Prepares the engine (compiled by `runtime`, from its cache when possible).
    pub fn new(runtime: &Runtime) -> Result<Self, ConvertError> {
        let engine = runtime.load_bytes(JAVASCRIPT_ENGINE.to_vec()).map_err(engine_error)?;
        let mut compiler = engine.instantiate(snapshot_options()).map_err(engine_error)?;
        compiler.init().map_err(engine_error)?;
        let code_hash = artifact_builder::code_hash(JAVASCRIPT_ENGINE)?;
        Ok(Converter { engine, compiler, code_hash })
    }

    /// Converts one function. Problems in the user's code come back as
    /// [`ConvertError::Diagnostics`]; nothing here panics on bad input.
    pub fn convert(&mut self, function: &FunctionSource, options: &ConvertOptions) -> Result<Converted, ConvertError> {
        let started = Instant::now();
        let text = std::fs::read(&function.path)
            .map_err(|source| ConvertError::Read { path: function.path.clone(), source })?;
        let file = SourceFile { name: function.display_path(), text: String::from_utf8_lossy(&text).into_owned() };
        let analysis = javascript::analyze(&file, &javascript::Options { handler: options.handler.clone() });
        let convertible = if analysis.has_errors() { None } else { analysis.facts.zip(analysis.lowered) };
        let handler = convertible.as_ref().and_then(|(facts, _)| facts.handler.as_ref()).map(|h| h.name.clone());
        let (Some((facts, lowered)), Some(handler)) = (convertible, handler) else {
            return Err(ConvertError::Diagnostics { file, diagnostics: analysis.diagnostics });
        };
        let warnings = analysis.diagnostics;
        let filename = function.engine_filename();

        let bytecode = match self.compiler.compile(&filename, &lowered) {
            Ok(bytecode) => bytecode,
            Err(RuntimeError::Guest(error)) => {
                return Err(guest_diagnostic(file, warnings, codes::ENGINE_REJECTED_SCRIPT, "the engine rejected the script", &error))
            }
            Err(other) => return Err(engine_error(other)),
        };

        let attached = if options.event_types.is_empty() { &facts.event_types } else { &options.event_types };
        let event_types = attached.iter().map(|t| t.as_str().to_string()).collect();
        let metadata = Metadata {
            format_version: FORMAT_VERSION,
            name: function.name.clone(),
            language: function.language().to_string(),
            filename: filename.clone(),
            handler: handler.clone(),
            event_types,
            builtins: facts.builtins.clone(),
            source_hash: artifact::sha256_hex(&text),
            engine: JAVASCRIPT_ENGINE_NAME.to_string(),
            edgeport_version: env!("CARGO_PKG_VERSION").to_string(),
            code_hash: self.code_hash.clone(),
            preinitialized: !options.no_snapshot,
        };

        // Loading runs the module's top-level code, so its errors surface now, at convert time,
        // with or without a snapshot.
        let mut instance = self.engine.instantiate(snapshot_options()).map_err(engine_error)?;
        instance.init().map_err(engine_error)?;
        instance.set_budget(options.init_timeout).map_err(engine_error)?;
        match instance.load(&handler, &filename, &metadata.builtins, &bytecode) {
            Ok(()) => {}
            Err(RuntimeError::Guest(error)) => {
                return Err(guest_diagnostic(file, warnings, codes::TOP_LEVEL_FAILED, "the module's top-level code failed", &error))
            }
            Err(other) => return Err(engine_error(other)),
        }
        let snapshot = if options.no_snapshot { None } else { Some(instance.snapshot().map_err(engine_error)?) };
        let image = match &snapshot {
            Some(snapshot) => artifact_builder::Image::Snapshot(snapshot),
            None => artifact_builder::Image::Engine,
        };
        let wasm = artifact_builder::build(JAVASCRIPT_ENGINE, image, &bytecode, &metadata)?;
        Ok(Converted { wasm, metadata, facts, file, warnings, elapsed: started.elapsed() })
    }
}

/// Snapshots are made with a frozen clock and seeded entropy so that converting the same source
/// twice gives the same bytes.
fn snapshot_options() -> InstanceOptions {
    InstanceOptions::deterministic(DEFAULT_FIXED_NOW_MS)
}

fn engine_error(error: RuntimeError) -> ConvertError {
    ConvertError::Engine(error.to_string())
}

/// Turns an error the engine reported (with `file:line:column` in its trace) into a diagnostic
/// pointing at that place in the user's source.
fn guest_diagnostic(
    file: SourceFile,
    mut diagnostics: Vec<Diagnostic>,
    code: &'static str,
    summary: &str,
    error: &edgeport_runtime::GuestError,
) -> ConvertError {
    let span = error
        .trace
        .iter()
        .find_map(|line| location_in_trace(line, &file))
        .unwrap_or(0..0);
    diagnostics.push(Diagnostic {
        code,
        severity: Severity::Error,
        message: format!("{summary}: {}: {}", error.error_type, error.error_message),
        labels: vec![Label { span, message: error.error_message.clone() }],
        help: Some(format!("run `edgeport explain {code}` for what this means and how to fix it")),
    });
    ConvertError::Diagnostics { file, diagnostics }
}

/// Finds `name:line:column` of `file` in one trace line and converts it to a byte span.
fn location_in_trace(line: &str, file: &SourceFile) -> Option<std::ops::Range<usize>> {
    let base = file.name.rsplit('/').next().unwrap_or(&file.name);
    let at = line.find(&format!("{base}:"))?;
    let mut numbers = line[at + base.len() + 1..].split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty());
    let line_number: usize = numbers.next()?.parse().ok()?;
    let mut column: usize = numbers.next().and_then(|c| c.parse().ok()).unwrap_or(1);
    if line_number == 1 {
        // The engine's CommonJS wrapper precedes the first line of the source.
        column = column.saturating_sub(COMMONJS_WRAPPER_PREFIX_LEN);
    }
    let line_start: usize = file.text.split_inclusive('\n').take(line_number.checked_sub(1)?).map(str::len).sum();
    let line_text = file.text[line_start..].lines().next().unwrap_or("");
    let offset = line_start + line_text.char_indices().nth(column.saturating_sub(1)).map_or(line_text.len(), |(i, _)| i);
    Some(offset..offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_locations_become_spans() {
        let file = SourceFile { name: "corpus/x/index.js".into(), text: "a\nbcd\nef\n".into() };
        assert_eq!(location_in_trace("at handler (index.js:2:3)", &file), Some(4..4));
        assert_eq!(location_in_trace("at index.js:1:63", &file), Some(1..1));
        assert_eq!(location_in_trace("at <anonymous> (other.js:2:3)", &file), None);
    }
}
