//! What the Python engine loads: the handler's source and the local modules it imports.
//!
//! Lambda puts the handler's directory on `sys.path`, so `import helpers` finds `helpers.py`
//! next to the handler and `import lib.rules` the package `lib/`. The converter follows the
//! imports the frontend found — the handler's, then each bundled module's — and bundles every
//! module file it reaches (a package whole, for its relative imports). Modules that are neither
//! in the standard library nor next to the handler are left out and warned about (the import may
//! sit in a `try`); importing one fails at load, at conversion, as `Runtime.ImportModuleError`
//! pointing at the import.
//!
//! The payload is what `edgeport_load` of the Python engine reads: the source, then for every
//! bundled module NUL, its path relative to the handler's directory, NUL, its text.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use edgeport_frontends::javascript::{HandlerFacts, Import, Options};
use edgeport_frontends::{python, SourceFile};

use crate::ConvertError;

/// Directories never bundled: they hold dependencies, caches or test data, not modules.
const SKIPPED_DIRS: &[&str] = &["__pycache__", "node_modules", "events", "expected", "tests", "venv", ".venv"];

/// What the Python engine is given to load.
pub(crate) struct Bundle<'a> {
    /// The engine's load payload.
    pub(crate) payload: Vec<u8>,
    /// The handler's imports found neither in the standard library nor beside it.
    pub(crate) missing: Vec<&'a Import>,
}

/// The bundle for the handler at `handler` with text `source`.
pub(crate) fn bundle<'a>(handler: &Path, source: &str, facts: &'a HandlerFacts) -> Result<Bundle<'a>, ConvertError> {
    let dir = handler.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let missing = facts
        .imports
        .iter()
        .filter(|import| local_name(import).is_some_and(|name| module_files(&dir, name).is_empty()))
        .collect();
    let mut bundled = BTreeMap::new();
    let mut pending: Vec<String> = local_imports(facts);
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = pending.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        for path in module_files(&dir, &name) {
            if path == handler || bundled.contains_key(&path) {
                continue;
            }
            let text = std::fs::read(&path).map_err(|source| ConvertError::Read { path: path.clone(), source })?;
            let text = String::from_utf8_lossy(&text).into_owned();
            let module = SourceFile::new(path.display().to_string(), text.clone());
            if let Some(facts) = python::analyze(&module, &Options::default()).facts {
                pending.extend(local_imports(&facts));
            }
            bundled.insert(path, text);
        }
    }
    let mut payload = source.as_bytes().to_vec();
    for (path, text) in &bundled {
        let relative = path.strip_prefix(&dir).unwrap_or(path);
        payload.push(0);
        payload.extend_from_slice(relative.to_string_lossy().replace('\\', "/").as_bytes());
        payload.push(0);
        // Python source cannot hold NUL; one that does fails to compile either way.
        payload.extend(text.bytes().filter(|&byte| byte != 0));
    }
    Ok(Bundle { payload, missing })
}

/// The top-level module an absolute import outside the standard library names.
fn local_name(import: &Import) -> Option<&str> {
    if import.builtin || import.specifier.starts_with('.') {
        return None;
    }
    import.specifier.split('.').next().filter(|name| !name.is_empty())
}

/// The top-level names of the absolute imports outside the standard library.
fn local_imports(facts: &HandlerFacts) -> Vec<String> {
    facts.imports.iter().filter_map(local_name).map(str::to_string).collect()
}

/// The files of module `name` in `dir`: `name.py`, or every `.py` file of package `name/`.
fn module_files(dir: &Path, name: &str) -> Vec<PathBuf> {
    let file = dir.join(format!("{name}.py"));
    if file.is_file() {
        return vec![file];
    }
    let mut files = Vec::new();
    let package = dir.join(name);
    if package.join("__init__.py").is_file() {
        collect_package(&package, &mut files);
    }
    files.sort();
    files
}

fn collect_package(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() && !name.starts_with('.') && !SKIPPED_DIRS.contains(&name.as_str()) => {
                collect_package(&path, files)
            }
            Ok(kind) if kind.is_file() && name.ends_with(".py") => files.push(path),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts_of(path: &Path) -> HandlerFacts {
        let text = std::fs::read_to_string(path).expect("read");
        python::analyze(&SourceFile::new("lambda_function.py", text), &Options::default())
            .facts
            .expect("parses")
    }

    #[test]
    fn bundles_the_local_modules_the_handler_reaches_and_nothing_else() {
        let root = tempfile::tempdir().expect("temp dir");
        let write = |name: &str, text: &str| {
            let path = root.path().join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        };
        write("helpers.py", "from rules import R\n\ndef f():\n    return R\n");
        write("rules/__init__.py", "from .table import R\n");
        write("rules/table.py", "R = 1\n");
        write("unused.py", "X = 1\n");
        write("lambda_function.py", "import json\nimport helpers\nimport jwt\n\ndef lambda_handler(event, context):\n    return helpers.f()\n");
        let handler = root.path().join("lambda_function.py");
        let source = std::fs::read_to_string(&handler).expect("read");
        let facts = facts_of(&handler);
        let bundle = bundle(&handler, &source, &facts).expect("bundle");
        let missing: Vec<&str> = bundle.missing.iter().map(|import| import.specifier.as_str()).collect();
        assert_eq!(missing, ["jwt"]);
        let parts: Vec<&[u8]> = bundle.payload.split(|&b| b == 0).collect();
        let names: Vec<String> = parts[1..].iter().step_by(2).map(|p| String::from_utf8_lossy(p).into_owned()).collect();
        assert_eq!(parts[0], source.as_bytes());
        assert_eq!(names, ["helpers.py", "rules/__init__.py", "rules/table.py"]);
        assert_eq!(parts[2], b"from rules import R\n\ndef f():\n    return R\n");
    }
}
