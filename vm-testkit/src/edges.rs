//! Differential cases at the edges of the guest address space: loads and
//! stores within +-2048 of guest address 0 and of its end, through a base
//! register an earlier access of the same block validated. The translator
//! leaves the bounds compare out of such an access (the guard regions
//! around the reservation catch it, see vm-core's
//! `translate/x86_64/codegen/bounds.rs`), so these are the cases where a
//! missing compare or guard would let a guest access reach host memory:
//! both engines must end with the same precise fault (or the same
//! values, inside the space).
//!
//! Each case maps a page at 0 and the last page of the space (read and
//! write), then runs a loop whose body block is
//! `first(s1); [addi s1, s1, k]; second(s1); ...; bnez`, with `s1` inside
//! the data area on every iteration but the last, where it is the edge
//! base. Enough iterations that the body is translated (and promoted to
//! a region when the cache is big enough) before the edge one runs.
//! Then the same with the base changed after its check (moved by an
//! `add`) or checked on one of two joining paths only, the last
//! iteration's base far past the space (`program_changed`).

use crate::difftest::{Case, DATA, Harness, Mismatch};
use crate::rv;
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use vm_core::cpu::{Cpu, Trap};
use vm_core::memory::{PAGE_SIZE, Perm};

const LOOP: u8 = 5; // t0
const S1: u8 = 9;
const TAME: u8 = 18; // s2: inside the data area
const EDGE: u8 = 19; // s3: the edge base
const T1: u8 = 6;
const S5: u8 = 21;

/// A load (`funct3` 0..=6) or store (`funct3` 0..=3 with `store`) of
/// `rd`/`rs2` at `imm(rs1)`.
fn mem(store: bool, f3: u32, r: u8, rs1: u8, imm: i32) -> u32 {
    if store {
        rv::s(0x23, f3, rs1, r, imm)
    } else {
        rv::i(0x03, f3, r, rs1, imm)
    }
}

/// One case's code: see the module documentation.
fn program(first: u32, step: i32, second: u32, iterations: i32) -> Vec<u32> {
    let mut c = vec![
        rv::addi(LOOP, 0, iterations),
        // loop:
        rv::addi(LOOP, LOOP, -1),
        rv::addi(S1, TAME, 0),
        rv::b(1, LOOP, 0, 8), // bnez LOOP, body
        rv::addi(S1, EDGE, 0),
        // body:
        first,
    ];
    if step != 0 {
        c.push(rv::addi(S1, S1, step));
    }
    c.push(second);
    // add t1, t1, s1 (a use of the loaded values' register, so the body
    // is not all memory), then back while LOOP != 0.
    c.push(rv::r(0x33, 0, 0, T1, T1, S1));
    let back = -(4 * (c.len() as i32 - 1));
    c.push(rv::b(1, LOOP, 0, back));
    c.push(rv::ECALL);
    c
}

/// A loop whose base register is validated and then changed before its
/// next access (`moved`: `add s1, s5, x0` after `ld t1, 0(s1)`, `s5`
/// the far value on the last iteration), or validated on one path only
/// (`!moved`: the last iteration jumps straight to the access with the
/// far base, past the block that checked the tame one): the translator
/// must compare again, so the access faults at the far address.
fn program_changed(moved: bool, second: u32, iterations: i32) -> Vec<u32> {
    let mut c = vec![rv::addi(LOOP, 0, iterations)];
    if moved {
        c.extend([
            // loop:
            rv::addi(LOOP, LOOP, -1),
            rv::addi(S1, TAME, 0),
            rv::addi(S5, TAME, 0),
            rv::b(1, LOOP, 0, 12), // bnez LOOP, body
            rv::addi(S1, TAME, 0),
            rv::addi(S5, EDGE, 0),
            // body:
            rv::i(0x03, 3, T1, S1, 0),
            rv::r(0x33, 0, 0, S1, S5, 0),
            second,
        ]);
    } else {
        c.extend([
            // loop:
            rv::addi(LOOP, LOOP, -1),
            rv::addi(S1, EDGE, 0),
            rv::b(0, LOOP, 0, 16), // beqz LOOP, body
            rv::addi(S1, TAME, 0),
            rv::i(0x03, 3, T1, S1, 0),
            rv::i(0x03, 3, T1, S1, 8),
            // body:
            second,
        ]);
    }
    c.push(rv::r(0x33, 0, 0, T1, T1, S1));
    let back = -(4 * (c.len() as i32 - 1));
    c.push(rv::b(1, LOOP, 0, back));
    c.push(rv::ECALL);
    c
}

