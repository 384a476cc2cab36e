//! A small eBPF assembler: typed instruction builders, forward and backward labels, and 64-bit
//! map references that the ELF writer turns into `R_BPF_64_64` relocations.

use thiserror::Error;

/// A register, `r0` to `r10`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reg(pub u8);

/// The return value and helper result.
pub const R0: Reg = Reg(0);
/// The first helper argument; the context at entry.
pub const R1: Reg = Reg(1);
/// The second helper argument.
pub const R2: Reg = Reg(2);
/// The third helper argument.
pub const R3: Reg = Reg(3);
/// The fourth helper argument.
pub const R4: Reg = Reg(4);
/// The fifth helper argument.
pub const R5: Reg = Reg(5);
/// Callee-saved.
pub const R6: Reg = Reg(6);
/// Callee-saved.
pub const R7: Reg = Reg(7);
/// Callee-saved.
pub const R8: Reg = Reg(8);
/// Callee-saved.
pub const R9: Reg = Reg(9);
/// The read-only frame pointer.
pub const FP: Reg = Reg(10);

/// One 8-byte instruction slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// The opcode.
    pub code: u8,
    /// The destination register.
    pub dst: u8,
    /// The source register.
    pub src: u8,
    /// The offset.
    pub off: i16,
    /// The immediate.
    pub imm: i32,
}

impl Insn {
    /// The instruction as the kernel reads it (little-endian).
    pub fn to_bytes(self) -> [u8; 8] {
        let mut bytes = [0; 8];
        bytes[0] = self.code;
        bytes[1] = (self.dst & 0x0f) | (self.src << 4);
        bytes[2..4].copy_from_slice(&self.off.to_le_bytes());
        bytes[4..8].copy_from_slice(&self.imm.to_le_bytes());
        bytes
    }
}

/// A memory access width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// One byte.
    B,
    /// Two bytes.
    H,
    /// Four bytes.
    W,
    /// Eight bytes.
    DW,
}

impl Size {
    fn bits(self) -> u8 {
        match self {
            Size::W => 0x00,
            Size::H => 0x08,
            Size::B => 0x10,
            Size::DW => 0x18,
        }
    }

    /// The width in bytes.
    pub fn bytes(self) -> usize {
        match self {
            Size::B => 1,
            Size::H => 2,
            Size::W => 4,
            Size::DW => 8,
        }
    }
}

/// An arithmetic operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alu {
    /// `+=`
    Add = 0x00,
    /// `-=`
    Sub = 0x10,
    /// `*=`
    Mul = 0x20,
    /// `|=`
    Or = 0x40,
    /// `&=`
    And = 0x50,
    /// `<<=`
    Lsh = 0x60,
    /// `>>=` (logical)
    Rsh = 0x70,
    /// `= -dst` (the source is ignored)
    Neg = 0x80,
    /// `^=`
    Xor = 0xa0,
    /// `=`
    Mov = 0xb0,
}

/// A jump condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cond {
    /// `==`
    Eq = 0x10,
    /// `>` unsigned
    Gt = 0x20,
    /// `>=` unsigned
    Ge = 0x30,
    /// `& != 0`
    Set = 0x40,
    /// `!=`
    Ne = 0x50,
    /// `>` signed
    Sgt = 0x60,
    /// `>=` signed
    Sge = 0x70,
    /// `<` unsigned
    Lt = 0xa0,
    /// `<=` unsigned
    Le = 0xb0,
    /// `<` signed
    Slt = 0xc0,
    /// `<=` signed
    Sle = 0xd0,
}

