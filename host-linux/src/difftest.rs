//! The engine differential test (`vm_testkit::difftest`) on the real Linux
//! host: here the translator accesses guest memory directly and guest
//! faults come back through the `SIGSEGV` handler in [`crate::fault`],
//! which must leave the same precise state as the interpreter. (The
//! fixed-seed copy of this test, `vm-testkit/tests/difftest.rs`, runs on
//! the heap-backed test host, where every access is checked in software.) The unbounded version is the fuzz
//! target in `fuzz/`, which runs each input on both hosts.

use crate::host::LinuxHost;
use vm_core::cpu::Trap;
use vm_core::host::HostOs;
use vm_testkit::difftest::{Harness, Rng, Source, fuzz_one, run_hot_seeds, run_seeds};

static HOST: LinuxHost = LinuxHost::new();

fn harness() -> Harness {
    let h = Harness::with_host(&HOST);
    // The translator's code cache is registered with the fault handler,
    // so it took the direct-access path.
    assert!(HOST.code_faults());
    h
}

/// Run `code` with `data` from `cpu` under both engines; a disagreement
/// fails the test, named by `what`, with the program's listing.
fn run_program(
    h: &mut Harness,
    code: &[u32],
    data: Vec<u8>,
    cpu: vm_core::cpu::Cpu,
    what: impl core::fmt::Display,
) -> vm_testkit::difftest::Outcome {
    let case = vm_testkit::difftest::Case::program(code, data, cpu);
    h.run(&case)
        .unwrap_or_else(|m| panic!("{what}: {m}\n{}", m.case.listing()))
}

/// Each operation against its semantic function ([`vm_testkit::ops`]),
/// with the translator's direct guest accesses.
#[test]
fn operations_match_their_semantics_with_host_faults() {
    vm_testkit::ops::check_every_operation(&mut harness(), 4);
}

#[test]
fn engines_agree_with_host_faults() {
    let mut h = harness();
    for (fp, cases) in [(false, 4000), (true, 2000)] {
        let t = run_seeds(&mut h, fp, cases)
            .unwrap_or_else(|(seed, m)| panic!("seed {seed} (fp: {fp}): {m}"));
        // Host faults were taken, and programs ran to their end too.
        assert!(t.faults > cases / 10 && t.ecalls > cases / 5, "{t:?}");
    }
    assert!(h.jit_stat("jit_cache_flushes") > Some(0));
}

#[test]
fn fuzz_inputs_agree_with_host_faults() {
    let mut h = harness();
    let mut r = Rng::seeded(0x11f0);
    let mut faults = 0;
    for k in 0..2000 {
        let len = r.below(600) as usize;
        let input: Vec<u8> = (0..len).map(|_| r.next() as u8).collect();
        match fuzz_one(&mut h, &input) {
            Ok(o) => faults += matches!(o.trap, Trap::MemFault(_)) as u32,
            Err(m) => panic!("input {k} {input:02x?}: {m}"),
        }
    }
    assert!(faults > 100, "{faults}");
}

/// Hot loops in a cache big enough for regions: promotion, cached
/// registers across blocks and host faults inside regions.
#[test]
fn hot_regions_agree_with_host_faults() {
    let mut h = Harness::with_cache(&HOST, 4 << 20);
    assert!(HOST.code_faults());
    for fp in [false, true] {
        let t = run_hot_seeds(&mut h, fp, 800)
            .unwrap_or_else(|(seed, m)| panic!("hot seed {seed} (fp: {fp}): {m}"));
        assert!(t.faults > 50 && t.ecalls > 100, "{t:?}");
    }
    assert!(h.jit_stat("jit_regions_promoted") > Some(100));
}

/// Accesses within +-2048 of both ends of the guest space through a base
/// an earlier access validated (`vm_testkit::edges`): the translator
/// leaves their bounds compare out, and the guard regions must turn each
/// one past an end into the interpreter's precise fault. In first-tier
/// blocks (smallest cache) and in regions.
#[test]
fn edge_accesses_agree_with_host_faults() {
    for cache in [vm_core::translate::MIN_CACHE_SIZE, 4 << 20] {
        let mut h = Harness::with_cache(&HOST, cache);
        assert!(HOST.code_faults());
        let faults = vm_testkit::edges::check_edges(&mut h)
            .unwrap_or_else(|m| panic!("cache {cache}: {m}\n{}", m.case.listing()));
        assert!(faults > 300, "{faults}");
    }
}

/// Side entries (`codegen::entries` in vm-core): a region made at `E`
/// holds, after the return point of a call into a callee that leaves the
/// region with a tail jump, a loop `B` (a loop head with a budget check,
/// an unsigned division by a repeated divisor, which takes the divisor
/// cache, and a load whose base is compared with the guest size), which
/// other code enters directly once the region exists. (The loop runs
/// once per pass at first, so that `B` is not hot before `E`, and longer
/// later.) Last, `B` is
/// entered with a wild base: just past the end of the guest space (into
/// the guard region), below 0, and far outside the reservation. Each
/// must be the interpreter's guest fault at that load, with the same
/// registers, not an access to host memory; and the runs before must
/// agree (the region stores back what the path from the side entry
/// wrote).
#[test]
fn side_entries_agree_with_host_faults() {
    use vm_core::cpu::{Cpu, Trap};
    use vm_core::rv;
    use vm_testkit::difftest::{CODE, Case, DATA};
    let mut h = Harness::with_cache(&HOST, 4 << 20);
    assert!(HOST.code_faults());
    h.set_cold_runs(2);
    let out = 0x2000i32;
    let mut code = vec![0x13u32; out as usize / 4 + 9];
    let mut put = |at: i32, w: u32| code[at as usize / 4] = w;
    put(0x00, rv::addi(10, 10, 1)); // E: a0 += 1
    put(0x04, rv::jal(1, 0x30 - 0x04)); // call CALLEE
    put(0x08, rv::r(0x33, 5, 1, 20, 21, 22)); // B: divu s4, s5, s6
    put(0x0c, rv::i(0x03, 3, 23, 24, 0)); // ld s7, 0(s8)
    put(0x10, rv::addi(26, 26, -1)); // s10 -= 1
    put(0x14, rv::b(1, 26, 0, -0x0c)); // bnez s10, B
    put(0x18, rv::addi(7, 7, 1)); // t2 += 1 (B's runs)
    put(0x1c, rv::i(0x13, 5, 26, 7, 3)); // s10 = t2 >> 3
    put(0x20, rv::addi(26, 26, 1)); // s10 += 1: the loop's next count
    put(0x24, rv::r(0x33, 0, 0, 27, 27, 20)); // s11 += s4
    put(0x28, rv::jal(1, 0x30 - 0x28)); // call CALLEE
    put(0x2c, rv::ECALL); // (never reached)
    put(0x30, rv::jal(0, out - 0x30)); // CALLEE: tail jump to OUT
    put(out, rv::i(0x13, 4, 5, 5, 1)); // OUT: t0 ^= 1
    put(out + 0x04, rv::b(1, 5, 0, 0x18)); // to B when t0 is 1
    put(out + 0x08, rv::addi(19, 19, -1)); // s3 -= 1
    put(out + 0x0c, rv::addi(21, 21, 7)); // s5 += 7
    put(out + 0x10, rv::b(1, 19, 0, 0x10)); // to E while s3 != 0
    put(out + 0x14, rv::addi(24, 6, 0)); // s8 = t1 (the wild base)
    // Indirect jumps end the dispatcher's cold runs (plain jumps do not),
    // so that `E` and `B` are reached there.
    put(out + 0x1c, rv::i(0x67, 0, 0, 28, 0)); // jr t3 (B)
    put(out + 0x20, rv::i(0x67, 0, 0, 29, 0)); // jr t4 (E)
    let size = h.space_size();
    for wild in [size, size + 2048, 0u64.wrapping_sub(8), 1 << 40, 1 << 63] {
        let mut cpu = Cpu::default();
        cpu.x[19] = 30;
        cpu.x[21] = 1000;
        cpu.x[22] = 3;
        cpu.x[24] = DATA;
        cpu.x[26] = 1;
        cpu.x[6] = wild;
        cpu.x[28] = CODE + 8;
        cpu.x[29] = CODE;
        let case = Case::program(&code, vec![0; 4096], cpu);
        let before = h.jit_stat("jit_side_entered");
        let o = h
            .run(&case)
            .unwrap_or_else(|m| panic!("base {wild:#x}: {m}\n{}", m.case.listing()));
        assert!(matches!(o.trap, Trap::MemFault(_)), "{wild:#x}: {o:?}");
        assert!(h.jit_stat("jit_side_entered") > before, "{wild:#x}: {o:?}");
    }
}

