//! The verdict program in user space with rbpf (x86-64 JIT or interpreter), for machines where
//! the kernel will not load BPF and as a second opinion where it will.
//!
//! The programs are XDP programs: they read `data` and `data_end` as 32-bit fields of the
//! context, so the packet is copied into a buffer mapped below 4 GiB (`MAP_32BIT`). Map
//! references are patched to point at Rust-side maps that the helpers below understand:
//! `bpf_map_lookup_elem` (arrays and longest-prefix lookups with the program's networks) and
//! `bpf_xdp_load_bytes`.
//!
//! Invariant: the user-space maps hold the same contents the kernel loader writes.

use std::ops::Range;

use thiserror::Error;

use crate::bpf::asm::PSEUDO_MAP_FD;
use crate::bpf::codegen::{HELPER_MAP_LOOKUP, HELPER_XDP_LOAD_BYTES};
use crate::bpf::{Entry, LpmEntry, MapDef, MapId, Program};

/// Bytes of the packet buffer; longer frames are cut (no IP packet is this long).
const PACKET_BUFFER: usize = 128 * 1024;
/// Where the frame starts in the buffer (XDP's default headroom).
const HEADROOM: usize = 256;
/// Bytes of `struct xdp_md` at the start of the buffer.
const CONTEXT: usize = 24;

/// Why rbpf could not run the program.
#[derive(Debug, Error)]
pub enum VmError {
    /// rbpf refused the bytecode or faulted while running it.
    #[error("rbpf failed: {0}; report this code generator bug with the rule set")]
    Rbpf(String),
    /// No memory for the packet (below 4 GiB) or the JIT's code.
    #[error("cannot map memory for rbpf: {0}; free some memory or use the kernel")]
    Memory(std::io::Error),
}

/// A Rust-side map. The patched `lddw` immediates point at these.
struct UserMap {
    def: MapDef,
    /// Values (8-byte aligned); per-CPU maps have one CPU here.
    values: Box<[u64]>,
    /// For LPM tries: the networks, value `i` belonging to entry `i`.
    lpm: Vec<LpmEntry>,
}

impl UserMap {
    fn new(def: MapDef, lpm: &[LpmEntry]) -> UserMap {
        let value_words = (def.value_size as usize).div_ceil(8);
        let entries = def.max_entries as usize;
        let mut values = vec![0u64; value_words * entries].into_boxed_slice();
        for (slot, entry) in values.iter_mut().zip(lpm) {
            *slot = entry.predicates;
        }
        UserMap { def, values, lpm: lpm.to_vec() }
    }

    fn memory(&self) -> Range<u64> {
        let start = self.values.as_ptr() as u64;
        start..start + 8 * self.values.len() as u64
    }

    /// The value for the key at `key`, or null.
    ///
    /// # Safety
    /// `key` points at `def.key_size` readable bytes.
    unsafe fn lookup(&self, key: *const u8) -> u64 {
        // SAFETY: the caller guarantees `key_size` readable bytes.
        let key = unsafe { std::slice::from_raw_parts(key, self.def.key_size as usize) };
        let value_bytes = 8 * (self.def.value_size as usize).div_ceil(8);
        let index = if self.def.id == MapId::ClientV4 || self.def.id == MapId::ClientV6 {
            let address = &key[4..];
            self.lpm
                .iter()
                .enumerate()
                .filter(|(_, entry)| prefix_matches(&entry.address_bytes(), address, entry.prefix))
                .max_by_key(|(_, entry)| entry.prefix)
                .map(|(index, _)| index)
        } else {
            let index = u32::from_le_bytes([key[0], key[1], key[2], key[3]]) as usize;
            (index < self.def.max_entries as usize).then_some(index)
        };
        match index {
            Some(index) => self.values.as_ptr() as u64 + (index * value_bytes) as u64,
            None => 0,
        }
    }
}

