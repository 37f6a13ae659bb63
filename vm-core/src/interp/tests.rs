//! Interpreter tests: small hand-encoded programs run on a test guest
//! memory, checking registers, memory, traps and precise state.
//!
//! The encoders below are checked against the decoder's disassembly (which
//! is itself checked against GNU binutils) in `encoders_match_decoder`.

extern crate std;

use super::*;
use crate::memory::Perm;
use crate::process::Engine;
use crate::testhost::TestHost;
use alloc::string::ToString;

const CODE: u64 = 0x10000;
const DATA: u64 = 0x20000;

// ABI register numbers used in the tests.
const ZERO: u32 = 0;
const RA: u32 = 1;
const SP: u32 = 2;
const T0: u32 = 5;
const A0: u32 = 10;
const A1: u32 = 11;
const A2: u32 = 12;
const A3: u32 = 13;

// ---- encoders -----------------------------------------------------------

fn enc_r(op: u32, f3: u32, f7: u32, rd: u32, rs1: u32, rs2: u32) -> u32 {
    op | rd << 7 | f3 << 12 | rs1 << 15 | rs2 << 20 | f7 << 25
}
fn enc_i(op: u32, f3: u32, rd: u32, rs1: u32, imm: i32) -> u32 {
    op | rd << 7 | f3 << 12 | rs1 << 15 | ((imm as u32) & 0xfff) << 20
}
fn enc_s(op: u32, f3: u32, rs1: u32, rs2: u32, imm: i32) -> u32 {
    let i = imm as u32;
    op | (i & 31) << 7 | f3 << 12 | rs1 << 15 | rs2 << 20 | ((i >> 5) & 0x7f) << 25
}

/// R-type (OP, OP-32, including M).
fn rop(name: &str, rd: u32, rs1: u32, rs2: u32) -> u32 {
    let (op, f3, f7) = match name {
        "add" => (0x33, 0, 0),
        "sub" => (0x33, 0, 0x20),
        "sll" => (0x33, 1, 0),
        "slt" => (0x33, 2, 0),
        "sltu" => (0x33, 3, 0),
        "xor" => (0x33, 4, 0),
        "srl" => (0x33, 5, 0),
        "sra" => (0x33, 5, 0x20),
        "or" => (0x33, 6, 0),
        "and" => (0x33, 7, 0),
        "mul" => (0x33, 0, 1),
        "mulh" => (0x33, 1, 1),
        "mulhsu" => (0x33, 2, 1),
        "mulhu" => (0x33, 3, 1),
        "div" => (0x33, 4, 1),
        "divu" => (0x33, 5, 1),
        "rem" => (0x33, 6, 1),
        "remu" => (0x33, 7, 1),
        "addw" => (0x3b, 0, 0),
        "subw" => (0x3b, 0, 0x20),
        "sllw" => (0x3b, 1, 0),
        "srlw" => (0x3b, 5, 0),
        "sraw" => (0x3b, 5, 0x20),
        "mulw" => (0x3b, 0, 1),
        "divw" => (0x3b, 4, 1),
        "divuw" => (0x3b, 5, 1),
        "remw" => (0x3b, 6, 1),
        "remuw" => (0x3b, 7, 1),
        _ => panic!("{name}"),
    };
    enc_r(op, f3, f7, rd, rs1, rs2)
}
const ROPS: &[&str] = &[
    "add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and", "mul", "mulh", "mulhsu",
    "mulhu", "div", "divu", "rem", "remu", "addw", "subw", "sllw", "srlw", "sraw", "mulw", "divw",
    "divuw", "remw", "remuw",
];

/// I-type: OP-IMM(-32), loads, jalr, FP loads.
fn iop(name: &str, rd: u32, rs1: u32, imm: i32) -> u32 {
    let (op, f3, imm) = match name {
        "addi" => (0x13, 0, imm),
        "slti" => (0x13, 2, imm),
        "sltiu" => (0x13, 3, imm),
        "xori" => (0x13, 4, imm),
        "ori" => (0x13, 6, imm),
        "andi" => (0x13, 7, imm),
        "slli" => (0x13, 1, imm),
        "srli" => (0x13, 5, imm),
        "srai" => (0x13, 5, imm | 0x400),
        "addiw" => (0x1b, 0, imm),
        "slliw" => (0x1b, 1, imm),
        "srliw" => (0x1b, 5, imm),
        "sraiw" => (0x1b, 5, imm | 0x400),
        "lb" => (0x03, 0, imm),
        "lh" => (0x03, 1, imm),
        "lw" => (0x03, 2, imm),
        "ld" => (0x03, 3, imm),
        "lbu" => (0x03, 4, imm),
        "lhu" => (0x03, 5, imm),
        "lwu" => (0x03, 6, imm),
        "jalr" => (0x67, 0, imm),
        "flw" => (0x07, 2, imm),
        "fld" => (0x07, 3, imm),
        _ => panic!("{name}"),
    };
    enc_i(op, f3, rd, rs1, imm)
}
const IOPS: &[&str] = &[
    "addi", "slti", "sltiu", "xori", "ori", "andi", "slli", "srli", "srai", "addiw", "slliw",
    "srliw", "sraiw", "lb", "lh", "lw", "ld", "lbu", "lhu", "lwu", "jalr", "flw", "fld",
];

fn sop(name: &str, rs2: u32, rs1: u32, imm: i32) -> u32 {
    let (op, f3) = match name {
        "sb" => (0x23, 0),
        "sh" => (0x23, 1),
        "sw" => (0x23, 2),
        "sd" => (0x23, 3),
        "fsw" => (0x27, 2),
        "fsd" => (0x27, 3),
        _ => panic!("{name}"),
    };
    enc_s(op, f3, rs1, rs2, imm)
}

fn bop(name: &str, rs1: u32, rs2: u32, imm: i32) -> u32 {
    let f3 = match name {
        "beq" => 0,
        "bne" => 1,
        "blt" => 4,
        "bge" => 5,
        "bltu" => 6,
        "bgeu" => 7,
        _ => panic!("{name}"),
    };
    let i = imm as u32;
    0x63 | ((i >> 11) & 1) << 7
        | ((i >> 1) & 15) << 8
        | f3 << 12
        | rs1 << 15
        | rs2 << 20
        | ((i >> 5) & 63) << 25
        | ((i >> 12) & 1) << 31
}

fn jal(rd: u32, imm: i32) -> u32 {
    let i = imm as u32;
    0x6f | rd << 7
        | ((i >> 12) & 0xff) << 12
        | ((i >> 11) & 1) << 20
        | ((i >> 1) & 0x3ff) << 21
        | ((i >> 20) & 1) << 31
}
fn lui(rd: u32, imm20: u32) -> u32 {
    0x37 | rd << 7 | imm20 << 12
}
fn auipc(rd: u32, imm20: u32) -> u32 {
    0x17 | rd << 7 | imm20 << 12
}

/// A extension: `name` is e.g. "amoadd.w", "lr.d".
fn aop(name: &str, rd: u32, rs1: u32, rs2: u32) -> u32 {
    let (base, w) = name.rsplit_once('.').unwrap();
    let f3 = if w == "w" { 2 } else { 3 };
    let f5 = match base {
        "lr" => 0b00010,
        "sc" => 0b00011,
        "amoswap" => 0b00001,
        "amoadd" => 0b00000,
        "amoxor" => 0b00100,
        "amoand" => 0b01100,
        "amoor" => 0b01000,
        "amomin" => 0b10000,
        "amomax" => 0b10100,
        "amominu" => 0b11000,
        "amomaxu" => 0b11100,
        _ => panic!("{name}"),
    };
    enc_r(0x2f, f3, f5 << 2, rd, rs1, rs2)
}
const AOPS: &[&str] = &[
    "amoswap", "amoadd", "amoxor", "amoand", "amoor", "amomin", "amomax", "amominu", "amomaxu",
];

fn csr(name: &str, rd: u32, csr: u32, rs1: u32) -> u32 {
    let f3 = match name {
        "csrrw" => 1,
        "csrrs" => 2,
        "csrrc" => 3,
        "csrrwi" => 5,
        "csrrsi" => 6,
        "csrrci" => 7,
        _ => panic!("{name}"),
    };
    enc_i(0x73, f3, rd, rs1, csr as i32)
}