/// A block that starts with its predecessor's instruction count pending
/// (`codegen/pending.rs`: the branch before it leaves the region only on
/// a path never taken) runs in a loop, then is entered from outside at
/// its side entry with a wild base for its load: the fault's state,
/// `instret` included, must be the interpreter's.
#[test]
fn pending_counts_agree_at_side_entries_with_host_faults() {
    use vm_core::cpu::{Cpu, Trap};
    use vm_core::rv;
    use vm_testkit::difftest::{CODE, Case, DATA};
    let mut h = Harness::with_cache(&HOST, 4 << 20);
    h.set_cold_runs(2);
    let code = vec![
        rv::addi(10, 10, 1),       // 0x00 E: a0 += 1
        rv::b(4, 10, 0, 0x40),     // 0x04: blt a0, x0, 0x44 (never)
        rv::i(0x03, 3, 23, 24, 0), // 0x08 B: ld s7, 0(s8)
        rv::addi(26, 26, -1),      // 0x0c: s10 -= 1
        rv::b(1, 26, 0, -0x10),    // 0x10: bnez s10, E
        rv::addi(24, 6, 0),        // 0x14: s8 = t1 (the wild base)
        rv::i(0x67, 0, 0, 28, 0),  // 0x18: jr t3 (B)
        rv::ECALL,                 // 0x1c
        rv::ECALL,
        rv::ECALL,
        rv::ECALL,
        rv::ECALL,
        rv::ECALL,
        rv::ECALL,
        rv::ECALL,
        rv::ECALL,
        rv::ECALL, // 0x40
        rv::ECALL, // 0x44
    ];
    let size = h.space_size();
    for wild in [size, size + 2048, 0u64.wrapping_sub(8), 1 << 40] {
        let mut cpu = Cpu::default();
        cpu.x[24] = DATA;
        cpu.x[26] = 300;
        cpu.x[6] = wild;
        cpu.x[28] = CODE + 8;
        let case = Case::program(&code, vec![0; 4096], cpu);
        let o = h
            .run(&case)
            .unwrap_or_else(|m| panic!("base {wild:#x}: {m}\n{}", m.case.listing()));
        assert!(matches!(o.trap, Trap::MemFault(_)), "{wild:#x}: {o:?}");
    }
    assert!(h.jit_stat("jit_side_entered") > Some(0));
}

/// A loop over more code than the smallest code cache holds, run in a
/// cycle (the FIFO manager's worst case: each block is evicted just before
/// it is needed again): the manager backs off from translating lost
/// blocks again (`Profile::back_off`), interpreting them instead, and
/// every run must still leave the interpreter's state.
#[test]
fn thrashing_code_backs_off_and_agrees_with_host_faults() {
    use vm_core::cpu::{Cpu, Trap};
    use vm_core::rv;
    use vm_testkit::difftest::Case;
    const BLOCKS: i32 = 2500;
    const LOOPS: u64 = 30;
    let mut h = Harness::with_cache(&HOST, vm_core::translate::MIN_CACHE_SIZE);
    h.set_cold_runs(2);
    let mut code = Vec::new();
    for i in 0..BLOCKS {
        code.push(rv::addi(10, 10, i % 2000)); // a0 += i
        code.push(rv::r(0x33, 4, 0, 11, 11, 10)); // a1 ^= a0
        code.push(rv::jal(0, 4)); // to the next block
    }
    code.push(rv::addi(19, 19, -1)); // s3 -= 1
    code.push(rv::b(0, 19, 0, 8)); // out when s3 is 0
    code.push(rv::jal(0, -(BLOCKS * 12 + 8))); // loop
    code.push(rv::ECALL);
    let mut cpu = Cpu::default();
    cpu.x[19] = LOOPS;
    let case = Case::program(&code, vec![0; 64], cpu);
    let o = h.run(&case).unwrap_or_else(|m| panic!("{m}"));
    assert_eq!(o.trap, Trap::Ecall, "{o:?}");
    let stat = |n| h.jit_stat(n).unwrap_or(0);
    assert!(stat("jit_cache_evictions") > 0, "the code must not fit");
    assert!(stat("jit_backoff_runs") > 0);
    // Translated again at most about log2(LOOPS) times per block, where
    // without backing off nearly every block is translated on every loop.
    let per_block = stat("jit_retranslations") / BLOCKS as u64;
    assert!(per_block <= 6, "{per_block} retranslations per block");
}

/// The same cyclic loop with one block that now and then rewrites an
/// instruction of the block after it (with `fence.i`: the interpreter,
/// this test's reference, sees code writes only there): the blocks run
/// translated, from decoded copies while the manager backs off from them
/// (see `translate::cold`), or fetched cold, and every time the new
/// instruction must run.
#[test]
fn thrashing_code_that_modifies_itself_agrees_with_host_faults() {
    use vm_core::cpu::{Cpu, Trap};
    use vm_core::rv;
    use vm_testkit::difftest::{CODE, Case};
    const BLOCKS: i32 = 2500;
    const SMC_BLOCK: i32 = 1234;
    let mut h = Harness::with_cache(&HOST, vm_core::translate::MIN_CACHE_SIZE);
    h.set_cold_runs(2);
    let (enc_a, enc_b) = (rv::addi(10, 10, 5), rv::addi(10, 10, -3));
    let mut code = Vec::new();
    let mut smc_at = 0;
    for i in 0..BLOCKS {
        if i == SMC_BLOCK {
            smc_at = code.len() as u64 * 4;
            code.push(rv::i(0x13, 7, 28, 19, 15)); // t3 = s3 & 15
            code.push(rv::b(1, 28, 0, 12)); // unless t3 is 0:
            code.push(rv::s(0x23, 2, 21, 5, 20)); // sw t0, 20(s5)
            code.push(rv::FENCE_I);
            code.push(rv::r(0x33, 4, 0, 5, 5, 6)); // t0 ^= t1
            code.push(enc_b); // rewritten: a0 += 5 or a0 -= 3
            code.push(rv::jal(0, 4));
            continue;
        }
        code.push(rv::addi(10, 10, i % 2000)); // a0 += i
        code.push(rv::r(0x33, 4, 0, 11, 11, 10)); // a1 ^= a0
        code.push(rv::jal(0, 4)); // to the next block
    }
    let back = code.len() as i32 * 4 + 8;
    code.push(rv::addi(19, 19, -1)); // s3 -= 1
    code.push(rv::b(0, 19, 0, 8)); // out when s3 is 0
    code.push(rv::jal(0, -back)); // loop
    code.push(rv::ECALL);
    let mut cpu = Cpu::default();
    cpu.x[19] = 100;
    cpu.x[21] = CODE + smc_at;
    cpu.x[5] = enc_a as u64;
    cpu.x[6] = (enc_a ^ enc_b) as u64;
    let mut case = Case::program(&code, vec![0; 64], cpu);
    case.code_writable = true;
    let o = h.run(&case).unwrap_or_else(|m| panic!("{m}"));
    assert_eq!(o.trap, Trap::Ecall, "{o:?}");
    let stat = |n| h.jit_stat(n).unwrap_or(0);
    assert!(stat("jit_backoff_blocks_decoded") > 0);
    assert!(stat("jit_cache_flushes") > 1, "the code changed");
}

