//! The content-hash cache: a function whose sources, options and engine are what they were
//! when its artifact was built is not rebuilt.
//!
//! A function's manifest (`<out>/<name>/manifest.json`) records every file its conversion read
//! (`Converted::inputs`) with its SHA-256, and a fingerprint over everything else that decides
//! the artifact's bytes: the edgeport version, the engine (its code hash and the SHA-256 of the
//! whole engine module, whose data segments hold the prelude and the Node built-ins that the
//! code hash leaves out), the options that matter (handler, event types, snapshot, defines),
//! the function's handler path, name, template handler and event types, the inputs' hashes,
//! and the names of the files in the function's directory — a file added there can change
//! the artifact without being an input yet (a data file `fs` would now serve, a module that
//! would now resolve first). A later run recomputes the fingerprint from the files as they are now; only an
//! exact match with an existing artifact is a hit. Anything unexpected — no manifest, a
//! corrupt or foreign one, an unreadable input, a missing artifact — is a miss, never an error:
//! the worst the cache can do is rebuild.
//!
//! The code hash a lookup puts in the fingerprint is the one the manifest's metadata records,
//! not one computed again: it is a function of the engine module, whose hash is in the same
//! fingerprint, so a match proves it current — and computing it means parsing the engine
//! (seconds for the Python engine), which would be most of a warm run.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use edgeport_runtime::artifact::sha256_hex;
use serde::{Deserialize, Serialize};

use crate::output::{DiagnosticRecord, ARTIFACT_FILE, MANIFEST_FILE};
use crate::{ConvertOptions, Converted, EngineKind, FunctionSource};

/// One file a conversion read, as recorded in the function's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRecord {
    /// The path as the conversion saw it.
    pub path: PathBuf,
    /// SHA-256 of its contents when it was converted, hex.
    pub sha256: String,
}

/// What a function's manifest holds for the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheRecord {
    /// SHA-256 over everything that decides the artifact (see the module docs), hex.
    pub fingerprint: String,
    /// Every file the conversion read.
    pub inputs: Vec<InputRecord>,
}

impl CacheRecord {
    /// The record for a conversion that just finished: its inputs are hashed as they are now.
    pub fn for_conversion(function: &FunctionSource, options: &ConvertOptions, converted: &Converted) -> std::io::Result<Self> {
        let inputs = hash_inputs(&converted.inputs)?;
        let engine = EngineIdentity { code_hash: converted.metadata.code_hash.clone(), module_sha256: engine_module_sha256(function.engine()) };
        Ok(CacheRecord { fingerprint: fingerprint(function, options, &engine, &inputs), inputs })
    }
}

/// What the index needs from a function whose artifact is still current.
#[derive(Debug, Clone)]
pub struct CachedFunction {
    /// The handler file, as the manifest names it.
    pub source: String,
    /// The artifact's size in bytes.
    pub artifact_bytes: u64,
    /// The warnings of the conversion that built it.
    pub warnings: Vec<DiagnosticRecord>,
}

/// The fields of a function's manifest the cache reads; anything else in it is ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ManifestView {
    metadata: MetadataView,
    source: String,
    artifact_bytes: u64,
    #[serde(default)]
    warnings: Vec<DiagnosticRecord>,
    fingerprint: String,
    inputs: Vec<InputRecord>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetadataView {
    name: String,
    code_hash: String,
}

/// The previous conversion of `function` in `out_dir`, when its artifact is still current.
pub fn lookup(out_dir: &Path, function: &FunctionSource, options: &ConvertOptions) -> Option<CachedFunction> {
    let dir = out_dir.join(&function.name);
    let manifest = read_manifest(&dir.join(MANIFEST_FILE))?;
    // A manifest of another function (two functions with one name) is not this one's.
    if manifest.metadata.name != function.name || manifest.inputs.is_empty() {
        return None;
    }
    let artifact_bytes = std::fs::metadata(dir.join(ARTIFACT_FILE)).ok().filter(|m| m.is_file())?.len();
    if artifact_bytes != manifest.artifact_bytes {
        return None;
    }
    let paths: Vec<PathBuf> = manifest.inputs.iter().map(|input| input.path.clone()).collect();
    let inputs = hash_inputs(&paths).ok()?;
    if inputs != manifest.inputs {
        return None;
    }
    let engine = EngineIdentity { code_hash: manifest.metadata.code_hash, module_sha256: engine_module_sha256(function.engine()) };
    if fingerprint(function, options, &engine, &inputs) != manifest.fingerprint {
        return None;
    }
    Some(CachedFunction { source: manifest.source, artifact_bytes, warnings: manifest.warnings })
}

/// The files the previous conversion of `function` in `out_dir` read; empty when there is no
/// usable manifest.
pub fn previous_inputs(out_dir: &Path, function: &FunctionSource) -> Vec<PathBuf> {
    read_manifest(&out_dir.join(&function.name).join(MANIFEST_FILE))
        .filter(|manifest| manifest.metadata.name == function.name)
        .map(|manifest| manifest.inputs.into_iter().map(|input| input.path).collect())
        .unwrap_or_default()
}

fn read_manifest(path: &Path) -> Option<ManifestView> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn hash_inputs(paths: &[PathBuf]) -> std::io::Result<Vec<InputRecord>> {
    paths
        .iter()
        .map(|path| Ok(InputRecord { path: path.clone(), sha256: sha256_hex(&std::fs::read(path)?) }))
        .collect()
}

