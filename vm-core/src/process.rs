//! A guest process: its address space, its threads' state, and the run loop
//! that drives an emulation engine and hands traps to the OS-call emulator
//! and the exception emulator.
//!
//! The loop is the whole control path of pvm after loading:
//! `Engine::run` executes guest code until a [`Trap`]; an `ecall` goes to
//! [`crate::syscall::dispatch`]; a fault becomes a guest signal through
//! [`crate::signal`]. Nothing here is global: each guest thread runs this
//! loop on its own host thread ([`HostOs::spawn_thread`]), with its own
//! [`Thread`] and its own engine, against one shared [`Process`] (one
//! guest memory, one signal table, one descriptor table: the host's).
//!
//! Threads and the end of the process: `exit` ends one thread (the last
//! one's ends the process); `exit_group` or a fatal signal in any thread
//! ends the process at once: [`Process::finish`] records the status, and
//! every other thread is interrupted ([`HostOs::interrupt_thread`]) so
//! that its run loop, which looks at [`Process::ending`] at every stop,
//! returns. [`Process::run`], on the thread the host started, returns the
//! status; the host then reports it and ends its whole process, which
//! stops any guest thread still on its way out.

use crate::cpu::{Cpu, Trap};
use crate::host::{Errno, FutexArgs, HostOs, SysResult};
use crate::memory::GuestMemory;
use crate::signal::{self, AltStack, Pending, SignalTable};
use crate::syscall::{self, Flow};
use alloc::boxed::Box;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// An emulation engine: the interpreter, or the translator.
pub trait Engine {
    /// Run guest code on `cpu` until something the engine cannot handle by
    /// itself. Before running, the engine must drop any cached decoding or
    /// translation made stale since it last ran: it compares its own copy of
    /// [`GuestMemory::code_epoch`].
    fn run(&mut self, cpu: &mut Cpu, mem: &GuestMemory) -> Trap;
    /// Engine statistics for `--stats`, as name/value pairs.
    fn stats(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
}

/// Which engine runs the process's threads (each thread gets its own).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EngineKind {
    /// The interpreter ([`crate::interp`]).
    #[default]
    Interp,
    /// The translator ([`crate::translate`]) with a code cache of this
    /// many bytes.
    Jit { cache_size: usize },
}

/// Options that every thread (and, later, every exec'd program) inherits.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Log each system call, strace-style, through `HostOs::log`.
    pub strace: bool,
    /// The engine for threads the guest creates (the first thread's is
    /// chosen by the host that starts it).
    pub engine: EngineKind,
    /// Resource limits (see [`crate::limits`]).
    pub limits: crate::limits::Limits,
    /// The sandbox rules the core checks (see [`crate::limits`]).
    pub policy: crate::limits::Policy,
}

/// Counters for `--stats`.
#[derive(Debug, Default)]
pub struct Stats {
    pub syscalls: AtomicU64,
}

/// What other threads may read or ask of a thread: its id, its signal
/// mask (a copy, refreshed at every stop of its run loop, to choose which
/// thread takes a process-directed signal), and signals sent to it by
/// other threads, which it moves to its own [`Thread::pending`] at its
/// next stop.
#[derive(Debug)]
pub struct ThreadShared {
    pub tid: i32,
    pub sigmask: AtomicU64,
    inbox: spin::Mutex<Pending>,
    has_inbox: AtomicBool,
}

impl ThreadShared {
    fn new(tid: i32, sigmask: u64) -> ThreadShared {
        ThreadShared {
            tid,
            sigmask: AtomicU64::new(sigmask),
            inbox: spin::Mutex::new(Pending::default()),
            has_inbox: AtomicBool::new(false),
        }
    }

    /// Signals other threads sent to this one since the last call.
    pub fn take_inbox(&self) -> Option<Pending> {
        if !self.has_inbox.swap(false, Ordering::AcqRel) {
            return None;
        }
        Some(core::mem::take(&mut *self.inbox.lock()))
    }
}

/// How a process ends while several threads run: the first thread to end
/// it records the status; the others return from their run loops at their
/// next stop (they are interrupted if blocked in a host call).
#[derive(Debug, Default)]
struct End {
    status: spin::Mutex<Option<ExitStatus>>,
    /// Futex word: 0 while running, 1 once `status` is set.
    done: AtomicU32,
    /// Set by the host's first thread once it saw the end.
    seen: AtomicBool,
}

