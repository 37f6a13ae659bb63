//! Tests of the whole translator: small hand-assembled guest programs run
//! through the JIT (chaining, indirect jumps, faults at every position of
//! a block, flushes with a tiny cache, self-modifying code).

use super::*;
use crate::memory::Perm;
use crate::testhost::TestHost;

/// The RISC-V encoders ([`crate::rv`]), plus the few forms these
/// hand-written programs use besides.
pub(crate) mod rv {
    pub use crate::rv::*;
    pub fn jalr(rd: u8, rs1: u8, imm: i32) -> u32 {
        i(0x67, 0, rd, rs1, imm)
    }
    pub fn add(rd: u8, rs1: u8, rs2: u8) -> u32 {
        r(0x33, 0, 0, rd, rs1, rs2)
    }
    pub fn ld(rd: u8, rs1: u8, imm: i32) -> u32 {
        i(0x03, 3, rd, rs1, imm)
    }
    pub fn sd(rs1: u8, rs2: u8, imm: i32) -> u32 {
        s(0x23, 3, rs1, rs2, imm)
    }
    pub fn sw(rs1: u8, rs2: u8, imm: i32) -> u32 {
        s(0x23, 2, rs1, rs2, imm)
    }
    pub fn bne(rs1: u8, rs2: u8, off: i32) -> u32 {
        b(1, rs1, rs2, off)
    }
}

pub(crate) const CODE: u64 = 0x10000;
pub(crate) const DATA: u64 = 0x40000;

pub(crate) fn guest(code: &[u32]) -> GuestMemory {
    let mem = GuestMemory::new(TestHost::leak(), 1 << 24).unwrap();
    mem.map(CODE, 0x10000, Perm::READ | Perm::EXEC, true)
        .unwrap();
    mem.map(DATA, 0x10000, Perm::READ | Perm::WRITE, true)
        .unwrap();
    let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    mem.write_bytes_privileged(CODE, &bytes).unwrap();
    mem
}

/// The guest block of 4-byte instructions `words` at `pc`, decoded (for
/// tests of the translator's analyses).
pub(crate) fn block(pc: u64, words: &[u32]) -> Vec<GuestInst> {
    words
        .iter()
        .enumerate()
        .map(|(i, &w)| {
            let (inst, len) = decode(w);
            GuestInst {
                pc: pc + 4 * i as u64,
                inst,
                len,
            }
        })
        .collect()
}

fn jit(size: usize) -> Jit {
    Jit::new(TestHost::leak(), size).unwrap()
}

/// Run until something other than `Budget`.
pub(crate) fn run(j: &mut Jit, cpu: &mut Cpu, mem: &GuestMemory) -> Trap {
    loop {
        match j.run(cpu, mem) {
            Trap::Budget => continue,
            t => return t,
        }
    }
}

/// Run `code` (at [`CODE`], with [`guest`]'s memory) on a fresh JIT with
/// a 1 MiB cache from a `Cpu` that `setup` prepares, until something other
/// than `Budget`: the trap, the final state, and the JIT for its counters.
pub(crate) fn run_fresh(code: &[u32], setup: impl FnOnce(&mut Cpu)) -> (Trap, Cpu, Jit) {
    let mem = guest(code);
    let mut j = jit(1 << 20);
    let mut cpu = Cpu {
        pc: CODE,
        ..Cpu::default()
    };
    setup(&mut cpu);
    let t = run(&mut j, &mut cpu, &mem);
    (t, cpu, j)
}

fn cpu_at(pc: u64) -> Cpu {
    Cpu {
        pc,
        ..Cpu::default()
    }
}

/// The set-up every program here shares: `code` at [`CODE`] under a new
/// translator with a code cache of `cache` bytes, from `CODE` with the
/// registers and memory `setup` gives, run to its final `ecall`.
fn run_to_ecall(
    code: &[u32],
    cache: usize,
    setup: impl FnOnce(&mut Cpu, &GuestMemory),
) -> (Jit, Cpu, GuestMemory) {
    let mem = guest(code);
    let mut j = jit(cache);
    let mut cpu = cpu_at(CODE);
    setup(&mut cpu, &mem);
    assert_eq!(run(&mut j, &mut cpu, &mem), Trap::Ecall);
    (j, cpu, mem)
}

