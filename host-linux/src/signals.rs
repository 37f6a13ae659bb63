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
//!
//! The signals pvm keeps on the host for itself (SIGPIPE, the fault
//! signals, [`KICK`], and 32 and 33, which the host's C library keeps)
//! reach the guest too when another process sends them (`kill`,
//! `sigqueue`, `tgkill` from another guest of the tree or from a host
//! program), and as the notice of a message queue (`mq_notify`, whose
//! `SI_MESGQ` pvm never asks for itself): their handlers ([`install_kept`], `on_kick`, `on_libc`,
//! `crate::fault`) tell such a signal (`si_code` at most 0, from another
//! pid) from pvm's own (a fault, a broken pipe's SIGPIPE, a kick) and
//! record it as a caught one ([`record`]). The kernel thus decides who
//! gets a signal sent to a group or with `kill(0)`, and checks
//! permissions, as for any other signal.
//!
//! Real-time signals queue: each arrival is kept with its siginfo
//! (`si_value` too) in [`QUEUE`], taken oldest first, as the kernel
//! queues them for a guest that blocks them. When the queue is full, a
//! further arrival keeps only its pending bit and its latest siginfo (as
//! Linux loses the information of a signal beyond `RLIMIT_SIGPENDING`).

use std::cell::Cell;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};

