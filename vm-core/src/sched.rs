//! Guest threads on a host that runs one thread (the bare-metal host): the
//! run queue of the threads not running, and what each waits for.
//!
//! Where the host gives every guest thread a host thread
//! ([`crate::host::HostOs::threads`]), the host's scheduler and futexes do
//! this work and this module is unused. Otherwise [`crate::process`] runs
//! all guest threads in turn on the one host thread: a thread keeps the
//! CPU until its engine's instruction budget runs out ([`Trap::Budget`],
//! preemption) or, as a budget starts over at each system call, until it
//! has run a slice of instructions since it took the CPU (`run`'s
//! `GREEN_SLICE`, looked at after each call), it blocks (a futex wait, a
//! sleep, `sched_yield`), or it exits; then the next runnable thread of
//! this queue runs. Futex waits
//! and wakes are matched here by guest address; a wait or sleep with a
//! deadline becomes runnable when its time has come, and when nothing can
//! run the host sleeps until the earliest deadline.
//!
//! [`Trap::Budget`]: crate::cpu::Trap::Budget

use crate::process::{Engine, Thread};
use alloc::boxed::Box;
use alloc::collections::VecDeque;

/// Why a parked thread cannot run yet. The system call that blocked has
/// already written its success value to `a0`; [`RunQueue::next`] changes it
/// when the wait ends otherwise (timeout, signal).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Block {
    /// `FUTEX_WAIT*` on the guest word at `addr`, for wakes whose bitset
    /// meets `bitset`, until `deadline` (monotonic ns) if any.
    Futex {
        addr: u64,
        bitset: u32,
        deadline: Option<u64>,
    },
    /// `nanosleep` until `deadline` (monotonic ns).
    Sleep { deadline: u64 },
    /// `sched_yield`: runnable, after the others.
    Yield,
    /// A read from descriptor `fd` that would block: runnable once the
    /// host says `fd` has `events` (the call then runs again).
    Io { fd: i32, events: i16 },
    /// A `poll`, `select`, `epoll_wait` or signalfd read that found nothing
    /// ready: runnable at `recheck` (monotonic ns) or with a signal, and
    /// the call runs again, looks again, and keeps its own deadline (see
    /// `syscall::event`).
    Poll { recheck: u64 },
    /// `FUTEX_LOCK_PI*` on the guest word at `addr`, which another thread
    /// owns: the call runs again at `recheck` (its deadline, or a tick for
    /// owners this queue does not hold) or with a signal (its handler runs
    /// first: Linux restarts the call), unless [`RunQueue::hand_over`]
    /// gives it the lock first.
    PiLock { addr: u64, recheck: u64 },
}

/// A thread that is not running, with its engine (`None`: the engine of
/// the host's first thread, which the run loop borrows).
pub struct Parked {
    pub thread: Thread,
    pub engine: Option<Box<dyn Engine + Send>>,
    pub block: Option<Block>,
}

impl core::fmt::Debug for Parked {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Parked")
            .field("tid", &self.thread.tid)
            .field("block", &self.block)
            .finish_non_exhaustive()
    }
}

/// How often descriptors that threads wait for are looked at again when
/// nothing else can run (ns).
pub const IO_TICK: u64 = 1_000_000;

/// `a0` of a call that failed with `e`.
const fn failed(e: crate::host::Errno) -> u64 {
    -(e.0 as i64) as u64
}
const ETIMEDOUT: u64 = failed(crate::host::Errno::ETIMEDOUT);
const EINTR: u64 = failed(crate::host::Errno::EINTR);

/// The threads not running, in turn order.
#[derive(Debug, Default)]
pub struct RunQueue {
    q: VecDeque<Parked>,
    /// Threads a debugger keeps stopped (gdb's all-stop `vCont` gave
    /// them no action): [`RunQueue::next`] passes them over.
    held: alloc::vec::Vec<i32>,
}

impl RunQueue {
    pub fn is_empty(&self) -> bool {
        self.q.is_empty()
    }

    /// The threads waiting for the CPU.
    pub fn threads(&self) -> impl Iterator<Item = &Thread> {
        self.q.iter().map(|p| &p.thread)
    }

    /// Keep threads `tids` stopped until the next [`RunQueue::hold`] (a
    /// debugger resumed only the others).
    pub fn hold(&mut self, tids: alloc::vec::Vec<i32>) {
        self.held = tids;
    }

