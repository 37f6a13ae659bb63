//! POSIX per-process timers (`timer_create`, `timer_settime`,
//! `timer_gettime`, `timer_getoverrun`, `timer_delete`), emulated in the
//! core as Linux (6.14 and later) keeps them.
//!
//! Design: the timers are the core's own, one table per [`Process`], and
//! their signals are core signals. They are not forwarded to host POSIX
//! timers, because what the guest sees of a timer lives where the core
//! keeps its signals: a timer's signal carries `si_timerid`, `si_overrun`
//! and `si_value` (host signals reach the core without them, and do not
//! queue), its overrun count depends on when the *guest* takes the signal
//! (Linux re-arms a periodic timer only then), the target may be one guest
//! thread (`SIGEV_THREAD_ID`, which glibc's `SIGEV_THREAD` uses with
//! signal 32, a signal the host's own C library keeps), and the bare-metal
//! host has no kernel timers to forward to.
//!
//! Expiry is noticed at every stop of a thread's run loop
//! ([`poll`], from [`crate::signal::take_host_signals`]; a busy guest
//! stops at least at each end of its instruction budget), which is all the
//! CPU-time clocks need: they advance only while a thread runs. For the
//! other clocks the core asks the host for one wake-up per process
//! ([`HostOs::set_wakeup`]): at the earliest expiry the host interrupts a
//! chosen thread as [`HostOs::interrupt_thread`] does, so a blocking host
//! call fails with `EINTR`, the call's restart path polls the timers, and
//! the signal goes through the guest's masks and dispositions like any
//! other. Where threads take turns on one host thread, the scheduler polls
//! too and sleeps no later than the next expiry ([`next_deadline`]).
//!
//! Linux semantics kept: ids count up from 0 per process; a timer's signal
//! is queued once (a real-time one too) and a periodic timer is re-armed
//! only when its signal is taken, the intervals it missed becoming
//! `si_overrun` and [`timer_getoverrun`]; a signal whose timer was deleted
//! or set again before it was taken is dropped; a periodic timer whose
//! signal is ignored waits on an "ignored list" and is queued again when
//! the signal stops being ignored; `timer_gettime` moves a periodic timer
//! whose signal waits past now, and reports 1 ns for a timer whose time
//! has come but that has not fired yet; each timer holds a place under
//! `RLIMIT_SIGPENDING` from `timer_create` to `timer_delete` (Linux
//! preallocates its signal; [`crate::signal::timer_allowed`]), so
//! `timer_create` fails with `EAGAIN` at the limit and a timer's signal
//! takes no second place when queued; `fork` does not inherit timers
//! (and `execve` ends them with the process). Not kept: a wall-clock timer
//! is converted to a monotonic wake-up when armed, so a jump of the host's
//! `CLOCK_REALTIME` (which the guest cannot make) is noticed only at the
//! next stop of a thread; a `CLOCK_THREAD_CPUTIME_ID` timer of a thread
//! that is not a host thread (threads taking turns on one) counts that
//! host thread's time.

use crate::host::{Errno, HostOs, SysResult, Timespec};
use crate::process::{Process, Thread};
use crate::sigstate::{self, Pending, SigFields, SigInfo, SignalTable};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// `sigev_notify` values.
pub const SIGEV_SIGNAL: i32 = 0;
pub const SIGEV_NONE: i32 = 1;
pub const SIGEV_THREAD: i32 = 2;
pub const SIGEV_THREAD_ID: i32 = 4;
/// `si_code` of a timer's signal.
pub const SI_TIMER: i32 = -2;
/// `timer_settime` flag: `it_value` is an absolute time on the clock.
pub const TIMER_ABSTIME: i32 = 1;
/// `sizeof(struct sigevent)` on riscv64 (the kernel copies all of it).
pub const SIGEVENT_SIZE: usize = 64;

const NSEC: i64 = 1_000_000_000;