/// One guest process.
pub struct Process {
    pub host: &'static dyn HostOs,
    pub mem: GuestMemory,
    /// Absolute host path of the main executable (`/proc/self/exe`).
    pub exe_path: Vec<u8>,
    pub signals: spin::Mutex<SignalTable>,
    pub options: Options,
    pub stats: Stats,
    /// Descriptors the core emulates (signalfds).
    pub(crate) io: crate::syscall::event::IoState,
    pub prctl: Prctl,
    /// The live threads.
    threads: spin::Mutex<Vec<Arc<ThreadShared>>>,
    end: End,
    /// The translator's code cache, shared by every thread's engine
    /// (made by the first).
    code: spin::Mutex<Option<Arc<crate::translate::SharedCode>>>,
    /// Guest threads waiting their turn, on a host that runs one thread.
    pub green: spin::Mutex<crate::sched::RunQueue>,
    /// The last tid given to such a thread.
    green_tid: AtomicU32,
    /// Tid of the thread the host started the process on (the one
    /// [`Process::run`] returns on).
    first_tid: AtomicU32,
    /// This process's limit counters when the host shares none
    /// ([`HostOs::tree_counters`]).
    own_counters: crate::limits::TreeCounters,
    me: Weak<Process>,
}

impl core::fmt::Debug for Process {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Process")
            .field("exe_path", &self.exe_path)
            .finish_non_exhaustive()
    }
}

/// One guest thread.
#[derive(Clone, Debug, Default)]
pub struct Thread {
    pub cpu: Cpu,
    pub tid: i32,
    /// `set_tid_address` / `CLONE_CHILD_CLEARTID` pointer.
    pub clear_child_tid: u64,
    /// Blocked-signal mask (`rt_sigprocmask`), bit `n-1` for signal `n`.
    pub sigmask: u64,
    /// `set_robust_list` head and length.
    pub robust_list: (u64, u64),
    /// Signals sent to this thread (`tgkill`, faults) not delivered yet.
    pub pending: Pending,
    /// Alternate signal stack (`sigaltstack`).
    pub altstack: AltStack,
    /// The mask `rt_sigsuspend` replaced: the next handler's frame saves
    /// it (so `rt_sigreturn` brings it back), or it is put back when no
    /// handler runs.
    pub saved_mask: Option<u64>,
    /// This thread's entry in the process's thread list, once it runs.
    pub shared: Option<Arc<ThreadShared>>,
    /// The name `prctl(PR_SET_NAME)` gave (NUL-padded), if any.
    pub name: Option<[u8; 16]>,
    /// Set by a system call that must wait for another guest thread on a
    /// host that runs one thread (see [`crate::sched`]).
    pub block: Option<crate::sched::Block>,
    /// The deadline (monotonic ns) of a wait that parked on
    /// [`crate::sched::Block::Poll`], with the pc of its `ecall`: the call
    /// runs again and keeps it.
    pub poll_deadline: Option<(u64, u64)>,
    /// `cpu.instret` when this thread's instructions were last added to
    /// the tree's count (see [`Process::check_limits`]).
    pub instret_counted: u64,
}

/// Process-wide `prctl` settings.
#[derive(Debug)]
pub struct Prctl {
    pub pdeathsig: AtomicU32,
    pub dumpable: AtomicU32,
    /// Nanoseconds.
    pub timerslack: AtomicU32,
    pub no_new_privs: AtomicU32,
    pub subreaper: AtomicU32,
}

impl Default for Prctl {
    fn default() -> Self {
        Prctl {
            pdeathsig: AtomicU32::new(0),
            dumpable: AtomicU32::new(1),
            timerslack: AtomicU32::new(50_000),
            no_new_privs: AtomicU32::new(0),
            subreaper: AtomicU32::new(0),
        }
    }
}

/// How a guest process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// `exit`/`exit_group` with this status (0..=255).
    Exited(i32),
    /// Killed by a signal.
    Signaled(signal::Report),
}

impl ExitStatus {
    /// The status a shell reports: the exit code, or 128 + signal number.
    pub fn code(&self) -> i32 {
        match self {
            ExitStatus::Exited(c) => *c & 0xff,
            ExitStatus::Signaled(r) => 128 + r.signo,
        }
    }
}

