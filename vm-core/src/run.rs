//! The run loop, above [`crate::process`] (the data), [`crate::signal`]
//! and [`crate::syscall`]: it drives an emulation engine and hands traps
//! to the OS-call emulator and the exception emulator.
//!
//! The loop is the whole control path of pvm after loading:
//! `Engine::run` executes guest code until a [`Trap`]; an `ecall` goes to
//! [`crate::syscall::dispatch`]; a fault becomes a guest signal through
//! [`crate::signal`]. Nothing here is global: each guest thread runs this
//! loop on its own host thread ([`crate::host::HostOs::spawn_thread`]),
//! with its own [`Thread`] and its own engine, against one shared
//! [`Process`] (one guest memory, one signal table, one descriptor table:
//! the host's).
//!
//! Threads and the end of the process: `exit` ends one thread (the last
//! one's ends the process); `exit_group` or a fatal signal in any thread
//! ends the process at once: `Process::finish` records the status, and
//! every other thread is interrupted
//! ([`crate::host::HostOs::interrupt_thread`]) so that its run loop, which
//! looks at [`Process::ending`] at every stop, returns. [`Process::run`],
//! on the thread the host started, returns the status; the host then
//! reports it and ends its whole process, which stops any guest thread
//! still on its way out.

use crate::cpu::Trap;
use crate::host::{Errno, FutexArgs, SysResult};
use crate::launch::monotonic_ns;
use crate::process::{Engine, ExitStatus, Process, Thread, ThreadShared};
use crate::signal;
use crate::syscall::exec_robust::ExecHold;
use crate::syscall::{self, Flow};
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

/// Guest instructions a thread runs before another takes the CPU where
/// guest threads take turns on one host thread, counted from when it took
/// the CPU: an engine's budget starts over at every system call, so a
/// thread that makes calls more often than that would otherwise never be
/// preempted (the translator's budget per run, `translate::BUDGET`).
const GREEN_SLICE: u64 = 1 << 22;

/// How long, in nanoseconds, the end of a process waits for its other
/// threads to walk their robust lists (see `Process::await_robust_walks`).
/// Linux waits for every dying thread; the bound is for a host call that
/// cannot be interrupted. It is generous because a thread that is only
/// computing may not get a host CPU for a while on a loaded machine, and
/// a thread given up on leaves its robust mutexes held by a dead owner
/// (thr_robust under `cargo xtask load` once hung so: half a second was
/// not enough for one of 16 processes sharing 2 cores).
const ROBUST_GRACE_NS: u64 = 5_000_000_000;

/// How one thread's run loop ended.
pub(crate) enum ThreadEnd {
    /// This thread ended the process with this status.
    Process(ExitStatus),
    /// Only this thread ended (`exit`), or another thread ended the
    /// process.
    Thread,
}

impl Process {
    /// Run the process's first `thread` until the process exits or is
    /// killed, whichever of its threads ends it. After every stop a thread
    /// takes the signals now deliverable to it: a fault's, those a system
    /// call raised or unblocked, those that arrived while it ran.
    pub fn run(&self, thread: &mut Thread, engine: &mut dyn Engine) -> ExitStatus {
        self.procfs.capture(&self.mem, thread.cpu.x[2]);
        self.host.serve_peers(self.weak());
        self.first_tid.store(thread.tid as u32, Ordering::Relaxed);
        self.name_thread(thread.tid, thread.name);
        let end = self.run_thread(thread, engine);
        // `thread` may move once this returns.
        self.host.guest_thread(core::ptr::null());
        let status = match end {
            ThreadEnd::Process(s) => s,
            ThreadEnd::Thread => self.wait_end(),
        };
        self.await_robust_walks();
        self.end.seen.store(true, Ordering::Release);
        status
    }

    /// Tell the host thread `tid`'s name (see
    /// [`crate::host::HostOs::thread_named`]).
    fn name_thread(&self, tid: i32, name: Option<[u8; 16]>) {
        let n = self.comm(name);
        let len = n.iter().position(|&b| b == 0).unwrap_or(16);
        self.host.thread_named(tid, &n[..len]);
    }

