//! What the JavaScript engine loads: the handler and every module it requires, resolved the way
//! Node resolves them, plus the files the function reads with `fs`.
//!
//! Lambda runs a function from its deployment package in `/var/task`: the handler, its local
//! modules, its `node_modules` and any data files. The converter rebuilds that package inside
//! the artifact. Starting from the handler it follows every literal `require` / `import` (the
//! frontend's import facts), resolves it with Node's CommonJS algorithm — relative paths with
//! `.js`/`.json`/`.cjs`/`.mjs`/`.ts`, directories through `package.json` `main` and `index`,
//! packages through the `node_modules` directories above the requiring file and their
//! `exports` maps under the `require`, `node` and `default` conditions — and records, per
//! module, which module each specifier names. The engine's `require` only looks up that table,
//! so resolution happens once, here, with the real file system.
//!
//! Every module gets the path it would have in `/var/task`: files under the function's
//! directory keep their relative path, packages keep the part from `node_modules/` on. When the
//! function's own code (not a package) uses `fs`, the files of its directory are bundled too and
//! served read-only under the same paths (`fs.readFileSync(path.join(__dirname, 'config.json'))`).
//!
//! Invariant: resolution never leaves the modules the function can reach; a specifier that does
//! not resolve is an error in the function's own code (Node would throw at the edge) and a
//! warning in a package's (packages probe optional dependencies inside `try`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};

use edgeport_frontends::diagnostic::{codes, Diagnostic, Severity};
use edgeport_frontends::javascript::{self, HandlerFacts, Import, ModuleOrigin};
use edgeport_frontends::SourceFile;

use crate::{placeholders, ConvertError, FunctionSource};

/// Where Lambda unpacks a function's deployment package; `__dirname` of the handler.
pub(crate) const TASK_ROOT: &str = "/var/task";

/// Extensions tried after a path, in Node's order and then TypeScript's.
const EXTENSIONS: &[&str] = &["js", "json", "cjs", "mjs", "ts"];

/// Conditions of `package.json` `exports` that a CommonJS `require` on node matches.
const CONDITIONS: &[&str] = &["require", "node", "node-addons", "default"];

/// Directories whose files are never served to `fs`: dependencies, caches, test data.
const SKIPPED_DIRS: &[&str] = &["node_modules", "events", "expected", "dist", "target", "coverage", "__pycache__"];

/// Limits that keep a bundle (and a hostile repository) bounded.
const MAX_MODULES: usize = 5_000;
/// Bundled data files beyond this total are an error: CloudFront's limit for an origin
/// function's package is 50 MB zipped, and a viewer function's 1 MB.
const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// One module of the bundle.
pub(crate) struct BundledModule {
    /// Its path under `/var/task`, which is also its `__filename` and its name in stack traces.
    pub(crate) id: String,
    /// The file it was read from.
    pub(crate) path: PathBuf,
    /// The CommonJS script the engine compiles.
    pub(crate) script: String,
    /// Specifier → module id, or `node:<name>` for a built-in.
    pub(crate) resolutions: BTreeMap<String, String>,
    /// The analysed text (after placeholder substitution), for diagnostics.
    pub(crate) file: SourceFile,
    /// Whether it is the function's own code rather than a package's.
    pub(crate) local: bool,
}

/// The handler's module graph and the files it may read.
pub(crate) struct Bundle {
    /// The handler first, then the modules in the order they were found.
    pub(crate) modules: Vec<BundledModule>,
    /// Data files served to `fs`: path under `/var/task`, bytes.
    pub(crate) files: Vec<(String, Vec<u8>)>,
    /// Built-ins required anywhere in the graph (preloaded into the snapshot).
    pub(crate) builtins: BTreeSet<String>,
    /// Warnings about other files, re-attached to the handler's import that pulled them in.
    pub(crate) warnings: Vec<Diagnostic>,
    /// Every file read.
    pub(crate) inputs: Vec<PathBuf>,
}

/// What went wrong in a module other than the handler: reported against that module's file.
fn module_error(file: SourceFile, diagnostics: Vec<Diagnostic>) -> ConvertError {
    ConvertError::Diagnostics { file, diagnostics }
}