    /// Is thread `tid` kept stopped by a debugger?
    pub fn held(&self, tid: i32) -> bool {
        self.held.contains(&tid)
    }

    /// Is every waiting thread kept stopped (and is there one)?
    pub fn all_held(&self) -> bool {
        !self.q.is_empty() && self.q.iter().all(|p| self.held(p.thread.tid))
    }

    /// The waiting threads (for a debugger, which reads and writes their
    /// registers while all are stopped).
    pub fn threads_mut(&mut self) -> impl Iterator<Item = &mut Thread> {
        self.q.iter_mut().map(|p| &mut p.thread)
    }

    /// Is thread `tid` waiting here with nothing to wait for (it runs as
    /// soon as it gets the CPU)?
    pub fn runnable(&self, tid: i32) -> bool {
        self.q
            .iter()
            .any(|p| p.thread.tid == tid && p.block.is_none())
    }

    /// The state `/proc/<pid>/task/<tid>/stat` shows for thread `tid`
    /// waiting here: `S` when it waits for something (a futex, a sleep,
    /// a descriptor, a poll), `t` when a debugger keeps it stopped, `R`
    /// when it only waits for its turn; `None` when it is not here (it
    /// is the one on the host thread, whose state the host's is).
    pub fn state(&self, tid: i32) -> Option<u8> {
        let p = self.q.iter().find(|p| p.thread.tid == tid)?;
        Some(if self.held(tid) {
            b't'
        } else {
            match p.block {
                None | Some(Block::Yield) => b'R',
                Some(_) => b'S',
            }
        })
    }

    /// Take thread `tid` if it is [`RunQueue::runnable`] (a debugger
    /// steps it: it runs next).
    pub fn take_runnable(&mut self, tid: i32) -> Option<Parked> {
        let i = self
            .q
            .iter()
            .position(|p| p.thread.tid == tid && p.block.is_none())?;
        self.q.remove(i)
    }

    /// Take the first thread in turn order, whatever it waits for (a
    /// debugger reports it stopped, then it goes back with
    /// [`RunQueue::push_front`]).
    pub fn pop_front(&mut self) -> Option<Parked> {
        self.q.pop_front()
    }

    /// Put `p` back first in turn order.
    pub fn push_front(&mut self, p: Parked) {
        self.q.push_front(p);
    }

    /// Queue `p` behind the others. Another thread has had the CPU since
    /// those queued ahead yielded: they compete normally again (a thread
    /// that spins without yielding must not starve one that yields).
    pub fn push(&mut self, p: Parked) {
        for q in &mut self.q {
            if q.block == Some(Block::Yield) {
                q.block = None;
            }
        }
        self.q.push_back(p);
    }

    /// Wake up to `n` threads waiting on the futex at `addr` whose bitset
    /// meets `bitset` (oldest first); returns how many.
    pub fn wake(&mut self, addr: u64, n: u32, bitset: u32) -> u32 {
        let mut woken = 0;
        for p in &mut self.q {
            if woken == n {
                break;
            }
            if let Some(Block::Futex {
                addr: a, bitset: b, ..
            }) = p.block
                && a == addr
                && b & bitset != 0
            {
                p.block = None;
                woken += 1;
            }
        }
        woken
    }

    /// Is a thread waiting here to lock the PI futex at `addr`?
    pub fn pi_waiting(&self, addr: u64) -> bool {
        self.q
            .iter()
            .any(|p| matches!(p.block, Some(Block::PiLock { addr: a, .. }) if a == addr))
    }

    /// `FUTEX_UNLOCK_PI` with waiters: the oldest thread waiting to lock
    /// the PI futex at `addr` gets it, as Linux hands a PI lock to its top
    /// waiter: its call returns 0 (past the `ecall` it was parked at).
    /// Returns its tid, and whether others still wait; `None` when no
    /// thread waits.
    pub fn hand_over(&mut self, addr: u64) -> Option<(i32, bool)> {
        let i = self
            .q
            .iter()
            .position(|p| matches!(p.block, Some(Block::PiLock { addr: a, .. }) if a == addr))?;
        let p = &mut self.q[i];
        p.block = None;
        p.thread.cpu.pc = p.thread.cpu.pc.wrapping_add(4);
        p.thread.cpu.x[10] = 0;
        let tid = p.thread.tid;
        Some((tid, self.pi_waiting(addr)))
    }

