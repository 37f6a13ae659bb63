//! The timer semantics a guest test cannot pin down without racing the
//! clock or depending on the host kernel's version (Linux 6.14 changed
//! them): stale signals, overruns at delivery, the ignored list, ids.

use super::super::nr::*;
use super::super::*;
use crate::memory::Perm;
use crate::process::Options;
use crate::testhost::TestHost;
extern crate std;

const EINVAL: i64 = -22;
const EAGAIN: i64 = -11;
const SIGUSR1: u64 = 10;
const SIGUSR2: u64 = 12;
/// Scratch guest memory: sigevent, itimerspecs, sigsets, siginfo.
const EV: u64 = 0x10000;
const ID: u64 = 0x10100;
const SPEC: u64 = 0x10200;
const OLD: u64 = 0x10300;
const SET: u64 = 0x10400;
const ZERO_TS: u64 = 0x10500;
const INFO: u64 = 0x10600;
const ACT: u64 = 0x10700;

fn process() -> (alloc::sync::Arc<Process>, Thread) {
    let host = TestHost::leak();
    let mem = GuestMemory::new(host, 1 << 26).unwrap();
    mem.map(0x10000, 0x1000, Perm::READ | Perm::WRITE, true)
        .unwrap();
    let p = Process::new(host, mem, b"/bin/guest".to_vec(), Options::default());
    let mut t = Thread {
        tid: 1000,
        ..Default::default()
    };
    p.register(&mut t);
    (p, t)
}

fn sys(p: &Process, t: &mut Thread, nr: u64, args: &[u64]) -> i64 {
    t.cpu.x[17] = nr;
    for i in 0..6 {
        t.cpu.x[10 + i] = args.get(i).copied().unwrap_or(0);
    }
    assert_eq!(dispatch(p, t), Flow::Continue);
    t.cpu.x[10] as i64
}

/// A SIGEV_SIGNAL timer for `signo` with `value`; its id.
fn create(p: &Process, t: &mut Thread, signo: u64, value: u64) -> u64 {
    let mut ev = [0u8; 64];
    ev[0..8].copy_from_slice(&value.to_le_bytes());
    ev[8..12].copy_from_slice(&(signo as i32).to_le_bytes());
    p.mem.write_bytes(EV, &ev).unwrap();
    assert_eq!(sys(p, t, TIMER_CREATE, &[1, EV, ID]), 0);
    p.mem.read_u32(ID).unwrap() as u64
}

fn settime(p: &Process, t: &mut Thread, id: u64, value_ns: u64, interval_ns: u64) -> i64 {
    let mut b = [0u8; 32];
    b[0..8].copy_from_slice(&(interval_ns / 1_000_000_000).to_le_bytes());
    b[8..16].copy_from_slice(&(interval_ns % 1_000_000_000).to_le_bytes());
    b[16..24].copy_from_slice(&(value_ns / 1_000_000_000).to_le_bytes());
    b[24..32].copy_from_slice(&(value_ns % 1_000_000_000).to_le_bytes());
    p.mem.write_bytes(SPEC, &b).unwrap();
    sys(p, t, TIMER_SETTIME, &[id, 0, SPEC, OLD])
}

/// `sigtimedwait` for `signo` without waiting: the signal or an error.
fn take(p: &Process, t: &mut Thread, signo: u64) -> i64 {
    p.mem.write_u64(SET, 1 << (signo - 1)).unwrap();
    p.mem.write_bytes(ZERO_TS, &[0; 16]).unwrap();
    sys(p, t, RT_SIGTIMEDWAIT, &[SET, INFO, ZERO_TS, 8])
}

fn sleep_ms(ms: u64) {
    std::thread::sleep(std::time::Duration::from_millis(ms));
}

fn info_i32(p: &Process, off: u64) -> i32 {
    p.mem.read_u32(INFO + off).unwrap() as i32
}

#[test]
fn ids_count_up_and_are_not_reused() {
    let (p, mut t) = process();
    let a = create(&p, &mut t, SIGUSR1, 0);
    assert_eq!(sys(&p, &mut t, TIMER_DELETE, &[a]), 0);
    let b = create(&p, &mut t, SIGUSR1, 0);
    assert_eq!((a, b), (0, 1));
    assert_eq!(sys(&p, &mut t, TIMER_GETTIME, &[a, OLD]), EINVAL);
    // A forked child starts with none.
    p.timers.forked_child();
    assert_eq!(sys(&p, &mut t, TIMER_GETTIME, &[b, OLD]), EINVAL);
    assert_eq!(create(&p, &mut t, SIGUSR1, 0), 0);
}

#[test]
fn blocked_periodic_timer_queues_once_and_counts_overruns_at_delivery() {
    let (p, mut t) = process();
    t.sigmask = 1 << (SIGUSR1 - 1);
    let id = create(&p, &mut t, SIGUSR1, 77);
    assert_eq!(settime(&p, &mut t, id, 1_000_000, 1_000_000), 0);
    sleep_ms(12);
    crate::signal::take_host_signals(&p, &mut t);
    sleep_ms(5);
    crate::signal::take_host_signals(&p, &mut t);
    assert_eq!(take(&p, &mut t, SIGUSR1), SIGUSR1 as i64);
    // si_code SI_TIMER, si_timerid, si_overrun, si_value.
    assert_eq!(info_i32(&p, 8), -2);
    assert_eq!(info_i32(&p, 16), id as i32);
    let overrun = info_i32(&p, 20);
    assert!(overrun >= 10, "overrun {overrun}");
    assert_eq!(p.mem.read_u64(INFO + 24).unwrap(), 77);
    assert_eq!(sys(&p, &mut t, TIMER_GETOVERRUN, &[id]), overrun as i64);
    // Queued once: no second instance.
    assert_eq!(take(&p, &mut t, SIGUSR1), EAGAIN);
}

