//! Code generation: one XDP program per [`Entry`] from a [`RuleSet`], computing exactly
//! [`RuleSet::verdict`] on the first [`HEAD_WINDOW`] bytes of a TCP segment's payload.
//!
//! Shape of the generated code, chosen for the kernel verifier (which walks every path of a
//! bounded loop iteration by iteration, keeps a stack of at most 8,192 pending branches and
//! prunes a path only when its state equals one it has fully explored):
//! - Ethernet (one optional 802.1Q tag), IPv4 (IHL; fragments pass) or IPv6 (no extension
//!   headers), TCP (data offset), the destination-port filter and the client-address lookup in
//!   the LPM tries read the packet directly at constant or header-derived offsets.
//! - `bpf_xdp_load_bytes` then copies the window into a per-CPU scratch value. Every later read
//!   is at `scratch + (offset & 0x3ff) + constant`, so it needs no bounds branch, and every
//!   position found (request-line ends, header lines, value starts) is stored into the record
//!   after the window instead of a register or the stack: the verifier does not track map
//!   memory, so the paths that found a position at different iterations converge and are
//!   pruned after one full walk.
//! - Loops count with an exact counter to a constant bound. The branch that leaves a loop for
//!   the rest of the program is the fall-through (explored first), the continuation is the jump
//!   target: pending branches then stay in the tens instead of growing per iteration.
//! - Scans test eight bytes per iteration (128 iterations for the window instead of 1,024):
//!   a byte set is compared with every lane at once (`x ^ broadcast(member)`, then an exact
//!   zero-lane test), and the lowest marked lane gives the position without a branch. `contains`
//!   compares the literal at eight starts per iteration the same way (lane `k` ORs
//!   `byte(start + k + j) ^ literal[j]` over `j`, letters ORed with 0x20 when
//!   case-insensitive); without header names the end of the head is found as the literal
//!   `CR LF CR LF` this way and the header pass below is skipped.
//! - The one pass over the header lines also reads eight bytes at a time and handles the LFs
//!   among them lowest first (unrolled, the marks kept in the record); at each LF it compares
//!   every header name branch-free (OR of XORs, 8/4/2 bytes at a time) and records first
//!   occurrences with arithmetic selects.
//!
//! Verification cost (kernel 6.18, instructions processed, limit 1,000,000): about 53k for a
//! rule set without header names; the header pass with names costs about 1,024 times the work
//! at one LF, which grows with the number of names (the bench's 10-rule set with three names
//! needs 418k); each `contains` adds about 128 times its per-chunk compare. The bench's 50-
//! and 100-rule sets need 476k and 548k.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::asm::{Alu, Asm, Assembled, Cond, Label, Reg, Size, FP, R0, R1, R2, R3, R4, R5, R6, R7, R8, R9};
use super::{CompileError, Entry, LpmEntry, MapId};
use crate::ir::{Network, Predicate, RuleSet, TextMatch, HEAD_WINDOW};

/// Offsets are masked with this before every scratch access (`HEAD_WINDOW - 1`).
const POS_MASK: i32 = HEAD_WINDOW as i32 - 1;
/// Bytes of the scratch value for the window copy: a masked offset plus a literal of up to
/// `HEAD_WINDOW` bytes, read eight bytes at a time, stays inside.
pub(crate) const WINDOW_BYTES: usize = 2 * HEAD_WINDOW + 16;
/// Loops run at most this many iterations.
const LOOP_BOUND: i32 = HEAD_WINDOW as i32;
/// Longest header name accepted (longer ones are refused at compile time).
const MAX_HEADER_NAME: usize = 256;
/// How many distinct header names a rule set may use.
pub(crate) const MAX_HEADERS: usize = 64;
/// How many `ClientIp` predicates fit in the 64-bit LPM value.
pub(crate) const MAX_CLIENT_IP: usize = 64;

/// `bpf_map_lookup_elem`.
pub(crate) const HELPER_MAP_LOOKUP: i32 = 1;
/// `bpf_xdp_load_bytes`.
pub(crate) const HELPER_XDP_LOAD_BYTES: i32 = 189;
/// `XDP_DROP`.
pub const XDP_DROP: i32 = 1;
/// `XDP_PASS`.
pub const XDP_PASS: i32 = 2;

/// Record fields after the window copy (4 bytes each, the client mask 8).
mod field {
    pub const WLEN: usize = 0;
    pub const PORT: usize = 1;
    /// The first `\n`.
    pub const FNL: usize = 2;
    /// The space after the method.
    pub const METHOD_END: usize = 3;
    /// The end of the path (`?` or the space after the target).
    pub const PATH_END: usize = 4;
    /// The space after the target.
    pub const TARGET_END: usize = 5;
    /// The start of the line being scanned.
    pub const LINE_START: usize = 6;
    /// The client mask (u64, fields 8 and 9).
    pub const CLIENT_MASK: usize = 8;
    /// The LFs of the header pass's chunk not handled yet, as lane marks (u64, fields 10 and
    /// 11).
    pub const LF_MARKS: usize = 10;
    /// Per header name: found, line start, value end, value start.
    pub const HEADERS: usize = 12;
}

/// The size of the per-CPU scratch value for `headers` header names.
pub(crate) fn scratch_value_size(headers: usize) -> usize {
    WINDOW_BYTES + 4 * (field::HEADERS + 4 * headers)
}

fn rec(field: usize) -> i16 {
    i16::try_from(WINDOW_BYTES + 4 * field).expect("the record fits in 16-bit offsets")
}

fn header_field(header: usize, part: usize) -> usize {
    field::HEADERS + 4 * header + part
}

const FOUND: usize = 0;
const LINE: usize = 1;
const VALUE_END: usize = 2;
const VALUE_START: usize = 3;

