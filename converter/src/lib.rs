//! Compiles legacy edge handlers into self-contained, pre-initialised Wasm modules.
//!
//! For each function: the frontend of its language analyses the source (facts, diagnostics, the
//! text the engine runs); the embedded engine of that language — QuickJS for JavaScript and
//! TypeScript, RustPython for Python — compiles it where it can (JavaScript to bytecode; Python
//! compiles at load); a fresh engine instance loads it; its memory becomes the artifact's
//! snapshot ([`artifact_builder`]); [`output`] writes the artifact and its manifest atomically.

mod artifact_builder;
pub mod batch;
pub mod cache;
pub mod changed;
pub mod discover;
mod js_bundle;
pub mod output;
pub mod placeholders;
mod python_bundle;
pub mod values_file;

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
    /// The engine's load payload: the compiled module table and files (JavaScript) or the
    /// source with its bundled modules (Python).
    code: Vec<u8>,
    /// Every file read.
    inputs: Vec<PathBuf>,
    /// The JavaScript modules, to point top-level failures at the right file.
    modules: Vec<js_bundle::BundledModule>,
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
        let original = std::fs::read(&function.path)
            .map_err(|source| ConvertError::Read { path: function.path.clone(), source })?;
        let text = placeholders::substitute(&String::from_utf8_lossy(&original), &options.defines);
        let file = SourceFile { name: function.display_path(), text };
        let kind = function.engine();
        let analysis_options = Options { handler: options.handler.clone().or_else(|| function.handler.clone()) };
        let (prepared, filename) = match kind {
            EngineKind::JavaScript => {
                let analysis = javascript::analyze(&file, &analysis_options);
                let (facts, handler, mut warnings, lowered) = accept(analysis, &file)?;
                let bundle = js_bundle::bundle(function, &file, lowered, &facts, &options.defines)?;
                warnings.extend(bundle.warnings.iter().cloned());
                warnings.extend(placeholder_warnings(&file, &options.defines));
                let compiler = self.engine(kind)?.compiler.as_mut().expect("the JavaScript engine keeps a compiler");
                let mut bytecode = Vec::with_capacity(bundle.modules.len());
                for module in &bundle.modules {
                    match compiler.compile(&module.id, &module.script) {
                        Ok(code) => bytecode.push(code),
                        Err(RuntimeError::Guest(error)) => {
                            let (file, warnings) = if module.id == bundle.modules[0].id {
                                (file, warnings)
                            } else {
                                (module.file.clone(), Vec::new())
                            };
                            let summary = "the engine rejected the script";
                            return Err(guest_diagnostic(file, &module.id, warnings, codes::ENGINE_REJECTED_SCRIPT, summary, &error, kind));
                        }
                        Err(other) => return Err(engine_error(other)),
                    }
                }
                let mut facts = facts;
                facts.builtins = bundle.builtins.iter().cloned().collect();
                let code = js_bundle::payload(&bundle, &bytecode);
                let handler_id = bundle.modules[0].id.clone();
                (Prepared { facts, handler, warnings, code, inputs: bundle.inputs, modules: bundle.modules }, handler_id)
            }
            EngineKind::Python => {
                let analysis = python::analyze(&file, &analysis_options);
                let (facts, handler, mut warnings, source) = accept(analysis, &file)?;
                let python_bundle::Bundle { payload, missing, inputs } = python_bundle::bundle(&function.path, &source, &facts, &options.defines)?;
                // A missing module the frontend already reported (boto3, requests) is not
                // warned about twice.
                let reported = |import: &&Import| warnings.iter().any(|d| d.labels.iter().any(|l| l.span == import.span));
                let unbundled: Vec<Diagnostic> =
                    missing.iter().filter(|import| !reported(import)).filter_map(|import| python::unbundled_import(import)).collect();
                warnings.extend(unbundled);
                warnings.extend(placeholder_warnings(&file, &options.defines));
                let dir = function.path.parent().unwrap_or(std::path::Path::new("."));
                warnings.extend(python_bundle::requirement_warnings(dir).into_iter().map(|finding| {
                    Diagnostic::warning(codes::THIRD_PARTY_PACKAGE, format!("{}:{}: {}", python_bundle::REQUIREMENTS_FILE, finding.line, finding.message))
                        .with_label(0..0, format!("a dependency of this function (requirements.txt line {})", finding.line))
                        .with_help(finding.help)
                }));
                let mut inputs = inputs;
                let requirements = dir.join(python_bundle::REQUIREMENTS_FILE);
                if requirements.is_file() {
                    inputs.push(requirements);
                }
                (Prepared { facts, handler, warnings, code: payload, inputs, modules: Vec::new() }, function.engine_filename())
            }
        };
        let Prepared { facts, handler, warnings, code, inputs, modules } = prepared;

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
            source_hash: artifact::sha256_hex(&original),
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
                // The failure may lie in one of the function's own modules: point there.
                let failing = modules.iter().skip(1).filter(|m| m.local).find(|m| {
                    error.trace.iter().take_while(|line| !line.contains(&format!("{filename}:"))).any(|line| line.contains(&format!("{}:", m.id)))
                });
                let summary = "the module's top-level code failed";
                return Err(match failing {
                    Some(module) => guest_diagnostic(module.file.clone(), &module.id, Vec::new(), codes::TOP_LEVEL_FAILED, summary, &error, kind),
                    None => guest_diagnostic(file, &filename, warnings, codes::TOP_LEVEL_FAILED, summary, &error, kind),
                });
            }
            Err(other) => return Err(engine_error(other)),
        }
        let snapshot = if options.no_snapshot { None } else { Some(instance.snapshot().map_err(engine_error)?) };
        let image = match &snapshot {
            Some(snapshot) => artifact_builder::Image::Snapshot(snapshot),
            None => artifact_builder::Image::Engine,
        };
        let wasm = artifact_builder::build(kind.wasm(), image, &code, &metadata)?;
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

