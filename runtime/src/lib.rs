//! Runs converted edge functions on wasmer.
//!
//! [`Runtime`] owns the compiler and the cache of compiled engine code; [`Runtime::load`] turns
//! an artifact (`function.wasm`) into a [`LoadedFunction`], which starts [`Instance`]s: a fresh
//! instance costs an instantiation of the shared engine code plus a copy of the function's
//! memory image. An instance is reused for warm invocations, like a Lambda container.
//! [`cloudfront`] turns what a handler produced into what CloudFront would have done with it.

pub mod artifact;
pub mod cloudfront;
mod instance;
pub mod invocation;
pub mod limits;
mod module_cache;
pub mod wasi;
pub mod wasm_encode;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use instance::{GuestError, Instance, InstanceOptions, MemorySnapshot};
pub use invocation::{Invocation, LambdaContext, Outcome};
use module_cache::ModuleCache;

/// The wasmer release this runtime is built with (pinned in the workspace); part of every
/// compiled-code cache key because serialized code is only valid for the same wasmer.
pub const WASMER_VERSION: &str = "7.4.2";

/// How long a module's top-level code may run when it is loaded (Lambda's init phase limit).
pub const INIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Errors of the runtime itself (not of the handler, which become [`Outcome`]s).
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The artifact file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The artifact path.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The artifact is not a module this runtime can run.
    #[error(transparent)]
    Artifact(#[from] artifact::ArtifactError),
    /// wasmer could not compile the engine code.
    #[error("compiling the engine failed: {0}")]
    Compile(String),
    /// Instantiation or a call into the guest trapped or failed.
    #[error("the engine failed: {0}")]
    Engine(String),
    /// The guest reported an error from an operation (compile, load) as JSON.
    #[error("{0}")]
    Guest(GuestError),
}

/// Settings for a [`Runtime`].
#[derive(Debug, Clone, Default)]
pub struct RuntimeOptions {
    /// Directory for compiled engine code; `None` disables the disk cache.
    pub cache_dir: Option<PathBuf>,
    /// The most linear memory an instance may have, in bytes; `None` leaves Wasm's 4 GiB.
    pub memory_limit: Option<u64>,
}

impl RuntimeOptions {
    /// The default cache directory: `$EDGEPORT_CACHE_DIR`, else `$XDG_CACHE_HOME/edgeport`,
    /// else `~/.cache/edgeport`.
    pub fn default_cache_dir() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("EDGEPORT_CACHE_DIR") {
            return Some(PathBuf::from(dir));
        }
        if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
            return Some(PathBuf::from(dir).join("edgeport"));
        }
        std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache").join("edgeport"))
    }
}

/// The wasmer engine plus the compiled engine code shared by all functions.
#[derive(Clone)]
pub struct Runtime {
    engine: wasmer::Engine,
    cache: Arc<ModuleCache>,
}

impl Runtime {
    /// A runtime compiling with cranelift. With `EDGEPORT_PERFMAP=1` in the environment,
    /// compiled guest functions are listed in `/tmp/perf-<pid>.map` for `perf report`.
    pub fn new(options: RuntimeOptions) -> Self {
        let mut compiler = wasmer::sys::Cranelift::default();
        if std::env::var_os("EDGEPORT_PERFMAP").is_some() {
            wasmer::sys::CompilerConfig::enable_perfmap(&mut compiler);
        }
        let mut engine: wasmer::Engine = wasmer::sys::EngineBuilder::new(compiler).engine().into();
        if let Some(limit) = options.memory_limit {
            wasmer::sys::NativeEngineExt::set_tunables(&mut engine, limits::MemoryCap::new(limit));
        }
        let cache = Arc::new(ModuleCache::new(options.cache_dir));
        Runtime { engine, cache }
    }

    /// Loads an artifact from disk. The file is memory-mapped: only the parts that are read
    /// (metadata, memory image) are paged in.
    pub fn load(&self, path: &Path) -> Result<LoadedFunction, RuntimeError> {
        let file = std::fs::File::open(path).map_err(|source| RuntimeError::Read { path: path.into(), source })?;
        // SAFETY: artifacts are written atomically (temp file + rename) and never modified in
        // place, so the mapping cannot change under us.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|source| RuntimeError::Read { path: path.into(), source })?;
        self.load_bytes(Bytes::Mapped(map))
    }

