//! Finding the functions of a file, a function directory or a whole repository.
//!
//! A file given directly is a function on its own. A directory is searched for, in this order:
//!
//! 1. deployment files that declare functions — SAM and CloudFormation templates
//!    ([`cloudformation`]), `serverless.yml` ([`serverless`]), Terraform `.tf` files
//!    ([`terraform`]) and CDK stacks in TypeScript, JavaScript or Python ([`cdk`]). They give a
//!    function its name (logical ID, function key, resource or construct name), its handler file
//!    and export (`Handler: src/auth.handler` is `src/auth.{js,mjs,cjs,ts,py}` in the code
//!    directory, export `handler`) and the event types a CloudFront distribution attaches it to;
//! 2. folders holding a handler file — `index.{js,mjs,cjs,ts,py}`, or `lambda_function.py` (the
//!    name the Lambda console gives Python handlers) — unless the folder lies in the code
//!    directory of a function a deployment file declares (it is then that function's package,
//!    not a function of its own);
//! 3. `edgeport.toml` at the root ([`config`], documented in `docs/edgeport-toml.md`), which
//!    overrides both: `exclude` globs drop functions, `[[function]]` tables patch or add them,
//!    `[defines]` holds deploy-time placeholder values.
//!
//! Terraform and CDK are read by a line-oriented scan, not a parser: only string literals count
//! (a handler or asset path built from variables is a [`Note`], not a guess). Whatever cannot be
//! read — a malformed template, a missing code directory, inline or S3 code, an association
//! whose function cannot be identified, a name clash — is a [`Note`] naming the file and line
//! and saying what to do; it never stops the discovery of the other functions. A malformed
//! `edgeport.toml` is an error instead: the user wrote it to steer discovery, and converting
//! while ignoring an `exclude` or an event type would silently do what they asked not to.
//!
//! Directories that hold dependencies, build output, generated deployment files or test data
//! are not searched (`node_modules`, `cdk.out`, `.aws-sam`, `venv`, `events`, ... see `walk`).

mod cdk;
mod cloudformation;
mod config;
mod serverless;
mod terraform;
mod text;
mod walk;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Component, Path, PathBuf};

use edgeport_runtime::cloudfront::EventType;

/// File names recognised as a function's entry point, in order of preference.
pub const HANDLER_FILES: &[&str] = &["index.js", "index.mjs", "index.cjs", "index.ts", "index.py", "lambda_function.py"];

/// The file `discover_project` reads its overrides from, at the root.
pub const CONFIG_FILE: &str = "edgeport.toml";

/// Stems of the handler files that own their directory.
const DIRECTORY_HANDLER_STEMS: &[&str] = &["index", "lambda_function"];

/// One function to convert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSource {
    /// Function name, unique within one discovery (it names the output directory): the
    /// template's logical ID, the `serverless.yml` key, the `edgeport.toml` name, the
    /// directory's name for an `index.*` handler, or the file stem for a stand-alone file.
    pub name: String,
    /// The handler file.
    pub path: PathBuf,
    /// The handler export a template or `edgeport.toml` names (`index.handler` gives
    /// `handler`); the frontend detects it when `None`.
    pub handler: Option<String>,
    /// The event types a template attaches it to; inferred from the code when empty.
    pub event_types: Vec<EventType>,
    /// The directory the function owns — its code directory (`CodeUri`, the CDK asset), or the
    /// directory of an `index.*` handler — whose `events/`, `case.json` and helper files belong
    /// to it; `None` for a stand-alone file.
    pub directory: Option<PathBuf>,
}

impl FunctionSource {
    /// A function for one handler file.
    pub fn from_file(path: &Path) -> Self {
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let owns_directory = DIRECTORY_HANDLER_STEMS.contains(&stem.as_str());
        let name = if owns_directory {
            path.parent()
                .and_then(|dir| std::fs::canonicalize(dir).ok())
                .and_then(|dir| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or(stem)
        } else {
            stem
        };
        let directory = owns_directory.then(|| match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        });
        FunctionSource { name, path: path.to_path_buf(), handler: None, event_types: Vec::new(), directory }
    }

    /// Whether the function owns a directory (see [`FunctionSource::directory`]) rather than
    /// being a stand-alone file.
    pub fn owns_directory(&self) -> bool {
        self.directory.is_some()
    }

    /// The directory the function owns, if any.
    pub fn directory(&self) -> Option<&Path> {
        self.directory.as_deref()
    }

    /// The path as the user gave it, for messages.
    pub fn display_path(&self) -> String {
        self.path.display().to_string()
    }

