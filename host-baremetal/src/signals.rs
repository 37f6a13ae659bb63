//! The signals the unikernel itself raises for the guest, as a Linux
//! kernel's timers do: the three interval timers of `setitimer`/`alarm`
//! (`ITIMER_REAL` on the monotonic clock, `ITIMER_VIRTUAL` and
//! `ITIMER_PROF` on the guest's CPU time, which is time not spent halted),
//! and what the core told the host to do with each signal
//! (`HostOs::set_signal_action`).
//!
//! Nothing here runs asynchronously: the kernel keeps interrupts off while
//! the guest runs, so timers are looked at when the core polls
//! (`HostOs::take_signal`, after every trap: a busy guest traps at least
//! at every end of its instruction budget) and by every blocking wait,
//! which halts from timer tick to tick ([`crate::fs`] readiness, sleeps;
//! see the kernel's `host.rs`). An expiry is a `SIGALRM`, `SIGVTALRM` or
//! `SIGPROF` with `si_code` `SI_KERNEL`, as Linux's itimers send; like a
//! host's, these signals do not queue (one pending each), and a periodic
//! timer that fell behind fires once and is re-armed after `now`.
//!
//! Real-time signals another process sends (`kill`, `sigqueue`) queue,
//! each with its siginfo, up to [`QUEUED`] (then the latest's siginfo
//! stands for the rest, as Linux loses the information beyond
//! `RLIMIT_SIGPENDING`).
//!
//! All times are nanoseconds; the caller passes the clocks in, so this is
//! tested on the build machine.

use alloc::collections::VecDeque;
use vm_core::host::{Errno, HostSigAction, HostSignal, ITimer, SysResult, Timespec};
use vm_core::signal::{DefaultAction, default_action};

/// Real-time arrivals kept with their siginfo.
pub const QUEUED: usize = 1024;
use vm_core::sigstate::SIGRTMIN;

const NSIG: usize = vm_core::sigstate::NSIG as usize;
// `SI_KERNEL`: the `si_code` of a signal the kernel sends (itimer expiry).
use vm_core::sigstate::{SI_KERNEL, SIGALRM, SIGPROF, SIGVTALRM};
const NSEC: u64 = 1_000_000_000;

/// The clocks the timers run on, now (ns).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Now {
    /// `CLOCK_MONOTONIC` (for `ITIMER_REAL`).
    pub real: u64,
    /// The guest's CPU time (for `ITIMER_VIRTUAL` and `ITIMER_PROF`).
    pub cpu: u64,
}