/// The host signal that interrupts one of pvm's own threads
/// (`HostOs::interrupt_thread`): the highest real-time signal. Another
/// process's is the guest's (`on_kick` tells them apart).
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
        // Another process's signal 64 is the guest's.
        if source(info) == Source::Another {
            record(KICK, info, uc);
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
/// where Linux's would (see [`crate::cancel`]). The kick is answered by that `EINTR`: the run
/// loop looks at the thread's state before running the call again.
///
/// # Safety
/// As for `libc::syscall(nr, args...)`: every pointer among `args` must be
/// valid for what call `nr` does with it.
pub unsafe fn blocking(nr: libc::c_long, args: [usize; 6]) -> SysResult<i64> {
    let kicked = KICKED.with(|k| k.as_ptr() as *const bool);
    // SAFETY: the caller's promise; the flags are a static and this
    // thread's TLS, alive for the call.
    let mut r = unsafe { crate::cancel::call(nr, args, &ARRIVED, kicked) };
    if r == crate::cancel::NOT_MADE {
        // The signal came before the call: Linux would make it all the
        // same, unless it has to sleep.
        take_kick();
        // SAFETY: the caller's promise, for the same call.
        r = unsafe { crate::cancel::without_sleeping(nr, args) };
    }
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
/// Per signal, the latest arrival's `si_value` (`sigqueue`).
static VALUE: [AtomicU64; 64] = [const { AtomicU64::new(0) }; 64];

use vm_core::sigstate::SIGRTMIN;
/// Real-time arrivals kept with their siginfo before arrivals merge.
const QUEUED: usize = 1024;
/// A [`Queued`] slot's states.
const FREE: u32 = 0;
const WRITING: u32 = 1;
const READY: u32 = 2;
const TAKING: u32 = 3;

/// One real-time arrival not taken yet. Written by the handler that
/// claimed it (`FREE` to `WRITING`), published with `READY`, claimed
/// by a taker (`TAKING`) and freed.
struct Queued {
    state: AtomicU32,
    signo: AtomicU32,
    uid: AtomicU32,
    /// Arrival order.
    seq: AtomicU64,
    /// `si_code` (high half) and `si_pid` (low half).
    code_pid: AtomicU64,
    value: AtomicU64,
}

/// Real-time arrivals not taken yet, in no order (`seq` orders them).
static QUEUE: [Queued; QUEUED] = [const {
    Queued {
        state: AtomicU32::new(FREE),
        signo: AtomicU32::new(0),
        uid: AtomicU32::new(0),
        seq: AtomicU64::new(0),
        code_pid: AtomicU64::new(0),
        value: AtomicU64::new(0),
    }
}; QUEUED];
/// The next arrival's sequence number.
static SEQ: AtomicU64 = AtomicU64::new(0);
/// Real-time signals (bit `n-1`) with an arrival [`QUEUE`] had no room
/// for: their latest siginfo is in [`CODE_PID`].
static OVERFLOW: AtomicU64 = AtomicU64::new(0);
/// The latest `SIGCHLD`'s `si_status`.
static CHILD_STATUS: AtomicI32 = AtomicI32::new(0);
/// `SA_NOCLDSTOP | SA_NOCLDWAIT` as the guest set them for `SIGCHLD`.
static CHILD_FLAGS: AtomicI32 = AtomicI32::new(0);

/// The handler: async-signal-safe, it only stores atomics.
extern "C" fn on_signal(signo: i32, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel's siginfo and ucontext for this handler.
    unsafe { record(signo, info, ctx) };
}

/// Record `signo`, which arrived with `info`, as caught: for the core's
/// next [`take`], and so that a blocking call it came before fails with
/// `EINTR`. Async-signal-safe: it only stores atomics.
///
/// # Safety
/// `info` is null or the siginfo, `ctx` the ucontext, the kernel passed
/// to the `SA_SIGINFO` handler running on this thread.
pub unsafe fn record(signo: i32, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    if !(1..=64).contains(&signo) {
        return;
    }
    let i = (signo - 1) as usize;
    let (mut code_pid, mut uid, mut value) = (0, 0, 0);
    if !info.is_null() {
        // SAFETY: the caller's promise; si_pid/si_uid/si_value read the
        // kill/queue layout, which every signal that reaches this handler
        // may carry (zero otherwise).
        let (code, pid, u, v) = unsafe {
            (
                (*info).si_code,
                (*info).si_pid(),
                (*info).si_uid(),
                (*info).si_value().sival_ptr as u64,
            )
        };
        code_pid = (code as u32 as u64) << 32 | pid as u32 as u64;
        (uid, value) = (u, v);
        if signo == libc::SIGCHLD {
            // SAFETY: as above; SIGCHLD carries the child layout.
            CHILD_STATUS.store(unsafe { (*info).si_status() }, Ordering::Relaxed);
        }
    }
    if signo >= SIGRTMIN && !enqueue(signo, code_pid, uid, value) {
        OVERFLOW.fetch_or(1 << i, Ordering::AcqRel);
    }
    CODE_PID[i].store(code_pid, Ordering::Relaxed);
    UID[i].store(uid, Ordering::Relaxed);
    VALUE[i].store(value, Ordering::Relaxed);
    ARRIVED.fetch_or(1 << i, Ordering::Release);
    // SAFETY: `ctx` is this handler's ucontext; `redirect` only moves a
    // thread that has not yet entered a blocking call.
    unsafe { crate::cancel::redirect(ctx) };
}

/// Keep a real-time arrival in [`QUEUE`]; `false` when it is full.
fn enqueue(signo: i32, code_pid: u64, uid: u32, value: u64) -> bool {
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    for q in &QUEUE {
        if q.state
            .compare_exchange(FREE, WRITING, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            q.signo.store(signo as u32, Ordering::Relaxed);
            q.uid.store(uid, Ordering::Relaxed);
            q.seq.store(seq, Ordering::Relaxed);
            q.code_pid.store(code_pid, Ordering::Relaxed);
            q.value.store(value, Ordering::Relaxed);
            q.state.store(READY, Ordering::Release);
            return true;
        }
    }
    false
}

/// Who raised a signal pvm keeps for itself.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Another process (`kill`, `sigqueue`, `tgkill`...), or a message
    /// queue's notice (`mq_notify`): the guest's.
    Another,
    /// This process (a broken pipe's SIGPIPE, a kick, the host copy of
    /// the guest's own `kill(0, sig)`, which [`kill_own_group`] hands
    /// the guest): nothing for the handler to do.
    Itself,
    /// The kernel, for an instruction of pvm's (a fault, a trap).
    Fault,
}

/// Where `info` came from.
///
/// # Safety
/// `info` is null or a valid siginfo.
pub unsafe fn source(info: *const libc::siginfo_t) -> Source {
    // SAFETY: the caller's promise; a user-sent siginfo (SI_USER,
    // SI_QUEUE, SI_TKILL) has the kill layout. getpid is
    // async-signal-safe.
    unsafe {
        if info.is_null() || (*info).si_code > 0 {
            Source::Fault
        } else if (*info).si_code == libc::SI_MESGQ {
            // A message queue's notice: only the guest asks for them
            // (`mq_notify`), whoever sent the message (`si_pid`), this
            // process too.
            Source::Another
        } else if !matches!(
            (*info).si_code,
            libc::SI_USER | libc::SI_QUEUE | libc::SI_TKILL
        ) {
            // A timer's (SI_TIMER: its si_pid field is the timer id) or
            // another kernel notice: the guest's timers live in the core,
            // so every host timer is pvm's own (`crate::wakeup`,
            // `crate::profiler`).
            Source::Itself
        } else if (*info).si_pid() != libc::getpid() {
            Source::Another
        } else {
            Source::Itself
        }
    }
}

/// The signals pvm keeps on the host for itself that the guest may be
/// sent (SIGKILL and SIGSTOP are the host's to act on).
pub fn kept(signo: i32) -> bool {
    KEPT.contains(&signo)
        || LIBC_KEPT.contains(&signo)
        || matches!(signo, libc::SIGSEGV | libc::SIGBUS | KICK)
}

/// After the guest's `kill(pid, signo)` of its own group (`pid` 0 or
/// minus its group): the host's copy of a signal pvm keeps reaches this
/// process as its own, which the handlers drop, so the guest gets it
/// here, sent by itself.
pub fn kill_own_group(pid: i32, signo: i32) {
    // SAFETY: no memory is involved.
    let (me, group, uid) = unsafe { (libc::getpid(), libc::getpgrp(), libc::getuid()) };
    if !kept(signo) || !(pid == 0 || pid == -group) {
        return;
    }
    let i = (signo - 1) as usize;
    let code_pid = me as u32 as u64; // si_code SI_USER (0)
    if signo >= SIGRTMIN && !enqueue(signo, code_pid, uid, 0) {
        OVERFLOW.fetch_or(1 << i, Ordering::AcqRel);
    }
    CODE_PID[i].store(code_pid, Ordering::Relaxed);
    UID[i].store(uid, Ordering::Relaxed);
    VALUE[i].store(0, Ordering::Relaxed);
    ARRIVED.fetch_or(1 << i, Ordering::Release);
}

/// The handler of the signals pvm keeps for itself but the fault
/// signals [`crate::fault`] owns: another process's is the guest's; one
/// the kernel raised for pvm itself is pvm's own failure (SIGILL,
/// SIGFPE, SIGTRAP, SIGSYS): it dies of it, as it did before the handler.
/// One from this very process is dropped: a SIGPIPE the kernel raised
/// for a write to a broken pipe (the core raises the guest's), or the
/// host copy of the guest's own `kill(0, sig)` ([`kill_own_group`]).
extern "C" fn on_kept(signo: i32, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel's siginfo and ucontext for this handler; the
    // rest are async-signal-safe calls on initialised structs.
    unsafe {
        match source(info) {
            Source::Another => record(signo, info, ctx),
            Source::Itself => {}
            Source::Fault => {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = libc::SIG_DFL;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(signo, &sa, std::ptr::null_mut());
                // A trap's instruction is not run again: raise it
                // (pending until this handler returns).
                libc::raise(signo);
            }
        }
    }
}

/// The signals [`on_kept`] handles.
const KEPT: [i32; 5] = [
    libc::SIGPIPE,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGTRAP,
    libc::SIGSYS,
];

/// Install [`on_kept`] and [`on_libc`] again (where SIGPIPE was set for
/// a host program that was not started).
pub fn install_kept() {
    install_libc_kept();
    install_host_kept();
}

/// Install [`on_kept`] (at start, before anything that may raise one of
/// [`KEPT`]).
pub fn install_host_kept() {
    for signo in KEPT {
        // SAFETY: a zeroed sigaction is valid; the handler is
        // async-signal-safe.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_kept as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(signo, &sa, std::ptr::null_mut());
        }
    }
}

