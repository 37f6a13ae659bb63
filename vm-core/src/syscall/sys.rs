//! Process, time, signal-state and machine-information system calls.

use super::abi::{self, *};
use super::{Ctx, R, get, put};
use crate::host::{Errno, ITimer, RusageWho, SysResult, Timespec};
use crate::signal::{
    self, AltStack, AltStackError, DefaultAction, SIGKILL, SIGSTOP, SigAction, SigInfo, UNBLOCKABLE,
};

const NSEC: i64 = 1_000_000_000;
/// `USER_HZ`: the unit of `times` and `clock_t`.
const CLK_TCK: i64 = 100;

pub(super) fn uname(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let u = cx.p.host.uname();
    let mut b = [0u8; abi::UTSNAME_SIZE];
    let mut machine = [0u8; 65];
    machine[..7].copy_from_slice(b"riscv64");
    let fields = [
        &u.sysname,
        &u.nodename,
        &u.release,
        &u.version,
        &machine,
        &u.domainname,
    ];
    for (i, f) in fields.iter().enumerate() {
        b[i * 65..(i + 1) * 65].copy_from_slice(&f[..]);
        b[i * 65 + 64] = 0;
    }
    put(cx.mem(), a[0], &b)?;
    Ok(0)
}

pub(super) fn clock_gettime(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let t = cx.p.host.clock_gettime(a[0] as i32)?;
    put(cx.mem(), a[1], &encode_timespec(t))?;
    Ok(0)
}

pub(super) fn clock_getres(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let t = cx.p.host.clock_getres(a[0] as i32)?;
    if a[1] != 0 {
        put(cx.mem(), a[1], &encode_timespec(t))?;
    }
    Ok(0)
}

pub(super) fn gettimeofday(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    if a[0] != 0 {
        let t = cx.p.host.clock_gettime(CLOCK_REALTIME)?;
        let mut b = [0u8; 16];
        set_u64(&mut b, 0, t.sec as u64);
        set_u64(&mut b, 8, (t.nsec / 1000) as u64);
        put(cx.mem(), a[0], &b)?;
    }
    if a[1] != 0 {
        // struct timezone: no zone, no DST (what Linux keeps by default).
        put(cx.mem(), a[1], &[0u8; 8])?;
    }
    Ok(0)
}

/// A guest `struct timespec` that must be a valid duration or time.
pub(super) fn read_timespec(cx: &Ctx<'_>, addr: u64) -> SysResult<Timespec> {
    let t = decode_timespec(&get::<16>(cx.mem(), addr)?);
    if t.sec < 0 || !(0..NSEC).contains(&t.nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(t)
}

pub(super) fn sub(a: Timespec, b: Timespec) -> Option<Timespec> {
    let mut sec = a.sec.checked_sub(b.sec)?;
    let mut nsec = a.nsec - b.nsec;
    if nsec < 0 {
        nsec += NSEC;
        sec -= 1;
    }
    (sec >= 0).then_some(Timespec { sec, nsec })
}

pub(super) fn nanosleep(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let t = read_timespec(cx, a[0])?;
    sleep_rem(cx, t, a[1])?;
    Ok(0)
}

/// Sleep for `d`; when a signal for the guest cuts it short, write the
/// time left to guest `rem` (if not 0) and fail with `EINTR`. A host signal
/// the guest blocks only interrupts the host's sleep, which goes on for the
/// time left (as Linux restarts it): starting over would never end under a
/// blocked periodic timer.
pub(super) fn sleep_rem(cx: &mut Ctx<'_>, d: Timespec, rem: u64) -> SysResult<()> {
    let start = cx.p.host.clock_gettime(CLOCK_MONOTONIC)?;
    if cx.p.green_others() {
        // Other guest threads share this host thread: let them run while
        // this one sleeps (see `crate::sched`).
        if signal::deliverable(cx.p, cx.t) {
            if rem != 0 {
                put(cx.mem(), rem, &encode_timespec(d))?;
            }
            return Err(Errno::EINTR);
        }
        let ns = |t: Timespec| (t.sec as u64).wrapping_mul(NSEC as u64) + t.nsec as u64;
        cx.t.block = Some(crate::sched::Block::Sleep {
            deadline: ns(start).saturating_add(ns(d)),
        });
        return Ok(());
    }
    let left = |cx: &Ctx<'_>| -> SysResult<Timespec> {
        let now = cx.p.host.clock_gettime(CLOCK_MONOTONIC)?;
        Ok(sub(d, sub(now, start).unwrap_or_default()).unwrap_or_default())
    };
    let mut todo = d;
    loop {
        match cx.p.host.sleep(todo) {
            Err(Errno::EINTR) if signal::restart_interrupted(cx.p, cx.t, false) => {
                todo = left(cx)?;
            }
            Err(Errno::EINTR) => {
                if rem != 0 {
                    put(cx.mem(), rem, &encode_timespec(left(cx)?))?;
                }
                return Err(Errno::EINTR);
            }
            other => return other,
        }
    }
}