/// How one thread's run loop ended.
enum ThreadEnd {
    /// This thread ended the process with this status.
    Process(ExitStatus),
    /// Only this thread ended (`exit`), or another thread ended the
    /// process.
    Thread,
}

impl Process {
    /// A process around an (already loaded) address space. Tells the host
    /// how to treat signals from outside under the initial (default)
    /// dispositions.
    pub fn new(
        host: &'static dyn HostOs,
        mem: GuestMemory,
        exe_path: Vec<u8>,
        options: Options,
    ) -> Arc<Process> {
        let p = Arc::new_cyclic(|me| Process {
            host,
            mem,
            exe_path,
            signals: spin::Mutex::new(SignalTable::default()),
            options,
            stats: Stats::default(),
            io: Default::default(),
            prctl: Prctl::default(),
            threads: spin::Mutex::new(Vec::new()),
            end: End::default(),
            first_tid: AtomicU32::new(0),
            code: spin::Mutex::new(None),
            green: spin::Mutex::new(crate::sched::RunQueue::default()),
            green_tid: AtomicU32::new(0),
            own_counters: Default::default(),
            me: me.clone(),
        });
        p.mem.maps.lock().cap = p.options.limits.max_memory;
        for signo in 1..=signal::NSIG {
            signal::sync_host(&p, signo);
        }
        p
    }

    /// Run the process's first `thread` until the process exits or is
    /// killed, whichever of its threads ends it. After every stop a thread
    /// takes the signals now deliverable to it: a fault's, those a system
    /// call raised or unblocked, those that arrived while it ran.
    pub fn run(&self, thread: &mut Thread, engine: &mut dyn Engine) -> ExitStatus {
        self.first_tid.store(thread.tid as u32, Ordering::Relaxed);
        let status = match self.run_thread(thread, engine) {
            ThreadEnd::Process(s) => s,
            ThreadEnd::Thread => self.wait_end(),
        };
        self.end.seen.store(true, Ordering::Release);
        status
    }

    /// An engine of the kind [`Options::engine`] names, for a thread of
    /// this process: all the translator engines share one code cache.
    pub fn engine(&self) -> SysResult<Box<dyn Engine + Send>> {
        Ok(match self.options.engine {
            EngineKind::Interp => Box::new(crate::interp::Interpreter::new()),
            EngineKind::Jit { cache_size } => {
                let mut code = self.code.lock();
                let shared = match &*code {
                    Some(c) => c.clone(),
                    None => code
                        .insert(crate::translate::SharedCode::new(self.host, cache_size)?)
                        .clone(),
                };
                Box::new(crate::translate::Jit::with_shared(shared))
            }
        })
    }

    /// Are guest threads taking turns on this host's one thread, and is
    /// there another one than the caller? Then blocking calls park the
    /// caller instead of blocking the host.
    pub fn green_others(&self) -> bool {
        !self.host.threads() && self.threads.lock().len() > 1
    }

