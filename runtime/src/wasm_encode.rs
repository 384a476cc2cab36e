//! Just enough of the WebAssembly binary encoder to rewrite a module section by section:
//! LEB128 integers, section framing, constant expressions and memory types.
//!
//! Artifacts and engine code modules are the engine with a few sections changed; copying every
//! other section byte for byte is a pass over the module, where re-encoding it through an IR
//! cost seconds and a gigabyte for the 25 MB Python engine.

use std::ops::Range;

use crate::artifact::GlobalValue;

/// Section ids of the binary format.
pub const CUSTOM_SECTION: u8 = 0;
/// The memory section's id.
pub const MEMORY_SECTION: u8 = 5;
/// The global section's id.
pub const GLOBAL_SECTION: u8 = 6;
/// The export section's id.
pub const EXPORT_SECTION: u8 = 7;
/// The code section's id.
pub const CODE_SECTION: u8 = 10;
/// The data section's id.
pub const DATA_SECTION: u8 = 11;
/// The data count section's id.
pub const DATA_COUNT_SECTION: u8 = 12;

/// Appends a section: its id, its size and `body`.
pub fn push_section(out: &mut Vec<u8>, id: u8, body: &[u8]) {
    out.push(id);
    write_u32(out, body.len() as u32);
    out.extend_from_slice(body);
}

/// Appends a custom section named `name`.
pub fn push_custom_section(out: &mut Vec<u8>, name: &str, data: &[u8]) {
    let mut body = Vec::with_capacity(name.len() + data.len() + 5);
    write_name(&mut body, name);
    body.extend_from_slice(data);
    push_section(out, CUSTOM_SECTION, &body);
}

/// A name: its length, then its UTF-8 bytes.
pub fn write_name(out: &mut Vec<u8>, name: &str) {
    write_u32(out, name.len() as u32);
    out.extend_from_slice(name.as_bytes());
}

/// A memory type with `initial` pages and otherwise as `memory`.
pub fn write_memory_type(out: &mut Vec<u8>, memory: &wasmparser::MemoryType, initial: u64) {
    let mut flags = 0u8;
    if memory.maximum.is_some() {
        flags |= 0x01;
    }
    if memory.shared {
        flags |= 0x02;
    }
    if memory.memory64 {
        flags |= 0x04;
    }
    if memory.page_size_log2.is_some() {
        flags |= 0x08;
    }
    out.push(flags);
    write_u64(out, initial);
    if let Some(maximum) = memory.maximum {
        write_u64(out, maximum);
    }
    if let Some(log2) = memory.page_size_log2 {
        write_u32(out, log2);
    }
}

/// A constant expression: `i32.const` or `i64.const`, then `end`.
pub fn write_const(out: &mut Vec<u8>, value: &GlobalValue) {
    match value {
        GlobalValue::I32(v) => {
            out.push(0x41);
            write_i64(out, i64::from(*v));
        }
        GlobalValue::I64(v) => {
            out.push(0x42);
            write_i64(out, *v);
        }
    }
    out.push(0x0b);
}

/// Unsigned LEB128.
pub fn write_u32(out: &mut Vec<u8>, value: u32) {
    write_u64(out, u64::from(value));
}

/// Unsigned LEB128.
pub fn write_u64(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Signed LEB128.
pub fn write_i64(out: &mut Vec<u8>, mut value: i64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        let done = (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0);
        out.push(if done { byte } else { byte | 0x80 });
        if done {
            return;
        }
    }
}

/// A byte range as wasmparser reports it.
pub fn span(range: Range<u64>) -> Range<usize> {
    range.start as usize..range.end as usize
}

/// The globals of a global section with the byte ranges of each entry and of its initialiser.
pub struct GlobalEntry<'a> {
    /// The whole entry (type and initialiser).
    pub entry: Range<usize>,
    /// Where the initialiser starts; the type is `entry.start..init`.
    pub init: usize,
    /// The parsed global.
    pub global: wasmparser::Global<'a>,
}

/// The entries of `reader`, in order.
pub fn global_entries<'a>(reader: wasmparser::GlobalSectionReader<'a>) -> wasmparser::Result<Vec<GlobalEntry<'a>>> {
    let end = span(reader.range()).end;
    let items: Vec<(u64, wasmparser::Global<'a>)> = reader.into_iter_with_offsets().collect::<Result<_, _>>()?;
    let starts: Vec<usize> = items.iter().map(|(start, _)| *start as usize).collect();
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(position, (start, global))| GlobalEntry {
            entry: start as usize..starts.get(position + 1).copied().unwrap_or(end),
            init: global.init_expr.get_binary_reader().original_position() as usize,
            global,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(f: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
        let mut out = Vec::new();
        f(&mut out);
        out
    }

    #[test]
    fn leb128_matches_the_binary_format() {
        assert_eq!(encoded(|o| write_u32(o, 0)), [0x00]);
        assert_eq!(encoded(|o| write_u32(o, 624_485)), [0xe5, 0x8e, 0x26]);
        assert_eq!(encoded(|o| write_i64(o, -123_456)), [0xc0, 0xbb, 0x78]);
        assert_eq!(encoded(|o| write_i64(o, 63)), [0x3f]);
        assert_eq!(encoded(|o| write_i64(o, 64)), [0xc0, 0x00]);
        assert_eq!(encoded(|o| write_i64(o, -64)), [0x40]);
        assert_eq!(encoded(|o| write_i64(o, -65)), [0xbf, 0x7f]);
    }
}