/// The signals the host's C library keeps for itself (glibc's SIGCANCEL
/// and SIGSETXID): its `sigaction` refuses them, so [`on_libc`] is
/// installed with the system call itself, ahead of the C library's
/// handler, which it calls for the C library's own.
const LIBC_KEPT: [i32; 2] = [SIGRTMIN, SIGRTMIN + 1];

/// The kernel's `struct sigaction` on x86-64 (the C library's differs).
#[repr(C)]
#[derive(Clone, Copy)]
struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

/// `rt_sigaction(signo, new, old)` itself, past the C library's refusal.
fn kernel_sigaction(signo: i32, new: Option<&KernelSigaction>) -> Option<KernelSigaction> {
    let mut old = KernelSigaction {
        handler: 0,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    let new = new.map_or(std::ptr::null(), |n| n as *const KernelSigaction);
    // SAFETY: both pointers are null or valid kernel sigactions of the
    // size given (8 bytes of mask).
    let r = unsafe { libc::syscall(libc::SYS_rt_sigaction, signo, new, &mut old, 8) };
    (r == 0).then_some(old)
}

/// The C library's handlers of [`LIBC_KEPT`] (handler and flags), as
/// [`install_libc_kept`] found them.
static LIBC_PREV: [(AtomicU64, AtomicU64); 2] =
    [const { (AtomicU64::new(0), AtomicU64::new(0)) }; 2];

/// The handler of [`LIBC_KEPT`]: another process's signal is the guest's;
/// this process's own (the C library's thread cancellation or id change
/// broadcast, sent with `tgkill`) goes to the C library's handler.
extern "C" fn on_libc(signo: i32, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel's siginfo and ucontext for this handler.
    if unsafe { source(info) } == Source::Another {
        // SAFETY: as above.
        unsafe { record(signo, info, ctx) };
        if HELPER.with(|h| h.get()) {
            // A guest thread takes it at its next stop: the main one
            // (if it has ended, the next thread that stops).
            // SAFETY: tgkill on our own process; ESRCH is harmless.
            unsafe {
                let me = libc::getpid();
                libc::syscall(libc::SYS_tgkill, me, me, KICK);
            }
        }
        return;
    }
    let i = (signo - SIGRTMIN) as usize;
    let handler = LIBC_PREV[i].0.load(Ordering::Acquire) as usize;
    if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
        return;
    }
    let siginfo = LIBC_PREV[i].1.load(Ordering::Acquire) & libc::SA_SIGINFO as u64 != 0;
    // SAFETY: `handler` is the C library's own handler of `signo`, called
    // as the kernel would have called it, with this handler's arguments.
    unsafe {
        if siginfo {
            let f: extern "C" fn(i32, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(handler);
            f(signo, info, ctx);
        } else {
            let f: extern "C" fn(i32) = std::mem::transmute(handler);
            f(signo);
        }
    }
}

/// Install [`on_libc`] for [`LIBC_KEPT`], keeping the C library's
/// handlers to call (installing it again keeps them too). The kernel
/// needs a restorer for a handler (x86-64): the flags and restorer of
/// [`KICK`]'s handler, which the C library installed ([`install_kick`]
/// runs first). At start it runs once pvm has made its first thread of
/// its own (the server thread, `peer::start_server`), before the guest
/// runs.
pub fn install_libc_kept() {
    unsafe extern "C" {
        /// glibc's "no thread was ever created" flag
        /// (`<sys/single_threaded.h>`), cleared at the first
        /// `pthread_create`.
        static __libc_single_threaded: core::ffi::c_char;
    }
    // glibc installs its SIGSETXID handler when the process makes its
    // first thread (and SIGCANCEL's at the first `pthread_cancel`, which
    // pvm never calls): that must have happened, so that its handler is
    // there to be kept, not installed over this one later. Where pvm made
    // no thread yet, one is made for it (a tenth of a static hello
    // world's CPU time, so start-up waits for the server thread instead).
    // SAFETY: a byte glibc writes only while it makes a thread, which
    // this thread is not doing.
    if unsafe { core::ptr::read_volatile(&raw const __libc_single_threaded) } != 0 {
        let _ = std::thread::spawn(|| {}).join();
    }
    let Some(kick) = kernel_sigaction(KICK, None) else {
        return;
    };
    for (i, &signo) in LIBC_KEPT.iter().enumerate() {
        let Some(old) = kernel_sigaction(signo, None) else {
            continue;
        };
        if old.handler != on_libc as *const () as usize {
            LIBC_PREV[i].0.store(old.handler as u64, Ordering::Release);
            LIBC_PREV[i].1.store(old.flags, Ordering::Release);
        }
        let sa = KernelSigaction {
            handler: on_libc as *const () as usize,
            // The kick handler's: SA_SIGINFO, no SA_RESTART, and the C
            // library's flag for its restorer.
            flags: kick.flags,
            restorer: kick.restorer,
            mask: 0,
        };
        kernel_sigaction(signo, Some(&sa));
    }
}

/// Block every host signal in this thread but those a fault raises, also
/// [`LIBC_KEPT`] (the C library's `pthread_sigmask` leaves those out).
/// Returns the old mask. (Only for a moment: the C library's id change
/// waits for every thread to take its SIGSETXID.)
pub fn block_all() -> libc::sigset_t {
    // SAFETY: plain signal-mask calls on valid, initialised sets; the
    // raw call reads 8 bytes of mask.
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
        let libc_kept: u64 = LIBC_KEPT.iter().fold(0, |m, s| m | 1 << (s - 1));
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_BLOCK,
            &libc_kept,
            std::ptr::null_mut::<u64>(),
            8,
        );
        old
    }
}

