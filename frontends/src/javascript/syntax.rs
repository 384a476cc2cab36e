//! Small questions about syntax trees that several analyses ask: what string a literal holds,
//! which names a pattern binds, what a module's top-level statements declare.

use std::collections::HashMap;

use swc_atoms::Atom;
use swc_common::{Span, Spanned};
use swc_ecma_ast::{
    ArrowExpr, ArrowFunctionBody, CallExpr, Callee, Decl, Expr, Function, Lit, MemberExpr,
    MemberProp, ModuleDecl, ModuleExportName, ModuleItem, OptChainBase, Pat, Program, PropName,
    Stmt, Str,
};

/// A function-like node: a function (declaration, expression or method) or an arrow.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FunctionRef<'a> {
    Function(&'a Function),
    Arrow(&'a ArrowExpr),
}

impl<'a> FunctionRef<'a> {
    pub(crate) fn span(self) -> Span {
        match self {
            Self::Function(function) => function.span,
            Self::Arrow(arrow) => arrow.span,
        }
    }

    pub(crate) fn is_async(self) -> bool {
        match self {
            Self::Function(function) => function.is_async,
            Self::Arrow(arrow) => arrow.is_async,
        }
    }

    pub(crate) fn params(self) -> Vec<&'a Pat> {
        match self {
            Self::Function(function) => function.params.iter().map(|param| &param.pat).collect(),
            Self::Arrow(arrow) => arrow.params.iter().collect(),
        }
    }

    /// Visits the whole function, parameters and body.
    pub(crate) fn visit_with<V: swc_ecma_visit::Visit>(self, visitor: &mut V) {
        match self {
            Self::Function(function) => swc_ecma_visit::VisitWith::visit_with(function, visitor),
            Self::Arrow(arrow) => swc_ecma_visit::VisitWith::visit_with(arrow, visitor),
        }
    }

    /// Where the body starts, to label the head of a function without its body.
    pub(crate) fn body_start(self) -> Option<Span> {
        match self {
            Self::Function(function) => function.body.as_ref().map(|body| body.span),
            Self::Arrow(arrow) => Some(match &*arrow.body {
                ArrowFunctionBody::FunctionBody(block) => block.span,
                ArrowFunctionBody::Expr(expr) => expr.span(),
            }),
        }
    }
}

/// Looks through parentheses and TypeScript-only wrappers (`as`, `!`, `satisfies`, `<T>x`).
pub(crate) fn unwrap_expr(mut expr: &Expr) -> &Expr {
    loop {
        expr = match expr {
            Expr::Paren(paren) => &paren.expr,
            Expr::TsAs(inner) => &inner.expr,
            Expr::TsNonNull(inner) => &inner.expr,
            Expr::TsSatisfies(inner) => &inner.expr,
            Expr::TsTypeAssertion(inner) => &inner.expr,
            Expr::TsConstAssertion(inner) => &inner.expr,
            _ => return expr,
        };
    }
}

/// The member expression an expression is, including the optional kind (`a?.b`).
pub(crate) fn as_member(expr: &Expr) -> Option<&MemberExpr> {
    match unwrap_expr(expr) {
        Expr::Member(member) => Some(member),
        Expr::OptChain(chain) => match &*chain.base {
            OptChainBase::Member(member) => Some(member),
            OptChainBase::Call(_) => None,
        },
        _ => None,
    }
}

/// The value of a string literal or of a template literal without substitutions.
pub(crate) fn string_value(expr: &Expr) -> Option<String> {
    match unwrap_expr(expr) {
        Expr::Lit(Lit::Str(string)) => Some(str_value(string)),
        Expr::Tpl(template) if template.exprs.is_empty() => {
            template.quasis.first().map(|quasi| match &quasi.cooked {
                Some(cooked) => cooked.to_atom_lossy().as_str().to_owned(),
                None => quasi.raw.as_str().to_owned(),
            })
        }
        _ => None,
    }
}

/// Whether an expression is a literal whose value is known without running anything.
pub(crate) fn is_literal(expr: &Expr) -> bool {
    matches!(unwrap_expr(expr), Expr::Lit(_)) || string_value(expr).is_some()
}

