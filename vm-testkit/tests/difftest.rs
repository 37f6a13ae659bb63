//! The differential test as run in CI: random valid RV64GC programs from
//! fixed seeds (thousands of cases), and random byte strings through the
//! fuzz entry point, under the interpreter and the translator, which must
//! agree on the trap, every register, `instret`, `fflags`, the LR/SC
//! reservation and the data memory. The generator and the comparison live
//! in [`vm_testkit::difftest`]; the unbounded version is the `cargo fuzz`
//! target in `fuzz/`.

use vm_core::cpu::Trap;
use vm_core::decode::{Inst, decode};
use vm_testkit::difftest::{Case, Harness, Rng, Source, fuzz_one, run_hot_seeds, run_seeds, rv};

/// Run `cases` seeded cases; returns how many ended in an `ecall` and in
/// a memory fault.
fn differential(fp: bool, cases: u64) -> (u64, u64) {
    let mut h = Harness::new();
    let t = run_seeds(&mut h, fp, cases)
        .unwrap_or_else(|(seed, m)| panic!("seed {seed} (fp: {fp}): {m}"));
    // The small code cache filled up, direct exits were chained, and
    // indirect jumps went through the lookup table.
    assert!(h.jit_stat("jit_cache_flushes") > Some(0));
    assert!(h.jit_stat("jit_chained_exits") > Some(0));
    assert!(h.jit_stat("jit_indirect_hits") > Some(0));
    (t.ecalls, t.faults)
}

#[test]
fn random_programs_agree_with_the_interpreter() {
    let cases = if cfg!(debug_assertions) { 10000 } else { 20000 };
    let (ecalls, faults) = differential(false, cases);
    // Both outcomes are well represented.
    assert!(
        ecalls > cases / 4 && faults > cases / 10,
        "{ecalls} {faults}"
    );
}

#[test]
fn random_fp_programs_agree_with_the_interpreter() {
    let cases = if cfg!(debug_assertions) { 5000 } else { 20000 };
    let (ecalls, faults) = differential(true, cases);
    assert!(
        ecalls > cases / 5 && faults > cases / 10,
        "{ecalls} {faults}"
    );
}

/// Long-running loops with a big cache: first-tier blocks get hot and
/// regions (several blocks, cached registers across them, internal back
/// edges) take over mid-run; they must agree with the interpreter too.
#[test]
fn random_hot_loops_agree_with_the_interpreter() {
    let mut h = Harness::configured(4 << 20, 0);
    for fp in [false, true] {
        let cases = if cfg!(debug_assertions) { 600 } else { 3000 };
        let t = run_hot_seeds(&mut h, fp, cases)
            .unwrap_or_else(|(seed, m)| panic!("hot seed {seed} (fp: {fp}): {m}"));
        assert!(t.ecalls > cases / 5, "{t:?}");
    }
    assert!(h.jit_stat("jit_regions_promoted") > Some(100));
}

/// Staged emulation: each block is interpreted by the dispatcher a few
/// times before it is translated, so runs mix interpreted blocks, first
/// tier blocks and regions, on a cache that also gets flushed.
#[test]
fn random_staged_programs_agree_with_the_interpreter() {
    let mut h = Harness::configured(4 << 20, 3);
    for fp in [false, true] {
        let cases = if cfg!(debug_assertions) { 300 } else { 1500 };
        run_hot_seeds(&mut h, fp, cases)
            .unwrap_or_else(|(seed, m)| panic!("staged hot seed {seed} (fp: {fp}): {m}"));
    }
    // Cold counts are per pc and survive invalidation, and every case's
    // code sits at the same addresses: the count saturates near
    // cold_runs x the distinct block starts (about 900 in a debug run's
    // 600 cases, 1260 in release's 3000), so the bound asks that the cold
    // path ran for hundreds of blocks, not for every case.
    assert!(h.jit_stat("jit_cold_blocks_interpreted") > Some(500));
    assert!(h.jit_stat("jit_translations") > Some(1000));
    let mut h = Harness::new();
    h.set_cold_runs(2);
    for fp in [false, true] {
        let cases = if cfg!(debug_assertions) { 1000 } else { 5000 };
        run_seeds(&mut h, fp, cases)
            .unwrap_or_else(|(seed, m)| panic!("staged seed {seed} (fp: {fp}): {m}"));
    }
}

/// The fuzz target's entry point on random inputs of random length (what
/// `cargo fuzz run difftest` does without bound, on nightly), so the
/// path from bytes to programs is exercised on stable too.
#[test]
fn random_fuzz_inputs_agree_with_the_interpreter() {
    let cases = if cfg!(debug_assertions) { 3000 } else { 10000 };
    let mut h = Harness::new();
    let mut r = Rng::seeded(0xf022);
    let mut ecalls = 0;
    for k in 0..cases {
        let len = r.below(600) as usize;
        let input: std::vec::Vec<u8> = (0..len).map(|_| r.next() as u8).collect();
        match fuzz_one(&mut h, &input) {
            Ok(o) => ecalls += (o.trap == Trap::Ecall) as u64,
            Err(m) => panic!("input {k} {input:02x?}: {m}"),
        }
    }
    assert!(ecalls > cases / 5, "{ecalls}");
    // Empty and tiny inputs make programs too.
    for input in [&[][..], &[0], &[0xff; 3]] {
        fuzz_one(&mut h, input).unwrap_or_else(|m| panic!("{input:?}: {m}"));
    }
}

