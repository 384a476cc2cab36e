//! Finding the handler export and deciding how it delivers its result.
//!
//! Invariant: when the handler cannot be found, exactly one `EP0002` explains why and lists
//! the exports that were found.

use std::ops::Range;

use swc_atoms::Atom;
use swc_common::{Span, Spanned};
use swc_ecma_ast::{
    ArrowExpr, ArrowFunctionBody, AssignOp, AssignTarget, CallExpr, Callee, Class, Decl,
    DefaultDecl, ExportSpecifier, Expr, Function, ModuleDecl, ModuleExportName, Pat, Program, Prop,
    PropOrSpread, ReturnStmt, SimpleAssignTarget, Stmt, UnaryOp,
};
use swc_ecma_visit::{noop_visit_type, Visit, VisitWith};

use crate::facts::{ExportForm, HandlerInfo, HandlerStyle};
use super::parse::SourceText;
use super::syntax::{
    as_function, export_name, ident_name, is_member_of, member_prop_name, module_decls, prop_name,
    top_level_stmts, unwrap_expr, FunctionRef, TopLevel,
};
use crate::diagnostic::{codes, Diagnostic};

/// The export name Lambda calls unless told otherwise.
pub(crate) const DEFAULT_HANDLER: &str = "handler";

/// What an export refers to.
#[derive(Clone, Copy)]
enum ExportTarget<'a> {
    Expr(&'a Expr),
    Function(FunctionRef<'a>, Option<&'a Atom>),
    Local(&'a Atom),
    /// A class, a re-export or anything else that is not a function of this file.
    Other,
}

struct Export<'a> {
    name: String,
    form: ExportForm,
    target: ExportTarget<'a>,
    span: Span,
}

/// The handler and the diagnostics about it.
pub(crate) struct HandlerAnalysis<'a> {
    pub(crate) info: Option<HandlerInfo>,
    pub(crate) function: Option<FunctionRef<'a>>,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// Finds the export named `wanted` and analyzes its style.
pub(crate) fn analyze<'a>(
    program: &'a Program,
    source: SourceText<'_>,
    top_level: &TopLevel<'a>,
    wanted: &str,
) -> HandlerAnalysis<'a> {
    let mut exports = Exports::default();
    for stmt in top_level_stmts(program) {
        if let Stmt::Expr(expr) = stmt {
            exports.collect_assignment(&expr.expr);
        }
    }
    for decl in module_decls(program) {
        exports.collect_module_decl(decl);
    }

    let found = exports
        .list
        .iter()
        .rev()
        .find(|export| export.name == wanted && !is_void(export.target));
    let Some(export) = found else {
        let label_span = exports
            .module_exports_span
            .map_or(0..0, |span| source.range(span));
        let mut names: Vec<&str> = Vec::new();
        for export in &exports.list {
            if !names.contains(&export.name.as_str()) {
                names.push(&export.name);
            }
        }
        let help = if names.is_empty() {
            "this file exports nothing; export the handler, e.g. `exports.handler = async (event) => { ... }`".to_owned()
        } else {
            format!(
                "exported names found: {}; pass `--handler NAME` if one of them is the handler",
                names.join(", ")
            )
        };
        let label = if exports.module_exports_span.is_some() {
            "no `handler` in what is assigned here"
        } else {
            "in this file"
        };
        return HandlerAnalysis {
            info: None,
            function: None,
            diagnostics: vec![Diagnostic::error(
                codes::MISSING_HANDLER,
                format!("no export named '{wanted}' was found"),
            )
            .with_label(label_span, label)
            .with_help(help)],
        };
    };

    let resolved = match export.target {
        ExportTarget::Expr(expr) => top_level
            .resolve_function(expr)
            .map(|(function, local)| (function, local.map(|name| name.as_str().to_owned()))),
        ExportTarget::Function(function, local) => {
            Some((function, local.map(|name| name.as_str().to_owned())))
        }
        ExportTarget::Local(name) => top_level
            .functions
            .get(name)
            .map(|function| (*function, Some(name.as_str().to_owned()))),
        ExportTarget::Other => None,
    };
    let Some((function, local_name)) = resolved else {
        return HandlerAnalysis {
            info: None,
            function: None,
            diagnostics: vec![Diagnostic::error(
                codes::MISSING_HANDLER,
                format!("export '{wanted}' is not a function defined in this file"),
            )
            .with_label(source.range(export.span), "exported here")
            .with_help("define the handler in this file as a function, or convert the file that defines it")],
        };
    };

    let params = function.params();
    let style_facts = StyleFinder::run(function, top_level);
    let callback = params
        .get(2)
        .and_then(|param| pat_name(param))
        .is_some_and(|name| uses_name(function, name, false))
        || params
            .get(1)
            .and_then(|param| pat_name(param))
            .is_some_and(|name| uses_name(function, name, true));
    let style = match (function.is_async() || style_facts.returns_promise, callback) {
        (true, true) => HandlerStyle::Both,
        (true, false) => HandlerStyle::Async,
        (false, true) => HandlerStyle::Callback,
        (false, false) => HandlerStyle::Sync,
    };
    let mut diagnostics = Vec::new();
    if style == HandlerStyle::Sync {
        let (span, label) = match style_facts.first_value_return {
            Some(span) => (source.range(span), "this value is ignored"),
            None => (head_range(function, source), "handler defined here"),
        };
        diagnostics.push(
            Diagnostic::warning(
                codes::SYNC_RETURN_IGNORED,
                "handler returns a value without a promise or callback; Lambda ignores it",
            )
            .with_label(span, label)
            .with_help("make the handler `async`, or call `callback(null, result)`"),
        );
    }
    HandlerAnalysis {
        info: Some(HandlerInfo {
            name: wanted.to_owned(),
            local_name,
            export_form: export.form,
            span: source.range(function.span()),
            param_count: params.len(),
            is_async: function.is_async(),
            style,
        }),
        function: Some(function),
        diagnostics,
    }
}

