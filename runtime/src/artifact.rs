//! The artifact format: a converted function is one self-contained `function.wasm`.
//!
//! It is an ordinary WebAssembly module (the engine) whose data segments and mutable global
//! initialisers hold a pre-initialised memory image, plus two custom sections:
//! [`METADATA_SECTION`] (JSON [`Metadata`]) and [`BYTECODE_SECTION`] (the handler's QuickJS
//! bytecode, so a module without snapshot can still load it). Any WebAssembly runtime can run it.
//!
//! For speed, edgeport's own runtime does not compile each artifact: every artifact built from
//! the same engine shares one *engine code* module (the artifact with its data segments removed,
//! memory shrunk to one page and mutable globals exported), compiled once and cached. A function
//! is then started by instantiating that shared module and writing its memory image.
//!
//! Invariant: `Metadata::code_hash` is the SHA-256 of [`engine_code`] applied to the artifact.

use std::ops::Range;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Custom section that carries the JSON [`Metadata`].
pub const METADATA_SECTION: &str = "edgeport.metadata";
/// Custom section that carries the handler's bytecode.
pub const BYTECODE_SECTION: &str = "edgeport.bytecode";
/// Prefix of the exports through which the engine code module exposes mutable global `i`.
pub const GLOBAL_EXPORT_PREFIX: &str = "edgeport.global.";
/// Version of this format; bumped on any incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// What the converter recorded about a function.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// Version of this format.
    pub format_version: u32,
    /// Function name (the directory or file stem it came from).
    pub name: String,
    /// Source language: `javascript` or `typescript`.
    pub language: String,
    /// File name the engine reports in stack traces.
    pub filename: String,
    /// Export name of the handler.
    pub handler: String,
    /// CloudFront event types the function is attached to.
    pub event_types: Vec<String>,
    /// Node built-ins the handler uses; the engine loads them before the handler's code.
    #[serde(default)]
    pub builtins: Vec<String>,
    /// SHA-256 of the handler source, hex.
    pub source_hash: String,
    /// Engine that runs the function, e.g. `quickjs (javy 8.1.0)`.
    pub engine: String,
    /// Version of edgeport that built the artifact.
    pub edgeport_version: String,
    /// SHA-256 of the engine code module, hex (see the module docs).
    pub code_hash: String,
    /// True when the memory image already holds the loaded handler (a snapshot).
    pub preinitialized: bool,
}

/// One contiguous run of memory bytes to write at `offset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemorySegment<'a> {
    /// Byte offset in linear memory.
    pub offset: u32,
    /// The bytes.
    pub bytes: &'a [u8],
}

/// The initial value of a global, by index in the module's global index space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobalValue {
    /// An `i32` global.
    I32(i32),
    /// An `i64` global.
    I64(i64),
}

/// What a runtime needs to start an artifact, borrowed from its bytes.
#[derive(Debug)]
pub struct ParsedArtifact<'a> {
    /// Parsed metadata section, if any (a bare engine module has none).
    pub metadata: Option<Metadata>,
    /// The bytecode section, if any.
    pub bytecode: Option<&'a [u8]>,
    /// Minimum memory size in 64 KiB pages.
    pub memory_pages: u64,
    /// Active data segments of memory 0.
    pub segments: Vec<MemorySegment<'a>>,
    /// Initial values of the mutable globals.
    pub globals: Vec<(u32, GlobalValue)>,
}

/// Problems reading an artifact.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// The bytes are not a WebAssembly module this runtime understands.
    #[error("not a valid WebAssembly module: {0}")]
    Malformed(String),
    /// The module uses a construct edgeport artifacts never contain.
    #[error("unsupported module: {0}")]
    Unsupported(String),
    /// The metadata section is not valid JSON of the expected shape.
    #[error("invalid {METADATA_SECTION} section: {0}")]
    Metadata(String),
    /// The artifact was made by an incompatible edgeport.
    #[error("artifact format {found} is not supported (this edgeport reads format {FORMAT_VERSION}); convert the function again")]
    Version {
        /// The format version found in the artifact.
        found: u32,
    },
}

impl From<wasmparser::BinaryReaderError> for ArtifactError {
    fn from(error: wasmparser::BinaryReaderError) -> Self {
        ArtifactError::Malformed(error.to_string())
    }
}

