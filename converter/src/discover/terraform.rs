//! Terraform: `aws_lambda_function` resources and `lambda_function_association` blocks.
//!
//! A line-oriented scan, not an HCL parser: blocks are found by their header and matching
//! brace, attributes by `name = value` at the top level of a block, and only string literals
//! count (`${path.module}/` and `${path.root}/` prefixes are understood; any other
//! interpolation makes a value unknown). A function's code is the `source_dir` (or
//! `source_file`'s directory) of the `archive_file` data source its `filename` names, by
//! reference or by the same literal `output_path`. Modules with a literal `source_path` and
//! `handler` (terraform-aws-modules/lambda) count as functions too. The `.tf` files of one
//! directory are one module: a distribution may reference a function declared in a sibling
//! file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use edgeport_runtime::cloudfront::EventType;
use regex::Regex;

use super::text::{self, Syntax};
use super::{Declared, DeclaredCode, Note, Origin, CONFIG_FILE};

/// A block header: its type and quoted labels, up to the opening brace.
static BLOCK_HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?m)^[ \t]*([A-Za-z_][\w-]*)((?:[ \t]+"[^"\n]*")*)[ \t]*\{"#).expect("valid regex"));
static LABEL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#""([^"\n]*)""#).expect("valid regex"));
static ARCHIVE_OUTPUT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"data\.archive_file\.([\w-]+)\.output_path").expect("valid regex"));
static FUNCTION_REFERENCE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b(?:aws_lambda_function|module)\.([\w-]+)\b").expect("valid regex"));

/// One block of a `.tf` file.
struct Block<'a> {
    file: &'a Path,
    source: &'a str,
    pairs: &'a [(usize, usize)],
    kind: &'a str,
    labels: Vec<&'a str>,
    open: usize,
    close: usize,
}

impl<'a> Block<'a> {
    fn line(&self) -> usize {
        text::line_at(self.source, self.open)
    }

    fn origin(&self) -> Origin {
        Origin { file: self.file.to_path_buf(), line: Some(self.line()) }
    }

    fn dir(&self) -> &Path {
        self.file.parent().unwrap_or(Path::new(""))
    }

    /// The raw value of the top-level attribute `name`, and its line.
    fn attribute(&self, name: &str) -> Option<(&'a str, usize)> {
        let pattern = Regex::new(&format!(r"(?m)^[ \t]*{}[ \t]*=[ \t]*(.*)$", regex::escape(name))).ok()?;
        let body_start = self.open + 1;
        let source: &'a str = self.source;
        let found = pattern.captures_iter(&source[body_start..self.close]).find_map(|captures| {
            let value = captures.get(1)?;
            let offset = body_start + value.start();
            (text::enclosing(self.pairs, offset) == Some((self.open, self.close))).then(|| (value.as_str().trim(), text::line_at(source, offset)))
        });
        found
    }

    /// The attribute's value when it is a string literal.
    fn literal(&self, name: &str) -> Option<String> {
        self.attribute(name).and_then(|(raw, _)| literal(raw))
    }
}

/// A string literal's contents, with a leading `${path.module}/` or `${path.root}/` removed;
/// `None` for anything else.
fn literal(raw: &str) -> Option<String> {
    let inner = raw.strip_prefix('"')?;
    let end = inner.find('"')?;
    let rest = inner[end + 1..].trim();
    if !(rest.is_empty() || rest.starts_with('#') || rest.starts_with("//")) {
        return None;
    }
    let value = &inner[..end];
    let value = ["${path.module}/", "${path.root}/", "${path.cwd}/"].iter().find_map(|prefix| value.strip_prefix(prefix)).unwrap_or(value);
    (!value.contains("${")).then(|| value.to_string())
}

fn blocks<'a>(file: &'a Path, source: &'a str, pairs: &'a [(usize, usize)]) -> Vec<Block<'a>> {
    BLOCK_HEADER
        .captures_iter(source)
        .filter_map(|captures| {
            let header = captures.get(0)?;
            let open = header.end() - 1;
            let close = text::matching_close(pairs, open)?;
            let labels = captures.get(2).map_or(Vec::new(), |labels| {
                LABEL.captures_iter(labels.as_str()).filter_map(|label| label.get(1).map(|m| m.as_str())).collect()
            });
            Some(Block { file, source, pairs, kind: captures.get(1)?.as_str(), labels, open, close })
        })
        .collect()
}

/// Adds the functions the `.tf` files declare to `declared`, and notes on what they cannot use.
pub(super) fn read(files: &[PathBuf], declared: &mut Vec<Declared>, notes: &mut Vec<Note>) {
    let mut modules: BTreeMap<&Path, Vec<(&Path, String)>> = BTreeMap::new();
    for file in files {
        match std::fs::read_to_string(file) {
            Ok(source) => modules.entry(file.parent().unwrap_or(Path::new(""))).or_default().push((file, source)),
            Err(error) => notes.push(Note { file: file.clone(), line: None, message: format!("cannot read it: {error}") }),
        }
    }
    for sources in modules.values() {
        let pairs: Vec<Vec<(usize, usize)>> = sources.iter().map(|(_, source)| text::bracket_pairs(source, Syntax::Hcl)).collect();
        let blocks: Vec<Block<'_>> = sources.iter().zip(&pairs).flat_map(|((file, source), pairs)| blocks(file, source, pairs)).collect();
        read_module(&blocks, declared, notes);
    }
}

