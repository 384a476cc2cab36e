//! Walking the Python syntax tree, and small questions about its nodes: the byte range of a
//! node, the string a literal holds, the dotted name an expression refers to.
//!
//! `rustpython-parser` is built without its visitor, so [`Visit`] is the walker every pass
//! shares: override `visit_stmt`/`visit_expr`, and call [`walk_stmt`]/[`walk_expr`] to go on.

use std::collections::HashMap;
use std::ops::Range;

use rustpython_parser::ast::{self, Constant, ExceptHandler, Expr, Pattern, Ranged, Stmt};
use rustpython_parser::text_size::TextRange;

/// How many attribute accesses a dotted name may have (`a.b.c.d`); longer chains name no
/// module function edgeport knows.
const MAX_DOTTED_PARTS: usize = 8;

/// The byte range of a node in the original text.
pub(crate) fn span(node: &impl Ranged) -> Range<usize> {
    to_range(node.range())
}

/// Converts a parser range to a byte range.
pub(crate) fn to_range(range: TextRange) -> Range<usize> {
    usize::from(range.start())..usize::from(range.end())
}

/// The value of a string literal (adjacent literals are already joined by the parser).
pub(crate) fn string_value(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Constant(constant) => match &constant.value {
            Constant::Str(value) => Some(value),
            _ => None,
        },
        _ => None,
    }
}

/// Whether an expression is an integer literal, possibly negated (`0`, `-1`).
pub(crate) fn is_int_literal(expr: &Expr) -> bool {
    match expr {
        Expr::Constant(constant) => matches!(constant.value, Constant::Int(_)),
        Expr::UnaryOp(unary) => is_int_literal(&unary.operand),
        _ => false,
    }
}

/// The identifier a `Name` expression holds.
pub(crate) fn name_of(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Name(name) => Some(name.id.as_str()),
        _ => None,
    }
}

/// The statements that run when the module loads: the top level, and the bodies of top-level
/// `if`, `try` and `with` blocks (`try: import x` / `except ImportError: ...`).
pub(crate) fn module_level(body: &[Stmt]) -> Vec<&Stmt> {
    let mut out = Vec::new();
    let mut stack: Vec<&Stmt> = body.iter().rev().collect();
    while let Some(stmt) = stack.pop() {
        out.push(stmt);
        let nested: Vec<&[Stmt]> = match stmt {
            Stmt::If(block) => vec![&block.body, &block.orelse],
            Stmt::Try(block) => {
                let mut bodies: Vec<&[Stmt]> = vec![&block.body, &block.orelse, &block.finalbody];
                bodies.extend(handler_bodies(&block.handlers));
                bodies
            }
            Stmt::TryStar(block) => {
                let mut bodies: Vec<&[Stmt]> = vec![&block.body, &block.orelse, &block.finalbody];
                bodies.extend(handler_bodies(&block.handlers));
                bodies
            }
            Stmt::With(block) => vec![&block.body],
            _ => Vec::new(),
        };
        for body in nested.into_iter().rev() {
            stack.extend(body.iter().rev());
        }
    }
    out
}

fn handler_bodies(handlers: &[ExceptHandler]) -> impl Iterator<Item = &[Stmt]> {
    handlers.iter().map(|handler| match handler {
        ExceptHandler::ExceptHandler(handler) => handler.body.as_slice(),
    })
}

/// The local names imports bind, each to the dotted name it stands for: `import os.path`
/// binds `os` to `os`, `import numpy as np` binds `np` to `numpy`, `from os import environ`
/// binds `environ` to `os.environ`. Names are tracked without scopes.
#[derive(Debug, Default)]
pub(crate) struct ImportBindings {
    names: HashMap<String, String>,
}

impl ImportBindings {
    /// Binds `local` to the dotted name `target`; a later import of the same name wins.
    pub(crate) fn bind(&mut self, local: &str, target: String) {
        self.names.insert(local.to_owned(), target);
    }

    /// The dotted name an expression refers to, with imported names resolved:
    /// `datetime.now` is `datetime.datetime.now` after `from datetime import datetime`. A
    /// name no import binds stands for itself (`open`).
    pub(crate) fn qualified_name(&self, expr: &Expr) -> Option<String> {
        let mut parts = Vec::new();
        let mut current = expr;
        loop {
            match current {
                Expr::Attribute(attribute) => {
                    if parts.len() == MAX_DOTTED_PARTS {
                        return None;
                    }
                    parts.push(attribute.attr.as_str());
                    current = &attribute.value;
                }
                Expr::Name(name) => {
                    let root = self
                        .names
                        .get(name.id.as_str())
                        .map_or(name.id.as_str(), String::as_str);
                    let mut dotted = root.to_owned();
                    for part in parts.iter().rev() {
                        dotted.push('.');
                        dotted.push_str(part);
                    }
                    return Some(dotted);
                }
                _ => return None,
            }
        }
    }
}

