//! Each operation, one at a time, against its written-once semantics.
//!
//! The translator's x86-64 code generator writes the semantics of every
//! instruction it emits inline a second time, as host instructions; the
//! interpreter's handlers take theirs from `vm_core::semantics` (and
//! `vm_core::fpu`). Here every RV64GC operation is named case by case
//! ([`want`]: an exhaustive `match`, so a new instruction does not compile
//! without a line here) with what those functions say it does; each
//! instruction of the binutils vectors (every row of the instruction
//! table) runs alone, under both engines, on operands that reach the
//! corner cases, and the state both engines agree on (the differential
//! harness compares them) must be what the function gives. Every row the
//! translator emits inline (`inline` and `float` rows of
//! `vm_core::decode::table`) must have been checked, so an operation
//! moved inline is covered the moment it moves.
//!
//! Users: `vm-testkit/tests/ops.rs` (on the test host, where the
//! translator checks every access in software) and the Linux host's
//! tests (`host-linux/src/difftest.rs`: direct accesses, host faults).

use crate::difftest::{CODE, Case, DATA, DATA_LEN, Harness, Rng, Source};
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::vec::Vec;
use vm_core::cpu::{Cpu, Trap};
use vm_core::decode::{A, ALL, Csr, F, F4, I, Inst, Lower, R, S, U, decode};
use vm_core::fpu;
use vm_core::semantics as sem;

const VECTORS: &str = include_str!("../../vm-core/tests/data/decode_vectors.txt");

/// Where the instruction under test sits: mid-way into the code mapping,
/// so that short jumps either way land on mapped zeros (an illegal
/// instruction, where the run stops with `pc` at the target).
const AT: u64 = CODE + 0x8000;

/// What one instruction must leave, computed from the state before it.
#[derive(Debug, Default)]
struct Want {
    x: Option<(u8, u64)>,
    f: Option<(u8, u64)>,
    fflags: Option<u32>,
    frm: Option<u32>,
    /// The next pc (default: the fall-through).
    pc: Option<u64>,
    /// Bytes written to memory at an address.
    store: Option<(u64, Vec<u8>)>,
    /// The instruction is illegal with these operands (a reserved
    /// rounding mode): it must trap at itself with nothing changed.
    illegal: bool,
    reservation: Option<Option<u64>>,
}

/// The data area's bytes at guest address `a`.
fn mem(data: &[u8], a: u64, n: usize) -> u64 {
    let o = (a - DATA) as usize;
    let mut b = [0u8; 8];
    b[..n].copy_from_slice(&data[o..o + n]);
    u64::from_le_bytes(b)
}