/// A timer's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// `CLOCK_REALTIME`, `CLOCK_MONOTONIC`, `CLOCK_BOOTTIME`, `CLOCK_TAI`.
    Wall(i32),
    /// A CPU-time clock, by the clock id the host reads it with (the
    /// process's, `CLOCK_PROCESS_CPUTIME_ID`, or a dynamic one).
    Cpu(i32),
    /// Thread `tid`'s CPU time (`CLOCK_THREAD_CPUTIME_ID` of the thread
    /// that created the timer, or a `pthread_getcpuclockid` clock).
    Thread(i32),
}

/// Linux's dynamic CPU clock id of thread `tid` (`MAKE_THREAD_CPUCLOCK(tid,
/// CPUCLOCK_SCHED)`).
fn thread_clock_id(tid: i32) -> i32 {
    (!tid) << 3 | 6
}

impl Clock {
    /// The clock of `timer_create(clock, ...)` called by thread `tid`:
    /// `EINVAL` for a clock that does not exist, `EOPNOTSUPP` for one that
    /// has no timers (the raw and coarse clocks), `EPERM` for the alarm
    /// clocks (they need `CAP_WAKE_ALARM`, which pvm does not grant).
    pub fn of(process: &Process, clock: i32, tid: i32) -> SysResult<Clock> {
        match clock {
            0 | 1 | 7 | 11 => Ok(Clock::Wall(clock)),
            2 => Ok(Clock::Cpu(2)),
            3 => Ok(Clock::Thread(tid)),
            4..=6 => Err(Errno::ENOTSUP),
            8 | 9 => Err(Errno::ENOTSUP),
            c if c < 0 => {
                // A dynamic clock: ~pid << 3 | perthread << 2 | type, or
                // a posix clock device's (`CLOCKFD`, no timers).
                if c & 7 == 3 {
                    return Err(Errno::ENOTSUP);
                }
                if c & 3 == 3 {
                    return Err(Errno::EINVAL);
                }
                let id = !(c >> 3);
                if c & 4 != 0 {
                    let t = if id == 0 { tid } else { id };
                    if process.thread(t).is_none() && t != tid {
                        return Err(Errno::EINVAL);
                    }
                    return Ok(Clock::Thread(t));
                }
                if id == 0 {
                    return Ok(Clock::Cpu(2));
                }
                // A process's CPU time by pid: the host reads it (or not).
                process.host.clock_gettime(c).map_err(|_| Errno::EINVAL)?;
                Ok(Clock::Cpu(c))
            }
            _ => Err(Errno::EINVAL),
        }
    }

    /// Its time now, in ns.
    fn now(self, host: &dyn HostOs) -> i64 {
        let t = match self {
            Clock::Wall(c) | Clock::Cpu(c) => host.clock_gettime(c),
            // A thread that is not a host thread of this process: the
            // calling host thread's time.
            Clock::Thread(tid) => host
                .clock_gettime(thread_clock_id(tid))
                .or_else(|_| host.clock_gettime(3)),
        };
        t.map_or(0, ktime)
    }
}

/// A timespec as ns, saturating as the kernel's `ktime_t` does.
pub fn ktime(t: Timespec) -> i64 {
    t.sec
        .checked_mul(NSEC)
        .and_then(|s| s.checked_add(t.nsec))
        .unwrap_or(i64::MAX)
}

/// ns as a timespec.
pub fn timespec(ns: i64) -> Timespec {
    Timespec {
        sec: ns / NSEC,
        nsec: ns % NSEC,
    }
}

/// How a timer tells of its expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notify {
    /// `SIGEV_NONE`: only `timer_gettime` sees it.
    None,
    /// `SIGEV_SIGNAL` (and the kernel's view of `SIGEV_THREAD`): signal
    /// `signo` with `value` to the process.
    Process { signo: i32, value: u64 },
    /// `SIGEV_SIGNAL | SIGEV_THREAD_ID`: to thread `tid`.
    Thread { signo: i32, value: u64, tid: i32 },
}

