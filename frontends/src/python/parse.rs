//! Parsing a Python module with `rustpython-parser`.
//!
//! Invariant: a parse error becomes exactly one `EP0001` diagnostic whose label is a byte range
//! of the original text; nothing here returns `Err`.

use rustpython_parser::ast::{Mod, Stmt};
use rustpython_parser::text_size::TextSize;
use rustpython_parser::{parse_starts_at, Mode, ParseErrorType};

use crate::diagnostic::{codes, Diagnostic};
use crate::SourceFile;

/// The byte-order mark some editors write at the start of a file.
const BOM: char = '\u{feff}';

/// A parsed module, or the diagnostic saying why it did not parse.
pub(crate) enum Parsed {
    Module(Vec<Stmt>),
    Failed(Diagnostic),
}

/// Parses `file` as a Python 3 module. Node ranges are byte offsets into `file.text`.
pub(crate) fn parse(file: &SourceFile) -> Parsed {
    let text = file.text.as_str();
    let skip = if text.starts_with(BOM) {
        BOM.len_utf8()
    } else {
        0
    };
    let offset = TextSize::try_from(skip).unwrap_or_default();
    // The parser counts in `u32`.
    if u32::try_from(text.len()).is_err() {
        return Parsed::Failed(
            Diagnostic::error(
                codes::SYNTAX_ERROR,
                "the file is too large to parse (over 4 GiB)",
            )
            .with_label(0..0, "in this file"),
        );
    }
    match parse_starts_at(&text[skip..], Mode::Module, &file.name, offset) {
        Ok(Mod::Module(module)) => Parsed::Module(module.body),
        Ok(_) => Parsed::Module(Vec::new()),
        Err(error) => {
            let start = usize::from(error.offset).min(text.len());
            let end = next_char_end(text, start);
            let (message, label) = describe(&error.error);
            Parsed::Failed(
                Diagnostic::error(codes::SYNTAX_ERROR, message)
                    .with_label(start..end, label)
                    .with_help("fix the syntax here; Lambda's Python runtimes run Python 3, so Python 2 code (`print x`, `except E, e`) must be ported first"),
            )
        }
    }
}

/// The end of the character at `start`, so that a label covers the offending character.
fn next_char_end(text: &str, start: usize) -> usize {
    text.get(start..)
        .and_then(|rest| rest.chars().next())
        .filter(|c| *c != '\n')
        .map_or(start, |c| start + c.len_utf8())
}

/// A lower-case message and a label for a parse error.
fn describe(error: &ParseErrorType) -> (String, &'static str) {
    match error {
        ParseErrorType::Eof => (
            "unexpected end of file; a bracket, string or block is not closed".to_owned(),
            "the file ends here",
        ),
        ParseErrorType::ExtraToken(token) => (format!("unexpected '{token}'"), "not expected here"),
        ParseErrorType::InvalidToken => ("invalid token".to_owned(), "not valid Python"),
        ParseErrorType::UnrecognizedToken(token, expected) => {
            let message = match expected {
                Some(expected) => format!("unexpected '{token}', expected {expected}"),
                None => format!("unexpected '{token}'"),
            };
            (message, "not expected here")
        }
        ParseErrorType::Lexical(lexical) => (lower_first(&lexical.to_string()), "here"),
    }
}

fn lower_first(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