    /// Run the child of `vfork` (`clone(CLONE_VM | CLONE_VFORK)`), which
    /// shares this process's memory, including this `Process`, until it
    /// execs or exits: a loop of its own that leaves the parent's threads,
    /// their registry and the parent's end state alone, and returns how
    /// the child ended.
    pub fn run_vfork_child(&self, thread: &mut Thread, engine: &mut dyn Engine) -> ExitStatus {
        thread.shared = None;
        loop {
            let trap = engine.run(&mut thread.cpu, &self.mem);
            let at = thread.cpu.pc;
            if let Some(status) = self.check_limits(thread) {
                return status;
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

    /// The limit counters of this process's tree.
    pub fn counters(&self) -> &crate::limits::TreeCounters {
        self.host.tree_counters().unwrap_or(&self.own_counters)
    }

    /// Record that this process hit `limit`; the first process of the
    /// tree to hit one reports it (one line on the host's console). The
    /// run loop ends the process at its next look ([`Process::check_limits`]).
    pub fn hit_limit(&self, limit: crate::limits::Limit) {
        if self.counters().set_hit(limit) {
            let l = &self.options.limits;
            let value = match limit {
                crate::limits::Limit::Memory => l.max_memory,
                crate::limits::Limit::Instructions => l.max_instructions,
                crate::limits::Limit::Output => l.max_output,
                crate::limits::Limit::Timeout => None,
            };
            let m = crate::limits::Message {
                program: &self.exe_path,
                limit,
                value: value.unwrap_or(0),
            };
            self.host.log(format_args!("{m}"));
        }
    }

    /// At a stop of `thread`'s run loop: add the instructions it retired
    /// since the last look to the tree's count, and say how the process
    /// ends if the tree hit a limit (here or in another process).
    pub fn check_limits(&self, thread: &mut Thread) -> Option<ExitStatus> {
        let tree = self.host.tree_counters();
        let l = &self.options.limits;
        if tree.is_none() && !l.any() {
            return None;
        }
        let c = self.counters();
        let ran = thread.cpu.instret.wrapping_sub(thread.instret_counted);
        thread.instret_counted = thread.cpu.instret;
        let total = c.instructions.fetch_add(ran, Ordering::Relaxed) + ran;
        if l.max_instructions.is_some_and(|max| total > max) {
            self.hit_limit(crate::limits::Limit::Instructions);
        }
        c.hit().map(|h| ExitStatus::Exited(h.exit_status()))
    }

    /// The live thread `tid`.
    pub fn thread(&self, tid: i32) -> Option<Arc<ThreadShared>> {
        self.threads.lock().iter().find(|t| t.tid == tid).cloned()
    }

    /// Each live thread but `except`, for signal routing.
    pub fn other_threads(&self, except: i32) -> Vec<Arc<ThreadShared>> {
        self.threads
            .lock()
            .iter()
            .filter(|t| t.tid != except)
            .cloned()
            .collect()
    }

    /// Has a thread ended the process?
    pub fn ending(&self) -> bool {
        self.end.done.load(Ordering::Acquire) != 0
    }

    /// Make `info` pending for thread `tid` of this process from another
    /// thread, and interrupt it so it looks soon. `false` when there is
    /// no such thread.
    pub fn send_to_thread(&self, tid: i32, info: signal::SigInfo) -> bool {
        let Some(t) = self.thread(tid) else {
            return false;
        };
        t.inbox.lock().add(info);
        t.has_inbox.store(true, Ordering::Release);
        self.host.interrupt_thread(tid);
        true
    }

    fn register(&self, thread: &mut Thread) -> Arc<ThreadShared> {
        let sh = Arc::new(ThreadShared::new(thread.tid, thread.sigmask));
        self.threads.lock().push(sh.clone());
        thread.shared = Some(sh.clone());
        sh
    }

    /// Run one thread's loop until it or the process ends. On a host that
    /// runs one thread, this loop runs every guest thread in turn (see
    /// [`crate::sched`]): `thread` and the engine change as they take the
    /// CPU (`engine` is the first thread's).
    fn run_thread(&self, thread: &mut Thread, engine: &mut dyn Engine) -> ThreadEnd {
        if thread.shared.is_none() {
            self.register(thread);
        }
        // The running thread's engine when it is not `engine`.
        let mut own: Option<Box<dyn Engine + Send>> = None;
        loop {
            if self.ending() {
                self.unregister(thread.tid);
                return ThreadEnd::Thread;
            }
            let eng: &mut dyn Engine = match &mut own {
                Some(e) => e.as_mut(),
                None => &mut *engine,
            };
            let trap = eng.run(&mut thread.cpu, &self.mem);
            // A fatal signal names the faulting instruction or the `ecall`.
            let at = thread.cpu.pc;
            if let Some(status) = self.check_limits(thread) {
                return self.finish(status);
            }
            let killed = match trap {
                Trap::Budget => signal::deliver_pending(self, thread, at),
                Trap::Ecall => {
                    self.stats.syscalls.fetch_add(1, Ordering::Relaxed);
                    let flow = syscall::dispatch(self, thread);
                    if let Some(status) = self.check_limits(thread) {
                        return self.finish(status);
                    }
                    match flow {
                        Flow::Continue => {
                            let r = signal::deliver_pending(self, thread, at);
                            if matches!(thread.block, Some(crate::sched::Block::Io { .. }))
                                && thread.cpu.pc != at
                            {
                                // A handler runs first: the call waits
                                // (runs again) once it returns.
                                thread.block = None;
                            }
                            r
                        }
                        Flow::Exit(code) => return self.finish(ExitStatus::Exited(code)),
                        Flow::ExitThread(code) => match self.exit_thread(thread, code) {
                            ThreadEnd::Thread if !self.host.threads() => {
                                // Another guest thread takes the CPU.
                                if !self.switch(thread, &mut own, false) {
                                    return ThreadEnd::Thread;
                                }
                                continue;
                            }
                            end => return end,
                        },
                    }
                }
                other => signal::deliver_trap(self, thread, other),
            };
            if let Some(sh) = &thread.shared {
                sh.sigmask.store(thread.sigmask, Ordering::Relaxed);
            }
            if let Some(report) = killed {
                return self.finish(ExitStatus::Signaled(report));
            }
            if !self.host.threads() && (thread.block.is_some() || trap == Trap::Budget) {
                self.switch(thread, &mut own, true);
            }
        }
    }

    /// On a host that runs one thread: put the running thread (`thread`,
    /// its engine in `own`) in the run queue if `park`, and load the next
    /// one that can run, sleeping until a deadline if none can yet.
    /// False when no thread is left to run.
    fn switch(
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
            let now = self
                .host
                .clock_gettime(1)
                .map(|t| (t.sec as u64).wrapping_mul(1_000_000_000) + t.nsec as u64)
                .unwrap_or(0);
            let signalled = |t: &Thread| {
                t.shared
                    .as_ref()
                    .is_some_and(|s| s.has_inbox.load(Ordering::Acquire))
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
                    *thread = p.thread;
                    *own = p.engine;
                    return true;
                }
                Err(_) if q.is_empty() => return false,
                Err(deadline) => {
                    drop(q);
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

    fn unregister(&self, tid: i32) -> usize {
        let mut threads = self.threads.lock();
        threads.retain(|t| t.tid != tid);
        threads.len()
    }

    /// `exit` of one thread: what the kernel does for a dying thread
    /// (robust futexes, `CLONE_CHILD_CLEARTID`), then the process ends if
    /// it was the last.
    fn exit_thread(&self, thread: &mut Thread, code: i32) -> ThreadEnd {
        crate::syscall::thread::exit_cleanup(self, thread);
        if self.unregister(thread.tid) == 0 {
            return self.finish(ExitStatus::Exited(code));
        }
        ThreadEnd::Thread
    }

    /// End the process with `status`, unless another thread ended it
    /// first. The other threads return from their loops at their next
    /// stop; the host's first thread, if this is not it, is woken (from
    /// [`Process::wait_end`]) or interrupted until it has seen the end.
    fn finish(&self, status: ExitStatus) -> ThreadEnd {
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
    fn wait_end(&self) -> ExitStatus {
        loop {
            if let Some(s) = *self.end.status.lock() {
                return s;
            }
            let word = &self.end.done as *const AtomicU32 as *mut u32;
            if let Err(Errno::ENOSYS) = self.host.futex(word, &FutexArgs::wait(0)) {
                // A host without futexes has no other thread to end it.
                return ExitStatus::Exited(0);
            }
        }
    }

    /// Run `fork` (the host's process fork, in `f`) so that the child,
    /// which has only the calling thread, inherits no lock another thread
    /// held: every lock the core's threads share is taken first, in the
    /// order the core always takes them, and released on both sides.
    pub fn fork_with<R>(&self, f: impl FnOnce() -> R) -> R {
        let code = self.code.lock().clone();
        let _code = code.as_ref().map(|c| c.lock_for_fork());
        let _space = self.mem.lock_space();
        let _maps = self.mem.maps.lock();
        let _threads = self.threads.lock();
        let _green = self.green.lock();
        let _signals = self.signals.lock();
        f()
    }

    /// In a forked child: `thread` (with its new `tid`) is the process's
    /// only thread, as Linux keeps only the thread that forked. The others'
    /// state goes, and this thread now ends the process itself.
    pub fn forked_child(&self, thread: &mut Thread) {
        let sh = Arc::new(ThreadShared::new(thread.tid, thread.sigmask));
        *self.threads.lock() = alloc::vec![sh.clone()];
        thread.shared = Some(sh);
        *self.green.lock() = crate::sched::RunQueue::default();
        self.first_tid.store(thread.tid as u32, Ordering::Relaxed);
        if let Some(c) = &*self.code.lock() {
            c.forked_child();
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
            let floor = self.host.ids().pid.max(self.host.gettid()) as u32;
            let _ = self
                .green_tid
                .compare_exchange(0, floor, Ordering::AcqRel, Ordering::Acquire);
            let tid = self.green_tid.fetch_add(1, Ordering::AcqRel) as i32 + 1;
            setup(tid)?;
            thread.tid = tid;
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