/// Bundles the function whose handler is `function.path`, whose analysed text is `file`
/// (placeholders already substituted), lowered to `script`, with `facts`. The function's
/// package root — `/var/task` — is the directory it owns (a template's code directory), else
/// the handler's.
pub(crate) fn bundle(
    function: &FunctionSource,
    file: &SourceFile,
    script: String,
    facts: &HandlerFacts,
    defines: &BTreeMap<String, String>,
) -> Result<Bundle, ConvertError> {
    let handler_path = absolute(&function.path);
    let root = match function.directory() {
        Some(dir) => absolute(dir),
        None => handler_path.parent().map_or_else(|| PathBuf::from("/"), Path::to_path_buf),
    };
    let mut ids = ModuleIds::new(root.clone());
    let handler_id = ids.id_of(&handler_path);
    let mut modules = vec![BundledModule {
        id: handler_id,
        path: handler_path.clone(),
        script,
        resolutions: BTreeMap::new(),
        file: file.clone(),
        local: true,
    }];
    let mut imports_of: Vec<Vec<Import>> = vec![facts.imports.clone()];
    let mut builtins: BTreeSet<String> = facts.builtins.iter().cloned().collect();
    let mut warnings = Vec::new();
    let mut index_of: HashMap<PathBuf, usize> = HashMap::from([(handler_path.clone(), 0)]);
    // For each module, the handler import through which it was first reached (for warnings).
    let mut reached_through: Vec<Option<Import>> = vec![None];
    let mut reads_files = uses_fs(&facts.builtins);

    let mut next = 0;
    while next < modules.len() {
        let from_dir = modules[next].path.parent().map_or_else(|| root.clone(), Path::to_path_buf);
        let imports = std::mem::take(&mut imports_of[next]);
        for import in &imports {
            if modules[next].resolutions.contains_key(&import.specifier) {
                continue;
            }
            let via = reached_through[next].clone().unwrap_or_else(|| import.clone());
            let target = match resolve(&from_dir, &import.specifier) {
                Resolved::Builtin(name) => format!("node:{name}"),
                Resolved::File(path) => {
                    let index = match index_of.get(&path) {
                        Some(&index) => index,
                        None => {
                            if modules.len() >= MAX_MODULES {
                                return Err(ConvertError::Engine(format!(
                                    "{}: the function reaches more than {MAX_MODULES} modules; bundle it with esbuild first",
                                    handler_path.display()
                                )));
                            }
                            let local = !is_package_path(&path);
                            let loaded = load_module(&path, &mut ids, local, defines)?;
                            if loaded.diagnostics.iter().any(|d| d.severity == Severity::Error) {
                                return Err(module_error(loaded.file, loaded.diagnostics));
                            }
                            for warning in &loaded.diagnostics {
                                warnings.push(reattach(warning, &loaded.file, &via));
                            }
                            if local {
                                reads_files |= uses_fs(&loaded.builtins);
                            }
                            builtins.extend(loaded.builtins.iter().cloned());
                            let index = modules.len();
                            modules.push(BundledModule {
                                id: loaded.id,
                                path: path.clone(),
                                script: loaded.script,
                                resolutions: BTreeMap::new(),
                                file: loaded.file,
                                local,
                            });
                            imports_of.push(loaded.imports);
                            reached_through.push(Some(via.clone()));
                            index_of.insert(path, index);
                            index
                        }
                    };
                    modules[index].id.clone()
                }
                Resolved::NotFound => {
                    let module = &modules[next];
                    let diagnostic = unresolved(import, module.local);
                    if module.local && next == 0 {
                        return Err(ConvertError::Diagnostics { file: file.clone(), diagnostics: vec![diagnostic] });
                    }
                    if module.local {
                        return Err(module_error(module.file.clone(), vec![diagnostic]));
                    }
                    warnings.push(reattach(&diagnostic, &module.file, &via));
                    continue;
                }
            };
            modules[next].resolutions.insert(import.specifier.clone(), target);
        }
        next += 1;
    }

    let mut inputs: Vec<PathBuf> = modules.iter().map(|m| m.path.clone()).collect();
    let files = if reads_files { data_files(&root, defines, &mut inputs)? } else { Vec::new() };
    inputs.extend(ids.manifests.iter().cloned());
    inputs.sort();
    inputs.dedup();
    Ok(Bundle { modules, files, builtins, warnings, inputs })
}

