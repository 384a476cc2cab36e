//! What every frontend's `analyze` takes and returns, and the harness that keeps analysis from
//! failing: a thread with a large stack, and a panic turned into an `EP0004` diagnostic.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::diagnostic::{codes, Diagnostic, Severity};
use crate::facts::HandlerFacts;

/// How to analyze a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The name of the handler (`--handler`). When `None`, JavaScript looks for the export
    /// `handler`, Python for the first of `lambda_handler`, `handler` and `main`.
    pub handler: Option<String>,
}

/// The result of analyzing one file.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// The facts, whenever the file parsed far enough to have a syntax tree.
    pub facts: Option<HandlerFacts>,
    /// Problems, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
    /// The text the edge engine runs, with unchanged line and column numbers: for JavaScript
    /// the file as a CommonJS script, for the engine to wrap in
    /// `(function (exports, require, module, __filename, __dirname) { ... })`; for Python the
    /// file as written. `None` when the file has syntax errors or constructs that cannot be
    /// lowered.
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

/// The stack the analysis runs on: parsers guard their own recursion (or have none), but the
/// visitors recurse as deep as the input nests.
const ANALYSIS_STACK_BYTES: usize = 256 * 1024 * 1024;

/// Runs `analyze` on a thread with a large stack and returns its result; a panic becomes an
/// analysis holding only an `EP0004` diagnostic. Every frontend's entry point goes through
/// here, so that none of them can fail or panic.
pub(crate) fn guarded(analyze: impl Fn() -> Analysis + Sync) -> Analysis {
    on_analysis_stack(analyze).unwrap_or_else(internal_error)
}

/// Runs `work` on a thread with [`ANALYSIS_STACK_BYTES`] of stack and returns its result, or
/// `None` when it panicked.
pub(crate) fn on_analysis_stack<T: Send>(work: impl Fn() -> T + Sync) -> Option<T> {
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

/// Sorts diagnostics by the position of their primary label, then by code.
pub(crate) fn sort_diagnostics(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_key(|diagnostic| {
        (
            diagnostic
                .labels
                .first()
                .map_or(0, |label| label.span.start),
            diagnostic.code,
        )
    });
}