/// Decode a case's code into its instructions and lengths.
fn insts(case: &Case) -> std::vec::Vec<(Inst, u8)> {
    let mut v = std::vec::Vec::new();
    let mut off = 0;
    while off < case.code.len() {
        let mut b = [0u8; 4];
        let n = (case.code.len() - off).min(4);
        b[..n].copy_from_slice(&case.code[off..off + n]);
        let (inst, len) = decode(u32::from_le_bytes(b));
        v.push((inst, len));
        off += len as usize;
    }
    v
}

/// The generator makes what the test claims to cover: valid instructions
/// but for a few raw words (the illegal-instruction trap is compared too),
/// and among them LR/SC of both widths, AMOs, compressed instructions,
/// indirect jumps and self-modifying stores.
#[test]
fn generated_programs_cover_what_they_should() {
    let mut count = std::collections::HashMap::<&str, u64>::new();
    let mut total = 0;
    for seed in 0..500 {
        let case = Case::generate(&mut Rng::seeded(seed), seed % 2 == 0);
        for (inst, len) in insts(&case) {
            total += 1;
            let key = match inst {
                Inst::Illegal(_) => "illegal",
                Inst::LrW(_) => "lr.w",
                Inst::LrD(_) => "lr.d",
                Inst::ScW(_) => "sc.w",
                Inst::ScD(_) => "sc.d",
                Inst::AmoaddW(_) | Inst::AmoswapD(_) | Inst::AmomaxuD(_) => "amo",
                Inst::Jalr(_) => "jalr",
                // the self-modifying store, through x27 into the code
                Inst::Sw(vm_core::decode::S { rs1: 27, .. }) => "smc",
                _ if len == 2 => "compressed",
                _ => continue,
            };
            *count.entry(key).or_default() += 1;
        }
    }
    for key in [
        "lr.w",
        "lr.d",
        "sc.w",
        "sc.d",
        "amo",
        "jalr",
        "compressed",
        "smc",
    ] {
        assert!(
            count.get(key).copied().unwrap_or(0) > 50,
            "{key}: {count:?}"
        );
    }
    let illegal = count.get("illegal").copied().unwrap_or(0);
    assert!(illegal > 0 && illegal < total / 200, "{illegal} of {total}");
}