pub(super) fn clock_nanosleep(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (clock, flags) = (a[0] as i32, a[1]);
    // CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI.
    if !matches!(clock, 0 | 1 | 7 | 11) {
        return Err(if clock == 3 {
            Errno::EINVAL
        } else {
            Errno::ENOTSUP
        });
    }
    let t = read_timespec(cx, a[2])?;
    if flags & 1 != 0 {
        // TIMER_ABSTIME
        loop {
            let now = cx.p.host.clock_gettime(clock)?;
            let Some(d) = sub(t, now) else {
                return Ok(0);
            };
            match cx.p.host.sleep(d) {
                // Nothing for the guest: sleep on to the same deadline.
                Err(Errno::EINTR) if signal::restart_interrupted(cx.p, cx.t, false) => {}
                other => return other.map(|_| 0),
            }
        }
    } else {
        // Only a relative sleep reports the time left.
        sleep_rem(cx, t, a[3])?;
    }
    Ok(0)
}

pub(super) fn getrandom(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let flags = a[2] as u32;
    if flags & !7 != 0 || flags & 6 == 6 {
        return Err(Errno::EINVAL);
    }
    let len = a[1].min(i32::MAX as u64) as usize;
    let host = cx.p.host;
    super::fill(cx.mem(), a[0], len, |buf| {
        let mut done = 0;
        while done < len {
            match host.random(&mut buf[done..])? {
                0 => break,
                n => done = (done + n).min(len),
            }
        }
        Ok(done as u64)
    })
}

/// The stack size the loader gives the guest (RLIMIT_STACK reports it).
const GUEST_STACK: u64 = 8 << 20;

/// `prlimit64` (and `getrlimit`/`setrlimit`). Limits on memory
/// (RLIMIT_AS, RLIMIT_DATA, RLIMIT_STACK) are the guest's own: applied to
/// pvm they would bind pvm's allocations too, so pvm keeps them with the
/// guest's mappings and enforces AS and DATA itself (see `mm`); until the
/// guest sets one, it has the limit pvm inherited (the stack: the loader's
/// fixed 8 MiB). The others are the host's, as qemu-user does: the guest's
/// fds are host fds, so RLIMIT_NOFILE must be the host's.
pub(super) fn prlimit(cx: &mut Ctx<'_>, pid: i32, res: u64, new: u64, old: u64) -> R {
    if pid != 0 && pid != cx.p.host.ids().pid {
        return Err(Errno::ESRCH);
    }
    let res = res as u32;
    if res as u64 >= RLIMIT_NLIMITS {
        return Err(Errno::EINVAL);
    }
    let new = if new != 0 {
        let b: [u8; 16] = get(cx.mem(), new)?;
        let (soft, hard) = (le_u64(&b, 0), le_u64(&b, 8));
        if soft > hard {
            return Err(Errno::EINVAL);
        }
        Some((soft, hard))
    } else {
        None
    };
    let cur = match res {
        RLIMIT_DATA | RLIMIT_STACK | RLIMIT_AS => {
            let inherited = if res == RLIMIT_STACK {
                (GUEST_STACK, RLIM_INFINITY)
            } else {
                cx.p.host.prlimit(res, None)?
            };
            let mut maps = cx.mem().maps.lock();
            let slot = match res {
                RLIMIT_DATA => &mut maps.limits.data,
                RLIMIT_STACK => &mut maps.limits.stack,
                _ => &mut maps.limits.address_space,
            };
            let cur = slot.unwrap_or(inherited);
            if let Some(n) = new {
                // Raising the hard limit needs CAP_SYS_RESOURCE.
                if n.1 > cur.1 && cx.p.host.ids().euid != 0 {
                    return Err(Errno::EPERM);
                }
                *slot = Some(n);
            }
            cur
        }
        _ => cx.p.host.prlimit(res, new)?,
    };
    if old != 0 {
        let mut b = [0u8; 16];
        set_u64(&mut b, 0, cur.0);
        set_u64(&mut b, 8, cur.1);
        put(cx.mem(), old, &b)?;
    }
    Ok(0)
}