const ECALL: u32 = 0x0000_0073;
const EBREAK: u32 = 0x0010_0073;
const FENCE_I: u32 = 0x0000_100f;
const FENCE: u32 = 0x0ff0_000f;

#[test]
fn encoders_match_decoder() {
    for &n in ROPS {
        let t = crate::decode::decode(rop(n, A0, A1, A2)).0.to_string();
        assert_eq!(t, alloc::format!("{n} a0,a1,a2"));
    }
    for &n in IOPS {
        let t = crate::decode::decode(iop(n, A0, A1, 5)).0.to_string();
        assert!(t.starts_with(&alloc::format!("{n} ")), "{n}: {t}");
        assert!(!t.contains("word"));
    }
    for n in ["sb", "sh", "sw", "sd"] {
        let t = crate::decode::decode(sop(n, A0, A1, -3)).0.to_string();
        assert_eq!(t, alloc::format!("{n} a0,-3(a1)"));
    }
    for n in ["beq", "bne", "blt", "bge", "bltu", "bgeu"] {
        let t = crate::decode::decode(bop(n, A0, A1, -12)).0.to_string();
        assert_eq!(t, alloc::format!("{n} a0,a1,.-12"));
    }
    for w in ["w", "d"] {
        for b in AOPS.iter().chain(["sc"].iter()) {
            let n = alloc::format!("{b}.{w}");
            let t = crate::decode::decode(aop(&n, A0, A1, A2)).0.to_string();
            assert_eq!(t, alloc::format!("{n} a0,a2,(a1)"));
        }
    }
    assert_eq!(
        crate::decode::decode(jal(RA, -2048)).0.to_string(),
        "jal ra,.-2048"
    );
    assert_eq!(
        crate::decode::decode(csr("csrrsi", A0, 2, 3)).0.to_string(),
        "csrrsi a0,frm,3"
    );
}

// ---- harness --------------------------------------------------------------

struct Vm {
    cpu: Cpu,
    mem: &'static GuestMemory,
    interp: Interpreter,
}

impl Vm {
    /// `code` at CODE (read+exec), two data pages at DATA (read+write),
    /// `sp` at the end of the data.
    fn new(code: &[u32]) -> Vm {
        let mem = alloc::boxed::Box::leak(alloc::boxed::Box::new(
            GuestMemory::new(TestHost::leak(), 1 << 24).unwrap(),
        ));
        mem.map(CODE, 0x2000, Perm::READ | Perm::EXEC, true)
            .unwrap();
        mem.map(DATA, 0x2000, Perm::READ | Perm::WRITE, true)
            .unwrap();
        let bytes: alloc::vec::Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
        mem.write_bytes_privileged(CODE, &bytes).unwrap();
        let mut cpu = Cpu {
            pc: CODE,
            ..Cpu::default()
        };
        cpu.x[SP as usize] = DATA + 0x2000;
        Vm {
            cpu,
            mem,
            interp: Interpreter::new(),
        }
    }
    fn run(&mut self) -> Trap {
        loop {
            match self.interp.run(&mut self.cpu, self.mem) {
                Trap::Budget => continue,
                t => return t,
            }
        }
    }
    fn x(&self, r: u32) -> u64 {
        self.cpu.x[r as usize]
    }
}

/// Run `code` (which must end in ecall) with a1, a2 preset; return a0.
/// Runs both the specialised and the generic handlers and insists they
/// agree on every register.
fn run2(code: &[u32], a: u64, b: u64) -> u64 {
    let mut out = alloc::vec::Vec::new();
    for generic in [false, true] {
        let mut vm = Vm::new(code);
        vm.interp.generic_only = generic;
        vm.cpu.x[A1 as usize] = a;
        vm.cpu.x[A2 as usize] = b;
        assert_eq!(vm.run(), Trap::Ecall);
        out.push(vm.cpu);
    }
    assert_eq!(out[0], out[1], "fast and generic paths differ");
    out[0].x[A0 as usize]
}

fn rr(name: &str, a: u64, b: u64) -> u64 {
    run2(&[rop(name, A0, A1, A2), ECALL], a, b)
}
fn ri(name: &str, a: u64, imm: i32) -> u64 {
    run2(&[iop(name, A0, A1, imm), ECALL], a, 0)
}

const M1: u64 = u64::MAX; // -1
const MIN64: u64 = 0x8000_0000_0000_0000;

#[test]
fn integer_register_ops() {
    let cases: &[(&str, u64, u64, u64)] = &[
        ("add", 5, 7, 12),
        ("add", M1, 1, 0),
        ("sub", 5, 7, (-2i64) as u64),
        ("sll", 1, 63, MIN64),
        ("sll", 1, 64 + 3, 8), // only the low 6 bits count
        ("slt", M1, 0, 1),
        ("slt", 0, M1, 0),
        ("sltu", M1, 0, 0),
        ("sltu", 0, M1, 1),
        ("xor", 0xff00, 0x0ff0, 0xf0f0),
        ("srl", MIN64, 63, 1),
        ("sra", MIN64, 63, M1),
        ("sra", MIN64, 64 + 4, 0xf800_0000_0000_0000),
        ("or", 0xf0, 0x0f, 0xff),
        ("and", 0xf0, 0x3c, 0x30),
        ("addw", 0x7fff_ffff, 1, 0xffff_ffff_8000_0000),
        ("addw", 0xffff_ffff_0000_0001, 0, 1),
        ("subw", 0, 1, M1),
        ("sllw", 1, 31, 0xffff_ffff_8000_0000),
        ("sllw", 1, 32, 1), // low 5 bits
        ("srlw", 0xffff_ffff_8000_0000, 31, 1),
        ("srlw", 0x8000_0000, 0, 0xffff_ffff_8000_0000),
        ("sraw", 0x8000_0000, 31, M1),
        ("sraw", 0x1_4000_0000, 1, 0x2000_0000),
        // M
        ("mul", 3, M1, (-3i64) as u64),
        ("mul", 0x1_0000_0001, 0x1_0000_0001, 0x2_0000_0001),
        ("mulh", M1, M1, 0),
        ("mulh", MIN64, MIN64, 0x4000_0000_0000_0000),
        ("mulh", MIN64, 1, M1),
        ("mulhu", M1, M1, M1 - 1),
        ("mulhsu", M1, M1, M1), // -1 * (2^64-1) = -(2^64-1): high word -1
        ("mulhsu", 2, M1, 1),
        ("div", 7, (-2i64) as u64, (-3i64) as u64),
        ("div", 7, 0, M1),
        ("div", MIN64, M1, MIN64),
        ("divu", 7, 2, 3),
        ("divu", 7, 0, M1),
        ("rem", (-7i64) as u64, 2, M1),
        ("rem", 7, 0, 7),
        ("rem", MIN64, M1, 0),
        ("remu", 7, 0, 7),
        ("remu", M1, 10, 5),
        ("mulw", 0x8000_0000, 2, 0),
        ("mulw", 0x7fff_ffff, 2, 0xffff_ffff_ffff_fffe),
        ("divw", 0x8000_0000, M1, 0xffff_ffff_8000_0000),
        ("divw", 7, 0, M1),
        ("divw", 0x1_0000_0007, 0x1_0000_0002, 3), // upper halves ignored
        ("divuw", 0xffff_fffe, 1, 0xffff_ffff_ffff_fffe),
        ("divuw", 5, 0, M1),
        ("remw", 0x8000_0000, M1, 0),
        ("remw", 0xffff_fff9, 0, 0xffff_ffff_ffff_fff9),
        ("remuw", 0xffff_ffff, 0x10, 0xf),
        ("remuw", 0x8000_0001, 0, 0xffff_ffff_8000_0001),
    ];
    for &(n, a, b, want) in cases {
        assert_eq!(rr(n, a, b), want, "{n} {a:#x},{b:#x}");
    }
}