#[test]
fn loop_sums_and_chains() {
    use rv::*;
    // a0 = sum(1..=1000); loop with a backward branch.
    let code = [
        addi(10, 0, 0),   // a0 = 0
        addi(5, 0, 1000), // t0 = 1000
        add(10, 10, 5),   // loop: a0 += t0
        addi(5, 5, -1),   // t0 -= 1
        bne(5, 0, -8),    // if t0 != 0 goto loop
        ECALL,
    ];
    let (j, cpu, _) = run_to_ecall(&code, 1 << 20, |_, _| {});
    assert_eq!(cpu.x[10], 500500);
    assert_eq!(cpu.pc, CODE + 20);
    // 2 + 3*1000 + the ecall (counted as retired, as the interpreter does)
    assert_eq!(cpu.instret, 2 + 3000 + 1);
    let s = j.counters();
    // A one-block loop closes on itself even in the first tier: its back
    // edge is a host jump, so it never comes back to be counted.
    assert_eq!(j.promotions(), 0, "{s:?}");
    assert!(s.blocks <= 3, "{s:?}");
}

#[test]
fn hot_loop_becomes_a_region() {
    use rv::*;
    // a0 = sum of the odd numbers in 1..=1000: a loop of three blocks.
    let code = [
        addi(10, 0, 0),      // 0: a0 = 0
        addi(5, 0, 1000),    // 4: t0 = 1000
        i(0x13, 7, 6, 5, 1), // 8: loop: andi t1, t0, 1
        rv::b(0, 6, 0, 8),   // 12: beq t1, x0, skip
        add(10, 10, 5),      // 16: a0 += t0
        addi(5, 5, -1),      // 20: skip: t0 -= 1
        bne(5, 0, -16),      // 24: if t0 != 0 goto loop
        ECALL,               // 28
    ];
    let (j, cpu, _) = run_to_ecall(&code, 1 << 20, |_, _| {});
    assert_eq!(cpu.x[10], 250000);
    assert_eq!(cpu.instret, 2 + 500 * 5 + 500 * 4 + 1);
    let s = j.counters();
    // First-tier blocks at 0, 8, 16, 20 and 28; the loop head gets hot and
    // its region (8, 16, 20: the paths seen) replaces it.
    assert_eq!(j.promotions(), 1, "{s:?}");
    assert!(s.blocks <= 6, "{s:?}");
}

#[test]
fn calls_chain_between_regions() {
    use rv::*;
    // Call a function 100 times: as first-tier blocks, the call leaves
    // the caller's block through a chainable exit and the return is an
    // indirect jump; once the loop is hot, its region traces the call
    // through (f is a small leaf), so call and return are host jumps
    // inside the region.
    let code = [
        addi(9, 0, 100), // 0: s1 = 100
        jal(1, 16),      // 4: call f (at 20)
        addi(9, 9, -1),  // 8
        bne(9, 0, -8),   // 12: goto 4
        ECALL,           // 16
        addi(10, 10, 3), // 20: f: a0 += 3
        jalr(0, 1, 0),   // 24: ret
    ];
    let (j, cpu, _) = run_to_ecall(&code, 1 << 20, |_, _| {});
    assert_eq!(cpu.x[10], 300);
    assert_eq!(cpu.instret, 1 + 100 * 5 + 1);
    let s = j.counters();
    assert!(s.chained >= 1, "{s:?}");
    // After chaining, calls and returns never come back to the
    // dispatcher: a handful of translations (first-tier blocks and the
    // regions hot ones became) serve all 100 iterations.
    assert!(s.blocks <= 8, "{s:?}");
    assert!(s.indirect_misses <= 2, "{s:?}");
    // Until the region took over (after the first tier's 50 runs), the
    // returns were host returns through the frames their calls pushed
    // (`x86_64/codegen/ras.rs`), not table probes.
    let hits = j.indirect_hits();
    assert!(hits <= 2, "{hits}");
}