/// What a predicate compiles to.
enum Plan {
    /// Always holds: no code.
    True,
    /// Never holds: the rule cannot fire.
    False,
    /// Bit `index` of the client mask.
    ClientIp(usize),
    /// A text field compared with a literal.
    Text { field: TextField, op: TextMatch, literal: Vec<u8>, case_insensitive: bool },
    /// The header has no line.
    Absent(usize),
}

#[derive(Clone, Copy)]
enum TextField {
    Method,
    Path,
    Header(usize),
}

/// Everything compiled from a rule set that both entries share.
pub(crate) struct Compiled {
    pub verdict: Assembled,
    pub filter: Assembled,
    pub client_v4: Vec<LpmEntry>,
    pub client_v6: Vec<LpmEntry>,
    pub header_names: Vec<String>,
}

pub(crate) fn compile(rules: &RuleSet) -> Result<Compiled, CompileError> {
    let mut header_names: Vec<String> = Vec::new();
    let mut value_needed: Vec<bool> = Vec::new();
    let mut client_networks: Vec<Vec<Network>> = Vec::new();
    let mut plans: Vec<Vec<Plan>> = Vec::new();
    for rule in &rules.rules {
        let mut rule_plans = Vec::new();
        for predicate in &rule.predicates {
            let mut header_index = |name: &str, value: bool| -> Result<usize, CompileError> {
                let lower = name.to_ascii_lowercase();
                if lower.is_empty() || lower.len() > MAX_HEADER_NAME || !lower.bytes().all(is_token) {
                    return Err(CompileError::InvalidHeaderName { name: name.to_owned() });
                }
                let index = match header_names.iter().position(|n| *n == lower) {
                    Some(index) => index,
                    None => {
                        header_names.push(lower);
                        value_needed.push(false);
                        header_names.len() - 1
                    }
                };
                value_needed[index] |= value;
                Ok(index)
            };
            let plan = match predicate {
                Predicate::ClientIp { networks } => {
                    if networks.is_empty() {
                        Plan::False
                    } else {
                        client_networks.push(networks.clone());
                        Plan::ClientIp(client_networks.len() - 1)
                    }
                }
                Predicate::Method { value } => text_plan(TextField::Method, TextMatch::Equals, value, false),
                Predicate::Path { op, value, case_insensitive } => {
                    text_plan(TextField::Path, *op, value, *case_insensitive)
                }
                Predicate::Header { name, op, value, case_insensitive } => {
                    let index = header_index(name, true)?;
                    text_plan(TextField::Header(index), *op, value, *case_insensitive)
                }
                Predicate::HeaderAbsent { name } => Plan::Absent(header_index(name, false)?),
            };
            rule_plans.push(plan);
        }
        plans.push(rule_plans);
    }
    if header_names.len() > MAX_HEADERS {
        return Err(CompileError::TooManyHeaders { count: header_names.len(), max: MAX_HEADERS });
    }
    if client_networks.len() > MAX_CLIENT_IP {
        return Err(CompileError::TooManyClientIp { count: client_networks.len(), max: MAX_CLIENT_IP });
    }
    let actions: Vec<i32> = rules
        .rules
        .iter()
        .map(|rule| if rule.action.is_block() { XDP_DROP } else { XDP_PASS })
        .collect();
    let layout = Layout { header_names: &header_names, value_needed: &value_needed, client_ip: !client_networks.is_empty() };
    let verdict = Generator::new(Entry::Verdict, &layout).program(&plans, &actions)?;
    let filter = Generator::new(Entry::Filter, &layout).program(&plans, &actions)?;
    Ok(Compiled {
        verdict,
        filter,
        client_v4: lpm_entries(&client_networks, false),
        client_v6: lpm_entries(&client_networks, true),
        header_names,
    })
}

fn text_plan(field: TextField, op: TextMatch, value: &str, case_insensitive: bool) -> Plan {
    let literal = if case_insensitive { value.to_ascii_lowercase() } else { value.to_owned() }.into_bytes();
    match op {
        TextMatch::Prefix | TextMatch::Suffix | TextMatch::Contains if literal.is_empty() => Plan::True,
        // No field of a head inside the window is this long.
        _ if literal.len() > HEAD_WINDOW => Plan::False,
        _ => Plan::Text { field, op, literal, case_insensitive },
    }
}

fn is_token(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// The trie entries of one family: every distinct network with the mask of the predicates
/// whose networks contain it, so that the longest match alone answers every predicate.
fn lpm_entries(predicates: &[Vec<Network>], v6: bool) -> Vec<LpmEntry> {
    let width: u8 = if v6 { 128 } else { 32 };
    let mut distinct: BTreeMap<(u8, u128), u64> = BTreeMap::new();
    let mut all = Vec::new();
    for (index, networks) in predicates.iter().enumerate() {
        for network in networks {
            let bits = match network.address {
                IpAddr::V4(address) if !v6 => u128::from(u32::from(address)),
                IpAddr::V6(address) if v6 => u128::from(address),
                _ => continue,
            };
            let prefix = network.prefix.min(width);
            let masked = bits & prefix_mask(prefix, width);
            distinct.insert((prefix, masked), 0);
            all.push((prefix, masked, index));
        }
    }
    distinct
        .into_iter()
        .map(|((prefix, bits), _)| {
            let predicates = all
                .iter()
                .filter(|&&(p, b, _)| p <= prefix && bits & prefix_mask(p, width) == b)
                .fold(0u64, |mask, &(_, _, index)| mask | 1 << index);
            let address = if v6 {
                IpAddr::from(bits.to_be_bytes())
            } else {
                IpAddr::from((bits as u32).to_be_bytes())
            };
            LpmEntry { prefix, address, predicates }
        })
        .collect()
}

fn prefix_mask(prefix: u8, width: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        (u128::MAX << (128 - u32::from(prefix))) >> (128 - u32::from(width))
    }
}