pub(super) fn sysinfo(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let s = cx.p.host.sysinfo();
    put(cx.mem(), a[0], &encode_sysinfo(&s))?;
    Ok(0)
}

fn ticks(t: Timespec) -> u64 {
    t.sec
        .saturating_mul(CLK_TCK)
        .saturating_add(t.nsec / (NSEC / CLK_TCK)) as u64
}

pub(super) fn times(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    if a[0] != 0 {
        // struct tms: user and system time of the process, then of the
        // children waited for, in clock ticks.
        let me = cx.p.host.rusage(RusageWho::Process)?;
        let kids = cx.p.host.rusage(RusageWho::Children)?;
        let mut b = [0u8; 32];
        for (i, tv) in [&me[0..2], &me[2..4], &kids[0..2], &kids[2..4]]
            .into_iter()
            .enumerate()
        {
            set_u64(&mut b, i * 8, timeval_ticks(tv[0], tv[1]));
        }
        put(cx.mem(), a[0], &b)?;
    }
    Ok(ticks(cx.p.host.clock_gettime(CLOCK_MONOTONIC)?))
}

/// A timeval (seconds, microseconds) in clock ticks.
fn timeval_ticks(sec: i64, usec: i64) -> u64 {
    ticks(Timespec {
        sec,
        nsec: usec * 1000,
    })
}

pub(super) fn getrusage(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let who = match a[0] as i32 {
        0 => RusageWho::Process,
        1 => RusageWho::Thread,
        -1 => RusageWho::Children,
        _ => return Err(Errno::EINVAL),
    };
    let ru = cx.p.host.rusage(who)?;
    let mut b = [0u8; 144];
    for (i, w) in ru.iter().enumerate() {
        set_u64(&mut b, i * 8, *w as u64);
    }
    put(cx.mem(), a[1], &b)?;
    Ok(0)
}

/// `futex` on a host without futexes ([`crate::host::HostOs::futex`]
/// answers `ENOSYS`): that host runs one guest thread, so nothing can wake
/// a waiter but its timeout.
pub(super) fn futex_one_thread(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (uaddr, op, val) = (a[0], a[1], a[2] as u32);
    let cmd = op & FUTEX_CMD_MASK;
    if !uaddr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    let load = |addr: u64| cx.mem().read_u32(addr).map_err(|_| Errno::EFAULT);
    match cmd {
        // FUTEX_WAIT, FUTEX_WAIT_BITSET
        0 | 9 => {
            if cmd == 9 && a[5] as u32 == 0 {
                return Err(Errno::EINVAL);
            }
            if load(uaddr)? != val {
                return Err(Errno::EAGAIN);
            }
            // Nothing else can wake this thread: sleep out the timeout
            // (relative for WAIT, absolute for WAIT_BITSET).
            if a[3] == 0 {
                loop {
                    cx.p.host.sleep(Timespec { sec: 3600, nsec: 0 })?;
                }
            }
            let t = read_timespec(cx, a[3])?;
            let d = if cmd == 9 {
                let clock = if op & FUTEX_CLOCK_REALTIME != 0 {
                    CLOCK_REALTIME
                } else {
                    CLOCK_MONOTONIC
                };
                sub(t, cx.p.host.clock_gettime(clock)?)
            } else {
                Some(t)
            };
            if let Some(d) = d {
                sleep_rem(cx, d, 0)?;
            }
            Err(Errno::ETIMEDOUT)
        }
        // FUTEX_WAKE, FUTEX_WAKE_BITSET: no other thread waits.
        1 => Ok(0),
        10 => {
            if a[5] as u32 == 0 {
                return Err(Errno::EINVAL);
            }
            Ok(0)
        }
        // FUTEX_REQUEUE, FUTEX_CMP_REQUEUE
        3 => Ok(0),
        4 => {
            if load(uaddr)? != a[5] as u32 {
                return Err(Errno::EAGAIN);
            }
            Ok(0)
        }
        // FUTEX_WAKE_OP: the operation on uaddr2 still happens.
        5 => {
            let uaddr2 = a[4];
            if !uaddr2.is_multiple_of(4) {
                return Err(Errno::EINVAL);
            }
            let (new, _) = super::thread::wake_op(load(uaddr2)?, a[5] as u32)?;
            cx.mem().write_u32(uaddr2, new).map_err(|_| Errno::EFAULT)?;
            Ok(0)
        }
        _ => Err(Errno::ENOSYS),
    }
}