/// Edge bases for a first access at offset `first` and a second at
/// `step + imm` from the same base, in a space of `size` bytes: the
/// second access's address a little past an edge, at it or a little
/// inside, wherever the first access stays inside a mapped edge page.
fn bases(size: u64, first: i32, off: i64) -> Vec<u64> {
    let near = [-2040i64, -9, -8, -1, 0, 1, 8];
    let mut v = Vec::new();
    for a in near.iter().map(|&d| d as u64).chain(
        near.iter()
            .map(|&d| size.wrapping_add(d.wrapping_neg() as u64)),
    ) {
        let base = a.wrapping_sub(off as u64);
        let f = base.wrapping_add(first as i64 as u64);
        if f <= PAGE_SIZE - 8 || (f >= size - PAGE_SIZE && f <= size - 8) {
            v.push(base);
        }
    }
    v
}

/// Run every edge case on `h`; returns how many ended in a memory fault
/// (the rest end with the `ecall`), or the first disagreement.
pub fn check_edges(h: &mut Harness) -> Result<u32, Box<Mismatch>> {
    let size = h.space_size();
    let rw = Perm::READ | Perm::WRITE;
    h.map_both(0, PAGE_SIZE, rw);
    h.map_both(size - PAGE_SIZE, PAGE_SIZE, rw);
    let mut faults = 0;
    // The first access (store?, funct3, offset): a load or a store.
    let firsts = [(false, 3, 0), (false, 4, -2048), (true, 3, 2040)];
    // The second (store?, funct3): lb, lhu, lw, ld, lwu, sb, sd.
    let seconds = [
        (false, 0),
        (false, 5),
        (false, 2),
        (false, 3),
        (false, 6),
        (true, 0),
        (true, 3),
    ];
    let data_end = crate::difftest::DATA_LEN as i64 - 8;
    for &(fs, ff3, fimm) in &firsts {
        for &(ss, sf3) in &seconds {
            for imm in [-2048, -8, 7, 2047] {
                for step in [0, 2047] {
                    let off = step as i64 + imm as i64;
                    // A base for the other iterations keeping both accesses
                    // inside the data area.
                    let lo = (-(fimm as i64)).max(-off);
                    let hi = (data_end - fimm as i64).min(data_end - off);
                    if lo > hi {
                        continue;
                    }
                    let tame = DATA.wrapping_add(lo as u64);
                    for base in bases(size, fimm, off) {
                        let first = mem(fs, ff3, T1, S1, fimm);
                        let second = mem(ss, sf3, T1, S1, imm);
                        let mut cpu = Cpu::default();
                        cpu.x[TAME as usize] = tame;
                        cpu.x[EDGE as usize] = base;
                        let case = Case::program(
                            &program(first, step, second, 70),
                            vec![0x5a; crate::difftest::DATA_LEN],
                            cpu,
                        );
                        if matches!(h.run(&case)?.trap, Trap::MemFault(_)) {
                            faults += 1;
                        }
                    }
                }
            }
        }
    }
    // A base changed after its check, or checked on another path only:
    // the far values lie past both ends and past the guard regions.
    for moved in [true, false] {
        for &(ss, sf3) in &seconds {
            for imm in [-2048, 0, 2040] {
                for far in [
                    size + 2048,
                    size + 4096,
                    size + (1 << 20),
                    1 << 40,
                    1 << 46,
                    (-(1i64 << 20)) as u64,
                    (-4096i64) as u64,
                ] {
                    let second = mem(ss, sf3, T1, S1, imm);
                    let mut cpu = Cpu::default();
                    cpu.x[TAME as usize] = DATA + 2048;
                    cpu.x[EDGE as usize] = far;
                    let case = Case::program(
                        &program_changed(moved, second, 70),
                        vec![0x5a; crate::difftest::DATA_LEN],
                        cpu,
                    );
                    match h.run(&case)?.trap {
                        Trap::MemFault(_) => faults += 1,
                        t => panic!("a far access ended with {t:?}\n{}", case.listing()),
                    }
                }
            }
        }
    }
    Ok(faults)
}