struct Layout<'a> {
    header_names: &'a [String],
    value_needed: &'a [bool],
    client_ip: bool,
}

struct Generator<'a> {
    asm: Asm,
    entry: Entry,
    layout: &'a Layout<'a>,
    pass: Label,
    finish: Label,
}

/// Where a scan starts.
enum Start {
    Zero,
    /// A record field plus a constant.
    Field(usize, i32),
}

impl<'a> Generator<'a> {
    fn new(entry: Entry, layout: &'a Layout<'a>) -> Self {
        let mut asm = Asm::new();
        let pass = asm.label();
        let finish = asm.label();
        Generator { asm, entry, layout, pass, finish }
    }

    fn program(mut self, plans: &[Vec<Plan>], actions: &[i32]) -> Result<Assembled, CompileError> {
        self.prologue();
        self.request_line();
        self.header_lines();
        self.rules(plans, actions);
        self.epilogue();
        Ok(self.asm.finish()?)
    }

    fn map(&mut self, dst: Reg, map: MapId) {
        self.asm.load_map(dst, map as usize);
    }

    fn load_field(&mut self, dst: Reg, field: usize) {
        self.asm.load(Size::W, dst, R7, rec(field));
    }

    /// A position from the record, bounded for the verifier.
    fn load_pos(&mut self, dst: Reg, field: usize) {
        self.load_field(dst, field);
        self.asm.alu_imm(Alu::And, dst, POS_MASK);
    }

    /// `dst = scratch + (pos & mask)`; `pos` is left masked.
    fn window_ptr(&mut self, dst: Reg, pos: Reg) {
        self.asm.alu_imm(Alu::And, pos, POS_MASK);
        self.asm.mov_reg(dst, pos);
        self.asm.alu_reg(Alu::Add, dst, R7);
    }

    /// Ethernet to TCP, the port filter, the client lookup, and the copy of the window.
    fn prologue(&mut self) {
        let a = &mut self.asm;
        let pass = self.pass;
        a.mov_reg(R6, R1);
        a.store_imm(Size::W, FP, -4, 0);
        self.map(R1, MapId::Scratch);
        let a = &mut self.asm;
        a.mov_reg(R2, FP);
        a.alu_imm(Alu::Add, R2, -4);
        a.call(HELPER_MAP_LOOKUP);
        a.jump_imm(Cond::Eq, R0, 0, pass);
        a.mov_reg(R7, R0);
        self.map(R1, MapId::Config);
        let a = &mut self.asm;
        a.mov_reg(R2, FP);
        a.alu_imm(Alu::Add, R2, -4);
        a.call(HELPER_MAP_LOOKUP);
        a.jump_imm(Cond::Eq, R0, 0, pass);
        a.load(Size::W, R0, R0, 0);
        a.store(Size::W, R7, rec(field::PORT), R0);

        // Ethernet, with at most one 802.1Q tag; r8 is the network header's offset.
        let untagged = a.label();
        let ipv4 = a.label();
        let ipv6 = a.label();
        let tcp = a.label();
        a.load(Size::W, R2, R6, 0);
        a.load(Size::W, R3, R6, 4);
        a.mov_reg(R4, R2);
        a.alu_imm(Alu::Add, R4, 14);
        a.jump_reg(Cond::Gt, R4, R3, pass);
        a.mov(R8, 14);
        a.load(Size::H, R5, R2, 12);
        // Ethertypes are big-endian on the wire and loaded little-endian.
        a.jump_imm(Cond::Ne, R5, 0x0081, untagged);
        a.mov_reg(R4, R2);
        a.alu_imm(Alu::Add, R4, 18);
        a.jump_reg(Cond::Gt, R4, R3, pass);
        a.load(Size::H, R5, R2, 16);
        a.mov(R8, 18);
        a.bind(untagged);
        a.alu_reg(Alu::Add, R2, R8);
        a.jump_imm(Cond::Eq, R5, 0x0008, ipv4);
        a.jump_imm(Cond::Eq, R5, 0xdd86, ipv6);
        a.ja(pass);

        // IPv4: r4 = header length; the IP payload length and the TCP offset go to the stack.
        a.bind(ipv4);
        a.mov_reg(R4, R2);
        a.alu_imm(Alu::Add, R4, 20);
        a.jump_reg(Cond::Gt, R4, R3, pass);
        a.load(Size::B, R4, R2, 0);
        a.mov_reg(R5, R4);
        a.alu_imm(Alu::Rsh, R5, 4);
        a.jump_imm(Cond::Ne, R5, 4, pass);
        a.alu_imm(Alu::And, R4, 0x0f);
        a.alu_imm(Alu::Lsh, R4, 2);
        a.jump_imm(Cond::Lt, R4, 20, pass);
        a.load(Size::B, R5, R2, 9);
        a.jump_imm(Cond::Ne, R5, 6, pass);
        // Any fragment (more-fragments flag or an offset) passes: its payload is not the head.
        a.load(Size::H, R5, R2, 6);
        a.alu_imm(Alu::And, R5, 0xff3f);
        a.jump_imm(Cond::Ne, R5, 0, pass);
        a.load(Size::H, R5, R2, 2);
        a.be16(R5);
        a.jump_reg(Cond::Le, R5, R4, pass);
        a.alu_reg(Alu::Sub, R5, R4);
        a.store(Size::DW, FP, -40, R5);
        a.mov_reg(R5, R8);
        a.alu_reg(Alu::Add, R5, R4);
        a.store(Size::DW, FP, -32, R5);
        a.load(Size::W, R0, R2, 12);
        a.store(Size::W, FP, -20, R0);
        a.store_imm(Size::W, FP, -24, 32);
        a.mov_reg(R9, R2);
        a.alu_reg(Alu::Add, R9, R4);
        self.client_lookup(MapId::ClientV4);
        self.asm.ja(tcp);

        // IPv6 without extension headers.
        let a = &mut self.asm;
        a.bind(ipv6);
        a.mov_reg(R4, R2);
        a.alu_imm(Alu::Add, R4, 40);
        a.jump_reg(Cond::Gt, R4, R3, pass);
        a.load(Size::B, R4, R2, 0);
        a.alu_imm(Alu::Rsh, R4, 4);
        a.jump_imm(Cond::Ne, R4, 6, pass);
        a.load(Size::B, R4, R2, 6);
        a.jump_imm(Cond::Ne, R4, 6, pass);
        a.load(Size::H, R5, R2, 4);
        a.be16(R5);
        a.store(Size::DW, FP, -40, R5);
        a.mov_reg(R5, R8);
        a.alu_imm(Alu::Add, R5, 40);
        a.store(Size::DW, FP, -32, R5);
        for word in 0..4 {
            a.load(Size::W, R0, R2, 8 + 4 * word);
            a.store(Size::W, FP, -20 + 4 * word, R0);
        }
        a.store_imm(Size::W, FP, -24, 128);
        a.mov_reg(R9, R2);
        a.alu_imm(Alu::Add, R9, 40);
        self.client_lookup(MapId::ClientV6);

        // TCP at r9: the port filter, then the window copy.
        let a = &mut self.asm;
        let any_port = a.label();
        let sized = a.label();
        a.bind(tcp);
        a.load(Size::W, R3, R6, 4);
        a.mov_reg(R4, R9);
        a.alu_imm(Alu::Add, R4, 20);
        a.jump_reg(Cond::Gt, R4, R3, pass);
        a.load(Size::H, R5, R9, 2);
        a.be16(R5);
        a.load(Size::W, R4, R7, rec(field::PORT));
        a.jump_imm(Cond::Eq, R4, 0, any_port);
        a.jump_reg(Cond::Ne, R4, R5, pass);
        a.bind(any_port);
        a.load(Size::B, R4, R9, 12);
        a.alu_imm(Alu::Rsh, R4, 4);
        a.alu_imm(Alu::Lsh, R4, 2);
        a.jump_imm(Cond::Lt, R4, 20, pass);
        a.load(Size::DW, R5, FP, -40);
        a.jump_reg(Cond::Le, R5, R4, pass);
        a.alu_reg(Alu::Sub, R5, R4);
        a.jump_imm(Cond::Le, R5, HEAD_WINDOW as i32, sized);
        a.mov(R5, HEAD_WINDOW as i32);
        a.bind(sized);
        a.jump_imm(Cond::Lt, R5, 1, pass);
        a.store(Size::W, R7, rec(field::WLEN), R5);
        a.load(Size::DW, R2, FP, -32);
        a.alu_reg(Alu::Add, R2, R4);
        a.mov_reg(R1, R6);
        a.mov_reg(R3, R7);
        a.mov_reg(R4, R5);
        a.call(HELPER_XDP_LOAD_BYTES);
        a.jump_imm(Cond::Ne, R0, 0, pass);
    }