/// The compressed encoders produce what the decoder expands them to.
#[test]
fn compressed_encoders_match_the_decoder() {
    use rv::c;
    use vm_core::decode::{I, R, S};
    let dec = |h: u16| {
        let (inst, len) = decode(h as u32);
        assert_eq!(len, 2);
        inst
    };
    let i = |rd, rs1, imm| I { rd, rs1, imm };
    for rd in 1..32u8 {
        for imm in [-32, -1, 1, 5, 31] {
            assert_eq!(dec(c::addi(rd, imm)), Inst::Addi(i(rd, rd, imm)));
            assert_eq!(dec(c::addiw(rd, imm)), Inst::Addiw(i(rd, rd, imm)));
            assert_eq!(dec(c::li(rd, imm)), Inst::Addi(i(rd, 0, imm)));
            if rd != 2 {
                let want = vm_core::decode::U { rd, imm: imm << 12 };
                assert_eq!(dec(c::lui(rd, imm)), Inst::Lui(want));
            }
        }
        for sh in [1, 31, 32, 63] {
            assert_eq!(dec(c::slli(rd, sh)), Inst::Slli(i(rd, rd, sh as i32)));
        }
        for rs2 in 1..32u8 {
            let r = R { rd, rs1: 0, rs2 };
            assert_eq!(dec(c::mv_add(false, rd, rs2)), Inst::Add(r));
            let r = R { rd, rs1: rd, rs2 };
            assert_eq!(dec(c::mv_add(true, rd, rs2)), Inst::Add(r));
        }
        for off in [0, 8, 56, 64, 248, 256, 504] {
            let sp = |rd, imm| I { rd, rs1: 2, imm };
            assert_eq!(dec(c::load_sp(true, rd, off)), Inst::Ld(sp(rd, off as i32)));
            let s = S {
                rs1: 2,
                rs2: rd,
                imm: off as i32,
            };
            assert_eq!(dec(c::store_sp(true, rd, off)), Inst::Sd(s));
            if off < 256 {
                assert_eq!(
                    dec(c::load_sp(false, rd, off)),
                    Inst::Lw(sp(rd, off as i32))
                );
                assert_eq!(dec(c::store_sp(false, rd, off)), Inst::Sw(s));
            }
        }
        for off in [4, 12, 60, 124, 128, 252] {
            let sp = |rd, imm| I { rd, rs1: 2, imm };
            assert_eq!(
                dec(c::load_sp(false, rd, off)),
                Inst::Lw(sp(rd, off as i32))
            );
        }
    }
    for rd in 8..16u8 {
        for sh in [1, 7, 32, 63] {
            let v = i(rd, rd, sh);
            assert_eq!(dec(c::alu_imm(0, rd, sh as u32)), Inst::Srli(v));
            assert_eq!(dec(c::alu_imm(1, rd, sh as u32)), Inst::Srai(v));
        }
        for imm in [0u32, 1, 31, 32, 63] {
            let v = i(rd, rd, (imm as i32) << 26 >> 26);
            assert_eq!(dec(c::alu_imm(2, rd, imm)), Inst::Andi(v));
        }
        for rs2 in 8..16u8 {
            let r = R { rd, rs1: rd, rs2 };
            assert_eq!(dec(c::alu(false, 0, rd, rs2)), Inst::Sub(r));
            assert_eq!(dec(c::alu(false, 1, rd, rs2)), Inst::Xor(r));
            assert_eq!(dec(c::alu(false, 2, rd, rs2)), Inst::Or(r));
            assert_eq!(dec(c::alu(false, 3, rd, rs2)), Inst::And(r));
            assert_eq!(dec(c::alu(true, 0, rd, rs2)), Inst::Subw(r));
            assert_eq!(dec(c::alu(true, 1, rd, rs2)), Inst::Addw(r));
            for off in [0u32, 8, 56, 64, 128, 248] {
                let ld = I {
                    rd,
                    rs1: rs2,
                    imm: off as i32,
                };
                let sd = S {
                    rs1: rs2,
                    rs2: rd,
                    imm: off as i32,
                };
                assert_eq!(dec(c::mem(3, rd, rs2, off)), Inst::Ld(ld));
                assert_eq!(dec(c::mem(7, rd, rs2, off)), Inst::Sd(sd));
                assert_eq!(dec(c::mem(1, rd, rs2, off)), Inst::Fld(ld));
                assert_eq!(dec(c::mem(5, rd, rs2, off)), Inst::Fsd(sd));
            }
            for off in [0u32, 4, 8, 60, 64, 124] {
                let ld = I {
                    rd,
                    rs1: rs2,
                    imm: off as i32,
                };
                let sd = S {
                    rs1: rs2,
                    rs2: rd,
                    imm: off as i32,
                };
                assert_eq!(dec(c::mem(2, rd, rs2, off)), Inst::Lw(ld));
                assert_eq!(dec(c::mem(6, rd, rs2, off)), Inst::Sw(sd));
            }
        }
        for off in [-256, -2, 2, 30, 64, 254] {
            let s = S {
                rs1: rd,
                rs2: 0,
                imm: off,
            };
            assert_eq!(dec(c::bz(false, rd, off)), Inst::Beq(s));
            assert_eq!(dec(c::bz(true, rd, off)), Inst::Bne(s));
        }
    }
    for off in [-2048, -2, 2, 6, 32, 254, 1024, 2046] {
        let u = vm_core::decode::U { rd: 0, imm: off };
        assert_eq!(dec(c::j(off)), Inst::Jal(u));
    }
}