/// The function up to its body: `async function handler(event, context)`.
fn head_range(function: FunctionRef<'_>, source: SourceText<'_>) -> Range<usize> {
    let whole = source.range(function.span());
    let end = function
        .body_start()
        .map_or(whole.end, |body| source.offset(body.lo))
        .clamp(whole.start, whole.end);
    let head = source
        .text()
        .get(whole.start..end)
        .unwrap_or_default()
        .trim_end()
        .trim_end_matches("=>")
        .trim_end();
    whole.start..whole.start + head.len()
}

fn pat_name(pat: &Pat) -> Option<&Atom> {
    match pat {
        Pat::Ident(binding) => Some(&binding.id.sym),
        Pat::Assign(assign) => pat_name(&assign.left),
        _ => None,
    }
}

/// `exports.x = void 0`, which TypeScript emits before the real assignment.
fn is_void(target: ExportTarget<'_>) -> bool {
    matches!(target, ExportTarget::Expr(expr)
        if matches!(unwrap_expr(expr), Expr::Unary(unary) if unary.op == UnaryOp::Void))
}

#[derive(Default)]
struct Exports<'a> {
    list: Vec<Export<'a>>,
    /// The last `module.exports = ...` assignment, where a missing handler is reported.
    module_exports_span: Option<Span>,
}

impl<'a> Exports<'a> {
    fn push(&mut self, name: String, form: ExportForm, target: ExportTarget<'a>, span: Span) {
        self.list.push(Export {
            name,
            form,
            target,
            span,
        });
    }

    /// `exports.a = ...`, `module.exports.a = ...`, `module.exports = {...}`, chained.
    fn collect_assignment(&mut self, expr: &'a Expr) {
        match unwrap_expr(expr) {
            Expr::Seq(seq) => {
                for expr in &seq.exprs {
                    self.collect_assignment(expr);
                }
            }
            Expr::Assign(assign) if assign.op == AssignOp::Assign => {
                let AssignTarget::Simple(SimpleAssignTarget::Member(member)) = &assign.left else {
                    return;
                };
                // In `exports.a = exports.b = value` both exports get the final value.
                let mut value: &Expr = &assign.right;
                while let Expr::Assign(inner) = unwrap_expr(value) {
                    value = &inner.right;
                }
                let object = unwrap_expr(&member.obj);
                let name = member_prop_name(&member.prop);
                if ident_name(object).is_some_and(|name| name == "exports") {
                    if let Some(name) = name {
                        self.push(
                            name,
                            ExportForm::ExportsProperty,
                            ExportTarget::Expr(value),
                            assign.span,
                        );
                    }
                } else if matches!(object, Expr::Member(inner) if is_member_of(inner, "module", "exports"))
                {
                    if let Some(name) = name {
                        self.push(
                            name,
                            ExportForm::ModuleExportsProperty,
                            ExportTarget::Expr(value),
                            assign.span,
                        );
                    }
                } else if is_member_of(member, "module", "exports") {
                    self.collect_object(value, assign.span);
                }
                self.collect_assignment(&assign.right);
            }
            _ => {}
        }
    }

