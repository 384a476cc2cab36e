//! AWS CDK stacks in TypeScript, JavaScript or Python.
//!
//! A regex scan, not a parser. Functions are `new lambda.Function(this, 'Id', {...})`,
//! `new cloudfront.experimental.EdgeFunction(...)` and `new NodejsFunction(...)` (Python:
//! `_lambda.Function(self, "Id", ...)`, `cloudfront.experimental.EdgeFunction(...)`), named by
//! their construct ID. Their code is the literal path of `Code.fromAsset(...)` /
//! `Code.from_asset(...)` — joined from the literals of a `path.join(__dirname, ...)` /
//! `os.path.join(os.path.dirname(__file__), ...)`, relative to the stack's directory, or
//! relative to the CDK app (the nearest directory holding `cdk.json`) without one — with the
//! literal `handler`; a `NodejsFunction`'s is its literal `entry` and `handler` (default
//! `handler`). Event types come from `LambdaEdgeEventType.X` in an `edgeLambdas` /
//! `lambdaFunctionAssociations` entry whose `functionVersion` / `lambdaFunction` is a variable
//! (`auth.currentVersion`) bound to one of the file's functions, or which holds the function's
//! construction itself. Anything not written as a literal is a note.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use edgeport_runtime::cloudfront::EventType;
use regex::Regex;

use super::text::{self, Syntax};
use super::{Declared, DeclaredCode, Note, Origin, CONFIG_FILE};