    /// The file name the engine reports in stack traces.
    pub fn engine_filename(&self) -> String {
        self.path.file_name().map_or_else(|| "index.js".into(), |n| n.to_string_lossy().into_owned())
    }

    /// `typescript` for `.ts` files, `python` for `.py` files, else `javascript`.
    pub fn language(&self) -> &'static str {
        match self.path.extension().and_then(|e| e.to_str()) {
            Some("ts") => "typescript",
            Some("py") => "python",
            _ => "javascript",
        }
    }

    /// The engine that runs it.
    pub fn engine(&self) -> crate::EngineKind {
        match self.language() {
            "python" => crate::EngineKind::Python,
            _ => crate::EngineKind::JavaScript,
        }
    }
}

/// What a repository holds: its functions and what discovery could not use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Project {
    /// The functions, sorted by handler path, with unique names.
    pub functions: Vec<FunctionSource>,
    /// Deploy-time placeholder values from `edgeport.toml` `[defines]`.
    pub defines: BTreeMap<String, String>,
    /// Warnings: declared functions that were skipped or changed, and why.
    pub notes: Vec<Note>,
}

/// A warning about something discovery found but could not use, at a file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The file it is about (a template, `serverless.yml`, a `.tf` file, a stack).
    pub file: PathBuf,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", at(&self.file, self.line), self.message)
    }
}

/// `file:line`, or `file` when the line is unknown.
fn at(file: &Path, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{}:{line}", file.display()),
        None => file.display().to_string(),
    }
}

/// Why nothing could be converted.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// The path does not exist or cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `edgeport.toml` is malformed or names something that does not exist.
    #[error("{}: {message}", at(file, *line))]
    Config {
        /// The `edgeport.toml` file.
        file: PathBuf,
        /// The 1-based line, when known.
        line: Option<usize>,
        /// What is wrong and what to do.
        message: String,
    },
    /// No function was found.
    #[error("no functions found under {}: a function is a directory holding index.js, index.mjs, index.cjs, index.ts, index.py or lambda_function.py, a function a SAM, CloudFormation, serverless, Terraform or CDK file declares, or a [[function]] in edgeport.toml (or pass the handler file itself){}", path.display(), notes.iter().map(|note| format!("\n  note: {note}")).collect::<String>())]
    Empty {
        /// The directory searched.
        path: PathBuf,
        /// What was found but could not be used.
        notes: Vec<Note>,
    },
}

/// The functions at `path`, sorted by path; see [`discover_project`] for the notes and defines.
pub fn discover(path: &Path) -> Result<Vec<FunctionSource>, DiscoverError> {
    discover_project(path).map(|project| project.functions)
}

/// The functions at `path` — a handler file, a function directory or a repository — with the
/// notes on what could not be used and the `edgeport.toml` defines.
pub fn discover_project(path: &Path) -> Result<Project, DiscoverError> {
    let metadata = std::fs::metadata(path).map_err(|source| DiscoverError::Read { path: path.into(), source })?;
    if metadata.is_file() {
        return Ok(Project { functions: vec![FunctionSource::from_file(path)], ..Project::default() });
    }
    let config = config::read(path)?;
    let no_exclusions = Exclusions::default();
    let exclusions = config.as_ref().map_or(&no_exclusions, |config| &config.exclusions);
    let scan = walk::scan(path, exclusions).map_err(|source| DiscoverError::Read { path: path.into(), source })?;

    let mut notes = Vec::new();
    let mut declared = Vec::new();
    for file in &scan.cloudformation {
        cloudformation::read(file, &mut declared, &mut notes);
    }
    for file in &scan.serverless {
        serverless::read(file, &mut declared, &mut notes);
    }
    terraform::read(&scan.terraform, &mut declared, &mut notes);
    for file in &scan.cdk {
        cdk::read(file, path, &mut declared, &mut notes);
    }

    let mut claimed_dirs = Vec::new();
    let mut found = Vec::new();
    for function in declared {
        claimed_dirs.push(function.code.directory());
        match function.resolve() {
            Ok(function) => found.push(function),
            Err(note) => notes.push(note),
        }
    }
    for handler in scan.handler_files {
        let dir = clean(handler.parent().unwrap_or(Path::new("")));
        if !claimed_dirs.iter().any(|claimed| dir.starts_with(claimed)) {
            found.push(Found { origin: Origin { file: handler.clone(), line: None }, function: FunctionSource::from_file(&handler) });
        }
    }
    found.retain(|found| !exclusions.excludes(path, &found.function.path));
    sort(&mut found);
    make_names_unique(&mut found, &mut notes);

    let mut defines = BTreeMap::new();
    if let Some(config) = config {
        config.apply(&mut found)?;
        sort(&mut found);
        make_names_unique(&mut found, &mut notes);
        defines = config.defines;
    }
    if found.is_empty() {
        return Err(DiscoverError::Empty { path: path.into(), notes });
    }
    Ok(Project { functions: found.into_iter().map(|found| found.function).collect(), defines, notes })
}