    /// Loads an artifact (or a bare engine module) from memory.
    pub fn load_bytes(&self, bytes: impl Into<Bytes>) -> Result<LoadedFunction, RuntimeError> {
        let bytes = bytes.into();
        let parsed = artifact::parse(bytes.as_ref())?;
        let wasm = bytes.as_ref();
        // An artifact names its engine code; a bare engine module is hashed here, once.
        let (code_hash, code) = match &parsed.metadata {
            Some(metadata) => (metadata.code_hash.clone(), None),
            None => {
                let code = artifact::engine_code(wasm)?;
                (artifact::sha256_hex(&code), Some(code))
            }
        };
        let module = self.cache.get_or_compile(&self.engine, &code_hash, || match code {
            Some(code) => Ok(code),
            None => artifact::engine_code(wasm),
        })?;
        let within = |slice: &[u8]| {
            let start = slice.as_ptr() as usize - wasm.as_ptr() as usize;
            start..start + slice.len()
        };
        let image = MemoryImage {
            pages: parsed.memory_pages,
            segments: parsed.segments.iter().map(|segment| (segment.offset, within(segment.bytes))).collect(),
            globals: parsed.globals.clone(),
        };
        let bytecode = parsed.bytecode.map(within);
        let metadata = parsed.metadata;
        Ok(LoadedFunction { engine: self.engine.clone(), module, code_hash, metadata, bytecode, image, bytes: Arc::new(bytes) })
    }
}

/// Artifact bytes, owned or mapped from a file.
pub enum Bytes {
    /// Bytes in memory.
    Owned(Vec<u8>),
    /// A read-only file mapping.
    Mapped(memmap2::Mmap),
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        match self {
            Bytes::Owned(bytes) => bytes,
            Bytes::Mapped(map) => map,
        }
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(bytes: Vec<u8>) -> Self {
        Bytes::Owned(bytes)
    }
}

/// A function's initial memory and globals. Segment contents stay in the artifact's bytes
/// (usually a file mapping) and are copied straight into each new instance's memory.
#[derive(Debug, Clone)]
pub(crate) struct MemoryImage {
    pub(crate) pages: u64,
    /// `(offset in linear memory, range in the artifact bytes)`.
    pub(crate) segments: Vec<(u32, std::ops::Range<usize>)>,
    pub(crate) globals: Vec<(u32, artifact::GlobalValue)>,
}

/// A blank engine instance waiting for a function (see [`LoadedFunction::sandbox`]).
pub struct Sandbox {
    instance: Instance,
}

/// A function ready to be instantiated.
pub struct LoadedFunction {
    engine: wasmer::Engine,
    module: wasmer::Module,
    code_hash: String,
    metadata: Option<artifact::Metadata>,
    /// Range of the bytecode section in `bytes`.
    bytecode: Option<std::ops::Range<usize>>,
    image: MemoryImage,
    bytes: Arc<Bytes>,
}

impl LoadedFunction {
    /// The artifact's metadata; `None` for a bare engine module.
    pub fn metadata(&self) -> Option<&artifact::Metadata> {
        self.metadata.as_ref()
    }

    /// Starts an instance: instantiate the engine code, write the memory image, and — for an
    /// artifact without snapshot — initialise the engine and load the handler's bytecode.
    pub fn instantiate(&self, options: InstanceOptions) -> Result<Instance, RuntimeError> {
        let instance = Instance::blank(&self.engine, &self.module, &self.code_hash, options)?;
        self.instantiate_in(Sandbox { instance })
    }

    /// A blank engine instance for this function's engine code, with memory for its image
    /// already faulted in. Made ahead of time (off the request path), it turns the next cold
    /// start into a memory copy: page faults, not the copy, dominate a fresh instantiation.
    /// Any function built from the same engine can use it.
    pub fn sandbox(&self, options: InstanceOptions) -> Result<Sandbox, RuntimeError> {
        let mut instance = Instance::blank(&self.engine, &self.module, &self.code_hash, options)?;
        instance.prefault(self.image.pages)?;
        Ok(Sandbox { instance })
    }

    /// Starts the function in `sandbox` (see [`LoadedFunction::instantiate`]).
    pub fn instantiate_in(&self, sandbox: Sandbox) -> Result<Instance, RuntimeError> {
        let mut instance = sandbox.instance;
        if instance.code_hash() != self.code_hash {
            return Err(RuntimeError::Engine("the sandbox runs another engine than this function".into()));
        }
        instance.restore(&self.image, self.bytes.as_ref().as_ref())?;
        if let Some(metadata) = &self.metadata {
            if !metadata.preinitialized {
                let bytecode = self.bytecode.clone().map(|range| &self.bytes.as_ref().as_ref()[range]).ok_or_else(|| {
                    RuntimeError::Engine("artifact has neither a snapshot nor bytecode; convert it again".into())
                })?;
                instance.init()?;
                instance.set_budget(INIT_TIMEOUT)?;
                instance.load(&metadata.handler, &metadata.filename, &metadata.builtins, bytecode)?;
            }
        }
        Ok(instance)
    }
}