fn prefix_matches(network: &[u8], address: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    if network.len() != address.len() || network[..full] != address[..full] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        network[full] & mask == address[full] & mask
    }
}

/// `bpf_map_lookup_elem(map, key)` for patched map pointers.
fn helper_map_lookup(map: u64, key: u64, _: u64, _: u64, _: u64) -> u64 {
    // SAFETY: the only programs run are ours, whose map operands were patched to point at the
    // live `UserMap`s of the running `UserSpaceVm` and whose keys are on the stack with the
    // map's key size.
    unsafe { (*(map as *const UserMap)).lookup(key as *const u8) }
}

/// `bpf_xdp_load_bytes(ctx, offset, buf, len)`.
fn helper_xdp_load_bytes(ctx: u64, offset: u64, buf: u64, len: u64, _: u64) -> u64 {
    // SAFETY: `ctx` is the context this module builds (data and data_end as u32 addresses of
    // the packet buffer); the copy is checked against data_end, and the program passes a
    // scratch value of at least `len` bytes as `buf`.
    unsafe {
        let data = u64::from(*(ctx as *const u32));
        let data_end = u64::from(*((ctx + 4) as *const u32));
        let Some(end) = data.checked_add(offset).and_then(|start| start.checked_add(len)) else {
            return (-14i64) as u64;
        };
        if end > data_end {
            return (-14i64) as u64;
        }
        std::ptr::copy_nonoverlapping((data + offset) as *const u8, buf as *mut u8, len as usize);
    }
    0
}

/// Helpers as the JIT calls them. rbpf 0.4.1's x86-64 JIT enters helpers with the stack 8
/// bytes off the System V alignment (its exit trampoline pushes one extra return address), so
/// a Rust helper that keeps 16-byte values on the stack faults. These trampolines realign the
/// stack and call the helper with the C calling convention the JIT uses.
#[cfg(target_arch = "x86_64")]
mod jit_helpers {
    use std::arch::naked_asm;

    macro_rules! trampoline {
        ($name:ident, $inner:ident, $helper:path) => {
            extern "sysv64" fn $inner(a: u64, b: u64, c: u64, d: u64, e: u64) -> u64 {
                $helper(a, b, c, d, e)
            }

            #[unsafe(naked)]
            pub extern "sysv64" fn $name(a: u64, b: u64, c: u64, d: u64, e: u64) -> u64 {
                naked_asm!(
                    "push rbp",
                    "mov rbp, rsp",
                    "and rsp, -16",
                    "call {inner}",
                    "mov rsp, rbp",
                    "pop rbp",
                    "ret",
                    inner = sym $inner,
                )
            }
        };
    }

    trampoline!(map_lookup, map_lookup_aligned, super::helper_map_lookup);
    trampoline!(xdp_load_bytes, xdp_load_bytes_aligned, super::helper_xdp_load_bytes);

    /// The trampoline as the type rbpf registers.
    pub fn helper(trampoline: extern "sysv64" fn(u64, u64, u64, u64, u64) -> u64) -> rbpf::Helper {
        // SAFETY: only JIT-compiled code calls these pointers, and it passes the five
        // arguments in rdi, rsi, rdx, rcx, r8 and reads rax: the System V convention the
        // trampolines are declared with. The interpreter gets the plain Rust helpers.
        unsafe { std::mem::transmute::<extern "sysv64" fn(u64, u64, u64, u64, u64) -> u64, rbpf::Helper>(trampoline) }
    }
}

/// An anonymous mapping: the packet buffer (below 4 GiB) or the JIT's code.
struct Mapping {
    ptr: *mut u8,
    len: usize,
}

impl Mapping {
    fn new(len: usize, protection: libc::c_int, flags: libc::c_int) -> Result<Mapping, VmError> {
        // SAFETY: an anonymous private mapping; the result is checked.
        let ptr = unsafe {
            libc::mmap(std::ptr::null_mut(), len, protection, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | flags, -1, 0)
        };
        if ptr == libc::MAP_FAILED {
            return Err(VmError::Memory(std::io::Error::last_os_error()));
        }
        Ok(Mapping { ptr: ptr.cast(), len })
    }

