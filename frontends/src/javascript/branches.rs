//! The static branch map of a JavaScript file: where its branch points and statements start, so
//! that branch and statement coverage of the *original* handler can be read off V8's block
//! coverage (`Profiler.takePreciseCoverage`), where the count at a position is the count of the
//! innermost range containing it.
//!
//! ```
//! use edgeport_frontends::javascript::branches::{branch_map, Arm, BranchKind};
//!
//! let source = "if (event) go(); else stop();";
//! let map = branch_map(source).expect("the file parses");
//! let branch = &map.branches[0];
//! assert_eq!(branch.kind, BranchKind::If);
//! assert!(matches!(branch.arms[1], Arm::Code { start } if source[start..].starts_with("stop")));
//! ```
//!
//! Invariant: every offset is a byte offset into the text given to [`branch_map`], on a
//! character boundary.

use swc_common::{Span, Spanned};
use swc_ecma_ast::{
    AssignExpr, AssignOp, BinExpr, BinaryOp, CondExpr, IfStmt, ModuleDecl, Stmt, SwitchStmt,
};
use swc_ecma_visit::{noop_visit_type, Visit, VisitWith};

use super::on_analysis_stack;
use super::parse::{parse, SourceText};
use crate::SourceFile;

use crate::branches::LineStarts;
pub use crate::branches::{Arm, Branch, BranchKind, BranchMap};

/// The name the text is parsed under: a `.js` name makes the parser try an ES module first and
/// fall back to a script, so that both ESM and CommonJS handlers parse.
const PARSE_AS: &str = "branches.js";

/// Parses `source` (plain JavaScript: an ES module when it parses as one, else a script; a
/// leading `#!` line and a byte-order mark allowed) and returns its branch points and
/// statements. Returns `None` when the text has a syntax error or nests brackets deeper than
/// [`analyze`](super::analyze) accepts. Never panics.
pub fn branch_map(source: &str) -> Option<BranchMap> {
    // The visitor and dropping the syntax tree recurse as deep as the input nests, which a long
    // `a && b && ...` chain makes deeper than an ordinary thread's stack allows.
    on_analysis_stack(|| branch_map_on_this_thread(source)).flatten()
}

fn branch_map_on_this_thread(source: &str) -> Option<BranchMap> {
    let file = SourceFile::new(PARSE_AS, source);
    let parsed = parse(&file);
    if !parsed.diagnostics.is_empty() {
        return None;
    }
    let program = parsed.program?;
    let mut finder = BranchFinder {
        source: parsed.source,
        lines: LineStarts::new(source),
        map: BranchMap::default(),
    };
    program.visit_with(&mut finder);
    let mut map = finder.map;
    // Visiting is pre-order, so a stable sort keeps an enclosing construct before one that
    // starts at the same offset inside it.
    map.branches.sort_by_key(|branch| branch.start);
    map.statements.sort_unstable();
    map.statements.dedup();
    Some(map)
}

/// Collects the branch map while walking the syntax tree.
struct BranchFinder<'a> {
    source: SourceText<'a>,
    lines: LineStarts,
    map: BranchMap,
}

impl BranchFinder<'_> {
    fn start(&self, span: Span) -> usize {
        self.source.offset(span.lo)
    }

    fn code(&self, node: &impl Spanned) -> Arm {
        Arm::Code {
            start: self.start(node.span()),
        }
    }

    fn push(&mut self, kind: BranchKind, construct: Span, arms: Vec<Arm>) {
        let start = self.start(construct);
        self.map.branches.push(Branch {
            kind,
            start,
            line: self.lines.line(start),
            arms,
        });
    }
}

