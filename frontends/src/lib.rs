//! Frontends turn the source of a legacy edge handler into *facts* (what the handler is, what
//! it imports, which request fields it compares, ...) and *diagnostics* (what cannot run at the
//! edge, and why).
//!
//! Parsing never fails: every entry point returns whatever facts could be recovered together
//! with diagnostics, never an error and never a panic, whatever bytes it is given. Spans are byte
//! ranges into the text the user wrote; they become `file:line:col` only when a diagnostic is
//! rendered.
//!
//! Invariant: facts and diagnostics point into the original text, never into a transformed
//! copy.

pub mod analysis;
pub mod branches;
pub mod diagnostic;
mod event;
pub mod facts;
pub mod javascript;
pub mod python;

/// One source file as the user sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The path as shown to the user in diagnostics; its extension selects the dialect.
    pub name: String,
    /// The full text of the file.
    pub text: String,
}

impl SourceFile {
    /// Creates a source file from a display name and its text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }
}