/// `struct itimerval`: two `struct timeval`s (interval, value).
fn encode_itimer(t: ITimer) -> [u8; 32] {
    let mut b = [0u8; 32];
    set_u64(&mut b, 0, t.interval.sec as u64);
    set_u64(&mut b, 8, (t.interval.nsec / 1000) as u64);
    set_u64(&mut b, 16, t.value.sec as u64);
    set_u64(&mut b, 24, (t.value.nsec / 1000) as u64);
    b
}

/// A `struct timeval` of an itimerval, checked as the kernel does.
fn timeval(b: &[u8], off: usize) -> SysResult<Timespec> {
    let (sec, usec) = (le_u64(b, off) as i64, le_u64(b, off + 8) as i64);
    if sec < 0 || !(0..1_000_000).contains(&usec) {
        return Err(Errno::EINVAL);
    }
    Ok(Timespec {
        sec,
        nsec: usec * 1000,
    })
}

/// `setitimer(which, new, old)`: the host runs the timer; its signal comes
/// back through the host (see [`crate::signal::take_host_signals`]). A
/// null `new` disarms, as the kernel still accepts.
pub(super) fn setitimer(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (which, new, old) = (a[0] as i32, a[1], a[2]);
    if !(0..=2).contains(&which) {
        return Err(Errno::EINVAL);
    }
    let t = if new != 0 {
        let b: [u8; 32] = get(cx.mem(), new)?;
        ITimer {
            interval: timeval(&b, 0)?,
            value: timeval(&b, 16)?,
        }
    } else {
        ITimer::default()
    };
    let prev = cx.p.host.setitimer(which, Some(t))?;
    if old != 0 {
        put(cx.mem(), old, &encode_itimer(prev))?;
    }
    Ok(0)
}

/// `getitimer(which, cur)`.
pub(super) fn getitimer(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let which = a[0] as i32;
    if !(0..=2).contains(&which) {
        return Err(Errno::EINVAL);
    }
    let cur = cx.p.host.setitimer(which, None)?;
    put(cx.mem(), a[1], &encode_itimer(cur))?;
    Ok(0)
}