#[test]
fn calls_use_the_indirect_table() {
    use rv::*;
    // main: call f 100 times through a register (an indirect call,
    // which no region traces); f: a0 += 3; ret
    let code = [
        addi(9, 0, 100), // 0: s1 = 100
        jalr(1, 5, 0),   // 4: call f (at 24, in t0)
        addi(9, 9, -1),  // 8
        bne(9, 0, -8),   // 12: loop to 4
        ECALL,           // 16
        0x13,            // 20: nop
        addi(10, 10, 3), // 24: f
        jalr(0, 1, 0),   // 28: ret
    ];
    let (j, cpu, _) = run_to_ecall(&code, 1 << 20, |cpu, _| cpu.x[5] = CODE + 24);
    assert_eq!(cpu.x[10], 300);
    assert_eq!(cpu.x[1], CODE + 8);
    assert!(j.indirect_hits() >= 98, "{}", j.indirect_hits());
    assert!(j.counters().indirect_misses <= 2);
}

#[test]
fn fault_at_every_position_is_precise() {
    use rv::*;
    // A block of 8 instructions: adds interleaved with memory accesses.
    // Make instruction k fault by pointing its base register (x7) at an
    // unmapped page, and check pc, registers and instret.
    for k in 0..8usize {
        let mut code = Vec::new();
        for i in 0..8usize {
            let base = if i == k { 7 } else { 6 };
            code.push(match i % 4 {
                0 => addi(10 + i as u8, 0, i as i32 + 1),
                1 => ld(10 + i as u8, base, 8),
                2 => sd(base, 10, 16),
                _ => sw(base, 11, 24),
            });
        }
        // non-memory instructions cannot fault: make the faulting one a load.
        if k % 4 == 0 {
            code[k] = ld(10 + k as u8, 7, 0);
        }
        code.push(ECALL);
        let mem = guest(&code);
        mem.write_u64(DATA + 8, 0x1234).unwrap();
        let mut j = jit(1 << 20);
        let mut cpu = cpu_at(CODE);
        cpu.x[6] = DATA;
        cpu.x[7] = 0x80_0000; // unmapped
        let before = cpu.clone();
        let t = run(&mut j, &mut cpu, &mem);
        let Trap::MemFault(f) = t else {
            panic!("k={k}: {t:?}")
        };
        assert!(!f.mapped);
        assert_eq!(cpu.pc, CODE + 4 * k as u64, "k={k}");
        assert_eq!(cpu.instret, k as u64, "k={k}");
        // registers written by instructions 0..k only
        for i in 0..8usize {
            let r = 10 + i;
            let want = if i >= k {
                before.x[r]
            } else {
                match i % 4 {
                    0 => i as u64 + 1,
                    1 => 0x1234,
                    _ => before.x[r],
                }
            };
            assert_eq!(cpu.x[r], want, "k={k} x{r}");
        }
        // The side table maps every instruction's host code back to it.
        // (past the entry code: budget check and cached-register loads)
        let (base, tr) = j.with_cache(|c| {
            let host = c.lookup(CODE).unwrap();
            (c.base(), c.find_host(host + 200).unwrap().0.clone())
        });
        for e in &tr.side {
            let (pc, idx) = j
                .guest_at(base + (tr.host_off + e.host_off) as u64)
                .unwrap();
            assert_eq!((pc, idx), (e.guest_pc, e.index));
            assert_eq!(pc, CODE + 4 * idx as u64);
        }
    }
}