#[test]
fn integer_immediate_ops() {
    let cases: &[(&str, u64, i32, u64)] = &[
        ("addi", 1, -2, M1),
        ("addi", 0, 2047, 2047),
        ("addi", 0, -2048, (-2048i64) as u64),
        ("slti", M1, 0, 1),
        ("slti", 0, -1, 0),
        ("sltiu", 0, -1, 1), // imm sign-extends, then compares unsigned
        ("sltiu", M1, -1, 0),
        ("xori", 0xff, -1, !0xffu64),
        ("ori", 0x100, 0x0ff, 0x1ff),
        ("andi", M1, -16, !15u64),
        ("slli", 1, 63, MIN64),
        ("srli", MIN64, 63, 1),
        ("srai", MIN64, 63, M1),
        ("srai", 0x7000_0000_0000_0000, 60, 7),
        ("addiw", 0x7fff_ffff, 1, 0xffff_ffff_8000_0000),
        ("addiw", 0xffff_ffff_ffff_ffff, 0, M1),
        ("addiw", 0x1234_0000_0001, 0, 1),
        ("slliw", 1, 31, 0xffff_ffff_8000_0000),
        ("srliw", 0x8000_0000, 31, 1),
        ("srliw", 0xffff_ffff_8000_0000, 0, 0xffff_ffff_8000_0000),
        ("sraiw", 0x8000_0000, 4, 0xffff_ffff_f800_0000),
    ];
    for &(n, a, imm, want) in cases {
        assert_eq!(ri(n, a, imm), want, "{n} {a:#x},{imm}");
    }
}

#[test]
fn lui_auipc_and_x0() {
    let mut vm = Vm::new(&[
        lui(A0, 0x80000),         // sign-extended
        auipc(A1, 0x1),           // pc + 0x1000
        iop("addi", ZERO, A0, 5), // writes to x0 are dropped
        rop("add", A2, ZERO, ZERO),
        lui(A3, 0x7ffff),
        ECALL,
    ]);
    assert_eq!(vm.run(), Trap::Ecall);
    assert_eq!(vm.x(A0), 0xffff_ffff_8000_0000);
    assert_eq!(vm.x(A1), CODE + 4 + 0x1000);
    assert_eq!(vm.x(ZERO), 0);
    assert_eq!(vm.x(A2), 0);
    assert_eq!(vm.x(A3), 0x7fff_f000);
    assert_eq!(vm.cpu.pc, CODE + 20);
    assert_eq!(vm.cpu.instret, 6); // ecall counted
}

#[test]
fn branches_and_jumps() {
    // Each taken branch skips an `addi a0,a0,100`; each not-taken one
    // falls into an `addi a0,a0,1`.
    let cases: &[(&str, u64, u64, bool)] = &[
        ("beq", 5, 5, true),
        ("beq", 5, 6, false),
        ("bne", 5, 6, true),
        ("bne", 5, 5, false),
        ("blt", M1, 0, true),
        ("blt", 0, M1, false),
        ("blt", 3, 3, false),
        ("bge", 0, M1, true),
        ("bge", 3, 3, true),
        ("bge", M1, 0, false),
        ("bltu", 0, M1, true),
        ("bltu", M1, 0, false),
        ("bgeu", M1, 0, true),
        ("bgeu", 0, M1, false),
    ];
    for &(n, a, b, taken) in cases {
        let got = run2(&[bop(n, A1, A2, 8), iop("addi", A0, A0, 100), ECALL], a, b);
        assert_eq!(got, if taken { 0 } else { 100 }, "{n} {a:#x},{b:#x}");
    }
    // Backward branch loop: sum 1..=10.
    let mut vm = Vm::new(&[
        iop("addi", A1, ZERO, 10),
        rop("add", A0, A0, A1), // loop:
        iop("addi", A1, A1, -1),
        bop("bne", A1, ZERO, -8),
        ECALL,
    ]);
    assert_eq!(vm.run(), Trap::Ecall);
    assert_eq!(vm.x(A0), 55);
    assert_eq!(vm.cpu.instret, 1 + 30 + 1);
    // jal links and jumps; jalr clears bit 0 and reads rs1 before writing rd.
    let mut vm = Vm::new(&[
        jal(RA, 8),              // 0
        ECALL,                   // 4: not reached
        auipc(A0, 0),            // 8
        iop("addi", A0, A0, 13), // a0 = CODE+8+13 (odd)
        iop("jalr", A0, A0, 4),  // -> CODE+24 & !1 = CODE+24, a0 = CODE+20
        ECALL,                   // 20: not reached
        ECALL,                   // 24
    ]);
    assert_eq!(vm.run(), Trap::Ecall);
    assert_eq!(vm.cpu.pc, CODE + 24);
    assert_eq!(vm.x(RA), CODE + 4);
    assert_eq!(vm.x(A0), CODE + 20);
}

#[test]
fn loads_and_stores() {
    let mut vm = Vm::new(&[
        lui(A1, (DATA >> 12) as u32),
        sop("sd", A2, A1, 0),
        iop("lb", A3, A1, 0),
        sop("sd", A3, A1, 8),
        iop("lbu", A3, A1, 0),
        sop("sd", A3, A1, 16),
        iop("lh", A3, A1, 0),
        sop("sd", A3, A1, 24),
        iop("lhu", A3, A1, 0),
        sop("sd", A3, A1, 32),
        iop("lw", A3, A1, 0),
        sop("sd", A3, A1, 40),
        iop("lwu", A3, A1, 0),
        sop("sd", A3, A1, 48),
        iop("ld", A3, A1, 0),
        sop("sd", A3, A1, 56),
        // sub-word stores and a misaligned, page-crossing access
        sop("sb", A2, A1, 64),
        sop("sh", A2, A1, 72),
        sop("sw", A2, A1, 80),
        iop("addi", T0, A1, 2047),
        iop("addi", T0, T0, 2047), // DATA + 4094
        sop("sd", A2, T0, -1),     // DATA + 4093..4101 crosses into page 2
        iop("ld", A0, T0, -1),
        ECALL,
    ]);
    let v = 0x8182_8384_8586_8788u64;
    vm.cpu.x[A2 as usize] = v;
    assert_eq!(vm.run(), Trap::Ecall);
    let m = vm.mem;
    let rd = |o: u64| m.read_u64(DATA + o).unwrap();
    assert_eq!(rd(0), v);
    assert_eq!(rd(8), 0xffff_ffff_ffff_ff88);
    assert_eq!(rd(16), 0x88);
    assert_eq!(rd(24), 0xffff_ffff_ffff_8788);
    assert_eq!(rd(32), 0x8788);
    assert_eq!(rd(40), 0xffff_ffff_8586_8788);
    assert_eq!(rd(48), 0x8586_8788);
    assert_eq!(rd(56), v);
    assert_eq!(rd(64), 0x88);
    assert_eq!(rd(72), 0x8788);
    assert_eq!(rd(80), 0x8586_8788);
    assert_eq!(rd(4093), v);
    assert_eq!(vm.x(A0), v);
}

#[test]
fn memory_faults_are_precise() {
    // A load from an unmapped page in the middle of a block.
    let mut vm = Vm::new(&[
        iop("addi", A0, ZERO, 1),
        iop("addi", A1, ZERO, 0x40), // unmapped address 0x40
        iop("ld", A0, A1, 0),
        iop("addi", A0, ZERO, 2),
        ECALL,
    ]);
    match vm.run() {
        Trap::MemFault(f) => {
            assert_eq!((f.addr, f.access, f.mapped), (0x40, Access::Read, false))
        }
        t => panic!("{t:?}"),
    }
    assert_eq!(vm.cpu.pc, CODE + 8);
    assert_eq!(vm.x(A0), 1);
    assert_eq!(vm.cpu.instret, 2);
    // A store to read-only code; a store straddling into it from data
    // writes nothing.
    let mut vm = Vm::new(&[lui(A1, (CODE >> 12) as u32), sop("sw", A0, A1, 0), ECALL]);
    match vm.run() {
        Trap::MemFault(f) => {
            assert_eq!((f.addr, f.access, f.mapped), (CODE, Access::Write, true))
        }
        t => panic!("{t:?}"),
    }
    assert_eq!(vm.cpu.pc, CODE + 4);
    let mut vm = Vm::new(&[
        lui(A1, ((DATA + 0x2000) >> 12) as u32),
        iop("addi", A2, ZERO, -1),
        sop("sd", A2, A1, -4), // last 4 bytes mapped, next page not
        ECALL,
    ]);
    match vm.run() {
        Trap::MemFault(f) => assert_eq!((f.addr, f.mapped), (DATA + 0x2000, false)),
        t => panic!("{t:?}"),
    }
    assert_eq!(vm.mem.read_u32(DATA + 0x1ffc).unwrap(), 0);
    assert_eq!(vm.cpu.pc, CODE + 8);
}