pub(super) fn rt_sigaction(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (signo, act, oldact, setsize) = (a[0] as i32, a[1], a[2], a[3]);
    if setsize != 8 || !(1..=signal::NSIG).contains(&signo) {
        return Err(Errno::EINVAL);
    }
    if act != 0 && (signo == SIGKILL || signo == SIGSTOP) {
        return Err(Errno::EINVAL);
    }
    let new = if act != 0 {
        let b: [u8; SIGACTION_SIZE] = get(cx.mem(), act)?;
        Some(SigAction {
            handler: le_u64(&b, 0),
            flags: le_u64(&b, 8),
            mask: le_u64(&b, 16) & !UNBLOCKABLE,
        })
    } else {
        None
    };
    let old = cx.p.signals.lock().actions[(signo - 1) as usize];
    if oldact != 0 {
        let mut b = [0u8; SIGACTION_SIZE];
        set_u64(&mut b, 0, old.handler);
        set_u64(&mut b, 8, old.flags);
        set_u64(&mut b, 16, old.mask);
        put(cx.mem(), oldact, &b)?;
    }
    if let Some(new) = new {
        let mut table = cx.p.signals.lock();
        table.actions[(signo - 1) as usize] = new;
        // POSIX: making a pending signal ignored discards it.
        let ignored = new.handler == signal::SIG_IGN
            || (new.handler == signal::SIG_DFL
                && signal::default_action(signo) != DefaultAction::Terminate);
        let mut dropped = alloc::vec::Vec::new();
        if ignored {
            dropped = table.shared.discard(signo);
            dropped.extend(cx.t.pending.discard(signo));
        }
        drop(table);
        signal::sync_host(cx.p, signo);
        // POSIX timers' signals wait for the end of an ignore.
        crate::ptimer::discarded(cx.p, &dropped);
        if !ignored {
            crate::ptimer::unignored(cx.p, cx.t, signo);
        }
    }
    Ok(0)
}

pub(super) fn rt_sigprocmask(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (how, set, oldset, setsize) = (a[0], a[1], a[2], a[3]);
    if setsize != 8 {
        return Err(Errno::EINVAL);
    }
    let old = cx.t.sigmask;
    let new = if set != 0 {
        let s = u64::from_le_bytes(get(cx.mem(), set)?);
        let m = match how {
            SIG_BLOCK => old | s,
            SIG_UNBLOCK => old & !s,
            SIG_SETMASK => s,
            _ => return Err(Errno::EINVAL),
        };
        Some(m & !UNBLOCKABLE)
    } else {
        None
    };
    if oldset != 0 {
        put(cx.mem(), oldset, &old.to_le_bytes())?;
    }
    if let Some(m) = new {
        cx.t.sigmask = m;
    }
    Ok(0)
}

/// Signals pending for the thread or the process.
fn pending_set(cx: &Ctx<'_>) -> u64 {
    cx.t.pending.set() | cx.p.signals.lock().shared.set()
}

/// Wait until a signal of `want` is pending for the thread (from the host
/// or another thread, which interrupts this one), or the process ends.
fn wait_for_signal(cx: &mut Ctx<'_>, want: u64) {
    loop {
        signal::take_host_signals(cx.p, cx.t);
        if pending_set(cx) & want != 0 || cx.p.ending() {
            return;
        }
        cx.p.host.wait_signal();
    }
}

/// `rt_sigsuspend(mask, sigsetsize)`: wait for a signal with `mask` as
/// the thread's mask. The run loop delivers it right after this returns
/// EINTR; the handler's frame keeps the old mask for `rt_sigreturn`.
pub(super) fn rt_sigsuspend(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    if a[1] != 8 {
        return Err(Errno::EINVAL);
    }
    let mask = u64::from_le_bytes(get(cx.mem(), a[0])?) & !UNBLOCKABLE;
    // A re-run after parking (below) keeps the mask saved the first time.
    if cx.t.saved_mask.is_none() {
        cx.t.saved_mask = Some(cx.t.sigmask);
    }
    cx.t.sigmask = mask;
    if cx.p.green_others() {
        // Guest threads take turns on one host thread (`crate::sched`):
        // park with the temporary mask in force, so that a signal sent to
        // the process finds this thread able to take it, and look again at
        // each tick or when a signal arrives.
        signal::take_host_signals(cx.p, cx.t);
        if pending_set(cx) & !mask == 0 && !cx.p.ending() {
            let now = cx.p.host.clock_gettime(CLOCK_MONOTONIC)?;
            let now = (now.sec as u64).wrapping_mul(NSEC as u64) + now.nsec as u64;
            cx.t.block = Some(crate::sched::Block::Poll {
                recheck: now + crate::sched::IO_TICK,
            });
            return Err(Errno::PARK);
        }
        return Err(Errno::EINTR);
    }
    wait_for_signal(cx, !mask);
    Err(Errno::EINTR)
}