thread_local! {
    /// This host thread is one of pvm's own, not a guest thread's
    /// ([`helper_thread`]).
    static HELPER: Cell<bool> = const { Cell::new(false) };
}

/// Make this thread one of pvm's own helpers: host signals are for the
/// guest's threads, so it blocks them all, but SIGSETXID, which the C
/// library's id change needs every thread to take; another process's
/// that lands here is recorded and the main thread kicked to take it
/// (`on_libc`).
pub fn helper_thread() {
    block_all();
    HELPER.with(|h| h.set(true));
    let setxid: u64 = 1 << (LIBC_KEPT[1] - 1);
    // SAFETY: the raw call reads 8 bytes of mask.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_UNBLOCK,
            &setxid,
            std::ptr::null_mut::<u64>(),
            8,
        );
    }
}

/// Give `signo` its default action on the host, also one of
/// [`LIBC_KEPT`] (for pvm to die of it as its guest did).
pub fn set_default(signo: i32) {
    let sa = KernelSigaction {
        handler: libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    kernel_sigaction(signo, Some(&sa));
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
        discard_queued(1 << (signo - 1));
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
/// none pending, as Linux's); returns them. The real-time arrivals kept
/// stay (a vfork child shares them with its parent): a forked child
/// drops them with [`forget_queued`].
pub fn clear() -> u64 {
    ARRIVED.swap(0, Ordering::AcqRel)
}

/// Drop the real-time arrivals of the signals in `set` (bit `n-1` for
/// signal `n`) not taken yet.
fn discard_queued(set: u64) {
    for q in &QUEUE {
        let signo = q.signo.load(Ordering::Relaxed) as i32;
        if (1..=64).contains(&signo)
            && set & (1 << (signo - 1)) != 0
            && q.state
                .compare_exchange(READY, TAKING, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        {
            q.state.store(FREE, Ordering::Release);
        }
    }
    OVERFLOW.fetch_and(!set, Ordering::AcqRel);
}

/// A forked child: the parent's real-time arrivals are not its own.
pub fn forget_queued() {
    discard_queued(u64::MAX);
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

fn host_signal(signo: i32, code_pid: u64, uid: u32, value: u64) -> HostSignal {
    HostSignal {
        signo,
        code: (code_pid >> 32) as i32,
        pid: code_pid as u32 as i32,
        uid,
        status: if signo == libc::SIGCHLD {
            CHILD_STATUS.load(Ordering::Relaxed)
        } else {
            0
        },
        value,
    }
}

/// The oldest kept arrival of real-time signal `signo`, claimed and
/// freed; whether another is left.
fn dequeue(signo: i32) -> (Option<HostSignal>, bool) {
    loop {
        let mut oldest: Option<(&Queued, u64)> = None;
        let mut count = 0;
        for q in &QUEUE {
            if q.state.load(Ordering::Acquire) == READY
                && q.signo.load(Ordering::Relaxed) == signo as u32
            {
                count += 1;
                let seq = q.seq.load(Ordering::Relaxed);
                if oldest.is_none_or(|(_, s)| seq < s) {
                    oldest = Some((q, seq));
                }
            }
        }
        let Some((q, _)) = oldest else {
            return (None, false);
        };
        if q.state
            .compare_exchange(READY, TAKING, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            // Another taker had it: look again.
            continue;
        }
        let s = host_signal(
            signo,
            q.code_pid.load(Ordering::Relaxed),
            q.uid.load(Ordering::Relaxed),
            q.value.load(Ordering::Relaxed),
        );
        q.state.store(FREE, Ordering::Release);
        return (Some(s), count > 1);
    }
}

/// The lowest caught signal not taken yet; of a real-time one, its
/// oldest arrival.
pub fn take() -> Option<HostSignal> {
    let mut cur = ARRIVED.load(Ordering::Acquire);
    loop {
        if cur == 0 {
            return None;
        }
        let i = cur.trailing_zeros() as usize;
        let signo = i as i32 + 1;
        if signo >= SIGRTMIN {
            // The bit goes first: an arrival after this sets it again
            // once its entry is ready.
            ARRIVED.fetch_and(!(1 << i), Ordering::AcqRel);
            let (got, more) = dequeue(signo);
            let overflow = OVERFLOW.load(Ordering::Acquire) & (1 << i) != 0;
            if let Some(s) = got {
                if more || overflow {
                    ARRIVED.fetch_or(1 << i, Ordering::AcqRel);
                }
                // SAFETY: no memory is involved.
                if matches!(s.code, libc::SI_QUEUE | libc::SI_TKILL)
                    && s.pid != unsafe { libc::getpid() }
                {
                    // Another process's, which counted it as queued
                    // here until taken (`tree::reserve_signal`).
                    crate::tree::signal_taken();
                }
                return Some(s);
            }
            if OVERFLOW.fetch_and(!(1 << i), Ordering::AcqRel) & (1 << i) != 0 {
                return Some(host_signal(
                    signo,
                    CODE_PID[i].load(Ordering::Relaxed),
                    UID[i].load(Ordering::Relaxed),
                    VALUE[i].load(Ordering::Relaxed),
                ));
            }
            // Its entry was taken with an earlier bit.
            cur = ARRIVED.load(Ordering::Acquire);
            continue;
        }
        match ARRIVED.compare_exchange_weak(
            cur,
            cur & !(1 << i),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => {
                return Some(host_signal(
                    signo,
                    CODE_PID[i].load(Ordering::Relaxed),
                    UID[i].load(Ordering::Relaxed),
                    VALUE[i].load(Ordering::Relaxed),
                ));
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
    let old = block_all();
    // SAFETY: plain signal-mask calls on valid, initialised sets.
    unsafe {
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