    fn range(&self) -> Range<u64> {
        self.ptr as u64..self.ptr as u64 + self.len as u64
    }

    /// The whole mapping as a slice that rbpf may tie to its `'static` lifetime.
    ///
    /// # Safety
    /// The slice must not be used after the mapping is dropped, nor alongside another one.
    unsafe fn static_slice(&self, len: usize) -> &'static mut [u8] {
        // SAFETY: the caller keeps the slice within the mapping's life and unaliased.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, len.min(self.len)) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmapping what `new` mapped.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// The verdict program of a [`Program`] in rbpf.
pub struct UserSpaceVm {
    // Field order matters: the VM borrows `bytecode` and the maps, so it is dropped first.
    vm: rbpf::EbpfVmRaw<'static>,
    jit: bool,
    _bytecode: Box<[u8]>,
    maps: Box<[UserMap]>,
    /// The context (`struct xdp_md`) at its start, the frame after [`HEADROOM`].
    packet: Mapping,
    /// The JIT's machine code (when it is used).
    _code: Option<Mapping>,
}

// SAFETY: a VM owns its bytecode, maps, packet buffer and machine code outright (the raw
// pointers in it point only into those); nothing in it is tied to the thread that built it.
// It is not `Sync`: `verdict` takes `&mut self`.
unsafe impl Send for UserSpaceVm {}

impl UserSpaceVm {
    /// The JIT on x86-64, else the interpreter.
    pub fn new(program: &Program) -> Result<UserSpaceVm, VmError> {
        Self::build(program, cfg!(target_arch = "x86_64"))
    }

    /// The interpreter (slower; checks every memory access).
    pub fn interpreter(program: &Program) -> Result<UserSpaceVm, VmError> {
        Self::build(program, false)
    }