fn uses_fs(builtins: &[String]) -> bool {
    builtins.iter().any(|b| b == "fs" || b == "fs/promises")
}

/// A module read, substituted (when local) and analysed.
struct LoadedModule {
    id: String,
    file: SourceFile,
    /// What it loads, literally named.
    imports: Vec<Import>,
    /// The built-ins among them.
    builtins: Vec<String>,
    /// Errors stop the conversion; warnings are passed on.
    diagnostics: Vec<Diagnostic>,
    /// The CommonJS script the engine compiles.
    script: String,
}

fn load_module(path: &Path, ids: &mut ModuleIds, local: bool, defines: &BTreeMap<String, String>) -> Result<LoadedModule, ConvertError> {
    let bytes = std::fs::read(path).map_err(|source| ConvertError::Read { path: path.to_path_buf(), source })?;
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if local {
        text = placeholders::substitute(&text, defines);
    }
    let id = ids.id_of(path);
    let file = SourceFile::new(path.display().to_string(), text);
    if path.extension().is_some_and(|e| e == "json") {
        return json_module(id, file);
    }
    let origin = if local { ModuleOrigin::Local } else { ModuleOrigin::Package };
    let analysis = javascript::analyze_module(&file, origin);
    let (imports, builtins) = analysis.facts.map(|facts| (facts.imports, facts.builtins)).unwrap_or_default();
    let script = analysis.lowered.unwrap_or_default();
    Ok(LoadedModule { id, file, imports, builtins, diagnostics: analysis.diagnostics, script })
}

/// A JSON module is `module.exports = JSON.parse(<text>)`, as Node loads it; invalid JSON fails
/// conversion at the place Node would report.
fn json_module(id: String, file: SourceFile) -> Result<LoadedModule, ConvertError> {
    let text = file.text.strip_prefix('\u{feff}').unwrap_or(&file.text);
    if let Err(error) = serde_json::from_str::<serde_json::Value>(text) {
        let offset = file.text.split_inclusive('\n').take(error.line().saturating_sub(1)).map(str::len).sum::<usize>()
            + error.column().saturating_sub(1);
        let offset = offset.min(file.text.len());
        let diagnostic = Diagnostic::error(codes::SYNTAX_ERROR, format!("invalid JSON: {error}"))
            .with_label(offset..offset, "here")
            .with_help("require() of a .json file parses it with JSON.parse; fix the file");
        return Err(module_error(file, vec![diagnostic]));
    }
    let literal = serde_json::to_string(text).expect("strings always serialise");
    let script = format!("module.exports = JSON.parse({literal});");
    Ok(LoadedModule { id, file, imports: Vec::new(), builtins: Vec::new(), diagnostics: Vec::new(), script })
}

/// The diagnostic for a specifier that resolves to nothing.
fn unresolved(import: &Import, local: bool) -> Diagnostic {
    let specifier = &import.specifier;
    let relative = is_relative(specifier);
    let (code, message, help) = if relative {
        (
            codes::LOCAL_MODULE,
            format!("cannot find local module '{specifier}'"),
            "check the path; Node tries .js, .json, .cjs, .mjs and .ts, then the directory's package.json main and index files".to_string(),
        )
    } else {
        (
            codes::UNRESOLVED_MODULE,
            format!("cannot find package '{specifier}' in any node_modules directory above the file"),
            "run `npm ci` (or `npm install`) in the function's package before converting, so that its dependencies are bundled".to_string(),
        )
    };
    let diagnostic = if local { Diagnostic::error(code, message) } else { Diagnostic::warning(code, message) };
    diagnostic.with_label(import.span.clone(), "required here").with_help(help)
}