#[test]
fn tiny_cache_flushes_and_stays_correct() {
    use rv::*;
    // 2000 distinct blocks, each `addi a0, a0, 1; jal x0, next`, run 3 times
    // round a loop: far more code than a 64 KiB cache holds.
    let n = 2000;
    let mut code = vec![addi(9, 0, 3)];
    for _ in 0..n {
        code.push(addi(10, 10, 1));
        code.push(jal(0, 4));
    }
    code.push(addi(9, 9, -1));
    code.push(rv::b(0, 9, 0, 8)); // beq s1, x0, +8 (done)
    code.push(jal(0, -(4 * (2 * n as i32 + 2)))); // back to the first block
    code.push(ECALL);
    let (j, cpu, mem) = run_to_ecall(&code, MIN_CACHE_SIZE, |_, _| {});
    assert_eq!(cpu.x[10], 3 * n);
    let c = j.counters();
    assert!(c.evictions >= 2 && c.evicted > 0, "{c:?}");
    // Only the first run's flush: FIFO makes room unit by unit.
    assert_eq!(c.flushes, 1, "{c:?}");
    // The same under the flush policy.
    let shared = SharedCode::with_policy(TestHost::leak(), MIN_CACHE_SIZE, CachePolicy::Flush);
    let mut j = Jit::with_shared(shared.unwrap());
    j.set_cold_runs(0);
    let mut cpu = cpu_at(CODE);
    assert_eq!(run(&mut j, &mut cpu, &mem), Trap::Ecall);
    assert_eq!(cpu.x[10], 3 * n);
    let c = j.counters();
    assert!(c.flushes >= 3 && c.evictions == 0, "{c:?}");
}

/// FIFO eviction undoes the chains into an evicted unit. Every block
/// jumps back to one hub, which dispatches (indirect jumps) in turn to a
/// hot block (16 at a time, a new set every 512 visits) and to the next of
/// 4096 blocks run once each, so units keep being evicted while hot blocks
/// chained to the hub outlive the hub's unit: their chains must then go
/// back through the dispatcher, or they would jump into evicted code
/// (which traps: eviction fills it with `int3`).
#[test]
fn fifo_eviction_unlinks_chains_into_the_unit() {
    use rv::*;
    let n = 4096;
    let slli = |rd, rs1, sh| rv::i(0x13, 1, rd, rs1, sh);
    let srli = |rd, rs1, sh| rv::i(0x13, 5, rd, rs1, sh);
    let andi = |rd, rs1, imm| rv::i(0x13, 7, rd, rs1, imm);
    let mut code = vec![
        lui(9, 4),                      // 0: s1 = 16384 visits of the hub
        auipc(31, 0),                   // 1: t6 = CODE + 4
        addi(31, 31, 100),              // 2: t6 = the hot blocks (word 26)
        addi(5, 31, 2047),              // 3
        addi(5, 5, 1),                  // 4: t0 = the run-once blocks
        lui(28, 8),                     // 5
        addi(28, 28, -8),               // 6: t3 = mask of their offset
        addi(6, 0, 0),                  // 7: t1 = 0
        addi(9, 9, -1),                 // 8: hub
        bne(9, 0, 8),                   // 9
        jal(0, 4 * (538 + 2 * n - 10)), // 10: to the ecall
        andi(29, 9, 1),                 // 11
        rv::b(0, 29, 0, 40),            // 12: beq t4, x0, 22
        srli(30, 9, 1),                 // 13
        andi(30, 30, 15),               // 14
        srli(29, 9, 9),                 // 15
        andi(29, 29, 15),               // 16
        slli(29, 29, 4),                // 17
        add(30, 30, 29),                // 18
        slli(30, 30, 3),                // 19
        add(7, 31, 30),                 // 20
        jalr(0, 7, 0),                  // 21: a hot block
        add(7, 5, 6),                   // 22
        addi(6, 6, 8),                  // 23
        r(0x33, 7, 0, 6, 6, 28),        // 24: and t1, t1, t3
        jalr(0, 7, 0),                  // 25: the next run-once block
    ];
    for k in 0..256 + n {
        code.push(addi(10, 10, 1));
        code.push(jal(0, 4 * (8 - (26 + 2 * k + 1))));
    }
    code.push(ECALL);
    let mem = guest(&code);
    for policy in [CachePolicy::Fifo, CachePolicy::Flush] {
        let shared = SharedCode::with_policy(TestHost::leak(), MIN_CACHE_SIZE, policy);
        let mut j = Jit::with_shared(shared.unwrap());
        j.set_cold_runs(0);
        let mut cpu = cpu_at(CODE);
        assert_eq!(run(&mut j, &mut cpu, &mem), Trap::Ecall);
        assert_eq!(cpu.x[10], (1 << 14) - 1, "{policy:?}");
        let c = j.counters();
        if policy == CachePolicy::Fifo {
            assert!(c.evictions >= 4 && c.unchained > 0, "{c:?}");
        } else {
            assert!(c.flushes >= 4 && c.unchained == 0, "{c:?}");
        }
    }
}

