//! Finding the functions in a file or directory.
//!
//! A function is a handler file — `index.{js,mjs,cjs,ts,py}`, or `lambda_function.py` (the name
//! the Lambda console gives Python handlers) — and the directory holding it; a file given
//! directly is a function on its own. Directories that hold dependencies, build output or
//! test data are not searched.

use std::path::{Path, PathBuf};

/// File names recognised as a function's entry point, in order of preference.
pub const HANDLER_FILES: &[&str] = &["index.js", "index.mjs", "index.cjs", "index.ts", "index.py", "lambda_function.py"];

/// Stems of the handler files that own their directory.
const DIRECTORY_HANDLER_STEMS: &[&str] = &["index", "lambda_function"];

/// Directories never searched for functions.
const SKIPPED_DIRS: &[&str] = &["node_modules", "target", "dist", "events", "expected"];

/// One function to convert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSource {
    /// Function name: its directory's name, or the file stem for a stand-alone file.
    pub name: String,
    /// The handler file.
    pub path: PathBuf,
    /// The handler export a template or `edgeport.toml` names (`index.handler` gives
    /// `handler`); the frontend detects it when `None`.
    pub handler: Option<String>,
    /// The event types a template attaches it to; inferred from the code when empty.
    pub event_types: Vec<edgeport_runtime::cloudfront::EventType>,
}

impl FunctionSource {
    /// A function for one handler file.
    pub fn from_file(path: &Path) -> Self {
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let name = if DIRECTORY_HANDLER_STEMS.contains(&stem.as_str()) {
            path.parent()
                .and_then(|dir| std::fs::canonicalize(dir).ok())
                .and_then(|dir| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or(stem)
        } else {
            stem
        };
        FunctionSource { name, path: path.to_path_buf(), handler: None, event_types: Vec::new() }
    }

    /// Whether the function is an `index.*` (or `lambda_function.py`) handler owning its
    /// directory — so the directory's `events/`, `case.json` and helper files belong to it —
    /// rather than a stand-alone file.
    pub fn owns_directory(&self) -> bool {
        self.path.file_stem().is_some_and(|stem| DIRECTORY_HANDLER_STEMS.iter().any(|s| stem == *s))
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
    /// No function was found.
    #[error("no functions found under {0}: a function is a directory holding index.js, index.mjs, index.cjs, index.ts, index.py or lambda_function.py (or pass the handler file itself)")]
    Empty(PathBuf),
}

/// The functions at `path`, sorted by path.
pub fn discover(path: &Path) -> Result<Vec<FunctionSource>, DiscoverError> {
    let metadata = std::fs::metadata(path).map_err(|source| DiscoverError::Read { path: path.into(), source })?;
    if metadata.is_file() {
        return Ok(vec![FunctionSource::from_file(path)]);
    }
    let mut found = Vec::new();
    walk(path, &mut found).map_err(|source| DiscoverError::Read { path: path.into(), source })?;
    if found.is_empty() {
        return Err(DiscoverError::Empty(path.into()));
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<FunctionSource>) -> std::io::Result<()> {
    if let Some(handler) = HANDLER_FILES.iter().map(|name| dir.join(name)).find(|path| path.is_file()) {
        found.push(FunctionSource::from_file(&handler));
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if entry.file_type()?.is_dir() && !name.starts_with('.') && !SKIPPED_DIRS.contains(&name.as_ref()) {
            walk(&entry.path(), found)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_function_directories_and_skips_dependencies() {
        let root = tempfile::tempdir().expect("temp dir");
        for dir in ["a", "b/nested", "node_modules/pkg", "c"] {
            std::fs::create_dir_all(root.path().join(dir)).expect("mkdir");
        }
        std::fs::write(root.path().join("a/index.js"), "").expect("write");
        std::fs::write(root.path().join("b/nested/index.ts"), "").expect("write");
        std::fs::create_dir_all(root.path().join("py")).expect("mkdir");
        std::fs::write(root.path().join("py/lambda_function.py"), "").expect("write");
        std::fs::write(root.path().join("py/helpers.py"), "").expect("write");
        std::fs::write(root.path().join("node_modules/pkg/index.js"), "").expect("write");
        std::fs::write(root.path().join("c/readme.md"), "").expect("write");
        let names: Vec<_> = discover(root.path()).expect("found").into_iter().map(|f| f.name).collect();
        assert_eq!(names, ["a", "nested", "py"]);
    }

    #[test]
    fn empty_directory_is_an_error_that_says_what_a_function_is() {
        let root = tempfile::tempdir().expect("temp dir");
        let error = discover(root.path()).expect_err("nothing there");
        assert!(error.to_string().contains("index.js"));
    }

    #[test]
    fn a_file_is_named_after_its_directory_when_it_is_an_index() {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(root.path().join("redirect")).expect("mkdir");
        let file = root.path().join("redirect/index.js");
        std::fs::write(&file, "").expect("write");
        assert_eq!(FunctionSource::from_file(&file).name, "redirect");
        assert_eq!(FunctionSource::from_file(Path::new("x/auth.mjs")).name, "auth");
    }
}
