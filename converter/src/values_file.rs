//! Deploy-time placeholder values from the command line and from files: `--define NAME=VALUE`
//! and `--values <file>`, which fill `ConvertOptions::defines`.
//!
//! A values file is either a JSON object of strings or `.env`-style `NAME=VALUE` lines (blank
//! lines and `#` comments ignored, an optional `export ` in front, values optionally quoted).
//! A `.json` file is JSON and a `.env` file is lines; any other name is JSON when its first
//! non-blank character is `{`. Names are environment-variable names (`[A-Za-z_][A-Za-z0-9_]*`)
//! so that one file can serve a shell, a container and edgeport alike.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why a values file or a `--define` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ValuesError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The values file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line or value of the file is not what the format allows.
    #[error("{}:{line}: {message}", .path.display())]
    Syntax {
        /// The values file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// What is wrong and what was expected.
        message: String,
    },
    /// A `--define` argument is not `NAME=VALUE`.
    #[error("{0}")]
    Define(String),
}

/// The values in the file at `path`.
pub fn read_values_file(path: &Path) -> Result<BTreeMap<String, String>, ValuesError> {
    let text = std::fs::read_to_string(path).map_err(|source| ValuesError::Read { path: path.into(), source })?;
    parse_values(path, &text)
}

/// The values in `text`, read from `path` (which decides the format and names the file in
/// errors).
pub fn parse_values(path: &Path, text: &str) -> Result<BTreeMap<String, String>, ValuesError> {
    let is_json = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => true,
        Some("env") => false,
        _ => text.trim_start().starts_with('{'),
    };
    if is_json {
        parse_json(path, text)
    } else {
        parse_env_lines(path, text)
    }
}

/// One `--define NAME=VALUE` argument.
pub fn parse_define(argument: &str) -> Result<(String, String), ValuesError> {
    let (name, value) = argument
        .split_once('=')
        .ok_or_else(|| ValuesError::Define(format!("`{argument}` is not NAME=VALUE (e.g. --define API_HOST=api.example.com)")))?;
    check_name(name).map_err(ValuesError::Define)?;
    Ok((name.to_string(), value.to_string()))
}

fn parse_json(path: &Path, text: &str) -> Result<BTreeMap<String, String>, ValuesError> {
    let syntax = |line: usize, message: String| ValuesError::Syntax { path: path.into(), line, message };
    let values: BTreeMap<String, String> = serde_json::from_str(text).map_err(|error| {
        // serde_json appends " at line L column C"; the line is already in front.
        let message = error.to_string();
        let message = message.rsplit_once(" at line ").map_or(message.as_str(), |(head, _)| head).to_string();
        syntax(error.line(), format!("{message} (expected a JSON object of strings, e.g. {{\"API_HOST\": \"api.example.com\"}})"))
    })?;
    for name in values.keys() {
        if let Err(message) = check_name(name) {
            let quoted = format!("\"{name}\"");
            let line = text.find(&quoted).map_or(1, |at| line_of(text, at));
            return Err(syntax(line, message));
        }
    }
    Ok(values)
}

fn parse_env_lines(path: &Path, text: &str) -> Result<BTreeMap<String, String>, ValuesError> {
    let mut values = BTreeMap::new();
    for (index, raw) in text.lines().enumerate() {
        let syntax = |message: String| ValuesError::Syntax { path: path.into(), line: index + 1, message };
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let (name, value) =
            line.split_once('=').ok_or_else(|| syntax(format!("`{line}` is not NAME=VALUE (a `#` starts a comment line)")))?;
        let name = name.trim();
        check_name(name).map_err(syntax)?;
        values.insert(name.to_string(), env_value(value.trim()).map_err(syntax)?);
    }
    Ok(values)
}