/// The FIFO code cache manager against the interpreter: one program much
/// bigger than the smallest cache (2048 blocks run once each and 256 hot
/// blocks, 16 at a time, all dispatched by indirect jumps from one hub
/// that every block jumps back to), so units are evicted while younger
/// hot blocks are chained into them: the end states must agree.
#[test]
fn fifo_evictions_agree_with_the_interpreter() {
    let (n, hot) = (2048i32, 256i32);
    let andi = |rd, rs1, imm| rv::i(0x13, 7, rd, rs1, imm);
    let slli = |rd, rs1, sh| rv::i(0x13, 1, rd, rs1, sh);
    let srli = |rd, rs1, sh| rv::i(0x13, 5, rd, rs1, sh);
    let add = |rd, rs1, rs2| rv::r(0x33, 0, 0, rd, rs1, rs2);
    let jalr = |rd, rs1, imm| rv::i(0x67, 0, rd, rs1, imm);
    // Words: 0..=10 set-up, 11..=28 hub, then the hot and run-once blocks
    // (4 words each), then the ecall.
    let (hub, blocks) = (11i32, 29i32);
    let done = blocks + 4 * (hot + n);
    let mut code = vec![
        rv::lui(9, 4),                    // 0: s1 = 16384 visits of the hub
        rv::auipc(31, 0),                 // 1: t6 = CODE + 4
        rv::addi(31, 31, 4 * blocks - 4), // 2: t6 = the hot blocks
        rv::addi(5, 31, 2047),            // 3
        rv::addi(5, 5, 2047),             // 4
        rv::addi(5, 5, 2),                // 5: t0 = the run-once blocks
        rv::lui(28, 8),                   // 6
        rv::addi(28, 28, -16),            // 7: t3 = mask of their offset
        rv::addi(6, 0, 0),                // 8: t1 = 0
        rv::addi(10, 0, 0),               // 9
        rv::addi(11, 0, 0),               // 10
        rv::addi(9, 9, -1),               // 11: hub
        rv::b(1, 9, 0, 8),                // 12: bne s1, x0, 20
        rv::jal(0, 4 * (done - 13)),      // 13
        andi(29, 9, 1),                   // 14
        rv::b(0, 29, 0, 4 * (25 - 15)),   // 15: beq t4, x0, 25
        srli(30, 9, 1),                   // 16
        andi(30, 30, 15),                 // 17
        srli(29, 9, 9),                   // 18
        andi(29, 29, 15),                 // 19
        slli(29, 29, 4),                  // 20
        add(30, 30, 29),                  // 21
        slli(30, 30, 4),                  // 22
        add(7, 31, 30),                   // 23
        jalr(0, 7, 0),                    // 24: a hot block
        add(7, 5, 6),                     // 25
        rv::addi(6, 6, 16),               // 26
        rv::r(0x33, 7, 0, 6, 6, 28),      // 27: and t1, t1, t3
        jalr(0, 7, 0),                    // 28: the next run-once block
    ];
    assert_eq!(code.len() as i32, blocks);
    for k in 0..hot + n {
        let at = blocks + 4 * k;
        code.push(rv::addi(10, 10, 1 + k % 1000));
        code.push(add(11, 11, 10));
        code.push(rv::r(0x33, 4, 0, 12, 12, 11)); // xor a2, a2, a1
        code.push(rv::jal(0, 4 * (hub - (at + 3))));
    }
    code.push(rv::ECALL);
    let mut h = Harness::new();
    let case = Case::program(&code, Vec::new(), vm_core::cpu::Cpu::default());
    h.run_to_ecall(&case, "hub and blocks");
    assert!(h.jit_stat("jit_cache_evictions") > Some(4));
    assert!(h.jit_stat("jit_chains_unlinked") > Some(0));
}

/// Closes `words` (which start by setting the pass count in x29) into a
/// loop counted down in x29, and runs it once under `h` from `regs` holding
/// edge values (0, all ones, the most negative, a sign-extended word, a
/// 32-bit, a small or any value).
fn run_counted_loop(h: &mut Harness, r: &mut Rng, mut words: Vec<u32>, regs: &[u8], cache: usize) {
    use vm_core::cpu::Cpu;
    words.push(rv::addi(29, 29, -1));
    let back = -4 * (words.len() as i32 - 1);
    words.push(rv::b(1, 29, 0, back));
    words.push(rv::ECALL);
    let mut cpu = Cpu::default();
    for &x in regs {
        cpu.x[x as usize] = match r.below(8) {
            0 => 0,
            1 => u64::MAX,
            2 => i64::MIN as u64,
            3 => 0xffff_ffff_8000_0000,
            4 => r.below(1 << 32),
            5 => r.below(16),
            _ => r.next(),
        };
    }
    let case = Case::program(&words, vec![0; vm_testkit::difftest::DATA_LEN], cpu);
    h.run_to_ecall(&case, format_args!("cache {cache}"));
}

/// Quotient and remainder of the same operands a few instructions apart,
/// which the translator computes with one x86 division (`codegen`'s
/// `div_partner`): every signedness and width, either order, operands of
/// the corner cases (0, -1, MIN, ...), and instructions between that
/// sometimes overwrite an operand or the first result (then it must not
/// fuse), in loops long enough to become regions.
#[test]
fn division_pairs_agree_with_the_interpreter() {
    let mut r = Rng::seeded(0xd1f);
    // Few registers, so the instructions between often touch an operand.
    const REGS: [u8; 5] = [5, 6, 7, 10, 11];
    let pick = |r: &mut Rng| REGS[r.below(REGS.len() as u64) as usize];
    for cache in [64 << 10, 4 << 20] {
        let mut h = Harness::configured(cache, 0);
        for _ in 0..300 {
            let mut words = vec![rv::addi(29, 0, 70)];
            for _ in 0..1 + r.below(4) {
                // funct3: div 4, divu 5, rem 6, remu 7; OP (0x33) or OP-32 (0x3b).
                let f3 = 4 + r.below(4) as u32;
                let op = if r.chance(50) { 0x33 } else { 0x3b };
                let partner = f3 ^ 2;
                let (a, b) = (pick(&mut r), pick(&mut r));
                let rd = if r.chance(10) { 0 } else { pick(&mut r) };
                words.push(rv::r(op, f3, 1, rd, a, b));
                for _ in 0..r.below(4) {
                    words.push(match r.below(3) {
                        0 => rv::addi(pick(&mut r), pick(&mut r), r.below(7) as i32 - 3),
                        1 => rv::r(0x33, 0, 0, pick(&mut r), pick(&mut r), pick(&mut r)),
                        _ => rv::r(0x33, 0, 1, pick(&mut r), pick(&mut r), pick(&mut r)),
                    });
                }
                let prd = if r.chance(10) { 0 } else { pick(&mut r) };
                words.push(rv::r(op, partner, 1, prd, a, b));
                // Mix the results so the next pass divides other values.
                words.push(rv::r(0x33, 4, 0, pick(&mut r), pick(&mut r), pick(&mut r)));
            }
            run_counted_loop(&mut h, &mut r, words, &REGS, cache);
        }
    }
}