/// A warning found in another file, shown at the handler's import that led to it, with the
/// other file's location in the message.
fn reattach(diagnostic: &Diagnostic, file: &SourceFile, via: &Import) -> Diagnostic {
    let location = diagnostic
        .location(file)
        .map_or_else(|| file.name.clone(), |(line, column)| format!("{}:{line}:{column}", file.name));
    Diagnostic {
        code: diagnostic.code,
        severity: Severity::Warning,
        message: format!("{location}: {}", diagnostic.message),
        labels: vec![edgeport_frontends::diagnostic::Label {
            span: via.span.clone(),
            message: format!("'{}' leads there", via.specifier),
        }],
        help: diagnostic.help.clone(),
    }
}

/// What a specifier names.
#[derive(Debug, PartialEq, Eq)]
enum Resolved {
    Builtin(String),
    File(PathBuf),
    NotFound,
}

fn is_relative(specifier: &str) -> bool {
    specifier.starts_with("./") || specifier.starts_with("../") || specifier.starts_with('/') || specifier == "." || specifier == ".."
}

/// Node's `require.resolve(specifier)` from a module in `from_dir`.
fn resolve(from_dir: &Path, specifier: &str) -> Resolved {
    if let Some(name) = specifier.strip_prefix("node:") {
        return Resolved::Builtin(name.to_owned());
    }
    if is_relative(specifier) {
        let target = normalize(&from_dir.join(specifier));
        return file_or_directory(&target).map_or(Resolved::NotFound, Resolved::File);
    }
    if javascript::is_builtin(specifier) {
        return Resolved::Builtin(specifier.to_owned());
    }
    let (package, subpath) = split_package(specifier);
    for dir in from_dir.ancestors() {
        if dir.file_name().is_some_and(|name| name == "node_modules") {
            continue;
        }
        let package_dir = dir.join("node_modules").join(package);
        if !package_dir.is_dir() {
            continue;
        }
        let manifest = read_manifest(&package_dir);
        if let Some(exports) = manifest.as_ref().and_then(|m| m.get("exports")) {
            let wanted = if subpath.is_empty() { ".".to_owned() } else { format!("./{subpath}") };
            return exports_target(exports, &wanted)
                .map(|target| normalize(&package_dir.join(target)))
                .filter(|path| path.is_file())
                .map_or(Resolved::NotFound, Resolved::File);
        }
        let target = if subpath.is_empty() { package_dir } else { package_dir.join(subpath) };
        return file_or_directory(&target).map_or(Resolved::NotFound, Resolved::File);
    }
    Resolved::NotFound
}

/// `@scope/name/sub/path` → (`@scope/name`, `sub/path`).
fn split_package(specifier: &str) -> (&str, &str) {
    let parts = if specifier.starts_with('@') { 2 } else { 1 };
    match specifier.match_indices('/').nth(parts - 1) {
        Some((at, _)) => (&specifier[..at], &specifier[at + 1..]),
        None => (specifier, ""),
    }
}

fn file_or_directory(target: &Path) -> Option<PathBuf> {
    as_file(target).or_else(|| as_directory(target))
}

/// LOAD_AS_FILE: the path itself, then with each extension added.
fn as_file(target: &Path) -> Option<PathBuf> {
    if target.is_file() {
        return Some(target.to_path_buf());
    }
    let name = target.file_name()?.to_string_lossy().into_owned();
    EXTENSIONS.iter().map(|ext| target.with_file_name(format!("{name}.{ext}"))).find(|p| p.is_file())
}

/// LOAD_AS_DIRECTORY: `package.json` `main`, then `index`.
fn as_directory(dir: &Path) -> Option<PathBuf> {
    if !dir.is_dir() {
        return None;
    }
    if let Some(main) = read_manifest(dir).as_ref().and_then(|m| m.get("main")).and_then(|m| m.as_str()) {
        let main = normalize(&dir.join(main));
        if let Some(found) = as_file(&main).or_else(|| index_of_dir(&main)) {
            return Some(found);
        }
    }
    index_of_dir(dir)
}

fn index_of_dir(dir: &Path) -> Option<PathBuf> {
    EXTENSIONS.iter().map(|ext| dir.join(format!("index.{ext}"))).find(|p| p.is_file())
}

