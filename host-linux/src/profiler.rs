//! `--profile`: the Linux side of the sampling profiler whose core is
//! `vm_core::sampling` (its `//!` says why sampling and what a sample
//! means).
//!
//! Every guest thread's host thread gets a timer on its own CPU-time
//! clock (`timer_create(CLOCK_THREAD_CPUTIME_ID)`, `SIGEV_THREAD_ID`, one
//! tick per [`INTERVAL_NS`] of CPU time), so a thread is sampled only
//! while it runs and in proportion to the CPU it uses, and each tick
//! lands on the thread that used the time. The tick is the [`KICK`]
//! signal pvm already reserves for itself (no guest signal is taken);
//! the kick handler tells a tick (`si_code` `SI_TIMER`) from a kick and
//! calls [`tick`]. A tick that interrupts a host system call makes it
//! fail with `EINTR` like any signal; with no guest signal pending the
//! core runs the call again (`signal::restart_interrupted`), so the
//! guest never sees it.
//!
//! What a tick reads: the interrupted `rip` and `rbp` (from the
//! `ucontext`) and this thread's guest pc, through the pointer the core
//! gave with `HostOs::guest_thread` ([`set_guest_pc`]), kept in a
//! thread-local.
//!
//! Processes: only the process that started with `--profile` writes the
//! profile; a forked child has no timers (they are not inherited) and
//! writes nothing, and a program the guest execs runs without profiling.

use crate::signals::KICK;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// CPU time between samples of one thread (1 ms: 1,000 samples a second).
pub const INTERVAL_NS: u64 = 1_000_000;

/// `sigev_value` of pvm's profiling timers.
const TIMER_TAG: usize = 0x7076_6d5f_7072_6f66;

static ON: AtomicBool = AtomicBool::new(false);
/// The process that turned profiling on (the one that writes the file).
static OWNER: AtomicI32 = AtomicI32::new(0);

thread_local! {
    /// The guest pc of the guest thread this host thread runs.
    static GUEST_PC: Cell<*const u64> = const { Cell::new(std::ptr::null()) };
    static TID: Cell<i32> = const { Cell::new(0) };
    /// This thread's timer (0: none).
    static TIMER: Cell<usize> = const { Cell::new(0) };
}

/// Is profiling on in this process?
pub fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Is this the process that should write the profile?
pub fn is_owner() -> bool {
    // SAFETY: getpid has no preconditions.
    on() && OWNER.load(Ordering::Relaxed) == unsafe { libc::getpid() }
}

/// Turn profiling on and start sampling the calling thread (call before
/// the guest's first instruction, with the kick handler installed).
pub fn enable() -> Result<(), String> {
    vm_core::sampling::enable();
    ON.store(true, Ordering::Relaxed);
    // SAFETY: getpid has no preconditions.
    OWNER.store(unsafe { libc::getpid() }, Ordering::Relaxed);
    arm_thread()
}

/// Start sampling the calling thread.
pub fn arm_thread() -> Result<(), String> {
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::gettid() };
    TID.with(|t| t.set(tid));
    // SAFETY: a zeroed sigevent is valid; every field the kernel reads for
    // SIGEV_THREAD_ID is set below, and `timer` is written by the call.
    unsafe {
        let mut ev: libc::sigevent = std::mem::zeroed();
        ev.sigev_notify = libc::SIGEV_THREAD_ID;
        ev.sigev_signo = KICK;
        ev.sigev_value = libc::sigval {
            sival_ptr: TIMER_TAG as *mut libc::c_void,
        };
        ev.sigev_notify_thread_id = tid;
        let mut timer: libc::timer_t = std::ptr::null_mut();
        if libc::timer_create(libc::CLOCK_THREAD_CPUTIME_ID, &mut ev, &mut timer) != 0 {
            return Err(format!("timer_create: {}", std::io::Error::last_os_error()));
        }
        let ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: INTERVAL_NS as i64,
        };
        let spec = libc::itimerspec {
            it_interval: ts,
            it_value: ts,
        };
        if libc::timer_settime(timer, 0, &spec, std::ptr::null_mut()) != 0 {
            let e = std::io::Error::last_os_error();
            libc::timer_delete(timer);
            return Err(format!("timer_settime: {e}"));
        }
        TIMER.with(|t| t.set(timer as usize));
    }
    Ok(())
}

/// Stop sampling the calling thread (before it ends).
pub fn disarm_thread() {
    GUEST_PC.with(|p| p.set(std::ptr::null()));
    let timer = TIMER.with(|t| t.replace(0));
    if timer != 0 {
        // SAFETY: a timer this thread created and nobody deleted.
        unsafe { libc::timer_delete(timer as libc::timer_t) };
    }
}

/// `HostOs::guest_thread`: the calling thread's guest pc lives at `pc`
/// (null: no longer).
pub fn set_guest_pc(pc: *const u64) {
    GUEST_PC.with(|p| p.set(pc));
}

/// Is this signal one of the profiling timers' ticks?
///
/// # Safety
/// `info` is the siginfo the kernel passed to an `SA_SIGINFO` handler.
pub unsafe fn is_tick(info: *const libc::siginfo_t) -> bool {
    // SAFETY: the caller's promise; a timer's siginfo carries the
    // timer layout, whose value field is at the kill layout's `si_value`.
    unsafe {
        !info.is_null()
            && (*info).si_code == libc::SI_TIMER
            && (*info).si_value().sival_ptr as usize == TIMER_TAG
    }
}

/// One tick on this thread, interrupted with context `uc`.
///
/// # Safety
/// `uc` is the ucontext the kernel passed to this thread's handler.
pub unsafe fn tick(uc: *const libc::c_void) {
    if uc.is_null() {
        return;
    }
    // SAFETY: the caller's promise; the thread-locals are `const`
    // initialised without destructors (plain TLS, async-signal-safe); the
    // guest pc pointer is this thread's own run loop's, valid while set
    // (cleared before the run loop's `Thread` moves or dies), and read
    // as one aligned word of memory this thread wrote.
    unsafe {
        let uc = &*(uc as *const libc::ucontext_t);
        let rip = uc.uc_mcontext.gregs[libc::REG_RIP as usize] as u64;
        let rbp = uc.uc_mcontext.gregs[libc::REG_RBP as usize] as u64;
        let pc = GUEST_PC.with(|p| p.get());
        let last = (!pc.is_null()).then(|| std::ptr::read_volatile(pc));
        vm_core::sampling::sample(rip, rbp, last, TID.with(|t| t.get()));
    }
}