impl Notify {
    /// The notification a riscv64 `struct sigevent` asks for, checked as
    /// the kernel's `good_sigevent` does.
    pub fn parse(process: &Process, b: &[u8; SIGEVENT_SIZE]) -> SysResult<Notify> {
        let value = u64::from_le_bytes(b[0..8].try_into().unwrap());
        let signo = i32::from_le_bytes(b[8..12].try_into().unwrap());
        let notify = i32::from_le_bytes(b[12..16].try_into().unwrap());
        let tid = i32::from_le_bytes(b[16..20].try_into().unwrap());
        let good_signo = (1..=sigstate::NSIG).contains(&signo);
        match notify {
            SIGEV_NONE => Ok(Notify::None),
            SIGEV_SIGNAL | SIGEV_THREAD if good_signo => Ok(Notify::Process { signo, value }),
            n if n == SIGEV_SIGNAL | SIGEV_THREAD_ID
                && good_signo
                && process.thread(tid).is_some() =>
            {
                Ok(Notify::Thread { signo, value, tid })
            }
            _ => Err(Errno::EINVAL),
        }
    }

    fn signo(self) -> Option<i32> {
        match self {
            Notify::None => None,
            Notify::Process { signo, .. } | Notify::Thread { signo, .. } => Some(signo),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Disarmed,
    /// Waiting to expire at `expiry`.
    Armed,
    /// A periodic timer expired; its signal is queued (or on the ignored
    /// list), and it is re-armed when the signal is taken.
    RequeuePending,
}

#[derive(Clone, Debug)]
struct Timer {
    id: i32,
    clock: Clock,
    notify: Notify,
    status: Status,
    /// Next (or last, once expired) expiry, ns on `clock`.
    expiry: i64,
    /// 0: one-shot.
    interval: i64,
    /// Intervals missed since the last re-arm, minus one.
    overrun: i64,
    /// What `timer_getoverrun` reports.
    overrun_last: i64,
    /// Counts settings and re-arms; the queued signal is delivered only if
    /// it has not changed since it was queued (`sigqueue_seq`).
    signal_seq: u32,
    sigqueue_seq: u32,
    /// Its signal is in a pending queue.
    queued: bool,
    /// Its signal was ignored at expiry (periodic timers only): queued
    /// again when it no longer is.
    ignored: bool,
    /// Its `SIGEV_THREAD_ID` target ended: its signals go nowhere.
    target_gone: bool,
}

impl Timer {
    /// `hrtimer_forward`: move `expiry` past `now` by whole intervals;
    /// how many.
    fn forward(&mut self, now: i64) -> i64 {
        let delta = now.saturating_sub(self.expiry);
        if delta < 0 || self.interval <= 0 {
            return 0;
        }
        let mut orun = 1;
        if delta >= self.interval {
            orun = delta / self.interval;
            self.expiry = self
                .expiry
                .saturating_add(self.interval.saturating_mul(orun));
            if self.expiry > now {
                return orun;
            }
            orun += 1;
        }
        self.expiry = self.expiry.saturating_add(self.interval);
        orun
    }

    /// The signal it queues.
    fn info(&self) -> Option<SigInfo> {
        let (signo, value) = match self.notify {
            Notify::None => return None,
            Notify::Process { signo, value } | Notify::Thread { signo, value, .. } => {
                (signo, value)
            }
        };
        Some(SigInfo {
            signo,
            code: SI_TIMER,
            fields: SigFields::Timer {
                id: self.id,
                overrun: 0,
                value,
            },
        })
    }
}

/// The current setting of a timer: interval and time left.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Setting {
    pub interval: i64,
    pub value: i64,
}

#[derive(Debug, Default)]
struct Table {
    timers: Vec<Timer>,
    next_id: i32,
    /// The host wake-up last asked for: monotonic ns and thread.
    wake: Option<(u64, i32)>,
    /// The thread process-directed wake-ups go to once the first thread
    /// ended (0: the first thread).
    waker: i32,
}

/// A process's POSIX timers. Lock order: the thread list, the process's
/// signal table, then this table; nothing here takes the thread list's
/// lock while holding the other two (threads and their masks are read
/// before, [`live`]).
#[derive(Debug, Default)]
pub struct Timers {
    table: spin::Mutex<Table>,
    /// Some timer is armed: the run loop's stops look at the clocks.
    armed: AtomicBool,
    /// How many timers there are (read without the table's lock by
    /// the `RLIMIT_SIGPENDING` count, [`Timers::count`]).
    count: AtomicUsize,
}

/// A signal to send once the locks are released.
enum Send {
    Thread(i32, SigInfo),
    /// Process-directed, already queued: wake a thread that takes it.
    Wake(i32),
}

impl Timers {
    /// `timer_create`: a new timer on `clock` notifying as `notify` says
    /// (`None`: the default, `SIGALRM` with the timer id as value); its id.
    pub fn create(&self, clock: Clock, notify: Option<Notify>) -> SysResult<i32> {
        let mut t = self.table.lock();
        if t.timers.len() >= i32::MAX as usize {
            return Err(Errno::EAGAIN);
        }
        let mut id = t.next_id;
        while t.timers.iter().any(|x| x.id == id) {
            id = (id + 1) & i32::MAX;
        }
        let notify = notify.unwrap_or(Notify::Process {
            signo: sigstate::SIGALRM,
            value: id as u64,
        });
        t.next_id = (id + 1) & i32::MAX;
        t.timers.push(Timer {
            id,
            clock,
            notify,
            status: Status::Disarmed,
            expiry: 0,
            interval: 0,
            overrun: -1,
            overrun_last: 0,
            signal_seq: 0,
            sigqueue_seq: 0,
            queued: false,
            ignored: false,
            target_gone: false,
        });
        self.count.store(t.timers.len(), Ordering::Relaxed);
        Ok(id)
    }

