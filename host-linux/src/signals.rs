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
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};

/// The host signal that interrupts one of pvm's own threads
/// (`HostOs::interrupt_thread`): the highest real-time signal, which pvm
/// therefore cannot forward to the guest from outside.
pub const KICK: i32 = 64;

thread_local! {
    /// This host thread was interrupted and has not looked yet.
    static KICKED: Cell<bool> = const { Cell::new(false) };
}

/// The kick handler: it only marks the thread; that the signal arrived
/// is what makes a blocking call fail with `EINTR`. A tick of a
/// `--profile` timer (same signal, see `crate::profiler`) is a sample
/// instead, and marks nothing.
extern "C" fn on_kick(_: i32, info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo and ucontext to an
    // SA_SIGINFO handler, on the interrupted thread; `tick` is
    // async-signal-safe.
    unsafe {
        if crate::profiler::is_tick(info) {
            crate::profiler::tick(uc);
            return;
        }
    }
    // A `const`-initialised thread-local without destructor is plain TLS
    // memory: async-signal-safe.
    KICKED.with(|k| k.set(true));
    // SAFETY: `uc` is this handler's ucontext; `redirect` only moves a
    // thread that has not yet entered a blocking call.
    unsafe { crate::cancel::redirect(uc) };
}

/// Install the kick handler (without `SA_RESTART`), once, before any
/// guest thread exists.
pub fn install_kick() {
    // SAFETY: a zeroed sigaction is valid; the handler only writes TLS.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_kick as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO;
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

/// Make blocking system call `nr` so that a signal caught, or a kick
/// received, at any moment before it blocks still ends it with `EINTR`
/// (see [`crate::cancel`]). The kick is answered by that `EINTR`: the run
/// loop looks at the thread's state before running the call again.
///
/// # Safety
/// As for `libc::syscall(nr, args...)`: every pointer among `args` must be
/// valid for what call `nr` does with it.
pub unsafe fn blocking(nr: libc::c_long, args: [usize; 6]) -> SysResult<i64> {
    let kicked = KICKED.with(|k| k.as_ptr() as *const bool);
    // SAFETY: the caller's promise; the flags are a static and this
    // thread's TLS, alive for the call.
    let r = unsafe { crate::cancel::call(nr, args, &ARRIVED, kicked) };
    if r < 0 && r > -4096 {
        if r == -(libc::EINTR as isize) {
            take_kick();
        }
        Err(Errno(-r as i32))
    } else {
        Ok(r as i64)
    }
}
use vm_core::host::{Errno, HostSigAction, HostSignal, ITimer, SysResult, Timespec};

/// Caught signals not taken yet: bit `n-1` for signal `n`.
static ARRIVED: AtomicU64 = AtomicU64::new(0);
/// Per signal, the latest arrival's `si_code` (high half) and `si_pid`
/// (low half).
static CODE_PID: [AtomicU64; 64] = [const { AtomicU64::new(0) }; 64];
/// Per signal, the latest arrival's `si_uid`.
static UID: [AtomicU32; 64] = [const { AtomicU32::new(0) }; 64];
/// The latest `SIGCHLD`'s `si_status`.
static CHILD_STATUS: AtomicI32 = AtomicI32::new(0);
/// `SA_NOCLDSTOP | SA_NOCLDWAIT` as the guest set them for `SIGCHLD`.
static CHILD_FLAGS: AtomicI32 = AtomicI32::new(0);

/// The handler: async-signal-safe, it only stores atomics.
extern "C" fn on_signal(signo: i32, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
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
        if signo == libc::SIGCHLD {
            // SAFETY: as above; SIGCHLD carries the child layout.
            CHILD_STATUS.store(unsafe { (*info).si_status() }, Ordering::Relaxed);
        }
    }
    ARRIVED.fetch_or(1 << i, Ordering::Release);
    // SAFETY: `ctx` is this handler's ucontext; `redirect` only moves a
    // thread that has not yet entered a blocking call.
    unsafe { crate::cancel::redirect(ctx) };
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
    if signo == libc::SIGCHLD {
        sa.sa_flags |= CHILD_FLAGS.load(Ordering::Relaxed);
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

/// Remember the guest's `SA_NOCLDSTOP`/`SA_NOCLDWAIT` for the next
/// [`set_action`] of `SIGCHLD`.
pub fn set_child_flags(nocldstop: bool, nocldwait: bool) {
    let mut f = 0;
    if nocldstop {
        f |= libc::SA_NOCLDSTOP;
    }
    if nocldwait {
        f |= libc::SA_NOCLDWAIT;
    }
    CHILD_FLAGS.store(f, Ordering::Relaxed);
}

/// Forget every caught signal not taken yet (a forked child starts with
/// none pending, as Linux's); returns them.
pub fn clear() -> u64 {
    ARRIVED.swap(0, Ordering::AcqRel)
}

/// Put back signals [`clear`] returned (after a vfork child, which
/// shares this memory, has ended), keeping any that arrived since.
pub fn restore(set: u64) {
    ARRIVED.fetch_or(set, Ordering::AcqRel);
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
                    status: if i as i32 + 1 == libc::SIGCHLD {
                        CHILD_STATUS.load(Ordering::Relaxed)
                    } else {
                        0
                    },
                });
            }
            Err(now) => cur = now,
        }
    }
}