/// Reads the parts of an artifact a runtime needs, without touching the code section.
pub fn parse(wasm: &[u8]) -> Result<ParsedArtifact<'_>, ArtifactError> {
    use wasmparser::{Chunk, Parser, Payload};

    let mut parsed = ParsedArtifact {
        metadata: None,
        bytecode: None,
        memory_pages: 0,
        segments: Vec::new(),
        globals: Vec::new(),
    };
    let mut imported_globals = 0u32;
    let mut parser = Parser::new(0);
    let mut rest = wasm;
    loop {
        let (consumed, payload) = match parser.parse(rest, true)? {
            Chunk::Parsed { consumed, payload } => (consumed, payload),
            Chunk::NeedMoreData(_) => return Err(ArtifactError::Malformed("truncated module".into())),
        };
        rest = &rest[consumed..];
        match payload {
            Payload::ImportSection(imports) => {
                for import in imports.into_imports() {
                    if matches!(import?.ty, wasmparser::TypeRef::Global(_)) {
                        imported_globals += 1;
                    }
                }
            }
            Payload::MemorySection(memories) => {
                for memory in memories {
                    parsed.memory_pages = memory?.initial;
                }
            }
            Payload::GlobalSection(globals) => {
                for (index, global) in (imported_globals..).zip(globals) {
                    let global = global?;
                    if global.ty.mutable {
                        parsed.globals.push((index, const_value(&global.init_expr)?));
                    }
                }
            }
            Payload::DataSection(data) => {
                for segment in data {
                    let segment = segment?;
                    match segment.kind {
                        wasmparser::DataKind::Active { memory_index: 0, offset_expr } => {
                            let offset = match const_value(&offset_expr)? {
                                GlobalValue::I32(offset) => offset as u32,
                                GlobalValue::I64(_) => return Err(ArtifactError::Unsupported("64-bit memory".into())),
                            };
                            parsed.segments.push(MemorySegment { offset, bytes: segment.data });
                        }
                        _ => return Err(ArtifactError::Unsupported("passive or multi-memory data segments".into())),
                    }
                }
            }
            Payload::CodeSectionStart { size, .. } => {
                parser.skip_section();
                rest = &rest[size as usize..];
            }
            Payload::CustomSection(section) => match section.name() {
                METADATA_SECTION => {
                    let metadata: Metadata = serde_json::from_slice(section.data())
                        .map_err(|e| ArtifactError::Metadata(e.to_string()))?;
                    if metadata.format_version != FORMAT_VERSION {
                        return Err(ArtifactError::Version { found: metadata.format_version });
                    }
                    parsed.metadata = Some(metadata);
                }
                BYTECODE_SECTION => parsed.bytecode = Some(section.data()),
                _ => {}
            },
            Payload::End(_) => break,
            _ => {}
        }
    }
    Ok(parsed)
}

fn const_value(expr: &wasmparser::ConstExpr<'_>) -> Result<GlobalValue, ArtifactError> {
    let mut reader = expr.get_operators_reader();
    match reader.read()? {
        wasmparser::Operator::I32Const { value } => Ok(GlobalValue::I32(value)),
        wasmparser::Operator::I64Const { value } => Ok(GlobalValue::I64(value)),
        other => Err(ArtifactError::Unsupported(format!("global initialiser {other:?}"))),
    }
}

