//! Deploy-time placeholders: values a deployment pipeline used to write into the code.
//!
//! Lambda@Edge has no environment variables, so real functions carry their configuration as
//! placeholders that a deploy script replaced (`sed`, `envsubst`, a template engine): the
//! converter does the same with the values of `--define NAME=VALUE`, a values file or
//! `edgeport.toml`, before parsing. Four spellings are recognised — `${NAME}`, `{{NAME}}`,
//! `{{ NAME }}` and `__NAME__` — and only for names that have a value, so code that merely
//! looks like a placeholder (a template literal's `${host}`) is left alone unless the user
//! defined `host`. Substitution can move columns, and lines when a value spans several, so
//! diagnostics are reported against the substituted text.

use std::collections::BTreeMap;

/// `text` with every placeholder of a defined name replaced by its value.
pub fn substitute(text: &str, defines: &BTreeMap<String, String>) -> String {
    if defines.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, placeholder)) = next_placeholder(rest) {
        let value = defines.get(placeholder.name);
        out.push_str(&rest[..at]);
        match value {
            Some(value) => out.push_str(value),
            None => out.push_str(&rest[at..at + placeholder.len]),
        }
        rest = &rest[at + placeholder.len..];
    }
    out.push_str(rest);
    out
}

/// The names of `{{NAME}}` placeholders in `text` that have no value: the unambiguous
/// spelling, worth a warning when left in the code.
pub fn undefined_names(text: &str, defines: &BTreeMap<String, String>) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some((at, placeholder)) = next_placeholder(rest) {
        if placeholder.braces && !defines.contains_key(placeholder.name) && !names.iter().any(|n| n == placeholder.name) {
            names.push(placeholder.name.to_owned());
        }
        rest = &rest[at + placeholder.len..];
    }
    names
}

struct Placeholder<'a> {
    name: &'a str,
    /// Its length in bytes, delimiters included.
    len: usize,
    /// Whether it is spelled `{{NAME}}`.
    braces: bool,
}

/// The first placeholder in `text` and its offset.
fn next_placeholder(text: &str) -> Option<(usize, Placeholder<'_>)> {
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let found = match bytes[at] {
            b'$' if bytes.get(at + 1) == Some(&b'{') => delimited(&text[at..], "${", "}", false),
            b'{' if bytes.get(at + 1) == Some(&b'{') => delimited(&text[at..], "{{", "}}", true),
            b'_' if bytes.get(at + 1) == Some(&b'_') => delimited(&text[at..], "__", "__", false)
                .filter(|p| !p.name.starts_with('_') && !p.name.ends_with('_')),
            _ => None,
        };
        if let Some(placeholder) = found {
            return Some((at, placeholder));
        }
        at += 1;
    }
    None
}

/// `open NAME close` at the start of `text`; `{{ NAME }}` may pad the name with spaces.
fn delimited<'a>(text: &'a str, open: &str, close: &str, padded: bool) -> Option<Placeholder<'a>> {
    let inner = text.strip_prefix(open)?;
    let end = inner.find(close)?;
    let raw = &inner[..end];
    let name = if padded { raw.trim_matches(' ') } else { raw };
    is_name(name).then_some(Placeholder { name, len: open.len() + end + close.len(), braces: padded })
}

/// Whether `name` can be a placeholder's name: letters, digits and `_`, not starting with a
/// digit. Values files and `--define` are held to the same rule.
pub(crate) fn is_name(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defines(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn substitutes_every_spelling_of_defined_names_only() {
        let values = defines(&[("ORIGIN", "origin.example.com"), ("TTL", "300")]);
        let cases = [
            ("const o = '${ORIGIN}';", "const o = 'origin.example.com';"),
            ("const o = '{{ORIGIN}}';", "const o = 'origin.example.com';"),
            ("const o = '{{ ORIGIN }}';", "const o = 'origin.example.com';"),
            ("const ttl = __TTL__;", "const ttl = 300;"),
            ("`${host}` + '{{OTHER}}' + __dirname + __proto__", "`${host}` + '{{OTHER}}' + __dirname + __proto__"),
            ("${ORIGIN}${ORIGIN}", "origin.example.comorigin.example.com"),
            ("{{ORIGIN", "{{ORIGIN"),
            ("café ${TTL} ü", "café 300 ü"),
        ];
        for (input, expected) in cases {
            assert_eq!(substitute(input, &values), expected, "{input}");
        }
        assert_eq!(substitute("${ORIGIN}", &BTreeMap::new()), "${ORIGIN}");
    }

    #[test]
    fn reports_brace_placeholders_without_values() {
        let values = defines(&[("A", "1")]);
        assert_eq!(undefined_names("'{{A}}' '{{B}}' '{{ C }}' '${D}' '{{B}}'", &values), ["B", "C"]);
    }
}