    /// `timer_delete`.
    pub fn delete(&self, process: &Process, id: i32) -> SysResult<()> {
        let mut t = self.table.lock();
        let at = t
            .timers
            .iter()
            .position(|x| x.id == id)
            .ok_or(Errno::EINVAL)?;
        t.timers.remove(at);
        self.count.store(t.timers.len(), Ordering::Relaxed);
        self.rearm_host(process, &mut t);
        Ok(())
    }

    /// `timer_gettime` (`common_timer_get`).
    pub fn get(&self, process: &Process, id: i32) -> SysResult<Setting> {
        let mut t = self.table.lock();
        let tm = t
            .timers
            .iter_mut()
            .find(|x| x.id == id)
            .ok_or(Errno::EINVAL)?;
        Ok(current(process.host, tm))
    }

    /// `timer_getoverrun`.
    pub fn overrun(&self, id: i32) -> SysResult<i32> {
        let t = self.table.lock();
        let tm = t.timers.iter().find(|x| x.id == id).ok_or(Errno::EINVAL)?;
        Ok(tm.overrun_last.clamp(0, i32::MAX as i64) as i32)
    }

    /// `timer_settime(id, flags, new)`: the old setting.
    pub fn set(&self, process: &Process, id: i32, flags: i32, new: Setting) -> SysResult<Setting> {
        let mut t = self.table.lock();
        let tm = t
            .timers
            .iter_mut()
            .find(|x| x.id == id)
            .ok_or(Errno::EINVAL)?;
        let old = current(process.host, tm);
        // Whatever was queued is stale now.
        tm.signal_seq = tm.signal_seq.wrapping_add(1);
        tm.status = Status::Disarmed;
        tm.ignored = false;
        tm.interval = if new.value != 0 { new.interval } else { 0 };
        tm.overrun_last = 0;
        tm.overrun = -1;
        if new.value != 0 {
            tm.expiry = if flags & TIMER_ABSTIME != 0 {
                new.value
            } else {
                tm.clock.now(process.host).saturating_add(new.value)
            };
            if tm.notify != Notify::None {
                tm.status = Status::Armed;
            }
        }
        if tm.status == Status::Armed {
            self.armed.store(true, Ordering::Release);
        }
        self.rearm_host(process, &mut t);
        Ok(old)
    }