/// A tiny two-pass assembler for the call tests: words, and jumps and
/// branches to labels.
enum Op {
    W(u32),
    /// `jal rd, label`
    Jal(u8, usize),
    /// `bne`/`beq` (funct3) `rs1, rs2, label`
    B(u32, u8, u8, usize),
    /// Defines the label.
    L(usize),
    /// `auipc rd, 0; addi rd, rd, label - pc`: the label's address.
    La(u8, usize),
}

fn assemble(ops: &[Op]) -> std::vec::Vec<u8> {
    let mut at = std::collections::HashMap::new();
    let mut pc = 0i32;
    for op in ops {
        match op {
            Op::L(l) => {
                at.insert(*l, pc);
            }
            Op::La(..) => pc += 8,
            _ => pc += 4,
        }
    }
    let mut out = std::vec::Vec::new();
    let mut pc = 0i32;
    for op in ops {
        let w = match *op {
            Op::L(_) => continue,
            Op::W(w) => w,
            Op::Jal(rd, l) => rv::jal(rd, at[&l] - pc),
            Op::B(f3, a, b, l) => rv::b(f3, a, b, at[&l] - pc),
            Op::La(rd, l) => {
                out.extend_from_slice(&rv::auipc(rd, 0).to_le_bytes());
                pc += 4;
                rv::addi(rd, rd, at[&l] - (pc - 4))
            }
        };
        out.extend_from_slice(&w.to_le_bytes());
        pc += 4;
    }
    out
}

/// Call- and return-heavy programs, which the translator traces through
/// (small leaf callees and a region's own recursion become host jumps
/// inside the region, and returns compare their target with the region's
/// return points): leaf calls, recursion deeper than any return-address
/// stack, a callee that returns past the instruction after its call, and
/// a `longjmp` from the bottom of the recursion straight back to the
/// caller. Under the 64 KiB cache (blocks, flushes), the 4 MiB one
/// (regions) and staged emulation (regions along the paths the
/// interpreter saw).
#[test]
fn call_heavy_programs_agree_with_the_interpreter() {
    use vm_core::cpu::Cpu;
    use vm_testkit::difftest::{DATA, DATA_LEN};
    const RA: u8 = 1;
    const SP: u8 = 2;
    let ret = || Op::W(rv::i(0x67, 0, 0, RA, 0));
    let mut r = Rng::seeded(0xca11);
    let alu = |r: &mut Rng| {
        let (rd, a, b) = (
            5 + r.below(3) as u8,
            5 + r.below(3) as u8,
            5 + r.below(3) as u8,
        );
        match r.below(3) {
            0 => rv::addi(rd, a, r.below(64) as i32 - 32),
            1 => rv::r(0x33, 4, 0, rd, a, b),
            _ => rv::r(0x33, 0, 1, rd, a, b),
        }
    };
    for (cache, cold) in [(64 << 10, 0), (4 << 20, 0), (4 << 20, 3)] {
        let mut h = Harness::configured(cache, cold);
        for _ in 0..60 {
            let (main, leaf1, leaf2, rec, base, plain, skip, lp) = (0, 1, 2, 3, 4, 5, 6, 7);
            let depth = r.below(48) as i32;
            let mut ops = vec![Op::L(main), Op::W(rv::addi(29, 0, 40 + r.below(40) as i32))];
            ops.push(Op::L(lp));
            for _ in 0..1 + r.below(6) {
                match r.below(5) {
                    0 | 1 => ops.push(Op::Jal(RA, if r.chance(50) { leaf1 } else { leaf2 })),
                    2 => {
                        // Recursion `depth` deep; on odd iterations (when
                        // chosen) the bottom longjmps back here.
                        ops.push(Op::W(rv::addi(10, 0, depth)));
                        ops.push(Op::W(if r.chance(50) {
                            rv::i(0x13, 7, 11, 29, 1)
                        } else {
                            rv::addi(11, 0, 0)
                        }));
                        ops.push(Op::W(rv::addi(12, SP, 0)));
                        ops.push(Op::W(rv::auipc(13, 0)));
                        ops.push(Op::W(rv::addi(13, 13, 12)));
                        ops.push(Op::Jal(RA, rec));
                    }
                    3 => {
                        // Returns one instruction past its return point.
                        ops.push(Op::Jal(RA, skip));
                        ops.push(Op::W(rv::addi(6, 6, 1000)));
                    }
                    _ => ops.push(Op::W(alu(&mut r))),
                }
            }
            ops.push(Op::W(rv::addi(29, 29, -1)));
            ops.push(Op::B(1, 29, 0, lp));
            ops.push(Op::W(rv::ECALL));
            for leaf in [leaf1, leaf2] {
                ops.push(Op::L(leaf));
                for _ in 0..1 + r.below(5) {
                    ops.push(Op::W(alu(&mut r)));
                }
                ops.push(ret());
            }
            ops.extend([
                Op::L(rec),
                Op::B(0, 10, 0, base),
                Op::W(rv::addi(SP, SP, -16)),
                Op::W(rv::s(0x23, 3, SP, RA, 8)),
                Op::W(rv::addi(10, 10, -1)),
                Op::Jal(RA, rec),
                Op::W(rv::i(0x03, 3, RA, SP, 8)),
                Op::W(rv::addi(SP, SP, 16)),
                Op::W(alu(&mut r)),
                ret(),
                Op::L(base),
                Op::B(0, 11, 0, plain),
                Op::W(rv::addi(SP, 12, 0)),
                Op::W(rv::addi(RA, 13, 0)),
                Op::L(plain),
                ret(),
                Op::L(skip),
                Op::W(alu(&mut r)),
                Op::W(rv::addi(RA, RA, 4)),
                ret(),
            ]);
            let mut cpu = Cpu::default();
            for x in 5..8 {
                cpu.x[x] = r.next();
            }
            cpu.x[SP as usize] = DATA + DATA_LEN as u64 - 8;
            let case = Case::assembled(assemble(&ops), vec![0; DATA_LEN], cpu);
            h.run_to_ecall(&case, format_args!("cache {cache}, cold {cold}"));
        }
    }
}

