//! Compiles legacy edge handlers into self-contained, pre-initialised Wasm modules.
//!
//! For each function: the frontend of its language analyses the source (facts, diagnostics, the
//! text the engine runs); the embedded engine of that language — QuickJS for JavaScript and
//! TypeScript, RustPython for Python — compiles it where it can (JavaScript to bytecode; Python
//! compiles at load); a fresh engine instance loads it; its memory becomes the artifact's
//! snapshot ([`artifact_builder`]); [`output`] writes the artifact and its manifest atomically.

mod artifact_builder;
pub mod discover;
pub mod output;
mod python_bundle;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use edgeport_frontends::diagnostic::{codes, Diagnostic, Label, Severity};
use edgeport_frontends::javascript::{self, Analysis, HandlerFacts, Import, Options};
use edgeport_frontends::python;
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
/// The Python engine (RustPython with its frozen standard library), built by build.rs.
pub const PYTHON_ENGINE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/engine-python.wasm"));
/// How artifacts name the Python engine.
pub const PYTHON_ENGINE_NAME: &str = "rustpython 0.6.0";

/// The engines a function can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    /// QuickJS, for JavaScript and TypeScript.
    JavaScript,
    /// RustPython, for Python.
    Python,
}

impl EngineKind {
    /// The engine module.
    pub fn wasm(self) -> &'static [u8] {
        match self {
            EngineKind::JavaScript => JAVASCRIPT_ENGINE,
            EngineKind::Python => PYTHON_ENGINE,
        }
    }

    /// How artifacts name it.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::JavaScript => JAVASCRIPT_ENGINE_NAME,
            EngineKind::Python => PYTHON_ENGINE_NAME,
        }
    }
}

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
    /// Deploy-time placeholder values (`--define NAME=VALUE`, a values file, `edgeport.toml`),
    /// substituted into the function's own sources before they are parsed.
    pub defines: std::collections::BTreeMap<String, String>,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            handler: None,
            event_types: Vec::new(),
            no_snapshot: false,
            init_timeout: edgeport_runtime::INIT_TIMEOUT,
            defines: std::collections::BTreeMap::new(),
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
    /// Every file the conversion read (the handler, bundled modules, packages and files), so
    /// a cache can tell when the artifact is stale.
    pub inputs: Vec<PathBuf>,
    /// Time spent converting.
    pub elapsed: Duration,
}

/// Converts functions. Holds each engine, compiled once (by `runtime`, from its cache when
/// possible) and loaded on first use: a batch without Python never pays for RustPython.
pub struct Converter {
    runtime: Runtime,
    javascript: Option<LoadedEngine>,
    python: Option<LoadedEngine>,
}

/// An engine ready to instantiate.
struct LoadedEngine {
    loaded: LoadedFunction,
    /// The code hash of every artifact built from it.
    code_hash: String,
    /// An initialised instance kept for compiling scripts (JavaScript only).
    compiler: Option<Instance>,
}

impl LoadedEngine {
    fn new(runtime: &Runtime, kind: EngineKind) -> Result<Self, ConvertError> {
        let loaded = runtime.load_bytes(kind.wasm().to_vec()).map_err(engine_error)?;
        let compiler = match kind {
            EngineKind::JavaScript => {
                let mut compiler = loaded.instantiate(snapshot_options()).map_err(engine_error)?;
                compiler.init().map_err(engine_error)?;
                Some(compiler)
            }
            EngineKind::Python => None,
        };
        let code_hash = artifact_builder::code_hash(kind.wasm())?;
        Ok(LoadedEngine { loaded, code_hash, compiler })
    }
}

/// What the engine is given to load, once the frontend accepted the source.
struct Prepared {
    facts: HandlerFacts,
    handler: String,
    warnings: Vec<Diagnostic>,
    /// Bytecode (JavaScript) or the source with its bundled modules (Python).
    code: Vec<u8>,
}

impl Converter {
    /// Prepares the JavaScript engine; the Python engine is prepared when the first Python
    /// function comes.
    pub fn new(runtime: &Runtime) -> Result<Self, ConvertError> {
        let javascript = Some(LoadedEngine::new(runtime, EngineKind::JavaScript)?);
        Ok(Converter { runtime: runtime.clone(), javascript, python: None })
    }

    fn engine(&mut self, kind: EngineKind) -> Result<&mut LoadedEngine, ConvertError> {
        let slot = match kind {
            EngineKind::JavaScript => &mut self.javascript,
            EngineKind::Python => &mut self.python,
        };
        match slot {
            Some(engine) => Ok(engine),
            None => Ok(slot.insert(LoadedEngine::new(&self.runtime, kind)?)),
        }
    }