/// The identifier an expression names, looking through parentheses.
pub(crate) fn ident_name(expr: &Expr) -> Option<&Atom> {
    match unwrap_expr(expr) {
        Expr::Ident(ident) => Some(&ident.sym),
        _ => None,
    }
}

/// The statically known name of a member property: `a.b`, `a['b']`, `a[0]`.
pub(crate) fn member_prop_name(prop: &MemberProp) -> Option<String> {
    match prop {
        MemberProp::Ident(ident) => Some(ident.sym.as_str().to_owned()),
        MemberProp::Computed(computed) => match unwrap_expr(&computed.expr) {
            Expr::Lit(Lit::Num(number)) => Some(number.value.to_string()),
            other => string_value(other),
        },
        _ => None,
    }
}

/// Whether `member` is `object.name` where `object` is the identifier `object_name`.
pub(crate) fn is_member_of(member: &MemberExpr, object_name: &str, name: &str) -> bool {
    ident_name(&member.obj).is_some_and(|object| object == object_name)
        && member_prop_name(&member.prop).as_deref() == Some(name)
}

/// The statically known name of an object key.
pub(crate) fn prop_name(key: &PropName) -> Option<String> {
    match key {
        PropName::Ident(ident) => Some(ident.sym.as_str().to_owned()),
        PropName::Str(string) => Some(str_value(string)),
        PropName::Num(number) => Some(number.value.to_string()),
        PropName::Computed(computed) => string_value(&computed.expr),
        _ => None,
    }
}

/// The text of a module export name (`a` or `"a-b"`).
pub(crate) fn export_name(name: &ModuleExportName) -> String {
    match name {
        ModuleExportName::Ident(ident) => ident.sym.as_str().to_owned(),
        ModuleExportName::Str(string) => str_value(string),
    }
}

/// The specifier of `require('x')`.
pub(crate) fn require_specifier(expr: &Expr) -> Option<String> {
    match unwrap_expr(expr) {
        Expr::Call(call) => require_call_specifier(call),
        _ => None,
    }
}

/// The specifier of a `require('x')` call.
pub(crate) fn require_call_specifier(call: &CallExpr) -> Option<String> {
    let Callee::Expr(callee) = &call.callee else {
        return None;
    };
    if ident_name(callee).map(Atom::as_str) != Some("require") || call.args.len() != 1 {
        return None;
    }
    let argument = call.args.first()?;
    if argument.spread.is_some() {
        return None;
    }
    string_value(&argument.expr)
}

/// The value of a string literal node.
pub(crate) fn str_value(string: &Str) -> String {
    string.value.to_atom_lossy().as_str().to_owned()
}

/// Every identifier a pattern binds, with its span.
pub(crate) fn bound_names(pat: &Pat) -> Vec<(Atom, Span)> {
    let mut names = Vec::new();
    collect_bound_names(pat, &mut names);
    names
}

fn collect_bound_names(pat: &Pat, names: &mut Vec<(Atom, Span)>) {
    match pat {
        Pat::Ident(binding) => names.push((binding.id.sym.clone(), binding.id.span)),
        Pat::Array(array) => {
            for element in array.elems.iter().flatten() {
                collect_bound_names(element, names);
            }
        }
        Pat::Rest(rest) => collect_bound_names(&rest.arg, names),
        Pat::Object(object) => {
            for prop in &object.props {
                match prop {
                    swc_ecma_ast::ObjectPatProp::KeyValue(key_value) => {
                        collect_bound_names(&key_value.value, names);
                    }
                    swc_ecma_ast::ObjectPatProp::Assign(assign) => {
                        names.push((assign.key.id.sym.clone(), assign.key.id.span));
                    }
                    swc_ecma_ast::ObjectPatProp::Rest(rest) => {
                        collect_bound_names(&rest.arg, names)
                    }
                }
            }
        }
        Pat::Assign(assign) => collect_bound_names(&assign.left, names),
        _ => {}
    }
}

/// A function-valued expression: a function or arrow expression.
pub(crate) fn as_function(expr: &Expr) -> Option<FunctionRef<'_>> {
    match unwrap_expr(expr) {
        Expr::Fn(function) => Some(FunctionRef::Function(&function.function)),
        Expr::Arrow(arrow) => Some(FunctionRef::Arrow(arrow)),
        _ => None,
    }
}

