//! Text helpers shared by the deployment-file readers: line numbers, and bracket matching that
//! skips strings and comments (enough for the line-oriented Terraform and CDK scans, which
//! never parse a whole language).

/// The comment and string syntax of a language, for bracket matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Syntax {
    /// JavaScript and TypeScript: `//`, `/* */`, `'`, `"` and `` ` `` strings.
    JavaScript,
    /// Python: `#` comments, `'` and `"` strings.
    Python,
    /// Terraform: `#`, `//` and `/* */` comments, `"` strings.
    Hcl,
}

/// The 1-based line of byte `offset`.
pub(super) fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

/// The first line at or after `from` whose first token is the mapping key `key` (YAML
/// `key:`, JSON `"key":`).
pub(super) fn line_of_key(text: &str, key: &str, from: usize) -> Option<usize> {
    let forms = [format!("{key}:"), format!("\"{key}\":"), format!("'{key}':"), format!("\"{key}\" :")];
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find(|(_, line)| {
            let line = line.trim_start().trim_start_matches("- ");
            forms.iter().any(|form| line.starts_with(form.as_str()))
        })
        .map(|(index, _)| index + 1)
}

/// The first line at or after `from` that contains `needle`.
pub(super) fn line_containing(text: &str, needle: &str, from: usize) -> Option<usize> {
    text.lines().enumerate().skip(from.saturating_sub(1)).find(|(_, line)| line.contains(needle)).map(|(index, _)| index + 1)
}

/// Every matched pair of `()`, `[]` and `{}` as byte offsets (open, close), outside strings
/// and comments; unmatched brackets are ignored.
pub(super) fn bracket_pairs(text: &str, syntax: Syntax) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut pairs = Vec::new();
    let mut open: Vec<(u8, usize)> = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        let next = bytes.get(index + 1).copied();
        let line_comment = match syntax {
            Syntax::JavaScript => byte == b'/' && next == Some(b'/'),
            Syntax::Python => byte == b'#',
            Syntax::Hcl => byte == b'#' || (byte == b'/' && next == Some(b'/')),
        };
        if line_comment {
            index = text[index..].find('\n').map_or(bytes.len(), |end| index + end);
            continue;
        }
        if syntax != Syntax::Python && byte == b'/' && next == Some(b'*') {
            index = text[index + 2..].find("*/").map_or(bytes.len(), |end| index + 2 + end + 2);
            continue;
        }
        let quote = match syntax {
            Syntax::JavaScript => matches!(byte, b'\'' | b'"' | b'`'),
            Syntax::Python => matches!(byte, b'\'' | b'"'),
            Syntax::Hcl => byte == b'"',
        };
        if quote {
            index = string_end(bytes, index);
            continue;
        }
        match byte {
            b'(' | b'[' | b'{' => open.push((byte, index)),
            b')' | b']' | b'}' => {
                let opener = match byte {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                if let Some(position) = open.iter().rposition(|(kind, _)| *kind == opener) {
                    let (_, start) = open[position];
                    open.truncate(position);
                    pairs.push((start, index));
                }
            }
            _ => {}
        }
        index += 1;
    }
    pairs.sort_unstable();
    pairs
}

/// The byte after the string literal opening at `start` (its closing quote, or the end of the
/// line for an unterminated one other than a template literal).
fn string_end(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let mut index = start + 1;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b'\n' if quote != b'`' => return index,
            byte if byte == quote => return index + 1,
            _ => index += 1,
        }
    }
    bytes.len()
}

/// The end of the expression starting at `start` (after any whitespace): the first `,`, `;`,
/// line end or closing bracket outside strings and the bracket pairs the expression opens.
pub(super) fn expression_end(text: &str, start: usize, pairs: &[(usize, usize)]) -> usize {
    let bytes = text.as_bytes();
    let mut index = start + bytes[start.min(bytes.len())..].iter().take_while(|byte| byte.is_ascii_whitespace()).count();
    while index < bytes.len() {
        match bytes[index] {
            b'\'' | b'"' | b'`' => index = string_end(bytes, index),
            b'(' | b'[' | b'{' => match matching_close(pairs, index) {
                Some(close) => index = close + 1,
                None => return index,
            },
            b',' | b';' | b')' | b']' | b'}' | b'\n' => return index,
            _ => index += 1,
        }
    }
    bytes.len()
}

/// The closing bracket matching the opening one at `open`.
pub(super) fn matching_close(pairs: &[(usize, usize)], open: usize) -> Option<usize> {
    pairs.binary_search_by_key(&open, |(start, _)| *start).ok().map(|index| pairs[index].1)
}

/// The innermost pair strictly enclosing `offset`.
pub(super) fn enclosing(pairs: &[(usize, usize)], offset: usize) -> Option<(usize, usize)> {
    pairs.iter().filter(|(open, close)| *open < offset && offset < *close).max_by_key(|(open, _)| *open).copied()
}

/// The contents of the quoted string literals in `text`, in order.
pub(super) fn string_literals(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut literals = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        if matches!(bytes[index], b'\'' | b'"' | b'`') {
            let end = string_end(bytes, index);
            let terminated = end > index + 1 && bytes[end - 1] == bytes[index];
            let inner_end = if terminated { end - 1 } else { end };
            literals.push(text[index + 1..inner_end].to_string());
            index = end.max(index + 1);
        } else {
            index += 1;
        }
    }
    literals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_inside_strings_and_comments_do_not_count() {
        let text = "f(a, '(', \"}\", // )\n g{ x } /* ) */ )";
        let pairs = bracket_pairs(text, Syntax::JavaScript);
        assert_eq!(matching_close(&pairs, 1), Some(text.len() - 1));
        let brace = text.find("g{").expect("brace") + 1;
        assert_eq!(enclosing(&pairs, brace + 2), Some((brace, brace + 4)));
    }

    #[test]
    fn keys_and_literals_are_found_where_they_are() {
        let text = "Resources:\n  Auth:\n    Type: x\n  \"Other\": {}\n";
        assert_eq!(line_of_key(text, "Auth", 1), Some(2));
        assert_eq!(line_of_key(text, "Other", 1), Some(4));
        assert_eq!(line_of_key(text, "Auth", 3), None);
        assert_eq!(line_at(text, text.find("Type").expect("type")), 3);
        assert_eq!(string_literals("join(__dirname, '../lambda', \"auth\")"), ["../lambda", "auth"]);
    }
}