    /// The properties of `module.exports = { ... }` (or `export = { ... }`).
    fn collect_object(&mut self, value: &'a Expr, span: Span) {
        self.module_exports_span = Some(span);
        let Expr::Object(object) = unwrap_expr(value) else {
            return;
        };
        for prop in &object.props {
            let PropOrSpread::Prop(prop) = prop else {
                continue;
            };
            let form = ExportForm::ModuleExportsObject;
            match &**prop {
                Prop::Shorthand(ident) => {
                    self.push(
                        ident.sym.as_str().to_owned(),
                        form,
                        ExportTarget::Local(&ident.sym),
                        span,
                    );
                }
                Prop::KeyValue(key_value) => {
                    if let Some(name) = prop_name(&key_value.key) {
                        self.push(name, form, ExportTarget::Expr(&key_value.value), span);
                    }
                }
                Prop::Method(method) => {
                    if let Some(name) = prop_name(&method.key) {
                        let target =
                            ExportTarget::Function(FunctionRef::Function(&method.function), None);
                        self.push(name, form, target, span);
                    }
                }
                _ => {}
            }
        }
    }

    fn collect_module_decl(&mut self, decl: &'a ModuleDecl) {
        match decl {
            ModuleDecl::ExportDecl(export) => match &export.decl {
                Decl::Fn(function) => {
                    let target = ExportTarget::Function(
                        FunctionRef::Function(&function.function),
                        Some(&function.ident.sym),
                    );
                    self.push(
                        function.ident.sym.as_str().to_owned(),
                        ExportForm::ExportFunction,
                        target,
                        export.span,
                    );
                }
                Decl::Var(var) => {
                    for declarator in &var.decls {
                        let (Pat::Ident(binding), Some(init)) =
                            (&declarator.name, &declarator.init)
                        else {
                            continue;
                        };
                        let target = match as_function(init) {
                            Some(function) => {
                                ExportTarget::Function(function, Some(&binding.id.sym))
                            }
                            None => ExportTarget::Expr(init),
                        };
                        self.push(
                            binding.id.sym.as_str().to_owned(),
                            ExportForm::ExportConst,
                            target,
                            export.span,
                        );
                    }
                }
                Decl::Class(class) => {
                    self.push(
                        class.ident.sym.as_str().to_owned(),
                        ExportForm::ExportConst,
                        ExportTarget::Other,
                        export.span,
                    );
                }
                _ => {}
            },
            ModuleDecl::ExportNamed(named) => {
                for specifier in &named.specifiers {
                    let (name, target) = match specifier {
                        ExportSpecifier::Named(specifier) => {
                            let name =
                                export_name(specifier.exported.as_ref().unwrap_or(&specifier.orig));
                            let target = match (&specifier.orig, &named.src) {
                                (ModuleExportName::Ident(local), None) => {
                                    ExportTarget::Local(&local.sym)
                                }
                                _ => ExportTarget::Other,
                            };
                            (name, target)
                        }
                        ExportSpecifier::Namespace(namespace) => {
                            (export_name(&namespace.name), ExportTarget::Other)
                        }
                        ExportSpecifier::Default(default) => (
                            default.exported.sym.as_str().to_owned(),
                            ExportTarget::Other,
                        ),
                    };
                    self.push(name, ExportForm::ExportSpecifier, target, named.span);
                }
            }
            ModuleDecl::ExportDefaultDecl(export) => {
                let target = match &export.decl {
                    DefaultDecl::Fn(function) => ExportTarget::Function(
                        FunctionRef::Function(&function.function),
                        function.ident.as_ref().map(|ident| &ident.sym),
                    ),
                    _ => ExportTarget::Other,
                };
                self.push(
                    "default".to_owned(),
                    ExportForm::ExportDefault,
                    target,
                    export.span,
                );
            }
            ModuleDecl::ExportDefaultExpr(export) => {
                self.push(
                    "default".to_owned(),
                    ExportForm::ExportDefault,
                    ExportTarget::Expr(&export.expr),
                    export.span,
                );
            }
            ModuleDecl::TsExportAssignment(assignment) => {
                self.collect_object(&assignment.expr, assignment.span)
            }
            _ => {}
        }
    }
}