/// What `inst` at `pc` (of `len` bytes) does to `cpu` and the data area
/// `data`, by the semantic functions; `None` for the instructions that
/// only trap (`ecall`, `ebreak`, illegal encodings) or only order
/// (`fence.i`), which other tests cover.
fn want(inst: Inst, pc: u64, len: u8, cpu: &Cpu, data: &[u8]) -> Option<Want> {
    use Inst::*;
    let x = |r: u8| cpu.x[r as usize];
    let fr = |r: u8| cpu.f[r as usize];
    let fs = |r: u8| sem::unbox(cpu.f[r as usize]);
    let mut w = Want::default();
    let rr = |r: R, f: fn(u64, u64) -> u64| Want {
        x: Some((r.rd, f(x(r.rs1), x(r.rs2)))),
        ..Want::default()
    };
    let ri = |i: I, f: fn(u64, u64) -> u64| Want {
        x: Some((i.rd, f(x(i.rs1), i.imm as i64 as u64))),
        ..Want::default()
    };
    let br = |s: S, f: fn(u64, u64) -> bool| Want {
        pc: f(x(s.rs1), x(s.rs2)).then(|| pc.wrapping_add(s.imm as i64 as u64)),
        ..Want::default()
    };
    let ld = |i: I, n: usize, f: fn(u64) -> u64| Want {
        x: Some((i.rd, f(mem(data, sem::ea(x(i.rs1), i.imm), n)))),
        ..Want::default()
    };
    let st = |s: S, n: usize, v: u64| Want {
        store: Some((sem::ea(x(s.rs1), s.imm), v.to_le_bytes()[..n].to_vec())),
        ..Want::default()
    };
    let amo_w = |a: A, f: fn(u32, u32) -> u32| {
        let old = mem(data, x(a.rs1), 4) as u32;
        Want {
            x: Some((a.rd, sem::sext32(old))),
            store: Some((x(a.rs1), f(old, x(a.rs2) as u32).to_le_bytes().to_vec())),
            ..Want::default()
        }
    };
    let amo_d = |a: A, f: fn(u64, u64) -> u64| {
        let old = mem(data, x(a.rs1), 8);
        Want {
            x: Some((a.rd, old)),
            store: Some((x(a.rs1), f(old, x(a.rs2)).to_le_bytes().to_vec())),
            ..Want::default()
        }
    };
    // Floating point: the rounding mode first (reserved: illegal), then
    // the operation with the flags accrued onto the old ones.
    let mut fl = cpu.fflags;
    macro_rules! rm {
        ($rm:expr) => {
            match sem::resolve_rm($rm, cpu.frm) {
                Some(r) => r,
                None => {
                    w.illegal = true;
                    return Some(w);
                }
            }
        };
    }
    macro_rules! fop {
        // an f result from f sources with a rounding mode
        (s $q:expr, $f:path) => {{
            let F { rd, rs1, rs2, rm } = $q;
            let rm = rm!(rm);
            w.f = Some((rd, sem::nanbox($f(fs(rs1), fs(rs2), rm, &mut fl))));
        }};
        (d $q:expr, $f:path) => {{
            let F { rd, rs1, rs2, rm } = $q;
            let rm = rm!(rm);
            w.f = Some((rd, $f(fr(rs1), fr(rs2), rm, &mut fl)));
        }};
    }
    // Conversions, one line per width and signedness: float (`fs` a
    // single, `fr` a double) to an integer register value (`$ext` widens
    // the result); an integer register (`$arg` narrows it) to float
    // (`$boxed` NaN-boxes a single).
    macro_rules! f2i {
        ($q:expr, $src:ident, $f:path, $ext:expr) => {{
            let rm = rm!($q.rm);
            w.x = Some(($q.rd, $ext($f($src($q.rs1), rm, &mut fl))));
        }};
    }
    macro_rules! i2f {
        ($q:expr, $f:path, $arg:expr, $boxed:expr) => {{
            let rm = rm!($q.rm);
            w.f = Some(($q.rd, $boxed($f($arg(x($q.rs1)), rm, &mut fl))));
        }};
    }
    match inst {
        Lui(U { rd, imm }) => w.x = Some((rd, imm as i64 as u64)),
        Auipc(U { rd, imm }) => w.x = Some((rd, pc.wrapping_add(imm as i64 as u64))),
        Jal(U { rd, imm }) => {
            w.x = Some((rd, pc + len as u64));
            w.pc = Some(pc.wrapping_add(imm as i64 as u64));
        }
        Jalr(I { rd, rs1, imm }) => {
            w.x = Some((rd, pc + len as u64));
            w.pc = Some(sem::jalr_target(x(rs1), imm));
        }
        Beq(s) => w = br(s, sem::beq),
        Bne(s) => w = br(s, sem::bne),
        Blt(s) => w = br(s, sem::blt),
        Bge(s) => w = br(s, sem::bge),
        Bltu(s) => w = br(s, sem::bltu),
        Bgeu(s) => w = br(s, sem::bgeu),
        Lb(i) => w = ld(i, 1, |v| sem::lb(v as u8)),
        Lh(i) => w = ld(i, 2, |v| sem::lh(v as u16)),
        Lw(i) => w = ld(i, 4, |v| sem::lw(v as u32)),
        Ld(i) => w = ld(i, 8, sem::ld),
        Lbu(i) => w = ld(i, 1, |v| sem::lbu(v as u8)),
        Lhu(i) => w = ld(i, 2, |v| sem::lhu(v as u16)),
        Lwu(i) => w = ld(i, 4, |v| sem::lwu(v as u32)),
        Sb(s) => w = st(s, 1, x(s.rs2)),
        Sh(s) => w = st(s, 2, x(s.rs2)),
        Sw(s) => w = st(s, 4, x(s.rs2)),
        Sd(s) => w = st(s, 8, x(s.rs2)),
        Addi(i) => w = ri(i, sem::add),
        Slti(i) => w = ri(i, sem::slt),
        Sltiu(i) => w = ri(i, sem::sltu),
        Xori(i) => w = ri(i, sem::xor),
        Ori(i) => w = ri(i, sem::or),
        Andi(i) => w = ri(i, sem::and),
        Slli(i) => w = ri(i, sem::sll),
        Srli(i) => w = ri(i, sem::srl),
        Srai(i) => w = ri(i, sem::sra),
        Addiw(i) => w = ri(i, sem::addw),
        Slliw(i) => w = ri(i, sem::sllw),
        Srliw(i) => w = ri(i, sem::srlw),
        Sraiw(i) => w = ri(i, sem::sraw),
        Add(r) => w = rr(r, sem::add),
        Sub(r) => w = rr(r, sem::sub),
        Sll(r) => w = rr(r, sem::sll),
        Slt(r) => w = rr(r, sem::slt),
        Sltu(r) => w = rr(r, sem::sltu),
        Xor(r) => w = rr(r, sem::xor),
        Srl(r) => w = rr(r, sem::srl),
        Sra(r) => w = rr(r, sem::sra),
        Or(r) => w = rr(r, sem::or),
        And(r) => w = rr(r, sem::and),
        Addw(r) => w = rr(r, sem::addw),
        Subw(r) => w = rr(r, sem::subw),
        Sllw(r) => w = rr(r, sem::sllw),
        Srlw(r) => w = rr(r, sem::srlw),
        Sraw(r) => w = rr(r, sem::sraw),
        Fence(_) => {}
        Mul(r) => w = rr(r, sem::mul),
        Mulh(r) => w = rr(r, sem::mulh),
        Mulhsu(r) => w = rr(r, sem::mulhsu),
        Mulhu(r) => w = rr(r, sem::mulhu),
        Div(r) => w = rr(r, sem::div),
        Divu(r) => w = rr(r, sem::divu),
        Rem(r) => w = rr(r, sem::rem),
        Remu(r) => w = rr(r, sem::remu),
        Mulw(r) => w = rr(r, sem::mulw),
        Divw(r) => w = rr(r, sem::divw),
        Divuw(r) => w = rr(r, sem::divuw),
        Remw(r) => w = rr(r, sem::remw),
        Remuw(r) => w = rr(r, sem::remuw),
        LrW(a) => {
            w.x = Some((a.rd, sem::sext32(mem(data, x(a.rs1), 4) as u32)));
            w.reservation = Some(Some(x(a.rs1)));
        }
        LrD(a) => {
            w.x = Some((a.rd, mem(data, x(a.rs1), 8)));
            w.reservation = Some(Some(x(a.rs1)));
        }
        // Without a reservation (the cases start with none): no store.
        ScW(a) | ScD(a) => {
            assert_eq!(cpu.reservation, None);
            w.x = Some((a.rd, sem::sc_result(false)));
            w.reservation = Some(None);
        }
        AmoswapW(a) => w = amo_w(a, sem::amoswap_w),
        AmoaddW(a) => w = amo_w(a, sem::amoadd_w),
        AmoxorW(a) => w = amo_w(a, sem::amoxor_w),
        AmoandW(a) => w = amo_w(a, sem::amoand_w),
        AmoorW(a) => w = amo_w(a, sem::amoor_w),
        AmominW(a) => w = amo_w(a, sem::amomin_w),
        AmomaxW(a) => w = amo_w(a, sem::amomax_w),
        AmominuW(a) => w = amo_w(a, sem::amominu_w),
        AmomaxuW(a) => w = amo_w(a, sem::amomaxu_w),
        AmoswapD(a) => w = amo_d(a, sem::amoswap_d),
        AmoaddD(a) => w = amo_d(a, sem::amoadd_d),
        AmoxorD(a) => w = amo_d(a, sem::amoxor_d),
        AmoandD(a) => w = amo_d(a, sem::amoand_d),
        AmoorD(a) => w = amo_d(a, sem::amoor_d),
        AmominD(a) => w = amo_d(a, sem::amomin_d),
        AmomaxD(a) => w = amo_d(a, sem::amomax_d),
        AmominuD(a) => w = amo_d(a, sem::amominu_d),
        AmomaxuD(a) => w = amo_d(a, sem::amomaxu_d),
        Flw(i) => {
            let v = mem(data, sem::ea(x(i.rs1), i.imm), 4) as u32;
            w.f = Some((i.rd, sem::nanbox(v)));
        }
        Fld(i) => w.f = Some((i.rd, mem(data, sem::ea(x(i.rs1), i.imm), 8))),
        // Stores move the raw low bits, boxed or not.
        Fsw(s) => w = st(s, 4, fr(s.rs2)),
        Fsd(s) => w = st(s, 8, fr(s.rs2)),
        FmvXW(r) => w.x = Some((r.rd, sem::fmv_x_w(fr(r.rs1)))),
        FmvWX(r) => w.f = Some((r.rd, sem::fmv_w_x(x(r.rs1)))),
        FmvXD(r) => w.x = Some((r.rd, fr(r.rs1))),
        FmvDX(r) => w.f = Some((r.rd, x(r.rs1))),
        FsgnjS(r) => w.f = Some((r.rd, sem::nanbox(sem::fsgnj_s(fs(r.rs1), fs(r.rs2))))),
        FsgnjnS(r) => w.f = Some((r.rd, sem::nanbox(sem::fsgnjn_s(fs(r.rs1), fs(r.rs2))))),
        FsgnjxS(r) => w.f = Some((r.rd, sem::nanbox(sem::fsgnjx_s(fs(r.rs1), fs(r.rs2))))),
        FsgnjD(r) => w.f = Some((r.rd, sem::fsgnj_d(fr(r.rs1), fr(r.rs2)))),
        FsgnjnD(r) => w.f = Some((r.rd, sem::fsgnjn_d(fr(r.rs1), fr(r.rs2)))),
        FsgnjxD(r) => w.f = Some((r.rd, sem::fsgnjx_d(fr(r.rs1), fr(r.rs2)))),
        FclassS(r) => w.x = Some((r.rd, fpu::f32_class(fs(r.rs1)))),
        FclassD(r) => w.x = Some((r.rd, fpu::f64_class(fr(r.rs1)))),
        FeqS(r) => w.x = Some((r.rd, fpu::f32_eq(fs(r.rs1), fs(r.rs2), &mut fl) as u64)),
        FltS(r) => w.x = Some((r.rd, fpu::f32_lt(fs(r.rs1), fs(r.rs2), &mut fl) as u64)),
        FleS(r) => w.x = Some((r.rd, fpu::f32_le(fs(r.rs1), fs(r.rs2), &mut fl) as u64)),
        FeqD(r) => w.x = Some((r.rd, fpu::f64_eq(fr(r.rs1), fr(r.rs2), &mut fl) as u64)),
        FltD(r) => w.x = Some((r.rd, fpu::f64_lt(fr(r.rs1), fr(r.rs2), &mut fl) as u64)),
        FleD(r) => w.x = Some((r.rd, fpu::f64_le(fr(r.rs1), fr(r.rs2), &mut fl) as u64)),
        FminS(r) => {
            w.f = Some((
                r.rd,
                sem::nanbox(fpu::f32_min(fs(r.rs1), fs(r.rs2), &mut fl)),
            ))
        }
        FmaxS(r) => {
            w.f = Some((
                r.rd,
                sem::nanbox(fpu::f32_max(fs(r.rs1), fs(r.rs2), &mut fl)),
            ))
        }
        FminD(r) => w.f = Some((r.rd, fpu::f64_min(fr(r.rs1), fr(r.rs2), &mut fl))),
        FmaxD(r) => w.f = Some((r.rd, fpu::f64_max(fr(r.rs1), fr(r.rs2), &mut fl))),
        FaddS(q) => fop!(s q, fpu::f32_add),
        FsubS(q) => fop!(s q, fpu::f32_sub),
        FmulS(q) => fop!(s q, fpu::f32_mul),
        FdivS(q) => fop!(s q, fpu::f32_div),
        FaddD(q) => fop!(d q, fpu::f64_add),
        FsubD(q) => fop!(d q, fpu::f64_sub),
        FmulD(q) => fop!(d q, fpu::f64_mul),
        FdivD(q) => fop!(d q, fpu::f64_div),
        FsqrtS(F { rd, rs1, rm, .. }) => {
            let rm = rm!(rm);
            w.f = Some((rd, sem::nanbox(fpu::f32_sqrt(fs(rs1), rm, &mut fl))));
        }
        FsqrtD(F { rd, rs1, rm, .. }) => {
            let rm = rm!(rm);
            w.f = Some((rd, fpu::f64_sqrt(fr(rs1), rm, &mut fl)));
        }
        FmaddS(q) | FmsubS(q) | FnmsubS(q) | FnmaddS(q) => {
            let F4 {
                rd,
                rs1,
                rs2,
                rs3,
                rm,
            } = q;
            let neg = match inst {
                FmaddS(_) => sem::FMADD,
                FmsubS(_) => sem::FMSUB,
                FnmsubS(_) => sem::FNMSUB,
                _ => sem::FNMADD,
            };
            let rm = rm!(rm);
            let v = sem::fma_s(neg, fs(rs1), fs(rs2), fs(rs3), rm, &mut fl);
            w.f = Some((rd, sem::nanbox(v)));
        }
        FmaddD(q) | FmsubD(q) | FnmsubD(q) | FnmaddD(q) => {
            let F4 {
                rd,
                rs1,
                rs2,
                rs3,
                rm,
            } = q;
            let neg = match inst {
                FmaddD(_) => sem::FMADD,
                FmsubD(_) => sem::FMSUB,
                FnmsubD(_) => sem::FNMSUB,
                _ => sem::FNMADD,
            };
            let rm = rm!(rm);
            w.f = Some((rd, sem::fma_d(neg, fr(rs1), fr(rs2), fr(rs3), rm, &mut fl)));
        }
        FcvtWS(q) => f2i!(q, fs, fpu::f32_to_i32, |v: i32| v as i64 as u64),
        FcvtWuS(q) => f2i!(q, fs, fpu::f32_to_u32, sem::sext32),
        FcvtLS(q) => f2i!(q, fs, fpu::f32_to_i64, |v: i64| v as u64),
        FcvtLuS(q) => f2i!(q, fs, fpu::f32_to_u64, |v: u64| v),
        FcvtWD(q) => f2i!(q, fr, fpu::f64_to_i32, |v: i32| v as i64 as u64),
        FcvtWuD(q) => f2i!(q, fr, fpu::f64_to_u32, sem::sext32),
        FcvtLD(q) => f2i!(q, fr, fpu::f64_to_i64, |v: i64| v as u64),
        FcvtLuD(q) => f2i!(q, fr, fpu::f64_to_u64, |v: u64| v),
        FcvtSW(q) => i2f!(q, fpu::i32_to_f32, |v: u64| v as i32, sem::nanbox),
        FcvtSWu(q) => i2f!(q, fpu::u32_to_f32, |v: u64| v as u32, sem::nanbox),
        FcvtSL(q) => i2f!(q, fpu::i64_to_f32, |v: u64| v as i64, sem::nanbox),
        FcvtSLu(q) => i2f!(q, fpu::u64_to_f32, |v: u64| v, sem::nanbox),
        FcvtDW(q) => i2f!(q, fpu::i32_to_f64, |v: u64| v as i32, |v: u64| v),
        FcvtDWu(q) => i2f!(q, fpu::u32_to_f64, |v: u64| v as u32, |v: u64| v),
        FcvtDL(q) => i2f!(q, fpu::i64_to_f64, |v: u64| v as i64, |v: u64| v),
        FcvtDLu(q) => i2f!(q, fpu::u64_to_f64, |v: u64| v, |v: u64| v),
        FcvtSD(q) => {
            let rm = rm!(q.rm);
            w.f = Some((q.rd, sem::nanbox(fpu::f64_to_f32(fr(q.rs1), rm, &mut fl))));
        }
        FcvtDS(q) => {
            // Exact, but a reserved rm is still illegal.
            let _ = rm!(q.rm);
            w.f = Some((q.rd, fpu::f32_to_f64(fs(q.rs1), &mut fl)));
        }
        Csrrw(c) | Csrrs(c) | Csrrc(c) | Csrrwi(c) | Csrrsi(c) | Csrrci(c) => {
            let Csr { rd, rs1, csr } = c;
            let old = match csr {
                1 => cpu.fflags as u64,
                2 => cpu.frm as u64,
                3 => (cpu.frm as u64) << 5 | cpu.fflags as u64,
                _ => unreachable!("the cases use the floating-point CSRs"),
            };
            let imm = matches!(inst, Csrrwi(_) | Csrrsi(_) | Csrrci(_));
            let src = if imm { rs1 as u64 } else { x(rs1) };
            let new = match inst {
                Csrrw(_) | Csrrwi(_) => Some(src),
                _ if rs1 == 0 => None,
                Csrrs(_) | Csrrsi(_) => Some(old | src),
                _ => Some(old & !src),
            };
            match (csr, new) {
                (_, None) => {}
                (1, Some(v)) => fl = (v & 31) as u32,
                (2, Some(v)) => w.frm = Some((v & 7) as u32),
                (_, Some(v)) => {
                    fl = (v & 31) as u32;
                    w.frm = Some(((v >> 5) & 7) as u32);
                }
            }
            w.x = Some((rd, old));
        }
        Ecall | Ebreak | FenceI | Illegal(_) => return None,
    }
    w.fflags = Some(fl);
    Some(w)
}