/// Random hot programs under staged emulation (as pvm runs), where
/// regions are entered at their side entries too, with host faults.
#[test]
fn staged_hot_regions_agree_with_host_faults() {
    let mut h = Harness::with_cache(&HOST, 4 << 20);
    assert!(HOST.code_faults());
    h.set_cold_runs(2);
    for fp in [false, true] {
        run_hot_seeds(&mut h, fp, 800)
            .unwrap_or_else(|(seed, m)| panic!("staged hot seed {seed} (fp: {fp}): {m}"));
    }
    assert!(
        h.jit_stat("jit_side_entered") > Some(0),
        "{:?}",
        h.jit_stat("jit_side_entries")
    );
}

/// A loop calling a leaf function of some 80 instructions (traced into
/// the loop's region: a call and its return become host jumps, and the
/// callee's registers weigh as much as the loop's, see the back end's
/// `codegen::weight`), whose own byte-wise scan loop runs a varying
/// number of times, with a division pair, a full product and a load
/// through a base that walks off the end of the data: the fault comes at
/// a different call each time (or never), inside the traced callee, and
/// every run must leave the interpreter's state.
#[test]
fn traced_callees_agree_with_host_faults() {
    use vm_core::cpu::{Cpu, Trap};
    use vm_core::rv;
    use vm_testkit::difftest::{DATA, DATA_LEN};
    let mut h = Harness::with_cache(&HOST, 4 << 20);
    assert!(HOST.code_faults());
    h.set_cold_runs(2);
    let f = 0x100i32;
    let mut code = vec![0x13u32; f as usize / 4];
    code[0] = rv::jal(1, f); // L: call F
    code[1] = rv::addi(19, 19, -1); // s3 -= 1
    code[2] = rv::b(1, 19, 0, -8); // bnez s3, L
    code[3] = rv::ECALL;
    let (add, xor, srl, mul, mulhu, divu, remu) = (
        |d, a, b| rv::r(0x33, 0, 0, d, a, b),
        |d, a, b| rv::r(0x33, 4, 0, d, a, b),
        |d, a, b| rv::r(0x33, 5, 0, d, a, b),
        |d, a, b| rv::r(0x33, 0, 1, d, a, b),
        |d, a, b| rv::r(0x33, 3, 1, d, a, b),
        |d, a, b| rv::r(0x33, 5, 1, d, a, b),
        |d, a, b| rv::r(0x33, 7, 1, d, a, b),
    );
    let mut body = vec![
        rv::addi(14, 0, 56),         // F: a4 = 56
        rv::addi(14, 14, -8),        // S: a4 -= 8
        srl(15, 12, 14),             // a5 = a2 >> a4
        rv::i(0x13, 7, 13, 15, 255), // a3 = a5 & 255
        rv::b(1, 13, 0, 8),          // bnez a3, D
        rv::b(1, 14, 0, -16),        // bnez a4, S
        rv::i(0x13, 6, 11, 11, 1),   // D: a1 |= 1
        divu(6, 10, 11),             // t1 = a0 / a1
        remu(28, 10, 11),            // t3 = a0 % a1
        mul(29, 10, 16),             // t4 = a0 * a6
        mulhu(30, 10, 16),           // t5 = hi(a0 * a6)
        rv::i(0x03, 3, 7, 24, 0),    // ld t2, 0(s8)
        rv::addi(24, 24, 64),        // s8 += 64
        add(10, 10, 7),              // a0 += t2
    ];
    // Mixing with most of the argument and temporary registers.
    let regs = [10u8, 11, 12, 16, 17, 6, 28, 29, 30, 31, 5, 15];
    for k in 0..12 {
        let (d, a, b) = (regs[k], regs[(k + 5) % 12], regs[(k + 7) % 12]);
        body.push(xor(d, d, a));
        body.push(mul(d, d, b));
        body.push(rv::i(0x13, 5, d, d, 7 + k as i32)); // srli
        body.push(add(d, d, 14));
        body.push(rv::addi(d, d, k as i32 * 3 + 1));
    }
    body.push(rv::i(0x13, 5, 12, 10, 3)); // a2 = a0 >> 3 (the next scan)
    body.push(rv::i(0x67, 0, 0, 1, 0)); // ret
    assert!((49..=96).contains(&body.len()), "{}", body.len());
    code.extend(body);
    let end = DATA + DATA_LEN as u64;
    for calls_before_fault in [1u64, 7, 33, 60, 1000] {
        let mut cpu = Cpu::default();
        cpu.x[19] = 300;
        cpu.x[10] = 0x0123_4567_89ab_cdef;
        cpu.x[11] = 0x1_0000_0007;
        cpu.x[12] = 0x00ff_0000_0000;
        cpu.x[16] = 0x9e37_79b9_7f4a_7c15;
        cpu.x[24] = end.wrapping_sub(64 * calls_before_fault.min(64));
        if calls_before_fault > 64 {
            cpu.x[24] = DATA;
            // Reads stay in the data: fewer calls than its 64 lines.
            cpu.x[19] = 60;
        }
        let data: Vec<u8> = (0..DATA_LEN).map(|i| (i * 7 + 3) as u8).collect();
        let o = run_program(&mut h, &code, data, cpu, calls_before_fault);
        if calls_before_fault > 64 {
            assert_eq!(o.trap, Trap::Ecall, "{o:?}");
        } else {
            assert!(
                matches!(o.trap, Trap::MemFault(_)),
                "{calls_before_fault}: {o:?}"
            );
        }
    }
    // The callee was traced: the loop and it are one translation per run
    // (the four that got past the cold runs), and no exit was chained (a
    // call leaving the region would chain to the callee's translation).
    assert_eq!(h.jit_stat("jit_translations"), Some(4));
    assert_eq!(h.jit_stat("jit_chained_exits"), Some(0));
}