    /// Run the child of `vfork` (`clone(CLONE_VM | CLONE_VFORK)`), which
    /// shares this process's memory, including this `Process`, until it
    /// execs or exits: a loop of its own that leaves the parent's threads,
    /// their registry and the parent's end state alone, and returns how
    /// the child ended.
    pub fn run_vfork_child(&self, thread: &mut Thread, engine: &mut dyn Engine) -> ExitStatus {
        thread.shared = None;
        loop {
            let trap = match self.debug.get() {
                None => engine.run(&mut thread.cpu, &self.mem),
                Some(d) => d.run_quiet(self, thread, engine),
            };
            let at = thread.cpu.pc;
            if let Some(status) = self.check_limits(thread) {
                return status;
            }
            if trap == Trap::Budget && self.host.builds_children() {
                self.host.yield_now();
            }
            let killed = match trap {
                Trap::Budget => signal::deliver_pending(self, thread, at),
                Trap::Ecall => match syscall::dispatch(self, thread) {
                    Flow::Continue => signal::deliver_pending(self, thread, at),
                    Flow::Exit(code) | Flow::ExitThread(code) => {
                        return ExitStatus::Exited(code);
                    }
                },
                other => signal::deliver_trap(self, thread, other),
            };
            if let Some(report) = killed {
                return ExitStatus::Signaled(report);
            }
            thread.block = None;
        }
    }

    /// Run one thread's loop until it or the process ends. On a host that
    /// runs one thread, this loop runs every guest thread in turn (see
    /// [`crate::sched`]): `thread` and the engine change as they take the
    /// CPU (`engine` is the first thread's).
    pub(crate) fn run_thread(&self, thread: &mut Thread, engine: &mut dyn Engine) -> ThreadEnd {
        if thread.shared.is_none() {
            self.register(thread);
        }
        self.host.guest_thread(&thread.cpu.pc);
        // The running thread's engine when it is not `engine`.
        let mut own: Option<Box<dyn Engine + Send>> = None;
        // `instret` of the running thread when it took the CPU.
        let mut took_cpu = thread.cpu.instret;
        loop {
            if self.ending() {
                if self.exec_park(thread) {
                    continue;
                }
                crate::syscall::thread::exit_robust_list(self, thread);
                self.unregister(thread.tid);
                return ThreadEnd::Thread;
            }
            let eng: &mut dyn Engine = match &mut own {
                Some(e) => e.as_mut(),
                None => &mut *engine,
            };
            let trap = self.run_engine(thread, eng);
            // A fatal signal names the faulting instruction or the `ecall`.
            let at = thread.cpu.pc;
            // A limit the tree hit (see `crate::limits`) ends the process.
            if let Some(status) = self.check_limits(thread) {
                self.robust_lists_die(thread);
                return self.finish(status);
            }
            let killed = match trap {
                Trap::Budget => signal::deliver_pending(self, thread, at),
                Trap::Ecall => {
                    self.stats.syscalls.fetch_add(1, Ordering::Relaxed);
                    let flow = if crate::sampling::on() {
                        self.timed_dispatch(thread)
                    } else {
                        syscall::dispatch(self, thread)
                    };
                    if let Some(status) = self.check_limits(thread) {
                        self.robust_lists_die(thread);
                        return self.finish(status);
                    }
                    match flow {
                        Flow::Continue => {
                            use crate::sched::Block;
                            // (A `Poll` wait looks for signals itself,
                            // under the call's own mask, when it runs again.)
                            if matches!(thread.block, Some(Block::Io { .. }))
                                && signal::deliverable(self, thread)
                            {
                                // A signal came after the call looked.
                                thread.block = None;
                                self.interrupt_parked_call(thread);
                            }
                            let r = signal::deliver_pending(self, thread, at);
                            if matches!(
                                thread.block,
                                Some(Block::Futex { .. } | Block::Sleep { .. })
                            ) && thread.cpu.pc != at.wrapping_add(4)
                            {
                                // A handler runs first (a signal that came
                                // after the wait looked): the futex wait or
                                // sleep ends, as if woken.
                                thread.block = None;
                            }
                            if matches!(thread.block, Some(Block::PiLock { .. }))
                                && thread.cpu.pc != at
                            {
                                // A handler runs first; its return comes
                                // back to the `ecall`, and the lock call
                                // runs again (Linux's -ERESTARTNOINTR).
                                thread.block = None;
                            }
                            r
                        }
                        Flow::Exit(code) => {
                            self.robust_lists_die(thread);
                            return self.finish(ExitStatus::Exited(code));
                        }
                        Flow::ExitThread(code) => {
                            if let Some(d) = self.debug.get() {
                                d.thread_exiting(self, thread, at);
                            }
                            match self.exit_thread(thread, code) {
                                ThreadEnd::Thread if !self.host.threads() => {
                                    if let Some(d) = self.debug.get() {
                                        d.thread_exited(self, thread.tid);
                                    }
                                    // Another guest thread takes the CPU.
                                    if !self.switch(thread, &mut own, false) {
                                        return ThreadEnd::Thread;
                                    }
                                    took_cpu = thread.cpu.instret;
                                    continue;
                                }
                                end => return end,
                            }
                        }
                    }
                }
                other => signal::deliver_trap(self, thread, other),
            };
            if let Some(sh) = &thread.shared {
                sh.sigmask.store(thread.sigmask, Ordering::Relaxed);
            }
            if let Some(report) = killed {
                self.robust_lists_die(thread);
                return self.finish(ExitStatus::Signaled(report));
            }
            if trap == Trap::Budget && self.host.builds_children() {
                // Other processes on this one CPU get their turn.
                self.host.yield_now();
            }
            if !self.host.threads()
                && (thread.block.is_some()
                    || trap == Trap::Budget
                    || thread.cpu.instret.wrapping_sub(took_cpu) >= GREEN_SLICE)
            {
                self.switch(thread, &mut own, true);
                took_cpu = thread.cpu.instret;
            }
        }
    }

