//! Parsing by file extension, and the mapping from parser positions back to byte offsets of the
//! user's text.
//!
//! Invariant: every parser error becomes an `EP0001` diagnostic; nothing here returns `Err`.

use std::ops::Range;

use swc_common::{sync::Lrc, BytePos, FileName, SourceMap, Span, Spanned};
use swc_ecma_ast::{EsVersion, Program};
use swc_ecma_parser::{
    parse_file_as_module, parse_file_as_program, EsSyntax, Syntax, TsSyntax,
};

use crate::diagnostic::{codes, Diagnostic};
use crate::SourceFile;

/// The dialect a file is parsed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// `.js`, `.cjs` and unknown extensions: script or module, whichever the file is.
    JavaScript,
    /// `.mjs`: always an ES module.
    JavaScriptModule,
    /// `.ts`, `.mts`, `.cts`.
    TypeScript,
}

impl Dialect {
    /// Chooses the dialect from the file name's extension.
    pub(crate) fn from_name(name: &str) -> Self {
        let extension = name
            .rsplit_once('.')
            .map(|(_, extension)| extension.to_ascii_lowercase())
            .unwrap_or_default();
        match extension.as_str() {
            "mjs" => Self::JavaScriptModule,
            "ts" | "mts" | "cts" => Self::TypeScript,
            _ => Self::JavaScript,
        }
    }

    pub(crate) fn is_typescript(self) -> bool {
        self == Self::TypeScript
    }
}

/// The user's text together with the offset the parser's positions are relative to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SourceText<'a> {
    text: &'a str,
    /// The parser position of the first character after a byte-order mark.
    start: BytePos,
    /// Length of a byte-order mark the parser did not see.
    bom: usize,
}

impl<'a> SourceText<'a> {
    /// The whole original text.
    pub(crate) fn text(&self) -> &'a str {
        self.text
    }

    /// Converts a parser position to a byte offset into the original text, clamped to it.
    pub(crate) fn offset(&self, position: BytePos) -> usize {
        let relative = position.0.saturating_sub(self.start.0) as usize;
        (relative + self.bom).min(self.text.len())
    }

    /// Converts a parser span to a byte range of the original text.
    pub(crate) fn range(&self, span: Span) -> Range<usize> {
        let start = self.offset(span.lo);
        let end = self.offset(span.hi).max(start);
        start..end
    }

    /// The text a node covers; empty when the span does not fall on character boundaries.
    pub(crate) fn slice(&self, span: Span) -> &'a str {
        self.text.get(self.range(span)).unwrap_or_default()
    }
}

/// The outcome of parsing: the program when one could be built, and the syntax errors.
pub(crate) struct Parsed<'a> {
    pub(crate) program: Option<Program>,
    pub(crate) source: SourceText<'a>,
    pub(crate) dialect: Dialect,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// Parses a file according to its extension.
pub(crate) fn parse(file: &SourceFile) -> Parsed<'_> {
    let dialect = Dialect::from_name(&file.name);
    let (bom, body) = match file.text.strip_prefix('\u{feff}') {
        Some(body) => ('\u{feff}'.len_utf8(), body),
        None => (0, file.text.as_str()),
    };
    let source_map: Lrc<SourceMap> = Lrc::default();
    let source_file =
        source_map.new_source_file(FileName::Custom(file.name.clone()).into(), body.to_owned());
    let source = SourceText {
        text: &file.text,
        start: source_file.start_pos,
        bom,
    };
    let syntax = match dialect {
        Dialect::TypeScript => Syntax::Typescript(TsSyntax {
            // Decorators parse so that they can be reported as unsupported, not as syntax
            // errors.
            decorators: true,
            ..TsSyntax::default()
        }),
        Dialect::JavaScript | Dialect::JavaScriptModule => Syntax::Es(EsSyntax::default()),
    };
    let mut errors = Vec::new();
    let result = match dialect {
        Dialect::JavaScriptModule => {
            parse_file_as_module(&source_file, syntax, EsVersion::latest(), None, &mut errors)
                .map(Program::Module)
        }
        Dialect::JavaScript | Dialect::TypeScript => {
            parse_file_as_program(&source_file, syntax, EsVersion::latest(), None, &mut errors)
        }
    };
    let program = match result {
        Ok(program) => Some(program),
        Err(fatal) => {
            errors.push(fatal);
            None
        }
    };
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    for error in errors {
        let span = source.range(error.span());
        let message = error.kind().msg().into_owned();
        let duplicate = diagnostics.iter().any(|seen| {
            seen.message == message && seen.labels.first().map(|label| &label.span) == Some(&span)
        });
        if !duplicate {
            diagnostics.push(
                Diagnostic::error(codes::SYNTAX_ERROR, message).with_label(span, "syntax error"),
            );
        }
    }
    diagnostics.sort_by_key(|diagnostic| diagnostic.labels.first().map(|label| label.span.start));
    Parsed {
        program,
        source,
        dialect,
        diagnostics,
    }
}
