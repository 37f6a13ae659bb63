//! The Linux side of `HostOs::set_wakeup`: one host POSIX timer per
//! process on `CLOCK_MONOTONIC` that sends [`crate::signals::KICK`] to one
//! host thread (`SIGEV_THREAD_ID`) at an absolute time, so that the core
//! looks at its own POSIX timers (`vm_core::ptimer`) even when every
//! guest thread is blocked in a host call: the kick interrupts the call
//! (`EINTR`) exactly as `interrupt_thread` does. A host timer aims at one
//! thread for life, so a new target means a new timer; a forked child,
//! which inherits no host timer, makes its own (the saved one is keyed by
//! the process id).

use std::sync::Mutex;

/// This process's wake-up timer: the pid that made it, its target, the
/// host timer.
struct Wake {
    pid: i32,
    tid: i32,
    timer: libc::timer_t,
}

// SAFETY: a `timer_t` is an opaque kernel id (glibc's is a small integer
// cast to a pointer), used only through timer_* calls under the mutex.
unsafe impl Send for Wake {}

static WAKE: Mutex<Option<Wake>> = Mutex::new(None);

/// Kick host thread `tid` at monotonic time `at` (ns), or never.
pub fn set(at: Option<u64>, tid: i32) {
    let mut w = WAKE.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: cannot fail.
    let pid = unsafe { libc::getpid() };
    if w.as_ref().is_some_and(|x| x.pid != pid) {
        // The parent's timer, copied by fork: not ours.
        *w = None;
    }
    let Some(at) = at else {
        if let Some(x) = w.as_ref() {
            disarm(x.timer);
        }
        return;
    };
    if w.as_ref().is_some_and(|x| x.tid != tid) {
        let old = w.take().expect("checked");
        // SAFETY: a timer this process created and still owns.
        unsafe { libc::timer_delete(old.timer) };
    }
    if w.is_none() {
        // SAFETY: `ev` is a zeroed, then filled sigevent; `timer` is
        // written by the call.
        let timer = unsafe {
            let mut ev: libc::sigevent = std::mem::zeroed();
            ev.sigev_notify = libc::SIGEV_THREAD_ID;
            ev.sigev_signo = crate::signals::KICK;
            ev.sigev_notify_thread_id = tid;
            let mut timer: libc::timer_t = std::mem::zeroed();
            if libc::timer_create(libc::CLOCK_MONOTONIC, &mut ev, &mut timer) != 0 {
                return;
            }
            timer
        };
        *w = Some(Wake { pid, tid, timer });
    }
    let x = w.as_ref().expect("made above");
    let spec = libc::itimerspec {
        it_interval: libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        },
        it_value: libc::timespec {
            // 0 would disarm: a time already past is at least 1 ns.
            tv_sec: (at / 1_000_000_000) as i64,
            tv_nsec: ((at % 1_000_000_000) as i64).max((at == 0) as i64),
        },
    };
    // SAFETY: a live timer of this process; `spec` is valid.
    unsafe { libc::timer_settime(x.timer, libc::TIMER_ABSTIME, &spec, std::ptr::null_mut()) };
}

fn disarm(timer: libc::timer_t) {
    // SAFETY: zeroed itimerspec disarms; the timer is this process's.
    unsafe {
        let zero: libc::itimerspec = std::mem::zeroed();
        libc::timer_settime(timer, 0, &zero, std::ptr::null_mut());
    }
}