#[test]
fn store_into_code_invalidates() {
    use rv::*;
    // Patch the instruction at `target` from `addi a0,x0,1` to
    // `addi a0,x0,2` after running it once; the second run must see 2.
    let code = [
        addi(9, 0, 2),   // 0: s1 = 2 iterations
        addi(10, 0, 1),  // 4: target
        add(11, 11, 10), // 8: a1 += a0
        sw(6, 7, 4),     // 12: store new instruction word at CODE+4
        addi(9, 9, -1),  // 16
        bne(9, 0, -16),  // 20: goto 4
        ECALL,           // 24
    ];
    let (j, cpu, _) = run_to_ecall(&code, 1 << 20, |cpu, mem| {
        // The guest may write its code page in this test.
        mem.protect(CODE, 0x10000, Perm::READ | Perm::WRITE | Perm::EXEC)
            .unwrap();
        cpu.x[6] = CODE;
        cpu.x[7] = addi(10, 0, 2) as u64;
    });
    assert_eq!(cpu.x[11], 1 + 2);
    assert!(j.counters().flushes >= 1);
}

#[test]
fn fence_i_and_fallback_steps() {
    use rv::*;
    // csrrs a0, instret, x0 is a fallback instruction; fence.i flushes.
    let csrr_instret = rv::i(0x73, 2, 10, 0, 0xc02);
    let code = [addi(5, 0, 7), csrr_instret, FENCE_I, addi(6, 0, 1), ECALL];
    let (j, cpu, _) = run_to_ecall(&code, 1 << 20, |_, _| {});
    assert_eq!(cpu.x[10], 1);
    assert_eq!(cpu.x[6], 1);
    assert_eq!(cpu.instret, 5);
    assert_eq!(j.counters().steps, 3);
    assert!(j.counters().flushes >= 1);
}

#[test]
fn fetch_fault_and_illegal() {
    let mem = guest(&[0xffff_ffff]);
    let mut j = jit(1 << 20);
    let mut cpu = cpu_at(CODE);
    assert!(matches!(
        run(&mut j, &mut cpu, &mem),
        Trap::IllegalInstruction(_)
    ));
    assert_eq!(cpu.pc, CODE);
    let mut cpu = cpu_at(0x80_0000);
    let Trap::MemFault(f) = run(&mut j, &mut cpu, &mem) else {
        panic!()
    };
    assert_eq!(f.access, crate::memory::Access::Exec);
    assert_eq!(cpu.pc, 0x80_0000);
}

/// Rough speed comparison with the interpreter (run with
/// `cargo test --release -p vm-core --lib jit_speed -- --ignored --nocapture`).
#[test]
#[ignore]
fn jit_speed() {
    extern crate std;
    use crate::interp::Interpreter;
    use rv::*;
    // alu: 10M iterations of a few ALU ops; mem: load/add/store per iteration.
    let alu = [
        lui(5, 0x989), // t0 = 0x989000 (~10M)
        add(10, 10, 5),
        rv::r(0x33, 4, 0, 11, 11, 10), // xor a1, a1, a0
        rv::r(0x33, 0, 1, 12, 11, 5),  // mul a2, a1, t0
        addi(5, 5, -1),
        bne(5, 0, -16),
        ECALL,
    ];
    let mem_loop = [
        lui(5, 0x989),
        ld(10, 6, 0),
        add(10, 10, 5),
        sd(6, 10, 8),
        ld(11, 6, 8),
        sd(6, 11, 0),
        addi(5, 5, -1),
        bne(5, 0, -24),
        ECALL,
    ];
    for (name, code) in [("alu", &alu[..]), ("mem", &mem_loop[..])] {
        let mut times = Vec::new();
        for e in 0..2 {
            let mem = guest(code);
            let mut cpu = cpu_at(CODE);
            cpu.x[6] = DATA;
            let mut engine: Box<dyn Engine> = if e == 0 {
                Box::new(Interpreter::new())
            } else {
                Box::new(jit(1 << 20))
            };
            let t = std::time::Instant::now();
            loop {
                match engine.run(&mut cpu, &mem) {
                    Trap::Budget => continue,
                    Trap::Ecall => break,
                    t => panic!("{t:?}"),
                }
            }
            times.push((t.elapsed(), cpu.instret));
        }
        std::println!(
            "{name}: interp {:?} jit {:?} ({} guest insts, speedup {:.1}x)",
            times[0].0,
            times[1].0,
            times[1].1,
            times[0].0.as_secs_f64() / times[1].0.as_secs_f64()
        );
    }
}