/// The address-space edge cases (`vm_testkit::edges`) on the test host,
/// where every translated access checks its page in software.
#[test]
fn edge_accesses_agree() {
    let mut h = Harness::with_cache(vm_testkit::testhost::TestHost::leak(), 4 << 20);
    let faults = vm_testkit::edges::check_edges(&mut h)
        .unwrap_or_else(|m| panic!("{m}\n{}", m.case.listing()));
    assert!(faults > 300, "{faults}");
}

/// Unsigned divisions by divisors that repeat, which the translator
/// divides with a multiply by a cached reciprocal once it has seen the
/// divisor twice at a site (`codegen`'s `divcache`): every unsigned
/// division and remainder, both widths, divisors from the corners (1,
/// powers of two and their neighbours, above 2^63, all ones, a 32-bit
/// low word of 0 or 3 under high garbage) and at random, dividends that
/// change every pass, divisors that sometimes change too, and quotient
/// and remainder pairs, in loops long enough to become regions.
#[test]
fn repeated_divisors_agree_with_the_interpreter() {
    use vm_core::cpu::Cpu;
    let mut r = Rng::seeded(0xd1c);
    const DIVISORS: [u8; 3] = [5, 6, 7];
    const DIVIDENDS: [u8; 3] = [10, 11, 13];
    const RESULTS: [u8; 4] = [14, 15, 16, 17];
    let corner = |r: &mut Rng| -> u64 {
        match r.below(14) {
            0 => 1,
            1 => 2 + r.below(12),
            2 => 1 << r.below(64),
            3 => (1u64 << r.below(64)).wrapping_add(1),
            4 => (1u64 << r.below(64)).wrapping_sub(1),
            5 => u64::MAX - r.below(3),
            6 => (1 << 63) + r.below(3),
            7 => 0xffff_ffff_0000_0003,
            8 => 0x1_0000_0000,
            9 => r.below(1 << 32),
            10 => r.next() >> r.below(64),
            _ => r.next(),
        }
    };
    for cache in [64 << 10, 4 << 20] {
        let mut h = Harness::configured(cache, 0);
        for _ in 0..150 {
            let mut words = vec![rv::addi(29, 0, 200)];
            let head = words.len();
            for _ in 0..1 + r.below(5) {
                // funct3: divu 5, remu 7; OP (0x33) or OP-32 (0x3b).
                let f3 = if r.chance(50) { 5 } else { 7 };
                let op = if r.chance(50) { 0x33 } else { 0x3b };
                let a = DIVIDENDS[r.below(3) as usize];
                let b = DIVISORS[r.below(3) as usize];
                let rd = RESULTS[r.below(4) as usize];
                words.push(rv::r(op, f3, 1, rd, a, b));
                if r.chance(30) {
                    // Its partner (one `div`, or one reciprocal, for both).
                    let prd = RESULTS[r.below(4) as usize];
                    words.push(rv::r(op, f3 ^ 2, 1, prd, a, b));
                }
                // Fold the results into x18.
                words.push(rv::r(0x33, 4, 0, 18, 18, rd));
            }
            // New dividends each pass: x10 = x10 * x12 + 1, x11 += x18,
            // x13 = x13 >> 1 | x13 << 63 (a rotate through x19).
            words.push(rv::r(0x33, 0, 1, 10, 10, 12));
            words.push(rv::addi(10, 10, 1));
            words.push(rv::r(0x33, 0, 0, 11, 11, 18));
            words.push(rv::i(0x13, 5, 19, 13, 1));
            words.push(rv::i(0x13, 1, 13, 13, 63));
            words.push(rv::r(0x33, 6, 0, 13, 13, 19));
            if r.chance(20) {
                // A divisor that changes every pass.
                words.push(rv::addi(7, 7, 1));
            }
            if r.chance(20) {
                // One that alternates between two values.
                words.push(rv::i(0x13, 4, 6, 6, 1));
            }
            words.push(rv::addi(29, 29, -1));
            let back = -4 * (words.len() - head) as i32;
            words.push(rv::b(1, 29, 0, back));
            words.push(rv::ECALL);
            let mut cpu = Cpu::default();
            for &x in &DIVISORS {
                cpu.x[x as usize] = corner(&mut r);
            }
            for &x in &DIVIDENDS {
                cpu.x[x as usize] = corner(&mut r);
            }
            cpu.x[12] = r.next() | 1;
            let case = Case::program(&words, vec![0; vm_testkit::difftest::DATA_LEN], cpu);
            h.run_to_ecall(&case, format_args!("cache {cache}"));
        }
    }
}