/// A value as `.env` files write it: `"quoted"` (with `\"`, `\\` and `\n` escapes), `'quoted'`
/// (taken literally) or bare (up to a ` #` comment).
fn env_value(value: &str) -> Result<String, String> {
    let Some(quote) = value.chars().next().filter(|c| *c == '"' || *c == '\'') else {
        let end = value.find(" #").unwrap_or(value.len());
        return Ok(value[..end].trim_end().to_string());
    };
    let body = &value[1..];
    let mut unquoted = String::new();
    let mut chars = body.char_indices();
    while let Some((at, c)) = chars.next() {
        if c == quote {
            let rest = body[at + 1..].trim_start();
            if !rest.is_empty() && !rest.starts_with('#') {
                return Err(format!("unexpected `{rest}` after the closing {quote}"));
            }
            return Ok(unquoted);
        }
        if c == '\\' && quote == '"' {
            match chars.next().map(|(_, escaped)| escaped) {
                Some('n') => unquoted.push('\n'),
                Some(escaped @ ('"' | '\\')) => unquoted.push(escaped),
                Some(other) => {
                    unquoted.push('\\');
                    unquoted.push(other);
                }
                None => break,
            }
        } else {
            unquoted.push(c);
        }
    }
    Err(format!("missing the closing {quote}"))
}

fn check_name(name: &str) -> Result<(), String> {
    if crate::placeholders::is_name(name) {
        Ok(())
    } else {
        Err(format!("`{name}` is not a placeholder name (letters, digits and `_`, not starting with a digit)"))
    }
}

/// The 1-based line holding byte `at` of `text`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn env_lines_with_comments_exports_and_quotes() {
        let text = "# staging\n\nAPI_HOST=api.example.com\nexport REGION = eu-west-1  # where it runs\nGREETING=\"hello \\\"you\\\"\\n\"\nRAW='a\\nb' # literal\nURL=https://x.example/#frag\nEMPTY=\n";
        let parsed = parse_values(Path::new("staging.env"), text).expect("valid");
        assert_eq!(
            parsed,
            values(&[
                ("API_HOST", "api.example.com"),
                ("EMPTY", ""),
                ("GREETING", "hello \"you\"\n"),
                ("RAW", "a\\nb"),
                ("REGION", "eu-west-1"),
                ("URL", "https://x.example/#frag"),
            ])
        );
    }

    #[test]
    fn json_objects_of_strings() {
        let text = "{\n  \"API_HOST\": \"api.example.com\",\n  \"REGION\": \"eu-west-1\"\n}\n";
        let expected = values(&[("API_HOST", "api.example.com"), ("REGION", "eu-west-1")]);
        assert_eq!(parse_values(Path::new("values.json"), text).expect("valid"), expected);
        assert_eq!(parse_values(Path::new("values"), text).expect("content says JSON"), expected);
        assert_eq!(parse_values(Path::new("values"), "A=1\n").expect("content says lines"), values(&[("A", "1")]));
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let cases = [
            ("prod.env", "A=1\n# fine\nthis line has no equals sign\n", "prod.env:3: `this line has no equals sign` is not NAME=VALUE"),
            ("prod.env", "A=1\n2B=x\n", "prod.env:2: `2B` is not a placeholder name"),
            ("prod.env", "A=\"open\n", "prod.env:1: missing the closing \""),
            ("prod.env", "A='x' y\n", "prod.env:1: unexpected `y` after the closing '"),
            ("v.json", "{\n  \"A\": \"x\",\n  \"B\": 3\n}", "v.json:3: invalid type: integer `3`, expected a string"),
            ("v.json", "{\n  \"A\": \"x\",\n", "v.json:3: EOF while parsing a value"),
            ("v.json", "{\n  \"A\": \"x\",\n  \"bad name\": \"y\"\n}", "v.json:3: `bad name` is not a placeholder name"),
        ];
        for (name, text, expected) in cases {
            let error = parse_values(Path::new(name), text).expect_err(text).to_string();
            assert!(error.starts_with(expected), "{error:?} should start with {expected:?}");
        }
    }

    #[test]
    fn defines_are_name_equals_value() {
        assert_eq!(parse_define("API=https://x/?a=b").expect("valid"), ("API".into(), "https://x/?a=b".into()));
        assert_eq!(parse_define("EMPTY=").expect("valid"), ("EMPTY".into(), String::new()));
        assert!(parse_define("NOVALUE").expect_err("no =").to_string().contains("NAME=VALUE"));
        assert!(parse_define("-X=1").expect_err("bad name").to_string().contains("placeholder name"));
    }
}
