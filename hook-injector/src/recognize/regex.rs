//! Regexes that are byte tables in disguise: a literal, or an alternation of literals, each
//! with an optional `^` and `$`, under an optional `i` flag. `/curl\//i` is "contains `curl/`,
//! ignoring case"; `/AhrefsBot|SemrushBot|MJ12bot/` is three contains tests; `/^$/` is "equals
//! the empty string". Anything else (classes, `.`, repetition, `\b`, backreferences) has no
//! equivalent the programs could evaluate, and the reason says which of them it uses.
//!
//! The pattern is read as a syntax tree (`regex_syntax::ast`), not as HIR, which folds
//! alternations of literals into classes and factors out their common prefixes.

use regex_syntax::ast::{self, Ast, AssertionKind};

use crate::ir::TextMatch;

/// A regex as literal tests: it matches a value exactly when one of the tests holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LiteralRegex {
    /// The tests, in the pattern's order.
    pub(super) tests: Vec<(TextMatch, String)>,
    /// The `i` flag.
    pub(super) case_insensitive: bool,
}

/// The pattern as literal tests, or why it is not one. `stateful_global` says the regex is
/// used by `test`/`exec`, where the `g` flag makes it remember where the last match ended.
pub(super) fn literal_regex(pattern: &str, flags: &str, stateful_global: bool) -> Result<LiteralRegex, String> {
    let shown = shorten(pattern);
    if flags.contains('y') || (stateful_global && flags.contains('g')) {
        return Err(format!(
            "regex `{shown}` has the `{}` flag, so each test starts where the last match ended; a table cannot remember that",
            if flags.contains('y') { 'y' } else { 'g' }
        ));
    }
    let tree = ast::parse::Parser::new()
        .parse(&unescape_slashes(pattern))
        .map_err(|error| format!("regex `{shown}` does not parse ({})", error.kind()))?;
    let mut tests = Vec::new();
    for (start, end, branch) in branches(&tree) {
        let mut features = Features::default();
        let (start, end, items) = strip(branch, start, end);
        let mut literal = String::new();
        for item in items {
            collect_literal(item, &mut literal, &mut features);
        }
        if let Some(list) = features.describe() {
            return Err(format!("regex `{shown}` has {list}; no byte-table equivalent"));
        }
        let op = match (start, end) {
            (true, true) => TextMatch::Equals,
            (true, false) => TextMatch::Prefix,
            (false, true) => TextMatch::Suffix,
            (false, false) => TextMatch::Contains,
        };
        if literal.is_empty() && op != TextMatch::Equals {
            return Err(format!("regex `{shown}` matches every value"));
        }
        tests.push((op, literal));
    }
    Ok(LiteralRegex { tests, case_insensitive: flags.contains('i') })
}

/// The pattern, cut to a readable length.
fn shorten(pattern: &str) -> String {
    super::elide(pattern, 28)
}