    /// [`syscall::dispatch`], its number and time recorded for the
    /// profile (see [`crate::sampling`]).
    fn timed_dispatch(&self, thread: &mut Thread) -> Flow {
        let nr = thread.cpu.x[17];
        let now = || monotonic_ns(self.host);
        let t0 = now();
        let flow = syscall::dispatch(self, thread);
        crate::sampling::syscall(nr, now().wrapping_sub(t0));
        flow
    }

    /// On a host that runs one thread: put the running thread (`thread`,
    /// its engine in `own`) in the run queue if `park`, and load the next
    /// one that can run, sleeping until a deadline if none can yet.
    /// False when no thread is left to run.
    pub(crate) fn switch(
        &self,
        thread: &mut Thread,
        own: &mut Option<Box<dyn Engine + Send>>,
        park: bool,
    ) -> bool {
        let mut q = self.green.lock();
        if park {
            if q.is_empty() && thread.block.is_none() {
                return true;
            }
            let block = thread.block.take();
            q.push(crate::sched::Parked {
                thread: core::mem::take(thread),
                engine: own.take(),
                block,
            });
        }
        loop {
            // A thread the debugger steps runs first.
            if let Some(t) = self.debug.get().and_then(|d| d.stepping_thread())
                && let Some(p) = q.take_runnable(t)
            {
                *thread = p.thread;
                *own = p.engine;
                return true;
            }
            let now = monotonic_ns(self.host);
            // POSIX timers that expired while every thread waits.
            drop(q);
            crate::ptimer::poll(self, None);
            q = self.green.lock();
            let shared = self.signals.lock().shared.set();
            let signalled = |t: &Thread| {
                t.shared
                    .as_ref()
                    .is_some_and(|s| s.has_inbox.load(Ordering::Acquire))
                    || shared & !t.sigmask != 0
            };
            let io_ready = |fd: i32, events: i16| {
                let mut p = [crate::host::PollFd {
                    fd,
                    events,
                    revents: 0,
                }];
                let zero = crate::host::Timespec::default();
                !matches!(self.host.poll(&mut p, Some(zero)), Ok(0))
            };
            match q.next(now, signalled, io_ready) {
                Ok(p) => {
                    drop(q);
                    *thread = p.thread;
                    *own = p.engine;
                    return true;
                }
                Err(_) if q.is_empty() => return false,
                Err(deadline) => {
                    // Every thread waits: a debugger's interrupt stops the
                    // first in turn, which then waits on.
                    if let Some(d) = self.debug.get()
                        && d.interrupt_while_waiting()
                        && let Some(mut w) = q.pop_front()
                    {
                        drop(q);
                        d.stop_waiting(self, &mut w.thread);
                        q = self.green.lock();
                        q.push_front(w);
                        continue;
                    }
                    drop(q);
                    let timer = self.timers.next_deadline(self.host);
                    let deadline = match (deadline, timer) {
                        (Some(d), Some(t)) => Some(d.min(t)),
                        (d, t) => d.or(t),
                    };
                    // Nothing can run: wait for the earliest deadline (or,
                    // with none, for ever: every thread waits on another,
                    // as a deadlocked process does on Linux).
                    let ns = deadline.map_or(1_000_000_000, |d| d.saturating_sub(now));
                    let _ = self.host.sleep(crate::host::Timespec {
                        sec: (ns / 1_000_000_000) as i64,
                        nsec: (ns % 1_000_000_000) as i64,
                    });
                    q = self.green.lock();
                }
            }
        }
    }