/// Warnings for `{{NAME}}` placeholders left in the handler without a value.
fn placeholder_warnings(file: &SourceFile, defines: &std::collections::BTreeMap<String, String>) -> Vec<Diagnostic> {
    placeholders::undefined_names(&file.text, defines)
        .into_iter()
        .map(|name| {
            let at = file.text.find(&format!("{{{{{name}")).or_else(|| file.text.find(&name)).unwrap_or(0);
            let end = (at + name.len() + 4).min(file.text.len());
            Diagnostic::warning(codes::UNDEFINED_PLACEHOLDER, format!("placeholder '{{{{{name}}}}}' has no value"))
                .with_label(at..end, "left as written")
                .with_help(format!("pass --define {name}=VALUE, a --values file, or a [defines] entry in edgeport.toml"))
        })
        .collect()
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
    engine_filename: &str,
    mut diagnostics: Vec<Diagnostic>,
    code: &'static str,
    summary: &str,
    error: &edgeport_runtime::GuestError,
    engine: EngineKind,
) -> ConvertError {
    let span = error
        .trace
        .iter()
        .find_map(|line| location_in_trace(line, engine_filename, &file, engine))
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

/// Finds `name:line:column` in one trace line, where `name` is what the engine calls `file`,
/// and converts it to a byte span of `file`.
fn location_in_trace(line: &str, name: &str, file: &SourceFile, engine: EngineKind) -> Option<std::ops::Range<usize>> {
    let at = line.find(&format!("{name}:"))?;
    let mut numbers = line[at + name.len() + 1..].split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty());
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
        let id = "/var/task/index.js";
        assert_eq!(location_in_trace("at handler (/var/task/index.js:2:3)", id, &file, js), Some(4..4));
        assert_eq!(location_in_trace("at /var/task/index.js:1:63", id, &file, js), Some(1..1));
        assert_eq!(location_in_trace("at <anonymous> (/var/task/node_modules/x/index.js:2:3)", id, &file, js), None);
        let file = SourceFile { name: "corpus/x/lambda_function.py".into(), text: "ab\ncd\n".into() };
        let py = EngineKind::Python;
        assert_eq!(location_in_trace("lambda_function.py:1:2 in <module>", "lambda_function.py", &file, py), Some(1..1));
    }
}