/// The dotted name of a call's callee.
pub(crate) fn callee_name(bindings: &ImportBindings, call: &ast::ExprCall) -> Option<String> {
    bindings.qualified_name(&call.func)
}

/// The argument at `position`, or the keyword argument `keyword`.
pub(crate) fn argument<'a>(
    call: &'a ast::ExprCall,
    position: usize,
    keyword: &str,
) -> Option<&'a Expr> {
    call.args
        .get(position)
        .filter(|argument| !matches!(argument, Expr::Starred(_)))
        .or_else(|| {
            call.keywords
                .iter()
                .find(|candidate| {
                    candidate
                        .arg
                        .as_ref()
                        .is_some_and(|arg| arg.as_str() == keyword)
                })
                .map(|candidate| &candidate.value)
        })
}

/// A walk over the syntax tree; each method's default goes on to the children.
pub(crate) trait Visit: Sized {
    fn visit_stmt(&mut self, stmt: &Stmt) {
        walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &Expr) {
        walk_expr(self, expr);
    }

    fn visit_body(&mut self, body: &[Stmt]) {
        for stmt in body {
            self.visit_stmt(stmt);
        }
    }
}

fn visit_exprs<'a, V: Visit>(visitor: &mut V, exprs: impl IntoIterator<Item = &'a Expr>) {
    for expr in exprs {
        visitor.visit_expr(expr);
    }
}

fn walk_arguments<V: Visit>(visitor: &mut V, arguments: &ast::Arguments) {
    let with_defaults = arguments
        .posonlyargs
        .iter()
        .chain(&arguments.args)
        .chain(&arguments.kwonlyargs);
    for argument in with_defaults {
        if let Some(annotation) = &argument.def.annotation {
            visitor.visit_expr(annotation);
        }
        if let Some(default) = &argument.default {
            visitor.visit_expr(default);
        }
    }
    for argument in arguments.vararg.iter().chain(&arguments.kwarg) {
        if let Some(annotation) = &argument.annotation {
            visitor.visit_expr(annotation);
        }
    }
}

