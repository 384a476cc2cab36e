//! Compiled engine code, cached in memory and on disk.
//!
//! Key: the engine code's SHA-256 plus the wasmer version and CPU architecture, since serialized
//! machine code is only valid for the compiler and machine that produced it. Files are written
//! atomically (temporary file + rename), so a concurrent reader sees a whole file or none.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::{RuntimeError, WASMER_VERSION};

pub(crate) struct ModuleCache {
    dir: Option<PathBuf>,
    modules: Mutex<HashMap<String, wasmer::Module>>,
}

impl ModuleCache {
    pub(crate) fn new(dir: Option<PathBuf>) -> Self {
        ModuleCache { dir, modules: Mutex::new(HashMap::new()) }
    }

    /// The compiled module for `code_hash`, from memory, disk, or by compiling `code()`.
    pub(crate) fn get_or_compile(
        &self,
        engine: &wasmer::Engine,
        code_hash: &str,
        code: impl FnOnce() -> Result<Vec<u8>, crate::artifact::ArtifactError>,
    ) -> Result<wasmer::Module, RuntimeError> {
        let mut modules = self.modules.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(module) = modules.get(code_hash) {
            return Ok(module.clone());
        }
        let path = self.dir.as_ref().map(|dir| {
            dir.join(format!("{code_hash}-wasmer{WASMER_VERSION}-{}.bin", std::env::consts::ARCH))
        });
        if let Some(path) = &path {
            if path.exists() {
                // SAFETY: the file was produced by `Module::serialize` of this wasmer version on
                // this architecture (both are in its name) and written atomically.
                if let Ok(module) = unsafe { wasmer::Module::deserialize_from_file(engine, path) } {
                    modules.insert(code_hash.to_string(), module.clone());
                    return Ok(module);
                }
                // A stale or damaged entry is recompiled and overwritten below.
            }
        }
        let code = code()?;
        let module = wasmer::Module::new(engine, &code).map_err(|e| RuntimeError::Compile(e.to_string()))?;
        if let Some(path) = &path {
            // The cache is an optimisation: failing to write it must not fail the load.
            let _ = write_atomically(path, &module);
        }
        modules.insert(code_hash.to_string(), module.clone());
        Ok(module)
    }
}

fn write_atomically(path: &std::path::Path, module: &wasmer::Module) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| std::path::Path::new("."));
    std::fs::create_dir_all(dir)?;
    let bytes = module.serialize().map_err(std::io::Error::other)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(&bytes)?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
