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
//! Third-party packages are vendored the way Lambda deployment packages vendor them:
//! `pip install -r requirements.txt --target <function directory>` puts each package beside
//! the handler, where the import walk above bundles it like any local package. `requirements.txt`
//! is checked against what is vendored ([`requirement_warnings`]): a requirement without its
//! `*.dist-info` beside the handler, or one that ships compiled extensions, is a warning that
//! says what to run.
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
    /// The handler and every bundled module file.
    pub(crate) inputs: Vec<PathBuf>,
}

/// The bundle for the handler at `handler` with text `source`.
pub(crate) fn bundle<'a>(
    handler: &Path,
    source: &str,
    facts: &'a HandlerFacts,
    defines: &BTreeMap<String, String>,
) -> Result<Bundle<'a>, ConvertError> {
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
            let text = crate::placeholders::substitute(&String::from_utf8_lossy(&text), defines);
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
    let inputs = std::iter::once(handler.to_path_buf()).chain(bundled.keys().cloned()).collect();
    Ok(Bundle { payload, missing, inputs })
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

/// The requirements file Lambda's Python tooling reads, beside the handler.
pub(crate) const REQUIREMENTS_FILE: &str = "requirements.txt";

/// One finding about `requirements.txt`, as `(line, message, help)`.
pub(crate) struct RequirementFinding {
    /// 1-based line in `requirements.txt`.
    pub(crate) line: usize,
    /// What is wrong.
    pub(crate) message: String,
    /// What to do.
    pub(crate) help: String,
}

/// Checks each requirement of `dir/requirements.txt` against the distributions vendored in
/// `dir` (their `*.dist-info` directories): missing ones and ones with compiled extensions.
pub(crate) fn requirement_warnings(dir: &Path) -> Vec<RequirementFinding> {
    let Ok(text) = std::fs::read_to_string(dir.join(REQUIREMENTS_FILE)) else { return Vec::new() };
    let vendored = vendored_distributions(dir);
    let mut findings = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let Some(name) = requirement_name(line) else { continue };
        match vendored.get(&normalize_distribution(name)) {
            None => findings.push(RequirementFinding {
                line: index + 1,
                message: format!("'{name}' is required but not vendored beside the handler, so it is not part of the converted function"),
                help: format!("run `pip install -r {REQUIREMENTS_FILE} --target .` in the function's directory, as for a Lambda deployment package, then convert again"),
            }),
            Some(record) => {
                if let Some(native) = record.iter().find(|file| is_compiled_extension(file)) {
                    findings.push(RequirementFinding {
                        line: index + 1,
                        message: format!("'{name}' ships a compiled extension ({native}), which cannot run in WebAssembly"),
                        help: "use a pure-Python release of the package (many have one), or move the work to the origin".to_string(),
                    });
                }
            }
        }
    }
    findings
}

/// The distribution a requirement line names: `PyJWT[crypto]>=2.0 ; python_version>"3"`
/// names `PyJWT`. Comments, options (`-r`, `--index-url`) and URLs name none.
fn requirement_name(line: &str) -> Option<&str> {
    let line = line.split('#').next().unwrap_or("").trim();
    if line.is_empty() || line.starts_with('-') || line.contains("://") {
        return None;
    }
    let end = line.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')).unwrap_or(line.len());
    (end > 0).then(|| &line[..end])
}

/// PEP 503 normalisation: case-insensitive, runs of `-`, `_` and `.` are one `-`.
fn normalize_distribution(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The vendored distributions in `dir`: normalised name → the files its `RECORD` lists.
fn vendored_distributions(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut found = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".dist-info") else { continue };
        let distribution = stem.split_once('-').map_or(stem, |(name, _version)| name);
        let record = std::fs::read_to_string(entry.path().join("RECORD")).unwrap_or_default();
        let files = record.lines().filter_map(|line| line.split(',').next()).map(str::to_owned).collect();
        found.insert(normalize_distribution(distribution), files);
    }
    found
}

fn is_compiled_extension(file: &str) -> bool {
    file.ends_with(".so") || file.ends_with(".pyd") || file.contains(".so.")
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
    fn requirements_are_checked_against_vendored_distributions() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = root.path();
        std::fs::write(
            dir.join(REQUIREMENTS_FILE),
            "# deps\nitsdangerous==2.2.0\n-r other.txt\nPyYAML>=6 ; python_version > '3'\nmissing_pkg[extra]\nhttps://example.com/x.whl\n",
        )
        .expect("write");
        for (dist, record) in [("itsdangerous-2.2.0.dist-info", "itsdangerous/__init__.py,sha256=x,1\n"), ("PyYAML-6.0.dist-info", "yaml/__init__.py,,\n_yaml.cpython-311-x86_64-linux-gnu.so,,\n")] {
            std::fs::create_dir_all(dir.join(dist)).expect("mkdir");
            std::fs::write(dir.join(dist).join("RECORD"), record).expect("write");
        }
        let findings: Vec<(usize, String)> = requirement_warnings(dir).into_iter().map(|f| (f.line, f.message)).collect();
        assert_eq!(
            findings,
            [
                (4, "'PyYAML' ships a compiled extension (_yaml.cpython-311-x86_64-linux-gnu.so), which cannot run in WebAssembly".to_string()),
                (5, "'missing_pkg' is required but not vendored beside the handler, so it is not part of the converted function".to_string()),
            ]
        );
        assert_eq!(normalize_distribution("Foo__Bar.baz"), "foo-bar-baz");
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
        let bundle = bundle(&handler, &source, &facts, &BTreeMap::new()).expect("bundle");
        let missing: Vec<&str> = bundle.missing.iter().map(|import| import.specifier.as_str()).collect();
        assert_eq!(missing, ["jwt"]);
        let parts: Vec<&[u8]> = bundle.payload.split(|&b| b == 0).collect();
        let names: Vec<String> = parts[1..].iter().step_by(2).map(|p| String::from_utf8_lossy(p).into_owned()).collect();
        assert_eq!(parts[0], source.as_bytes());
        assert_eq!(names, ["helpers.py", "rules/__init__.py", "rules/table.py"]);
        assert_eq!(parts[2], b"from rules import R\n\ndef f():\n    return R\n");
        let inputs: Vec<_> = bundle.inputs.iter().map(|p| p.strip_prefix(root.path()).expect("inside").display().to_string()).collect();
        assert_eq!(inputs, ["lambda_function.py", "helpers.py", "rules/__init__.py", "rules/table.py"]);
    }
}