    /// Looks the key at `fp - 24` up in `map` and stores the mask (0 when absent).
    fn client_lookup(&mut self, map: MapId) {
        if !self.layout.client_ip {
            return;
        }
        self.map(R1, map);
        let a = &mut self.asm;
        let absent = a.label();
        a.mov_reg(R2, FP);
        a.alu_imm(Alu::Add, R2, -24);
        a.call(HELPER_MAP_LOOKUP);
        a.mov(R1, 0);
        a.jump_imm(Cond::Eq, R0, 0, absent);
        a.load(Size::DW, R1, R0, 0);
        a.bind(absent);
        a.store(Size::DW, R7, rec(field::CLIENT_MASK), R1);
    }

    /// Finds the first position at or after `start` whose byte is in `set` (with `skip`: is
    /// not), and stores it in the record's `out`. With `limit`, positions from that record
    /// field on are outside the window and pass. Not found within the bound also passes.
    ///
    /// Eight bytes are tested per iteration: every lane is compared with every member at once
    /// and the lowest matching lane gives the position, so the verifier walks 128 iterations
    /// instead of 1,024.
    fn scan(&mut self, start: Start, set: &[u8], skip: bool, limit: Option<usize>, out: usize) {
        match start {
            Start::Zero => self.asm.mov(R1, 0),
            Start::Field(field, add) => {
                self.load_pos(R1, field);
                self.asm.alu_imm(Alu::Add, R1, add);
                self.asm.alu_imm(Alu::And, R1, POS_MASK);
            }
        }
        let a = &mut self.asm;
        let top = a.label();
        let next = a.label();
        let done = a.label();
        a.mov(R2, 0);
        a.bind(top);
        a.mov_reg(R3, R1);
        a.alu_reg(Alu::Add, R3, R2);
        a.alu_imm(Alu::And, R3, POS_MASK);
        a.alu_reg(Alu::Add, R3, R7);
        a.load(Size::DW, R4, R3, 0);
        // r5 = a lane mark (0x80) for every byte in the set.
        for (i, &member) in set.iter().enumerate() {
            a.load_imm64(R0, broadcast(member));
            a.alu_reg(Alu::Xor, R0, R4);
            let mark = if i == 0 { R5 } else { R3 };
            zero_lanes(a, R0, mark, R8);
            if i > 0 {
                a.alu_reg(Alu::Or, R5, R3);
            }
        }
        if skip {
            a.load_imm64(R0, LANE_HIGH);
            a.alu_reg(Alu::Xor, R5, R0);
        }
        a.jump_imm(Cond::Eq, R5, 0, next);
        lowest_lane(a, R5, R0);
        a.alu_reg(Alu::Add, R5, R1);
        a.alu_reg(Alu::Add, R5, R2);
        if let Some(limit) = limit {
            let inside = a.label();
            a.load(Size::W, R4, R7, rec(limit));
            a.jump_reg(Cond::Lt, R5, R4, inside);
            a.ja(self.pass);
            a.bind(inside);
        }
        a.store(Size::W, R7, rec(out), R5);
        a.ja(done);
        a.bind(next);
        a.alu_imm(Alu::Add, R2, LANES);
        a.jump_imm(Cond::Lt, R2, LOOP_BOUND, top);
        a.ja(self.pass);
        a.bind(done);
    }