#[test]
fn fetch_faults() {
    // Jump to an unmapped address: the fault is at the target.
    let mut vm = Vm::new(&[lui(A0, 0x100), iop("jalr", ZERO, A0, 0)]);
    match vm.run() {
        Trap::MemFault(f) => {
            assert_eq!((f.addr, f.access), (0x100000, Access::Exec))
        }
        t => panic!("{t:?}"),
    }
    assert_eq!(vm.cpu.pc, 0x100000);
    // Running off the end of the code mapping.
    let mut vm = Vm::new(&[]);
    vm.cpu.pc = CODE + 0x2000 - 4;
    vm.mem
        .write_bytes_privileged(CODE + 0x2000 - 4, &iop("addi", A0, A0, 1).to_le_bytes())
        .unwrap();
    match vm.run() {
        Trap::MemFault(f) => assert_eq!((f.addr, f.access), (CODE + 0x2000, Access::Exec)),
        t => panic!("{t:?}"),
    }
    assert_eq!(vm.x(A0), 1);
    assert_eq!(vm.cpu.pc, CODE + 0x2000);
    // A 32-bit instruction straddling into an unmapped page.
    let mut vm = Vm::new(&[]);
    vm.cpu.pc = CODE + 0x2000 - 2;
    vm.mem
        .write_bytes_privileged(CODE + 0x2000 - 2, &[0x13, 0x05])
        .unwrap();
    match vm.run() {
        Trap::MemFault(f) => assert_eq!((f.addr, f.access), (CODE + 0x2000, Access::Exec)),
        t => panic!("{t:?}"),
    }
    assert_eq!(vm.cpu.pc, CODE + 0x2000 - 2);
}

#[test]
fn illegal_ebreak_ecall() {
    let mut vm = Vm::new(&[iop("addi", A0, ZERO, 1), 0xffff_ffff]);
    assert_eq!(vm.run(), Trap::IllegalInstruction(0xffff_ffff));
    assert_eq!(vm.cpu.pc, CODE + 4);
    assert_eq!(vm.x(A0), 1);
    // The all-zero parcel.
    let mut vm = Vm::new(&[0]);
    assert_eq!(vm.run(), Trap::IllegalInstruction(0));
    assert_eq!(vm.cpu.pc, CODE);
    let mut vm = Vm::new(&[EBREAK]);
    assert_eq!(vm.run(), Trap::Ebreak);
    assert_eq!(vm.cpu.pc, CODE);
    // After an ecall the caller advances pc and resumes.
    let mut vm = Vm::new(&[ECALL, iop("addi", A0, ZERO, 9), ECALL]);
    assert_eq!(vm.run(), Trap::Ecall);
    assert_eq!(vm.cpu.pc, CODE);
    vm.cpu.pc += 4;
    assert_eq!(vm.run(), Trap::Ecall);
    assert_eq!(vm.x(A0), 9);
    assert_eq!(vm.cpu.pc, CODE + 8);
}

#[test]
fn compressed_code() {
    // c.li a0,5; c.addi a0,3; c.mv a1,a0; c.slli a1,2; then ecall.
    let parcels: [u16; 4] = [0x4515, 0x050d, 0x85aa, 0x058a];
    let words = [
        parcels[0] as u32 | (parcels[1] as u32) << 16,
        parcels[2] as u32 | (parcels[3] as u32) << 16,
        ECALL,
    ];
    let mut vm = Vm::new(&words);
    assert_eq!(vm.run(), Trap::Ecall);
    assert_eq!(vm.x(A0), 8);
    assert_eq!(vm.x(A1), 32);
    assert_eq!(vm.cpu.pc, CODE + 8);
    // c.jalr a0 links pc+2.
    let mut vm = Vm::new(&[0x9502 | (0x0001 << 16), ECALL]); // c.jalr a0; c.nop
    vm.cpu.x[A0 as usize] = CODE + 4;
    assert_eq!(vm.run(), Trap::Ecall);
    assert_eq!(vm.x(RA), CODE + 2);
}

#[test]
fn lr_sc() {
    let prog = [
        lui(A1, (DATA >> 12) as u32),
        aop("lr.d", A0, A1, 0),
        iop("addi", A0, A0, 1),
        aop("sc.d", A3, A1, A0), // succeeds: a3 = 0
        aop("sc.d", T0, A1, A0), // reservation gone: t0 = 1
        aop("lr.w", A0, A1, 0),
        iop("addi", A2, A1, 8),
        aop("sc.w", A2, A2, A0), // different address: fails, a2 = 1
        aop("sc.w", RA, A1, A0), // reservation cleared by the failed sc
        ECALL,
    ];
    let mut vm = Vm::new(&prog);
    vm.mem.write_u64(DATA, 0xffff_ffff_ffff_fffe).unwrap();
    assert_eq!(vm.run(), Trap::Ecall);
    assert_eq!(vm.x(A3), 0);
    assert_eq!(vm.x(T0), 1);
    assert_eq!(vm.x(A2), 1);
    assert_eq!(vm.x(RA), 1);
    assert_eq!(vm.mem.read_u64(DATA).unwrap(), M1);
    assert_eq!(vm.x(A0), M1); // lr.w sign-extends
    assert_eq!(vm.cpu.reservation, None);
    // Memory changed between lr and sc (as another hart would): sc fails.
    let mut vm = Vm::new(&[
        lui(A1, (DATA >> 12) as u32),
        aop("lr.w", A0, A1, 0),
        iop("addi", A2, ZERO, 7),
        sop("sw", A2, A1, 0),
        aop("sc.w", A3, A1, A0),
        ECALL,
    ]);
    assert_eq!(vm.run(), Trap::Ecall);
    assert_eq!(vm.x(A3), 1);
    assert_eq!(vm.mem.read_u32(DATA).unwrap(), 7);
    // Misaligned lr faults precisely.
    let mut vm = Vm::new(&[
        lui(A1, (DATA >> 12) as u32),
        iop("addi", A1, A1, 4),
        aop("lr.d", A0, A1, 0),
    ]);
    match vm.run() {
        Trap::MemFault(f) => assert_eq!(f.addr, DATA + 4),
        t => panic!("{t:?}"),
    }
    assert_eq!(vm.cpu.pc, CODE + 8);
}

#[test]
fn amos() {
    let old_w: u64 = 0xffff_ffff_8000_0005; // memory holds 0x80000005
    let cases: &[(&str, u64, u64)] = &[
        // (op, rs2, new memory value (32-bit for .w))
        ("amoswap", 3, 3),
        ("amoadd", 0xffff_fffb, 0x8000_0000),
        ("amoxor", 0xf, 0x8000_000a),
        ("amoand", 0x4, 0x4),
        ("amoor", 0x2, 0x8000_0007),
        ("amomin", 1, 0x8000_0005),
        ("amomax", 1, 1),
        ("amominu", 1, 1),
        ("amomaxu", 1, 0x8000_0005),
    ];
    for &(n, v, want) in cases {
        let name = alloc::format!("{n}.w");
        let mut vm = Vm::new(&[lui(A1, (DATA >> 12) as u32), aop(&name, A0, A1, A2), ECALL]);
        vm.mem.write_u64(DATA, 0x1234_5678_8000_0005).unwrap();
        vm.cpu.x[A2 as usize] = v;
        assert_eq!(vm.run(), Trap::Ecall);
        assert_eq!(vm.x(A0), old_w, "{name}");
        assert_eq!(vm.mem.read_u32(DATA).unwrap() as u64, want, "{name}");
        assert_eq!(vm.mem.read_u32(DATA + 4).unwrap(), 0x1234_5678, "{name}");
    }
    let cases: &[(&str, u64, u64)] = &[
        ("amoswap", 3, 3),
        ("amoadd", 5, MIN64 + 10),
        ("amoxor", M1, !(MIN64 + 5)),
        ("amoand", 4, 4),
        ("amoor", 2, MIN64 + 7),
        ("amomin", 1, MIN64 + 5),
        ("amomax", 1, 1),
        ("amominu", 1, 1),
        ("amomaxu", 1, MIN64 + 5),
    ];
    for &(n, v, want) in cases {
        let name = alloc::format!("{n}.d");
        let mut vm = Vm::new(&[lui(A1, (DATA >> 12) as u32), aop(&name, A0, A1, A2), ECALL]);
        vm.mem.write_u64(DATA, MIN64 + 5).unwrap();
        vm.cpu.x[A2 as usize] = v;
        assert_eq!(vm.run(), Trap::Ecall);
        assert_eq!(vm.x(A0), MIN64 + 5, "{name}");
        assert_eq!(vm.mem.read_u64(DATA).unwrap(), want, "{name}");
    }
    // rd == rs2: the old value lands in rd after the new one was used.
    let mut vm = Vm::new(&[
        lui(A1, (DATA >> 12) as u32),
        aop("amoadd.d", A2, A1, A2),
        ECALL,
    ]);
    vm.mem.write_u64(DATA, 10).unwrap();
    vm.cpu.x[A2 as usize] = 5;
    assert_eq!(vm.run(), Trap::Ecall);
    assert_eq!((vm.x(A2), vm.mem.read_u64(DATA).unwrap()), (10, 15));
    // Misaligned, read-only and unmapped AMOs fault without side effects.
    for (addr, mapped) in [(DATA + 2, true), (CODE, true), (0x40, false)] {
        let mut vm = Vm::new(&[aop("amoswap.w", A0, A1, A2), ECALL]);
        vm.cpu.x[A1 as usize] = addr;
        vm.cpu.x[A0 as usize] = 77;
        match vm.run() {
            Trap::MemFault(f) => assert_eq!((f.addr, f.mapped), (addr, mapped)),
            t => panic!("{t:?}"),
        }
        assert_eq!(vm.x(A0), 77);
        assert_eq!(vm.cpu.pc, CODE);
    }
}

