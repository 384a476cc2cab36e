//! Finding the handler: a module-level function Lambda calls as `handler(event, context)`.
//!
//! Invariant: when the handler cannot be found, exactly one `EP0002` explains why and names
//! the candidates tried and the module-level functions found.

use std::ops::Range;

use rustpython_parser::ast::{Arguments, Expr, Ranged, Stmt};

use super::syntax::{module_level, name_of, span};
use crate::diagnostic::{codes, Diagnostic};
use crate::facts::{ExportForm, HandlerInfo, HandlerStyle};

/// The names tried, in order, when no `--handler` is given.
pub const DEFAULT_HANDLERS: &[&str] = &["lambda_handler", "handler", "main"];

/// The handler or a helper, as the other passes see it: its parameters.
#[derive(Clone, Copy)]
pub(crate) struct FunctionRef<'a> {
    args: &'a Arguments,
}

impl<'a> FunctionRef<'a> {
    pub(crate) fn args(self) -> &'a Arguments {
        self.args
    }

    /// The names of the positional parameters, in order.
    pub(crate) fn positional_names(self) -> Vec<&'a str> {
        let args = self.args();
        args.posonlyargs
            .iter()
            .chain(&args.args)
            .map(|argument| argument.def.arg.as_str())
            .collect()
    }
}

/// What a module-level name is bound to.
#[derive(Clone)]
enum Binding<'a> {
    Def {
        name: &'a str,
        function: FunctionRef<'a>,
        is_async: bool,
        range: Range<usize>,
        head: Range<usize>,
    },
    /// `name = lambda ...`
    Lambda(FunctionRef<'a>, Range<usize>),
    /// `name = other_name`
    Alias(&'a str, Range<usize>),
    /// Anything else: a class, a call's result, a constant.
    Other(Range<usize>),
}

/// The module-level names and what they are bound to last.
pub(crate) struct TopLevel<'a> {
    bindings: Vec<(&'a str, Binding<'a>)>,
}

impl<'a> TopLevel<'a> {
    pub(crate) fn new(body: &'a [Stmt], text: &str) -> Self {
        let mut bindings = Vec::new();
        for stmt in module_level(body) {
            match stmt {
                Stmt::FunctionDef(def) => bindings.push((
                    def.name.as_str(),
                    Binding::Def {
                        name: def.name.as_str(),
                        function: FunctionRef { args: &def.args },
                        is_async: false,
                        range: span(stmt),
                        head: head_range(text, span(stmt), def.body.first()),
                    },
                )),
                Stmt::AsyncFunctionDef(def) => bindings.push((
                    def.name.as_str(),
                    Binding::Def {
                        name: def.name.as_str(),
                        function: FunctionRef { args: &def.args },
                        is_async: true,
                        range: span(stmt),
                        head: head_range(text, span(stmt), def.body.first()),
                    },
                )),
                Stmt::ClassDef(class) => {
                    bindings.push((class.name.as_str(), Binding::Other(span(stmt))));
                }
                Stmt::Assign(assign) => {
                    let binding = match &*assign.value {
                        Expr::Lambda(lambda) => {
                            Binding::Lambda(FunctionRef { args: &lambda.args }, span(stmt))
                        }
                        Expr::Name(name) => Binding::Alias(name.id.as_str(), span(stmt)),
                        _ => Binding::Other(span(stmt)),
                    };
                    for target in &assign.targets {
                        if let Some(name) = name_of(target) {
                            bindings.push((name, binding.clone()));
                        }
                    }
                }
                _ => {}
            }
        }
        TopLevel { bindings }
    }

    fn last(&self, name: &str) -> Option<&Binding<'a>> {
        self.bindings
            .iter()
            .rev()
            .find(|(bound, _)| *bound == name)
            .map(|(_, binding)| binding)
    }

    /// The module-level function (a `def`) bound to `name`, following no aliases.
    pub(crate) fn function(&self, name: &str) -> Option<FunctionRef<'a>> {
        match self.last(name)? {
            Binding::Def { function, .. } | Binding::Lambda(function, _) => Some(*function),
            _ => None,
        }
    }

    /// The names bound to functions, in source order, each once.
    fn function_names(&self) -> Vec<&'a str> {
        let mut names: Vec<&str> = Vec::new();
        for (name, binding) in &self.bindings {
            let is_function = matches!(binding, Binding::Def { .. } | Binding::Lambda(..));
            if is_function && !names.contains(name) {
                names.push(name);
            }
        }
        names
    }
}

/// The start of a `def` up to its colon: `def handler(event, context)`.
fn head_range(text: &str, whole: Range<usize>, first: Option<&Stmt>) -> Range<usize> {
    let end = first
        .map_or(whole.end, |stmt| usize::from(stmt.start()))
        .clamp(whole.start, whole.end);
    let head = text
        .get(whole.start..end)
        .and_then(|head| head.rfind(':').map(|colon| &head[..colon]))
        .unwrap_or_default()
        .trim_end();
    whole.start..whole.start + head.len()
}

/// The handler and the diagnostics about it.
pub(crate) struct HandlerAnalysis<'a> {
    pub(crate) info: Option<HandlerInfo>,
    pub(crate) function: Option<FunctionRef<'a>>,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// Finds the handler: `wanted` (`index.handler` names `handler`), or else the first of