    /// Jumps to `pass` unless the byte at the record position `field` plus `add` is `byte`.
    fn expect_byte(&mut self, field: usize, add: i32, byte: u8) {
        self.load_pos(R1, field);
        self.asm.alu_imm(Alu::Add, R1, add);
        self.window_ptr(R2, R1);
        self.asm.load(Size::B, R2, R2, 0);
        self.asm.jump_imm(Cond::Ne, R2, i32::from(byte), self.pass);
    }

    /// `METHOD SP /target SP HTTP/1.x CR LF`: the first line of the window, or pass.
    fn request_line(&mut self) {
        let pass = self.pass;
        self.scan(Start::Zero, b"\n", false, Some(field::WLEN), field::FNL);
        // The shortest request line, `M / HTTP/1.` CR, puts the first LF at 12.
        self.load_field(R1, field::FNL);
        self.asm.jump_imm(Cond::Lt, R1, 12, pass);
        self.expect_byte(field::FNL, -1, b'\r');
        self.scan(Start::Zero, b" \n", false, None, field::METHOD_END);
        self.load_field(R1, field::METHOD_END);
        self.asm.jump_imm(Cond::Eq, R1, 0, pass);
        self.expect_byte(field::METHOD_END, 0, b' ');
        self.expect_byte(field::METHOD_END, 1, b'/');
        self.scan(Start::Field(field::METHOD_END, 1), b"? \n", false, None, field::PATH_END);
        self.scan(Start::Field(field::PATH_END, 0), b" \n", false, None, field::TARGET_END);
        self.expect_byte(field::TARGET_END, 0, b' ');
        // The version must lie before the CR, which it does when it matches: CR is not in it.
        self.load_pos(R1, field::TARGET_END);
        self.asm.alu_imm(Alu::Add, R1, 1);
        self.window_ptr(R3, R1);
        compare_acc(&mut self.asm, R3, b"HTTP/1.", false, R4, R5, R0);
        self.asm.jump_imm(Cond::Ne, R4, 0, pass);
    }

    /// Passes unless the head ends (`CR LF CR LF`) inside the window; eight starts at a time.
    fn head_end(&mut self) {
        let pass = self.pass;
        let a = &mut self.asm;
        let top = a.label();
        let next = a.label();
        let found = a.label();
        a.mov(R2, 0);
        a.bind(top);
        a.mov_reg(R3, R2);
        self.window_ptr(R3, R3);
        let a = &mut self.asm;
        compare_lanes(a, R3, b"\r\n\r\n", false, R4, R5, R0);
        zero_lanes(a, R4, R5, R0);
        a.jump_imm(Cond::Eq, R5, 0, next);
        lowest_lane(a, R5, R0);
        a.alu_reg(Alu::Add, R5, R2);
        // The whole `CR LF CR LF` must lie inside the window.
        a.alu_imm(Alu::Add, R5, 4);
        a.load(Size::W, R4, R7, rec(field::WLEN));
        a.jump_reg(Cond::Le, R5, R4, found);
        a.ja(pass);
        a.bind(next);
        a.alu_imm(Alu::Add, R2, LANES);
        a.jump_imm(Cond::Lt, R2, LOOP_BOUND - 3, top);
        a.ja(pass);
        a.bind(found);
    }

    /// One pass over the header lines up to the blank line: records, per header name, its
    /// first line that ends in CR, then where each needed value starts.
    ///
    /// Without header names only the end of the head matters, which [`Self::head_end`] finds
    /// eight starts at a time.
    fn header_lines(&mut self) {
        let names = self.layout.header_names;
        if names.is_empty() {
            self.head_end();
            return;
        }
        let pass = self.pass;
        let a = &mut self.asm;
        a.load(Size::W, R1, R7, rec(field::FNL));
        a.alu_imm(Alu::And, R1, POS_MASK);
        a.alu_imm(Alu::Add, R1, 1);
        a.store(Size::W, R7, rec(field::LINE_START), R1);
        for index in 0..names.len() {
            a.store_imm(Size::W, R7, rec(header_field(index, FOUND)), 0);
        }
        let top = a.label();
        let inside = a.label();
        let next = a.label();
        let end = a.label();
        a.mov(R2, 0);
        a.bind(top);
        a.mov_reg(R3, R1);
        a.alu_reg(Alu::Add, R3, R2);
        a.load(Size::W, R4, R7, rec(field::WLEN));
        a.jump_reg(Cond::Lt, R3, R4, inside);
        a.ja(pass);
        a.bind(inside);
        // The LFs among the eight bytes from r3, handled lowest first below; the marks live in
        // the record, which the verifier does not track, so the lanes' paths converge.
        self.window_ptr(R4, R3);
        let a = &mut self.asm;
        a.load(Size::DW, R4, R4, 0);
        a.load_imm64(R0, broadcast(b'\n'));
        a.alu_reg(Alu::Xor, R4, R0);
        zero_lanes(a, R4, R5, R0);
        a.store(Size::DW, R7, rec(field::LF_MARKS), R5);
        for _ in 0..LANES {
            self.header_line(next, end);
        }
        let a = &mut self.asm;
        a.bind(next);
        a.alu_imm(Alu::Add, R2, LANES);
        a.jump_imm(Cond::Lt, R2, LOOP_BOUND, top);
        a.ja(pass);
        a.bind(end);
        // Where each compared value starts: after the colon and any SP or HTAB.
        for (index, name) in names.iter().enumerate() {
            if !self.layout.value_needed[index] {
                continue;
            }
            let absent = self.asm.label();
            self.load_field(R1, header_field(index, FOUND));
            self.asm.jump_imm(Cond::Eq, R1, 0, absent);
            let after_colon = i32::try_from(name.len() + 1).expect("header names are short");
            self.scan(
                Start::Field(header_field(index, LINE), after_colon),
                b" \t",
                true,
                None,
                header_field(index, VALUE_START),
            );
            self.asm.bind(absent);
        }
    }

