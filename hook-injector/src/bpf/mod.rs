//! The eBPF backend: a rule set compiled to two XDP programs in one ELF object that aya (and
//! so the kernel verifier) loads and rbpf runs, with no clang, nightly or bpf-linker.
//!
//! - [`asm`]: a small assembler with labels and map references.
//! - [`codegen`]: the programs; the module doc explains the shape the verifier needs.
//! - [`elf`]: the object file (program section `xdp`, legacy `maps`, `R_BPF_64_64`).
//!
//! Invariant: both entries compute the same verdict, [`crate::ir::RuleSet::verdict`] of the
//! TCP payload; they differ only in what they return.

pub mod asm;
pub mod codegen;
pub mod elf;

use std::net::IpAddr;

use thiserror::Error;

use crate::ir::RuleSet;
use asm::{AsmError, Assembled};

/// One of the two programs compiled from a rule set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// Returns the verdict (0 = pass, `i` = rule `i` fired): for `BPF_PROG_TEST_RUN` and rbpf.
    Verdict,
    /// Returns `XDP_DROP` when the firing rule blocks, else `XDP_PASS`: for attaching.
    Filter,
}

impl Entry {
    /// The function symbol, which aya uses as the program name.
    pub fn symbol(self) -> &'static str {
        match self {
            Entry::Verdict => "edgeport_verdict",
            Entry::Filter => "edgeport_filter",
        }
    }
}

/// The maps the programs use, in relocation-index order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapId {
    /// Per-CPU array of `u64`: index = verdict, counts the packets each verdict got.
    Counters = 0,
    /// Array of one `u32`: the destination TCP port to watch (0 = any), set by the loader.
    Config = 1,
    /// Per-CPU scratch: the window copy and the positions found in it.
    Scratch = 2,
    /// LPM trie for IPv4 clients: key `{u32 prefix, [u8; 4]}`, value the predicate mask.
    ClientV4 = 3,
    /// LPM trie for IPv6 clients: key `{u32 prefix, [u8; 16]}`, value the predicate mask.
    ClientV6 = 4,
}

impl MapId {
    /// Every map, in index order.
    pub const ALL: [MapId; 5] = [MapId::Counters, MapId::Config, MapId::Scratch, MapId::ClientV4, MapId::ClientV6];

    /// The map's symbol and aya name.
    pub fn name(self) -> &'static str {
        match self {
            MapId::Counters => "EP_COUNTERS",
            MapId::Config => "EP_CONFIG",
            MapId::Scratch => "EP_SCRATCH",
            MapId::ClientV4 => "EP_CLIENT_V4",
            MapId::ClientV6 => "EP_CLIENT_V6",
        }
    }

    /// The map with relocation index `index`.
    pub fn from_index(index: usize) -> Option<MapId> {
        MapId::ALL.get(index).copied()
    }
}

/// A map definition as the legacy `maps` section declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapDef {
    /// Which map.
    pub id: MapId,
    /// `BPF_MAP_TYPE_*`.
    pub map_type: u32,
    /// Key bytes.
    pub key_size: u32,
    /// Value bytes.
    pub value_size: u32,
    /// Entries.
    pub max_entries: u32,
    /// `BPF_F_*`.
    pub flags: u32,
}

/// One network of an LPM trie with the `ClientIp` predicates (bit `k` = the `k`-th
/// `ClientIp` predicate of the rule set) that hold for every address its longest match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LpmEntry {
    /// Prefix length in bits.
    pub prefix: u8,
    /// The network address, host bits cleared.
    pub address: IpAddr,
    /// The predicate mask stored as the value.
    pub predicates: u64,
}

impl LpmEntry {
    /// The address bytes in network order (4 or 16).
    pub fn address_bytes(&self) -> Vec<u8> {
        match self.address {
            IpAddr::V4(address) => address.octets().to_vec(),
            IpAddr::V6(address) => address.octets().to_vec(),
        }
    }
}