fn read_manifest(dir: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read(dir.join("package.json")).ok()?;
    serde_json::from_slice(&text).ok()
}

/// The target of `wanted` (`.` or `./sub`) in a `package.json` `exports` value.
fn exports_target(exports: &serde_json::Value, wanted: &str) -> Option<String> {
    use serde_json::Value;
    let is_subpath_map = matches!(exports, Value::Object(map) if map.keys().any(|k| k.starts_with('.')));
    if !is_subpath_map {
        return (wanted == ".").then(|| conditional_target(exports, "")).flatten();
    }
    let Value::Object(map) = exports else { return None };
    if let Some(value) = map.get(wanted) {
        return conditional_target(value, "");
    }
    // Subpath patterns: `./features/*` or `./features/*.js`, the longest prefix first.
    let mut patterns: Vec<(&String, &Value)> = map.iter().filter(|(k, _)| k.contains('*')).collect();
    patterns.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
    for (pattern, value) in patterns {
        let (prefix, suffix) = pattern.split_once('*')?;
        if let Some(rest) = wanted.strip_prefix(prefix).and_then(|r| r.strip_suffix(suffix)) {
            return conditional_target(value, rest);
        }
    }
    None
}

/// Resolves conditions (`{"require": ..., "default": ...}`), arrays and strings, replacing `*`.
fn conditional_target(value: &serde_json::Value, star: &str) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(target) => Some(target.replace('*', star)),
        Value::Array(items) => items.iter().find_map(|item| conditional_target(item, star)),
        Value::Object(map) => map
            .iter()
            .filter(|(condition, _)| CONDITIONS.contains(&condition.as_str()))
            .find_map(|(_, target)| conditional_target(target, star)),
        _ => None,
    }
}

fn is_package_path(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "node_modules")
}

/// `a/./b/../c` → `a/c`, without touching the file system (symlinks in node_modules keep the
/// path they were reached by, as Node's `--preserve-symlinks` would; ids stay readable).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map_or_else(|_| path.to_path_buf(), |cwd| cwd.join(path))
    };
    normalize(&joined)
}

/// Gives every file its path inside `/var/task`, unique within one bundle.
struct ModuleIds {
    root: PathBuf,
    by_path: HashMap<PathBuf, String>,
    taken: BTreeSet<String>,
    /// The `package.json` files resolution read (cache inputs).
    manifests: BTreeSet<PathBuf>,
}

impl ModuleIds {
    fn new(root: PathBuf) -> Self {
        ModuleIds { root, by_path: HashMap::new(), taken: BTreeSet::new(), manifests: BTreeSet::new() }
    }

    fn id_of(&mut self, path: &Path) -> String {
        if let Some(id) = self.by_path.get(path) {
            return id.clone();
        }
        if let Some(package_dir) = package_root(path) {
            self.manifests.insert(package_dir.join("package.json"));
        }
        let relative = if let Ok(inside) = path.strip_prefix(&self.root) {
            inside.to_path_buf()
        } else if let Some(at) = path.components().position(|c| c.as_os_str() == "node_modules") {
            path.components().skip(at).collect()
        } else {
            // A local module outside the function's directory (`../shared/util.js`).
            PathBuf::from("_outside").join(path.strip_prefix("/").unwrap_or(path))
        };
        let base = format!("{TASK_ROOT}/{}", relative.to_string_lossy());
        let mut id = base.clone();
        let mut n = 2;
        while self.taken.contains(&id) {
            id = format!("{base}~{n}");
            n += 1;
        }
        self.taken.insert(id.clone());
        self.by_path.insert(path.to_path_buf(), id.clone());
        id
    }
}

/// The package directory (`.../node_modules/name` or `.../node_modules/@scope/name`) a file
/// belongs to.
fn package_root(path: &Path) -> Option<PathBuf> {
    let components: Vec<Component> = path.components().collect();
    let at = components.iter().rposition(|c| c.as_os_str() == "node_modules")?;
    let scoped = components.get(at + 1)?.as_os_str().to_string_lossy().starts_with('@');
    let take = at + if scoped { 3 } else { 2 };
    (take < components.len()).then(|| components[..take].iter().collect())
}