/// Forwarding (`codegen::fwd` in vm-core): a register the region does
/// not cache, read by the instruction right after the one that wrote
/// it, comes from the host register that computed it, not the `Cpu`.
/// Eight registers (s4..s11) used the most take every host register the
/// region has, so t3..t6 live in the `Cpu`. At the join `B`, entered
/// both by falling through (where `rax` holds t4, just written) and by a
/// branch (where it holds t6), t4 must be read from the `Cpu`; and a
/// load whose base was just computed (`srli`, `add`, `ld` through it)
/// walks past the end of the data, where its fault must leave the
/// interpreter's registers.
#[test]
fn forwarded_registers_agree_with_host_faults() {
    use vm_core::cpu::{Cpu, Trap};
    use vm_core::rv;
    use vm_testkit::difftest::{DATA, DATA_LEN};
    let mut h = Harness::with_cache(&HOST, 4 << 20);
    assert!(HOST.code_faults());
    h.set_cold_runs(2);
    let (add, xor) = (
        |d, a, b| rv::r(0x33, 0, 0, d, a, b),
        |d, a, b| rv::r(0x33, 4, 0, d, a, b),
    );
    let (base, count) = (9u8, 18u8); // s1, s2
    let (t2, t3, t4, t5, t6) = (7u8, 28, 29, 30, 31);
    let mut code = Vec::new();
    // L: mixing, so that s4..s11 are the most used registers.
    for round in 0..3 {
        for k in 0..8u8 {
            let (d, a) = (20 + k, 20 + (k + 1 + round) % 8);
            code.push(if k % 2 == 0 {
                add(d, d, a)
            } else {
                xor(d, d, a)
            });
        }
    }
    let (s4, s5, s6, s7) = (20u8, 21, 22, 23);
    code.push(rv::i(0x13, 7, t5, s4, 1)); // t5 = s4 & 1
    code.push(add(t6, s5, s6)); // t6 = s5 + s6 (in rax)
    code.push(rv::b(0, t5, 0, 24)); // beqz t5, B
    code.push(add(t6, s6, s7)); // t6 = s6 + s7
    code.push(xor(t4, s7, s4)); // t4 = s7 ^ s4 (in rax)
    code.push(rv::r(0x33, 0, 0x20, s5, s4, s5)); // s5 = s4 - s5 (in rax, then s5)
    code.push(add(s4, s4, t4)); // s4 += t4 (not from rax)
    code.push(rv::addi(s5, s5, 3)); // s5 += 3 (rax left alone)
    code.push(add(t3, t4, s4)); // B: t3 = t4 + s4 (t4 from the `Cpu`)
    code.push(xor(s4, s4, t3)); // s4 ^= t3
    code.push(rv::i(0x13, 5, t4, s5, 61)); // t4 = s5 >> 61
    code.push(add(t4, t4, base)); // t4 += s1
    code.push(rv::i(0x03, 3, t2, t4, 0)); // ld t2, 0(t4)
    code.push(add(s5, s5, t2)); // s5 += t2
    code.push(rv::addi(base, base, 64)); // s1 += 64
    code.push(rv::addi(count, count, -1)); // s2 -= 1
    let back = -4 * code.len() as i32;
    code.push(rv::b(1, count, 0, back)); // bnez s2, L
    code.push(rv::ECALL);
    let end = DATA + DATA_LEN as u64;
    for loads_before_fault in [1u64, 9, 40, 1000] {
        let mut cpu = Cpu::default();
        cpu.x[count as usize] = 60;
        for (k, v) in (20..28).zip([
            0x0123_4567_89ab_cdefu64,
            0x7000_0000_0000_0007,
            0x9e37_79b9_7f4a_7c15,
            0x5555_0000_aaaa_0001,
            0x0f0f_1234_5678_9abc,
            0xdead_beef_0bad_f00d,
            0x1111_2222_3333_4444,
            0x8000_0000_0000_0001,
        ]) {
            cpu.x[k] = v;
        }
        // t4 = s1 + (s5 >> 61), 0..7 bytes in: inside the data until s1
        // passes its end.
        cpu.x[base as usize] = end.wrapping_sub(64 * loads_before_fault.min(64));
        if loads_before_fault > 64 {
            cpu.x[base as usize] = DATA;
        }
        let data: Vec<u8> = (0..DATA_LEN).map(|i| (i * 13 + 5) as u8).collect();
        let o = run_program(&mut h, &code, data, cpu, loads_before_fault);
        if loads_before_fault > 64 {
            assert_eq!(o.trap, Trap::Ecall, "{o:?}");
        } else {
            assert!(
                matches!(o.trap, Trap::MemFault(_)),
                "{loads_before_fault}: {o:?}"
            );
        }
    }
    assert!(h.jit_stat("jit_translations") > Some(0));
}

/// All eight allocatable host registers in use (`codegen::ALLOC` in
/// vm-core, `rbx` the eighth since the `Cpu` moved into the `Ctx`): a
/// loop whose eight most used registers (s2..s9) mix each other, read
/// `instret` through the step helper (a helper call with every cached
/// register live and dirty), call a leaf that changes two of them, and
/// load through a base that walks past the end of the data, where the
/// fault's registers (recovered from the host registers by the side
/// table) must be the interpreter's.
#[test]
fn eight_cached_registers_agree_with_host_faults() {
    use vm_core::cpu::{Cpu, Trap};
    use vm_core::rv;
    use vm_testkit::difftest::{DATA, DATA_LEN};
    let mut h = Harness::with_cache(&HOST, 4 << 20);
    assert!(HOST.code_faults());
    h.set_cold_runs(2);
    let (add, xor) = (
        |d, a, b| rv::r(0x33, 0, 0, d, a, b),
        |d, a, b| rv::r(0x33, 4, 0, d, a, b),
    );
    let (base, count, t0, t1) = (26u8, 27u8, 5u8, 6u8); // s10, s11
    let mut code = Vec::new();
    // L: s2..s9 mixed, so that they are the region's eight most used.
    for round in 0..3 {
        for k in 0..8u8 {
            let (d, a) = (18 + k, 18 + (k + 1 + round) % 8);
            code.push(if k % 2 == 0 {
                add(d, d, a)
            } else {
                xor(d, d, a)
            });
        }
    }
    code.push(rv::i(0x73, 2, t0, 0, 0xc02)); // csrr t0, instret (step helper)
    code.push(add(21, 21, t0)); // s5 += t0
    let call = code.len();
    code.push(0); // jal ra, F (below)
    code.push(rv::i(0x03, 3, t1, base, 0)); // ld t1, 0(s10)
    code.push(add(18, 18, t1)); // s2 += t1
    code.push(rv::addi(base, base, 64)); // s10 += 64
    code.push(rv::addi(count, count, -1)); // s11 -= 1
    let back = -4 * code.len() as i32;
    code.push(rv::b(1, count, 0, back)); // bnez s11, L
    code.push(rv::ECALL);
    // F: a leaf changing s3 and s8.
    code[call] = rv::jal(1, 4 * (code.len() - call) as i32);
    code.push(xor(19, 19, 24)); // s3 ^= s8
    code.push(rv::addi(24, 24, 77)); // s8 += 77
    code.push(rv::i(0x67, 0, 0, 1, 0)); // ret
    let end = DATA + DATA_LEN as u64;
    for loads_before_fault in [1u64, 7, 50, 1000] {
        let mut cpu = Cpu::default();
        cpu.x[count as usize] = 60;
        for k in 18..26 {
            cpu.x[k] = 0x9e37_79b9_7f4a_7c15u64.wrapping_mul(k as u64 + 1);
        }
        cpu.x[base as usize] = end.wrapping_sub(64 * loads_before_fault.min(60));
        if loads_before_fault > 60 {
            cpu.x[base as usize] = DATA;
        }
        let data: Vec<u8> = (0..DATA_LEN).map(|i| (i * 7 + 3) as u8).collect();
        let o = run_program(&mut h, &code, data, cpu, loads_before_fault);
        if loads_before_fault > 60 {
            assert_eq!(o.trap, Trap::Ecall, "{o:?}");
        } else {
            assert!(
                matches!(o.trap, Trap::MemFault(_)),
                "{loads_before_fault}: {o:?}"
            );
        }
    }
    assert!(h.jit_stat("jit_translations") > Some(0));
}