/// Run the blocking host call `f` so that a caught signal arriving at any
/// moment before it blocks still interrupts it: block every signal (but
/// the faults), look for one already caught (then `None`: the caller
/// reports `EINTR` without blocking), and let `f` unblock them atomically
/// while it waits, by passing the mask it is given to `ppoll` or the like.
/// Without this, a signal caught between the run loop's last look and the
/// call (a guest's `pause()` right after `fork`) would be seen only after
/// the call ends, which may be never.
pub fn interruptible<R>(f: impl FnOnce(&libc::sigset_t) -> R) -> Option<R> {
    // SAFETY: plain signal-mask calls on valid, initialised sets.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
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
        // An interrupt from another thread counts as a caught signal.
        let r = if ARRIVED.load(Ordering::Acquire) == 0 && !take_kick() {
            Some(f(&old))
        } else {
            None
        };
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        r
    }
}

/// Wait for a caught signal (or an interrupt from another thread) without
/// losing one that arrives just before: `sigsuspend` under
/// [`interruptible`].
pub fn wait() {
    // SAFETY: `old` is the valid signal mask `interruptible` hands over.
    interruptible(|old| unsafe { libc::sigsuspend(old) });
    // An interrupt that arrived while waiting has been seen.
    take_kick();
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

/// The signals this process inherited as ignored (as `execve` keeps them),
/// but SIGPIPE, which Rust's runtime ignores before `main`, and the two
/// that cannot be ignored.
pub fn inherited_ignored() -> u64 {
    let mut set = 0;
    for signo in 1..=64 {
        if matches!(signo, libc::SIGPIPE | libc::SIGKILL | libc::SIGSTOP) {
            continue;
        }
        // SAFETY: reads the disposition into a zeroed sigaction.
        let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::sigaction(signo, std::ptr::null(), &mut sa) };
        if r == 0 && sa.sa_sigaction == libc::SIG_IGN {
            set |= 1 << (signo - 1);
        }
    }
    set
}

/// The host signal mask this process started with (bit `n-1` for signal
/// `n`): `execve` keeps the mask, so it is the guest's.
pub fn initial_mask() -> u64 {
    // SAFETY: reads the mask into a zeroed set.
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut old) };
    let mut set = 0;
    for signo in 1..=64 {
        // SAFETY: `old` is an initialised set.
        if unsafe { libc::sigismember(&old, signo) } == 1 {
            set |= 1 << (signo - 1);
        }
    }
    set
}

/// Unblock every host signal: pvm keeps the guest's mask itself and
/// must see (and record) every signal that arrives.
pub fn unblock_all() {
    // SAFETY: plain mask calls on an initialised set.
    unsafe {
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::pthread_sigmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
    }
}