/// The files under the function's directory that `fs` may read, each under its `/var/task`
/// path; text files get the function's placeholders substituted like its code.
fn data_files(
    root: &Path,
    defines: &BTreeMap<String, String>,
    inputs: &mut Vec<PathBuf>,
) -> Result<Vec<(String, Vec<u8>)>, ConvertError> {
    let mut files = Vec::new();
    let mut total = 0u64;
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| ConvertError::Read { path: dir.clone(), source })?;
        let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let Ok(kind) = entry.file_type() else { continue };
            if name.starts_with('.') || (kind.is_dir() && SKIPPED_DIRS.contains(&name.as_str())) || name == "case.json" {
                continue;
            }
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let bytes = std::fs::read(&path).map_err(|source| ConvertError::Read { path: path.clone(), source })?;
                total += bytes.len() as u64;
                if total > MAX_FILE_BYTES {
                    return Err(ConvertError::Engine(format!(
                        "{}: the files the function may read with fs exceed {} MiB; move large assets to the origin",
                        root.display(),
                        MAX_FILE_BYTES >> 20
                    )));
                }
                let bytes = match String::from_utf8(bytes) {
                    Ok(text) => placeholders::substitute(&text, defines).into_bytes(),
                    Err(binary) => binary.into_bytes(),
                };
                let relative = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().into_owned();
                files.push((format!("{TASK_ROOT}/{relative}"), bytes));
                inputs.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The engine's load payload for a bundle whose modules were compiled to `bytecode` (in module