/// The low and high halves of the same product a few instructions apart
/// (`mul` with `mulh`, `mulhu` or `mulhsu`), which the translator computes
/// with one x86 multiply when nothing between names the second's
/// destination (`codegen`'s `pair`): either order, operands swapped or
/// not, corner operands, and instructions between that sometimes
/// overwrite an operand, the first result or the second's destination
/// (then it must not fuse), in loops long enough to become regions.
#[test]
fn product_pairs_agree_with_the_interpreter() {
    let mut r = Rng::seeded(0x3a1);
    const REGS: [u8; 5] = [5, 6, 7, 10, 11];
    let pick = |r: &mut Rng| REGS[r.below(REGS.len() as u64) as usize];
    for cache in [64 << 10, 4 << 20] {
        let mut h = Harness::configured(cache, 0);
        for _ in 0..300 {
            let mut words = vec![rv::addi(29, 0, 70)];
            for _ in 0..1 + r.below(4) {
                // funct3 of OP with funct7 1: mul 0, mulh 1, mulhsu 2, mulhu 3.
                let high = 1 + r.below(3) as u32;
                let (f1, f2) = if r.chance(50) { (0, high) } else { (high, 0) };
                let (a, b) = (pick(&mut r), pick(&mut r));
                let rd = if r.chance(10) { 0 } else { pick(&mut r) };
                words.push(rv::r(0x33, f1, 1, rd, a, b));
                for _ in 0..r.below(4) {
                    words.push(match r.below(3) {
                        0 => rv::addi(pick(&mut r), pick(&mut r), r.below(7) as i32 - 3),
                        1 => rv::r(0x33, 4, 0, pick(&mut r), pick(&mut r), pick(&mut r)),
                        _ => rv::r(0x33, 0, 32, pick(&mut r), pick(&mut r), pick(&mut r)),
                    });
                }
                let (a2, b2) = if r.chance(50) { (a, b) } else { (b, a) };
                let prd = if r.chance(10) { 0 } else { pick(&mut r) };
                words.push(rv::r(0x33, f2, 1, prd, a2, b2));
                // Mix the results so the next pass multiplies other values.
                words.push(rv::r(0x33, 0, 0, pick(&mut r), pick(&mut r), pick(&mut r)));
            }
            run_counted_loop(&mut h, &mut r, words, &REGS, cache);
        }
    }
}