/// Straight-line code with more registers live than the host has
/// (`codegen::pinned::unpin_pays` in vm-core: such a region gives the
/// homes of `sp`, `ra` and `a0` to its own registers): 122 instructions
/// mixing thirteen registers, `a0` among them, and `sp`, which steps
/// through the data and is mixed into `a1` (a wild `sp` would keep the
/// code out of translation, see `backend::near` in vm-core), a helper call in
/// the middle (`csrr instret`: every cached register live and dirty), a
/// call to a leaf traced into the region that reads and writes `a0`, a
/// load through a base that walks past the end of the data, where the
/// fault's registers (the unpinned region's, recovered by the side table)
/// must be the interpreter's, and a jump out to the loop's counter, a
/// translation of its own that expects `sp`, `ra` and `a0` in their
/// homes. Also run without the fault, to an `ecall`.
#[test]
fn straight_line_unpinned_regions_agree_with_host_faults() {
    use vm_core::cpu::{Cpu, Trap};
    use vm_core::rv;
    use vm_testkit::difftest::{DATA, DATA_LEN};
    let mut h = Harness::with_cache(&HOST, 4 << 20);
    assert!(HOST.code_faults());
    h.set_cold_runs(2);
    let (add, xor) = (
        |d, a, b| rv::r(0x33, 0, 0, d, a, b),
        |d, a, b| rv::r(0x33, 4, 0, d, a, b),
    );
    // s2..s9, a1..a3, a0 and s1: thirteen registers.
    let regs: [u8; 13] = [18, 19, 20, 21, 22, 23, 24, 25, 11, 12, 13, 10, 9];
    let (base, count, t0, t1) = (26u8, 27u8, 5u8, 6u8); // s10, s11
    let mut code = Vec::new();
    // L: one long block (no branch before the end).
    for round in 0..8usize {
        for k in 0..regs.len() {
            let (d, a) = (regs[k], regs[(k + 1 + round) % regs.len()]);
            code.push(if (k + round) % 2 == 0 {
                add(d, d, a)
            } else {
                xor(d, d, a)
            });
        }
        code.push(rv::addi(2, 2, 8)); // sp += 8
        code.push(xor(11, 11, 2)); // a1 ^= sp
        if round == 3 {
            code.push(rv::i(0x73, 2, t0, 0, 0xc02)); // csrr t0, instret
            code.push(add(21, 21, t0)); // s5 += t0
        }
    }
    let call = code.len();
    code.push(0); // jal ra, F (below)
    code.push(rv::i(0x03, 3, t1, base, 0)); // ld t1, 0(s10)
    code.push(add(18, 18, t1)); // s2 += t1
    code.push(add(10, 10, t1)); // a0 += t1
    let to_c = code.len();
    code.push(0); // j C (below, too far to join the region)
    // F: a leaf changing a0 and s3.
    code[call] = rv::jal(1, 4 * (code.len() - call) as i32);
    code.push(xor(10, 10, 19)); // a0 ^= s3
    code.push(rv::addi(19, 19, 77)); // s3 += 77
    code.push(rv::i(0x67, 0, 0, 1, 0)); // ret
    // C, more than a region's reach away, so that the loop back to L is
    // not in L's region: L's region is straight-line code.
    while code.len() < 1100 {
        code.push(rv::ECALL);
    }
    code[to_c] = rv::jal(0, 4 * (code.len() - to_c) as i32);
    code.push(rv::addi(base, base, 64)); // s10 += 64
    code.push(rv::addi(count, count, -1)); // s11 -= 1
    code.push(rv::b(0, count, 0, 8)); // beqz s11, the ecall
    let back = -4 * code.len() as i32;
    code.push(rv::jal(0, back)); // j L (farther than a branch reaches)
    code.push(rv::ECALL);
    let end = DATA + DATA_LEN as u64;
    for loads_before_fault in [1u64, 5, 30, 1000] {
        let mut cpu = Cpu::default();
        cpu.x[count as usize] = 40;
        for &k in &regs {
            cpu.x[k as usize] = 0x9e37_79b9_7f4a_7c15u64.wrapping_mul(k as u64 + 1);
        }
        cpu.x[2] = DATA;
        cpu.x[base as usize] = end.wrapping_sub(64 * loads_before_fault.min(40));
        if loads_before_fault > 40 {
            cpu.x[base as usize] = DATA;
        }
        let data: Vec<u8> = (0..DATA_LEN).map(|i| (i * 5 + 1) as u8).collect();
        let o = run_program(&mut h, &code, data, cpu, loads_before_fault);
        if loads_before_fault > 40 {
            assert_eq!(o.trap, Trap::Ecall, "{o:?}");
        } else {
            assert!(
                matches!(o.trap, Trap::MemFault(_)),
                "{loads_before_fault}: {o:?}"
            );
        }
    }
    assert!(h.jit_stat("jit_translations") > Some(0));
}

/// Constant pairs (`codegen::konst` in vm-core): `lui`/`auipc` then
/// `addi` (or `addiw` after `lui`) on the same register become one
/// constant, into a register the region caches and into ones it leaves
/// in the `Cpu` (read by the next instruction, or not), with upper parts
/// and low parts of either sign (`addiw` wrapping past 2^31, `lui` of a
/// negative upper part); and pairs that are not one (`addi` of another
/// register, `addiw` after `auipc`). The sums land in s2, checked
/// against the interpreter at the end.
#[test]
fn constant_pairs_agree_with_host_faults() {
    use vm_core::cpu::{Cpu, Trap};
    use vm_core::rv;
    use vm_testkit::difftest::{Case, DATA_LEN};
    let mut h = Harness::with_cache(&HOST, 4 << 20);
    assert!(HOST.code_faults());
    h.set_cold_runs(2);
    let (add, xor) = (
        |d, a, b| rv::r(0x33, 0, 0, d, a, b),
        |d, a, b| rv::r(0x33, 4, 0, d, a, b),
    );
    let addiw = |d, a, imm| rv::i(0x1b, 0, d, a, imm);
    let (acc, count) = (18u8, 9u8); // s2, s1
    let mut code = Vec::new();
    // Mixing, so that s4..s11 take the host registers; acc is used the
    // most of the rest.
    for k in 0..8u8 {
        let (d, a) = (20 + k, 20 + (k + 3) % 8);
        code.push(if k % 2 == 0 {
            add(d, d, a)
        } else {
            xor(d, d, a)
        });
        code.push(add(d, d, acc));
    }
    for (j, (rd, first, second)) in [
        (5u8, rv::lui(5, 0x12345), rv::addi(5, 5, 0x678)),
        (6, rv::lui(6, 0x80000), rv::addi(6, 6, -1)),
        (7, rv::lui(7, 0x80000), addiw(7, 7, -1)),
        (7, rv::lui(7, 0x7ffff), addiw(7, 7, 0x7ff)),
        (28, rv::lui(28, 0xfffff), addiw(28, 28, -2048)),
        (29, rv::auipc(29, 0x1), rv::addi(29, 29, -4)),
        (30, rv::auipc(30, 0x80000), rv::addi(30, 30, 16)),
        (31, rv::auipc(31, 0x2), addiw(31, 31, 1)),
        (5, rv::lui(5, 0x54321), rv::addi(6, 5, 3)),
        (acc, rv::lui(acc, 0x00010), rv::addi(acc, acc, 0x7ff)),
    ]
    .into_iter()
    .enumerate()
    {
        code.push(first);
        code.push(second);
        if j % 2 == 0 {
            // Read right after (forwarded), else only later.
            code.push(xor(20, 20, rd));
        }
        code.push(add(21 + (j % 7) as u8, 21 + (j % 7) as u8, rd));
    }
    code.push(xor(acc, acc, 20));
    code.push(add(acc, acc, 6));
    code.push(rv::addi(count, count, -1));
    let back = -4 * code.len() as i32;
    code.push(rv::b(1, count, 0, back)); // bnez s1, back to the top
    code.push(rv::ECALL);
    let mut cpu = Cpu::default();
    cpu.x[count as usize] = 40;
    for k in 20..28 {
        cpu.x[k] = 0x9e37_79b9_7f4a_7c15u64.wrapping_mul(k as u64 + 1);
    }
    let case = Case::program(&code, vec![0; DATA_LEN], cpu);
    let o = h
        .run(&case)
        .unwrap_or_else(|m| panic!("{m}\n{}", m.case.listing()));
    assert_eq!(o.trap, Trap::Ecall, "{o:?}");
    assert!(h.jit_stat("jit_translations") > Some(0));
}

