//! The static branch map of a Python file: where its branch points and statements are, so that
//! branch and line coverage of the *original* handler can be read off the steps CPython's
//! tracer saw between instructions (difftest's Python reference worker reports, for every step
//! from one instruction to the next, the source byte ranges of both).
//!
//! An arm is an [`Arm::Span`]: its count is the number of times control entered its code from
//! outside it, which holds however the compiler lays out or duplicates the code. An implicit arm
//! (an `if` without `else`, `a or b` short-circuiting, a `match` where no case matched, a `try`
//! where no handler ran) is the number of times control came from outside the whole construct
//! into its head — from its start to its first arm — minus its other arms' counts.
//!
//! ```
//! use edgeport_frontends::python::branches::{branch_map, Arm, BranchKind};
//!
//! let source = "if event:\n    go()\nelse:\n    stop()\n";
//! let map = branch_map(source).expect("the file parses");
//! let branch = &map.branches[0];
//! assert_eq!(branch.kind, BranchKind::If);
//! assert!(matches!(branch.arms[1], Arm::Span { start, end } if &source[start..end] == "stop()"));
//! ```
//!
//! Invariant: every offset is a byte offset into the text given to [`branch_map`], on a
//! character boundary.

use rustpython_parser::ast::{self, Constant, ExceptHandler, Expr, Ranged, Stmt};
use rustpython_parser::text_size::TextSize;
use rustpython_parser::Parse;

use crate::analysis::on_analysis_stack;
use crate::branches::LineStarts;
pub use crate::branches::{Arm, Branch, BranchKind, BranchMap};

/// Parses `source` (a Python 3 module; a leading byte-order mark allowed) and returns its
/// branch points and statements. Returns `None` when the text has a syntax error. Never
/// panics.
pub fn branch_map(source: &str) -> Option<BranchMap> {
    // Walking and dropping the syntax tree recurse as deep as the input nests.
    on_analysis_stack(|| branch_map_on_this_thread(source)).flatten()
}

fn branch_map_on_this_thread(source: &str) -> Option<BranchMap> {
    let shift = if source.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
    let suite = ast::Suite::parse(&source[shift..], "<branches>").ok()?;
    let mut finder = BranchFinder {
        shift,
        lines: LineStarts::new(source),
        map: BranchMap::default(),
    };
    finder.body(&suite, Scope::Module);
    let mut map = finder.map;
    // Visiting is pre-order, so a stable sort keeps an enclosing construct before one that
    // starts at the same offset inside it.
    map.branches.sort_by_key(|branch| branch.start);
    map.statements.sort_unstable();
    map.statements.dedup();
    Some(map)
}

/// Where a list of statements is, for docstrings: a function's docstring runs no code (a
/// module's or a class's is stored in `__doc__`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Module,
    Class,
    Function,
    Block,
}

/// Collects the branch map while walking the syntax tree.
struct BranchFinder {
    /// Bytes before the parsed text (a byte-order mark).
    shift: usize,
    lines: LineStarts,
    map: BranchMap,
}

impl BranchFinder {
    fn offset(&self, size: TextSize) -> usize {
        self.shift + size.to_usize()
    }

    fn start(&self, node: &impl Ranged) -> usize {
        self.offset(node.start())
    }

    /// The arm of an expression.
    fn expr_arm(&self, expr: &Expr) -> Arm {
        Arm::Span {
            start: self.start(expr),
            end: self.offset(expr.end()),
        }
    }

    /// The arm of a non-empty block of statements; `None` for an empty one.
    fn block_arm(&self, block: &[Stmt]) -> Option<Arm> {
        let (first, last) = (block.first()?, block.last()?);
        Some(Arm::Span {
            start: self.start(first),
            end: self.offset(last.end()),
        })
    }

    fn push(&mut self, kind: BranchKind, start: usize, arms: Vec<Arm>) {
        self.map.branches.push(Branch {
            kind,
            start,
            line: self.lines.line(start),
            arms,
        });
    }

    fn body(&mut self, body: &[Stmt], scope: Scope) {
        for (index, stmt) in body.iter().enumerate() {
            let docstring = index == 0 && scope == Scope::Function && is_docstring(stmt);
            if !docstring {
                self.stmt(stmt);
            }
        }
    }

