//! Region formation with a stop predicate ([`scan_region_stopping`]):
//! code that has a translation of its own stays an exit, except a call
//! traced through.

use super::tests::{CODE, guest, rv};
use super::*;

/// The start pcs of the blocks of the region at [`CODE`].
fn starts(stop: impl Fn(u64) -> bool) -> Vec<u64> {
    let mem = guest(&[
        rv::addi(1, 1, 1), // 0x00
        rv::b(0, 1, 2, 8), // 0x04: beq x1, x2, 0x0c
        rv::jal(0, 8),     // 0x08: j 0x10
        rv::addi(3, 3, 1), // 0x0c
        rv::jal(1, 12),    // 0x10: call 0x1c
        rv::addi(4, 4, 1), // 0x14: the return point
        rv::jalr(0, 5, 0), // 0x18: jr x5
        rv::addi(6, 6, 1), // 0x1c: a small leaf
        rv::jalr(0, 1, 0), // 0x20: ret
    ]);
    scan_region_stopping(&mem, CODE, MAX_REGION, |_| true, stop)
        .unwrap()
        .iter()
        .map(|b| b[0].pc - CODE)
        .collect()
}

#[test]
fn without_stops_every_path_joins() {
    assert_eq!(starts(|_| false), [0x00, 0x08, 0x0c, 0x10, 0x14, 0x1c]);
}

#[test]
fn a_stopped_branch_target_stays_an_exit_but_a_traced_call_does_not() {
    let at = |o: u64| CODE + o;
    assert_eq!(
        starts(|t| [at(0x0c), at(0x14), at(0x1c)].contains(&t)),
        [0x00, 0x08, 0x10, 0x14, 0x1c]
    );
    // The jump to 0x10 stays an exit, but the block at 0x0c runs on
    // into the call there (falling through is not an edge), and the
    // call is traced.
    assert_eq!(starts(|t| t == at(0x10)), [0x00, 0x08, 0x0c, 0x14, 0x1c]);
}

/// The start pcs of the region at [`CODE`] of a loop nest: an outer loop
/// at 0x00 around an inner loop at 0x04.
fn nest_starts(stop: impl Fn(u64) -> bool) -> Vec<u64> {
    let mem = guest(&[
        rv::addi(1, 1, 1),   // 0x00: outer loop head (the entry)
        rv::addi(2, 2, 1),   // 0x04: inner loop
        rv::b(1, 2, 3, -4),  // 0x08: bne x2, x3, 0x04
        rv::b(1, 1, 4, -12), // 0x0c: bne x1, x4, 0x00
        rv::jalr(0, 5, 0),   // 0x10: jr x5
        rv::addi(6, 6, 1),   // 0x14: after the nest
    ]);
    scan_region_stopping(&mem, CODE, MAX_REGION, |_| true, stop)
        .unwrap()
        .iter()
        .map(|b| b[0].pc - CODE)
        .collect()
}

#[test]
fn an_inner_loop_with_its_own_translation_stays_in_the_outer_loop() {
    let at = |o: u64| CODE + o;
    assert_eq!(nest_starts(|_| false), [0x00, 0x04, 0x0c, 0x10]);
    // The inner loop (and the outer loop's latch) lie on the cycle
    // through the entry: they join whatever translation they have.
    assert_eq!(nest_starts(|t| t == at(0x04)), [0x00, 0x04, 0x0c, 0x10]);
    assert_eq!(
        nest_starts(|t| [at(0x04), at(0x0c)].contains(&t)),
        [0x00, 0x04, 0x0c, 0x10]
    );
    // The block after the loop is on no cycle: it stays an exit.
    assert_eq!(nest_starts(|t| t == at(0x10)), [0x00, 0x04, 0x0c]);
}

#[test]
fn a_stopped_block_outside_the_loop_still_stops_the_scan_behind_it() {
    let at = |o: u64| CODE + o;
    // 0x0c is on the cycle, 0x10 is not: the first joins, the second
    // stays an exit.
    assert_eq!(
        nest_starts(|t| [at(0x0c), at(0x10)].contains(&t)),
        [0x00, 0x04, 0x0c]
    );
}

/// The start pcs of the staged region at [`CODE`] of [`starts`]'s code,
/// where `made` says which pcs have translations of their own.
fn staged_starts(made: impl Fn(u64) -> bool) -> Vec<u64> {
    let mem = guest(&[
        rv::addi(1, 1, 1), // 0x00
        rv::b(0, 1, 2, 8), // 0x04: beq x1, x2, 0x0c
        rv::jal(0, 8),     // 0x08: j 0x10
        rv::addi(3, 3, 1), // 0x0c
        rv::jal(1, 12),    // 0x10: call 0x1c
        rv::addi(4, 4, 1), // 0x14: the return point
        rv::jalr(0, 5, 0), // 0x18: jr x5
        rv::addi(6, 6, 1), // 0x1c: a small leaf
        rv::jalr(0, 1, 0), // 0x20: ret
    ]);
    scan_region_staged(&mem, CODE, MAX_REGION, |_| true, |_| false, made)
        .unwrap()
        .iter()
        .map(|b| b[0].pc - CODE)
        .collect()
}