const CLASS_LD: u8 = 0x00;
const CLASS_LDX: u8 = 0x01;
const CLASS_ST: u8 = 0x02;
const CLASS_STX: u8 = 0x03;
const CLASS_ALU: u8 = 0x04;
const CLASS_JMP: u8 = 0x05;
const CLASS_JMP32: u8 = 0x06;
const CLASS_ALU64: u8 = 0x07;
const MODE_IMM: u8 = 0x00;
const MODE_MEM: u8 = 0x60;
const SRC_X: u8 = 0x08;
const OP_CALL: u8 = 0x80;
const OP_EXIT: u8 = 0x90;
const OP_END: u8 = 0xd0;
/// `src` of a `lddw` whose immediate is a map file descriptor (filled in by the loader).
pub const PSEUDO_MAP_FD: u8 = 1;

/// A jump target, bound once with [`Asm::bind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label(usize);

/// Why a program could not be assembled.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum AsmError {
    /// A label was jumped to but never bound: a code generator bug.
    #[error("label {0} is used but never bound; report this code generator bug")]
    Unbound(usize),
    /// A jump spans more than a 16-bit offset allows.
    #[error("a jump spans more than 32767 instructions; split the rule set")]
    JumpTooFar,
}

/// A program under construction.
#[derive(Debug, Default)]
pub struct Asm {
    insns: Vec<Insn>,
    labels: Vec<Option<usize>>,
    fixups: Vec<(usize, Label)>,
    map_refs: Vec<(usize, usize)>,
}

/// An assembled program: instructions plus the `lddw` slots that reference maps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assembled {
    /// The instructions (a `lddw` takes two).
    pub insns: Vec<Insn>,
    /// `(instruction index, map index)` for every map reference.
    pub map_refs: Vec<(usize, usize)>,
}

impl Assembled {
    /// The bytecode.
    pub fn bytes(&self) -> Vec<u8> {
        self.insns.iter().flat_map(|insn| insn.to_bytes()).collect()
    }
}

impl Asm {
    /// An empty program.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fresh, unbound label.
    pub fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Binds `label` to the next instruction.
    pub fn bind(&mut self, label: Label) {
        debug_assert!(self.labels[label.0].is_none(), "label bound twice");
        self.labels[label.0] = Some(self.insns.len());
    }

    /// How many instruction slots so far.
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    /// Whether nothing was emitted yet.
    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    fn push(&mut self, code: u8, dst: Reg, src: Reg, off: i16, imm: i32) {
        self.insns.push(Insn { code, dst: dst.0, src: src.0, off, imm });
    }

    /// `dst op= imm` on 64 bits (the immediate is sign-extended).
    pub fn alu_imm(&mut self, op: Alu, dst: Reg, imm: i32) {
        self.push(CLASS_ALU64 | op as u8, dst, R0, 0, imm);
    }

    /// `dst op= src` on 64 bits.
    pub fn alu_reg(&mut self, op: Alu, dst: Reg, src: Reg) {
        self.push(CLASS_ALU64 | op as u8 | SRC_X, dst, src, 0, 0);
    }

    /// `dst op= imm` on the low 32 bits, zero-extending the result.
    pub fn alu32_imm(&mut self, op: Alu, dst: Reg, imm: i32) {
        self.push(CLASS_ALU | op as u8, dst, R0, 0, imm);
    }

    /// `dst = imm`.
    pub fn mov(&mut self, dst: Reg, imm: i32) {
        self.alu_imm(Alu::Mov, dst, imm);
    }

    /// `dst = src`.
    pub fn mov_reg(&mut self, dst: Reg, src: Reg) {
        self.alu_reg(Alu::Mov, dst, src);
    }

    /// Converts the low 16 bits of `dst` from network to host order (and clears the rest).
    pub fn be16(&mut self, dst: Reg) {
        self.push(CLASS_ALU | OP_END | SRC_X, dst, R0, 0, 16);
    }

    /// `dst = *(size *)(src + off)`.
    pub fn load(&mut self, size: Size, dst: Reg, src: Reg, off: i16) {
        self.push(CLASS_LDX | MODE_MEM | size.bits(), dst, src, off, 0);
    }

    /// `*(size *)(dst + off) = src`.
    pub fn store(&mut self, size: Size, dst: Reg, off: i16, src: Reg) {
        self.push(CLASS_STX | MODE_MEM | size.bits(), dst, src, off, 0);
    }

