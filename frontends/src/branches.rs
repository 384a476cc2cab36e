//! The static branch map of a handler file, whatever its language: where its branch points and
//! statements are, so that branch and line coverage of the *original* handler can be read off
//! what its interpreter counted. [`javascript::branches`](crate::javascript::branches) finds
//! them in JavaScript (read off V8's block counters), [`python::branches`](crate::python::branches)
//! in Python (read off the steps between CPython's instructions).
//!
//! Invariant: every offset is a byte offset into the text the map was made from, on a
//! character boundary.

use serde::Serialize;

/// The branch points and statements of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BranchMap {
    /// Every branch point, in source order; a construct nested in another's first operand
    /// (`a && b && c`) comes after the construct containing it.
    pub branches: Vec<Branch>,
    /// Byte offset of the start of every statement, in source order, deduplicated: statements
    /// in nested functions included, statements that run no code left out (JavaScript: blocks
    /// `{ ... }`, empty statements `;`, `import` and re-exports; Python: docstrings, `global`,
    /// `nonlocal`, annotations without a value).
    pub statements: Vec<usize>,
}

/// One branch point: a construct that runs one of several arms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Branch {
    /// What kind of construct branches.
    pub kind: BranchKind,
    /// Byte offset where the whole construct starts: the `if`, the conditional (its test in
    /// JavaScript, its first value in Python), the logical expression's left operand, the
    /// `switch` / `match`, the loop, the `try`.
    pub start: usize,
    /// 1-based line of `start`.
    pub line: u32,
    /// The arms, each taken or not.
    pub arms: Vec<Arm>,
}

/// The construct a [`Branch`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BranchKind {
    /// `if (test) A` or `if (test) A else B`; Python's `if` / `elif` / `else`.
    If,
    /// `test ? a : b`; Python's `a if test else b`.
    Conditional,
    /// `a && b`, `a || b`, `a ?? b`, and the assignments `&&=`, `||=`, `??=`; Python's `and` and
    /// `or` (one branch per operand after the first).
    Logical,
    /// `switch (value) { case ...: }`.
    Switch,
    /// Python's `match value:` with its `case` bodies (and an implicit arm when no case is
    /// irrefutable: nothing matched).
    Match,
    /// Python's `for` / `while` with an `else` clause: the body (once per iteration) and the
    /// `else` (the loop ended without `break`).
    Loop,
    /// Python's `try` with `except` handlers: each handler, and an implicit arm (no handler
    /// ran).
    Try,
}

/// One arm of a [`Branch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    /// An arm with code of its own, counted where it starts (JavaScript: the count of the
    /// innermost V8 block range holding `start`).
    Code {
        /// Byte offset where the arm's code starts.
        start: usize,
    },
    /// An arm with code of its own spanning `start..end`, counted as the number of times
    /// control entered it from outside (Python, whose interpreter counts instructions, not
    /// blocks).
    Span {
        /// Byte offset where the arm's code starts.
        start: usize,
        /// Byte offset just past the arm's code.
        end: usize,
    },
    /// An arm without code (an `if` without `else`; a logical expression short-circuiting): its
    /// count is the construct's count minus the sum of the counts of the branch's other arms.
    Implicit,
}

/// Byte offsets at which lines start, for turning offsets into line numbers.
pub(crate) struct LineStarts(Vec<usize>);

impl LineStarts {
    pub(crate) fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(newline, _)| newline + 1))
            .collect();
        Self(starts)
    }

    /// The 1-based line containing `offset`.
    pub(crate) fn line(&self, offset: usize) -> u32 {
        // The first line starts at 0, so at least one start is at or before any offset.
        let line = self.0.partition_point(|&start| start <= offset);
        u32::try_from(line).unwrap_or(u32::MAX)
    }
}