/// JavaScript escapes `/` inside a regex literal; `regex_syntax` does not know that escape.
fn unescape_slashes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('/') => out.push('/'),
            Some(escaped) => {
                out.push('\\');
                out.push(escaped);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The alternatives of the pattern, each with the anchors that apply to it from outside
/// (`^(a|b)$` anchors both `a` and `b`).
fn branches(tree: &Ast) -> Vec<(bool, bool, &Ast)> {
    let (start, end, items) = strip(tree, false, false);
    if let [only] = items.as_slice() {
        if let Some(Ast::Alternation(alternation)) = group_body(only).map(unwrap_groups) {
            return alternation.asts.iter().map(|branch| (start, end, branch)).collect();
        }
    }
    match unwrap_groups(tree) {
        Ast::Alternation(alternation) if !start && !end => {
            alternation.asts.iter().map(|branch| (false, false, branch)).collect()
        }
        _ => vec![(false, false, tree)],
    }
}

/// The body of a group, if `ast` is one.
fn group_body(ast: &Ast) -> Option<&Ast> {
    match ast {
        Ast::Group(group) => Some(&group.ast),
        _ => None,
    }
}

/// `ast` without the groups around it.
fn unwrap_groups(mut ast: &Ast) -> &Ast {
    while let Some(body) = group_body(ast) {
        ast = body;
    }
    ast
}

/// The items of a branch without its anchors (which are returned, added to those already
/// known) and without optional items at an unanchored end, which never change whether a
/// search matches (`headless(?:chrome)?` matches where `headless` does).
fn strip(branch: &Ast, mut start: bool, mut end: bool) -> (bool, bool, Vec<&Ast>) {
    let mut items: Vec<&Ast> = match unwrap_groups(branch) {
        Ast::Concat(concat) => concat.asts.iter().collect(),
        other => vec![other],
    };
    if let Some(Ast::Assertion(assertion)) = items.first() {
        if matches!(assertion.kind, AssertionKind::StartLine | AssertionKind::StartText) {
            start = true;
            items.remove(0);
        }
    }
    if let Some(Ast::Assertion(assertion)) = items.last() {
        if matches!(assertion.kind, AssertionKind::EndLine | AssertionKind::EndText) {
            end = true;
            items.pop();
        }
    }
    let optional = |ast: &&Ast| matches!(ast, Ast::Repetition(r) if min_repetitions(&r.op.kind) == 0);
    if !end {
        while items.last().is_some_and(optional) {
            items.pop();
        }
    }
    if !start {
        while items.first().is_some_and(optional) {
            items.remove(0);
        }
    }
    (start, end, items)
}

/// The fewest times a repetition repeats.
fn min_repetitions(kind: &ast::RepetitionKind) -> u32 {
    match kind {
        ast::RepetitionKind::ZeroOrOne | ast::RepetitionKind::ZeroOrMore => 0,
        ast::RepetitionKind::OneOrMore => 1,
        ast::RepetitionKind::Range(range) => match *range {
            ast::RepetitionRange::Exactly(n)
            | ast::RepetitionRange::AtLeast(n)
            | ast::RepetitionRange::Bounded(n, _) => n,
        },
    }
}

/// What a branch uses that a literal test cannot express.
#[derive(Debug, Default)]
struct Features {
    classes: bool,
    dot: bool,
    repetition: bool,
    assertions: bool,
    alternation: bool,
    flags: bool,
}

impl Features {
    /// "character classes and repetition", or `None` when the branch is a literal.
    fn describe(&self) -> Option<String> {
        let names: Vec<&str> = [
            (self.classes, "character classes"),
            (self.dot, "`.`"),
            (self.repetition, "repetition"),
            (self.assertions, "assertions such as `\\b`"),
            (self.alternation, "a nested alternation"),
            (self.flags, "inline flags"),
        ]
        .into_iter()
        .filter_map(|(present, name)| present.then_some(name))
        .collect();
        match names.as_slice() {
            [] => None,
            [one] => Some((*one).to_string()),
            [init @ .., last] => Some(format!("{} and {last}", init.join(", "))),
        }
    }
}

/// Appends the literal text of `ast` to `out`, noting in `features` what is not literal.
fn collect_literal(ast: &Ast, out: &mut String, features: &mut Features) {
    match ast {
        Ast::Empty(_) => {}
        Ast::Literal(literal) => out.push(literal.c),
        Ast::Group(group) => collect_literal(&group.ast, out, features),
        Ast::Concat(concat) => concat.asts.iter().for_each(|item| collect_literal(item, out, features)),
        Ast::ClassUnicode(_) | Ast::ClassPerl(_) | Ast::ClassBracketed(_) => features.classes = true,
        Ast::Dot(_) => features.dot = true,
        Ast::Repetition(repetition) => {
            features.repetition = true;
            collect_literal(&repetition.ast, &mut String::new(), features);
        }
        Ast::Assertion(_) => features.assertions = true,
        Ast::Alternation(alternation) => {
            features.alternation = true;
            for branch in &alternation.asts {
                collect_literal(branch, &mut String::new(), features);
            }
        }
        Ast::Flags(_) => features.flags = true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tests(pattern: &str, flags: &str) -> Result<Vec<(TextMatch, String)>, String> {
        literal_regex(pattern, flags, true).map(|regex| regex.tests)
    }

    #[test]
    fn literal_alternations_become_tests() {
        assert_eq!(tests(r"curl\/", "i"), Ok(vec![(TextMatch::Contains, "curl/".into())]));
        assert_eq!(
            tests("^(GET|HEAD)$", ""),
            Ok(vec![(TextMatch::Equals, "GET".into()), (TextMatch::Equals, "HEAD".into())])
        );
        assert_eq!(tests("^$", ""), Ok(vec![(TextMatch::Equals, String::new())]));
        assert_eq!(
            tests("scrapy|headless(?:chrome)?", "i"),
            Ok(vec![(TextMatch::Contains, "scrapy".into()), (TextMatch::Contains, "headless".into())])
        );
        assert_eq!(tests(r"\.php$", ""), Ok(vec![(TextMatch::Suffix, ".php".into())]));
    }

    #[test]
    fn other_regexes_say_why_not() {
        let reason = tests(r"\b(Googlebot|bingbot|DuckDuckBot)/\d+\.\d+", "i").expect_err("classes");
        assert_eq!(
            reason,
            "regex `\\b(Googlebot|bingbot|DuckDuc…` has character classes, repetition, assertions such as `\\b` and a nested alternation; no byte-table equivalent"
        );
        assert!(tests("a", "g").expect_err("stateful").contains("`g` flag"));
        assert_eq!(tests("(?:x)?", ""), Err("regex `(?:x)?` matches every value".into()));
    }
}