#[test]
fn a_signal_whose_timer_was_set_again_or_deleted_is_dropped() {
    let (p, mut t) = process();
    t.sigmask = 1 << (SIGUSR1 - 1);
    let a = create(&p, &mut t, SIGUSR1, 1);
    let b = create(&p, &mut t, SIGUSR1, 2);
    assert_eq!(settime(&p, &mut t, a, 1, 0), 0);
    assert_eq!(settime(&p, &mut t, b, 1, 0), 0);
    sleep_ms(2);
    crate::signal::take_host_signals(&p, &mut t);
    // Both queued (a timer's standard signal queues beside another).
    assert_eq!(settime(&p, &mut t, a, 0, 0), 0);
    assert_eq!(sys(&p, &mut t, TIMER_DELETE, &[b]), 0);
    assert_eq!(take(&p, &mut t, SIGUSR1), EAGAIN);
    // A timer that fires again with its signal still queued is queued once.
    assert_eq!(settime(&p, &mut t, a, 1, 0), 0);
    sleep_ms(2);
    crate::signal::take_host_signals(&p, &mut t);
    assert_eq!(settime(&p, &mut t, a, 1, 0), 0);
    sleep_ms(2);
    crate::signal::take_host_signals(&p, &mut t);
    assert_eq!(take(&p, &mut t, SIGUSR1), SIGUSR1 as i64);
    assert_eq!(take(&p, &mut t, SIGUSR1), EAGAIN);
}

#[test]
fn an_ignored_periodic_timer_waits_until_its_signal_is_not_ignored() {
    let (p, mut t) = process();
    let mut act = [0u8; 24];
    act[0..8].copy_from_slice(&1u64.to_le_bytes()); // SIG_IGN
    p.mem.write_bytes(ACT, &act).unwrap();
    assert_eq!(sys(&p, &mut t, RT_SIGACTION, &[SIGUSR2, ACT, 0, 8]), 0);
    let id = create(&p, &mut t, SIGUSR2, 5);
    assert_eq!(settime(&p, &mut t, id, 1_000_000, 1_000_000), 0);
    sleep_ms(4);
    crate::signal::take_host_signals(&p, &mut t);
    t.sigmask = 1 << (SIGUSR2 - 1);
    assert_eq!(take(&p, &mut t, SIGUSR2), EAGAIN);
    // A handler: the timer's signal is queued again, its missed periods
    // counted when it is taken.
    act[0..8].copy_from_slice(&0x1_0000u64.to_le_bytes());
    p.mem.write_bytes(ACT, &act).unwrap();
    assert_eq!(sys(&p, &mut t, RT_SIGACTION, &[SIGUSR2, ACT, 0, 8]), 0);
    sleep_ms(3);
    assert_eq!(take(&p, &mut t, SIGUSR2), SIGUSR2 as i64);
    assert!(info_i32(&p, 20) >= 3, "overrun {}", info_i32(&p, 20));
    // Ignoring it again with the signal pending puts it back on the list.
    assert_eq!(settime(&p, &mut t, id, 1_000_000, 1_000_000), 0);
    sleep_ms(2);
    crate::signal::take_host_signals(&p, &mut t);
    act[0..8].copy_from_slice(&1u64.to_le_bytes());
    p.mem.write_bytes(ACT, &act).unwrap();
    assert_eq!(sys(&p, &mut t, RT_SIGACTION, &[SIGUSR2, ACT, 0, 8]), 0);
    assert_eq!(take(&p, &mut t, SIGUSR2), EAGAIN);
    act[0..8].copy_from_slice(&0x1_0000u64.to_le_bytes());
    p.mem.write_bytes(ACT, &act).unwrap();
    assert_eq!(sys(&p, &mut t, RT_SIGACTION, &[SIGUSR2, ACT, 0, 8]), 0);
    assert_eq!(take(&p, &mut t, SIGUSR2), SIGUSR2 as i64);
}

#[test]
fn gettime_after_expiry_is_0_or_the_next_period() {
    let (p, mut t) = process();
    t.sigmask = 1 << (SIGUSR1 - 1);
    let id = create(&p, &mut t, SIGUSR1, 0);
    assert_eq!(settime(&p, &mut t, id, 1, 0), 0);
    sleep_ms(2);
    crate::signal::take_host_signals(&p, &mut t);
    // One-shot, fired: Linux reports 0 once it is disarmed.
    assert_eq!(sys(&p, &mut t, TIMER_GETTIME, &[id, OLD]), 0);
    assert_eq!(p.mem.read_u64(OLD + 24).unwrap(), 0);
    // Periodic, signal pending: moved past now, never 0.
    assert_eq!(settime(&p, &mut t, id, 1_000_000, 50_000_000), 0);
    sleep_ms(2);
    crate::signal::take_host_signals(&p, &mut t);
    assert_eq!(sys(&p, &mut t, TIMER_GETTIME, &[id, OLD]), 0);
    let left = p.mem.read_u64(OLD + 24).unwrap();
    assert!(left > 0 && left <= 50_000_000, "{left}");
    assert_eq!(p.mem.read_u64(OLD + 8).unwrap(), 50_000_000);
}