    fn exprs<'e>(&mut self, exprs: impl IntoIterator<Item = &'e Expr>) {
        for expr in exprs {
            self.expr(expr);
        }
    }

    fn stmt(&mut self, stmt: &Stmt) {
        let runs_code = !matches!(
            stmt,
            Stmt::Global(_) | Stmt::Nonlocal(_) | Stmt::AnnAssign(ast::StmtAnnAssign { value: None, .. })
        );
        if runs_code {
            self.map.statements.push(self.start(stmt));
        }
        match stmt {
            Stmt::FunctionDef(ast::StmtFunctionDef { args, body, decorator_list, .. })
            | Stmt::AsyncFunctionDef(ast::StmtAsyncFunctionDef { args, body, decorator_list, .. }) => {
                self.exprs(decorator_list);
                self.arguments(args);
                self.body(body, Scope::Function);
            }
            Stmt::ClassDef(ast::StmtClassDef { bases, keywords, body, decorator_list, .. }) => {
                self.exprs(decorator_list);
                self.exprs(bases);
                self.exprs(keywords.iter().map(|keyword| &keyword.value));
                self.body(body, Scope::Class);
            }
            Stmt::Return(ast::StmtReturn { value, .. }) => self.exprs(value.as_deref()),
            Stmt::Delete(ast::StmtDelete { targets, .. }) => self.exprs(targets),
            Stmt::Assign(ast::StmtAssign { targets, value, .. }) => {
                self.expr(value);
                self.exprs(targets);
            }
            Stmt::TypeAlias(ast::StmtTypeAlias { value, .. }) => self.expr(value),
            Stmt::AugAssign(ast::StmtAugAssign { target, value, .. }) => {
                self.expr(target);
                self.expr(value);
            }
            Stmt::AnnAssign(ast::StmtAnnAssign { target, value, .. }) => {
                self.expr(target);
                self.exprs(value.as_deref());
            }
            Stmt::For(ast::StmtFor { target, iter, body, orelse, .. })
            | Stmt::AsyncFor(ast::StmtAsyncFor { target, iter, body, orelse, .. }) => {
                self.loop_branch(stmt, body, orelse);
                self.expr(iter);
                self.expr(target);
                self.body(body, Scope::Block);
                self.body(orelse, Scope::Block);
            }
            Stmt::While(ast::StmtWhile { test, body, orelse, .. }) => {
                self.loop_branch(stmt, body, orelse);
                self.expr(test);
                self.body(body, Scope::Block);
                self.body(orelse, Scope::Block);
            }
            Stmt::If(ast::StmtIf { test, body, orelse, .. }) => {
                if let Some(then) = self.block_arm(body) {
                    let otherwise = self.block_arm(orelse).unwrap_or(Arm::Implicit);
                    self.push(BranchKind::If, self.start(stmt), vec![then, otherwise]);
                }
                self.expr(test);
                self.body(body, Scope::Block);
                self.body(orelse, Scope::Block);
            }
            Stmt::With(ast::StmtWith { items, body, .. })
            | Stmt::AsyncWith(ast::StmtAsyncWith { items, body, .. }) => {
                for item in items {
                    self.expr(&item.context_expr);
                    self.exprs(item.optional_vars.as_deref());
                }
                self.body(body, Scope::Block);
            }
            Stmt::Match(ast::StmtMatch { subject, cases, .. }) => {
                let mut arms: Vec<Arm> = cases.iter().filter_map(|case| self.block_arm(&case.body)).collect();
                // A last case that matches anything leaves no way past the `match`.
                let exhaustive = cases
                    .last()
                    .is_some_and(|case| case.guard.is_none() && is_irrefutable(&case.pattern));
                if !exhaustive {
                    arms.push(Arm::Implicit);
                }
                self.push(BranchKind::Match, self.start(stmt), arms);
                self.expr(subject);
                for case in cases {
                    self.exprs(case.guard.as_deref());
                    self.body(&case.body, Scope::Block);
                }
            }
            Stmt::Raise(ast::StmtRaise { exc, cause, .. }) => {
                self.exprs(exc.as_deref());
                self.exprs(cause.as_deref());
            }
            Stmt::Try(ast::StmtTry { body, handlers, orelse, finalbody, .. })
            | Stmt::TryStar(ast::StmtTryStar { body, handlers, orelse, finalbody, .. }) => {
                let handler_bodies: Vec<&[Stmt]> = handlers
                    .iter()
                    .map(|ExceptHandler::ExceptHandler(handler)| handler.body.as_slice())
                    .collect();
                let mut arms: Vec<Arm> = handler_bodies.iter().filter_map(|body| self.block_arm(body)).collect();
                if !arms.is_empty() {
                    arms.push(Arm::Implicit);
                    self.push(BranchKind::Try, self.start(stmt), arms);
                }
                self.body(body, Scope::Block);
                for ExceptHandler::ExceptHandler(handler) in handlers {
                    self.exprs(handler.type_.as_deref());
                    self.body(&handler.body, Scope::Block);
                }
                self.body(orelse, Scope::Block);
                self.body(finalbody, Scope::Block);
            }
            Stmt::Assert(ast::StmtAssert { test, msg, .. }) => {
                self.expr(test);
                self.exprs(msg.as_deref());
            }
            Stmt::Expr(ast::StmtExpr { value, .. }) => self.expr(value),
            Stmt::Import(_)
            | Stmt::ImportFrom(_)
            | Stmt::Global(_)
            | Stmt::Nonlocal(_)
            | Stmt::Pass(_)
            | Stmt::Break(_)
            | Stmt::Continue(_) => {}
        }
    }

    /// A `for` / `while` with an `else` clause branches between its body and its `else`.
    fn loop_branch(&mut self, stmt: &Stmt, body: &[Stmt], orelse: &[Stmt]) {
        if let (Some(body), Some(orelse)) = (self.block_arm(body), self.block_arm(orelse)) {
            self.push(BranchKind::Loop, self.start(stmt), vec![body, orelse]);
        }
    }

    fn arguments(&mut self, args: &ast::Arguments) {
        let defaults = args
            .posonlyargs
            .iter()
            .chain(&args.args)
            .chain(&args.kwonlyargs)
            .filter_map(|arg| arg.default.as_deref());
        self.exprs(defaults);
    }

    fn comprehensions(&mut self, generators: &[ast::Comprehension]) {
        for generator in generators {
            self.expr(&generator.iter);
            self.expr(&generator.target);
            self.exprs(&generator.ifs);
        }
    }

    fn expr(&mut self, expr: &Expr) {
        match expr {
            Expr::BoolOp(ast::ExprBoolOp { values, .. }) => {
                // `a or b or c` is one node; each operand after the first is an arm of its own,
                // skipped when the operand before it short-circuits.
                for pair in values.windows(2) {
                    let arms = vec![self.expr_arm(&pair[1]), Arm::Implicit];
                    self.push(BranchKind::Logical, self.start(&pair[0]), arms);
                }
                self.exprs(values);
            }
            Expr::IfExp(ast::ExprIfExp { test, body, orelse, .. }) => {
                let arms = vec![self.expr_arm(body), self.expr_arm(orelse)];
                self.push(BranchKind::Conditional, self.start(expr), arms);
                self.expr(test);
                self.expr(body);
                self.expr(orelse);
            }
            Expr::NamedExpr(ast::ExprNamedExpr { target, value, .. }) => {
                self.expr(value);
                self.expr(target);
            }
            Expr::BinOp(ast::ExprBinOp { left, right, .. }) => {
                self.expr(left);
                self.expr(right);
            }
            Expr::UnaryOp(ast::ExprUnaryOp { operand, .. }) => self.expr(operand),
            Expr::Lambda(ast::ExprLambda { args, body, .. }) => {
                self.arguments(args);
                self.expr(body);
            }
            Expr::Dict(ast::ExprDict { keys, values, .. }) => {
                self.exprs(keys.iter().flatten());
                self.exprs(values);
            }
            Expr::Set(ast::ExprSet { elts, .. })
            | Expr::List(ast::ExprList { elts, .. })
            | Expr::Tuple(ast::ExprTuple { elts, .. }) => self.exprs(elts),
            Expr::ListComp(ast::ExprListComp { elt, generators, .. })
            | Expr::SetComp(ast::ExprSetComp { elt, generators, .. })
            | Expr::GeneratorExp(ast::ExprGeneratorExp { elt, generators, .. }) => {
                self.comprehensions(generators);
                self.expr(elt);
            }
            Expr::DictComp(ast::ExprDictComp { key, value, generators, .. }) => {
                self.comprehensions(generators);
                self.expr(key);
                self.expr(value);
            }
            Expr::Await(ast::ExprAwait { value, .. })
            | Expr::YieldFrom(ast::ExprYieldFrom { value, .. })
            | Expr::Attribute(ast::ExprAttribute { value, .. })
            | Expr::Starred(ast::ExprStarred { value, .. }) => self.expr(value),
            Expr::Yield(ast::ExprYield { value, .. }) => self.exprs(value.as_deref()),
            Expr::Compare(ast::ExprCompare { left, comparators, .. }) => {
                self.expr(left);
                self.exprs(comparators);
            }
            Expr::Call(ast::ExprCall { func, args, keywords, .. }) => {
                self.expr(func);
                self.exprs(args);
                self.exprs(keywords.iter().map(|keyword| &keyword.value));
            }
            Expr::FormattedValue(ast::ExprFormattedValue { value, format_spec, .. }) => {
                self.expr(value);
                self.exprs(format_spec.as_deref());
            }
            Expr::JoinedStr(ast::ExprJoinedStr { values, .. }) => self.exprs(values),
            Expr::Subscript(ast::ExprSubscript { value, slice, .. }) => {
                self.expr(value);
                self.expr(slice);
            }
            Expr::Slice(ast::ExprSlice { lower, upper, step, .. }) => {
                self.exprs(lower.as_deref());
                self.exprs(upper.as_deref());
                self.exprs(step.as_deref());
            }
            Expr::Constant(_) | Expr::Name(_) => {}
        }
    }
}

