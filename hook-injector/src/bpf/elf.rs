//! The ELF object aya loads: the programs as global functions in one `xdp` section, legacy
//! map definitions in `maps`, `R_BPF_64_64` relocations from each map-loading `lddw` to its
//! map's symbol, and the license.

use object::write::{Object, Relocation, Symbol, SymbolSection};
use object::{
    elf, Architecture, BinaryFormat, Endianness, RelocationFlags, SectionKind, SymbolFlags, SymbolKind,
    SymbolScope,
};

use super::asm::Assembled;
use super::MapDef;

/// "GPL-compatible", which the helpers we call do not require but costs nothing.
const LICENSE: &[u8] = b"Dual MIT/GPL\0";

/// Writes `programs` (symbol, code) and `maps` into a relocatable eBPF object.
pub fn object_file(programs: &[(&str, &Assembled)], maps: &[MapDef]) -> Vec<u8> {
    let mut object = Object::new(BinaryFormat::Elf, Architecture::Bpf, Endianness::Little);

    let mut map_symbols = Vec::new();
    if !maps.is_empty() {
        let section = object.add_section(Vec::new(), b"maps".to_vec(), SectionKind::Data);
        for map in maps {
            // struct bpf_map_def { type, key_size, value_size, max_entries, map_flags, id, pinning }
            let mut def = Vec::with_capacity(28);
            for word in [map.map_type, map.key_size, map.value_size, map.max_entries, map.flags, 0, 0] {
                def.extend_from_slice(&word.to_le_bytes());
            }
            let offset = object.append_section_data(section, &def, 4);
            let symbol = object.add_symbol(Symbol {
                name: map.id.name().as_bytes().to_vec(),
                value: offset,
                size: def.len() as u64,
                kind: SymbolKind::Data,
                scope: SymbolScope::Linkage,
                weak: false,
                section: SymbolSection::Section(section),
                flags: SymbolFlags::None,
            });
            map_symbols.push((map.id as usize, symbol));
        }
    }

    let text = object.add_section(Vec::new(), b"xdp".to_vec(), SectionKind::Text);
    for (name, program) in programs {
        let bytes = program.bytes();
        let offset = object.append_section_data(text, &bytes, 8);
        object.add_symbol(Symbol {
            name: name.as_bytes().to_vec(),
            value: offset,
            size: bytes.len() as u64,
            kind: SymbolKind::Text,
            scope: SymbolScope::Linkage,
            weak: false,
            section: SymbolSection::Section(text),
            flags: SymbolFlags::None,
        });
        for &(insn, map) in &program.map_refs {
            let symbol = map_symbols
                .iter()
                .find(|(index, _)| *index == map)
                .map(|&(_, symbol)| symbol)
                .expect("every referenced map is declared");
            object
                .add_relocation(
                    text,
                    Relocation {
                        offset: offset + 8 * insn as u64,
                        symbol,
                        addend: 0,
                        flags: RelocationFlags::Elf { r_type: elf::R_BPF_64_64 },
                    },
                )
                .expect("BPF relocations are supported for ELF");
        }
    }

    let license = object.add_section(Vec::new(), b"license".to_vec(), SectionKind::Data);
    object.append_section_data(license, LICENSE, 1);
    object.write().expect("writing an in-memory ELF object cannot fail")
}