/// `rt_sigpending(set, sigsetsize)`: the blocked signals that are pending.
pub(super) fn rt_sigpending(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    if a[1] > 8 {
        return Err(Errno::EINVAL);
    }
    let set = pending_set(cx) & cx.t.sigmask;
    put(cx.mem(), a[0], &set.to_le_bytes()[..a[1] as usize])?;
    Ok(0)
}

/// `rt_sigtimedwait(set, info, timeout, sigsetsize)`: take a pending
/// signal of `set` without running its handler.
pub(super) fn rt_sigtimedwait(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (set, info, tmo, setsize) = (a[0], a[1], a[2], a[3]);
    if setsize != 8 {
        return Err(Errno::EINVAL);
    }
    let want = u64::from_le_bytes(get(cx.mem(), set)?) & !UNBLOCKABLE;
    let timeout = if tmo != 0 {
        Some(read_timespec(cx, tmo)?)
    } else {
        None
    };
    signal::take_host_signals(cx.p, cx.t);
    let mut ready = pending_set(cx) & want;
    if ready == 0 && cx.p.green_others() {
        // Guest threads take turns on one host thread (`crate::sched`):
        // park, and look again at each tick or when a signal arrives,
        // keeping the first deadline across the re-runs (keyed by pc).
        let ns = |t: Timespec| (t.sec as u64).wrapping_mul(NSEC as u64) + t.nsec as u64;
        let now = ns(cx.p.host.clock_gettime(CLOCK_MONOTONIC)?);
        let pc = cx.t.cpu.pc;
        let deadline = timeout.map(|t| match cx.t.poll_deadline {
            Some((p, d)) if p == pc => d,
            _ => now.saturating_add(ns(t)),
        });
        if deadline.is_some_and(|d| d <= now) {
            cx.t.poll_deadline = None;
            return Err(Errno::EAGAIN);
        }
        cx.t.poll_deadline = deadline.map(|d| (pc, d));
        let tick = now + crate::sched::IO_TICK;
        cx.t.block = Some(crate::sched::Block::Poll {
            recheck: deadline.map_or(tick, |d| d.min(tick)),
        });
        return Err(Errno::PARK);
    }
    cx.t.poll_deadline = None;
    if ready == 0 {
        match timeout {
            Some(t) => {
                if t.sec != 0 || t.nsec != 0 {
                    // A host signal cuts it short: EINTR, and the call
                    // runs again if the signal is one it waits for.
                    cx.p.host.sleep(t)?;
                }
                return Err(Errno::EAGAIN);
            }
            None => {
                wait_for_signal(cx, want);
                ready = pending_set(cx) & want;
            }
        }
    }
    let signo = ready.trailing_zeros() as i32 + 1;
    let taken = {
        let mut table = cx.p.signals.lock();
        crate::ptimer::take(cx.p, &mut cx.t.pending, &mut table, signo).ok_or(Errno::EAGAIN)?
    };
    if info != 0 {
        put(cx.mem(), info, &taken.to_bytes())?;
    }
    Ok(signo as u64)
}

pub(super) fn sigaltstack(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (ss, old_ss) = (a[0], a[1]);
    let sp = cx.t.cpu.x[2];
    let cur = cx.t.altstack;
    let new = if ss != 0 {
        let b: [u8; STACK_T_SIZE] = get(cx.mem(), ss)?;
        Some(AltStack {
            sp: le_u64(&b, 0),
            flags: le_u32(&b, 8),
            size: le_u64(&b, 16),
        })
    } else {
        None
    };
    if old_ss != 0 {
        let mut b = [0u8; STACK_T_SIZE];
        set_u64(&mut b, 0, cur.sp);
        set_u32(&mut b, 8, cur.reported_flags(sp));
        set_u64(&mut b, 16, cur.size);
        put(cx.mem(), old_ss, &b)?;
    }
    if let Some(n) = new {
        signal::set_altstack(cx.t, sp, n).map_err(|e| match e {
            AltStackError::OnStack => Errno::EPERM,
            AltStackError::BadFlags => Errno::EINVAL,
            AltStackError::TooSmall => Errno::ENOMEM,
        })?;
    }
    Ok(0)
}

