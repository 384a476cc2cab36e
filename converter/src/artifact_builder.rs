//! Writes artifacts: the engine module plus a memory image and custom sections.
//!
//! This is what Wizer does, done in-process: the engine is instantiated, initialised and given
//! the handler, then its linear memory and mutable globals become the new module's data
//! segments and global initialisers. Starting the result lands directly in the state after
//! initialisation, which is what makes cold starts cheap.
//!
//! The engine's sections are copied byte for byte except the four a snapshot changes (memory
//! size, global initialisers, data and the data count), so building an artifact costs a pass
//! over the engine rather than a parse of its code: the Python engine is 25 MB, and rebuilding
//! it through an IR took most of a conversion's time and over a gigabyte of memory.

use std::ops::Range;

use edgeport_runtime::artifact::{self, GlobalValue, Metadata, BYTECODE_SECTION, METADATA_SECTION};
use edgeport_runtime::wasm_encode::{self as enc, span};
use edgeport_runtime::MemorySnapshot;
use wasmparser::{Parser, Payload};

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
    let mut out = match image {
        Image::Engine => engine.to_vec(),
        Image::Snapshot(snapshot) => with_snapshot(engine, snapshot).map_err(ConvertError::Engine)?,
    };
    enc::push_custom_section(&mut out, BYTECODE_SECTION, bytecode);
    let metadata = serde_json::to_vec(metadata).expect("metadata always serialises");
    enc::push_custom_section(&mut out, METADATA_SECTION, &metadata);
    Ok(out)
}

/// The engine code hash every artifact built from `engine` carries. Artifacts differ from one
/// another only in what [`artifact::engine_code`] removes (data, memory size, global values,
/// custom sections), so hashing the engine code of the engine itself gives it for all; the
/// converter's tests check it against real snapshot artifacts.
pub(crate) fn code_hash(engine: &[u8]) -> Result<String, ConvertError> {
    let code = artifact::engine_code(engine).map_err(|e| ConvertError::Engine(e.to_string()))?;
    Ok(artifact::sha256_hex(&code))
}

/// The engine with the snapshot's memory as its data and the snapshot's globals as the
/// initial values of its mutable globals.
fn with_snapshot(engine: &[u8], snapshot: &MemorySnapshot) -> Result<Vec<u8>, String> {
    let segments: Vec<Range<usize>> = artifact::nonzero_ranges(&snapshot.memory, SEGMENT_GAP);
    let mut out = Vec::with_capacity(engine.len() + snapshot.memory.len() / 2);
    let mut imported_globals = 0u32;
    let mut memories = 0;
    let mut wrote_data = false;
    for payload in Parser::new(0).parse_all(engine) {
        let payload = payload.map_err(|e| format!("the engine is not a valid module: {e}"))?;
        match payload {
            Payload::Version { range, .. } => out.extend_from_slice(&engine[span(range)]),
            Payload::ImportSection(ref reader) => {
                for import in reader.clone().into_imports() {
                    let import = import.map_err(|e| e.to_string())?;
                    if matches!(import.ty, wasmparser::TypeRef::Global(_)) {
                        imported_globals += 1;
                    }
                }
                copy_section(&mut out, engine, &payload)?;
            }
            Payload::MemorySection(reader) => {
                let mut body = Vec::new();
                enc::write_u32(&mut body, reader.count());
                for memory in reader {
                    let memory = memory.map_err(|e| e.to_string())?;
                    memories += 1;
                    enc::write_memory_type(&mut body, &memory, snapshot.pages);
                }
                enc::push_section(&mut out, enc::MEMORY_SECTION, &body);
            }
            Payload::GlobalSection(reader) => {
                let mut body = Vec::new();
                enc::write_u32(&mut body, reader.count());
                for (position, entry) in enc::global_entries(reader).map_err(|e| e.to_string())?.into_iter().enumerate() {
                    let index = imported_globals + position as u32;
                    match snapshot.globals.iter().find(|(i, _)| *i == index) {
                        Some((_, value)) => {
                            body.extend_from_slice(&engine[entry.entry.start..entry.init]);
                            enc::write_const(&mut body, value);
                        }
                        None => body.extend_from_slice(&engine[entry.entry]),
                    }
                }
                enc::push_section(&mut out, enc::GLOBAL_SECTION, &body);
            }
            Payload::DataCountSection { .. } => {
                let mut body = Vec::new();
                enc::write_u32(&mut body, segments.len() as u32);
                enc::push_section(&mut out, enc::DATA_COUNT_SECTION, &body);
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data.map_err(|e| e.to_string())?;
                    if !matches!(data.kind, wasmparser::DataKind::Active { memory_index: 0, .. }) {
                        return Err("the engine has passive data segments, which a snapshot cannot replace".into());
                    }
                }
                write_data(&mut out, snapshot, &segments);
                wrote_data = true;
            }
            Payload::CodeSectionStart { unchecked_range, .. } => {
                // The whole code section in one copy; its functions are skipped below.
                let range = span(unchecked_range);
                let body = engine.get(range).ok_or("the engine's code section is truncated")?;
                enc::push_section(&mut out, enc::CODE_SECTION, body);
            }
            Payload::CodeSectionEntry(_) => {}
            Payload::End(_) => {}
            other => copy_section(&mut out, engine, &other)?,
        }
    }
    if memories != 1 {
        return Err("the engine must have exactly one memory".into());
    }
    if !wrote_data {
        // An engine without data segments still gets its image (the data section follows the
        // code section, so appending keeps the section order valid).
        write_data(&mut out, snapshot, &segments);
    }
    Ok(out)
}

fn write_data(out: &mut Vec<u8>, snapshot: &MemorySnapshot, segments: &[Range<usize>]) {
    let mut body = Vec::with_capacity(segments.iter().map(|r| r.len() + 16).sum());
    enc::write_u32(&mut body, segments.len() as u32);
    for range in segments {
        body.push(0x00); // active, memory 0
        enc::write_const(&mut body, &GlobalValue::I32(range.start as i32));
        enc::write_u32(&mut body, range.len() as u32);
        body.extend_from_slice(&snapshot.memory[range.clone()]);
    }
    enc::push_section(out, enc::DATA_SECTION, &body);
}

/// Copies a section the snapshot does not change, under a fresh header (linkers may pad the
/// size's encoding).
fn copy_section(out: &mut Vec<u8>, engine: &[u8], payload: &Payload<'_>) -> Result<(), String> {
    let Some((id, range)) = payload.as_section() else {
        return Err(format!("unexpected part of the engine module: {payload:?}"));
    };
    enc::push_section(out, id, &engine[span(range)]);
    Ok(())
}