/// Accesses through constant addresses (`lui`, `auipc`, and `lui`+`addi`):
/// below `memory::MIN_SIZE` (the test space's own size) the translator
/// drops their bounds compare (`codegen/bounds.rs`). A loop reads and
/// writes the data through such constants, then one access goes through
/// a constant the case picks: unmapped inside the space, at its end (in
/// the guard), past the guard (32 MiB: had the bound been wrong, a host
/// access outside the reservation), or a `lui` of a negative upper part.
/// Every run must fault as the interpreter does, after the same loads.
#[test]
fn constant_addresses_agree_with_host_faults() {
    use vm_core::cpu::{Cpu, Trap};
    use vm_core::rv;
    use vm_testkit::difftest::{CODE, DATA, DATA_LEN};
    let mut h = Harness::with_cache(&HOST, 4 << 20);
    assert!(HOST.code_faults());
    assert_eq!(h.space_size(), vm_core::memory::MIN_SIZE);
    h.set_cold_runs(2);
    let add = |d, a, b| rv::r(0x33, 0, 0, d, a, b);
    let ld = |d, b, imm| rv::i(0x03, 3, d, b, imm);
    let sd = |b, v, imm| rv::s(0x23, 3, b, v, imm);
    let data_hi = (DATA >> 12) as u32;
    for (k, bad) in [0xfffu32, 0x1000, 0x2000, 0x80000].into_iter().enumerate() {
        // auipc (the fourth instruction) sets t1 to the 4 KiB step nearest
        // DATA; the accesses through it make up the rest.
        let rel = ((DATA - (CODE + 12) + 0x800) >> 12) as u32;
        let t1 = CODE + 12 + ((rel as u64) << 12);
        let at = |off: u64| (DATA + off) as i64 - t1 as i64;
        let code = vec![
            rv::lui(5, data_hi),      // 0: loop: t0 = DATA
            ld(11, 5, 8),             // a1 = [DATA + 8]
            add(18, 18, 11),          // s2 += a1
            rv::auipc(6, rel),        // t1 = DATA + 12 (pc-relative)
            ld(12, 6, at(16) as i32), // a2 = [DATA + 16]
            add(18, 18, 12),          // s2 += a2
            sd(6, 18, at(24) as i32), // [DATA + 24] = s2
            rv::lui(7, data_hi),      // t2 = DATA + 0x7f8 (a pair)
            rv::addi(7, 7, 0x7f8),
            ld(13, 7, -8),               // a3 = [DATA + 0x7f0]
            add(18, 18, 13),             // s2 += a3
            rv::addi(9, 9, -1),          // s1 -= 1
            rv::b(1, 9, 0, -48),         // bnez s1, loop
            rv::lui(28, bad),            // t3 = the case's constant
            ld(14, 28, 0x10 * k as i32), // a4 = [t3 + ...]: faults
            rv::ECALL,
        ];
        let mut cpu = Cpu::default();
        cpu.x[9] = 50;
        let data: Vec<u8> = (0..DATA_LEN).map(|i| (i * 7 + 3) as u8).collect();
        let o = run_program(&mut h, &code, data, cpu, format_args!("{bad:#x}"));
        assert!(matches!(o.trap, Trap::MemFault(_)), "{bad:#x}: {o:?}");
    }
    assert!(h.jit_stat("jit_translations") > Some(0));
}

/// Staged regions around calls (`scan_region_staged` in vm-core): a leaf
/// `L` that got its own translation first (called from three places
/// before the loop starts) is called, not traced, from `E`, whose loop
/// closes through an indirect jump (so its region has no loop), and the
/// return points after `E`'s calls join `E`'s region: the callee's return
/// reaches them through the return frame's jump into their side entries'
/// resume stubs (`codegen/ras.rs`; a stub that skipped the reload of the
/// cached registers failed here). `G` is no leaf (it calls `L` too), so its call always
/// leaves. `L` loads through a base that walks off the end of the data:
/// the fault comes in a different call each time (or never), and every
/// run must leave the interpreter's state.
#[test]
fn called_leaves_and_joined_return_points_agree_with_host_faults() {
    use vm_core::cpu::{Cpu, Trap};
    use vm_core::rv;
    use vm_testkit::difftest::{CODE, DATA, DATA_LEN};
    let mut h = Harness::with_cache(&HOST, 4 << 20);
    assert!(HOST.code_faults());
    h.set_cold_runs(2);
    let add = |d, a, b| rv::r(0x33, 0, 0, d, a, b);
    let (l, g, e) = (0x100i32, 0x140i32, 0x40i32);
    let mut code = vec![0x13u32; 0x180 / 4];
    let mut put = |at: i32, w: u32| code[at as usize / 4] = w;
    put(0x00, rv::jal(1, l)); // three calls of L: it gets translated
    put(0x04, rv::jal(1, l - 0x04));
    put(0x08, rv::jal(1, l - 0x08));
    put(0x0c, rv::i(0x67, 0, 0, 29, 0)); // jr t4 (E)
    put(e, rv::addi(10, 10, 3)); // E: a0 += 3
    put(e + 0x04, rv::jal(1, l - (e + 0x04))); // call L
    put(e + 0x08, add(18, 18, 11)); // R1: s2 += a1
    put(e + 0x0c, rv::jal(1, g - (e + 0x0c))); // call G
    put(e + 0x10, rv::r(0x33, 4, 0, 20, 20, 18)); // R2: s4 ^= s2
    put(e + 0x14, rv::addi(19, 19, -1)); // s3 -= 1
    put(e + 0x18, rv::b(0, 19, 0, 8)); // beqz s3, done
    put(e + 0x1c, rv::i(0x67, 0, 0, 29, 0)); // jr t4 (E)
    put(e + 0x20, rv::ECALL); // done
    put(l, rv::i(0x03, 3, 7, 24, 0)); // L: ld t2, 0(s8)
    put(l + 0x04, rv::addi(24, 24, 8)); // s8 += 8
    put(l + 0x08, add(11, 11, 7)); // a1 += t2
    put(l + 0x0c, add(11, 11, 10)); // a1 += a0
    put(l + 0x10, rv::i(0x67, 0, 0, 1, 0)); // ret
    put(g, rv::addi(2, 2, -16)); // G: sp -= 16
    put(g + 0x04, rv::s(0x23, 3, 2, 1, 0)); // sd ra, 0(sp)
    put(g + 0x08, rv::jal(1, l - (g + 0x08))); // call L
    put(g + 0x0c, rv::i(0x03, 3, 1, 2, 0)); // ld ra, 0(sp)
    put(g + 0x10, rv::addi(2, 2, 16)); // sp += 16
    put(g + 0x14, add(21, 21, 11)); // s5 += a1
    put(g + 0x18, rv::i(0x67, 0, 0, 1, 0)); // ret
    let end = DATA + DATA_LEN as u64;
    for loads_before_fault in [4u64, 9, 30, 101, 1000] {
        let mut cpu = Cpu::default();
        cpu.x[19] = 120;
        cpu.x[2] = DATA + DATA_LEN as u64 / 2; // sp: below what L reads
        cpu.x[29] = CODE + e as u64;
        cpu.x[24] = end.wrapping_sub(8 * loads_before_fault);
        if loads_before_fault > 500 {
            cpu.x[24] = DATA;
            cpu.x[19] = 100; // 3 + 200 loads stay below the stack
        }
        let data: Vec<u8> = (0..DATA_LEN).map(|i| (i * 5 + 1) as u8).collect();
        let o = run_program(&mut h, &code, data, cpu, loads_before_fault);
        if loads_before_fault > 500 {
            assert_eq!(o.trap, Trap::Ecall, "{o:?}");
        } else {
            assert!(
                matches!(o.trap, Trap::MemFault(_)),
                "{loads_before_fault}: {o:?}"
            );
        }
    }
    // E's return points were entered at side entries, and its calls of
    // L were chained to L's own translation. Three translations per run
    // that gets to E's third pass (L; E with both return points; G with
    // its own), L alone in the run that faults in E's first pass: had
    // the return points been left out, or L been traced, R2 would have
    // been translated on its own.
    assert!(h.jit_stat("jit_side_entered") > Some(0));
    assert!(h.jit_stat("jit_chained_exits") > Some(0));
    assert_eq!(h.jit_stat("jit_translations"), Some(1 + 4 * 3));
}