/// Which engine builds an artifact, as far as its bytes go.
struct EngineIdentity {
    /// `Metadata::code_hash` of every artifact it builds.
    code_hash: String,
    /// SHA-256 of the engine module itself: also covers its data (the prelude, the Node
    /// built-ins), which the code hash leaves out.
    module_sha256: String,
}

/// SHA-256 of the engine module compiled into this binary, computed once per process.
fn engine_module_sha256(kind: EngineKind) -> String {
    static MODULE_HASHES: [OnceLock<String>; 2] = [OnceLock::new(), OnceLock::new()];
    let slot = match kind {
        EngineKind::JavaScript => 0,
        EngineKind::Python => 1,
    };
    MODULE_HASHES[slot].get_or_init(|| sha256_hex(kind.wasm())).clone()
}

/// The fingerprint of one conversion. The JSON below is hashed, so its shape is part of the
/// cache key: a field added here simply makes every older manifest a miss.
fn fingerprint(function: &FunctionSource, options: &ConvertOptions, engine: &EngineIdentity, inputs: &[InputRecord]) -> String {
    let event_types = |types: &[edgeport_runtime::cloudfront::EventType]| types.iter().map(|t| t.as_str()).collect::<Vec<_>>();
    let key = serde_json::json!({
        "edgeportVersion": env!("CARGO_PKG_VERSION"),
        "engineCodeHash": engine.code_hash,
        "engineModuleSha256": engine.module_sha256,
        "handler": options.handler,
        "eventTypes": event_types(&options.event_types),
        "noSnapshot": options.no_snapshot,
        "defines": options.defines,
        "function": {
            "name": function.name,
            "path": function.path,
            "handler": function.handler,
            "eventTypes": event_types(&function.event_types),
        },
        "inputs": inputs,
        "directory": directory_listing(function),
    });
    sha256_hex(&serde_json::to_vec(&key).expect("JSON values always serialise"))
}

/// The files under the function's own directory (relative, sorted), leaving out what is never
/// bundled: dependencies (their `package.json` is an input), test data and hidden entries.
fn directory_listing(function: &FunctionSource) -> Vec<String> {
    const SKIPPED: &[&str] = &["node_modules", "events", "expected", "__pycache__"];
    let Some(root) = function.directory() else { return Vec::new() };
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else { continue };
            if name.starts_with('.') || (kind.is_dir() && SKIPPED.contains(&name.as_str())) {
                continue;
            }
            if kind.is_dir() {
                pending.push(entry.path());
            } else {
                files.push(entry.path().strip_prefix(root).unwrap_or(&entry.path()).to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> EngineIdentity {
        EngineIdentity { code_hash: "c0de".into(), module_sha256: "e1e1".into() }
    }

    fn input(sha256: &str) -> Vec<InputRecord> {
        vec![InputRecord { path: "f/index.js".into(), sha256: sha256.into() }]
    }

    #[test]
    fn every_part_of_the_key_changes_the_fingerprint() {
        let function = FunctionSource::from_file(Path::new("f/index.js"));
        let options = ConvertOptions::default();
        let base = fingerprint(&function, &options, &identity(), &input("aa"));
        assert_eq!(base, fingerprint(&function, &options, &identity(), &input("aa")), "deterministic");

        let mut defined = options.clone();
        defined.defines.insert("API_HOST".into(), "example.com".into());
        let no_snapshot = ConvertOptions { no_snapshot: true, ..options.clone() };
        let handler = ConvertOptions { handler: Some("main".into()), ..options.clone() };
        let other_engine = EngineIdentity { module_sha256: "e2e2".into(), ..identity() };
        let renamed = FunctionSource { name: "g".into(), ..function.clone() };
        let variants = [
            fingerprint(&function, &options, &identity(), &input("bb")),
            fingerprint(&function, &defined, &identity(), &input("aa")),
            fingerprint(&function, &no_snapshot, &identity(), &input("aa")),
            fingerprint(&function, &handler, &identity(), &input("aa")),
            fingerprint(&function, &options, &other_engine, &input("aa")),
            fingerprint(&renamed, &options, &identity(), &input("aa")),
        ];
        for (i, variant) in variants.iter().enumerate() {
            assert_ne!(variant, &base, "variant {i}");
        }
    }

    #[test]
    fn corrupt_or_foreign_manifests_are_misses() {
        let out = tempfile::tempdir().expect("temp dir");
        let function = FunctionSource::from_file(Path::new("f/index.js"));
        let options = ConvertOptions::default();
        assert!(lookup(out.path(), &function, &options).is_none(), "no manifest");
        std::fs::create_dir_all(out.path().join("index")).expect("mkdir");
        let manifest = out.path().join("index").join(MANIFEST_FILE);
        for text in ["{ not json", "{}", r#"{"metadata":{"name":"other","codeHash":"c0de"},"source":"x","artifactBytes":0,"fingerprint":"x","inputs":[]}"#] {
            std::fs::write(&manifest, text).expect("write");
            assert!(lookup(out.path(), &function, &options).is_none(), "{text}");
            assert!(previous_inputs(out.path(), &function).is_empty(), "{text}");
        }
    }
}