/// Integer operands that reach the corner cases.
fn int_operand(r: &mut Rng) -> u64 {
    const V: [u64; 12] = [
        0,
        1,
        2,
        u64::MAX,
        i64::MIN as u64,
        i64::MAX as u64,
        0x8000_0000,
        0x7fff_ffff,
        0xffff_ffff,
        0xffff_ffff_8000_0000,
        63,
        64 + 31,
    ];
    if r.chance(60) {
        V[r.below(V.len() as u64) as usize]
    } else {
        r.next() >> r.below(64)
    }
}

/// f register contents: boxed singles and doubles at the corner cases,
/// now and then an unboxed single.
fn fp_operand(r: &mut Rng) -> u64 {
    const D: [u64; 12] = [
        0,
        0x8000_0000_0000_0000,
        0x3ff0_0000_0000_0000,
        0xc000_0000_0000_0000,
        0x7ff0_0000_0000_0000,
        0x7ff8_0000_0000_0000,
        0x7ff4_0000_0000_0000,
        0x0000_0000_0000_0001,
        0x41e0_0000_0000_0000,
        0x43e0_0000_0000_0000,
        0xc3e0_0000_0000_0000,
        0x3fb9_9999_9999_999a,
    ];
    const S: [u32; 11] = [
        0,
        0x8000_0000,
        0x3f80_0000,
        0x7f80_0000,
        0x7fc0_0000,
        0x7fa0_0000,
        0x0000_0001,
        0x4f00_0000,
        0xcf00_0000,
        0x5f00_0000,
        0x3dcc_cccd,
    ];
    match r.below(8) {
        0..=2 => D[r.below(D.len() as u64) as usize],
        3..=5 => sem::nanbox(S[r.below(S.len() as u64) as usize]),
        6 => sem::nanbox(r.next() as u32),
        _ => r.next(),
    }
}