    /// `*(size *)(dst + off) = imm`.
    pub fn store_imm(&mut self, size: Size, dst: Reg, off: i16, imm: i32) {
        self.push(CLASS_ST | MODE_MEM | size.bits(), dst, R0, off, imm);
    }

    /// `dst = imm64` (two slots).
    pub fn load_imm64(&mut self, dst: Reg, imm: u64) {
        self.push(CLASS_LD | MODE_IMM | Size::DW.bits(), dst, R0, 0, imm as u32 as i32);
        self.push(0, R0, R0, 0, (imm >> 32) as u32 as i32);
    }

    /// `dst = &map` (two slots, relocated by the loader).
    pub fn load_map(&mut self, dst: Reg, map: usize) {
        self.map_refs.push((self.insns.len(), map));
        self.push(CLASS_LD | MODE_IMM | Size::DW.bits(), dst, Reg(PSEUDO_MAP_FD), 0, 0);
        self.push(0, R0, R0, 0, 0);
    }

    /// `if dst cond imm goto target` on 64 bits (the immediate is sign-extended).
    pub fn jump_imm(&mut self, cond: Cond, dst: Reg, imm: i32, target: Label) {
        self.fixups.push((self.insns.len(), target));
        self.push(CLASS_JMP | cond as u8, dst, R0, 0, imm);
    }

    /// `if (u32)dst cond (u32)imm goto target`.
    pub fn jump32_imm(&mut self, cond: Cond, dst: Reg, imm: i32, target: Label) {
        self.fixups.push((self.insns.len(), target));
        self.push(CLASS_JMP32 | cond as u8, dst, R0, 0, imm);
    }

    /// `if dst cond src goto target` on 64 bits.
    pub fn jump_reg(&mut self, cond: Cond, dst: Reg, src: Reg, target: Label) {
        self.fixups.push((self.insns.len(), target));
        self.push(CLASS_JMP | cond as u8 | SRC_X, dst, src, 0, 0);
    }

    /// `goto target`.
    pub fn ja(&mut self, target: Label) {
        self.fixups.push((self.insns.len(), target));
        self.push(CLASS_JMP, R0, R0, 0, 0);
    }

    /// Calls helper `id`.
    pub fn call(&mut self, id: i32) {
        self.push(CLASS_JMP | OP_CALL, R0, R0, 0, id);
    }

    /// Returns `r0`.
    pub fn exit(&mut self) {
        self.push(CLASS_JMP | OP_EXIT, R0, R0, 0, 0);
    }

    /// Resolves the labels.
    pub fn finish(mut self) -> Result<Assembled, AsmError> {
        for &(at, label) in &self.fixups {
            let target = self.labels[label.0].ok_or(AsmError::Unbound(label.0))?;
            let off = target as i64 - at as i64 - 1;
            self.insns[at].off = i16::try_from(off).map_err(|_| AsmError::JumpTooFar)?;
        }
        Ok(Assembled { insns: self.insns, map_refs: self.map_refs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_resolve_forward_and_backward() {
        let mut asm = Asm::new();
        let top = asm.label();
        let out = asm.label();
        asm.bind(top);
        asm.mov(R0, 1);
        asm.jump_imm(Cond::Eq, R0, 2, out);
        asm.ja(top);
        asm.bind(out);
        asm.exit();
        let program = asm.finish().expect("labels are bound");
        assert_eq!(program.insns[1].off, 1);
        assert_eq!(program.insns[2].off, -3);
        assert_eq!(program.bytes()[..8], [0xb7, 0x00, 0, 0, 1, 0, 0, 0]);
    }

    #[test]
    fn unbound_labels_are_reported() {
        let mut asm = Asm::new();
        let nowhere = asm.label();
        asm.ja(nowhere);
        assert_eq!(asm.finish(), Err(AsmError::Unbound(0)));
    }
}