/// A function found, with where it was declared (for notes about it).
#[derive(Debug)]
struct Found {
    function: FunctionSource,
    origin: Origin,
}

/// Where something was declared.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    file: PathBuf,
    line: Option<usize>,
}

impl Origin {
    fn note(&self, message: impl Into<String>) -> Note {
        Note { file: self.file.clone(), line: self.line, message: message.into() }
    }
}

/// A function a deployment file declares, before its handler file is looked up.
#[derive(Debug)]
struct Declared {
    /// Logical ID, function key, resource or construct name.
    name: String,
    origin: Origin,
    code: DeclaredCode,
    /// `nodejs20.x`, `python3.12`, ...; any language when unknown.
    runtime: Option<String>,
    event_types: Vec<EventType>,
}

/// Where a declared function's code is.
#[derive(Debug)]
enum DeclaredCode {
    /// A code directory and a Lambda handler string (`src/auth.handler`) to resolve in it; with
    /// no handler string, the directory's `index.*` file.
    Handler {
        /// The code directory.
        dir: PathBuf,
        /// `module/path.export`.
        handler: Option<String>,
        /// esbuild entry points (SAM `Metadata.BuildProperties.EntryPoints`): TypeScript sources
        /// that stand for the module the handler string names.
        entry_points: Vec<PathBuf>,
    },
    /// The handler file itself and its export (CDK `NodejsFunction` `entry`).
    File {
        /// The handler file.
        path: PathBuf,
        /// The export.
        export: String,
    },
}

impl DeclaredCode {
    /// The directory the function's package is made from.
    fn directory(&self) -> PathBuf {
        match self {
            DeclaredCode::Handler { dir, .. } => clean(dir),
            DeclaredCode::File { path, .. } => clean(path.parent().unwrap_or(Path::new(""))),
        }
    }
}

/// Extensions a handler module may have, in the order they are tried.
const JAVASCRIPT_EXTENSIONS: &[&str] = &["js", "mjs", "cjs", "ts"];
const PYTHON_EXTENSIONS: &[&str] = &["py"];
const ALL_EXTENSIONS: &[&str] = &["js", "mjs", "cjs", "ts", "py"];

impl Declared {
    /// The function, or a note saying why it cannot be converted.
    fn resolve(self) -> Result<Found, Note> {
        let name = &self.name;
        let extensions = match self.runtime.as_deref() {
            None => ALL_EXTENSIONS,
            Some(runtime) if runtime.to_ascii_lowercase().starts_with("nodejs") => JAVASCRIPT_EXTENSIONS,
            Some(runtime) if runtime.to_ascii_lowercase().starts_with("python") => PYTHON_EXTENSIONS,
            Some(runtime) => {
                return Err(self.origin.note(format!(
                    "function `{name}` uses runtime `{runtime}`; only Node.js and Python functions run at the edge, so it is skipped"
                )))
            }
        };
        let (path, handler, directory) = match self.code {
            DeclaredCode::File { path, export } => {
                if !path.is_file() {
                    return Err(self.origin.note(format!(
                        "function `{name}`: handler file {} does not exist; fix the path or declare the function in {CONFIG_FILE}",
                        path.display()
                    )));
                }
                let dir = path.parent().map(Path::to_path_buf);
                (path, Some(export), dir)
            }
            DeclaredCode::Handler { dir, handler, entry_points } => {
                if !dir.is_dir() {
                    return Err(self.origin.note(format!(
                        "function `{name}`: code directory {} does not exist; fix the path or declare the function in {CONFIG_FILE}",
                        dir.display()
                    )));
                }
                let (path, export) = match handler {
                    Some(handler) => resolve_handler(&dir, &handler, &entry_points, extensions)
                        .map_err(|message| self.origin.note(format!("function `{name}`: {message}")))?,
                    None => {
                        let path = HANDLER_FILES.iter().map(|file| dir.join(file)).find(|path| path.is_file()).ok_or_else(|| {
                            self.origin.note(format!(
                                "function `{name}` names no handler and {} holds no index.* file; add a Handler or declare the function in {CONFIG_FILE}",
                                dir.display()
                            ))
                        })?;
                        (path, None)
                    }
                };
                (path, export, Some(dir))
            }
        };
        let mut event_types = self.event_types;
        event_types.sort();
        event_types.dedup();
        let function =
            FunctionSource { name: self.name, path: clean(&path), handler, event_types, directory: directory.map(|dir| clean(&dir)) };
        Ok(Found { function, origin: self.origin })
    }
}