/// Calls and returns between regions, which the translator makes host
/// `call`s and `ret`s through return frames on the host stack
/// (`codegen/ras.rs`): mutual recursion deeper than the frames it keeps
/// (`RAS_DEPTH`, 128), returning normally or by a `longjmp` from the
/// bottom; a callee (not a leaf) returning one instruction past its
/// return point; calls through a function pointer (`jalr ra`, which push
/// no frame: their returns must miss the caller's) and with the other
/// link register (`jal t0` ... `jalr x0, 0(t0)`); and a callee
/// that rewrites the instruction at its own return point and runs
/// `fence.i` (the cache is flushed between the call and its return), so
/// a frame surviving the flush would run the old instruction.
#[test]
fn return_stack_agrees_with_the_interpreter() {
    use vm_core::cpu::Cpu;
    use vm_testkit::difftest::{DATA, DATA_LEN};
    const RA: u8 = 1;
    const SP: u8 = 2;
    const T0: u8 = 5;
    let jalr = |rd: u8, rs1: u8, imm: i32| Op::W(rv::i(0x67, 0, rd, rs1, imm));
    let ret = || jalr(0, RA, 0);
    let sd = |rs2: u8, off: i32| Op::W(rv::s(0x23, 3, SP, rs2, off));
    let ld = |rd: u8, off: i32| Op::W(rv::i(0x03, 3, rd, SP, off));
    let mut r = Rng::seeded(0x4a5);
    let alu = |r: &mut Rng| {
        let (rd, a, b) = (
            6 + r.below(2) as u8,
            6 + r.below(2) as u8,
            6 + r.below(2) as u8,
        );
        Op::W(match r.below(3) {
            0 => rv::addi(rd, a, r.below(64) as i32 - 32),
            1 => rv::r(0x33, 4, 0, rd, a, b),
            _ => rv::r(0x33, 0, 1, rd, a, b),
        })
    };
    for (cache, cold) in [(64 << 10, 0), (4 << 20, 0), (4 << 20, 2)] {
        let mut h = Harness::configured(cache, cold);
        for _ in 0..12 {
            let (lp, fa, fb, base, plain, leaf, tleaf, skipper, smc) = (0, 1, 2, 3, 4, 5, 6, 7, 8);
            let mut ops = vec![Op::W(rv::addi(9, 0, 20 + r.below(30) as i32)), Op::L(lp)];
            let mut backs = 0;
            for _ in 0..2 + r.below(5) {
                match r.below(6) {
                    0 | 1 => {
                        // Mutual recursion `a1` deep (past the stack of
                        // frames or not); the bottom longjmps back here
                        // when a3 is set.
                        let depth = [3, 127, 128, 129, 300][r.below(5) as usize];
                        ops.push(Op::W(rv::addi(11, 0, depth)));
                        ops.push(Op::W(if r.chance(50) {
                            rv::i(0x13, 7, 13, 9, 1)
                        } else {
                            rv::addi(13, 0, 0)
                        }));
                        ops.push(Op::W(rv::addi(14, SP, 0)));
                        ops.push(Op::La(15, 100 + backs));
                        ops.push(Op::Jal(RA, fa));
                        ops.push(Op::L(100 + backs));
                        backs += 1;
                        ops.push(Op::W(rv::addi(10, 10, 3)));
                    }
                    2 => {
                        ops.push(Op::La(28, leaf));
                        ops.push(jalr(RA, 28, 0));
                        ops.push(alu(&mut r));
                    }
                    3 => {
                        ops.push(Op::Jal(T0, tleaf));
                        ops.push(alu(&mut r));
                    }
                    4 => {
                        // Returns one instruction past its return point.
                        ops.push(Op::Jal(RA, skipper));
                        ops.push(Op::W(rv::addi(6, 6, 1000)));
                        ops.push(alu(&mut r));
                    }
                    _ => {
                        // The callee rewrites the `addi` it returns to.
                        ops.push(Op::La(29, 100 + backs));
                        ops.push(Op::Jal(RA, smc));
                        ops.push(Op::L(100 + backs));
                        backs += 1;
                        ops.push(Op::W(rv::addi(10, 10, 0)));
                    }
                }
            }
            ops.push(Op::W(rv::addi(9, 9, -1)));
            ops.push(Op::B(1, 9, 0, lp));
            ops.push(Op::W(rv::ECALL));
            for (f, g) in [(fa, fb), (fb, fa)] {
                ops.extend([
                    Op::L(f),
                    Op::B(0, 11, 0, base),
                    Op::W(rv::addi(SP, SP, -8)),
                    sd(RA, 0),
                    Op::W(rv::addi(11, 11, -1)),
                    alu(&mut r),
                    Op::Jal(RA, g),
                    ld(RA, 0),
                    Op::W(rv::addi(SP, SP, 8)),
                    alu(&mut r),
                    ret(),
                ]);
            }
            ops.extend([
                Op::L(base),
                Op::B(0, 13, 0, plain),
                Op::W(rv::addi(SP, 14, 0)),
                Op::W(rv::addi(RA, 15, 0)),
                Op::L(plain),
                ret(),
                Op::L(leaf),
                alu(&mut r),
                ret(),
                Op::L(tleaf),
                alu(&mut r),
                jalr(0, T0, 0),
                // Not a leaf (it calls one), so not traced into callers.
                Op::L(skipper),
                Op::W(rv::addi(SP, SP, -8)),
                sd(RA, 0),
                Op::Jal(RA, leaf),
                ld(RA, 0),
                Op::W(rv::addi(SP, SP, 8)),
                Op::W(rv::addi(RA, RA, 4)),
                ret(),
                // Rewrite the word at t4 as `addi a0, a0, s1`.
                Op::L(smc),
                Op::W(rv::i(0x03, 2, 30, 18, 0)),
                Op::W(rv::i(0x13, 1, 31, 9, 20)),
                Op::W(rv::r(0x33, 6, 0, 30, 30, 31)),
                Op::W(rv::s(0x23, 2, 29, 30, 0)),
                Op::W(rv::FENCE_I),
                alu(&mut r),
                ret(),
            ]);
            let mut cpu = Cpu::default();
            for x in 6..8 {
                cpu.x[x] = r.next();
            }
            cpu.x[SP as usize] = DATA + DATA_LEN as u64 - 8;
            cpu.x[18] = DATA;
            let mut data = vec![0; DATA_LEN];
            data[..4].copy_from_slice(&rv::addi(10, 10, 0).to_le_bytes());
            let mut case = Case::assembled(assemble(&ops), data, cpu);
            case.code_writable = true;
            h.run_to_ecall(&case, format_args!("cache {cache}, cold {cold}"));
        }
    }
}