/// Returns between regions compare the link register itself with the top
/// return frame (`exit_return_in`): a callee that returns through an odd
/// `ra` (one past the return point, which `jalr` clears back to it) misses
/// the frame and must still land on the return point; and a return
/// through `ra` = 1 from a region entered with no frame pushed matches
/// the bottom sentinel frame (guest pc 1), whose code must go to pc 0
/// through the dispatcher, as the interpreter does (a fetch fault there).
#[test]
fn returns_through_odd_links_agree_with_host_faults() {
    use vm_core::cpu::{Cpu, Trap};
    use vm_core::rv;
    use vm_testkit::difftest::{CODE, DATA, DATA_LEN};
    let mut h = Harness::with_cache(&HOST, 4 << 20);
    assert!(HOST.code_faults());
    h.set_cold_runs(2);
    let add = |d, a, b| rv::r(0x33, 0, 0, d, a, b);
    let ret = rv::i(0x67, 0, 0, 1, 0); // jalr x0, 0(ra)
    let (l, m, e) = (0x100i32, 0x140i32, 0x40i32);
    let mut code = vec![0x13u32; 0x180 / 4];
    let mut put = |at: i32, w: u32| code[at as usize / 4] = w;
    for k in 0..3 {
        put(4 * k, rv::jal(1, l - 4 * k)); // three calls of L and of M:
        put(0x0c + 4 * k, rv::jal(1, m - (0x0c + 4 * k))); // both translated
    }
    put(0x18, rv::i(0x67, 0, 0, 29, 0)); // jr t4 (E)
    put(e, rv::addi(10, 10, 3)); // E: a0 += 3
    put(e + 0x04, rv::jal(1, l - (e + 0x04))); // call L
    put(e + 0x08, add(18, 18, 11)); // R: s2 += a1
    put(e + 0x0c, rv::addi(19, 19, -1)); // s3 -= 1
    put(e + 0x10, rv::b(1, 19, 0, -0x10)); // bnez s3, E
    put(e + 0x14, rv::addi(1, 0, 1)); // ra = 1
    put(e + 0x18, rv::jal(0, m - (e + 0x18))); // j M
    put(l, add(11, 11, 10)); // L: a1 += a0
    put(l + 0x04, rv::addi(1, 1, 1)); // ra += 1 (odd)
    put(l + 0x08, ret);
    put(m, rv::addi(12, 12, 1)); // M: a2 += 1
    put(m + 0x04, ret);
    for rounds in [1u64, 5, 60] {
        let mut cpu = Cpu::default();
        cpu.x[19] = rounds;
        cpu.x[2] = DATA + DATA_LEN as u64 / 2;
        cpu.x[29] = CODE + e as u64;
        let data: Vec<u8> = (0..DATA_LEN).map(|i| i as u8).collect();
        let o = run_program(&mut h, &code, data, cpu, rounds);
        // M's return to pc 0: a fetch fault, after every round.
        assert!(matches!(o.trap, Trap::MemFault(_)), "{rounds}: {o:?}");
    }
    assert!(h.jit_stat("jit_chained_exits") > Some(0));
}

/// A block entered only along the fall-through of the branch before it
/// keeps what that block's accesses proved of their bases and accesses
/// through them with no compare (`bounds::inheriting`), so it must not be
/// a side entry: here the code after the loop jumps straight to such a
/// block (`L2`) with its base wild, far outside the guest space and its
/// guards. Entered there, the block must compare (or run elsewhere) and
/// fault as the interpreter does; a side entry into the compare-free code
/// would reach host memory outside the reservation (the test process dies
/// of `SIGSEGV`).
#[test]
fn blocks_that_keep_their_bases_are_not_entered_from_outside_with_host_faults() {
    use vm_core::cpu::{Cpu, Trap};
    use vm_core::rv;
    use vm_testkit::difftest::{DATA, DATA_LEN};
    let mut h = Harness::with_cache(&HOST, 4 << 20);
    assert!(HOST.code_faults());
    h.set_cold_runs(2);
    let add = |d, a, b| rv::r(0x33, 0, 0, d, a, b);
    let (f, done, err) = (0x100i32, 0x40i32, 0x180i32);
    let mut code = vec![0x13u32; 0x200 / 4];
    let mut put = |at: i32, w: u32| code[at as usize / 4] = w;
    put(0x00, rv::addi(19, 19, -1)); // loop: s3 -= 1
    put(0x04, rv::b(0, 19, 0, done - 0x04)); // beqz s3, done
    put(0x08, rv::jal(1, f - 0x08)); // call F
    put(0x0c, rv::jal(0, -0x0c)); // j loop
    put(done, rv::lui(11, 0x80000)); // done: a1 = -2 GiB (wild)
    put(done + 4, rv::jal(0, f + 8 - (done + 4))); // j L2
    put(f, rv::i(0x03, 3, 5, 11, 0)); // F: ld t0, 0(a1)
    put(f + 4, rv::b(4, 5, 0, err - (f + 4))); // bltz t0, err (never)
    put(f + 8, rv::i(0x03, 3, 6, 11, 8)); // L2: ld t1, 8(a1)
    put(f + 12, add(12, 12, 6)); // a2 += t1
    put(f + 16, rv::i(0x67, 0, 0, 1, 0)); // ret
    put(err, rv::ECALL);
    for rounds in [3u64, 40] {
        let mut cpu = Cpu::default();
        cpu.x[19] = rounds;
        cpu.x[11] = DATA;
        cpu.x[2] = DATA + DATA_LEN as u64 / 2;
        let data: Vec<u8> = (0..DATA_LEN).map(|i| (i % 7) as u8).collect();
        let o = run_program(&mut h, &code, data, cpu, rounds);
        assert!(matches!(o.trap, Trap::MemFault(_)), "{rounds}: {o:?}");
    }
}