/// `const auth = new lambda.Function(this, 'Auth'` and its variants; groups: variable,
/// construct class, construct ID.
static JAVASCRIPT_FUNCTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:(?:const|let|var)\s+(\w+)\s*(?::\s*[\w.<>]+\s*)?=\s*|this\.(\w+)\s*=\s*)?new\s+(?:\w+\.)*(Function|EdgeFunction|NodejsFunction)\s*\(\s*\w+\s*,\s*['"`]([^'"`]+)['"`]"#)
        .expect("valid regex")
});
/// `auth = _lambda.Function(self, "Auth"`; groups: variable, construct class, construct ID.
static PYTHON_FUNCTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:(?:self\.)?(\w+)\s*(?::\s*[\w.\[\]]+\s*)?=\s*)?\b(?:\w+\.)*(Function|EdgeFunction)\s*\(\s*\w+\s*,\s*(?:id\s*=\s*)?['"]([^'"]+)['"]"#)
        .expect("valid regex")
});
static EVENT_TYPE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"LambdaEdgeEventType\.([A-Z_]+)").expect("valid regex"));
static VERSION_OWNER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:functionVersion|lambdaFunction|function_version|lambda_function)\s*[:=]\s*(?:this\.|self\.)?(\w+)").expect("valid regex")
});
static CODE_CALL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"Code\.(fromAsset|from_asset|fromInline|from_inline|fromBucket|from_bucket)\s*\(").expect("valid regex"));
static ENTRY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\bentry\s*:\s*").expect("valid regex"));
static RUNTIME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"Runtime\.(NODEJS\w*|PYTHON\w*|\w+)").expect("valid regex"));

/// One function construct in the file.
struct Construct {
    variable: Option<String>,
    /// Where the construction starts and its argument list ends, as byte offsets.
    span: (usize, usize),
    declared: Option<Declared>,
}

/// Adds the functions `file` declares to `declared`, and notes on what it cannot use.
pub(super) fn read(file: &Path, root: &Path, declared: &mut Vec<Declared>, notes: &mut Vec<Note>) {
    let Ok(source) = std::fs::read_to_string(file) else {
        return;
    };
    let syntax = if file.extension().is_some_and(|extension| extension == "py") { Syntax::Python } else { Syntax::JavaScript };
    let pairs = text::bracket_pairs(&source, syntax);
    let stack_dir = file.parent().unwrap_or(Path::new(""));
    let app_dir = app_dir(stack_dir, root);
    let pattern = if syntax == Syntax::Python { &*PYTHON_FUNCTION } else { &*JAVASCRIPT_FUNCTION };
    let (variable_group, class_group, id_group) = if syntax == Syntax::Python { (1, 2, 3) } else { (0, 3, 4) };

    let mut constructs = Vec::new();
    for captures in pattern.captures_iter(&source) {
        let (Some(whole), Some(class), Some(id)) = (captures.get(0), captures.get(class_group), captures.get(id_group)) else {
            continue;
        };
        let variable = if variable_group == 0 { captures.get(1).or_else(|| captures.get(2)) } else { captures.get(variable_group) };
        let open = whole.start() + source[whole.start()..].find('(').unwrap_or(0);
        let Some(close) = text::matching_close(&pairs, open) else { continue };
        let arguments = &source[open..=close];
        let dirs = (stack_dir, app_dir.as_path());
        let origin = Origin { file: file.to_path_buf(), line: Some(text::line_at(&source, whole.start())) };
        let name = id.as_str().to_string();
        let code = if class.as_str() == "NodejsFunction" {
            entry_code(&source, &pairs, (open, close), dirs, &name)
        } else {
            asset_code(&source, &pairs, (open, close), syntax, dirs, &name)
        };
        let declared = match code {
            Ok(code) => Some(Declared {
                name,
                origin,
                code,
                runtime: RUNTIME.captures(arguments).and_then(|c| c.get(1)).map(|runtime| runtime.as_str().to_ascii_lowercase()),
                event_types: Vec::new(),
            }),
            Err(message) => {
                notes.push(origin.note(message));
                None
            }
        };
        constructs.push(Construct { variable: variable.map(|v| v.as_str().to_string()), span: (whole.start(), close), declared });
    }

    for captures in EVENT_TYPE.captures_iter(&source) {
        let (Some(whole), Some(kind)) = (captures.get(0), captures.get(1)) else { continue };
        let line = text::line_at(&source, whole.start());
        let Ok(event_type) = kind.as_str().to_ascii_lowercase().replace('_', "-").parse::<EventType>() else { continue };
        let Some((open, close)) = text::enclosing(&pairs, whole.start()) else { continue };
        let entry = &source[open..=close];
        let by_variable = VERSION_OWNER
            .captures(entry)
            .and_then(|captures| captures.get(1))
            .and_then(|variable| constructs.iter().position(|construct| construct.variable.as_deref() == Some(variable.as_str())));
        let by_containment = || constructs.iter().position(|construct| open < construct.span.0 && construct.span.1 < close);
        match by_variable.or_else(by_containment) {
            Some(index) => {
                if let Some(declared) = &mut constructs[index].declared {
                    declared.event_types.push(event_type);
                }
            }
            None => notes.push(Note {
                file: file.to_path_buf(),
                line: Some(line),
                message: format!("cannot tell which function of this file the {event_type} trigger here is attached to; set event-types in {CONFIG_FILE}"),
            }),
        }
    }
    declared.extend(constructs.into_iter().filter_map(|construct| construct.declared));
}

/// The nearest directory from `dir` up to `root` holding `cdk.json`, where `cdk` runs and
/// relative asset paths start; `root` when there is none.
fn app_dir(dir: &Path, root: &Path) -> PathBuf {
    dir.ancestors()
        .take_while(|ancestor| ancestor.starts_with(root))
        .find(|ancestor| ancestor.join("cdk.json").is_file())
        .unwrap_or(root)
        .to_path_buf()
}

/// The directory of `Code.fromAsset(...)` in a construct's arguments (`source[open..=close]`).
fn asset_code(source: &str, pairs: &[(usize, usize)], (open, close): (usize, usize), syntax: Syntax, dirs: (&Path, &Path), name: &str) -> Result<DeclaredCode, String> {
    let arguments = &source[open..=close];
    let Some(call) = CODE_CALL.captures(arguments) else {
        return Err(format!("function `{name}`: no Code.fromAsset(...) in its properties; declare the function in {CONFIG_FILE}"));
    };
    let (Some(whole), Some(method)) = (call.get(0), call.get(1)) else {
        return Err(format!("function `{name}`: unreadable code property; declare the function in {CONFIG_FILE}"));
    };
    match method.as_str() {
        "fromInline" | "from_inline" => {
            return Err(format!("function `{name}`: inline code (Code.fromInline) is not supported; move it into a file and point the stack or {CONFIG_FILE} at it"))
        }
        "fromBucket" | "from_bucket" => {
            return Err(format!("function `{name}`: its code is in S3, not in this repository; declare the function's source in {CONFIG_FILE}"))
        }
        _ => {}
    }
    // Only the first argument is the path; the second holds options such as `exclude` globs.
    let path_start = open + whole.end();
    let path_expression = &source[path_start..text::expression_end(source, path_start, pairs)];
    let dir = literal_path(path_expression, dirs)
        .ok_or_else(|| format!("function `{name}`: the asset path is not built from literals; declare the function in {CONFIG_FILE}"))?;
    let handler_key = if syntax == Syntax::Python { r"\bhandler\s*=\s*" } else { r"\bhandler\s*:\s*" };
    Ok(DeclaredCode::Handler { dir, handler: literal_property(arguments, handler_key), entry_points: Vec::new() })
}

/// The handler file of a `NodejsFunction` (`entry`) and its export (`handler`, by default
/// `handler`).
fn entry_code(source: &str, pairs: &[(usize, usize)], (open, close): (usize, usize), dirs: (&Path, &Path), name: &str) -> Result<DeclaredCode, String> {
    let arguments = &source[open..=close];
    let missing = || format!("function `{name}`: NodejsFunction without a literal entry; declare the function in {CONFIG_FILE}");
    let entry = ENTRY.find(arguments).ok_or_else(missing)?;
    let entry_start = open + entry.end();
    let path = literal_path(&source[entry_start..text::expression_end(source, entry_start, pairs)], dirs).ok_or_else(missing)?;
    let export = literal_property(arguments, r"\bhandler\s*:\s*").unwrap_or_else(|| "handler".to_string());
    Ok(DeclaredCode::File { path, export })
}

/// The string literal after the first match of `key` (a regex) in `arguments`.
fn literal_property(arguments: &str, key: &str) -> Option<String> {
    let pattern = Regex::new(&format!(r#"{key}['"`]([^'"`]+)['"`]"#)).ok()?;
    pattern.captures(arguments).and_then(|captures| captures.get(1)).map(|value| value.as_str().to_string())
}

/// The path an expression of string literals stands for: `'lambda/auth'`, or the literals of
/// `path.join(__dirname, '..', 'lambda')` joined; relative to the stack's directory when the
/// expression names `__dirname` / `__file__`, else to the CDK app.
fn literal_path(expression: &str, (stack_dir, app_dir): (&Path, &Path)) -> Option<PathBuf> {
    let literals = text::string_literals(expression);
    if literals.is_empty() || literals.iter().any(|literal| literal.contains("${")) {
        return None;
    }
    let relative_to_stack = expression.contains("__dirname") || expression.contains("__file__");
    let base = if relative_to_stack { stack_dir } else { app_dir };
    Some(literals.iter().fold(base.to_path_buf(), |path, literal| path.join(literal)))
}