#[test]
fn csrs() {
    let mut vm = Vm::new(&[
        iop("addi", A1, ZERO, 0xff),
        csr("csrrw", A0, 3, A1),       // fcsr = 0xff -> frm 7, fflags 0x1f
        csr("csrrs", A2, 1, ZERO),     // read fflags
        csr("csrrs", A3, 2, ZERO),     // read frm
        csr("csrrci", ZERO, 1, 0x3),   // clear NX|UF
        csr("csrrwi", T0, 2, 1),       // frm = RTZ, t0 = old frm
        csr("csrrs", RA, 3, ZERO),     // fcsr
        csr("csrrs", SP, 0xc02, ZERO), // instret: 7 retired before it
        ECALL,
    ]);
    assert_eq!(vm.run(), Trap::Ecall);
    assert_eq!(vm.x(A0), 0);
    assert_eq!(vm.x(A2), 0x1f);
    assert_eq!(vm.x(A3), 7);
    assert_eq!(vm.x(T0), 7);
    assert_eq!(vm.x(RA), (1 << 5) | 0x1c);
    assert_eq!(vm.x(SP), 7);
    assert_eq!((vm.cpu.frm, vm.cpu.fflags), (1, 0x1c));
    // cycle and time are readable; time counts up in 100 ns units.
    let mut vm = Vm::new(&[
        csr("csrrs", A0, 0xc01, ZERO),
        csr("csrrs", A1, 0xc00, ZERO),
        ECALL,
    ]);
    assert_eq!(vm.run(), Trap::Ecall);
    assert!(vm.x(A0) > 1_600_000_000 * 10_000_000);
    assert_eq!(vm.x(A1), 1);
    // Writing a read-only counter, or touching an unknown CSR, is illegal
    // and changes nothing.
    for w in [
        csr("csrrw", A0, 0xc00, ZERO),
        csr("csrrs", A0, 0xc01, A1),
        csr("csrrsi", A0, 0xc02, 1),
        csr("csrrs", A0, 0x300, ZERO), // mstatus
        csr("csrrs", A0, 0x7c0, ZERO),
    ] {
        let mut vm = Vm::new(&[w, ECALL]);
        vm.cpu.x[A0 as usize] = 42;
        vm.cpu.x[A1 as usize] = 1;
        assert_eq!(vm.run(), Trap::IllegalInstruction(w));
        assert_eq!((vm.cpu.pc, vm.x(A0)), (CODE, 42));
    }
    // csrrc with rs1 = x0 on a read-only CSR only reads.
    let mut vm = Vm::new(&[csr("csrrc", A0, 0xc02, ZERO), ECALL]);
    assert_eq!(vm.run(), Trap::Ecall);
}

#[test]
fn fp_moves_boxing_and_rounding_modes() {
    let fmv_x_w = |rd: u32, rs1: u32| enc_r(0x53, 0, 0x70, rd, rs1, 0);
    let fmv_w_x = |rd: u32, rs1: u32| enc_r(0x53, 0, 0x78, rd, rs1, 0);
    let fmv_x_d = |rd: u32, rs1: u32| enc_r(0x53, 0, 0x71, rd, rs1, 0);
    let fsgnjn_s = |rd: u32, rs1: u32, rs2: u32| enc_r(0x53, 1, 0x10, rd, rs1, rs2);
    let fsgnjx_d = |rd: u32, rs1: u32, rs2: u32| enc_r(0x53, 2, 0x11, rd, rs1, rs2);
    let mut vm = Vm::new(&[
        lui(A1, (DATA >> 12) as u32),
        iop("flw", 1, A1, 0), // f1 = boxed 0x3f800000
        fmv_x_d(A0, 1),
        fsgnjn_s(2, 1, 1),    // f2 = -1.0f boxed
        fmv_x_w(A2, 2),       // sign-extended
        iop("fld", 3, A1, 8), // f3 = 0x4000000000000000 (2.0), not a boxed single
        fsgnjn_s(4, 3, 3),    // unboxed input reads as canonical NaN
        fmv_x_d(A3, 4),
        fsgnjx_d(5, 3, 3),     // 2.0 ^ sign(2.0) = 2.0
        sop("fsw", 3, A1, 16), // stores the raw low 32 bits
        fmv_w_x(6, A1),
        fmv_x_d(T0, 6),
        sop("fsd", 2, A1, 24),
        ECALL,
    ]);
    vm.mem.write_u32(DATA, 0x3f80_0000).unwrap();
    vm.mem.write_u64(DATA + 8, 0x4000_0000_0000_0000).unwrap();
    assert_eq!(vm.run(), Trap::Ecall);
    assert_eq!(vm.x(A0), 0xffff_ffff_3f80_0000);
    assert_eq!(vm.x(A2), 0xffff_ffff_bf80_0000);
    assert_eq!(vm.x(A3), 0xffff_ffff_ffc0_0000);
    assert_eq!(vm.cpu.f[5], 0x4000_0000_0000_0000);
    assert_eq!(vm.mem.read_u32(DATA + 16).unwrap(), 0);
    assert_eq!(vm.x(T0), 0xffff_ffff_0000_0000 | (DATA & 0xffff_ffff));
    assert_eq!(vm.mem.read_u64(DATA + 24).unwrap(), 0xffff_ffff_bf80_0000);
    assert_eq!(vm.cpu.fflags, 0);
    // Reserved static rm values, and DYN with a reserved frm, are illegal
    // before any arithmetic happens.
    let fadd_s = |rm: u32| enc_r(0x53, rm, 0, 1, 2, 3);
    for (w, frm) in [
        (fadd_s(5), 0),
        (fadd_s(6), 0),
        (fadd_s(7), 5),
        (fadd_s(7), 7),
    ] {
        let mut vm = Vm::new(&[w, ECALL]);
        vm.cpu.frm = frm;
        assert_eq!(vm.run(), Trap::IllegalInstruction(w));
        assert_eq!(vm.cpu.pc, CODE);
    }
}

