//! The JavaScript and TypeScript frontend: parses a Node.js Lambda@Edge handler, finds the
//! handler export, collects facts about it, reports what cannot run at the edge, and lowers the
//! file to the CommonJS script the edge engine runs.
//!
//! ```
//! use edgeport_frontends::javascript::{analyze, Options};
//! use edgeport_frontends::SourceFile;
//!
//! let file = SourceFile::new("index.js", "exports.handler = async (event) => event.Records[0].cf.request;");
//! let analysis = analyze(&file, &Options::default());
//! assert!(!analysis.has_errors());
//! let facts = analysis.facts.expect("the file parses");
//! assert_eq!(facts.handler.expect("the handler is exported").param_count, 1);
//! ```
//!
//! Invariant: [`analyze`] returns for every input; a panic inside the parser becomes an
//! `EP0004` diagnostic.

pub mod branches;
mod erasure;
mod facts;
mod handler;
mod imports;
mod lower;
mod parse;
mod request;
mod state;
mod syntax;
mod usage;

use std::panic::{catch_unwind, AssertUnwindSafe};

pub use facts::{
    ComparedLiteral, Comparison, ComparisonOperator, EventType, ExportForm, FieldRead,
    HandlerFacts, HandlerInfo, HandlerStyle, Import, ImportKind, Language, ModuleKind, ModuleState,
    ModuleStateKind, Nondeterminism, NondeterminismKind,
};

use crate::diagnostic::{codes, Diagnostic, Severity};
use crate::SourceFile;

/// How to analyze a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The export name of the handler (`--handler`); `handler` when `None`.
    pub handler: Option<String>,
}

/// The result of analyzing one file.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// The facts, whenever the file parsed far enough to have a syntax tree.
    pub facts: Option<HandlerFacts>,
    /// Problems, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
    /// The file as a CommonJS script with unchanged line and column numbers, for the engine
    /// to wrap in `(function (exports, require, module, __filename, __dirname) { ... })`.
    /// `None` when the file has syntax errors or constructs that cannot be lowered.
    pub lowered: Option<String>,
}

impl Analysis {
    /// Whether any diagnostic is an error, i.e. conversion of this function fails.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|diagnostic| diagnostic.severity == Severity::Error)
    }
}

/// The stack the analysis runs on: the parser guards its own recursion, but the visitors
/// recurse as deep as the input nests.
const ANALYSIS_STACK_BYTES: usize = 256 * 1024 * 1024;

/// Analyzes one JavaScript or TypeScript file. Never fails and never panics: problems in the
/// input are diagnostics.
pub fn analyze(file: &SourceFile, options: &Options) -> Analysis {
    on_analysis_stack(|| analyze_on_this_thread(file, options)).unwrap_or_else(internal_error)
}

/// Runs `work` on a thread with [`ANALYSIS_STACK_BYTES`] of stack and returns its result, or
/// `None` when it panicked.
fn on_analysis_stack<T: Send>(work: impl Fn() -> T + Sync) -> Option<T> {
    let outcome = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("edgeport-analyze".to_owned())
            .stack_size(ANALYSIS_STACK_BYTES)
            .spawn_scoped(scope, &work)
            .map(|thread| thread.join())
    });
    match outcome {
        Ok(joined) => joined.ok(),
        // Without a thread of our own, work here; deep nesting may then exhaust the stack.
        Err(_spawn_error) => catch_unwind(AssertUnwindSafe(work)).ok(),
    }
}

fn internal_error() -> Analysis {
    Analysis {
        facts: None,
        diagnostics: vec![Diagnostic::error(
            codes::INTERNAL_ERROR,
            "the analyzer failed on this file; this is a bug in edgeport",
        )
        .with_label(0..0, "while analyzing this file")
        .with_help("please report the file; simplifying unusual syntax may work around it")],
        lowered: None,
    }
}

fn analyze_on_this_thread(file: &SourceFile, options: &Options) -> Analysis {
    let parsed = parse::parse(file);
    let mut diagnostics = parsed.diagnostics;
    let Some(program) = parsed.program else {
        return Analysis {
            facts: None,
            diagnostics,
            lowered: None,
        };
    };
    let source = parsed.source;
    let typescript = parsed.dialect.is_typescript();
    let syntax_ok = diagnostics.is_empty();

    let erasure = erasure::Erasure::new(&program, typescript);
    let top_level = syntax::TopLevel::new(&program);
    let wanted = options
        .handler
        .as_deref()
        .unwrap_or(handler::DEFAULT_HANDLER);
    let handler = handler::analyze(&program, source, &top_level, wanted);
    let loads = imports::analyze(&program, source, &erasure);
    let state = state::analyze(&program, source, &loads.bindings);
    let request = request::analyze(&program, source, &top_level, handler.function);
    let lowering = lower::lower(&program, source, typescript, &erasure);

    diagnostics.extend(handler.diagnostics);
    diagnostics.extend(loads.diagnostics);
    diagnostics.extend(usage::analyze(&program, source, &loads.bindings));
    diagnostics.extend(lowering.diagnostics);
    diagnostics.sort_by_key(|diagnostic| {
        (
            diagnostic
                .labels
                .first()
                .map_or(0, |label| label.span.start),
            diagnostic.code,
        )
    });

    let facts = HandlerFacts {
        language: if typescript {
            Language::TypeScript
        } else {
            Language::JavaScript
        },
        module_kind: if program.is_module() {
            ModuleKind::Esm
        } else {
            ModuleKind::CommonJs
        },
        handler: handler.info,
        imports: loads.imports,
        builtins: loads.builtins,
        module_state: state.module_state,
        nondeterminism: state.nondeterminism,
        event_types: request.event_types,
        comparisons: request.comparisons,
        reads: request.reads,
    };
    Analysis {
        facts: Some(facts),
        diagnostics,
        lowered: if syntax_ok { lowering.text } else { None },
    }
}