    /// The lowest LF still marked in the chunk at `r1 + r2`, when there is one (else on to
    /// `next`): past the window it passes, closing `CR LF CR LF` it ends the pass at `end`,
    /// else it ends a header line, which is compared with every header name.
    fn header_line(&mut self, next: Label, end: Label) {
        let names = self.layout.header_names;
        let pass = self.pass;
        let a = &mut self.asm;
        let newline = a.label();
        let inside = a.label();
        let line = a.label();
        a.load(Size::DW, R5, R7, rec(field::LF_MARKS));
        a.jump_imm(Cond::Ne, R5, 0, newline);
        a.ja(next);
        a.bind(newline);
        a.mov_reg(R4, R5);
        a.alu_imm(Alu::Sub, R4, 1);
        a.alu_reg(Alu::And, R4, R5);
        a.store(Size::DW, R7, rec(field::LF_MARKS), R4);
        lowest_lane(a, R5, R0);
        a.mov_reg(R3, R1);
        a.alu_reg(Alu::Add, R3, R2);
        a.alu_reg(Alu::Add, R3, R5);
        a.load(Size::W, R4, R7, rec(field::WLEN));
        a.jump_reg(Cond::Lt, R3, R4, inside);
        a.ja(pass);
        a.bind(inside);
        a.mov_reg(R4, R3);
        a.alu_imm(Alu::Add, R4, -3);
        self.window_ptr(R5, R4);
        let a = &mut self.asm;
        a.load(Size::W, R4, R5, 0);
        a.jump32_imm(Cond::Ne, R4, 0x0a0d_0a0d, line);
        a.ja(end);
        a.bind(line);
        // r8 = 0 exactly when the line ends in CR.
        a.mov_reg(R4, R3);
        a.alu_imm(Alu::Add, R4, -1);
        self.window_ptr(R5, R4);
        let a = &mut self.asm;
        a.load(Size::B, R8, R5, 0);
        a.alu_imm(Alu::Xor, R8, 0x0d);
        for (index, name) in names.iter().enumerate() {
            let mut literal = name.clone().into_bytes();
            literal.push(b':');
            a.load(Size::W, R4, R7, rec(field::LINE_START));
            a.alu_imm(Alu::And, R4, POS_MASK);
            a.alu_reg(Alu::Add, R4, R7);
            a.mov_reg(R5, R8);
            compare_acc_into(a, R4, &literal, true, R5, R9, R0);
            // r9 = 1 when this is the first matching line: the name matched (r5 == 0) and
            // no line was recorded before.
            a.mov_reg(R9, R5);
            a.alu_imm(Alu::Neg, R9, 0);
            a.alu_reg(Alu::Or, R9, R5);
            a.alu_imm(Alu::Rsh, R9, 63);
            a.alu_imm(Alu::Xor, R9, 1);
            a.load(Size::W, R0, R7, rec(header_field(index, FOUND)));
            a.alu_imm(Alu::Xor, R0, 1);
            a.alu_reg(Alu::And, R9, R0);
            a.load(Size::W, R0, R7, rec(header_field(index, FOUND)));
            a.alu_reg(Alu::Or, R0, R9);
            a.store(Size::W, R7, rec(header_field(index, FOUND)), R0);
            // field += (new - field) * r9, for the line start and the CR.
            a.load(Size::W, R0, R7, rec(field::LINE_START));
            select_into(a, index, LINE, R0, R9);
            a.mov_reg(R0, R3);
            a.alu_imm(Alu::Add, R0, -1);
            select_into(a, index, VALUE_END, R0, R9);
        }
        a.mov_reg(R4, R3);
        a.alu_imm(Alu::Add, R4, 1);
        a.store(Size::W, R7, rec(field::LINE_START), R4);
    }

    fn rules(&mut self, plans: &[Vec<Plan>], actions: &[i32]) {
        for (index, (rule, &action)) in plans.iter().zip(actions).enumerate() {
            let next_rule = self.asm.label();
            let mut can_fire = true;
            for plan in rule {
                if !self.predicate(plan, next_rule) {
                    can_fire = false;
                    break;
                }
            }
            if can_fire {
                let verdict = i32::try_from(index + 1).expect("rule counts fit in i32");
                self.asm.mov(R8, verdict);
                if self.entry == Entry::Filter {
                    self.asm.mov(R9, action);
                }
                self.asm.ja(self.finish);
            }
            self.asm.bind(next_rule);
            let always_fires = rule.iter().all(|plan| matches!(plan, Plan::True));
            if always_fires {
                // Later rules are unreachable; the verifier rejects unreachable code.
                break;
            }
        }
    }