/// Derives the engine code module shared by every artifact built from the same engine: data
/// segments and custom sections removed, memory shrunk to one page, mutable globals zeroed and
/// exported as `edgeport.global.<index>` so the runtime can restore them. Every other section
/// is copied as it is.
pub fn engine_code(wasm: &[u8]) -> Result<Vec<u8>, ArtifactError> {
    use crate::wasm_encode::{self as enc, span};
    use wasmparser::{Parser, Payload};

    let mut out = Vec::with_capacity(wasm.len());
    let mut imported_globals = 0u32;
    let mut mutable_globals: Vec<u32> = Vec::new();
    let mut exported = false;
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload?;
        match &payload {
            Payload::Version { range, .. } => out.extend_from_slice(&wasm[range.start as usize..range.end as usize]),
            Payload::MemorySection(reader) => {
                let mut body = Vec::new();
                enc::write_u32(&mut body, reader.count());
                for memory in reader.clone() {
                    enc::write_memory_type(&mut body, &memory?, 1);
                }
                enc::push_section(&mut out, enc::MEMORY_SECTION, &body);
            }
            Payload::GlobalSection(reader) => {
                let mut body = Vec::new();
                enc::write_u32(&mut body, reader.count());
                for (position, entry) in enc::global_entries(reader.clone())?.into_iter().enumerate() {
                    if !entry.global.ty.mutable {
                        body.extend_from_slice(&wasm[entry.entry]);
                        continue;
                    }
                    let zero = match entry.global.ty.content_type {
                        wasmparser::ValType::I32 => GlobalValue::I32(0),
                        wasmparser::ValType::I64 => GlobalValue::I64(0),
                        other => return Err(ArtifactError::Unsupported(format!("mutable global of type {other:?}"))),
                    };
                    body.extend_from_slice(&wasm[entry.entry.start..entry.init]);
                    enc::write_const(&mut body, &zero);
                    mutable_globals.push(imported_globals + position as u32);
                }
                enc::push_section(&mut out, enc::GLOBAL_SECTION, &body);
            }
            Payload::ExportSection(reader) => {
                // The export section follows the global section, so the globals are known.
                let range = span(reader.range());
                let entries_start = match reader.clone().into_iter_with_offsets().next() {
                    Some(first) => first?.0 as usize,
                    None => range.end,
                };
                let mut body = Vec::new();
                enc::write_u32(&mut body, reader.count() + mutable_globals.len() as u32);
                body.extend_from_slice(&wasm[entries_start..range.end]);
                for index in &mutable_globals {
                    enc::write_name(&mut body, &format!("{GLOBAL_EXPORT_PREFIX}{index}"));
                    body.push(0x03); // a global
                    enc::write_u32(&mut body, *index);
                }
                enc::push_section(&mut out, enc::EXPORT_SECTION, &body);
                exported = true;
            }
            Payload::CodeSectionStart { unchecked_range, .. } => {
                let body = wasm
                    .get(span(unchecked_range.clone()))
                    .ok_or_else(|| ArtifactError::Malformed("truncated code section".into()))?;
                enc::push_section(&mut out, enc::CODE_SECTION, body);
            }
            Payload::CodeSectionEntry(_)
            | Payload::DataSection(_)
            | Payload::DataCountSection { .. }
            | Payload::CustomSection(_)
            | Payload::End(_) => {}
            other => {
                if let Payload::ImportSection(reader) = other {
                    for import in reader.clone().into_imports() {
                        if matches!(import?.ty, wasmparser::TypeRef::Global(_)) {
                            imported_globals += 1;
                        }
                    }
                }
                let (id, range) = other
                    .as_section()
                    .ok_or_else(|| ArtifactError::Unsupported(format!("module part {other:?}")))?;
                enc::push_section(&mut out, id, &wasm[span(range)]);
            }
        }
    }
    if !exported && !mutable_globals.is_empty() {
        return Err(ArtifactError::Unsupported("mutable globals in a module without exports".into()));
    }
    Ok(out)
}

/// Hex SHA-256, the hash used for every content address in edgeport.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Splits memory into the runs of non-zero bytes worth writing, merging runs separated by fewer
/// than `gap` zero bytes (a segment costs more than a few zeros).
pub fn nonzero_ranges(memory: &[u8], gap: usize) -> Vec<Range<usize>> {
    let mut ranges: Vec<Range<usize>> = Vec::new();
    let mut index = 0;
    while index < memory.len() {
        if memory[index] == 0 {
            index += 1;
            continue;
        }
        let start = index;
        while index < memory.len() && memory[index] != 0 {
            index += 1;
        }
        match ranges.last_mut() {
            Some(last) if start - last.end < gap => last.end = index,
            _ => ranges.push(start..index),
        }
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonzero_ranges_merge_small_gaps() {
        let memory = [0, 1, 2, 0, 3, 0, 0, 0, 0, 4, 0];
        assert_eq!(nonzero_ranges(&memory, 2), vec![1..5, 9..10]);
        assert_eq!(nonzero_ranges(&memory, 8), vec![1..10]);
        assert!(nonzero_ranges(&[0; 16], 4).is_empty());
    }

    #[test]
    fn parse_rejects_garbage() {
        assert!(matches!(parse(b"not wasm"), Err(ArtifactError::Malformed(_))));
    }
}