    /// Hold the table (and so the host's wake-up) still across `fork`.
    pub(crate) fn lock_for_fork(&self) -> impl Sized + '_ {
        self.table.lock()
    }

    /// In a forked child: no timers (the child's ids start at 0 again).
    pub fn forked_child(&self) {
        *self.table.lock() = Table::default();
        self.armed.store(false, Ordering::Release);
        self.count.store(0, Ordering::Relaxed);
    }

    /// How many timers the process has: each holds an entry counted
    /// against `RLIMIT_SIGPENDING` (Linux's `timer_create` preallocates
    /// the timer's queued signal), whether its signal is queued or not.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// The earliest expiry of a wall-clock timer, as monotonic ns.
    pub fn next_deadline(&self, host: &dyn HostOs) -> Option<u64> {
        if !self.armed.load(Ordering::Acquire) {
            return None;
        }
        earliest(host, &self.table.lock()).map(|(at, _)| at)
    }

    /// Thread `tid` is ending: wake-ups aimed at it go to another thread,
    /// and the signals of timers aimed at it go nowhere (as in Linux).
    pub fn thread_exiting(&self, process: &Process, tid: i32) {
        if self.table.lock().timers.is_empty() {
            return;
        }
        // The thread list's lock comes before this table's.
        let other = process.other_threads(tid).first().map(|s| s.tid);
        let mut t = self.table.lock();
        let leader = process.first_tid.load(Ordering::Relaxed) as i32;
        if t.waker == tid || (t.waker == 0 && leader == tid) {
            t.waker = other.unwrap_or(0);
        }
        for tm in t.timers.iter_mut() {
            if matches!(tm.notify, Notify::Thread { tid: x, .. } if x == tid) {
                tm.target_gone = true;
            }
        }
        if t.wake.is_some_and(|(_, w)| w == tid) {
            t.wake = None;
        }
        self.rearm_host(process, &mut t);
    }

    /// Ask the host for a wake-up at the earliest wall-clock expiry, aimed
    /// at the thread that will want it: the target of a `SIGEV_THREAD_ID`
    /// timer, else the process's waker (its first thread, or one that
    /// lives on after it). Takes no other lock (see [`Timers`]).
    fn rearm_host(&self, process: &Process, t: &mut Table) {
        let any = t.timers.iter().any(|x| x.status == Status::Armed);
        self.armed.store(any, Ordering::Release);
        let host = process.host;
        let wake = earliest(host, t).map(|(at, first)| {
            let tid = if !host.threads() {
                host.gettid()
            } else {
                match t.timers[first].notify {
                    Notify::Thread { tid, .. } if !t.timers[first].target_gone => tid,
                    _ if t.waker != 0 => t.waker,
                    _ => process.first_tid.load(Ordering::Relaxed) as i32,
                }
            };
            (at, tid)
        });
        if wake != t.wake {
            t.wake = wake;
            host.set_wakeup(wake.map(|(at, _)| at), wake.map_or(0, |(_, tid)| tid));
        }
    }
}

/// The earliest expiry of an armed wall-clock timer, as monotonic ns,
/// and that timer's index.
fn earliest(host: &dyn HostOs, t: &Table) -> Option<(u64, usize)> {
    let mut best: Option<(u64, usize)> = None;
    let mono = Clock::Wall(1).now(host);
    for (i, tm) in t.timers.iter().enumerate() {
        if let (Status::Armed, Clock::Wall(_)) = (tm.status, tm.clock) {
            let left = tm.expiry.saturating_sub(tm.clock.now(host)).max(0);
            let at = mono.saturating_add(left).max(0) as u64;
            if best.is_none_or(|(b, _)| at < b) {
                best = Some((at, i));
            }
        }
    }
    best
}