    /// Emits a test that jumps to `fail` when the predicate does not hold; `false` when it
    /// never holds (a jump was emitted and nothing after it is reachable).
    fn predicate(&mut self, plan: &Plan, fail: Label) -> bool {
        match plan {
            Plan::True => {}
            Plan::False => {
                self.asm.ja(fail);
                return false;
            }
            Plan::ClientIp(bit) => {
                let a = &mut self.asm;
                a.load(Size::DW, R1, R7, rec(field::CLIENT_MASK));
                a.alu_imm(Alu::Rsh, R1, i32::try_from(*bit).expect("at most 64 bits"));
                a.alu_imm(Alu::And, R1, 1);
                a.jump_imm(Cond::Eq, R1, 0, fail);
            }
            Plan::Absent(header) => {
                self.load_field(R1, header_field(*header, FOUND));
                self.asm.jump_imm(Cond::Ne, R1, 0, fail);
            }
            Plan::Text { field, op, literal, case_insensitive } => {
                // r1 = field start, r2 = field end (both masked).
                match *field {
                    TextField::Method => {
                        self.asm.mov(R1, 0);
                        self.load_pos(R2, field::METHOD_END);
                    }
                    TextField::Path => {
                        self.load_pos(R1, field::METHOD_END);
                        self.asm.alu_imm(Alu::Add, R1, 1);
                        self.load_pos(R2, field::PATH_END);
                    }
                    TextField::Header(header) => {
                        self.load_field(R1, header_field(header, FOUND));
                        self.asm.jump_imm(Cond::Eq, R1, 0, fail);
                        self.load_pos(R1, header_field(header, VALUE_START));
                        self.load_pos(R2, header_field(header, VALUE_END));
                    }
                }
                self.text(*op, literal, *case_insensitive, fail);
            }
        }
        true
    }

    /// The field is `[r1, r2)`.
    fn text(&mut self, op: TextMatch, literal: &[u8], case_insensitive: bool, fail: Label) {
        let length = i32::try_from(literal.len()).expect("literals are at most the window");
        let a = &mut self.asm;
        a.alu_reg(Alu::Sub, R2, R1);
        match op {
            TextMatch::Equals => a.jump_imm(Cond::Ne, R2, length, fail),
            TextMatch::Prefix => a.jump_imm(Cond::Slt, R2, length, fail),
            TextMatch::Suffix => {
                a.jump_imm(Cond::Slt, R2, length, fail);
                a.alu_reg(Alu::Add, R1, R2);
                a.alu_imm(Alu::Sub, R1, length);
            }
            TextMatch::Contains => {
                // r2 = the last start position relative to r1; eight starts per iteration.
                a.alu_imm(Alu::Sub, R2, length);
                a.jump_imm(Cond::Slt, R2, 0, fail);
                let top = a.label();
                let body = a.label();
                let next = a.label();
                let holds = a.label();
                a.mov(R9, 0);
                a.bind(top);
                a.jump_reg(Cond::Sle, R9, R2, body);
                a.ja(fail);
                a.bind(body);
                a.mov_reg(R3, R1);
                a.alu_reg(Alu::Add, R3, R9);
                self.window_ptr(R3, R3);
                let a = &mut self.asm;
                compare_lanes(a, R3, literal, case_insensitive, R4, R5, R0);
                zero_lanes(a, R4, R5, R0);
                a.jump_imm(Cond::Eq, R5, 0, next);
                // The lowest matching start counts only when it lies in the field.
                lowest_lane(a, R5, R0);
                a.alu_reg(Alu::Add, R5, R9);
                a.jump_reg(Cond::Sgt, R5, R2, fail);
                a.ja(holds);
                a.bind(next);
                a.alu_imm(Alu::Add, R9, LANES);
                a.jump_imm(Cond::Lt, R9, LOOP_BOUND - length + 1, top);
                a.ja(fail);
                a.bind(holds);
                return;
            }
        }
        if literal.is_empty() {
            return;
        }
        self.window_ptr(R3, R1);
        compare_acc(&mut self.asm, R3, literal, case_insensitive, R4, R5, R0);
        self.asm.jump_imm(Cond::Ne, R4, 0, fail);
    }

    /// The pass verdict, then the shared exit: count the verdict, return it or the action.
    fn epilogue(&mut self) {
        let a = &mut self.asm;
        a.bind(self.pass);
        a.mov(R8, 0);
        if self.entry == Entry::Filter {
            a.mov(R9, XDP_PASS);
        }
        a.bind(self.finish);
        a.store(Size::W, FP, -4, R8);
        self.map(R1, MapId::Counters);
        let a = &mut self.asm;
        let out = a.label();
        a.mov_reg(R2, FP);
        a.alu_imm(Alu::Add, R2, -4);
        a.call(HELPER_MAP_LOOKUP);
        a.jump_imm(Cond::Eq, R0, 0, out);
        // A plain add: per-CPU values need no atomics, and rbpf has none.
        a.load(Size::DW, R1, R0, 0);
        a.alu_imm(Alu::Add, R1, 1);
        a.store(Size::DW, R0, 0, R1);
        a.bind(out);
        a.mov_reg(R0, if self.entry == Entry::Filter { R9 } else { R8 });
        a.exit();
    }
}

/// `field += (value - field) * select` for header `index`'s `part` (select is 0 or 1).
fn select_into(a: &mut Asm, index: usize, part: usize, value: Reg, select: Reg) {
    let at = rec(header_field(index, part));
    a.load(Size::W, R4, R7, at);
    a.alu_reg(Alu::Sub, value, R4);
    a.alu_reg(Alu::Mul, value, select);
    a.alu_reg(Alu::Add, value, R4);
    a.store(Size::W, R7, at, value);
}

/// Bytes tested per iteration of a lane-parallel loop.
const LANES: i32 = 8;
/// The high bit of every byte lane.
const LANE_HIGH: u64 = 0x8080_8080_8080_8080;
/// The low seven bits of every byte lane.
const LANE_LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
/// One in every byte lane.
const LANE_ONE: u64 = 0x0101_0101_0101_0101;

/// `byte` in every lane of a 64-bit word.
fn broadcast(byte: u8) -> u64 {
    LANE_ONE * u64::from(byte)
}