    fn build(program: &Program, jit: bool) -> Result<UserSpaceVm, VmError> {
        // A boxed slice never moves its elements: the patched pointers stay valid.
        let maps: Box<[UserMap]> = program
            .maps()
            .into_iter()
            .map(|def| {
                let lpm = match def.id {
                    MapId::ClientV4 => program.client_v4(),
                    MapId::ClientV6 => program.client_v6(),
                    _ => &[],
                };
                UserMap::new(def, lpm)
            })
            .collect();
        let assembled = program.entry(Entry::Verdict);
        let mut insns = assembled.insns.clone();
        for &(at, map) in &assembled.map_refs {
            let address = &maps[map] as *const UserMap as u64;
            insns[at].src = if insns[at].src == PSEUDO_MAP_FD { 0 } else { insns[at].src };
            insns[at].imm = address as u32 as i32;
            insns[at + 1].imm = (address >> 32) as u32 as i32;
        }
        let bytecode: Box<[u8]> = insns.iter().flat_map(|insn| insn.to_bytes()).collect();
        // SAFETY: the VM borrows the bytecode, which lives in the same struct, is never
        // mutated, and outlives the VM (fields drop in declaration order).
        let code: &'static [u8] = unsafe { std::slice::from_raw_parts(bytecode.as_ptr(), bytecode.len()) };
        let rbpf_error = |error: rbpf::lib::Error| VmError::Rbpf(format!("{error:?}"));
        let packet = Mapping::new(PACKET_BUFFER, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_32BIT)?;
        let mut vm = rbpf::EbpfVmRaw::new(Some(code)).map_err(rbpf_error)?;
        #[cfg(target_arch = "x86_64")]
        let (map_lookup, xdp_load_bytes): (rbpf::Helper, rbpf::Helper) = if jit {
            (jit_helpers::helper(jit_helpers::map_lookup), jit_helpers::helper(jit_helpers::xdp_load_bytes))
        } else {
            (helper_map_lookup, helper_xdp_load_bytes)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let (map_lookup, xdp_load_bytes): (rbpf::Helper, rbpf::Helper) = (helper_map_lookup, helper_xdp_load_bytes);
        vm.register_helper(HELPER_MAP_LOOKUP as u32, map_lookup).map_err(rbpf_error)?;
        vm.register_helper(HELPER_XDP_LOAD_BYTES as u32, xdp_load_bytes).map_err(rbpf_error)?;
        vm.register_allowed_memory(packet.range());
        for map in &maps {
            vm.register_allowed_memory(map.memory());
        }
        let code = if jit {
            // Generous: rbpf emits well under 64 bytes of x86-64 per instruction.
            let len = (64 * insns.len() + 4096).next_multiple_of(4096);
            let code = Mapping::new(len, libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC, 0)?;
            // SAFETY: only rbpf uses this slice, for as long as the VM lives, which is dropped
            // before the mapping (field order).
            vm.set_jit_exec_memory(unsafe { code.static_slice(len) }).map_err(rbpf_error)?;
            vm.jit_compile().map_err(rbpf_error)?;
            Some(code)
        } else {
            None
        };
        Ok(UserSpaceVm { vm, jit, _bytecode: bytecode, maps, packet, _code: code })
    }

    /// Whether the JIT runs the program.
    pub fn is_jit(&self) -> bool {
        self.jit
    }

    /// Sets the destination port the program watches (0 = any), as the kernel loader does.
    pub fn set_port(&mut self, port: u16) {
        self.maps[MapId::Config as usize].values[0] = u64::from(port);
    }

    /// The verdict for an Ethernet frame.
    ///
    /// # Panics
    /// When rbpf faults, which means the generated bytecode is wrong: [`Self::try_verdict`]
    /// returns that as an error instead.
    pub fn verdict(&mut self, frame: &[u8]) -> u32 {
        match self.try_verdict(frame) {
            Ok(verdict) => verdict,
            Err(error) => panic!("{error}"),
        }
    }

    /// The verdict for an Ethernet frame, or why rbpf failed.
    pub fn try_verdict(&mut self, frame: &[u8]) -> Result<u32, VmError> {
        let length = frame.len().min(PACKET_BUFFER - HEADROOM);
        // SAFETY: the buffer has PACKET_BUFFER bytes and HEADROOM + length fits.
        unsafe { std::ptr::copy_nonoverlapping(frame.as_ptr(), self.packet.ptr.add(HEADROOM), length) };
        let data = self.packet.ptr as u64 + HEADROOM as u64;
        let data = u32::try_from(data).expect("MAP_32BIT maps below 4 GiB");
        let data_end = data + length as u32;
        // `struct xdp_md`: data, data_end, data_meta, ingress_ifindex, rx_queue_index,
        // egress_ifindex.
        // SAFETY: the first CONTEXT bytes of the mapping are the context, apart from the frame;
        // rbpf ties the slice to the VM's lifetime, which the mapping outlives (it drops later),
        // and the slice is only used during this call.
        let context = unsafe { self.packet.static_slice(CONTEXT) };
        context.fill(0);
        context[0..4].copy_from_slice(&data.to_le_bytes());
        context[4..8].copy_from_slice(&data_end.to_le_bytes());
        context[8..12].copy_from_slice(&data.to_le_bytes());
        let result = if self.jit {
            // SAFETY: the program only touches the context, the packet buffer, the maps and
            // its stack (the kernel verifier accepts the same bytecode; the interpreter, which
            // checks every access, runs the same tests).
            unsafe { self.vm.execute_program_jit(context) }
        } else {
            self.vm.execute_program(context)
        }
        .map_err(|error| VmError::Rbpf(format!("{error:?}")))?;
        Ok(result as u32)
    }

    /// Packets per verdict (index 0 = passed) since the VM was built.
    pub fn counters(&self) -> Vec<u64> {
        self.maps[MapId::Counters as usize].values.to_vec()
    }
}