/// Why a rule set cannot be compiled to eBPF.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CompileError {
    /// A header name is empty, too long or not an HTTP token.
    #[error("header name {name:?} is not an HTTP token of at most 256 bytes; fix the rule")]
    InvalidHeaderName {
        /// The name.
        name: String,
    },
    /// More distinct header names than the scratch record holds.
    #[error("the rules use {count} header names, at most {max} fit; split the rule set")]
    TooManyHeaders {
        /// How many.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// More `ClientIp` predicates than bits in the LPM value.
    #[error("the rules have {count} client-ip predicates, at most {max} fit; merge their networks")]
    TooManyClientIp {
        /// How many.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The assembler refused the program.
    #[error(transparent)]
    Assembly(#[from] AsmError),
}

const BPF_MAP_TYPE_ARRAY: u32 = 2;
const BPF_MAP_TYPE_PERCPU_ARRAY: u32 = 6;
const BPF_MAP_TYPE_LPM_TRIE: u32 = 11;
const BPF_F_NO_PREALLOC: u32 = 1;

/// A compiled rule set: both programs, the maps they declare and what the loader must put in
/// them.
#[derive(Debug, Clone)]
pub struct Program {
    verdict: Assembled,
    filter: Assembled,
    client_v4: Vec<LpmEntry>,
    client_v6: Vec<LpmEntry>,
    rules: usize,
    header_names: Vec<String>,
}

impl Program {
    /// Compiles `rules`.
    pub fn compile(rules: &RuleSet) -> Result<Program, CompileError> {
        let compiled = codegen::compile(rules)?;
        Ok(Program {
            verdict: compiled.verdict,
            filter: compiled.filter,
            client_v4: compiled.client_v4,
            client_v6: compiled.client_v6,
            rules: rules.rules.len(),
            header_names: compiled.header_names,
        })
    }

    /// The ELF object with both entries and the maps.
    pub fn object_file(&self) -> Vec<u8> {
        elf::object_file(
            &[(Entry::Verdict.symbol(), &self.verdict), (Entry::Filter.symbol(), &self.filter)],
            &self.maps(),
        )
    }

    /// Instruction slots of the verdict entry (the filter differs by a few).
    pub fn instruction_count(&self) -> usize {
        self.verdict.insns.len()
    }

    /// The assembled entry: instructions and map references.
    pub fn entry(&self, entry: Entry) -> &Assembled {
        match entry {
            Entry::Verdict => &self.verdict,
            Entry::Filter => &self.filter,
        }
    }

    /// The IPv4 trie's entries.
    pub fn client_v4(&self) -> &[LpmEntry] {
        &self.client_v4
    }

    /// The IPv6 trie's entries.
    pub fn client_v6(&self) -> &[LpmEntry] {
        &self.client_v6
    }

    /// Counter slots: one per verdict, 0 (pass) included.
    pub fn counter_slots(&self) -> usize {
        self.rules + 1
    }

    /// The header names the programs look for, lower-case, in record order.
    pub fn header_names(&self) -> &[String] {
        &self.header_names
    }

    /// The map definitions, in [`MapId`] order.
    pub fn maps(&self) -> Vec<MapDef> {
        let entries = |n: usize| u32::try_from(n.max(1)).unwrap_or(u32::MAX);
        vec![
            MapDef {
                id: MapId::Counters,
                map_type: BPF_MAP_TYPE_PERCPU_ARRAY,
                key_size: 4,
                value_size: 8,
                max_entries: entries(self.counter_slots()),
                flags: 0,
            },
            MapDef { id: MapId::Config, map_type: BPF_MAP_TYPE_ARRAY, key_size: 4, value_size: 4, max_entries: 1, flags: 0 },
            MapDef {
                id: MapId::Scratch,
                map_type: BPF_MAP_TYPE_PERCPU_ARRAY,
                key_size: 4,
                value_size: u32::try_from(self.scratch_value_size()).expect("the scratch value is small"),
                max_entries: 1,
                flags: 0,
            },
            MapDef {
                id: MapId::ClientV4,
                map_type: BPF_MAP_TYPE_LPM_TRIE,
                key_size: 8,
                value_size: 8,
                max_entries: entries(self.client_v4.len()),
                flags: BPF_F_NO_PREALLOC,
            },
            MapDef {
                id: MapId::ClientV6,
                map_type: BPF_MAP_TYPE_LPM_TRIE,
                key_size: 20,
                value_size: 8,
                max_entries: entries(self.client_v6.len()),
                flags: BPF_F_NO_PREALLOC,
            },
        ]
    }

    /// Bytes of the per-CPU scratch value.
    pub fn scratch_value_size(&self) -> usize {
        codegen::scratch_value_size(self.header_names.len())
    }
}

/// The smallest XDP program, `r0 = XDP_PASS; exit`, as an object: loading it tells whether
/// this process may load BPF at all.
pub fn probe_object() -> Vec<u8> {
    let mut a = asm::Asm::new();
    a.mov(asm::R0, codegen::XDP_PASS);
    a.exit();
    let program = a.finish().expect("no labels");
    elf::object_file(&[(Entry::Verdict.symbol(), &program)], &[])
}