/// order): a `u32` module count, then per module its id, NUL, its resolutions as JSON, NUL, a
/// `u32` length and the bytecode; then a `u32` file count and per file its path, NUL, a `u32`
/// length and the bytes. Integers are little-endian.
pub(crate) fn payload(bundle: &Bundle, bytecode: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    let push_len = |out: &mut Vec<u8>, len: usize| out.extend_from_slice(&(len as u32).to_le_bytes());
    push_len(&mut out, bundle.modules.len());
    for (module, code) in bundle.modules.iter().zip(bytecode) {
        out.extend_from_slice(module.id.as_bytes());
        out.push(0);
        let resolutions = serde_json::to_string(&module.resolutions).expect("string maps always serialise");
        out.extend_from_slice(resolutions.as_bytes());
        out.push(0);
        push_len(&mut out, code.len());
        out.extend_from_slice(code);
    }
    push_len(&mut out, bundle.files.len());
    for (path, bytes) in &bundle.files {
        out.extend_from_slice(path.as_bytes());
        out.push(0);
        push_len(&mut out, bytes.len());
        out.extend_from_slice(bytes);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    #[test]
    fn resolves_like_node() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        write(root, "fn/index.js", "");
        write(root, "fn/lib/util.js", "");
        write(root, "fn/lib/data.json", "{}");
        write(root, "fn/dir/index.ts", "");
        write(root, "fn/main-dir/package.json", r#"{"main": "./src/entry"}"#);
        write(root, "fn/main-dir/src/entry.js", "");
        write(root, "node_modules/plain/index.js", "");
        write(root, "node_modules/plain/sub.js", "");
        write(root, "node_modules/@scope/pkg/package.json", r#"{"main": "lib/main.js"}"#);
        write(root, "node_modules/@scope/pkg/lib/main.js", "");
        write(
            root,
            "node_modules/mapped/package.json",
            r#"{"exports": {".": {"import": "./esm.mjs", "require": "./cjs.js"}, "./feature/*": "./features/*.js", "./package.json": "./package.json"}}"#,
        );
        write(root, "node_modules/mapped/cjs.js", "");
        write(root, "node_modules/mapped/esm.mjs", "");
        write(root, "node_modules/mapped/features/a.js", "");
        write(root, "node_modules/sugar/package.json", r#"{"exports": {"node": "./node.js", "default": "./browser.js"}}"#);
        write(root, "node_modules/sugar/node.js", "");
        let from = root.join("fn");
        let file = |p: &str| Resolved::File(root.join(p));
        assert_eq!(resolve(&from, "./lib/util"), file("fn/lib/util.js"));
        assert_eq!(resolve(&from, "./lib/data.json"), file("fn/lib/data.json"));
        assert_eq!(resolve(&from, "./lib/data"), file("fn/lib/data.json"));
        assert_eq!(resolve(&from, "./dir"), file("fn/dir/index.ts"));
        assert_eq!(resolve(&from, "./main-dir"), file("fn/main-dir/src/entry.js"));
        assert_eq!(resolve(&from.join("lib"), "../index"), file("fn/index.js"));
        assert_eq!(resolve(&from, "plain"), file("node_modules/plain/index.js"));
        assert_eq!(resolve(&from, "plain/sub"), file("node_modules/plain/sub.js"));
        assert_eq!(resolve(&from, "@scope/pkg"), file("node_modules/@scope/pkg/lib/main.js"));
        assert_eq!(resolve(&from, "mapped"), file("node_modules/mapped/cjs.js"));
        assert_eq!(resolve(&from, "mapped/feature/a"), file("node_modules/mapped/features/a.js"));
        assert_eq!(resolve(&from, "mapped/cjs.js"), Resolved::NotFound, "exports hide unlisted files");
        assert_eq!(resolve(&from, "sugar"), file("node_modules/sugar/node.js"));
        assert_eq!(resolve(&from, "fs"), Resolved::Builtin("fs".into()));
        assert_eq!(resolve(&from, "node:crypto"), Resolved::Builtin("crypto".into()));
        assert_eq!(resolve(&from, "./missing"), Resolved::NotFound);
        assert_eq!(resolve(&from, "missing-package"), Resolved::NotFound);
    }

    #[test]
    fn ids_are_paths_in_the_task_root() {
        let mut ids = ModuleIds::new(PathBuf::from("/repo/fn"));
        assert_eq!(ids.id_of(Path::new("/repo/fn/index.js")), "/var/task/index.js");
        assert_eq!(ids.id_of(Path::new("/repo/fn/lib/a.js")), "/var/task/lib/a.js");
        assert_eq!(ids.id_of(Path::new("/repo/node_modules/cookie/index.js")), "/var/task/node_modules/cookie/index.js");
        assert_eq!(ids.id_of(Path::new("/repo/shared/util.js")), "/var/task/_outside/repo/shared/util.js");
        assert_eq!(ids.id_of(Path::new("/repo/fn/lib/a.js")), "/var/task/lib/a.js", "stable");
        assert_eq!(
            ids.manifests.iter().collect::<Vec<_>>(),
            [Path::new("/repo/node_modules/cookie/package.json")]
        );
        assert_eq!(package_root(Path::new("/r/node_modules/@s/p/lib/x.js")), Some(PathBuf::from("/r/node_modules/@s/p")));
    }

    #[test]
    fn payload_layout() {
        let bundle = Bundle {
            modules: vec![BundledModule {
                id: "/var/task/index.js".into(),
                path: PathBuf::from("index.js"),
                script: String::new(),
                resolutions: BTreeMap::from([("fs".to_string(), "node:fs".to_string())]),
                file: SourceFile::new("index.js", ""),
                local: true,
            }],
            files: vec![("/var/task/a.txt".into(), b"hi".to_vec())],
            builtins: BTreeSet::new(),
            warnings: Vec::new(),
            inputs: Vec::new(),
        };
        let bytes = payload(&bundle, &[vec![7, 8]]);
        let mut expected = vec![1, 0, 0, 0];
        expected.extend_from_slice(b"/var/task/index.js\0{\"fs\":\"node:fs\"}\0");
        expected.extend_from_slice(&[2, 0, 0, 0, 7, 8, 1, 0, 0, 0]);
        expected.extend_from_slice(b"/var/task/a.txt\0");
        expected.extend_from_slice(&[2, 0, 0, 0]);
        expected.extend_from_slice(b"hi");
        assert_eq!(bytes, expected);
    }
}