/// Visits the children of a statement.
pub(crate) fn walk_stmt<V: Visit>(visitor: &mut V, stmt: &Stmt) {
    match stmt {
        Stmt::FunctionDef(def) => {
            visit_exprs(visitor, &def.decorator_list);
            walk_arguments(visitor, &def.args);
            visit_exprs(visitor, def.returns.as_deref());
            visitor.visit_body(&def.body);
        }
        Stmt::AsyncFunctionDef(def) => {
            visit_exprs(visitor, &def.decorator_list);
            walk_arguments(visitor, &def.args);
            visit_exprs(visitor, def.returns.as_deref());
            visitor.visit_body(&def.body);
        }
        Stmt::ClassDef(class) => {
            visit_exprs(visitor, &class.decorator_list);
            visit_exprs(visitor, &class.bases);
            visit_exprs(visitor, class.keywords.iter().map(|keyword| &keyword.value));
            visitor.visit_body(&class.body);
        }
        Stmt::Return(ret) => visit_exprs(visitor, ret.value.as_deref()),
        Stmt::Delete(delete) => visit_exprs(visitor, &delete.targets),
        Stmt::Assign(assign) => {
            visitor.visit_expr(&assign.value);
            visit_exprs(visitor, &assign.targets);
        }
        Stmt::TypeAlias(alias) => visitor.visit_expr(&alias.value),
        Stmt::AugAssign(assign) => {
            visitor.visit_expr(&assign.value);
            visitor.visit_expr(&assign.target);
        }
        Stmt::AnnAssign(assign) => {
            visit_exprs(visitor, assign.value.as_deref());
            visitor.visit_expr(&assign.annotation);
            visitor.visit_expr(&assign.target);
        }
        Stmt::For(for_stmt) => {
            visitor.visit_expr(&for_stmt.iter);
            visitor.visit_expr(&for_stmt.target);
            visitor.visit_body(&for_stmt.body);
            visitor.visit_body(&for_stmt.orelse);
        }
        Stmt::AsyncFor(for_stmt) => {
            visitor.visit_expr(&for_stmt.iter);
            visitor.visit_expr(&for_stmt.target);
            visitor.visit_body(&for_stmt.body);
            visitor.visit_body(&for_stmt.orelse);
        }
        Stmt::While(while_stmt) => {
            visitor.visit_expr(&while_stmt.test);
            visitor.visit_body(&while_stmt.body);
            visitor.visit_body(&while_stmt.orelse);
        }
        Stmt::If(if_stmt) => {
            visitor.visit_expr(&if_stmt.test);
            visitor.visit_body(&if_stmt.body);
            visitor.visit_body(&if_stmt.orelse);
        }
        Stmt::With(with) => {
            for item in &with.items {
                visitor.visit_expr(&item.context_expr);
                visit_exprs(visitor, item.optional_vars.as_deref());
            }
            visitor.visit_body(&with.body);
        }
        Stmt::AsyncWith(with) => {
            for item in &with.items {
                visitor.visit_expr(&item.context_expr);
                visit_exprs(visitor, item.optional_vars.as_deref());
            }
            visitor.visit_body(&with.body);
        }
        Stmt::Match(match_stmt) => {
            visitor.visit_expr(&match_stmt.subject);
            for case in &match_stmt.cases {
                walk_pattern(visitor, &case.pattern);
                visit_exprs(visitor, case.guard.as_deref());
                visitor.visit_body(&case.body);
            }
        }
        Stmt::Raise(raise) => {
            visit_exprs(visitor, raise.exc.as_deref());
            visit_exprs(visitor, raise.cause.as_deref());
        }
        Stmt::Try(try_stmt) => {
            visitor.visit_body(&try_stmt.body);
            walk_handlers(visitor, &try_stmt.handlers);
            visitor.visit_body(&try_stmt.orelse);
            visitor.visit_body(&try_stmt.finalbody);
        }
        Stmt::TryStar(try_stmt) => {
            visitor.visit_body(&try_stmt.body);
            walk_handlers(visitor, &try_stmt.handlers);
            visitor.visit_body(&try_stmt.orelse);
            visitor.visit_body(&try_stmt.finalbody);
        }
        Stmt::Assert(assert) => {
            visitor.visit_expr(&assert.test);
            visit_exprs(visitor, assert.msg.as_deref());
        }
        Stmt::Expr(expr) => visitor.visit_expr(&expr.value),
        Stmt::Import(_)
        | Stmt::ImportFrom(_)
        | Stmt::Global(_)
        | Stmt::Nonlocal(_)
        | Stmt::Pass(_)
        | Stmt::Break(_)
        | Stmt::Continue(_) => {}
    }
}

fn walk_handlers<V: Visit>(visitor: &mut V, handlers: &[ExceptHandler]) {
    for ExceptHandler::ExceptHandler(handler) in handlers {
        visit_exprs(visitor, handler.type_.as_deref());
        visitor.visit_body(&handler.body);
    }
}

/// Visits the expressions inside a `case` pattern.
pub(crate) fn walk_pattern<V: Visit>(visitor: &mut V, pattern: &Pattern) {
    match pattern {
        Pattern::MatchValue(value) => visitor.visit_expr(&value.value),
        Pattern::MatchSingleton(_) | Pattern::MatchStar(_) => {}
        Pattern::MatchSequence(sequence) => {
            for pattern in &sequence.patterns {
                walk_pattern(visitor, pattern);
            }
        }
        Pattern::MatchMapping(mapping) => {
            visit_exprs(visitor, &mapping.keys);
            for pattern in &mapping.patterns {
                walk_pattern(visitor, pattern);
            }
        }
        Pattern::MatchClass(class) => {
            visitor.visit_expr(&class.cls);
            for pattern in class.patterns.iter().chain(&class.kwd_patterns) {
                walk_pattern(visitor, pattern);
            }
        }
        Pattern::MatchAs(pattern_as) => {
            if let Some(pattern) = &pattern_as.pattern {
                walk_pattern(visitor, pattern);
            }
        }
        Pattern::MatchOr(or) => {
            for pattern in &or.patterns {
                walk_pattern(visitor, pattern);
            }
        }
    }
}

fn walk_comprehensions<V: Visit>(visitor: &mut V, generators: &[ast::Comprehension]) {
    for generator in generators {
        visitor.visit_expr(&generator.iter);
        visitor.visit_expr(&generator.target);
        visit_exprs(visitor, &generator.ifs);
    }
}