/// Raise `signo` for the calling thread as the kernel does for a call
/// (SIGPIPE on a broken pipe): `si_code` SI_USER from the process itself.
pub(super) fn raise(cx: &mut Ctx<'_>, signo: i32) {
    let ids = cx.p.host.ids();
    let info = SigInfo::kill(signo, signal::SI_USER, ids.pid, ids.uid);
    signal::send(cx.p, cx.t, info, false);
}

/// `kill`/`tkill`/`tgkill` of the process itself (`tgkill` of another
/// process's thread goes to the host). The signal becomes
/// pending (for the process with `kill`, for the thread otherwise) and
/// the run loop delivers it when the call returns, unless it is blocked.
pub(super) fn kill(cx: &mut Ctx<'_>, pid: i32, tid: Option<i32>, sig: u64) -> R {
    let sig = sig as i32;
    if !(0..=signal::NSIG).contains(&sig) {
        return Err(Errno::EINVAL);
    }
    let ids = cx.p.host.ids();
    let own = ids.pid;
    if let Some(t) = tid {
        if t <= 0 || (pid <= 0 && pid != -1) {
            return Err(Errno::EINVAL);
        }
        if pid != -1 && pid != own {
            return cx.p.host.tgkill(pid, t, sig).map(|_| 0);
        }
        let info = SigInfo::kill(sig, signal::SI_TKILL, own, ids.uid);
        return match limited(cx, info)? {
            Some(info) => to_thread(cx, t, sig, info),
            None => Ok(0),
        };
    }
    if pid != own && pid != 0 {
        return Err(Errno::EPERM);
    }
    if sig == 0 {
        return Ok(0);
    }
    let info = SigInfo::kill(sig, signal::SI_USER, own, ids.uid);
    if let Some(info) = limited(cx, info)? {
        signal::send(cx.p, cx.t, info, true);
    }
    Ok(0)
}

/// `info`, a signal for this process or one of its threads, as
/// `RLIMIT_SIGPENDING` lets it be queued ([`signal::within_limit`]):
/// `None` when it adds nothing, `EAGAIN` when it is refused.
fn limited(cx: &Ctx<'_>, info: SigInfo) -> SysResult<Option<SigInfo>> {
    if info.signo < signal::SIGRTMIN {
        return Ok(Some(info));
    }
    let limit = cx.p.host.prlimit(RLIMIT_SIGPENDING, None)?.0;
    signal::within_limit(cx.p, cx.t, info, limit)
}

/// Send `info` (signal `sig`, 0 only checks) to thread `tid` of this
/// process: the caller's own pending set, or another thread's inbox.
fn to_thread(cx: &mut Ctx<'_>, tid: i32, sig: i32, info: SigInfo) -> R {
    if tid == cx.t.tid {
        if sig != 0 {
            signal::send(cx.p, cx.t, info, false);
        }
        return Ok(0);
    }
    if sig == 0 {
        return cx.p.thread(tid).map(|_| 0).ok_or(Errno::ESRCH);
    }
    if cx.p.send_to_thread(tid, info) {
        Ok(0)
    } else {
        Err(Errno::ESRCH)
    }
}