/// The handler file and export a Lambda handler string (`src/auth.handler`) names in `dir`.
fn resolve_handler(dir: &Path, handler: &str, entry_points: &[PathBuf], extensions: &[&str]) -> Result<(PathBuf, Option<String>), String> {
    let Some((module, export)) = handler.rsplit_once('.').filter(|(module, export)| !module.is_empty() && !export.is_empty()) else {
        return Err(format!("handler `{handler}` is not `module.export` (such as `index.handler`); fix it or declare the function in {CONFIG_FILE}"));
    };
    // Python handlers may name a module by dots (`pkg.auth.handler`) as well as by slashes.
    let mut modules = vec![module.to_string()];
    if module.contains('.') {
        modules.push(module.replace('.', "/"));
    }
    for module in &modules {
        let stem = clean(&dir.join(module));
        if let Some(entry) = entry_points.iter().find(|entry| clean(&entry.with_extension("")) == stem && entry.is_file()) {
            return Ok((entry.clone(), Some(export.to_string())));
        }
        for extension in extensions {
            let path = dir.join(format!("{module}.{extension}"));
            if path.is_file() {
                return Ok((path, Some(export.to_string())));
            }
        }
    }
    Err(format!(
        "handler `{handler}` names {module}.{{{}}} in {}, and none of them exists; build the sources first or declare the function in {CONFIG_FILE}",
        extensions.join(","),
        dir.display()
    ))
}

/// Paths excluded by `edgeport.toml` `exclude` globs, relative to the root.
#[derive(Debug, Default)]
struct Exclusions {
    patterns: Vec<glob::Pattern>,
}

impl Exclusions {
    /// Whether `path` (under `root`) or one of its parent directories matches a pattern.
    fn excludes(&self, root: &Path, path: &Path) -> bool {
        if self.patterns.is_empty() {
            return false;
        }
        let Ok(relative) = clean(path).strip_prefix(clean(root)).map(Path::to_path_buf) else {
            return false;
        };
        let options = glob::MatchOptions { case_sensitive: true, require_literal_separator: true, require_literal_leading_dot: false };
        relative.ancestors().filter(|ancestor| !ancestor.as_os_str().is_empty()).any(|ancestor| {
            let text = ancestor.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            self.patterns.iter().any(|pattern| pattern.matches_with(&text, options))
        })
    }
}

/// `path` with `.` components (but a leading one) and `dir/..` pairs removed, lexically.
fn clean(path: &Path) -> PathBuf {
    let mut parts: Vec<Component<'_>> = Vec::new();
    for (index, component) in path.components().enumerate() {
        match component {
            Component::CurDir if index > 0 => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            _ => parts.push(component),
        }
    }
    parts.iter().collect()
}

fn sort(found: &mut [Found]) {
    found.sort_by(|a, b| (&a.function.path, &a.function.name).cmp(&(&b.function.path, &b.function.name)));
}

/// Gives every function but the first of a name a `-2`, `-3`, ... suffix, with a note.
fn make_names_unique(found: &mut [Found], notes: &mut Vec<Note>) {
    let mut taken: BTreeSet<String> = found.iter().map(|found| found.function.name.clone()).collect();
    let mut first_of: BTreeMap<String, PathBuf> = BTreeMap::new();
    for found in found.iter_mut() {
        let name = found.function.name.clone();
        let Some(first) = first_of.get(&name) else {
            first_of.insert(name, found.function.path.clone());
            continue;
        };
        let unique = (2..).map(|n| format!("{name}-{n}")).find(|candidate| !taken.contains(candidate)).expect("an unused suffix exists");
        notes.push(found.origin.note(format!(
            "function name `{name}` is already taken by {}, so this function is converted as `{unique}`; name it in {CONFIG_FILE} to choose",
            first.display()
        )));
        taken.insert(unique.clone());
        first_of.insert(unique.clone(), found.function.path.clone());
        found.function.name = unique;
    }
}

#[cfg(test)]
mod tests;
