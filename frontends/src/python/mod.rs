//! The Python frontend: parses a Python Lambda@Edge handler, finds the handler function,
//! collects the same facts as the JavaScript frontend (imports and the standard library
//! modules used, module-level state, nondeterminism, the request fields read and the literals
//! compared with them), and reports what cannot run at the edge. The engine runs the module as
//! written, so `lowered` is the text itself.
//!
//! ```
//! use edgeport_frontends::python::{analyze, Options};
//! use edgeport_frontends::SourceFile;
//!
//! let file = SourceFile::new(
//!     "index.py",
//!     "def lambda_handler(event, context):\n    return event['Records'][0]['cf']['request']\n",
//! );
//! let analysis = analyze(&file, &Options::default());
//! assert!(!analysis.has_errors());
//! let facts = analysis.facts.expect("the file parses");
//! let handler = facts.handler.expect("the handler is defined");
//! assert_eq!((handler.name.as_str(), handler.param_count), ("lambda_handler", 2));
//! assert_eq!(analysis.lowered.as_deref(), Some(file.text.as_str()));
//! ```
//!
//! Invariant: [`analyze`] returns for every input; a panic inside the parser becomes an
//! `EP0004` diagnostic.

pub mod branches;
mod handler;
mod imports;
mod parse;
mod request;
mod state;
mod stdlib;
mod syntax;
mod usage;

pub use crate::analysis::{Analysis, Options};
pub use handler::DEFAULT_HANDLERS;
pub use imports::unbundled_import;

use crate::analysis::{guarded, sort_diagnostics};
use crate::facts::{HandlerFacts, Language, ModuleKind};
use crate::SourceFile;

/// Analyzes one Python file. Never fails and never panics: problems in the input are
/// diagnostics.
pub fn analyze(file: &SourceFile, options: &Options) -> Analysis {
    guarded(|| analyze_on_this_thread(file, options))
}

fn analyze_on_this_thread(file: &SourceFile, options: &Options) -> Analysis {
    let body = match parse::parse(file) {
        parse::Parsed::Module(body) => body,
        parse::Parsed::Failed(diagnostic) => {
            return Analysis {
                facts: None,
                diagnostics: vec![diagnostic],
                lowered: None,
            }
        }
    };
    let top_level = handler::TopLevel::new(&body, &file.text);
    let handler = handler::analyze(&top_level, options.handler.as_deref());
    let loads = imports::analyze(&body);
    let state = state::analyze(&body, &loads.bindings);
    let request = request::analyze(&body, &top_level, &loads.bindings, handler.function);

    let mut diagnostics = handler.diagnostics;
    diagnostics.extend(loads.diagnostics);
    diagnostics.extend(usage::analyze(&body, &loads.bindings));
    sort_diagnostics(&mut diagnostics);

    let facts = HandlerFacts {
        language: Language::Python,
        module_kind: ModuleKind::Python,
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
        lowered: Some(file.text.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::codes;
    use crate::facts::ExportForm;

    fn analyze_text(text: &str, handler: Option<&str>) -> Analysis {
        let options = Options {
            handler: handler.map(str::to_owned),
        };
        analyze(&SourceFile::new("index.py", text), &options)
    }

    fn codes_of(analysis: &Analysis) -> Vec<&'static str> {
        analysis.diagnostics.iter().map(|diagnostic| diagnostic.code).collect()
    }

    fn handler_of(analysis: &Analysis) -> Option<(String, ExportForm)> {
        let handler = analysis.facts.as_ref()?.handler.as_ref()?;
        Some((handler.name.clone(), handler.export_form))
    }

    #[test]
    fn the_first_default_name_wins() {
        let analysis = analyze_text(
            "def main(event, context): pass\ndef handler(event, context): pass\n",
            None,
        );
        assert_eq!(handler_of(&analysis), Some(("handler".to_owned(), ExportForm::ModuleFunction)));
        let analysis = analyze_text(
            "def handler(e, c): pass\ndef lambda_handler(event, context): pass\n",
            None,
        );
        assert_eq!(handler_of(&analysis).map(|(name, _)| name).as_deref(), Some("lambda_handler"));
    }

    #[test]
    fn the_option_names_the_handler_with_or_without_module() {
        let text = "def main(event, context): pass\ndef entry(event, context): pass\n";
        for name in ["entry", "index.entry"] {
            let analysis = analyze_text(text, Some(name));
            assert_eq!(handler_of(&analysis).map(|(name, _)| name).as_deref(), Some("entry"));
        }
        let analysis = analyze_text(text, Some("missing"));
        assert_eq!(codes_of(&analysis), [codes::MISSING_HANDLER]);
        let help = analysis.diagnostics[0].help.as_deref().unwrap_or_default();
        assert!(help.contains("main, entry") && help.contains("--handler"), "{help}");
    }

    #[test]
    fn a_later_definition_replaces_an_earlier_one() {
        let analysis = analyze_text(
            "def handler(event, context): pass\nhandler = lambda event, context: event\n",
            None,
        );
        assert_eq!(handler_of(&analysis), Some(("handler".to_owned(), ExportForm::ModuleAssignment)));
        let analysis = analyze_text("def handler(event, context): pass\nhandler = make()\n", None);
        assert_eq!(codes_of(&analysis), [codes::MISSING_HANDLER]);
        assert!(analysis.diagnostics[0].message.contains("not a function"));
    }

    #[test]
    fn signatures_that_cannot_take_event_and_context_are_reported() {
        for (signature, ok) in [
            ("(event, context)", true),
            ("(event, context=None)", true),
            ("(*args)", true),
            ("(event, *args, **kwargs)", true),
            ("(event, /, context)", true),
            ("()", false),
            ("(event)", false),
            ("(event, context, extra)", false),
            ("(event, context, *, flag)", false),
        ] {
            let analysis = analyze_text(&format!("def handler{signature}:\n    pass\n"), None);
            assert_eq!(
                codes_of(&analysis).is_empty(),
                ok,
                "{signature}: {:?}",
                analysis.diagnostics
            );
        }
    }

    #[test]
    fn an_async_handler_is_an_error_and_keeps_its_facts() {
        let analysis = analyze_text("async def handler(event, context):\n    return event\n", None);
        assert_eq!(codes_of(&analysis), [codes::ASYNC_PYTHON_HANDLER]);
        let handler = analysis.facts.and_then(|facts| facts.handler).expect("handler found");
        assert!(handler.is_async);
        assert_eq!(handler.style, crate::facts::HandlerStyle::Async);
    }

    #[test]
    fn header_values_lower_cased_are_case_insensitive_fields() {
        let analysis = analyze_text(
            "def handler(event, context):\n    req = event['Records'][0]['cf']['request']\n    if req['headers']['Host'][0]['value'].lower() == 'example.com':\n        pass\n",
            None,
        );
        let facts = analysis.facts.expect("parses");
        let comparison = &facts.comparisons[0];
        assert_eq!(comparison.field, "header:host");
        assert!(comparison.case_insensitive);
        assert_eq!(facts.reads[0].field, "header:host");
    }
}