#[test]
fn cached_pages_keep_permissions_and_bounds() {
    use rv::*;
    // DATA is RW; make DATA+0x1000 read-only and leave DATA+0x2000.. as is
    // (mapped RW up to DATA+0x10000); unmap DATA+0x3000.
    let cases: [(&[u32], u64, crate::memory::Access); 3] = [
        // load from the RO page (caches it), then store to it: must fault.
        (
            &[ld(10, 6, 0), sd(6, 10, 8), ECALL],
            DATA + 0x1008,
            crate::memory::Access::Write,
        ),
        // load at the start of the RW page before the hole (caches it),
        // then a load crossing into the unmapped page: must fault there.
        (
            &[ld(10, 7, 0), ld(11, 7, 0x7fc), ECALL],
            DATA + 0x3000,
            crate::memory::Access::Read,
        ),
        // store crossing from a cached RW page into the hole.
        (
            &[sd(7, 0, 0), sw(7, 0, 0x7fe), ECALL],
            DATA + 0x3000,
            crate::memory::Access::Write,
        ),
    ];
    for (k, (code, addr, access)) in cases.into_iter().enumerate() {
        let mem = guest(code);
        mem.protect(DATA + 0x1000, 0x1000, Perm::READ).unwrap();
        mem.unmap(DATA + 0x3000, 0x1000).unwrap();
        let mut j = jit(1 << 20);
        // Run twice: the second run uses chained, cached code.
        for _ in 0..2 {
            let mut cpu = cpu_at(CODE);
            cpu.x[6] = DATA + 0x1000;
            cpu.x[7] = DATA + 0x2800;
            let Trap::MemFault(f) = run(&mut j, &mut cpu, &mem) else {
                panic!("case {k}: no fault")
            };
            assert_eq!((f.addr, f.access), (addr, access), "case {k}");
            assert_eq!(cpu.pc, CODE + 4, "case {k}");
            assert_eq!(cpu.instret, 1, "case {k}");
        }
        // Nothing was written to the read-only page.
        assert_eq!(mem.read_u64(DATA + 0x1008).unwrap(), 0);
    }
}