    /// `thread` was parked at the `ecall` of a call that runs again (a
    /// [`crate::sched::Block::Io`] wait) and a signal ends the wait: as for a host call a signal cut short, the call runs again
    /// after the handler only where Linux would restart it; otherwise it
    /// returns `EINTR`.
    fn interrupt_parked_call(&self, thread: &mut Thread) {
        let nr = thread.cpu.x[17];
        if !signal::restart_interrupted(self, thread, syscall::restartable(nr)) {
            thread.cpu.pc = thread.cpu.pc.wrapping_add(4);
            thread.cpu.x[10] = (-(crate::host::Errno::EINTR.0 as i64)) as u64;
        }
    }

    /// The whole process ends (`exit_group`, a fatal signal, a limit):
    /// the robust futexes its threads hold become owner-died, as Linux
    /// does for each dying thread, so that another process sharing one
    /// (a process-shared robust mutex) is told rather than left waiting.
    /// This thread's and, where threads take turns on one CPU, those
    /// waiting for it; a thread on a host thread of its own walks its
    /// list when it sees the end (in `run_thread`), and the process ends
    /// only once they have (see [`Process::await_robust_walks`]). This
    /// thread leaves the live threads, as its walk is done.
    fn robust_lists_die(&self, thread: &Thread) {
        crate::syscall::thread::exit_robust_list(self, thread);
        if self.host.threads() {
            self.unregister(thread.tid);
        } else {
            for t in self.green.lock().threads() {
                crate::syscall::thread::exit_robust_list(self, t);
            }
        }
    }

    /// `execve` of `thread` is about to replace the process: make what
    /// Linux does past its point of no return for the robust futexes its
    /// threads hold (`de_thread` kills the other threads, each walking its
    /// list as it dies, and `exec_mm_release` walks the caller's) happen
    /// then, and only then, so that a process sharing one is told when the
    /// exec succeeds and nothing changes when it fails.
    ///
    /// On a host whose kernel walks robust lists
    /// ([`crate::host::HostOs::host_robust_lists`]), the other threads, on
    /// host threads of their own, are stopped first: they see
    /// [`crate::process::EXECING`] in [`End::done`] and park at their run
    /// loop's top ([`Process::exec_park`]; waited for up to
    /// [`ROBUST_GRACE_NS`]), so no list changes and a lock one takes for
    /// the first time meanwhile is in its list; then every list is handed
    /// to the host kernel for this host thread
    /// ([`crate::syscall::exec_robust`]). Where threads take turns on one
    /// CPU, the others are not running anyway. `Err(EINTR)` when another
    /// thread is ending the process or exec'ing (this call then runs again
    /// after that exec failed, or the process ends). Elsewhere (no such
    /// host), the lists are walked here, before the host's exec, which
    /// then must not fail.
    ///
    /// [`End::done`]: crate::process::End
    pub(crate) fn exec_prepare(&self, thread: &Thread) -> SysResult<ExecHold> {
        use crate::syscall::exec_robust::{GuestList, HostRobust};
        use crate::syscall::thread::release_robust_list;
        if !crate::syscall::exec_robust::supported(self.host) {
            return Ok(if self.exec_release(thread) {
                ExecHold::Released
            } else {
                ExecHold::Nothing
            });
        }
        let own = GuestList {
            head: if thread.robust_list.1 == 24 {
                thread.robust_list.0
            } else {
                0
            },
            tid: thread.tid,
        };
        let mut lists = alloc::vec![own];
        let mut stopped = false;
        if thread.shared.is_some() {
            if self.host.threads() {
                if !self.other_threads(thread.tid).is_empty() {
                    self.stop_others(thread.tid)?;
                    stopped = true;
                    lists.extend(
                        self.other_threads(thread.tid)
                            .iter()
                            .filter(|t| t.exec_parked.load(Ordering::Acquire))
                            .map(|t| GuestList {
                                head: t.robust_head.load(Ordering::Relaxed),
                                tid: t.tid,
                            }),
                    );
                }
            } else {
                let green = self.green.lock();
                lists.extend(green.threads().filter(|t| t.robust_list.1 == 24).map(|t| {
                    GuestList {
                        head: t.robust_list.0,
                        tid: t.tid,
                    }
                }));
            }
        }
        let (host, rest) = HostRobust::hand_over(self, &lists);
        for l in &rest {
            release_robust_list(self, l.head, l.tid);
        }
        Ok(ExecHold::Handed {
            host,
            stopped,
            released: !rest.is_empty(),
        })
    }