    /// `FUTEX_REQUEUE`: wake up to `n` waiters of `from`, move up to
    /// `m` more to wait on `to`; returns woken plus moved.
    pub fn requeue(&mut self, from: u64, to: u64, n: u32, m: u32) -> u32 {
        let woken = self.wake(from, n, u32::MAX);
        let mut moved = 0;
        for p in &mut self.q {
            if moved == m {
                break;
            }
            if let Some(Block::Futex { addr, .. }) = &mut p.block
                && *addr == from
            {
                *addr = to;
                moved += 1;
            }
        }
        woken + moved
    }

    /// The next thread that may run at monotonic time `now`: a runnable
    /// one, or one whose wait timed out (its `a0` becomes `-ETIMEDOUT` for
    /// a futex) or that `signalled` says has a signal to take (`-EINTR`).
    /// Otherwise the earliest deadline, if any thread has one.
    /// A thread waiting for a descriptor is runnable when `io_ready` says
    /// the descriptor is ready, or it has a signal (it runs the call again,
    /// which delivers the signal first). With such threads waiting, the
    /// earliest "deadline" is `now + IO_TICK`, so their descriptors are
    /// looked at again.
    pub fn next(
        &mut self,
        now: u64,
        signalled: impl Fn(&Thread) -> bool,
        io_ready: impl Fn(i32, i16) -> bool,
    ) -> Result<Parked, Option<u64>> {
        let mut earliest: Option<u64> = None;
        let mut yielded = None;
        for i in 0..self.q.len() {
            if self.held.contains(&self.q[i].thread.tid) {
                continue;
            }
            let p = &mut self.q[i];
            let ready = match p.block {
                None => true,
                Some(Block::Yield) => {
                    yielded.get_or_insert(i);
                    false
                }
                Some(Block::Futex { deadline, .. }) => {
                    if deadline.is_some_and(|d| d <= now) {
                        p.thread.cpu.x[10] = ETIMEDOUT;
                        true
                    } else if signalled(&p.thread) {
                        p.thread.cpu.x[10] = EINTR;
                        true
                    } else {
                        earliest = min(earliest, deadline);
                        false
                    }
                }
                Some(Block::Io { fd, events }) => {
                    if signalled(&p.thread) || io_ready(fd, events) {
                        true
                    } else {
                        earliest = min(earliest, Some(now + IO_TICK));
                        false
                    }
                }
                Some(Block::Poll { recheck } | Block::PiLock { recheck, .. }) => {
                    if recheck <= now || signalled(&p.thread) {
                        true
                    } else {
                        earliest = min(earliest, Some(recheck));
                        false
                    }
                }
                Some(Block::Sleep { deadline }) => {
                    if deadline <= now {
                        true
                    } else if signalled(&p.thread) {
                        p.thread.cpu.x[10] = EINTR;
                        true
                    } else {
                        earliest = min(earliest, Some(deadline));
                        false
                    }
                }
            };
            if ready {
                let mut p = self.q.remove(i).expect("index in range");
                p.block = None;
                return Ok(p);
            }
        }
        if let Some(i) = yielded {
            let mut p = self.q.remove(i).expect("index in range");
            p.block = None;
            return Ok(p);
        }
        Err(earliest)
    }
}