#[test]
fn cached_pages_follow_permission_changes_between_runs() {
    use rv::*;
    // A run caches a page as writable (or readable); the guest then
    // changes its permission (between runs, as a system call does): the
    // next run must fault on it, never use the cached entry.
    let code = [sd(6, 7, 0), ld(10, 6, 8), ECALL];
    // A permission change, and the access the next run must fault on.
    type Change<'a> = (&'a dyn Fn(&GuestMemory), crate::memory::Access);
    let changes: [Change<'_>; 2] = [
        (
            &|m| m.protect(DATA, 0x1000, Perm::READ).unwrap(),
            crate::memory::Access::Write,
        ),
        (
            &|m| m.unmap(DATA, 0x1000).unwrap(),
            crate::memory::Access::Write,
        ),
    ];
    for (k, (change, access)) in changes.into_iter().enumerate() {
        let mem = guest(&code);
        let mut j = jit(1 << 20);
        for _ in 0..3 {
            let mut cpu = cpu_at(CODE);
            cpu.x[6] = DATA;
            cpu.x[7] = 7;
            assert_eq!(run(&mut j, &mut cpu, &mem), Trap::Ecall, "case {k}");
        }
        change(&mem);
        let mut cpu = cpu_at(CODE);
        cpu.x[6] = DATA;
        cpu.x[7] = 9;
        let Trap::MemFault(f) = run(&mut j, &mut cpu, &mem) else {
            panic!("case {k}: no fault after the permission change")
        };
        assert_eq!((f.addr, f.access), (DATA, access), "case {k}");
        assert_eq!(cpu.pc, CODE, "case {k}");
    }
    // A read-only page of another memory at the same guest address: the
    // cache of the first memory says nothing about it.
    let first = guest(&code);
    let mut j = jit(1 << 20);
    let mut cpu = cpu_at(CODE);
    cpu.x[6] = DATA;
    assert_eq!(run(&mut j, &mut cpu, &first), Trap::Ecall);
    let second = guest(&code);
    second.protect(DATA, 0x1000, Perm::READ).unwrap();
    let mut cpu = cpu_at(CODE);
    cpu.x[6] = DATA;
    cpu.x[7] = 9;
    let Trap::MemFault(f) = run(&mut j, &mut cpu, &second) else {
        panic!("no fault on the other memory's read-only page")
    };
    assert_eq!((f.addr, f.access), (DATA, crate::memory::Access::Write));
    assert_eq!(second.read_u64(DATA).unwrap(), 0);
}

#[test]
fn wide_code_changes_flush_only_over_code() {
    use rv::*;
    let code = [
        addi(5, 0, 100), // t0 = 100
        addi(5, 5, -1),  // loop: t0 -= 1
        bne(5, 0, -4),   // if t0 != 0 goto loop
        ECALL,
    ];
    let (mut j, mut cpu, mem) = run_to_ecall(&code, 1 << 20, |_, _| {});
    let again = |j: &mut Jit, cpu: &mut Cpu| {
        cpu.pc = CODE;
        assert_eq!(run(j, cpu, &mem), Trap::Ecall);
        j.counters()
    };
    let before = j.counters();
    assert!(before.blocks >= 1, "{before:?}");
    // Executable pages over 8 MiB far from the code (more words of the
    // code-page map than hold code) re-protected: the translations stay.
    mem.map(0x20_0000, 0x80_0000, Perm::READ | Perm::EXEC, true)
        .unwrap();
    let before = again(&mut j, &mut cpu);
    mem.protect(0x20_0000, 0x80_0000, Perm::READ).unwrap();
    let s = again(&mut j, &mut cpu);
    assert_eq!(s.flushes, before.flushes, "{s:?}");
    assert_eq!(s.flushes_avoided, before.flushes_avoided + 1, "{s:?}");
    // The whole address space (a program loaded anew) covers the code.
    mem.invalidate_code();
    let s2 = again(&mut j, &mut cpu);
    assert_eq!(s2.flushes, s.flushes + 1, "{s2:?}");
    // A wide range that starts in the word holding the code page, past it.
    mem.map(CODE + 0x1_0000, 0x10_0000, Perm::READ | Perm::EXEC, true)
        .unwrap();
    let s2 = again(&mut j, &mut cpu);
    mem.protect(CODE + 0x1_0000, 0x10_0000, Perm::READ).unwrap();
    let s3 = again(&mut j, &mut cpu);
    assert_eq!(s3.flushes, s2.flushes, "{s3:?}");
    assert_eq!(s3.flushes_avoided, s2.flushes_avoided + 1, "{s3:?}");
    // And one over it.
    mem.protect(CODE, 0x11_0000, Perm::READ | Perm::WRITE | Perm::EXEC)
        .unwrap();
    let s4 = again(&mut j, &mut cpu);
    assert_eq!(s4.flushes, s3.flushes, "{s4:?}");
    assert_eq!(s4.page_invalidations, s3.page_invalidations + 1, "{s4:?}");
    assert!(s4.invalidated >= 1, "{s4:?}");
}