/// Whether the handler calls `name` (or passes it on), or with `context_methods` calls
/// `name.succeed`, `name.fail` or `name.done`; nested functions count.
fn uses_name(function: FunctionRef<'_>, name: &Atom, context_methods: bool) -> bool {
    let mut finder = NameUse {
        name,
        context_methods,
        found: false,
    };
    match function {
        FunctionRef::Function(function) => function.body.visit_with(&mut finder),
        FunctionRef::Arrow(arrow) => arrow.body.visit_with(&mut finder),
    }
    finder.found
}

struct NameUse<'a> {
    name: &'a Atom,
    context_methods: bool,
    found: bool,
}

impl Visit for NameUse<'_> {
    noop_visit_type!();

    fn visit_call_expr(&mut self, call: &CallExpr) {
        if let Callee::Expr(callee) = &call.callee {
            let callee = unwrap_expr(callee);
            if self.context_methods {
                if let Expr::Member(member) = callee {
                    let is_context = ident_name(&member.obj) == Some(self.name);
                    let method = member_prop_name(&member.prop);
                    if is_context && matches!(method.as_deref(), Some("succeed" | "fail" | "done"))
                    {
                        self.found = true;
                    }
                }
            } else {
                let calls = ident_name(callee) == Some(self.name);
                let passes = call
                    .args
                    .iter()
                    .any(|argument| ident_name(&argument.expr) == Some(self.name));
                if calls || passes {
                    self.found = true;
                }
            }
        }
        call.visit_children_with(self);
    }
}

/// What the handler's own `return` statements (not those of nested functions) return.
struct StyleFinder<'a, 'ast> {
    top_level: &'a TopLevel<'ast>,
    returns_promise: bool,
    first_value_return: Option<Span>,
}

impl<'a, 'ast> StyleFinder<'a, 'ast> {
    fn run(function: FunctionRef<'_>, top_level: &'a TopLevel<'ast>) -> Self {
        let mut finder = Self {
            top_level,
            returns_promise: false,
            first_value_return: None,
        };
        match function {
            FunctionRef::Function(function) => function.body.visit_children_with(&mut finder),
            FunctionRef::Arrow(arrow) => match &*arrow.body {
                ArrowFunctionBody::FunctionBody(block) => block.visit_children_with(&mut finder),
                ArrowFunctionBody::Expr(expr) => finder.returned(expr, expr.span()),
            },
        }
        finder
    }

    fn returned(&mut self, expr: &Expr, span: Span) {
        if self.first_value_return.is_none() {
            self.first_value_return = Some(span);
        }
        if self.is_promise(expr) {
            self.returns_promise = true;
        }
    }

    /// Whether an expression evaluates to a promise, as far as syntax tells.
    fn is_promise(&self, expr: &Expr) -> bool {
        match unwrap_expr(expr) {
            Expr::New(new) => ident_name(&new.callee).is_some_and(|name| name == "Promise"),
            Expr::Call(call) => {
                let Callee::Expr(callee) = &call.callee else {
                    return false;
                };
                match unwrap_expr(callee) {
                    Expr::Member(member) => {
                        ident_name(&member.obj).is_some_and(|name| name == "Promise")
                            || matches!(
                                member_prop_name(&member.prop).as_deref(),
                                Some("then" | "catch" | "finally")
                            )
                    }
                    Expr::Ident(ident) => self
                        .top_level
                        .functions
                        .get(&ident.sym)
                        .is_some_and(|function| function.is_async()),
                    _ => false,
                }
            }
            Expr::Cond(cond) => self.is_promise(&cond.cons) || self.is_promise(&cond.alt),
            Expr::Seq(seq) => seq.exprs.last().is_some_and(|last| self.is_promise(last)),
            _ => false,
        }
    }
}

impl Visit for StyleFinder<'_, '_> {
    noop_visit_type!();

    fn visit_function(&mut self, _function: &Function) {}

    fn visit_arrow_expr(&mut self, _arrow: &ArrowExpr) {}

    fn visit_class(&mut self, _class: &Class) {}

    fn visit_return_stmt(&mut self, stmt: &ReturnStmt) {
        if let Some(argument) = &stmt.arg {
            self.returned(argument, stmt.span);
        }
    }
}