/// `common_timer_get`: interval and time left; a periodic timer whose
/// signal waits is moved past now first (its missed intervals counted);
/// a timer whose time came but that did not fire yet reports 1 ns.
fn current(host: &dyn HostOs, tm: &mut Timer) -> Setting {
    let sig_none = tm.notify == Notify::None;
    let mut s = Setting {
        interval: tm.interval,
        value: 0,
    };
    if tm.interval == 0 && tm.status == Status::Disarmed && !sig_none {
        return s;
    }
    if tm.interval == 0 && sig_none && tm.expiry == 0 {
        return s;
    }
    let now = tm.clock.now(host);
    if tm.interval != 0 && tm.status != Status::Armed {
        let n = tm.forward(now);
        tm.overrun = tm.overrun.saturating_add(n);
    }
    let left = tm.expiry.saturating_sub(now);
    if left <= 0 {
        if !sig_none {
            s.value = 1;
        }
    } else {
        s.value = left;
    }
    s
}

/// The live threads with their signal masks (the current thread's as it
/// is now), read before the signal table and timer locks.
fn live(process: &Process, me: Option<&Thread>) -> Vec<(i32, u64)> {
    process
        .threads
        .lock()
        .iter()
        .map(|s| match me {
            Some(t) if t.tid == s.tid => (t.tid, t.sigmask),
            _ => (s.tid, s.sigmask.load(Ordering::Relaxed)),
        })
        .collect()
}

/// Fire the timers whose time has come: queue their signals (for
/// `thread`, the thread at a stop of its run loop, if the signal is its
/// own; `None` between threads), and ask the host for the next wake-up.
pub fn poll(process: &Process, mut thread: Option<&mut Thread>) {
    let timers = &process.timers;
    if !timers.armed.load(Ordering::Acquire) {
        return;
    }
    if thread.as_ref().is_some_and(|t| t.shared.is_none()) {
        // The child of a vfork, which shares this `Process` until it
        // execs: the timers are its parent's.
        return;
    }
    let host = process.host;
    let mono = Clock::Wall(1).now(host);
    let now_of = |c: Clock| {
        if c == Clock::Wall(1) {
            mono
        } else {
            c.now(host)
        }
    };
    let due = |t: &Table| {
        t.timers
            .iter()
            .any(|tm| tm.status == Status::Armed && now_of(tm.clock) >= tm.expiry)
    };
    let late = |t: &Table| t.wake.is_some_and(|(at, _)| mono >= 0 && mono as u64 >= at);
    {
        let t = timers.table.lock();
        if !due(&t) && !late(&t) {
            return;
        }
    }
    let live = live(process, thread.as_deref());
    let mut sends: Vec<Send> = Vec::new();
    {
        let mut table = process.signals.lock();
        let mut t = timers.table.lock();
        for tm in t.timers.iter_mut() {
            if tm.status != Status::Armed || now_of(tm.clock) < tm.expiry {
                continue;
            }
            tm.status = if tm.interval != 0 {
                Status::RequeuePending
            } else {
                Status::Disarmed
            };
            queue(
                process,
                thread.as_deref_mut(),
                &mut table,
                tm,
                &live,
                &mut sends,
            );
        }
        if late(&t) {
            // Used up (the host's timer fired, or is about to).
            t.wake = None;
        }
        timers.rearm_host(process, &mut t);
    }
    send_all(process, thread.map(|t| (t.tid, t.sigmask)), sends);
}

