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
mod module_cache;
pub mod wasi;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use instance::{GuestError, Instance, InstanceOptions, MemorySnapshot};
pub use invocation::{Invocation, LambdaContext, Outcome};
use module_cache::ModuleCache;

/// The wasmer release this runtime is built with (pinned in the workspace); part of every
/// compiled-code cache key because serialized code is only valid for the same wasmer.
pub const WASMER_VERSION: &str = "7.4.2";

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
    /// A runtime compiling with cranelift.
    pub fn new(options: RuntimeOptions) -> Self {
        let engine: wasmer::Engine = wasmer::sys::EngineBuilder::new(wasmer::sys::Cranelift::default()).engine().into();
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
        let code_hash = match &parsed.metadata {
            Some(metadata) => metadata.code_hash.clone(),
            None => artifact::sha256_hex(&artifact::engine_code(bytes.as_ref())?),
        };
        let wasm = bytes.as_ref();
        let module = self.cache.get_or_compile(&self.engine, &code_hash, || artifact::engine_code(wasm))?;
        let image = MemoryImage::from_parsed(&parsed);
        Ok(LoadedFunction {
            engine: self.engine.clone(),
            module,
            metadata: parsed.metadata,
            bytecode: parsed.bytecode.map(<[u8]>::to_vec),
            image,
        })
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

/// A function's initial memory and globals, copied out of its artifact.
#[derive(Debug, Clone)]
pub(crate) struct MemoryImage {
    pub(crate) pages: u64,
    /// Segments packed into one buffer: `(offset in memory, range in data)`.
    pub(crate) segments: Vec<(u32, std::ops::Range<usize>)>,
    pub(crate) data: Vec<u8>,
    pub(crate) globals: Vec<(u32, artifact::GlobalValue)>,
}

impl MemoryImage {
    fn from_parsed(parsed: &artifact::ParsedArtifact<'_>) -> Self {
        let mut data = Vec::with_capacity(parsed.segments.iter().map(|s| s.bytes.len()).sum());
        let segments = parsed
            .segments
            .iter()
            .map(|segment| {
                let start = data.len();
                data.extend_from_slice(segment.bytes);
                (segment.offset, start..data.len())
            })
            .collect();
        MemoryImage { pages: parsed.memory_pages, segments, data, globals: parsed.globals.clone() }
    }
}

/// A function ready to be instantiated.
pub struct LoadedFunction {
    engine: wasmer::Engine,
    module: wasmer::Module,
    metadata: Option<artifact::Metadata>,
    bytecode: Option<Vec<u8>>,
    image: MemoryImage,
}

impl LoadedFunction {
    /// The artifact's metadata; `None` for a bare engine module.
    pub fn metadata(&self) -> Option<&artifact::Metadata> {
        self.metadata.as_ref()
    }

    /// Starts an instance: instantiate the engine code, write the memory image, and — for an
    /// artifact without snapshot — initialise the engine and load the handler's bytecode.
    pub fn instantiate(&self, options: InstanceOptions) -> Result<Instance, RuntimeError> {
        let mut instance = Instance::start(&self.engine, &self.module, &self.image, options)?;
        if let Some(metadata) = &self.metadata {
            if !metadata.preinitialized {
                let bytecode = self.bytecode.as_deref().ok_or_else(|| {
                    RuntimeError::Engine("artifact has neither a snapshot nor bytecode; convert it again".into())
                })?;
                instance.init()?;
                instance.load(&metadata.handler, &metadata.filename, bytecode)?;
            }
        }
        Ok(instance)
    }
}