/// The word's `rs1` field (every format but U and J has one there).
fn rs1_of(w: u32) -> u8 {
    ((w >> 15) & 31) as u8
}

/// Run every 32-bit instruction of the binutils vectors `cases_per_word`
/// times, alone, under both engines of `h`, on corner-case operands, and
/// check the state they agree on against [`want`] (panicking with the
/// case on a mismatch). Returns how many times each mnemonic was
/// checked, after asserting that every row the translator emits inline
/// was, at least four times.
pub fn check_every_operation(h: &mut Harness, cases_per_word: u32) -> BTreeMap<&'static str, u32> {
    let mut r = Rng::seeded(0x5e3a);
    let mut checked: BTreeMap<&'static str, u32> = BTreeMap::new();
    for line in VECTORS.lines().filter(|l| !l.starts_with('#')) {
        let (word, text) = line.split_once('\t').unwrap();
        let word = u32::from_str_radix(word, 16).unwrap();
        // The 32-bit encodings (they hold every row; compressed ones
        // expand to the same instructions).
        if word & 3 != 3 {
            continue;
        }
        for k in 0..cases_per_word {
            let mut word = word;
            let (inst, _) = decode(word);
            let facts = inst.facts();
            // CSR instructions on the floating-point CSRs (the counters'
            // values are not a function of the operands).
            if inst.csr_op().is_some() {
                word = (word & 0x000f_ffff) | (1 + k % 3) << 20;
            }
            // Memory operands need a base register the case can point at
            // the data area.
            if facts.width > 0 && rs1_of(word) == 0 {
                word |= 11 << 15;
            }
            let (inst, len) = decode(word);
            assert_eq!(len, 4);
            let mut cpu = Cpu {
                pc: AT,
                ..Cpu::default()
            };
            for x in 1..32 {
                cpu.x[x] = int_operand(&mut r);
            }
            for f in 0..32 {
                cpu.f[f] = fp_operand(&mut r);
            }
            // Valid dynamic rounding modes mostly, a reserved one now and
            // then (DYN is then illegal).
            cpu.frm = if r.chance(8) {
                5 + r.below(3) as u32
            } else {
                r.below(5) as u32
            };
            cpu.fflags = if r.chance(30) { r.below(32) as u32 } else { 0 };
            if facts.width > 0 {
                // An aligned address in the data area.
                let w = facts.width as u64;
                let a = DATA + (r.below(DATA_LEN as u64 / 2) & !(w - 1));
                let base = rs1_of(word) as usize;
                cpu.x[base] = match inst {
                    Inst::Lb(I { imm, .. })
                    | Inst::Lh(I { imm, .. })
                    | Inst::Lw(I { imm, .. })
                    | Inst::Ld(I { imm, .. })
                    | Inst::Lbu(I { imm, .. })
                    | Inst::Lhu(I { imm, .. })
                    | Inst::Lwu(I { imm, .. })
                    | Inst::Flw(I { imm, .. })
                    | Inst::Fld(I { imm, .. })
                    | Inst::Sb(S { imm, .. })
                    | Inst::Sh(S { imm, .. })
                    | Inst::Sw(S { imm, .. })
                    | Inst::Sd(S { imm, .. })
                    | Inst::Fsw(S { imm, .. })
                    | Inst::Fsd(S { imm, .. }) => a.wrapping_sub(imm as i64 as u64),
                    _ => a,
                };
            }
            let data: Vec<u8> = (0..DATA_LEN).map(|_| r.below(256) as u8).collect();
            let Some(want) = want(inst, AT, len, &cpu, &data) else {
                continue;
            };
            // A jump to itself would never stop.
            if want.pc == Some(AT) {
                continue;
            }
            let mut code = word.to_le_bytes().to_vec();
            code.extend_from_slice(&crate::rv::ECALL.to_le_bytes());
            let case = Case {
                code,
                data: data.clone(),
                cpu: cpu.clone(),
                code_writable: false,
            };
            let (out, end, end_data) = h.run_state(&case).unwrap_or_else(|m| panic!("{text}: {m}"));
            let ctx =
                || format!("{text} ({inst}) from {cpu:x?}: {want:x?}\nended {out:?} {end:x?}");
            if want.illegal {
                assert!(matches!(out.trap, Trap::IllegalInstruction(_)), "{}", ctx());
                assert_eq!(end.pc, AT, "{}", ctx());
                continue;
            }
            let next = want.pc.unwrap_or(AT + len as u64);
            assert_eq!(end.pc, next, "{}", ctx());
            if next == AT + len as u64 {
                assert_eq!(out.trap, Trap::Ecall, "{}", ctx());
            }
            if let Some((rd, v)) = want.x {
                assert_eq!(
                    end.x[rd as usize],
                    if rd == 0 { 0 } else { v },
                    "x{rd}: {}",
                    ctx()
                );
            }
            if let Some((rd, v)) = want.f {
                assert_eq!(end.f[rd as usize], v, "f{rd}: {}", ctx());
            }
            assert_eq!(Some(end.fflags), want.fflags, "fflags: {}", ctx());
            assert_eq!(end.frm, want.frm.unwrap_or(cpu.frm), "frm: {}", ctx());
            if let Some(res) = want.reservation {
                assert_eq!(end.reservation, res, "{}", ctx());
            }
            let mut expect_data = data.clone();
            if let Some((a, bytes)) = &want.store {
                let o = (a - DATA) as usize;
                expect_data[o..o + bytes.len()].copy_from_slice(bytes);
            }
            assert!(expect_data == end_data, "memory: {}", ctx());
            *checked.entry(inst.mnemonic()).or_default() += 1;
        }
    }
    // Every operation the translator emits inline was checked, several
    // times (and so was nearly everything else).
    for f in ALL {
        if f.lower != Lower::Step {
            let n = checked.get(f.mnemonic).copied().unwrap_or(0);
            assert!(n >= 4, "{}: checked {n} times", f.mnemonic);
        }
    }
    assert!(checked.len() > 140, "{}", checked.len());
    checked
}
