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
mod handler;
mod imports;
mod lower;
mod parse;
mod request;
mod state;
mod syntax;
mod usage;

pub use crate::analysis::{Analysis, Options};
pub use crate::facts::{
    ComparedLiteral, Comparison, ComparisonOperator, EventType, ExportForm, FieldRead,
    HandlerFacts, HandlerInfo, HandlerStyle, Import, ImportKind, Language, ModuleKind, ModuleState,
    ModuleStateKind, Nondeterminism, NondeterminismKind,
};

// `branches` runs on the analysis stack too.
use crate::analysis::{guarded, on_analysis_stack, sort_diagnostics};
use crate::SourceFile;

/// Analyzes one JavaScript or TypeScript file. Never fails and never panics: problems in the
/// input are diagnostics.
pub fn analyze(file: &SourceFile, options: &Options) -> Analysis {
    guarded(|| analyze_on_this_thread(file, options))
}

/// Whether `specifier` names a Node built-in module (`fs`, `node:fs`, `fs/promises`).
pub fn is_builtin(specifier: &str) -> bool {
    imports::builtin_name(specifier).is_some()
}

/// Where a module that the handler loads comes from, which decides how strictly it is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleOrigin {
    /// The function's own code: judged like the handler.
    Local,
    /// An npm package: only syntax the engine cannot run is an error. Packages read
    /// `process.env` and require network modules on paths a handler may never take, so their
    /// module loads are warnings and their uses of the runtime are not reported.
    Package,
}

/// Analyzes a module the handler loads (a local file or a package's file): its imports and the
/// CommonJS script the engine runs, without looking for a handler. Never fails or panics.
pub fn analyze_module(file: &SourceFile, origin: ModuleOrigin) -> Analysis {
    guarded(|| analyze_module_on_this_thread(file, origin))
}

fn analyze_module_on_this_thread(file: &SourceFile, origin: ModuleOrigin) -> Analysis {
    let parsed = parse::parse(file);
    let mut diagnostics = parsed.diagnostics;
    let Some(program) = parsed.program else {
        return Analysis { facts: None, diagnostics, lowered: None };
    };
    let source = parsed.source;
    let typescript = parsed.dialect.is_typescript();
    let syntax_ok = diagnostics.is_empty();
    let erasure = erasure::Erasure::new(&program, typescript);
    let loads = imports::analyze(&program, source, &erasure);
    let lowering = lower::lower(&program, source, typescript, &erasure);
    let mut findings = loads.diagnostics;
    if origin == ModuleOrigin::Package {
        // `process.env.NODE_DEBUG` and friends are read by most packages and are as undefined
        // at the edge as they are in a Lambda@Edge deployment, so only loads are reported.
        for finding in &mut findings {
            finding.severity = crate::diagnostic::Severity::Warning;
        }
    } else {
        findings.extend(usage::analyze(&program, source, &loads.bindings));
    }
    diagnostics.extend(findings);
    diagnostics.extend(lowering.diagnostics);
    sort_diagnostics(&mut diagnostics);
    let facts = HandlerFacts {
        language: if typescript { Language::TypeScript } else { Language::JavaScript },
        module_kind: if program.is_module() { ModuleKind::Esm } else { ModuleKind::CommonJs },
        handler: None,
        imports: loads.imports,
        builtins: loads.builtins,
        module_state: Vec::new(),
        nondeterminism: Vec::new(),
        event_types: Vec::new(),
        comparisons: Vec::new(),
        reads: Vec::new(),
    };
    Analysis { facts: Some(facts), diagnostics, lowered: if syntax_ok { lowering.text } else { None } }
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
    sort_diagnostics(&mut diagnostics);

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