/// Queue `tm`'s signal (`posixtimer_send_sigqueue`), with the signal table
/// locked; thread-directed signals for another thread, and wake-ups, go in
/// `sends`. `live` are the threads and their masks.
fn queue(
    process: &Process,
    thread: Option<&mut Thread>,
    table: &mut SignalTable,
    tm: &mut Timer,
    live: &[(i32, u64)],
    sends: &mut Vec<Send>,
) {
    let Some(info) = tm.info() else {
        return;
    };
    tm.sigqueue_seq = tm.signal_seq;
    if tm.queued {
        return;
    }
    let signo = info.signo;
    let target = match tm.notify {
        Notify::Thread { tid, .. } => Some(tid),
        _ => None,
    };
    let mask_of = |tid: i32| live.iter().find(|(t, _)| *t == tid).map(|&(_, m)| m);
    if target.is_some_and(|tid| tm.target_gone || mask_of(tid).is_none()) {
        // The thread ended: the signal goes nowhere.
        tm.target_gone = true;
        return;
    }
    // Is it blocked where it would go (for a process-directed signal, the
    // first thread's mask, as Linux looks at the group leader's)?
    let who = target.unwrap_or(process.first_tid.load(Ordering::Relaxed) as i32);
    let blocked = mask_of(who).is_some_and(|m| m & sigstate::bit(signo) != 0);
    let act = table.actions[(signo - 1) as usize];
    if !blocked && sigstate::ignored(&act, signo) {
        // A periodic timer waits on the ignored list; a one-shot one's
        // signal is dropped.
        if tm.interval != 0 {
            tm.ignored = true;
        }
        return;
    }
    tm.ignored = false;
    tm.queued = true;
    match (target, thread) {
        (Some(tid), Some(t)) if t.tid == tid => t.pending.add(info),
        (Some(tid), _) => sends.push(Send::Thread(tid, info)),
        (None, _) => {
            table.shared.add(info);
            sends.push(Send::Wake(signo));
        }
    }
}

/// Deliver what [`queue`] left for after the locks.
fn send_all(process: &Process, me: Option<(i32, u64)>, sends: Vec<Send>) {
    for s in sends {
        match s {
            Send::Thread(tid, info) => {
                process.send_to_thread(tid, info);
            }
            Send::Wake(signo) => match me {
                Some((_, mask)) if mask & sigstate::bit(signo) == 0 => {}
                Some((tid, _)) => process.wake_taker(tid, signo),
                None => process.wake_taker(-1, signo),
            },
        }
    }
}

/// A timer's signal is being taken from a pending queue
/// (`posixtimer_deliver_signal`): `None` if it is stale (its timer was
/// deleted or set again since), else the signal, with `si_overrun` set
/// when a periodic timer is re-armed now. Called with the signal table
/// locked; other signals pass through.
pub fn deliverable(process: &Process, info: SigInfo) -> Option<SigInfo> {
    let SigFields::Timer { id, value, .. } = info.fields else {
        return Some(info);
    };
    let timers = &process.timers;
    let mut t = timers.table.lock();
    let tm = t.timers.iter_mut().find(|x| x.id == id)?;
    tm.queued = false;
    if tm.signal_seq != tm.sigqueue_seq {
        return None;
    }
    let mut info = info;
    if tm.interval != 0 && tm.status == Status::RequeuePending {
        let now = tm.clock.now(process.host);
        let n = tm.forward(now);
        tm.overrun = tm.overrun.saturating_add(n);
        tm.status = Status::Armed;
        tm.overrun_last = tm.overrun;
        tm.overrun = -1;
        tm.signal_seq = tm.signal_seq.wrapping_add(1);
        info.fields = SigFields::Timer {
            id,
            overrun: tm.overrun_last.clamp(0, i32::MAX as i64) as i32,
            value,
        };
        timers.armed.store(true, Ordering::Release);
        timers.rearm_host(process, &mut t);
    }
    Some(info)
}

/// Take the oldest deliverable instance of `signo`, the thread's own
/// (`own`) before the process's, dropping stale timer signals.
pub fn take(
    process: &Process,
    own: &mut Pending,
    table: &mut SignalTable,
    signo: i32,
) -> Option<SigInfo> {
    loop {
        let info = own.take(signo).or_else(|| table.shared.take(signo))?;
        if let Some(i) = deliverable(process, info) {
            return Some(i);
        }
    }
}