/// A function whose entry block writes `s0`, `a2`, `a3` and `a5` before
/// reading them (`codegen/deadload.rs` in vm-core: its region's entry
/// does not load them, and their host registers still hold the caller's
/// `s4`..`s6`; `a7`, written there too, is read first as a store's
/// base), called from a loop until one of its four accesses faults:
/// each access in turn (the base walks to the end of the data, started
/// 8 bytes further each time), in the interpreted first runs and in the
/// translation, and the first access through a wild base (the slow path,
/// whose helper thunk stores every register the region writes). The
/// fault's registers must be the interpreter's: the ones not written yet
/// are the `Cpu`'s, not what their host registers hold.
#[test]
fn dead_entry_loads_agree_at_faults_with_host_faults() {
    use vm_core::cpu::{Cpu, Trap};
    use vm_core::rv;
    use vm_testkit::difftest::{DATA, DATA_LEN};
    let mut h = Harness::with_cache(&HOST, 4 << 20);
    assert!(HOST.code_faults());
    h.set_cold_runs(2);
    let r = |f3, d, a, b| rv::r(0x33, f3, 0, d, a, b);
    let (f, g, done) = (0x100i32, 0x180i32, 0x80i32);
    let mut code = vec![0x13u32; 0x200 / 4];
    let mut put = |at: i32, w: u32| code[at as usize / 4] = w;
    put(0x00, rv::addi(19, 19, -1)); // loop: s3 -= 1
    put(0x04, r(0, 20, 20, 19)); // s4 += s3
    put(0x08, r(4, 21, 21, 20)); // s5 ^= s4
    put(0x0c, r(0, 22, 22, 21)); // s6 += s5
    put(0x10, rv::b(0, 19, 0, done - 0x10)); // beqz s3, done
    put(0x14, rv::i(0x13, 3, 7, 19, 2)); // t2 = s3 < 2
    put(0x18, rv::i(0x13, 1, 7, 7, 40)); // t2 <<= 40
    put(0x1c, r(0, 11, 11, 7)); // a1 += t2 (wild on the last trip)
    put(0x20, rv::jal(1, f - 0x20)); // call F
    put(0x24, rv::jal(0, -0x24)); // j loop
    put(done, rv::ECALL);
    put(f, rv::i(0x03, 3, 8, 11, 0)); // F: s0 = [a1]
    put(f + 4, rv::i(0x13, 7, 12, 8, 15)); // a2 = s0 & 15
    put(f + 8, rv::i(0x03, 3, 13, 11, 8)); // a3 = [a1 + 8]
    put(f + 12, rv::s(0x23, 3, 17, 14, 0)); // [a7] = a4 (a7 read)
    put(f + 16, r(0, 14, 14, 13)); // a4 += a3
    put(f + 20, rv::s(0x23, 3, 11, 12, 16)); // [a1 + 16] = a2
    put(f + 24, rv::i(0x03, 3, 15, 11, 24)); // a5 = [a1 + 24]
    put(f + 28, r(4, 8, 8, 15)); // s0 ^= a5
    put(f + 32, r(0, 12, 12, 8)); // a2 += s0
    put(f + 36, rv::addi(11, 11, 64)); // a1 += 64
    put(f + 40, rv::lui(17, (DATA >> 12) as u32)); // a7 = DATA
    put(f + 44, rv::jal(5, g - (f + 44))); // call G (t0): F is no leaf
    put(f + 48, r(0, 14, 14, 12)); // a4 += a2
    put(f + 52, r(0, 13, 13, 15)); // a3 += a5
    put(f + 56, r(6, 17, 17, 17)); // a7 |= a7 (a7 among the cached)
    put(f + 60, rv::i(0x67, 0, 0, 1, 0)); // ret
    put(g, rv::addi(16, 16, 1)); // G: a6 += 1
    put(g + 4, rv::i(0x67, 0, 0, 5, 0)); // jr t0
    let end = DATA + DATA_LEN as u64;
    for calls_before in [1u64, 5, 30] {
        // The access at offset 24 - 8j is the first to fault; j = 4: none,
        // the wild base after the loop does.
        for j in 0..5u64 {
            let mut cpu = Cpu::default();
            cpu.x[19] = if j == 4 { 40 } else { 100 };
            for k in [8, 12, 13, 14, 15, 20, 21, 22] {
                cpu.x[k] = 0x9e37_79b9_7f4a_7c15u64.wrapping_mul(k as u64 + 3);
            }
            cpu.x[17] = DATA + 8;
            cpu.x[11] = if j == 4 {
                DATA
            } else {
                (end - 24 + 8 * j).wrapping_sub(64 * calls_before)
            };
            let data: Vec<u8> = (0..DATA_LEN).map(|i| (i * 5 + 1) as u8).collect();
            let o = run_program(&mut h, &code, data, cpu, format!("{calls_before}/{j}"));
            assert!(
                matches!(o.trap, Trap::MemFault(_)),
                "{calls_before}/{j}: {o:?}"
            );
        }
    }
    assert!(h.jit_stat("jit_translations") > Some(0));
}

/// `sp` and `tp` made wild inside a hot loop whose head (a block start)
/// accesses through both: translated code leaves those accesses
/// uncompared on the promise that `sp` and `tp` are near the guest space
/// at every way into a block (`codegen/bounds.rs` in vm-core), so the
/// wild values must be caught where they cross into the loop head: along
/// the region's own back edge (a host jump), through an indirect jump
/// that hits the lookup table every trip (straight to translated code),
/// and through one taken only on the wild trip (a table miss: the
/// dispatcher enters the loop head). Each wild value (in the guards, just
/// past them, far outside, below 0) must be the interpreter's fault at
/// the head's access, with the same registers; an access to host memory
/// outside the reservation kills the test process. The loop also comes
/// with 24 more instructions mixing eight other registers, so that its
/// region gives the pinned registers' homes to those (`codegen/pinned.rs`:
/// `sp` then lives in the `Cpu`, where the check must read it).
#[test]
fn wild_stack_and_thread_pointers_agree_with_host_faults() {
    use vm_core::cpu::{Cpu, Trap};
    use vm_core::rv;
    use vm_testkit::difftest::{CODE, DATA, DATA_LEN};
    let mut h = Harness::with_cache(&HOST, 4 << 20);
    assert!(HOST.code_faults());
    h.set_cold_runs(2);
    let add = |d, a, b| rv::r(0x33, 0, 0, d, a, b);
    let xor = |d, a, b| rv::r(0x33, 4, 0, d, a, b);
    let mixed: [u8; 8] = [9, 11, 12, 13, 14, 15, 16, 17];
    let size = h.space_size();
    let sp0 = DATA + DATA_LEN as u64 / 2;
    let tp0 = DATA + 64;
    let wilds = [
        size,
        size + 2048,
        size + 40 * 1024,
        size + (1 << 20),
        0u64.wrapping_sub(8),
        0u64.wrapping_sub(40 * 1024),
        0u64.wrapping_sub(1 << 20),
        1 << 40,
        1 << 63,
    ];
    let mut faults = 0;
    for mix in [0usize, 24] {
        let mut code = vec![
            rv::i(0x03, 3, 5, 2, 8),   // loop: ld t0, 8(sp)
            rv::i(0x03, 3, 6, 4, -16), // ld t1, -16(tp)
            add(10, 10, 5),            // a0 += t0
            add(10, 10, 6),            // a0 += t1
        ];
        for k in 0..mix {
            let (d, a) = (mixed[k % 8], mixed[(k * 3 + 1) % 8]);
            code.push(if k % 2 == 0 {
                add(d, d, a)
            } else {
                xor(d, d, a)
            });
        }
        let at = |i: usize| 4 * i as i32;
        let n = code.len();
        let (done, tame, jr) = (n + 9, n + 5, n + 8);
        code.extend([
            rv::addi(19, 19, -1),                   // s3 -= 1
            rv::b(0, 19, 0, at(done) - at(n + 1)),  // beqz s3, done
            rv::b(1, 19, 20, at(tame) - at(n + 2)), // bne s3, s4, tame
            add(2, 2, 21),                          // sp += s5 (the wild trip)
            add(4, 4, 22),                          // tp += s6
            rv::b(1, 23, 0, at(jr) - at(n + 5)),    // tame: bnez s7, jr
            rv::b(0, 19, 24, at(jr) - at(n + 6)),   // beq s3, s8, jr
            rv::jal(0, -at(n + 7)),                 // j loop
            rv::i(0x67, 0, 0, 28, 0),               // jr: jr t3 (loop)
            rv::ECALL,                              // done
        ]);
        for wild in wilds {
            // The back edge: the region's host jump, the indirect jump
            // every trip (a table hit), or only on the wild trip (a miss).
            for (always_jr, jr_trip) in [(0, u64::MAX), (1, u64::MAX), (0, 50)] {
                for sp_wild in [true, false] {
                    let mut cpu = Cpu::default();
                    cpu.x[2] = sp0;
                    cpu.x[4] = tp0;
                    cpu.x[19] = 200;
                    cpu.x[20] = 50;
                    for (k, &r) in mixed.iter().enumerate() {
                        cpu.x[r as usize] = 0x9e37_79b9_7f4a_7c15u64.wrapping_mul(k as u64 + 5);
                    }
                    let (reg0, delta) = if sp_wild { (sp0, 21) } else { (tp0, 22) };
                    cpu.x[delta] = wild.wrapping_sub(reg0);
                    cpu.x[23] = always_jr;
                    cpu.x[24] = jr_trip;
                    cpu.x[28] = CODE;
                    let data: Vec<u8> = (0..DATA_LEN).map(|i| (i * 3 + 1) as u8).collect();
                    let what =
                        format!("mix {mix} wild {wild:#x} sp {sp_wild} jr {always_jr}/{jr_trip}");
                    let o = run_program(&mut h, &code, data, cpu, &what);
                    assert!(matches!(o.trap, Trap::MemFault(_)), "{what}: {o:?}");
                    faults += 1;
                }
            }
        }
    }
    assert_eq!(faults, 2 * wilds.len() * 6);
    assert!(h.jit_stat("jit_translations") > Some(0));
}