fn is_docstring(stmt: &Stmt) -> bool {
    matches!(
        stmt,
        Stmt::Expr(ast::StmtExpr { value, .. })
            if matches!(&**value, Expr::Constant(ast::ExprConstant { value: Constant::Str(_), .. }))
    )
}

/// Whether a `case` pattern matches any subject: `_`, a bare capture, or an alternative of
/// which one is.
fn is_irrefutable(pattern: &ast::Pattern) -> bool {
    match pattern {
        ast::Pattern::MatchAs(ast::PatternMatchAs { pattern: None, .. }) => true,
        ast::Pattern::MatchAs(ast::PatternMatchAs { pattern: Some(inner), .. }) => is_irrefutable(inner),
        ast::Pattern::MatchOr(ast::PatternMatchOr { patterns, .. }) => patterns.iter().any(is_irrefutable),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The branches of `source` as `kind@line [arm, ...]`, each arm as the text it spans.
    fn render(source: &str) -> Vec<String> {
        let map = branch_map(source).expect("the source parses");
        map.branches
            .iter()
            .map(|branch| {
                let kind = match branch.kind {
                    BranchKind::If => "if",
                    BranchKind::Conditional => "cond",
                    BranchKind::Logical => "logical",
                    BranchKind::Switch => "switch",
                    BranchKind::Match => "match",
                    BranchKind::Loop => "loop",
                    BranchKind::Try => "try",
                };
                let arms: Vec<String> = branch
                    .arms
                    .iter()
                    .map(|arm| match *arm {
                        Arm::Span { start, end } => format!("{:?}", &source[start..end]),
                        Arm::Code { start } => format!("code@{start}"),
                        Arm::Implicit => "implicit".to_owned(),
                    })
                    .collect();
                format!("{kind}@{} [{}]", branch.line, arms.join(", "))
            })
            .collect()
    }

    #[test]
    fn if_elif_else_and_an_if_without_else() {
        let source = "\
def handler(event, context):
    if event:
        a = 1
    if event == 1:
        b = 1
    elif event == 2:
        b = 2
    else:
        b = 3
";
        assert_eq!(
            render(source),
            [
                "if@2 [\"a = 1\", implicit]",
                "if@4 [\"b = 1\", \"elif event == 2:\\n        b = 2\\n    else:\\n        b = 3\"]",
                "if@6 [\"b = 2\", \"b = 3\"]",
            ]
        );
    }

    #[test]
    fn conditionals_and_logical_operators_on_one_line() {
        let source = "x = 'a' if y else 'b' or c\nz = p and q and r\n";
        assert_eq!(
            render(source),
            [
                "cond@1 [\"'a'\", \"'b' or c\"]",
                "logical@1 [\"c\", implicit]",
                "logical@2 [\"q\", implicit]",
                "logical@2 [\"r\", implicit]",
            ]
        );
    }

    #[test]
    fn match_loops_with_else_and_try() {
        let source = "\
match x:
    case 1:
        a = 1
    case _ if y:
        a = 2
for i in xs:
    f(i)
else:
    g()
while w:
    h()
try:
    k()
except KeyError:
    m()
";
        assert_eq!(
            render(source),
            [
                "match@1 [\"a = 1\", \"a = 2\", implicit]",
                "loop@6 [\"f(i)\", \"g()\"]",
                "try@12 [\"m()\", implicit]",
            ]
        );
        let exhaustive = "match x:\n    case 1:\n        a = 1\n    case other:\n        a = 2\n";
        assert_eq!(render(exhaustive), ["match@1 [\"a = 1\", \"a = 2\"]"]);
    }

    #[test]
    fn statements_skip_code_free_ones_and_a_byte_order_mark_shifts_offsets() {
        let source = "\u{feff}def f():\n    \"\"\"Doc.\"\"\"\n    global g\n    x: int\n    return 1\n";
        let map = branch_map(source).expect("parses");
        let texts: Vec<&str> = map
            .statements
            .iter()
            .map(|&start| source[start..].lines().next().unwrap_or_default())
            .collect();
        assert_eq!(texts, ["def f():", "return 1"]);
    }

    #[test]
    fn syntax_errors_give_no_map() {
        assert!(branch_map("def f(:\n").is_none());
        assert!(branch_map("").is_some_and(|map| map.branches.is_empty()));
    }
}
