//! Writing converted functions: `<out>/<name>/function.wasm` and `<out>/<name>/manifest.json`,
//! plus `<out>/manifest.json` listing every function of the run. A function's manifest also
//! holds what [`crate::cache`] needs to tell, next run, whether the artifact is still current.
//!
//! Invariant: every file is written to a temporary file in the same directory and renamed into
//! place, so a reader (or a crash) never sees half a file.

use std::io::Write;
use std::path::{Path, PathBuf};

use edgeport_frontends::diagnostic::Diagnostic;
use edgeport_frontends::SourceFile;
use serde::{Deserialize, Serialize};

use crate::cache::CacheRecord;
use crate::Converted;

/// The artifact's file name inside a function's output directory.
pub const ARTIFACT_FILE: &str = "function.wasm";
/// The manifest's file name.
pub const MANIFEST_FILE: &str = "manifest.json";

/// A diagnostic as written to manifests (and read back from them for a cached function).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DiagnosticRecord {
    /// Diagnostic code, e.g. `EP0105`.
    pub code: String,
    /// `error` or `warning`.
    pub severity: String,
    /// The message.
    pub message: String,
    /// `file:line:column` of the first label.
    pub location: Option<String>,
}

impl DiagnosticRecord {
    /// The record for `diagnostic` in `file`.
    pub fn new(diagnostic: &Diagnostic, file: &SourceFile) -> Self {
        DiagnosticRecord {
            code: diagnostic.code.to_string(),
            severity: format!("{:?}", diagnostic.severity).to_lowercase(),
            message: diagnostic.message.clone(),
            location: diagnostic.location(file).map(|(line, column)| format!("{}:{line}:{column}", file.name)),
        }
    }
}

/// Writes one converted function and returns its directory.
pub fn write_function(out_dir: &Path, converted: &Converted) -> std::io::Result<PathBuf> {
    write_function_with_cache(out_dir, converted, None)
}

/// Writes one converted function with the record that lets a later run reuse it (its inputs
/// and fingerprint; without one, the next run rebuilds it) and returns its directory.
pub fn write_function_with_cache(out_dir: &Path, converted: &Converted, cache: Option<&CacheRecord>) -> std::io::Result<PathBuf> {
    let dir = out_dir.join(&converted.metadata.name);
    std::fs::create_dir_all(&dir)?;
    // The artifact is renamed into place before the manifest: a crash in between leaves an
    // old manifest whose fingerprint no longer matches, never a manifest vouching for a
    // missing artifact.
    write_atomically(&dir.join(ARTIFACT_FILE), &converted.wasm)?;
    let mut manifest = serde_json::json!({
        "metadata": converted.metadata,
        "source": converted.file.name,
        "artifactBytes": converted.wasm.len(),
        "facts": converted.facts,
        "warnings": converted.warnings.iter().map(|d| DiagnosticRecord::new(d, &converted.file)).collect::<Vec<_>>(),
    });
    if let (Some(cache), Some(fields)) = (cache, manifest.as_object_mut()) {
        fields.insert("fingerprint".into(), serde_json::Value::String(cache.fingerprint.clone()));
        fields.insert("inputs".into(), serde_json::to_value(&cache.inputs).expect("input records always serialise"));
    }
    write_atomically(&dir.join(MANIFEST_FILE), &to_pretty_json(&manifest))?;
    Ok(dir)
}

/// Removes the artifact and manifest a previous run left for a function that no longer
/// converts, so that `<out>` never offers a stale artifact for deployment. Files that are
/// not there are fine.
pub fn remove_function(out_dir: &Path, name: &str) -> std::io::Result<()> {
    let dir = out_dir.join(name);
    for file in [MANIFEST_FILE, ARTIFACT_FILE] {
        match std::fs::remove_file(dir.join(file)) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
    }
    Ok(())
}

/// One line of the run's index.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexEntry {
    /// Function name.
    pub name: String,
    /// The handler file.
    pub source: String,
    /// `converted`, `cached` (an earlier run's artifact is still current) or `failed`.
    pub status: &'static str,
    /// The artifact, relative to the output directory, when converted or cached.
    pub artifact: Option<String>,
    /// The artifact's size in bytes, when converted or cached.
    pub artifact_bytes: Option<u64>,
    /// Errors and warnings.
    pub diagnostics: Vec<DiagnosticRecord>,
    /// Other failure (I/O, engine), when there is no diagnostic to show.
    pub error: Option<String>,
}

/// Writes `<out>/manifest.json`.
pub fn write_index(out_dir: &Path, entries: &[IndexEntry]) -> std::io::Result<()> {
    std::fs::create_dir_all(out_dir)?;
    let index = serde_json::json!({ "edgeportVersion": env!("CARGO_PKG_VERSION"), "functions": entries });
    write_atomically(&out_dir.join(MANIFEST_FILE), &to_pretty_json(&index))
}

fn to_pretty_json(value: &serde_json::Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("JSON values always serialise");
    bytes.push(b'\n');
    bytes
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(|| Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_data()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f.json");
        write_atomically(&path, b"first").expect("write");
        write_atomically(&path, b"second").expect("overwrite");
        assert_eq!(std::fs::read(&path).expect("read"), b"second");
        let leftovers = std::fs::read_dir(dir.path()).expect("list").count();
        assert_eq!(leftovers, 1, "no temporary files are left behind");
    }
}