#[test]
fn fence_i_sees_new_code() {
    // Patch the instruction at `target` from `addi a0,a0,1` to
    // `addi a0,a0,100` after it ran once, then fence.i and run it again.
    let patched = iop("addi", A0, A0, 100);
    let mut vm = Vm::new(&[
        jal(RA, 20),                  // 0: call target
        lui(A1, (CODE >> 12) as u32), // 4
        sop("sw", A2, A1, 20),        // 8: patch target
        FENCE_I,                      // 12
        jal(RA, 4),                   // 16: call target again
        iop("addi", A0, A0, 1),       // 20: target (returns to ra unless a0 > 1)
        bop("bne", A3, ZERO, 12),     // 24
        iop("addi", A3, ZERO, 1),     // 28: first time: a3 = 1, ret
        iop("jalr", ZERO, RA, 0),     // 32 (second time, jumps past to ecall)
        ECALL,                        // 36
    ]);
    // Code pages must be writable for the guest to patch them.
    vm.mem
        .protect(CODE, 0x1000, Perm::READ | Perm::WRITE | Perm::EXEC)
        .unwrap();
    vm.cpu.x[A2 as usize] = patched as u64;
    let epoch = vm.mem.code_epoch();
    assert_eq!(vm.run(), Trap::Ecall);
    assert!(vm.mem.code_epoch() > epoch);
    assert_eq!(vm.x(A0), 101);
}

#[test]
fn unmapped_code_is_not_run_from_cache() {
    let mut vm = Vm::new(&[iop("addi", A0, A0, 1), ECALL]);
    assert_eq!(vm.run(), Trap::Ecall);
    vm.mem.unmap(CODE, 0x2000).unwrap();
    vm.cpu.pc = CODE;
    match vm.run() {
        Trap::MemFault(f) => assert_eq!((f.addr, f.access), (CODE, Access::Exec)),
        t => panic!("{t:?}"),
    }
    assert_eq!(vm.x(A0), 1);
}

#[test]
fn long_running_loop_returns_budget() {
    // An infinite loop must come back with Budget, state intact.
    let mut vm = Vm::new(&[iop("addi", A0, A0, 1), jal(ZERO, -4)]);
    assert_eq!(vm.interp.run(&mut vm.cpu, vm.mem), Trap::Budget);
    assert!(vm.cpu.instret >= BUDGET);
    assert_eq!(vm.x(A0) * 2, vm.cpu.instret);
    assert!(vm.cpu.pc == CODE || vm.cpu.pc == CODE + 4);
    let _ = (FENCE, A3);
}

/// Time a freestanding static RISC-V ELF (no libc; exits with `ecall`
/// 93) named by `PVM_BENCH_ELF`. Not a unit test: run by hand with
/// `PVM_BENCH_ELF=prog cargo test --release -p vm-core bench_elf -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench_elf() {
    let Ok(path) = std::env::var("PVM_BENCH_ELF") else {
        return;
    };
    let img = std::fs::read(path).unwrap();
    let u16_at = |o: usize| u16::from_le_bytes(img[o..o + 2].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(img[o..o + 8].try_into().unwrap());
    let mem = alloc::boxed::Box::leak(alloc::boxed::Box::new(
        GuestMemory::new(TestHost::leak(), 1 << 32).unwrap(),
    ));
    let (phoff, phent, phnum) = (u64_at(0x20) as usize, u16_at(0x36), u16_at(0x38));
    for k in 0..phnum {
        let ph = phoff + k * phent;
        if u32::from_le_bytes(img[ph..ph + 4].try_into().unwrap()) != 1 {
            continue;
        }
        let (off, va, filesz, memsz) = (
            u64_at(ph + 8) as usize,
            u64_at(ph + 16),
            u64_at(ph + 32) as usize,
            u64_at(ph + 40),
        );
        let start = crate::memory::page_down(va);
        let end = crate::memory::page_up(va + memsz);
        mem.map(start, end - start, Perm::all(), true).unwrap();
        mem.write_bytes(va, &img[off..off + filesz]).unwrap();
    }
    mem.map(0x8000_0000, 1 << 20, Perm::READ | Perm::WRITE, true)
        .unwrap();
    let mut cpu = Cpu {
        pc: u64_at(0x18),
        ..Cpu::default()
    };
    cpu.x[SP as usize] = 0x8000_0000 + (1 << 20) - 64;
    let mut interp = Interpreter::new();
    // CPU time, not wall time: the machine may be shared.
    let utime = || {
        let st = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        let f: alloc::vec::Vec<&str> = st.rsplit(')').next().unwrap_or("").split(' ').collect();
        f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) * 10
    };
    let u0 = utime();
    let t0 = std::time::Instant::now();
    loop {
        match interp.run(&mut cpu, mem) {
            Trap::Budget => {}
            Trap::Ecall if cpu.x[17] == 93 => break,
            t => panic!("{t:?} at {:#x}", cpu.pc),
        }
    }
    let dt = t0.elapsed();
    let user_ms = utime() - u0;
    std::println!(
        "exit {} after {} instructions in {:?} wall, {} ms user ({:.2} ns/inst)",
        cpu.x[A0 as usize],
        cpu.instret,
        dt,
        user_ms,
        user_ms as f64 * 1e6 / cpu.instret as f64
    );
}

/// Run a real guest program end to end (loader, syscalls, this
/// interpreter) on the test host: `PVM_RUN_ELF=prog [PVM_RUN_ARGS="a b"]
/// cargo test -p vm-core run_elf -- --ignored --nocapture`. Prints the
/// guest's output, then `exit N` (or the signal report) and the
/// instruction count. Used to compare with `qemu-riscv64` by hand until
/// the `pvm` binary is wired up.
#[test]
#[ignore]
fn run_elf() {
    use crate::loader::{LoadConfig, load};
    use crate::process::{Options, Process, Thread};
    let Ok(path) = std::env::var("PVM_RUN_ELF") else {
        return;
    };
    let args = std::env::var("PVM_RUN_ARGS").unwrap_or_default();
    let mut argv: alloc::vec::Vec<&[u8]> = alloc::vec![path.as_bytes()];
    argv.extend(args.split_whitespace().map(|a| a.as_bytes()));
    let host = TestHost::leak();
    // Smaller than the real default: the test host backs it with calloc.
    let mem = GuestMemory::new(host, 1 << 32).unwrap();
    let cfg = LoadConfig {
        path: path.as_bytes(),
        argv: &argv,
        envp: &[
            b"PATH=/usr/bin:/bin",
            b"LANG=C",
            b"LD_LIBRARY_PATH=/usr/riscv64-linux-gnu/lib",
        ],
        sysroot: Some(b"/usr/riscv64-linux-gnu"),
        execfn: path.as_bytes(),
        interp_from: None,
    };
    let l = load(&mem, &cfg).unwrap();
    let proc = Process::new(host, mem, path.as_bytes().to_vec(), Options::default());
    let mut th = Thread::default();
    th.cpu.pc = l.entry;
    th.cpu.x[SP as usize] = l.sp;
    th.tid = 1000;
    let mut interp = Interpreter::new();
    interp.generic_only = std::env::var_os("PVM_GENERIC").is_some();
    let st = proc.run(&mut th, &mut interp);
    let out = host.out.lock().unwrap();
    std::print!("{}", alloc::string::String::from_utf8_lossy(&out));
    std::println!("exit {:?} ({} instructions)", st, th.cpu.instret);
}