    /// The host's exec of `thread` failed after [`Process::exec_prepare`]
    /// gave `hold`: give back what it took. Whether the process can go
    /// on (not when robust lists were walked already).
    pub(crate) fn exec_failed(&self, hold: ExecHold) -> bool {
        match hold {
            ExecHold::Nothing => true,
            ExecHold::Released => false,
            ExecHold::Handed {
                host,
                stopped,
                released,
            } => {
                if let Some(h) = host {
                    h.undo(self);
                }
                if stopped {
                    self.resume_others();
                }
                !released
            }
        }
    }

    /// Stop the other threads for this thread's `execve`: each parks at
    /// its run loop's top ([`Process::exec_park`]), interrupted meanwhile
    /// (a blocked host call runs again after the exec failed). Waits up to
    /// [`ROBUST_GRACE_NS`] for them (a thread still in a host call the
    /// host cannot interrupt then is left: its list is not handed over,
    /// and it cannot change it before it parks).
    fn stop_others(&self, me: i32) -> SysResult<()> {
        if self
            .end
            .done
            .compare_exchange(
                0,
                crate::process::EXECING,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            return Err(Errno::EINTR);
        }
        let start = monotonic_ns(self.host);
        loop {
            let others = self.other_threads(me);
            let waiting: Vec<_> = others
                .iter()
                .filter(|t| !t.exec_parked.load(Ordering::Acquire))
                .collect();
            if waiting.is_empty()
                || start == 0
                || monotonic_ns(self.host).saturating_sub(start) >= ROBUST_GRACE_NS
            {
                return Ok(());
            }
            for t in &waiting {
                self.host.interrupt_thread(t.tid);
            }
            let _ = self.host.sleep(crate::host::Timespec {
                sec: 0,
                nsec: 100_000,
            });
        }
    }