    /// Converts one function. Problems in the user's code come back as
    /// [`ConvertError::Diagnostics`]; nothing here panics on bad input.
    pub fn convert(&mut self, function: &FunctionSource, options: &ConvertOptions) -> Result<Converted, ConvertError> {
        let started = Instant::now();
        let text = std::fs::read(&function.path)
            .map_err(|source| ConvertError::Read { path: function.path.clone(), source })?;
        let file = SourceFile { name: function.display_path(), text: String::from_utf8_lossy(&text).into_owned() };
        let kind = function.engine();
        let filename = function.engine_filename();
        let analysis_options = Options { handler: options.handler.clone().or_else(|| function.handler.clone()) };
        let prepared = match kind {
            EngineKind::JavaScript => {
                let analysis = javascript::analyze(&file, &analysis_options);
                let (facts, handler, warnings, lowered) = accept(analysis, &file)?;
                let compiler = self.engine(kind)?.compiler.as_mut().expect("the JavaScript engine keeps a compiler");
                let code = match compiler.compile(&filename, &lowered) {
                    Ok(bytecode) => bytecode,
                    Err(RuntimeError::Guest(error)) => {
                        return Err(guest_diagnostic(file, warnings, codes::ENGINE_REJECTED_SCRIPT, "the engine rejected the script", &error, kind))
                    }
                    Err(other) => return Err(engine_error(other)),
                };
                Prepared { facts, handler, warnings, code }
            }
            EngineKind::Python => {
                let analysis = python::analyze(&file, &analysis_options);
                let (facts, handler, mut warnings, source) = accept(analysis, &file)?;
                let python_bundle::Bundle { payload, missing } = python_bundle::bundle(&function.path, &source, &facts)?;
                // A missing module the frontend already reported (boto3, requests) is not
                // warned about twice.
                let reported = |import: &&Import| warnings.iter().any(|d| d.labels.iter().any(|l| l.span == import.span));
                let unbundled: Vec<Diagnostic> =
                    missing.iter().filter(|import| !reported(import)).filter_map(|import| python::unbundled_import(import)).collect();
                warnings.extend(unbundled);
                Prepared { facts, handler, warnings, code: payload }
            }
        };
        let Prepared { facts, handler, warnings, code } = prepared;

        let engine = self.engine(kind)?;
        let attached = [&options.event_types, &function.event_types, &facts.event_types]
            .into_iter()
            .find(|types| !types.is_empty())
            .unwrap_or(&facts.event_types);
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
            engine: kind.name().to_string(),
            edgeport_version: env!("CARGO_PKG_VERSION").to_string(),
            code_hash: engine.code_hash.clone(),
            preinitialized: !options.no_snapshot,
        };

        // Loading runs the module's top-level code, so its errors surface now, at convert time,
        // with or without a snapshot.
        let mut instance = engine.loaded.instantiate(snapshot_options()).map_err(engine_error)?;
        instance.init().map_err(engine_error)?;
        instance.set_budget(options.init_timeout).map_err(engine_error)?;
        match instance.load(&handler, &filename, &metadata.builtins, &code) {
            Ok(()) => {}
            Err(RuntimeError::Guest(error)) => {
                return Err(guest_diagnostic(file, warnings, codes::TOP_LEVEL_FAILED, "the module's top-level code failed", &error, kind))
            }
            Err(other) => return Err(engine_error(other)),
        }
        let snapshot = if options.no_snapshot { None } else { Some(instance.snapshot().map_err(engine_error)?) };
        let image = match &snapshot {
            Some(snapshot) => artifact_builder::Image::Snapshot(snapshot),
            None => artifact_builder::Image::Engine,
        };
        let wasm = artifact_builder::build(kind.wasm(), image, &code, &metadata)?;
        let inputs = vec![function.path.clone()];
        Ok(Converted { wasm, metadata, facts, file, warnings, inputs, elapsed: started.elapsed() })
    }
}

/// The facts, handler name, warnings and engine text of an analysis without errors; its
/// diagnostics otherwise.
fn accept(analysis: Analysis, file: &SourceFile) -> Result<(HandlerFacts, String, Vec<Diagnostic>, String), ConvertError> {
    let convertible = if analysis.has_errors() { None } else { analysis.facts.zip(analysis.lowered) };
    let handler = convertible.as_ref().and_then(|(facts, _)| facts.handler.as_ref()).map(|h| h.name.clone());
    match (convertible, handler) {
        (Some((facts, text)), Some(handler)) => Ok((facts, handler, analysis.diagnostics, text)),
        _ => Err(ConvertError::Diagnostics { file: file.clone(), diagnostics: analysis.diagnostics }),
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
    engine: EngineKind,
) -> ConvertError {
    let span = error
        .trace
        .iter()
        .find_map(|line| location_in_trace(line, &file, engine))
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
fn location_in_trace(line: &str, file: &SourceFile, engine: EngineKind) -> Option<std::ops::Range<usize>> {
    let base = file.name.rsplit('/').next().unwrap_or(&file.name);
    let at = line.find(&format!("{base}:"))?;
    let mut numbers = line[at + base.len() + 1..].split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty());
    let line_number: usize = numbers.next()?.parse().ok()?;
    let mut column: usize = numbers.next().and_then(|c| c.parse().ok()).unwrap_or(1);
    if line_number == 1 && engine == EngineKind::JavaScript {
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
        let js = EngineKind::JavaScript;
        assert_eq!(location_in_trace("at handler (index.js:2:3)", &file, js), Some(4..4));
        assert_eq!(location_in_trace("at index.js:1:63", &file, js), Some(1..1));
        assert_eq!(location_in_trace("at <anonymous> (other.js:2:3)", &file, js), None);
        let file = SourceFile { name: "corpus/x/lambda_function.py".into(), text: "ab\ncd\n".into() };
        assert_eq!(location_in_trace("lambda_function.py:1:2 in <module>", &file, EngineKind::Python), Some(1..1));
    }
}