impl Visit for BranchFinder<'_> {
    noop_visit_type!();

    fn visit_stmt(&mut self, stmt: &Stmt) {
        if !matches!(stmt, Stmt::Block(_) | Stmt::Empty(_)) {
            self.map.statements.push(self.start(stmt.span()));
        }
        stmt.visit_children_with(self);
    }

    fn visit_module_decl(&mut self, decl: &ModuleDecl) {
        let runs_code = matches!(
            decl,
            ModuleDecl::ExportDecl(_)
                | ModuleDecl::ExportDefaultDecl(_)
                | ModuleDecl::ExportDefaultExpr(_)
        );
        if runs_code {
            self.map.statements.push(self.start(decl.span()));
        }
        decl.visit_children_with(self);
    }

    fn visit_if_stmt(&mut self, stmt: &IfStmt) {
        let otherwise = stmt
            .alt
            .as_deref()
            .map_or(Arm::Implicit, |alt| self.code(alt));
        let arms = vec![self.code(&*stmt.cons), otherwise];
        self.push(BranchKind::If, stmt.span, arms);
        stmt.visit_children_with(self);
    }

    fn visit_cond_expr(&mut self, expr: &CondExpr) {
        let arms = vec![self.code(&*expr.cons), self.code(&*expr.alt)];
        self.push(BranchKind::Conditional, expr.span, arms);
        expr.visit_children_with(self);
    }

    fn visit_bin_expr(&mut self, expr: &BinExpr) {
        if matches!(
            expr.op,
            BinaryOp::LogicalAnd | BinaryOp::LogicalOr | BinaryOp::NullishCoalescing
        ) {
            let arms = vec![self.code(&*expr.right), Arm::Implicit];
            self.push(BranchKind::Logical, expr.span, arms);
        }
        expr.visit_children_with(self);
    }

    fn visit_assign_expr(&mut self, expr: &AssignExpr) {
        if matches!(
            expr.op,
            AssignOp::AndAssign | AssignOp::OrAssign | AssignOp::NullishAssign
        ) {
            let arms = vec![self.code(&*expr.right), Arm::Implicit];
            self.push(BranchKind::Logical, expr.span, arms);
        }
        expr.visit_children_with(self);
    }

    fn visit_switch_stmt(&mut self, stmt: &SwitchStmt) {
        // V8 counts a clause on its body, so an arm starts at the clause's first statement;
        // an empty clause has only its `case` keyword.
        let arms = stmt
            .cases
            .iter()
            .map(|case| match case.cons.first() {
                Some(first) => self.code(first),
                None => self.code(case),
            })
            .collect();
        self.push(BranchKind::Switch, stmt.span, arms);
        stmt.visit_children_with(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders an offset as 1-based `line:column`, the column in characters.
    fn position(source: &str, offset: usize) -> String {
        assert!(
            source.is_char_boundary(offset),
            "offset {offset} splits a character"
        );
        let before = &source[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        let column = before[line_start..].chars().count() + 1;
        format!("{line}:{column}")
    }

    /// Renders a branch map one branch a line, `kind@line:col [arm, ...]`, then a line
    /// `statements line:col ...`.
    fn render(source: &str, map: &BranchMap) -> String {
        let mut lines = Vec::new();
        for branch in &map.branches {
            let at = position(source, branch.start);
            let line = at.split(':').next().unwrap_or_default();
            assert_eq!(
                line,
                branch.line.to_string(),
                "the line of the branch at {at}"
            );
            let kind = match branch.kind {
                BranchKind::If => "if",
                BranchKind::Conditional => "cond",
                BranchKind::Logical => "logical",
                BranchKind::Switch => "switch",
                BranchKind::Match | BranchKind::Loop | BranchKind::Try => {
                    unreachable!("not a JavaScript construct")
                }
            };
            let arms: Vec<String> = branch
                .arms
                .iter()
                .map(|arm| match arm {
                    Arm::Code { start } => format!("code@{}", position(source, *start)),
                    Arm::Implicit => "implicit".to_owned(),
                    Arm::Span { .. } => unreachable!("JavaScript arms are counted where they start"),
                })
                .collect();
            lines.push(format!("{kind}@{at} [{}]", arms.join(", ")));
        }
        let statements: Vec<String> = map
            .statements
            .iter()
            .map(|&offset| position(source, offset))
            .collect();
        lines.push(format!("statements {}", statements.join(" ")));
        lines.join("\n")
    }

    /// Checks the rendered branch map of `source` against `expected`, ignoring the
    /// indentation and surrounding blank lines of `expected`.
    #[track_caller]
    fn check(source: &str, expected: &str) {
        let map = branch_map(source).expect("the source parses");
        let actual = render(source, &map);
        let expected: Vec<&str> = expected.trim().lines().map(str::trim).collect();
        assert_eq!(
            actual,
            expected.join("\n"),
            "\n--- actual ---\n{actual}\n--- for source ---\n{source}"
        );
    }

    #[test]
    fn if_with_and_without_else() {
        check(
            "if (a) {\n  b();\n} else {\n  c();\n}\nif (d) e();\n",
            "
            if@1:1 [code@1:8, code@3:8]
            if@6:1 [code@6:8, implicit]
            statements 1:1 2:3 4:3 6:1 6:8
            ",
        );
    }

    #[test]
    fn else_if_chain_is_nested_ifs() {
        check(
            "if (a) x();\nelse if (b) y();\nelse z();",
            "
            if@1:1 [code@1:8, code@2:6]
            if@2:6 [code@2:13, code@3:6]
            statements 1:1 1:8 2:6 2:13 3:6
            ",
        );
    }

    #[test]
    fn conditionals_start_at_their_test() {
        check(
            "const v = a ? b : (c ? d : e);",
            "
            cond@1:11 [code@1:15, code@1:19]
            cond@1:20 [code@1:24, code@1:28]
            statements 1:1
            ",
        );
    }

    #[test]
    fn logical_operators_have_an_implicit_arm() {
        check(
            "x = a && b;\ny = c || d;\nz = e ?? f;\nw = g && h && i;",
            "
            logical@1:5 [code@1:10, implicit]
            logical@2:5 [code@2:10, implicit]
            logical@3:5 [code@3:10, implicit]
            logical@4:5 [code@4:15, implicit]
            logical@4:5 [code@4:10, implicit]
            statements 1:1 2:1 3:1 4:1
            ",
        );
    }

    #[test]
    fn logical_assignment_is_logical() {
        check(
            "a &&= b;\nc.d ||= e;\nf ??= g;\nh += i;",
            "
            logical@1:1 [code@1:7, implicit]
            logical@2:1 [code@2:9, implicit]
            logical@3:1 [code@3:7, implicit]
            statements 1:1 2:1 3:1 4:1
            ",
        );
    }

    #[test]
    fn switch_arms_start_at_clause_bodies() {
        check(
            "switch (k) {\n  case 1:\n  case 2:\n    one();\n  case 3: { two(); break; }\n  default:\n}",
            "
            switch@1:1 [code@2:3, code@4:5, code@5:11, code@6:3]
            statements 1:1 4:5 5:13 5:20
            ",
        );
    }

    #[test]
    fn nested_functions_arrows_and_methods_are_included() {
        check(
            "function outer(a) {\n  const f = (b) => b || a;\n  class C { m(c) { if (c) return 1; } }\n  return function (d) { return d ? 1 : 2; };\n}",
            "
            logical@2:20 [code@2:25, implicit]
            if@3:20 [code@3:27, implicit]
            cond@4:32 [code@4:36, code@4:40]
            statements 1:1 2:3 3:3 3:20 3:27 4:3 4:25
            ",
        );
    }

    #[test]
    fn es_module_with_imports_and_exports() {
        check(
            "import { a } from 'a';\nexport { a as b } from 'a';\nexport const handler = async (e) => e.ok ? a : null;\nexport default function f() { return a ?? 1; }",
            "
            cond@3:37 [code@3:44, code@3:48]
            logical@4:38 [code@4:43, implicit]
            statements 3:1 4:1 4:31
            ",
        );
    }

    #[test]
    fn commonjs_script_parses() {
        // `with` and legacy octal literals are script-only syntax: the module parse fails.
        check(
            "var mode = 010;\nwith (config) { exports.handler = mode && run; }",
            "
            logical@2:35 [code@2:43, implicit]
            statements 1:1 2:1 2:17
            ",
        );
    }

    #[test]
    fn offsets_are_bytes_after_non_ascii_text() {
        let source = "// Grüße, 東京 🎉\nconst s = 'é';\nif (s) { ok(); } else nope();\nconst t = s ?? '…' ? 1 : 2;";
        check(
            source,
            "
            if@3:1 [code@3:8, code@3:23]
            cond@4:11 [code@4:22, code@4:26]
            logical@4:11 [code@4:16, implicit]
            statements 2:1 3:1 3:10 3:23 4:1
            ",
        );
        let map = branch_map(source).expect("the source parses");
        let mut starts = Vec::new();
        for branch in &map.branches {
            starts.push(branch.start);
            starts.extend(branch.arms.iter().filter_map(|arm| match arm {
                Arm::Code { start } | Arm::Span { start, .. } => Some(*start),
                Arm::Implicit => None,
            }));
        }
        starts.extend(&map.statements);
        let tokens = [
            "if (s)", "{ ok", "nope", "s ??", "1 :", "2;", "s ??", "'…'", "const s", "if (s)",
            "ok()", "nope", "const t",
        ];
        assert_eq!(starts.len(), tokens.len(), "{starts:?}");
        for (start, token) in starts.into_iter().zip(tokens) {
            let at = source.get(start..).unwrap_or_default();
            assert!(
                at.starts_with(token),
                "offset {start} is at {at:?}, not {token:?}"
            );
        }
    }

    #[test]
    fn shebang_and_byte_order_mark_are_allowed() {
        let source = "#!/usr/bin/env node\nif (a) b();";
        check(
            source,
            "
            if@2:1 [code@2:8, implicit]
            statements 2:1 2:8
            ",
        );
        let with_bom = "\u{feff}if (a) b();";
        let map = branch_map(with_bom).expect("the source parses");
        assert_eq!(map.branches.first().map(|branch| branch.start), Some(3));
        assert_eq!(map.statements, [3, 10]);
    }

    #[test]
    fn syntax_errors_give_none() {
        for broken in [
            "if (",
            "let x = ;",
            "a &&",
            "switch (x) { case }",
            "import x from;",
        ] {
            assert_eq!(branch_map(broken), None, "{broken}");
        }
        assert_eq!(branch_map(""), Some(BranchMap::default()));
    }

    #[test]
    fn long_logical_chains_do_not_exhaust_the_stack() {
        let links = 200_000;
        let source = format!("x = a{};", " && a".repeat(links));
        let map = branch_map(&source).expect("the source parses");
        assert_eq!(map.branches.len(), links);
        assert!(map.branches.iter().all(|branch| branch.start == 4));
    }

    #[test]
    fn serializes_with_snake_case_kinds() {
        let map = branch_map("a || b;").expect("the source parses");
        let json = serde_json::to_string(&map).expect("a branch map serializes");
        assert_eq!(
            json,
            r#"{"branches":[{"kind":"logical","start":0,"line":1,"arms":[{"code":{"start":5}},"implicit"]}],"statements":[0]}"#
        );
    }
}