impl Now {
    fn of(&self, which: usize) -> u64 {
        if which == 0 { self.real } else { self.cpu }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Timer {
    /// When it fires next, on its clock; `None`: disarmed.
    next: Option<u64>,
    interval: u64,
}

/// Dispositions, pending signals and interval timers.
#[derive(Debug)]
pub struct Signals {
    actions: [HostSigAction; NSIG],
    /// Bit `signo - 1`: raised and not yet taken by the core.
    pending: u64,
    /// The sender's fields of a pending signal another process sent
    /// (`kill`, a child's `SIGCHLD`); `None`: the kernel's own.
    info: [Option<HostSignal>; NSIG],
    /// Real-time arrivals not taken yet, oldest first.
    queued: VecDeque<HostSignal>,
    timers: [Timer; 3],
}

impl Default for Signals {
    fn default() -> Self {
        Signals::new()
    }
}

fn ns(t: Timespec) -> u64 {
    (t.sec.max(0) as u64)
        .saturating_mul(NSEC)
        .saturating_add(t.nsec.max(0) as u64)
}

fn ts(ns: u64) -> Timespec {
    Timespec {
        sec: (ns / NSEC) as i64,
        nsec: (ns % NSEC) as i64,
    }
}

impl Signals {
    pub const fn new() -> Signals {
        Signals {
            actions: [HostSigAction::Default; NSIG],
            pending: 0,
            info: [None; NSIG],
            queued: VecDeque::new(),
            timers: [Timer {
                next: None,
                interval: 0,
            }; 3],
        }
    }

    /// A forked child's: the same dispositions, nothing pending, no
    /// timers armed (as `fork` gives).
    pub fn forked(&self) -> Signals {
        Signals {
            actions: self.actions,
            ..Signals::new()
        }
    }

    /// `HostOs::set_signal_action`. Ignoring a signal discards it if
    /// pending.
    pub fn set_action(&mut self, signo: i32, action: HostSigAction) {
        if let Some(a) = usize::try_from(signo - 1)
            .ok()
            .and_then(|i| self.actions.get_mut(i))
        {
            *a = action;
            if !self.wanted(signo) {
                self.pending &= !(1 << (signo - 1));
                self.queued.retain(|q| q.signo != signo);
            }
        }
    }

    /// Does a raised `signo` become pending? Not when ignored, nor under
    /// the host default when that does nothing; a default that kills is
    /// the core's to carry out (it reports the death as for a fault).
    fn wanted(&self, signo: i32) -> bool {
        match self.actions[(signo - 1) as usize] {
            HostSigAction::Catch => true,
            HostSigAction::Ignore => false,
            HostSigAction::Default => default_action(signo) == DefaultAction::Terminate,
        }
    }

    /// Raise `signo` (1..=64) as the kernel would.
    pub fn raise(&mut self, signo: i32) {
        if (1..=NSIG as i32).contains(&signo) && self.wanted(signo) {
            self.pending |= 1 << (signo - 1);
            self.info[(signo - 1) as usize] = None;
        }
    }

    /// Raise `s.signo` as another process sent it (`kill`, `SIGCHLD`),
    /// with its `siginfo` fields; like the others it does not queue (the
    /// last sender's fields win).
    pub fn raise_from(&mut self, s: HostSignal) {
        if (1..=NSIG as i32).contains(&s.signo) && self.wanted(s.signo) {
            self.pending |= 1 << (s.signo - 1);
            self.info[(s.signo - 1) as usize] = Some(s);
            if s.signo >= SIGRTMIN && self.queued.len() < QUEUED {
                self.queued.push_back(s);
            }
        }
    }

    /// Real-time signals sent and not yet taken, each counting against
    /// `RLIMIT_SIGPENDING` (`crate::procs`'s `user_queued`).
    pub fn queued_count(&self) -> u64 {
        self.queued.len() as u64
    }

    /// Is `signo` raised and not yet taken?
    pub fn is_pending(&self, signo: i32) -> bool {
        (1..=NSIG as i32).contains(&signo) && self.pending & (1 << (signo - 1)) != 0
    }

    /// What the process does with `signo` (`HostOs::set_signal_action`).
    pub fn action(&self, signo: i32) -> HostSigAction {
        usize::try_from(signo - 1)
            .ok()
            .and_then(|i| self.actions.get(i).copied())
            .unwrap_or(HostSigAction::Default)
    }

    /// `setitimer(which, new)` (`None`: `getitimer`): the previous setting,
    /// with the time that was left.
    pub fn setitimer(&mut self, which: i32, new: Option<ITimer>, now: Now) -> SysResult<ITimer> {
        let w = usize::try_from(which)
            .ok()
            .filter(|&w| w < 3)
            .ok_or(Errno::EINVAL)?;
        self.expire(now);
        let t = &mut self.timers[w];
        let at = now.of(w);
        let old = ITimer {
            interval: ts(t.interval),
            value: t
                .next
                .map_or(Timespec::default(), |n| ts(n.saturating_sub(at).max(1))),
        };
        if let Some(n) = new {
            let value = ns(n.value);
            *t = Timer {
                next: (value != 0).then(|| at.saturating_add(value)),
                interval: ns(n.interval),
            };
        }
        Ok(old)
    }

    /// Fire the timers whose time has come.
    pub fn expire(&mut self, now: Now) {
        const SIGNO: [i32; 3] = [SIGALRM, SIGVTALRM, SIGPROF];
        for (w, signo) in SIGNO.into_iter().enumerate() {
            let at = now.of(w);
            let t = self.timers[w];
            let Some(next) = t.next.filter(|&n| n <= at) else {
                continue;
            };
            // Expiries missed while nobody looked merge into this one.
            self.timers[w].next = (at - next)
                .checked_div(t.interval)
                .map(|behind| next.saturating_add((behind + 1).saturating_mul(t.interval)));
            self.raise(signo);
        }
    }

    /// Is a signal waiting for the core (after firing due timers)?
    pub fn pending(&mut self, now: Now) -> bool {
        self.expire(now);
        self.pending != 0
    }

    /// The lowest pending signal, for `HostOs::take_signal`.
    pub fn take(&mut self, now: Now) -> Option<HostSignal> {
        self.expire(now);
        if self.pending == 0 {
            return None;
        }
        let signo = self.pending.trailing_zeros() as i32 + 1;
        if let Some(at) = self.queued.iter().position(|q| q.signo == signo) {
            let s = self.queued.remove(at);
            let i = (signo - 1) as usize;
            // The last one kept, and no later arrival found the queue
            // full (whose siginfo `info` would hold).
            if !self.queued.iter().any(|q| q.signo == signo) && self.info[i] == s {
                self.pending &= !(1 << i);
                self.info[i] = None;
            }
            return s;
        }
        self.pending &= !(1 << (signo - 1));
        if let Some(info) = self.info[(signo - 1) as usize].take() {
            return Some(info);
        }
        Some(HostSignal {
            signo,
            code: SI_KERNEL,
            pid: 0,
            uid: 0,
            status: 0,
            value: 0,
        })
    }

    /// When `ITIMER_REAL` fires next (monotonic ns): a wait must end by
    /// then. The CPU-time timers need no wake-up, as a halted CPU does not
    /// advance them.
    pub fn next_real(&self) -> Option<u64> {
        self.timers[0].next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn it(interval_us: i64, value_us: i64) -> ITimer {
        let t = |us: i64| Timespec {
            sec: us / 1_000_000,
            nsec: us % 1_000_000 * 1000,
        };
        ITimer {
            interval: t(interval_us),
            value: t(value_us),
        }
    }

    fn at(real: u64, cpu: u64) -> Now {
        Now { real, cpu }
    }

    #[test]
    fn one_shot_and_periodic_real_timers() {
        let mut s = Signals::new();
        s.set_action(SIGALRM, HostSigAction::Catch);
        s.setitimer(0, Some(it(0, 1000)), at(0, 0)).unwrap();
        assert_eq!(s.next_real(), Some(1_000_000));
        assert!(!s.pending(at(999_999, 0)));
        let sig = s.take(at(1_000_000, 0)).unwrap();
        assert_eq!((sig.signo, sig.code, sig.pid), (SIGALRM, SI_KERNEL, 0));
        assert_eq!(s.take(at(5_000_000, 0)), None);
        assert_eq!(s.next_real(), None);
        // Periodic: fires, re-arms; missed periods merge into one signal.
        s.setitimer(0, Some(it(2000, 1000)), at(10_000_000, 0))
            .unwrap();
        assert!(s.take(at(11_000_000, 0)).is_some());
        assert_eq!(s.next_real(), Some(13_000_000));
        assert!(s.take(at(20_000_000, 0)).is_some());
        assert_eq!(s.take(at(20_000_000, 0)), None);
        assert_eq!(s.next_real(), Some(21_000_000));
        // Reading and disarming report the old setting and time left.
        let old = s
            .setitimer(0, Some(ITimer::default()), at(20_500_000, 0))
            .unwrap();
        assert_eq!(old, it(2000, 500));
        assert_eq!(
            s.setitimer(0, None, at(30_000_000, 0)).unwrap(),
            ITimer::default()
        );
    }

    #[test]
    fn cpu_timers_follow_cpu_time_and_bad_which_fails() {
        let mut s = Signals::new();
        s.setitimer(1, Some(it(0, 10)), at(0, 0)).unwrap();
        s.setitimer(2, Some(it(0, 20)), at(0, 0)).unwrap();
        assert!(!s.pending(at(1_000_000_000, 5_000)));
        assert_eq!(s.take(at(0, 30_000)).map(|s| s.signo), Some(SIGVTALRM));
        assert_eq!(s.take(at(0, 30_000)).map(|s| s.signo), Some(SIGPROF));
        assert_eq!(s.setitimer(3, None, at(0, 0)), Err(Errno::EINVAL));
        assert_eq!(s.setitimer(-1, None, at(0, 0)), Err(Errno::EINVAL));
    }

    #[test]
    fn real_time_signals_queue_with_their_siginfo() {
        let mut s = Signals::new();
        s.set_action(40, HostSigAction::Catch);
        s.set_action(41, HostSigAction::Catch);
        let q = |signo, value| HostSignal {
            signo,
            code: -1,
            pid: 5,
            uid: 0,
            status: 0,
            value,
        };
        for v in 0..3 {
            s.raise_from(q(41, v));
            s.raise_from(q(40, 10 + v));
        }
        let got: Vec<(i32, u64)> = core::iter::from_fn(|| s.take(Now::default()))
            .map(|t| (t.signo, t.value))
            .collect();
        assert_eq!(
            got,
            [(40, 10), (40, 11), (40, 12), (41, 0), (41, 1), (41, 2)]
        );
        // Beyond the queue, the latest arrival's siginfo stands for the
        // rest: one more delivery after the kept ones.
        for v in 0..QUEUED as u64 + 5 {
            s.raise_from(q(40, v));
        }
        let mut n = 0;
        let mut last = 0;
        while let Some(t) = s.take(Now::default()) {
            n += 1;
            last = t.value;
        }
        assert_eq!((n, last), (QUEUED + 1, QUEUED as u64 + 4));
        // Ignoring it drops what is kept.
        s.raise_from(q(41, 7));
        s.set_action(41, HostSigAction::Ignore);
        assert!(s.take(Now::default()).is_none());
    }

    #[test]
    fn signals_from_processes_carry_the_sender() {
        let mut s = Signals::new();
        let chld = HostSignal {
            signo: 17,
            code: 1,
            pid: 5,
            uid: 0,
            status: 3,
            value: 0,
        };
        // SIGCHLD's default does nothing: not kept.
        s.raise_from(chld);
        assert!(!s.is_pending(17));
        s.set_action(17, HostSigAction::Catch);
        s.raise_from(chld);
        assert!(s.is_pending(17));
        assert_eq!(s.action(17), HostSigAction::Catch);
        assert_eq!(s.take(Now::default()), Some(chld));
        // A child keeps the dispositions, not what is pending or armed.
        s.raise_from(chld);
        s.setitimer(0, Some(it(0, 1000)), at(0, 0)).unwrap();
        let mut child = s.forked();
        assert_eq!(child.action(17), HostSigAction::Catch);
        assert_eq!(child.take(at(5_000_000, 0)), None);
        assert_eq!(child.next_real(), None);
        s.take(Now::default());
        // A kernel-raised one after a sender's has the kernel's fields.
        s.raise_from(HostSignal { signo: 15, ..chld });
        s.raise(15);
        let t = s.take(Now::default()).unwrap();
        assert_eq!((t.signo, t.code, t.pid), (15, SI_KERNEL, 0));
    }

    #[test]
    fn dispositions_decide_what_stays_pending() {
        let mut s = Signals::new();
        // Default for SIGALRM kills: the core must see it.
        s.raise(SIGALRM);
        assert!(s.pending(Now::default()));
        // Ignoring discards it, and later ones.
        s.set_action(SIGALRM, HostSigAction::Ignore);
        assert!(!s.pending(Now::default()));
        s.raise(SIGALRM);
        assert!(!s.pending(Now::default()));
        // SIGCHLD's default does nothing.
        s.raise(17);
        assert!(!s.pending(Now::default()));
        s.set_action(17, HostSigAction::Catch);
        s.raise(17);
        s.raise(SIGALRM);
        assert_eq!(s.take(Now::default()).map(|s| s.signo), Some(17));
        assert_eq!(s.take(Now::default()), None);
    }
}
