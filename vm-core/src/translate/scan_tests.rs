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
