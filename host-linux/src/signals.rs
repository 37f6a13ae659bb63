//! Host signals for the guest: the Linux side of `HostOs::set_signal_action`,
//! `take_signal`, `wait_signal` and `setitimer`.
//!
//! A signal the guest handles (or that kills it by default, so that the
//! guest may block it) is caught here by a handler that only records it in
//! [`ARRIVED`] with its sender's `siginfo` fields; the core takes it at the
//! next stop of its run loop and delivers it through the guest's masks and
//! dispositions. The handler is installed without `SA_RESTART`, so a
//! blocking host call it interrupts fails with `EINTR` and the core decides,
//! as Linux would for the guest, whether to run the call again. SIGSEGV is
//! not handled here: [`crate::fault`] owns it.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The host signal that interrupts one of pvm's own threads
/// (`HostOs::interrupt_thread`): the highest real-time signal, which pvm
/// therefore cannot forward to the guest from outside.
pub const KICK: i32 = 64;

thread_local! {
    /// This host thread was interrupted and has not looked yet.
    static KICKED: Cell<bool> = const { Cell::new(false) };
}

/// The kick handler: it only marks the thread; that the signal arrived
/// is what makes a blocking call fail with `EINTR`.
extern "C" fn on_kick(_: i32) {
    // A `const`-initialised thread-local without destructor is plain TLS
    // memory: async-signal-safe.
    KICKED.with(|k| k.set(true));
}

/// Install the kick handler (without `SA_RESTART`), once, before any
/// guest thread exists.
pub fn install_kick() {
    // SAFETY: a zeroed sigaction is valid; the handler only writes TLS.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_kick as *const () as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(KICK, &sa, std::ptr::null_mut());
    }
}

/// Interrupt host thread `tid` of this process.
pub fn kick(tid: i32) {
    // SAFETY: tgkill on our own process; a thread that just exited is
    // ESRCH, which is harmless.
    unsafe {
        libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, KICK);
    }
}

/// Was this thread interrupted since it last looked? Clears the mark.
pub fn take_kick() -> bool {
    KICKED.with(|k| k.replace(false))
}
use vm_core::host::{Errno, HostSigAction, HostSignal, ITimer, SysResult, Timespec};

/// Caught signals not taken yet: bit `n-1` for signal `n`.
static ARRIVED: AtomicU64 = AtomicU64::new(0);
/// Per signal, the latest arrival's `si_code` (high half) and `si_pid`
/// (low half).
static CODE_PID: [AtomicU64; 64] = [const { AtomicU64::new(0) }; 64];
/// Per signal, the latest arrival's `si_uid`.
static UID: [AtomicU32; 64] = [const { AtomicU32::new(0) }; 64];

/// The handler: async-signal-safe, it only stores atomics.
extern "C" fn on_signal(signo: i32, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    if !(1..=64).contains(&signo) {
        return;
    }
    let i = (signo - 1) as usize;
    if !info.is_null() {
        // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO
        // handler; si_pid/si_uid read the kill/timer layout, which every
        // signal that reaches this handler may carry (zero otherwise).
        let (code, pid, uid) = unsafe { ((*info).si_code, (*info).si_pid(), (*info).si_uid()) };
        CODE_PID[i].store(
            (code as u32 as u64) << 32 | pid as u32 as u64,
            Ordering::Relaxed,
        );
        UID[i].store(uid, Ordering::Relaxed);
    }
    ARRIVED.fetch_or(1 << i, Ordering::Release);
}

/// Treat `signo` as `action`. Errors (a signal the C library reserves) are
/// ignored: the signal then keeps the host's treatment, as does [`KICK`].
pub fn set_action(signo: i32, action: HostSigAction) {
    if signo == KICK {
        return;
    }
    // SAFETY: a zeroed sigaction is valid; every field is set before use.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    match action {
        HostSigAction::Default => sa.sa_sigaction = libc::SIG_DFL,
        HostSigAction::Ignore => sa.sa_sigaction = libc::SIG_IGN,
        HostSigAction::Catch => {
            sa.sa_sigaction = on_signal as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO;
        }
    }
    // SAFETY: `sa` is fully initialised; the handler is async-signal-safe.
    unsafe {
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(signo, &sa, std::ptr::null_mut());
    }
    if action != HostSigAction::Catch {
        // One caught before, not taken yet, no longer applies.
        ARRIVED.fetch_and(!(1 << (signo - 1)), Ordering::AcqRel);
    }
}

/// Has a caught signal arrived that was not taken yet, or was this thread
/// interrupted (the mark is cleared)?
pub fn pending() -> bool {
    take_kick() | (ARRIVED.load(Ordering::Acquire) != 0)
}

/// The lowest caught signal not taken yet.
pub fn take() -> Option<HostSignal> {
    let mut cur = ARRIVED.load(Ordering::Acquire);
    loop {
        if cur == 0 {
            return None;
        }
        let i = cur.trailing_zeros() as usize;
        match ARRIVED.compare_exchange_weak(
            cur,
            cur & !(1 << i),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => {
                let cp = CODE_PID[i].load(Ordering::Relaxed);
                return Some(HostSignal {
                    signo: i as i32 + 1,
                    code: (cp >> 32) as i32,
                    pid: cp as u32 as i32,
                    uid: UID[i].load(Ordering::Relaxed),
                });
            }
            Err(now) => cur = now,
        }
    }
}

/// Wait for a caught signal without losing one that arrives just before:
/// block them all, look, and let `sigsuspend` unblock and wait atomically.
pub fn wait() {
    // SAFETY: plain signal-mask calls on valid, initialised sets.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        // Faults must stay deliverable (a blocked fault signal kills).
        for s in [
            libc::SIGSEGV,
            libc::SIGBUS,
            libc::SIGILL,
            libc::SIGFPE,
            libc::SIGTRAP,
        ] {
            libc::sigdelset(&mut all, s);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old);
        if ARRIVED.load(Ordering::Acquire) == 0 && !take_kick() {
            libc::sigsuspend(&old);
        }
        take_kick();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
    }
}

fn to_timeval(t: Timespec) -> libc::timeval {
    libc::timeval {
        tv_sec: t.sec,
        tv_usec: t.nsec / 1000,
    }
}

fn from_timeval(t: libc::timeval) -> Timespec {
    Timespec {
        sec: t.tv_sec,
        nsec: t.tv_usec * 1000,
    }
}

/// `setitimer`, or `getitimer` when `new` is `None`.
pub fn setitimer(which: i32, new: Option<ITimer>) -> SysResult<ITimer> {
    // SAFETY: zeroed itimervals are valid.
    let mut old: libc::itimerval = unsafe { std::mem::zeroed() };
    let r = match new {
        Some(t) => {
            let n = libc::itimerval {
                it_interval: to_timeval(t.interval),
                it_value: to_timeval(t.value),
            };
            // SAFETY: both pointers are valid itimervals.
            unsafe { libc::setitimer(which as _, &n, &mut old) }
        }
        // SAFETY: `old` is a valid itimerval to fill.
        None => unsafe { libc::getitimer(which as _, &mut old) },
    };
    if r < 0 {
        return Err(Errno(
            std::io::Error::last_os_error().raw_os_error().unwrap_or(22),
        ));
    }
    Ok(ITimer {
        interval: from_timeval(old.it_interval),
        value: from_timeval(old.it_value),
    })
}