/// Pending instances of `signo` were discarded (it is now ignored): their
/// periodic timers wait on the ignored list, the others forget them.
pub fn discarded(process: &Process, dropped: &[SigInfo]) {
    if dropped.is_empty() {
        return;
    }
    let mut t = process.timers.table.lock();
    for info in dropped {
        if let SigFields::Timer { id, .. } = info.fields
            && let Some(tm) = t.timers.iter_mut().find(|x| x.id == id)
        {
            tm.queued = false;
            if tm.status == Status::RequeuePending && tm.signal_seq == tm.sigqueue_seq {
                tm.ignored = true;
            }
        }
    }
}

/// `signo` is no longer ignored (`posixtimer_sig_unignore`): queue again
/// the signals of the periodic timers waiting on the ignored list.
pub fn unignored(process: &Process, thread: &mut Thread, signo: i32) {
    if !process.timers.armed.load(Ordering::Acquire)
        && process
            .timers
            .table
            .lock()
            .timers
            .iter()
            .all(|x| !x.ignored)
    {
        return;
    }
    let live = live(process, Some(thread));
    let mut sends = Vec::new();
    {
        let mut table = process.signals.lock();
        let mut t = process.timers.table.lock();
        for tm in t.timers.iter_mut() {
            if tm.ignored && tm.notify.signo() == Some(signo) {
                tm.ignored = false;
                queue(
                    process,
                    Some(&mut *thread),
                    &mut table,
                    tm,
                    &live,
                    &mut sends,
                );
            }
        }
    }
    send_all(process, Some((thread.tid, thread.sigmask)), sends);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timer(expiry: i64, interval: i64) -> Timer {
        Timer {
            id: 0,
            clock: Clock::Wall(1),
            notify: Notify::None,
            status: Status::Armed,
            expiry,
            interval,
            overrun: -1,
            overrun_last: 0,
            signal_seq: 0,
            sigqueue_seq: 0,
            queued: false,
            ignored: false,
            target_gone: false,
        }
    }

    #[test]
    fn forward_counts_missed_intervals_as_hrtimer_forward() {
        let mut t = timer(100, 10);
        assert_eq!(t.forward(50), 0);
        assert_eq!(t.expiry, 100);
        assert_eq!(t.forward(100), 1);
        assert_eq!(t.expiry, 110);
        assert_eq!(t.forward(135), 3);
        assert_eq!(t.expiry, 140);
        assert_eq!(t.forward(149), 1);
        assert_eq!(t.expiry, 150);
    }

    #[test]
    fn ktime_saturates() {
        assert_eq!(ktime(Timespec { sec: 1, nsec: 5 }), NSEC + 5);
        assert_eq!(
            ktime(Timespec {
                sec: i64::MAX,
                nsec: 0
            }),
            i64::MAX
        );
        assert_eq!(timespec(NSEC * 3 + 7), Timespec { sec: 3, nsec: 7 });
    }

    #[test]
    fn signal_carries_timer_fields_in_riscv64_layout() {
        let mut t = timer(0, 0);
        t.id = 5;
        t.notify = Notify::Process {
            signo: 34,
            value: 0x1122_3344_5566_7788,
        };
        let b = t.info().unwrap().to_bytes();
        assert_eq!(i32::from_le_bytes(b[0..4].try_into().unwrap()), 34);
        assert_eq!(i32::from_le_bytes(b[8..12].try_into().unwrap()), SI_TIMER);
        assert_eq!(i32::from_le_bytes(b[16..20].try_into().unwrap()), 5);
        assert_eq!(i32::from_le_bytes(b[20..24].try_into().unwrap()), 0);
        assert_eq!(
            u64::from_le_bytes(b[24..32].try_into().unwrap()),
            0x1122_3344_5566_7788
        );
    }
}