/// What the top-level statements of a program declare, by name.
#[derive(Debug, Default)]
pub(crate) struct TopLevel<'a> {
    pub(crate) functions: HashMap<Atom, FunctionRef<'a>>,
    /// Initializers of variables with a plain identifier name.
    pub(crate) vars: HashMap<Atom, &'a Expr>,
}

impl<'a> TopLevel<'a> {
    pub(crate) fn new(program: &'a Program) -> Self {
        let mut top_level = Self::default();
        for stmt in top_level_stmts(program) {
            if let Stmt::Decl(decl) = stmt {
                top_level.add_decl(decl);
            }
        }
        for item in module_decls(program) {
            if let ModuleDecl::ExportDecl(export) = item {
                top_level.add_decl(&export.decl);
            }
        }
        top_level
    }

    fn add_decl(&mut self, decl: &'a Decl) {
        match decl {
            Decl::Fn(function) if function.function.body.is_some() => {
                self.functions.insert(
                    function.ident.sym.clone(),
                    FunctionRef::Function(&function.function),
                );
            }
            Decl::Var(var) if !var.declare => {
                for declarator in &var.decls {
                    if let (Pat::Ident(binding), Some(init)) =
                        (&declarator.name, declarator.init.as_deref())
                    {
                        self.vars.insert(binding.id.sym.clone(), init);
                        if let Some(function) = as_function(init) {
                            self.functions.insert(binding.id.sym.clone(), function);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// Follows identifiers to the function they name, a few steps deep.
    pub(crate) fn resolve_function(
        &self,
        expr: &'a Expr,
    ) -> Option<(FunctionRef<'a>, Option<Atom>)> {
        let mut expr = expr;
        let mut local = None;
        for _ in 0..8 {
            if let Some(function) = as_function(expr) {
                return Some((function, local));
            }
            let name = ident_name(expr)?;
            if let Some(function) = self.functions.get(name) {
                return Some((*function, Some(name.clone())));
            }
            local = Some(name.clone());
            expr = self.vars.get(name)?;
        }
        None
    }
}

/// The statements at the top level of a program, whether script or module.
pub(crate) fn top_level_stmts(program: &Program) -> impl Iterator<Item = &Stmt> {
    let (script, module) = match program {
        Program::Script(script) => (Some(script.body.iter()), None),
        Program::Module(module) => (None, Some(module.body.iter())),
    };
    script
        .into_iter()
        .flatten()
        .chain(module.into_iter().flatten().filter_map(|item| match item {
            ModuleItem::Stmt(stmt) => Some(stmt),
            _ => None,
        }))
}

/// The import and export declarations of a module.
pub(crate) fn module_decls(program: &Program) -> impl Iterator<Item = &ModuleDecl> {
    let body = match program {
        Program::Module(module) => Some(module.body.iter()),
        _ => None,
    };
    body.into_iter().flatten().filter_map(|item| match item {
        ModuleItem::ModuleDecl(decl) => Some(decl),
        _ => None,
    })
}

/// Implements `visit_function`, `visit_arrow_expr` and `visit_constructor` for a visitor with a
/// `function_depth` field, so that it can tell module-level code from code in functions. An
/// optional method name is called with each `Function` before its children are visited.
macro_rules! track_function_depth {
    ($($enter_function:ident)?) => {
        fn visit_function(&mut self, function: &swc_ecma_ast::Function) {
            $(self.$enter_function(function);)?
            self.function_depth += 1;
            swc_ecma_visit::VisitWith::visit_children_with(function, self);
            self.function_depth -= 1;
        }

        fn visit_arrow_expr(&mut self, arrow: &swc_ecma_ast::ArrowExpr) {
            self.function_depth += 1;
            swc_ecma_visit::VisitWith::visit_children_with(arrow, self);
            self.function_depth -= 1;
        }

        fn visit_constructor(&mut self, constructor: &swc_ecma_ast::Constructor) {
            self.function_depth += 1;
            swc_ecma_visit::VisitWith::visit_children_with(constructor, self);
            self.function_depth -= 1;
        }
    };
}

pub(crate) use track_function_depth;