/// `rt_sigqueueinfo(tgid, sig, info)` (`tid` None) and
/// `rt_tgsigqueueinfo(tgid, tid, sig, info)`: send `sig` with the
/// caller's own siginfo. To the process itself any `si_code` is allowed;
/// another process is the host's to reach (and to refuse a `si_code`
/// the caller may not give, as Linux does).
pub(super) fn sigqueueinfo(
    cx: &mut Ctx<'_>,
    pid: i32,
    tid: Option<i32>,
    sig: u64,
    uinfo: u64,
) -> R {
    let b: [u8; signal::SIGINFO_SIZE] = get(cx.mem(), uinfo)?;
    let sig = sig as i32;
    if !(0..=signal::NSIG).contains(&sig) {
        return Err(Errno::EINVAL);
    }
    let own = cx.p.host.ids().pid;
    if pid <= 0 || tid.is_some_and(|t| t <= 0) {
        return Err(Errno::EINVAL);
    }
    if pid != own {
        return cx.p.host.sigqueue(pid, tid, sig, &b).map(|_| 0);
    }
    let mut raw = [0u8; signal::SIGINFO_SIZE - 16];
    raw.copy_from_slice(&b[16..]);
    let info = SigInfo {
        signo: sig,
        code: le_u32(&b, 8) as i32,
        fields: signal::SigFields::Raw(raw),
    };
    let Some(info) = limited(cx, info)? else {
        return Ok(0);
    };
    if let Some(t) = tid {
        return to_thread(cx, t, sig, info);
    }
    if sig != 0 {
        signal::send(cx.p, cx.t, info, true);
    }
    Ok(0)
}

/// `_LINUX_CAPABILITY_VERSION_1`, `_2` and `_3`: how many 32-bit words
/// each set has (1, 2, 2).
fn cap_words(version: u32) -> Option<usize> {
    match version {
        0x1998_0330 => Some(1),
        0x2007_1026 | 0x2008_0522 => Some(2),
        _ => None,
    }
}

/// `capget(hdr, data)`: an unknown header version is answered with the
/// preferred one written back and `EINVAL` (or 0 when `data` is NULL, the
/// probe libcap makes).
pub(super) fn capget(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let hdr: [u8; 8] = get(cx.mem(), a[0])?;
    let version = u32::from_le_bytes(hdr[..4].try_into().unwrap());
    let pid = i32::from_le_bytes(hdr[4..].try_into().unwrap());
    let Some(words) = cap_words(version) else {
        put(cx.mem(), a[0], &0x2008_0522u32.to_le_bytes())?;
        return if a[1] == 0 { Ok(0) } else { Err(Errno::EINVAL) };
    };
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    if pid != 0 && pid != cx.p.host.ids().pid && cx.p.thread(pid).is_none() {
        return Err(Errno::ESRCH);
    }
    let sets = cx.p.host.capget(version, 0)?;
    if a[1] != 0 {
        let mut out = alloc::vec::Vec::new();
        for w in sets.iter().take(words) {
            for v in w {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        put(cx.mem(), a[1], &out)?;
    }
    Ok(0)
}

/// `capset(hdr, data)` of the calling process.
pub(super) fn capset(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let hdr: [u8; 8] = get(cx.mem(), a[0])?;
    let version = u32::from_le_bytes(hdr[..4].try_into().unwrap());
    let pid = i32::from_le_bytes(hdr[4..].try_into().unwrap());
    let Some(words) = cap_words(version) else {
        put(cx.mem(), a[0], &0x2008_0522u32.to_le_bytes())?;
        return Err(Errno::EINVAL);
    };
    if pid != 0 && pid != cx.p.host.ids().pid && pid != cx.t.tid {
        return Err(Errno::EPERM);
    }
    let mut sets = [[0u32; 3]; 2];
    for (i, set) in sets.iter_mut().enumerate().take(words) {
        let b: [u8; 12] = get(cx.mem(), a[1] + 12 * i as u64)?;
        for (j, v) in set.iter_mut().enumerate() {
            *v = u32::from_le_bytes(b[j * 4..j * 4 + 4].try_into().unwrap());
        }
    }
    cx.p.host.capset(version, sets).map(|_| 0)
}

/// Calls that administer the machine (load or remove kernel code, reboot,
/// swap, set the clock, the host name, mounts, process accounting, the
/// terminal's hang-up): a guest never holds the host's administrative
/// capabilities, so each answers `EPERM`, as Linux answers a process
/// without `CAP_SYS_ADMIN`, `CAP_SYS_BOOT`, `CAP_SYS_MODULE`,
/// `CAP_SYS_TIME` or `CAP_SYS_PACCT`, even when pvm itself runs as root.
pub(super) fn not_permitted(_: &mut Ctx<'_>, _: &[u64; 6]) -> R {
    Err(Errno::EPERM)
}