/// One directory's blocks: archives first, then functions, then the associations.
fn read_module(blocks: &[Block<'_>], declared: &mut Vec<Declared>, notes: &mut Vec<Note>) {
    // archive_file name -> (directory of its sources, literal output_path)
    let mut archives: BTreeMap<&str, (Option<PathBuf>, Option<String>)> = BTreeMap::new();
    for block in blocks.iter().filter(|block| block.kind == "data" && block.labels.first() == Some(&"archive_file")) {
        let Some(name) = block.labels.get(1) else { continue };
        let source = match (block.literal("source_dir"), block.literal("source_file")) {
            (Some(dir), _) => Some(block.dir().join(dir)),
            (None, Some(file)) => block.dir().join(file).parent().map(Path::to_path_buf),
            (None, None) => None,
        };
        archives.insert(name, (source, block.literal("output_path")));
    }

    let mut functions: Vec<Declared> = Vec::new();
    for block in blocks {
        let is_resource = block.kind == "resource" && block.labels.first() == Some(&"aws_lambda_function");
        let is_module = block.kind == "module" && block.attribute("source_path").is_some();
        let Some(name) = (if is_resource { block.labels.get(1) } else if is_module { block.labels.first() } else { None }) else {
            continue;
        };
        let code = if is_resource { function_code(block, name, &archives) } else { module_code(block, name) };
        let dir = match code {
            Ok(dir) => dir,
            Err(message) => {
                notes.push(block.origin().note(message));
                continue;
            }
        };
        let handler = match block.attribute("handler") {
            None => None,
            Some((raw, _)) => match literal(raw) {
                Some(handler) => Some(handler),
                None => {
                    notes.push(block.origin().note(format!("function `{name}`: handler `{raw}` is not a literal; declare the function in {CONFIG_FILE}")));
                    continue;
                }
            },
        };
        functions.push(Declared {
            name: name.to_string(),
            origin: block.origin(),
            code: DeclaredCode::Handler { dir, handler, entry_points: Vec::new() },
            runtime: block.literal("runtime"),
            event_types: Vec::new(),
        });
    }

    for block in blocks {
        let note = |line: usize, message: String| Note { file: block.file.to_path_buf(), line: Some(line), message };
        if block.kind == "dynamic" && block.labels.first() == Some(&"lambda_function_association") {
            notes.push(note(block.line(), format!("a dynamic lambda_function_association cannot be read without running Terraform; set event-types in {CONFIG_FILE}")));
            continue;
        }
        if block.kind != "lambda_function_association" {
            continue;
        }
        let event_type = match block.literal("event_type").as_deref().map(str::parse::<EventType>) {
            Some(Ok(event_type)) => event_type,
            Some(Err(message)) => {
                notes.push(note(block.line(), format!("{message}; the association is ignored")));
                continue;
            }
            None => {
                notes.push(note(block.line(), format!("event_type is not a literal; the association is ignored (set event-types in {CONFIG_FILE})")));
                continue;
            }
        };
        let (arn, arn_line) = block.attribute("lambda_arn").unwrap_or(("(missing)", block.line()));
        let function = FUNCTION_REFERENCE
            .captures(arn)
            .and_then(|captures| captures.get(1))
            .and_then(|name| functions.iter_mut().find(|function| function.name == name.as_str()));
        match function {
            Some(function) => function.event_types.push(event_type),
            None => notes.push(note(
                arn_line,
                format!("cannot tell which function of this directory lambda_arn `{arn}` is, so its {event_type} trigger is not attached; set event-types in {CONFIG_FILE}"),
            )),
        }
    }
    declared.extend(functions);
}

/// An `aws_lambda_function`'s code directory, from the archive its `filename` names.
fn function_code(block: &Block<'_>, name: &str, archives: &BTreeMap<&str, (Option<PathBuf>, Option<String>)>) -> Result<PathBuf, String> {
    if block.attribute("image_uri").is_some() {
        return Err(format!("function `{name}` is a container image, which Lambda@Edge does not run; it is skipped"));
    }
    if block.attribute("s3_bucket").is_some() {
        return Err(format!("function `{name}`: its code is in S3, not in this repository; declare the function's source in {CONFIG_FILE}"));
    }
    let Some((filename, _)) = block.attribute("filename") else {
        return Err(format!("function `{name}` has no filename; declare the function's source in {CONFIG_FILE}"));
    };
    let archive = match ARCHIVE_OUTPUT.captures(filename).and_then(|captures| captures.get(1)) {
        Some(archive) => archives.get_key_value(archive.as_str()),
        None => literal(filename).and_then(|path| archives.iter().find(|(_, (_, output))| output.as_deref() == Some(path.as_str()))),
    };
    match archive {
        Some((_, (Some(source), _))) => Ok(source.clone()),
        Some((archive, (None, _))) => Err(format!(
            "function `{name}`: archive_file `{archive}` has no literal source_dir or source_file; declare the function's source in {CONFIG_FILE}"
        )),
        None => Err(format!(
            "function `{name}`: filename {filename} is a built archive, not a source; declare the function's source in {CONFIG_FILE}"
        )),
    }
}

/// A Lambda module's code directory: its `source_path`, or the directory of that file.
fn module_code(block: &Block<'_>, name: &str) -> Result<PathBuf, String> {
    let path = block
        .literal("source_path")
        .map(|path| block.dir().join(path))
        .ok_or_else(|| format!("module `{name}`: source_path is not a literal; declare the function in {CONFIG_FILE}"))?;
    Ok(if path.is_file() { path.parent().map_or(path.clone(), Path::to_path_buf) } else { path })
}