#[test]
fn fp_arithmetic_plumbing() {
    // R4 forms: fs0 = 2.0, fs1 = 3.0, fs2 = 1.0 (doubles).
    let r4 = |op: u32, rd: u32| op | rd << 7 | 7 << 12 | 8 << 15 | 9 << 20 | 1 << 25 | 18 << 27;
    let fcvt = |f7: u32, rs2: u32, rm: u32, rd: u32, rs1: u32| enc_r(0x53, rm, f7, rd, rs1, rs2);
    let prog = [
        r4(0x43, 10),                  // fmadd.d fa0 = 2*3+1
        r4(0x47, 11),                  // fmsub.d fa1 = 2*3-1
        r4(0x4b, 12),                  // fnmsub.d fa2 = -(2*3)+1
        r4(0x4f, 13),                  // fnmadd.d fa3 = -(2*3)-1
        fcvt(0x61, 0, 1, A0, 14),      // fcvt.w.d a0, fa4 (NaN), rtz
        fcvt(0x61, 1, 1, A1, 15),      // fcvt.wu.d a1, fa5 (1e10), rtz: saturates
        fcvt(0x69, 1, 7, 16, A2),      // fcvt.d.wu fa6, a2 (0xffffffff)
        fcvt(0x61, 0, 0, A3, 17),      // fcvt.w.d a3, fa7 (2.5), rne -> 2, NX
        fcvt(0x20, 1, 7, 1, 8),        // fcvt.s.d ft1, fs0 -> boxed 2.0f
        enc_r(0x53, 0, 0x08, 2, 1, 1), // fmul.s ft2 = ft1 * ft1 (rne)
        ECALL,
    ];
    let d = |v: f64| v.to_bits();
    let mut vm = Vm::new(&prog);
    vm.cpu.f[8] = d(2.0);
    vm.cpu.f[9] = d(3.0);
    vm.cpu.f[18] = d(1.0);
    vm.cpu.f[14] = 0x7ff8_0000_0000_0000;
    vm.cpu.f[15] = d(1e10);
    vm.cpu.f[17] = d(2.5);
    vm.cpu.x[A2 as usize] = 0xffff_ffff;
    assert_eq!(vm.run(), Trap::Ecall);
    assert_eq!(vm.cpu.f[10], d(7.0));
    assert_eq!(vm.cpu.f[11], d(5.0));
    assert_eq!(vm.cpu.f[12], d(-5.0));
    assert_eq!(vm.cpu.f[13], d(-7.0));
    assert_eq!(vm.x(A0), 0x7fff_ffff);
    assert_eq!(vm.x(A1), M1); // 0xffffffff, sign-extended
    assert_eq!(vm.cpu.f[16], d(4294967295.0));
    assert_eq!(vm.x(A3), 2);
    assert_eq!(vm.cpu.f[1], 0xffff_ffff_4000_0000);
    assert_eq!(vm.cpu.f[2], 0xffff_ffff_4080_0000);
    assert_eq!(
        vm.cpu.fflags,
        crate::cpu::fflags::NV | crate::cpu::fflags::NX
    );
}

#[test]
fn followed_jumps_keep_pcs_precise() {
    // jal forward, then backward into a faulting load: the block built at
    // CODE runs through both jumps, and the fault still names pc CODE+4.
    let mut vm = Vm::new(&[
        jal(ZERO, 12),            // 0
        iop("ld", A0, ZERO, 64),  // 4: faults (page 0 is unmapped)
        ECALL,                    // 8
        iop("addi", A1, ZERO, 5), // 12
        jal(RA, -12),             // 16: -> 4, ra = 20
    ]);
    match vm.run() {
        Trap::MemFault(f) => assert_eq!(f.addr, 64),
        t => panic!("{t:?}"),
    }
    assert_eq!(vm.cpu.pc, CODE + 4);
    assert_eq!(vm.x(A1), 5);
    assert_eq!(vm.x(RA), CODE + 20);
    assert_eq!(vm.cpu.instret, 3);
}

// ---- the single-instruction entry point ----------------------------------

/// Run `vm` one instruction at a time through [`step`] until a trap, the
/// way the translator's fallback does.
fn run_stepwise(vm: &mut Vm) -> Trap {
    let mut lr_value = 0;
    loop {
        let bits = fetch(vm.mem, vm.cpu.pc).map_err(Trap::MemFault);
        let r = bits.and_then(|b| {
            let (inst, len) = decode(b);
            step(&mut vm.cpu, vm.mem, inst, len, &mut lr_value)
        });
        if let Err(t) = r {
            return t;
        }
    }
}

#[test]
fn step_agrees_with_blocks() {
    let fadd_d = enc_r(0x53, 7, 0x01, 3, 1, 2);
    let programs: [&[u32]; 4] = [
        // Atomics, LR/SC across steps (the lr value lives in the caller).
        &[
            lui(A1, (DATA >> 12) as u32),
            aop("lr.d", A0, A1, 0),
            iop("addi", A0, A0, 1),
            aop("sc.d", A3, A1, A0),
            aop("sc.d", T0, A1, A0),
            aop("amoadd.w", A2, A1, A0),
            aop("amomaxu.d", RA, A1, A3),
            ECALL,
        ],
        // CSRs, including instret counting the retired instructions.
        &[
            iop("addi", A1, ZERO, 0xff),
            csr("csrrw", A0, 3, A1),
            csr("csrrci", ZERO, 1, 0x3),
            csr("csrrs", A2, 3, ZERO),
            csr("csrrs", SP, 0xc02, ZERO),
            csr("csrrs", A3, 0xc00, ZERO),
            ECALL,
        ],
        // Branches, jumps, fence, F/D with a dynamic rounding mode.
        &[
            iop("addi", A0, ZERO, 3),
            iop("addi", A0, A0, -1),
            bop("bne", A0, ZERO, -4),
            jal(RA, 8),
            iop("addi", A1, ZERO, 1), // skipped
            FENCE,
            iop("fld", 1, SP, -8),
            iop("fld", 2, SP, -16),
            fadd_d,
            sop("fsd", 3, SP, -24),
            ECALL,
        ],
        // A trap in the middle: state stops at it.
        &[iop("addi", A0, ZERO, 5), sop("sd", A0, ZERO, 0), ECALL],
    ];
    for code in programs {
        let mut blocks = Vm::new(code);
        let mut steps = Vm::new(code);
        for vm in [&mut blocks, &mut steps] {
            vm.mem.write_u64(DATA, 0x1234_5678_9abc_def0).unwrap();
            vm.mem
                .write_u64(DATA + 0x2000 - 8, 0x3ff8_0000_0000_0000)
                .unwrap(); // 1.5
            vm.mem
                .write_u64(DATA + 0x2000 - 16, 0x3ca0_0000_0000_0000)
                .unwrap(); // 2^-53
            vm.cpu.frm = 2; // RDN, so the dynamic rounding mode matters
        }
        let want = blocks.run();
        let got = run_stepwise(&mut steps);
        assert_eq!(got, want, "{code:x?}");
        assert_eq!(steps.cpu, blocks.cpu, "{code:x?}");
        let mut a = [0u8; 0x2000];
        let mut b = [0u8; 0x2000];
        blocks.mem.read_bytes(DATA, &mut a).unwrap();
        steps.mem.read_bytes(DATA, &mut b).unwrap();
        assert!(a == b, "{code:x?}: data differs");
    }
}

#[test]
fn step_state_is_precise() {
    let mut lr_value = 7;
    // The instruction is put in guest code at `pc` too: an illegal
    // instruction is reported with the bits found there.
    let one = |w: u32, cpu: &mut Cpu, mem: &GuestMemory, lr: &mut u64| {
        mem.write_bytes_privileged(cpu.pc, &w.to_le_bytes())
            .unwrap();
        let (inst, len) = decode(w);
        step(cpu, mem, inst, len, lr)
    };
    let vm = Vm::new(&[]);
    let start = Cpu {
        pc: CODE + 0x40,
        instret: 100,
        ..Cpu::default()
    };
    // A misaligned lr.d traps with nothing changed.
    let mut cpu = start.clone();
    cpu.x[A1 as usize] = DATA + 4;
    let before = cpu.clone();
    match one(aop("lr.d", A0, A1, 0), &mut cpu, vm.mem, &mut lr_value) {
        Err(Trap::MemFault(f)) => assert_eq!(f.addr, DATA + 4),
        r => panic!("{r:?}"),
    }
    assert_eq!((cpu, lr_value), (before, 7));
    // A successful lr.d hands its value back to the caller and retires.
    let mut cpu = start.clone();
    cpu.x[A1 as usize] = DATA;
    vm.mem.write_u64(DATA, 0x55).unwrap();
    assert_eq!(
        one(aop("lr.d", A0, A1, 0), &mut cpu, vm.mem, &mut lr_value),
        Ok(())
    );
    assert_eq!(
        (cpu.pc, cpu.instret, cpu.x[A0 as usize]),
        (CODE + 0x44, 101, 0x55)
    );
    assert_eq!((lr_value, cpu.reservation), (0x55, Some(DATA)));
    // A reserved rounding mode is illegal and leaves fflags alone.
    let mut cpu = start.clone();
    cpu.fflags = 0x3;
    let before = cpu.clone();
    let w = enc_r(0x53, 5, 0, 1, 2, 3);
    assert_eq!(
        one(w, &mut cpu, vm.mem, &mut lr_value),
        Err(Trap::IllegalInstruction(w))
    );
    assert_eq!(cpu, before);
    // ebreak: nothing retired; ecall: retired, pc stays for the OS layer.
    let mut cpu = start.clone();
    assert_eq!(
        one(EBREAK, &mut cpu, vm.mem, &mut lr_value),
        Err(Trap::Ebreak)
    );
    assert_eq!(cpu, start);
    assert_eq!(
        one(ECALL, &mut cpu, vm.mem, &mut lr_value),
        Err(Trap::Ecall)
    );
    assert_eq!((cpu.pc, cpu.instret), (start.pc, 101));
    // fence.i retires and moves the code epoch; a compressed instruction
    // advances pc by 2; a jump goes to its target.
    let mut cpu = start.clone();
    let epoch = vm.mem.code_epoch();
    assert_eq!(one(FENCE_I, &mut cpu, vm.mem, &mut lr_value), Ok(()));
    assert_ne!(vm.mem.code_epoch(), epoch);
    assert_eq!((cpu.pc, cpu.instret), (start.pc + 4, 101));
    assert_eq!(one(0x4515, &mut cpu, vm.mem, &mut lr_value), Ok(())); // c.li a0,5
    assert_eq!((cpu.pc, cpu.x[A0 as usize]), (start.pc + 6, 5));
    assert_eq!(one(jal(RA, -6), &mut cpu, vm.mem, &mut lr_value), Ok(()));
    assert_eq!((cpu.pc, cpu.x[RA as usize]), (start.pc, start.pc + 10));
    assert_eq!(cpu.instret, 103);
}

fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

/// A random instruction of class `c` (0 ALU-immediate, 1 ALU-register,
/// 2 lui/auipc, 3 load, 4 store, 5 branch to `CODE + 12`) at `CODE + at`.
/// Registers come from a small set (with x0) so that pairs often share
/// them.
fn random_inst(c: u64, at: i32, s: &mut u64) -> u32 {
    const REGS: [u32; 5] = [ZERO, A0, A1, A2, A3];
    let mut r = |n: u64| (xorshift(s) % n) as usize;
    let (rd, rs1, rs2) = (REGS[r(5)], REGS[r(5)], REGS[r(5)]);
    match c {
        0 => {
            let name = [
                "addi", "slli", "srli", "srai", "andi", "addiw", "slliw", "srliw", "ori", "xori",
                "sltiu",
            ][r(11)];
            let imm = match name {
                "slli" | "srli" | "srai" => r(64) as i32,
                "slliw" | "srliw" => r(32) as i32,
                _ => r(4096) as i32 - 2048,
            };
            iop(name, rd, rs1, imm)
        }
        1 => {
            let name = [
                "add", "sub", "and", "or", "xor", "addw", "subw", "mul", "sll", "srl", "sltu",
                "mulw", "mulhu", "divu", "remu", "divuw", "remuw",
            ][r(17)];
            rop(name, rd, rs1, rs2)
        }
        2 if r(2) == 0 => lui(rd, r(1 << 20) as u32),
        2 => auipc(rd, r(1 << 20) as u32),
        3 => {
            let name = ["lb", "lh", "lw", "ld", "lbu", "lhu", "lwu"][r(7)];
            iop(name, rd, rs1, r(32) as i32 - 16)
        }
        4 => sop(["sb", "sh", "sw", "sd"][r(4)], rs2, rs1, r(32) as i32 - 16),
        _ => {
            let name = ["beq", "bne", "blt", "bge", "bltu", "bgeu"][r(6)];
            bop(name, rs1, rs2, 12 - at)
        }
    }
}

/// Every pair of instruction classes the fuser knows (and pairs it
/// rejects: x0 destinations, a branch first), with operands that collide
/// (a source of the second is the first's destination), addresses that
/// cross into an unmapped page, hit read-only code or nothing at all: the
/// fused handlers, the generic handler and `step` must agree on the trap,
/// every register, pc, instret and the data memory.
#[test]
fn fused_pairs_agree_with_generic_and_step() {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut vms = [Vm::new(&[]), Vm::new(&[]), Vm::new(&[])];
    vms[1].interp.generic_only = true;
    let mut fused = 0;
    for c1 in 0..6 {
        for c2 in 0..6 {
            for _ in 0..60 {
                let code = [
                    random_inst(c1, 0, &mut s),
                    random_inst(c2, 4, &mut s),
                    iop("addi", A0, A0, 1),
                    ECALL,
                ];
                let mut x = [0u64; 32];
                for r in [A0, A1, A2, A3] {
                    let v = xorshift(&mut s);
                    x[r as usize] = match v % 7 {
                        0 | 1 => DATA + (v >> 8) % 0x2000,
                        2 => DATA + 0x2000 - (v >> 8) % 8,
                        3 => CODE + (v >> 8) % 16,
                        4 => 0x40,
                        5 => (v >> 8) % 16,
                        _ => v,
                    };
                }
                let fill = xorshift(&mut s);
                let bytes: alloc::vec::Vec<u8> =
                    code.iter().flat_map(|w| w.to_le_bytes()).collect();
                let mut results = alloc::vec::Vec::new();
                for (i, vm) in vms.iter_mut().enumerate() {
                    vm.mem.write_bytes_privileged(CODE, &bytes).unwrap();
                    vm.mem.invalidate_code();
                    let data: alloc::vec::Vec<u8> = (0..0x2000u64)
                        .map(|k| (fill.rotate_left(k as u32 % 64) ^ k) as u8)
                        .collect();
                    vm.mem.write_bytes(DATA, &data).unwrap();
                    vm.cpu = Cpu {
                        pc: CODE,
                        x,
                        instret: 1000,
                        ..Cpu::default()
                    };
                    let trap = if i == 2 { run_stepwise(vm) } else { vm.run() };
                    let mut mem = alloc::vec![0u8; 0x2000];
                    vm.mem.read_bytes(DATA, &mut mem).unwrap();
                    results.push((trap, vm.cpu.clone(), mem));
                }
                let (d0, _) = decode(code[0]);
                let (d1, _) = decode(code[1]);
                assert!(
                    results[0] == results[1] && results[1] == results[2],
                    "{d0}; {d1} with {x:x?}:\nfused {:?}\ngeneric {:?}\nstep {:?}",
                    (&results[0].0, &results[0].1),
                    (&results[1].0, &results[1].1),
                    (&results[2].0, &results[2].1)
                );
                if fuse::pair(d0, CODE, 0, 4, d1, CODE + 4).is_some() {
                    fused += 1;
                }
            }
        }
    }
    // Many of the 36 * 60 pairs above fuse: the test exercises the fused
    // handlers.
    assert!(fused * 3 > 36 * 60, "{fused}");
}

/// The hot-path selector follows the instruction table: every
/// instruction the table puts on the interpreter's hot path
/// (`Facts::interp_fast`) gets a specialised handler (a load into `x0`
/// excepted: it only checks its access, which the generic executor
/// does), every other instruction the generic one. One instruction of
/// each row at least (the binutils vectors hold every row).
#[test]
fn hot_path_selector_follows_the_instruction_table() {
    let vectors = include_str!("../../tests/data/decode_vectors.txt");
    let mut fast_rows = alloc::collections::BTreeSet::new();
    for line in vectors.lines().filter(|l| !l.starts_with('#')) {
        let (word, _) = line.split_once('\t').unwrap();
        let (inst, len) = decode(u32::from_str_radix(word, 16).unwrap());
        let u = fast::uop(inst, CODE, 0, len);
        let generic = core::ptr::fn_addr_eq(u.h, h_generic as Handler);
        let load_x0 = inst.facts().access == crate::decode::Access::Load
            && matches!(
                inst,
                Inst::Lb(I { rd: 0, .. })
                    | Inst::Lh(I { rd: 0, .. })
                    | Inst::Lw(I { rd: 0, .. })
                    | Inst::Ld(I { rd: 0, .. })
                    | Inst::Lbu(I { rd: 0, .. })
                    | Inst::Lhu(I { rd: 0, .. })
                    | Inst::Lwu(I { rd: 0, .. })
            );
        let fast = inst.facts().interp_fast();
        assert_eq!(generic, !fast || load_x0, "{line}: {inst}");
        if fast {
            fast_rows.insert(inst.mnemonic());
        }
    }
    let want: alloc::collections::BTreeSet<_> = crate::decode::ALL
        .iter()
        .filter(|f| f.interp_fast())
        .map(|f| f.mnemonic)
        .collect();
    assert_eq!(fast_rows, want);
    assert!(want.contains("mulhsu") && want.contains("fence") && !want.contains("flw"));
}
