//! The compiled programs in the kernel with aya: load (the verifier runs), fill the maps, run
//! the verdict entry on crafted frames with `BPF_PROG_TEST_RUN`, attach the filter entry to an
//! interface with XDP, and read the per-CPU counters.

use std::time::{Duration, Instant};

use aya::maps::lpm_trie::{Key, LpmTrie};
use aya::maps::{Array, MapData, PerCpuArray};
use aya::programs::{TestRun, TestRunOptions, Xdp, XdpMode};
use aya::{Ebpf, EbpfLoader};
use thiserror::Error;

use crate::bpf::{self, Entry, LpmEntry, MapId, Program};

/// Why the kernel side failed.
#[derive(Debug, Error)]
pub enum KernelError {
    /// The object did not parse or its maps could not be created.
    #[error("cannot load the eBPF object: {0}; check that this process may use bpf(2) (root or CAP_BPF)")]
    Object(#[from] aya::EbpfError),
    /// The object lacks an entry (a code generator bug).
    #[error("the object has no XDP program {0}; report this code generator bug")]
    MissingProgram(&'static str),
    /// The object lacks a map (a code generator bug).
    #[error("the object has no map {0}; report this code generator bug")]
    MissingMap(&'static str),
    /// Loading (verification), test-running or attaching a program failed.
    #[error("{context}: {source}")]
    Program {
        /// What was being done.
        context: String,
        /// aya's error (with the verifier log for a rejected program).
        source: aya::programs::ProgramError,
    },
    /// Reading or writing a map failed.
    #[error("cannot access map {map}: {source}; check the map definitions")]
    Map {
        /// The map.
        map: &'static str,
        /// aya's error.
        source: aya::maps::MapError,
    },
}

/// Whether this process can load BPF programs: `Err` says why not (for `SKIPPED:` lines).
pub fn probe() -> Result<(), String> {
    let mut ebpf = Ebpf::load(&bpf::probe_object()).map_err(|error| format!("cannot load BPF objects: {error}"))?;
    let program: &mut Xdp = ebpf
        .program_mut(Entry::Verdict.symbol())
        .ok_or("the probe object has no program")?
        .try_into()
        .map_err(|error| format!("the probe program is not XDP: {error}"))?;
    program
        .load()
        .map_err(|error| format!("the kernel refuses BPF programs ({error}); run as root or grant CAP_BPF and CAP_NET_ADMIN"))
}

/// A compiled rule set loaded into the kernel.
pub struct KernelProgram {
    ebpf: Ebpf,
    load_time: Duration,
}

/// The filter entry attached to an interface; dropping it detaches the program.
pub struct XdpAttachment {
    _link: aya::programs::xdp::XdpLink,
}

impl KernelProgram {
    /// Loads both entries (the verifier checks them), fills the client tries and watches every
    /// destination port.
    pub fn load(program: &Program) -> Result<KernelProgram, KernelError> {
        let object = program.object_file();
        let started = Instant::now();
        let mut ebpf = EbpfLoader::new().load(&object)?;
        for entry in [Entry::Verdict, Entry::Filter] {
            let xdp = xdp_mut(&mut ebpf, entry)?;
            xdp.load().map_err(|source| KernelError::Program {
                context: format!("the verifier rejected {}", entry.symbol()),
                source,
            })?;
        }
        let load_time = started.elapsed();
        let mut loaded = KernelProgram { ebpf, load_time };
        loaded.fill_trie::<4>(MapId::ClientV4, program.client_v4())?;
        loaded.fill_trie::<16>(MapId::ClientV6, program.client_v6())?;
        loaded.set_port(0)?;
        Ok(loaded)
    }

    fn fill_trie<const N: usize>(&mut self, map: MapId, entries: &[LpmEntry]) -> Result<(), KernelError> {
        let name = map.name();
        let raw = self.ebpf.map_mut(name).ok_or(KernelError::MissingMap(name))?;
        let mut trie: LpmTrie<&mut MapData, [u8; N], u64> =
            LpmTrie::try_from(raw).map_err(|source| KernelError::Map { map: name, source })?;
        for entry in entries {
            let mut address = [0u8; N];
            let bytes = entry.address_bytes();
            if bytes.len() != N {
                continue;
            }
            address.copy_from_slice(&bytes);
            trie.insert(&Key::new(u32::from(entry.prefix), address), entry.predicates, 0)
                .map_err(|source| KernelError::Map { map: name, source })?;
        }
        Ok(())
    }

    /// Watches destination port `port` only (0 = every port).
    pub fn set_port(&mut self, port: u16) -> Result<(), KernelError> {
        let name = MapId::Config.name();
        let raw = self.ebpf.map_mut(name).ok_or(KernelError::MissingMap(name))?;
        let mut config: Array<&mut MapData, u32> =
            Array::try_from(raw).map_err(|source| KernelError::Map { map: name, source })?;
        config.set(0, u32::from(port), 0).map_err(|source| KernelError::Map { map: name, source })
    }

    /// How long loading the object and verifying both entries took.
    pub fn load_time(&self) -> Duration {
        self.load_time
    }

    /// The verdict the kernel computes for an Ethernet frame (`BPF_PROG_TEST_RUN`).
    pub fn verdict(&mut self, frame: &[u8]) -> Result<u32, KernelError> {
        Ok(self.run(frame, 1)?.0)
    }

    /// Runs the verdict entry `repeat` times on `frame` in the kernel: the verdict and the
    /// kernel's mean time per run.
    pub fn run(&mut self, frame: &[u8], repeat: u32) -> Result<(u32, Duration), KernelError> {
        let xdp = xdp_mut(&mut self.ebpf, Entry::Verdict)?;
        let mut out = vec![0u8; frame.len() + 256];
        let options = TestRunOptions { data_in: Some(frame), data_out: Some(&mut out), repeat, ..TestRunOptions::new() };
        let result = xdp.test_run(options).map_err(|source| KernelError::Program {
            context: "BPF_PROG_TEST_RUN failed".to_owned(),
            source,
        })?;
        Ok((result.return_value, result.duration))
    }

    /// The instructions the verifier processed for `entry` (its "processed N insns"), when the
    /// kernel reports it (5.16+), else the entry's instruction count.
    pub fn verified_instructions(&self, entry: Entry) -> Result<u32, KernelError> {
        let xdp: &Xdp = self
            .ebpf
            .program(entry.symbol())
            .ok_or(KernelError::MissingProgram(entry.symbol()))?
            .try_into()
            .map_err(|source| KernelError::Program { context: format!("{} is not XDP", entry.symbol()), source })?;
        let info = xdp
            .info()
            .map_err(|source| KernelError::Program { context: format!("cannot query {}", entry.symbol()), source })?;
        Ok(info
            .verified_instruction_count()
            .unwrap_or_else(|| info.size_translated().unwrap_or(0) / 8))
    }

    /// Attaches the filter entry to `iface` (native XDP when the driver has it, else generic).
    pub fn attach_xdp(&mut self, iface: &str) -> Result<XdpAttachment, KernelError> {
        let xdp = xdp_mut(&mut self.ebpf, Entry::Filter)?;
        let link_id = xdp
            .attach(iface, XdpMode::Default)
            .or_else(|_| xdp.attach(iface, XdpMode::Skb))
            .map_err(|source| KernelError::Program { context: format!("cannot attach XDP to {iface}"), source })?;
        let link = xdp
            .take_link(link_id)
            .map_err(|source| KernelError::Program { context: format!("cannot own the XDP link on {iface}"), source })?;
        Ok(XdpAttachment { _link: link })
    }

    /// Packets per verdict (index 0 = passed), summed over CPUs, both entries together.
    pub fn counters(&self) -> Result<Vec<u64>, KernelError> {
        let name = MapId::Counters.name();
        let raw = self.ebpf.map(name).ok_or(KernelError::MissingMap(name))?;
        let counters: PerCpuArray<&MapData, u64> =
            PerCpuArray::try_from(raw).map_err(|source| KernelError::Map { map: name, source })?;
        let mut sums = Vec::new();
        for index in 0..counters.len() {
            let values = counters.get(&index, 0).map_err(|source| KernelError::Map { map: name, source })?;
            sums.push(values.iter().sum());
        }
        Ok(sums)
    }
}

fn xdp_mut(ebpf: &mut Ebpf, entry: Entry) -> Result<&mut Xdp, KernelError> {
    ebpf.program_mut(entry.symbol())
        .ok_or(KernelError::MissingProgram(entry.symbol()))?
        .try_into()
        .map_err(|source| KernelError::Program { context: format!("{} is not XDP", entry.symbol()), source })
}
