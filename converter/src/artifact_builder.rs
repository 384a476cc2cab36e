//! Writes artifacts with walrus: the engine module plus a memory image and custom sections.
//!
//! This is what Wizer does, done in-process: the engine is instantiated, initialised and given
//! the handler, then its linear memory and mutable globals become the new module's data
//! segments and global initialisers. Starting the result lands directly in the state after
//! initialisation, which is what makes cold starts cheap.

use edgeport_runtime::artifact::{self, GlobalValue, Metadata, BYTECODE_SECTION, METADATA_SECTION};
use edgeport_runtime::MemorySnapshot;

use crate::ConvertError;

/// Zero runs shorter than this are kept inside a data segment rather than splitting it: each
/// segment costs a few bytes of encoding and a separate copy at instantiation.
const SEGMENT_GAP: usize = 64;

/// The memory image to put in the artifact.
pub(crate) enum Image<'a> {
    /// The engine's own data segments: the handler is loaded at instantiation.
    Engine,
    /// A snapshot of an initialised instance.
    Snapshot(&'a MemorySnapshot),
}

/// Builds `function.wasm` with `metadata`, whose `code_hash` must come from [`code_hash`].
pub(crate) fn build(engine: &[u8], image: Image<'_>, bytecode: &[u8], metadata: &Metadata) -> Result<Vec<u8>, ConvertError> {
    let mut module = walrus::Module::from_buffer(engine).map_err(|e| ConvertError::Engine(e.to_string()))?;
    if let Image::Snapshot(snapshot) = image {
        apply_snapshot(&mut module, snapshot)?;
    }
    module.customs.add(walrus::RawCustomSection { name: BYTECODE_SECTION.into(), data: bytecode.to_vec() });
    let metadata = serde_json::to_vec(metadata).expect("metadata always serialises");
    module.customs.add(walrus::RawCustomSection { name: METADATA_SECTION.into(), data: metadata });
    Ok(module.emit_wasm())
}

/// The engine code hash every artifact built from `engine` carries. Artifacts differ from one
/// another only in what [`artifact::engine_code`] removes (data, memory size, global values,
/// custom sections), so hashing the engine code of one plain artifact gives it for all; the
/// converter's tests check it against real snapshot artifacts.
pub(crate) fn code_hash(engine: &[u8]) -> Result<String, ConvertError> {
    let mut module = walrus::Module::from_buffer(engine).map_err(|e| ConvertError::Engine(e.to_string()))?;
    let plain = module.emit_wasm();
    let code = artifact::engine_code(&plain).map_err(|e| ConvertError::Engine(e.to_string()))?;
    Ok(artifact::sha256_hex(&code))
}

fn apply_snapshot(module: &mut walrus::Module, snapshot: &MemorySnapshot) -> Result<(), ConvertError> {
    let memory_id = match module.memories.iter().map(|m| m.id()).collect::<Vec<_>>().as_slice() {
        [only] => *only,
        _ => return Err(ConvertError::Engine("the engine must have exactly one memory".into())),
    };
    let old: Vec<_> = module.data.iter().map(|data| data.id()).collect();
    for id in old {
        module.data.delete(id);
    }
    let memory = module.memories.get_mut(memory_id);
    memory.data_segments.clear();
    memory.initial = snapshot.pages;
    for range in artifact::nonzero_ranges(&snapshot.memory, SEGMENT_GAP) {
        let offset = walrus::ConstExpr::Value(walrus::ir::Value::I32(range.start as i32));
        let id = module.data.add(
            walrus::DataKind::Active { memory: memory_id, offset },
            snapshot.memory[range].to_vec(),
        );
        module.memories.get_mut(memory_id).data_segments.insert(id);
    }
    let globals: Vec<_> = module.globals.iter().map(|global| global.id()).collect();
    for (index, value) in &snapshot.globals {
        let id = *globals
            .get(*index as usize)
            .ok_or_else(|| ConvertError::Engine(format!("snapshot names global {index}, which the engine lacks")))?;
        let value = match value {
            GlobalValue::I32(v) => walrus::ir::Value::I32(*v),
            GlobalValue::I64(v) => walrus::ir::Value::I64(*v),
        };
        module.globals.get_mut(id).kind = walrus::GlobalKind::Local(walrus::ConstExpr::Value(value));
    }
    Ok(())
}