fn min(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parked(tid: i32, block: Option<Block>) -> Parked {
        Parked {
            thread: Thread {
                tid,
                ..Default::default()
            },
            engine: None,
            block,
        }
    }

    fn futex(addr: u64, deadline: Option<u64>) -> Option<Block> {
        Some(Block::Futex {
            addr,
            bitset: u32::MAX,
            deadline,
        })
    }

    #[test]
    fn wakes_match_address_and_count() {
        let mut q = RunQueue::default();
        q.push(parked(1, futex(0x100, None)));
        q.push(parked(2, futex(0x200, None)));
        q.push(parked(3, futex(0x100, None)));
        q.push(parked(4, futex(0x100, None)));
        assert_eq!(q.next(0, |_| false, |_, _| false).unwrap_err(), None);
        assert_eq!(q.wake(0x100, 2, u32::MAX), 2);
        assert_eq!(q.next(0, |_| false, |_, _| false).unwrap().thread.tid, 1);
        assert_eq!(q.next(0, |_| false, |_, _| false).unwrap().thread.tid, 3);
        assert!(q.next(0, |_| false, |_, _| false).is_err());
        // Requeue: none woken, thread 4 moves to 0x200's queue.
        assert_eq!(q.requeue(0x100, 0x200, 0, 5), 1);
        assert_eq!(q.wake(0x100, 5, u32::MAX), 0);
        assert_eq!(q.wake(0x200, 5, u32::MAX), 2);
    }

    #[test]
    fn timeouts_signals_and_yields() {
        let mut q = RunQueue::default();
        q.push(parked(1, futex(0x100, Some(50))));
        q.push(parked(2, Some(Block::Sleep { deadline: 30 })));
        q.push(parked(3, futex(0x300, None)));
        assert_eq!(q.next(10, |_| false, |_, _| false).unwrap_err(), Some(30));
        let p = q.next(40, |_| false, |_, _| false).unwrap();
        assert_eq!((p.thread.tid, p.thread.cpu.x[10]), (2, 0));
        let p = q.next(60, |_| false, |_, _| false).unwrap();
        assert_eq!((p.thread.tid, p.thread.cpu.x[10]), (1, ETIMEDOUT));
        let p = q.next(60, |t| t.tid == 3, |_, _| false).unwrap();
        assert_eq!((p.thread.tid, p.thread.cpu.x[10]), (3, EINTR));
        // A yielded thread runs after those queued when it yielded...
        q.push(parked(5, None));
        q.push(parked(4, Some(Block::Yield)));
        assert_eq!(q.next(0, |_| false, |_, _| false).unwrap().thread.tid, 5);
        // ... and only when nothing else can, until another thread had
        // the CPU.
        q.push(parked(6, futex(0x600, None)));
        assert_eq!(q.next(0, |_| false, |_, _| false).unwrap().thread.tid, 4);
        q.push(parked(7, Some(Block::Yield)));
        q.push(parked(8, None));
        // Thread 8 was preempted after 7 yielded: 7 goes first.
        assert_eq!(q.next(0, |_| false, |_, _| false).unwrap().thread.tid, 7);
    }

    #[test]
    fn pi_unlock_hands_the_lock_to_the_oldest_waiter() {
        let mut q = RunQueue::default();
        let pi = |addr| Some(Block::PiLock { addr, recheck: 100 });
        let mut p1 = parked(1, pi(0x100));
        p1.thread.cpu.pc = 0x1000;
        p1.thread.cpu.x[10] = 0x100;
        q.push(p1);
        q.push(parked(2, pi(0x200)));
        q.push(parked(3, pi(0x100)));
        assert!(q.pi_waiting(0x100) && !q.pi_waiting(0x300));
        assert_eq!(q.hand_over(0x100), Some((1, true)));
        // Thread 1 runs on past its `ecall`, the call's result 0.
        let p = q.next(0, |_| false, |_, _| false).unwrap();
        assert_eq!(
            (p.thread.tid, p.thread.cpu.pc, p.thread.cpu.x[10]),
            (1, 0x1004, 0)
        );
        assert_eq!(q.hand_over(0x100), Some((3, false)));
        assert_eq!(q.hand_over(0x100), None);
        // A waiter runs its call again at its recheck time or with a signal.
        assert_eq!(q.next(10, |_| false, |_, _| false).unwrap().thread.tid, 3);
        assert_eq!(q.next(10, |_| false, |_, _| false).unwrap_err(), Some(100));
        assert_eq!(
            q.next(10, |t| t.tid == 2, |_, _| false).unwrap().thread.tid,
            2
        );
    }

    #[test]
    fn polls_look_again_at_their_time_or_with_a_signal() {
        let mut q = RunQueue::default();
        q.push(parked(1, Some(Block::Poll { recheck: 30 })));
        q.push(parked(2, Some(Block::Sleep { deadline: 50 })));
        assert_eq!(q.next(10, |_| false, |_, _| false).unwrap_err(), Some(30));
        // The call runs again: its a0 (an argument) is left alone.
        let p = q.next(10, |t| t.tid == 1, |_, _| false).unwrap();
        assert_eq!((p.thread.tid, p.thread.cpu.x[10], p.block), (1, 0, None));
        q.push(parked(1, Some(Block::Poll { recheck: 30 })));
        let p = q.next(30, |_| false, |_, _| false).unwrap();
        assert_eq!((p.thread.tid, p.thread.cpu.x[10]), (1, 0));
    }
}
