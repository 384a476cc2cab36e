//! Parsing by file extension, and the mapping from parser positions back to byte offsets of the
//! user's text.
//!
//! Invariant: every parser error becomes an `EP0001` diagnostic; nothing here returns `Err`.

use std::collections::HashSet;
use std::ops::Range;

use swc_common::{sync::Lrc, BytePos, FileName, SourceMap, Span, Spanned};
use swc_ecma_ast::{EsVersion, Program};
use swc_ecma_parser::{parse_file_as_module, parse_file_as_program, EsSyntax, Syntax, TsSyntax};

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

/// Syntax errors reported per file.
const MAX_SYNTAX_ERRORS: usize = 20;

/// Deepest bracket nesting analyzed. Real handlers stay far below it; deeper input makes the
/// parser's recovery superlinear and the visitors' recursion unbounded.
pub(crate) const MAX_NESTING: usize = 500;

/// Where bracket nesting first exceeds [`MAX_NESTING`], skipping comments and string
/// literals. Regular expression literals are not recognized, which can only make the count
/// differ on brackets inside them.
fn excessive_nesting(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(index);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'/' if bytes.get(index + 1) == Some(&b'/') => {
                index += bytes[index..]
                    .iter()
                    .position(|&byte| byte == b'\n')
                    .unwrap_or(bytes.len() - index);
            }
            b'/' if bytes.get(index + 1) == Some(&b'*') => {
                index += text[index + 2..]
                    .find("*/")
                    .map_or(bytes.len() - index, |end| end + 4);
                continue;
            }
            b'\'' | b'"' => {
                index += 1;
                while let Some(&inner) = bytes.get(index) {
                    match inner {
                        b'\\' => index += 1,
                        b'\n' => break,
                        _ if inner == byte => break,
                        _ => {}
                    }
                    index += 1;
                }
            }
            _ => {}
        }
        index += 1;
    }
    None
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
    if let Some(offset) = excessive_nesting(&file.text) {
        return Parsed {
            program: None,
            source,
            dialect,
            diagnostics: vec![Diagnostic::error(
                codes::SYNTAX_ERROR,
                format!("brackets nest deeper than {MAX_NESTING} levels; edgeport does not analyze such files"),
            )
            .with_label(offset..offset + 1, "too deep")
            .with_help("split the deeply nested expression into named parts")],
        };
    }
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
    // Recovery can report an error per token of pathological input; the first few are the
    // useful ones.
    let mut seen = HashSet::new();
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    for error in errors {
        let span = source.range(error.span());
        let message = error.kind().msg().into_owned();
        if !seen.insert((span.clone(), message.clone())) {
            continue;
        }
        diagnostics
            .push(Diagnostic::error(codes::SYNTAX_ERROR, message).with_label(span, "syntax error"));
        if diagnostics.len() == MAX_SYNTAX_ERRORS {
            break;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_ignores_comments_and_strings() {
        let deep = "(".repeat(MAX_NESTING + 1);
        assert_eq!(excessive_nesting(&deep), Some(MAX_NESTING));
        for hidden in [
            format!("// {deep}\nx"),
            format!("/* {deep} */ x"),
            format!("'{deep}' + \"{deep}\""),
            format!("'\\'{deep}'"),
        ] {
            assert_eq!(excessive_nesting(&hidden), None, "{hidden}");
        }
        assert_eq!(excessive_nesting("/* unterminated"), None);
        assert_eq!(excessive_nesting("'unterminated\n(((("), None);
    }

    #[test]
    fn dialect_follows_the_extension() {
        assert_eq!(Dialect::from_name("index.js"), Dialect::JavaScript);
        assert_eq!(Dialect::from_name("index.cjs"), Dialect::JavaScript);
        assert_eq!(Dialect::from_name("index.MJS"), Dialect::JavaScriptModule);
        assert_eq!(Dialect::from_name("src/index.ts"), Dialect::TypeScript);
        assert_eq!(Dialect::from_name("Makefile"), Dialect::JavaScript);
    }

    #[test]
    fn byte_order_mark_is_counted_in_offsets() {
        let file = SourceFile::new("a.js", "\u{feff}x;");
        let parsed = parse(&file);
        let program = parsed.program.expect("parses");
        let span = match &program {
            Program::Script(script) => script.body.first().map(Spanned::span),
            Program::Module(module) => module.body.first().map(Spanned::span),
        }
        .expect("one statement");
        assert_eq!(&file.text[parsed.source.range(span)], "x;");
    }
}