/// [`DEFAULT_HANDLERS`] bound at module level.
pub(crate) fn analyze<'a>(top_level: &TopLevel<'a>, wanted: Option<&str>) -> HandlerAnalysis<'a> {
    let wanted = wanted.map(|name| name.rsplit('.').next().unwrap_or(name));
    let found = match wanted {
        Some(name) => top_level.last(name).map(|binding| (name, binding.clone())),
        None => DEFAULT_HANDLERS
            .iter()
            .find_map(|name| top_level.last(name).map(|binding| (*name, binding.clone()))),
    };
    let Some((name, binding)) = found else {
        return missing(top_level, wanted);
    };
    let (form, resolved) = match binding {
        Binding::Def { .. } => (ExportForm::ModuleFunction, Some(binding.clone())),
        Binding::Lambda(..) => (ExportForm::ModuleAssignment, Some(binding.clone())),
        Binding::Alias(target, _) => (
            ExportForm::ModuleAssignment,
            top_level
                .last(target)
                .filter(|binding| matches!(binding, Binding::Def { .. } | Binding::Lambda(..)))
                .cloned(),
        ),
        Binding::Other(_) => (ExportForm::ModuleAssignment, None),
    };
    let Some(resolved) = resolved else {
        let range = match &binding {
            Binding::Alias(_, range) | Binding::Other(range) => range.clone(),
            Binding::Def { range, .. } | Binding::Lambda(_, range) => range.clone(),
        };
        return HandlerAnalysis {
            info: None,
            function: None,
            diagnostics: vec![Diagnostic::error(
                codes::MISSING_HANDLER,
                format!("'{name}' is not a function defined in this file"),
            )
            .with_label(range, "bound here")
            .with_help(
                "define the handler in this file with `def`, or convert the file that defines it",
            )],
        };
    };
    let (function, local_name, is_async, range, head) = match resolved {
        Binding::Def {
            name,
            function,
            is_async,
            range,
            head,
        } => (function, Some(name.to_owned()), is_async, range, head),
        Binding::Lambda(function, range) => (function, None, false, range.clone(), range),
        Binding::Alias(..) | Binding::Other(_) => return missing(top_level, wanted),
    };
    let mut diagnostics = Vec::new();
    if is_async {
        diagnostics.push(
            Diagnostic::error(
                codes::ASYNC_PYTHON_HANDLER,
                "the handler is `async def`; Lambda's Python runtime does not await it",
            )
            .with_label(head.clone(), "declared async here")
            .with_help("make the handler a plain `def` and run coroutines with `asyncio.run(...)` inside it"),
        );
    }
    if let Some(problem) = signature_problem(function.args()) {
        diagnostics.push(
            Diagnostic::warning(
                codes::HANDLER_SIGNATURE,
                format!("the handler cannot be called as `{name}(event, context)`: {problem}"),
            )
            .with_label(head, "every invocation raises TypeError")
            .with_help(format!("declare it as `def {name}(event, context):`")),
        );
    }
    let args = function.args();
    HandlerAnalysis {
        info: Some(HandlerInfo {
            name: name.to_owned(),
            local_name,
            export_form: form,
            span: range,
            param_count: args.posonlyargs.len() + args.args.len(),
            is_async,
            style: if is_async {
                HandlerStyle::Async
            } else {
                HandlerStyle::Sync
            },
        }),
        function: Some(function),
        diagnostics,
    }
}

/// Why a function cannot be called with two positional arguments, if it cannot.
fn signature_problem(args: &Arguments) -> Option<String> {
    let positional: Vec<_> = args.posonlyargs.iter().chain(&args.args).collect();
    let required = positional
        .iter()
        .filter(|argument| argument.default.is_none())
        .count();
    if positional.len() < 2 && args.vararg.is_none() {
        return Some(format!(
            "it takes {} positional parameter{}",
            positional.len(),
            if positional.len() == 1 { "" } else { "s" }
        ));
    }
    if required > 2 {
        return Some(format!("it requires {required} positional parameters"));
    }
    args.kwonlyargs
        .iter()
        .find(|argument| argument.default.is_none())
        .map(|argument| {
            format!(
                "the keyword-only parameter '{}' has no default",
                argument.def.arg.as_str()
            )
        })
}

fn missing<'a>(top_level: &TopLevel<'a>, wanted: Option<&str>) -> HandlerAnalysis<'a> {
    let functions = top_level.function_names();
    let tried = match wanted {
        Some(name) => format!("'{name}'"),
        None => DEFAULT_HANDLERS
            .iter()
            .map(|name| format!("'{name}'"))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let found = if functions.is_empty() {
        "this file defines no module-level function".to_owned()
    } else {
        format!("module-level functions found: {}", functions.join(", "))
    };
    let message = match wanted {
        Some(name) => format!("no module-level function named '{name}' was found"),
        None => format!("no handler was found; tried {tried}"),
    };
    HandlerAnalysis {
        info: None,
        function: None,
        diagnostics: vec![Diagnostic::error(codes::MISSING_HANDLER, message)
            .with_label(0..0, "in this file")
            .with_help(format!(
                "{found}; pass `--handler NAME` to name the handler"
            ))],
    }
}