/// `mark = 0x80 in every lane where x's byte is zero, 0 elsewhere`, exactly (no carries
/// between lanes, unlike the `(x - 0x01..) & !x` idiom). Clobbers `t`; `x` is kept.
fn zero_lanes(a: &mut Asm, x: Reg, mark: Reg, t: Reg) {
    a.load_imm64(t, LANE_LOW);
    a.mov_reg(mark, x);
    a.alu_reg(Alu::And, mark, t);
    a.alu_reg(Alu::Add, mark, t);
    a.alu_reg(Alu::Or, mark, x);
    a.alu_reg(Alu::Or, mark, t);
    a.alu_imm(Alu::Xor, mark, -1);
}

/// `marks = the index (0 to 7) of the lowest marked lane`; `marks` has a lane mark set.
/// Clobbers `t`.
fn lowest_lane(a: &mut Asm, marks: Reg, t: Reg) {
    // Isolate the lowest mark (bit 8k + 7), turn it into k ones in the low lanes and add the
    // lanes up into the top byte.
    a.mov_reg(t, marks);
    a.alu_imm(Alu::Neg, t, 0);
    a.alu_reg(Alu::And, marks, t);
    a.alu_imm(Alu::Rsh, marks, 7);
    a.alu_imm(Alu::Sub, marks, 1);
    a.load_imm64(t, LANE_ONE);
    a.alu_reg(Alu::And, marks, t);
    a.alu_reg(Alu::Mul, marks, t);
    a.alu_imm(Alu::Rsh, marks, 56);
}

/// `acc` = a word whose lane `k` is zero exactly when the literal matches at `base + k`
/// (letters case-insensitively when asked; `literal` is then lower-case): lane `k` ORs
/// `byte(base + k + j) ^ literal[j]` over every `j`. Clobbers `t1` and `t2`.
fn compare_lanes(a: &mut Asm, base: Reg, literal: &[u8], case_insensitive: bool, acc: Reg, t1: Reg, t2: Reg) {
    for (j, &byte) in literal.iter().enumerate() {
        let word = if j == 0 { acc } else { t1 };
        a.load(Size::DW, word, base, i16::try_from(j).expect("literals are at most the window"));
        if case_insensitive && byte.is_ascii_lowercase() {
            a.load_imm64(t2, broadcast(0x20));
            a.alu_reg(Alu::Or, word, t2);
        }
        a.load_imm64(t2, broadcast(byte));
        a.alu_reg(Alu::Xor, word, t2);
        if j > 0 {
            a.alu_reg(Alu::Or, acc, t1);
        }
    }
}

/// `acc = OR of (chunk ^ literal chunk)` over the literal at `base`: zero exactly when the
/// bytes equal it (letters compared case-insensitively when asked; `literal` is then
/// lower-case). Clobbers `t1` and `t2`.
fn compare_acc(a: &mut Asm, base: Reg, literal: &[u8], case_insensitive: bool, acc: Reg, t1: Reg, t2: Reg) {
    a.mov(acc, 0);
    compare_acc_into(a, base, literal, case_insensitive, acc, t1, t2);
}

/// [`compare_acc`] ORing into `acc` as it is.
fn compare_acc_into(a: &mut Asm, base: Reg, literal: &[u8], case_insensitive: bool, acc: Reg, t1: Reg, t2: Reg) {
    let mut at = 0;
    while at < literal.len() {
        let size = match literal.len() - at {
            8.. => Size::DW,
            4..=7 => Size::W,
            2..=3 => Size::H,
            _ => Size::B,
        };
        let chunk = &literal[at..at + size.bytes()];
        let mut value = 0u64;
        let mut fold = 0u64;
        for (i, &byte) in chunk.iter().enumerate() {
            value |= u64::from(byte) << (8 * i);
            if case_insensitive && byte.is_ascii_lowercase() {
                fold |= 0x20 << (8 * i);
            }
        }
        let off = i16::try_from(at).expect("literals are at most the window");
        a.load(size, t1, base, off);
        match size {
            Size::DW => {
                if fold != 0 {
                    a.load_imm64(t2, fold);
                    a.alu_reg(Alu::Or, t1, t2);
                }
                a.load_imm64(t2, value);
                a.alu_reg(Alu::Xor, t1, t2);
            }
            // 32-bit operations: a 64-bit immediate would be sign-extended.
            Size::W => {
                if fold != 0 {
                    a.alu32_imm(Alu::Or, t1, fold as u32 as i32);
                }
                a.alu32_imm(Alu::Xor, t1, value as u32 as i32);
            }
            Size::H | Size::B => {
                if fold != 0 {
                    a.alu_imm(Alu::Or, t1, fold as i32);
                }
                a.alu_imm(Alu::Xor, t1, value as i32);
            }
        }
        a.alu_reg(Alu::Or, acc, t1);
        at += size.bytes();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_match_answers_every_predicate() {
        let net = |a: [u8; 4], prefix| Network { address: IpAddr::from(a), prefix };
        let entries = lpm_entries(
            &[vec![net([10, 0, 0, 0], 8)], vec![net([10, 1, 2, 3], 16), net([192, 0, 2, 1], 32)]],
            false,
        );
        let find = |prefix, address: [u8; 4]| {
            entries
                .iter()
                .find(|e| e.prefix == prefix && e.address == IpAddr::from(address))
                .map(|e| e.predicates)
        };
        assert_eq!(find(8, [10, 0, 0, 0]), Some(0b01));
        assert_eq!(find(16, [10, 1, 0, 0]), Some(0b11));
        assert_eq!(find(32, [192, 0, 2, 1]), Some(0b10));
        assert!(lpm_entries(&[vec![net([10, 0, 0, 0], 8)]], true).is_empty());
    }
}