#[test]
fn a_translated_leaf_outside_loops_is_called_and_its_return_point_joins() {
    assert_eq!(
        staged_starts(|_| false),
        [0x00, 0x08, 0x0c, 0x10, 0x14, 0x1c]
    );
    // The leaf has its own translation: the call leaves the region (to
    // be chained there), and the code after it still joins.
    assert_eq!(
        staged_starts(|t| t == CODE + 0x1c),
        [0x00, 0x08, 0x0c, 0x10, 0x14]
    );
}

#[test]
fn the_return_point_of_a_call_into_a_big_callee_joins() {
    // The callee at 0x0c calls on (no leaf): the call at 0x00 leaves the
    // region, the return point at 0x04 joins it.
    let mem = guest(&[
        rv::jal(1, 12),    // 0x00: call 0x0c
        rv::addi(4, 4, 1), // 0x04: the return point
        rv::jalr(0, 5, 0), // 0x08: jr x5
        rv::jal(1, 8),     // 0x0c: call 0x14
        rv::jalr(0, 1, 0), // 0x10: ret
        rv::jalr(0, 1, 0), // 0x14: ret
    ]);
    let starts: Vec<u64> =
        scan_region_staged(&mem, CODE, MAX_REGION, |_| true, |_| false, |_| false)
            .unwrap()
            .iter()
            .map(|b| b[0].pc - CODE)
            .collect();
    assert_eq!(starts, [0x00, 0x04]);
    // Unless it never ran.
    let starts: Vec<u64> = scan_region_staged(
        &mem,
        CODE,
        MAX_REGION,
        |t| t != CODE + 4,
        |_| false,
        |_| false,
    )
    .unwrap()
    .iter()
    .map(|b| b[0].pc - CODE)
    .collect();
    assert_eq!(starts, [0x00]);
    // Nor outside staged emulation.
    let starts: Vec<u64> = scan_region(&mem, CODE, MAX_REGION, |_| true)
        .unwrap()
        .iter()
        .map(|b| b[0].pc - CODE)
        .collect();
    assert_eq!(starts, [0x00]);
}

#[test]
fn a_recursive_region_keeps_no_return_points_of_calls_it_leaves_by() {
    // F at 0x00 calls G (no leaf: it calls on) and then itself.
    let mem = guest(&[
        rv::jal(1, 16),     // 0x00: call G (0x10)
        rv::b(0, 10, 0, 8), // 0x04: beqz a0, 0x0c
        rv::jal(1, -8),     // 0x08: call F (recursion)
        rv::jalr(0, 1, 0),  // 0x0c: ret
        rv::jal(1, 8),      // 0x10: G: call 0x18
        rv::jalr(0, 1, 0),  // 0x14: ret
        rv::jalr(0, 1, 0),  // 0x18: ret
    ]);
    let starts: Vec<u64> =
        scan_region_staged(&mem, CODE, MAX_REGION, |_| true, |_| false, |_| false)
            .unwrap()
            .iter()
            .map(|b| b[0].pc - CODE)
            .collect();
    assert_eq!(starts, [0x00]);
}

#[test]
fn a_translated_leaf_called_in_a_loop_is_traced_all_the_same() {
    let mem = guest(&[
        rv::addi(7, 7, 1),  // 0x00: loop head (the entry)
        rv::jal(1, 16),     // 0x04: call 0x14
        rv::b(1, 7, 4, -8), // 0x08: bne x7, x4, 0x00
        rv::jalr(0, 5, 0),  // 0x0c: jr x5
        rv::addi(0, 0, 0),  // 0x10
        rv::addi(6, 6, 1),  // 0x14: a small leaf
        rv::jalr(0, 1, 0),  // 0x18: ret
    ]);
    for made in [false, true] {
        let starts: Vec<u64> = scan_region_staged(
            &mem,
            CODE,
            MAX_REGION,
            |_| true,
            |_| false,
            |t| made && t == CODE + 0x14,
        )
        .unwrap()
        .iter()
        .map(|b| b[0].pc - CODE)
        .collect();
        assert_eq!(starts, [0x00, 0x08, 0x0c, 0x14], "made {made}");
    }
}