    /// The exec failed: the parked threads go on.
    fn resume_others(&self) {
        if self
            .end
            .done
            .compare_exchange(
                crate::process::EXECING,
                0,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
        {
            let word = &self.end.done as *const AtomicU32 as *mut u32;
            let _ = self.host.futex(word, &FutexArgs::wake(u32::MAX));
        }
    }

    /// At the run loop's top of `thread`, or in a host call of its that a
    /// host signal cut short, when the process is ending: if that is
    /// another thread's `execve` stopping this one, park until it is over
    /// and say so (`true`: the thread goes on, the exec failed); `false`
    /// for an end.
    pub(crate) fn exec_park(&self, thread: &Thread) -> bool {
        let Some(shared) = &thread.shared else {
            return false;
        };
        let word = &self.end.done as *const AtomicU32 as *mut u32;
        let mut parked = false;
        // (Without host robust lists, an exec's stop means: walk and leave.)
        let parks = self.host.threads() && crate::syscall::exec_robust::supported(self.host);
        while parks && self.end.done.load(Ordering::Acquire) == crate::process::EXECING {
            if !parked {
                shared.exec_parked.store(true, Ordering::Release);
                parked = true;
            }
            let _ = self
                .host
                .futex(word, &FutexArgs::wait(crate::process::EXECING));
        }
        if parked {
            shared.exec_parked.store(false, Ordering::Release);
        }
        !self.ending()
    }

    /// Walk the robust lists of `thread` and its threads in place: on a
    /// host that builds the new image itself, once its `execve` answered
    /// that it will (the exec is past failing); elsewhere, without host
    /// robust lists, before a host exec that then must not fail. `true`
    /// when anything was released.
    /// The other threads, on host threads of their own, see the process
    /// ending ([`crate::process::EXECING`]), walk their lists and leave,
    /// waited for as at the process's end
    /// ([`Process::await_robust_walks`]); where threads take turns on one
    /// CPU their lists are walked here. A vfork child (no `shared`: it
    /// runs on its parent's threads' memory) releases only its own list.
    pub(crate) fn exec_release(&self, thread: &Thread) -> bool {
        use crate::syscall::thread::{exit_robust_list, robust_list_held};
        let own = robust_list_held(self, thread.robust_list.0);
        let theirs = thread.shared.is_some()
            && if self.host.threads() {
                let others = self.other_threads(thread.tid);
                let held = others
                    .iter()
                    .any(|t| robust_list_held(self, t.robust_head.load(Ordering::Relaxed)));
                if held {
                    self.end
                        .done
                        .store(crate::process::EXECING, Ordering::Release);
                    for t in &others {
                        self.host.interrupt_thread(t.tid);
                    }
                    self.await_robust_walks();
                }
                held
            } else {
                let green = self.green.lock();
                let held = green
                    .threads()
                    .any(|t| robust_list_held(self, t.robust_list.0));
                if held {
                    for t in green.threads() {
                        exit_robust_list(self, t);
                    }
                }
                held
            };
        if own {
            exit_robust_list(self, thread);
        }
        own || theirs
    }

    /// Before the host process goes, on the thread that ends it: wait
    /// until each other guest thread on a host thread of its own, which
    /// the end interrupted, has walked its robust list and left the live
    /// threads (in `run_thread`), interrupting them again meanwhile; as
    /// Linux's `exit_group` kills each thread, and each dying thread walks
    /// its own list, so that no other thread's list changes during a
    /// walk. A thread that has not come out of a host call within
    /// [`ROBUST_GRACE_NS`] (one the host cannot interrupt) is not waited
    /// for longer; a host without a clock to bound the wait gets none.
    fn await_robust_walks(&self) {
        let start = monotonic_ns(self.host);
        if !self.host.threads() || start == 0 {
            return;
        }
        let me = self.host.gettid();
        loop {
            let others = self.other_threads(me);
            if others.is_empty() || monotonic_ns(self.host).saturating_sub(start) >= ROBUST_GRACE_NS
            {
                return;
            }
            for t in &others {
                self.host.interrupt_thread(t.tid);
            }
            let _ = self.host.sleep(crate::host::Timespec {
                sec: 0,
                nsec: 1_000_000,
            });
        }
    }

    /// `exit` of one thread: what the kernel does for a dying thread
    /// (robust futexes, `CLONE_CHILD_CLEARTID`), then the process ends if
    /// it was the last.
    pub(crate) fn exit_thread(&self, thread: &mut Thread, code: i32) -> ThreadEnd {
        crate::syscall::thread::exit_cleanup(self, thread);
        self.host.thread_ended(thread.tid);
        if self.unregister(thread.tid) == 0 {
            return self.finish(ExitStatus::Exited(code));
        }
        ThreadEnd::Thread
    }

    /// End the process with `status`, unless another thread ended it
    /// first. The other threads return from their loops at their next
    /// stop; the host's first thread, if this is not it, is woken (from
    /// [`Process::wait_end`]) or interrupted until it has seen the end.
    pub(crate) fn finish(&self, status: ExitStatus) -> ThreadEnd {
        {
            let mut s = self.end.status.lock();
            if s.is_some() {
                return ThreadEnd::Thread;
            }
            *s = Some(status);
        }
        self.end.done.store(1, Ordering::Release);
        let first = self.first_tid.load(Ordering::Relaxed) as i32;
        let me = self.host.gettid();
        for t in self.other_threads(me) {
            self.host.interrupt_thread(t.tid);
        }
        if me == first {
            return ThreadEnd::Process(status);
        }
        let word = &self.end.done as *const AtomicU32 as *mut u32;
        let _ = self.host.futex(word, &FutexArgs::wake(u32::MAX));
        // An interrupt can arrive just before the first thread blocks in
        // a host call and be lost: repeat it until the end was seen (the
        // host then ends the whole process, this thread with it).
        while !self.end.seen.load(Ordering::Acquire) {
            self.host.interrupt_thread(first);
            let _ = self.host.sleep(crate::host::Timespec {
                sec: 0,
                nsec: 5_000_000,
            });
        }
        ThreadEnd::Thread
    }

    /// Wait (on the host's first thread, whose guest thread has exited)
    /// for the process to end.
    pub(crate) fn wait_end(&self) -> ExitStatus {
        loop {
            if let Some(s) = *self.end.status.lock() {
                return s;
            }
            // Not yet set, or another thread's `execve` under way (which
            // ends this one with the host process, or the process).
            let now = self.end.done.load(Ordering::Acquire);
            let word = &self.end.done as *const AtomicU32 as *mut u32;
            if let Err(Errno::ENOSYS) = self.host.futex(word, &FutexArgs::wait(now)) {
                // A host without futexes has no other thread to end it.
                return ExitStatus::Exited(0);
            }
        }
    }

    /// Start a guest thread: `thread` (its registers already set up by
    /// `clone`) runs with its own engine on a new host thread. `setup`
    /// runs once the new thread's id is known, before either thread goes
    /// on (for `CLONE_PARENT_SETTID` and `CLONE_CHILD_SETTID`). Returns
    /// the new thread's id.
    pub fn spawn(
        &self,
        mut thread: Thread,
        setup: impl FnOnce(i32) -> SysResult<()>,
    ) -> SysResult<i32> {
        let me = self.me.upgrade().ok_or(Errno::EAGAIN)?;
        let sigmask = thread.sigmask;
        let mut engine = self.engine().map_err(|e| match e {
            Errno::ENOMEM => Errno::ENOMEM,
            _ => Errno::EAGAIN,
        })?;
        if !self.host.threads() {
            // One host thread: the new thread waits its turn (see
            // `crate::sched`), with a tid of its own above every other.
            let tid = match self.host.new_tid() {
                Some(tid) => tid,
                None => {
                    let floor = self.host.ids().pid.max(self.host.gettid()) as u32;
                    let _ = self.green_tid.compare_exchange(
                        0,
                        floor,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    );
                    // Not the id of one of the host's own threads (pvm's
                    // helpers, such as the limits' watchdog).
                    loop {
                        let t = self.green_tid.fetch_add(1, Ordering::AcqRel) as i32 + 1;
                        let dir = alloc::format!("/proc/self/task/{t}");
                        if self
                            .host
                            .fstatat(crate::abi::AT_FDCWD, dir.as_bytes(), 0)
                            .is_err()
                        {
                            break t;
                        }
                    }
                }
            };
            setup(tid)?;
            thread.tid = tid;
            self.name_thread(tid, thread.name);
            self.register(&mut thread);
            self.green.lock().push(crate::sched::Parked {
                thread,
                engine: Some(engine),
                block: None,
            });
            return Ok(tid);
        }
        // Handshake: the child publishes its host tid, the parent registers
        // it and releases it (`go`).
        let hs = Arc::new(Handshake::default());
        let child_hs = hs.clone();
        let host = self.host;
        self.host.spawn_thread(Box::new(move || {
            let tid = host.gettid();
            child_hs.tid.store(tid as u32, Ordering::Release);
            let _ = host.futex(child_hs.tid.as_ptr(), &FutexArgs::wake(1));
            while child_hs.go.load(Ordering::Acquire) == 0 {
                let _ = host.futex(child_hs.go.as_ptr(), &FutexArgs::wait(0));
            }
            if child_hs.go.load(Ordering::Acquire) == 2 {
                return;
            }
            thread.tid = tid;
            thread.shared = child_hs.shared.lock().take();
            if let ThreadEnd::Process(status) = me.run_thread(&mut thread, engine.as_mut()) {
                // Only in a forked child, where this thread is the first.
                me.await_robust_walks();
                me.host.exit(&me.exe_path, status);
            }
            drop(engine);
        }))?;
        let tid = loop {
            let t = hs.tid.load(Ordering::Acquire);
            if t != 0 {
                break t as i32;
            }
            let _ = self.host.futex(hs.tid.as_ptr(), &FutexArgs::wait(0));
        };
        let go = |v: u32| {
            hs.go.store(v, Ordering::Release);
            let _ = self.host.futex(hs.go.as_ptr(), &FutexArgs::wake(1));
        };
        if let Err(e) = setup(tid) {
            go(2);
            return Err(e);
        }
        let sh = Arc::new(ThreadShared::new(tid, sigmask));
        self.threads.lock().push(sh.clone());
        *hs.shared.lock() = Some(sh);
        go(1);
        Ok(tid)
    }
}

/// The start-up handshake between `clone` and the new host thread.
#[derive(Debug, Default)]
struct Handshake {
    tid: AtomicU32,
    go: AtomicU32,
    shared: spin::Mutex<Option<Arc<ThreadShared>>>,
}