/// Visits the children of an expression.
pub(crate) fn walk_expr<V: Visit>(visitor: &mut V, expr: &Expr) {
    match expr {
        Expr::BoolOp(bool_op) => visit_exprs(visitor, &bool_op.values),
        Expr::NamedExpr(named) => {
            visitor.visit_expr(&named.value);
            visitor.visit_expr(&named.target);
        }
        Expr::BinOp(bin_op) => {
            visitor.visit_expr(&bin_op.left);
            visitor.visit_expr(&bin_op.right);
        }
        Expr::UnaryOp(unary) => visitor.visit_expr(&unary.operand),
        Expr::Lambda(lambda) => {
            walk_arguments(visitor, &lambda.args);
            visitor.visit_expr(&lambda.body);
        }
        Expr::IfExp(if_exp) => {
            visitor.visit_expr(&if_exp.test);
            visitor.visit_expr(&if_exp.body);
            visitor.visit_expr(&if_exp.orelse);
        }
        Expr::Dict(dict) => {
            visit_exprs(visitor, dict.keys.iter().flatten());
            visit_exprs(visitor, &dict.values);
        }
        Expr::Set(set) => visit_exprs(visitor, &set.elts),
        Expr::ListComp(comp) => {
            walk_comprehensions(visitor, &comp.generators);
            visitor.visit_expr(&comp.elt);
        }
        Expr::SetComp(comp) => {
            walk_comprehensions(visitor, &comp.generators);
            visitor.visit_expr(&comp.elt);
        }
        Expr::GeneratorExp(comp) => {
            walk_comprehensions(visitor, &comp.generators);
            visitor.visit_expr(&comp.elt);
        }
        Expr::DictComp(comp) => {
            walk_comprehensions(visitor, &comp.generators);
            visitor.visit_expr(&comp.key);
            visitor.visit_expr(&comp.value);
        }
        Expr::Await(await_expr) => visitor.visit_expr(&await_expr.value),
        Expr::Yield(yield_expr) => visit_exprs(visitor, yield_expr.value.as_deref()),
        Expr::YieldFrom(yield_from) => visitor.visit_expr(&yield_from.value),
        Expr::Compare(compare) => {
            visitor.visit_expr(&compare.left);
            visit_exprs(visitor, &compare.comparators);
        }
        Expr::Call(call) => {
            visitor.visit_expr(&call.func);
            visit_exprs(visitor, &call.args);
            visit_exprs(visitor, call.keywords.iter().map(|keyword| &keyword.value));
        }
        Expr::FormattedValue(formatted) => {
            visitor.visit_expr(&formatted.value);
            visit_exprs(visitor, formatted.format_spec.as_deref());
        }
        Expr::JoinedStr(joined) => visit_exprs(visitor, &joined.values),
        Expr::Attribute(attribute) => visitor.visit_expr(&attribute.value),
        Expr::Subscript(subscript) => {
            visitor.visit_expr(&subscript.value);
            visitor.visit_expr(&subscript.slice);
        }
        Expr::Starred(starred) => visitor.visit_expr(&starred.value),
        Expr::List(list) => visit_exprs(visitor, &list.elts),
        Expr::Tuple(tuple) => visit_exprs(visitor, &tuple.elts),
        Expr::Slice(slice) => {
            visit_exprs(visitor, slice.lower.as_deref());
            visit_exprs(visitor, slice.upper.as_deref());
            visit_exprs(visitor, slice.step.as_deref());
        }
        Expr::Constant(_) | Expr::Name(_) => {}
    }
}

/// Tracks how many function bodies (`def`, `lambda`) enclose the node being visited.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FunctionDepth(usize);

impl FunctionDepth {
    /// Whether the walk is inside a function.
    pub(crate) fn inside(self) -> bool {
        self.0 > 0
    }

    /// Runs `walk` one function deeper when `stmt` defines a function.
    pub(crate) fn enter_stmt(&mut self, stmt: &Stmt) -> bool {
        let entering = matches!(stmt, Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_));
        if entering {
            self.0 += 1;
        }
        entering
    }

    /// Runs `walk` one function deeper when `expr` is a lambda.
    pub(crate) fn enter_expr(&mut self, expr: &Expr) -> bool {
        let entering = matches!(expr, Expr::Lambda(_));
        if entering {
            self.0 += 1;
        }
        entering
    }

    /// Leaves a function entered with `enter_*` (when it returned true).
    pub(crate) fn leave(&mut self, entered: bool) {
        if entered {
            self.0 -= 1;
        }
    }
}