/// `riscv_flush_icache` over one page (`GuestMemory::code_flushed`) kills
/// the translations of that page only: a loop in another page keeps its
/// translation (no retranslation, no flush), and the changed code runs
/// new.
#[test]
fn flush_icache_of_one_page_keeps_other_translations() {
    use rv::*;
    // Two loops, one per page: t0 counts down from 100, a0 (resp. a1)
    // is set before the loop.
    let lp = |rd: u8, v: i32| {
        [
            addi(rd, 0, v),
            addi(5, 0, 100),
            addi(5, 5, -1),
            bne(5, 0, -4),
            ECALL,
        ]
    };
    let mut code = vec![0u32; 0x1000 / 4 + 5];
    code[..5].copy_from_slice(&lp(10, 1));
    code[0x1000 / 4..].copy_from_slice(&lp(11, 2));
    let mem = guest(&code);
    let mut j = jit(1 << 20);
    let mut cpu = cpu_at(CODE);
    let go = |j: &mut Jit, cpu: &mut Cpu, pc: u64| {
        cpu.pc = pc;
        for _ in 0..3 {
            cpu.pc = pc;
            assert_eq!(run(j, cpu, &mem), Trap::Ecall);
        }
        j.counters()
    };
    let b = CODE + 0x1000;
    go(&mut j, &mut cpu, CODE);
    let s0 = go(&mut j, &mut cpu, b);
    assert_eq!((cpu.x[10], cpu.x[11]), (1, 2));
    let live = j.with_cache(|c| c.len());
    assert!(j.with_cache(|c| c.lookup(CODE).is_some() && c.lookup(b).is_some()));
    // Change the second loop's first instruction and announce its bytes.
    mem.write_bytes_privileged(b, &addi(11, 0, 7).to_le_bytes())
        .unwrap();
    mem.code_flushed(b, b + 4);
    let s1 = go(&mut j, &mut cpu, CODE);
    assert_eq!(s1.flushes, s0.flushes, "{s1:?}");
    assert_eq!(s1.page_invalidations, s0.page_invalidations + 1, "{s1:?}");
    // The first loop was not translated again; the second's are gone.
    assert_eq!(s1.blocks, s0.blocks, "{s1:?}");
    assert!(s1.invalidated >= 1, "{s1:?}");
    assert_eq!(j.with_cache(|c| c.len()), live - s1.invalidated as usize);
    assert!(j.with_cache(|c| c.lookup(CODE).is_some() && c.lookup(b).is_none()));
    let s2 = go(&mut j, &mut cpu, b);
    assert_eq!(cpu.x[11], 7);
    assert!(s2.blocks > s1.blocks, "{s2:?}");
    // An empty range stands for everything, as in Linux.
    mem.code_flushed(b, b);
    let s3 = go(&mut j, &mut cpu, CODE);
    assert_eq!(s3.flushes, s2.flushes + 1, "{s3:?}");
}

/// A block's heat is its cold runs; one with none of its own takes the
/// heat of the block falling into it, or, after a jump, counts as hot as
/// any; without staging every block counts 1.
#[test]
fn block_heat_follows_cold_runs_and_fall_through() {
    use rv::*;
    let blocks = [
        block(0x100, &[addi(10, 10, 1), bne(10, 11, 0x20)]), // ran 12 times
        block(0x108, &[addi(12, 12, 1)]),                    // none: falls from 0x100
        block(0x10c, &[addi(13, 13, 1), rv::jal(0, 0x10)]),  // ran twice
        block(0x114, &[addi(14, 14, 1)]),                    // none, after a jump
    ];
    let refs: Vec<&[GuestInst]> = blocks.iter().map(|b| b.as_slice()).collect();
    let mut p = Profile::new();
    for _ in 0..12 {
        p.run_cold(0x100, COLD_RUNS);
    }
    for _ in 0..2 {
        p.run_cold(0x10c, COLD_RUNS);
    }
    assert_eq!(block_heat(&p, &refs, COLD_RUNS), [12, 12, 2, COLD_RUNS]);
    assert_eq!(block_heat(&p, &refs, 0), [1, 1, 1, 1]);
}
