//! A guest process as data: its address space, its threads' state, its
//! signal table, how it ended ([`ExitStatus`]), and the engines its threads
//! run on. A leaf of the core's emulation modules: [`crate::signal`] and
//! [`crate::syscall`] work on a [`Process`] and a [`Thread`], and
//! [`crate::run`], above all three, runs the loop that drives them
//! (`Process::run`, `Process::spawn`, the end of the process).

use crate::cpu::{Cpu, Trap};
use crate::host::{HostOs, SysResult};
use crate::memory::GuestMemory;
use crate::sigstate::{self, AltStack, Pending, SignalTable};
use alloc::boxed::Box;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

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
    /// What the engine's profile database learned (translations, cold
    /// blocks), for `--profile`; `None` for engines without one.
    fn profile(&self) -> Option<crate::profile::Snapshot> {
        None
    }
    /// The host code of the live translation entered at guest `pc`, and
    /// its host address (for `pvm report --block`); `None` when there is
    /// none.
    fn host_code(&self, pc: u64) -> Option<(u64, Vec<u8>)> {
        let _ = pc;
        None
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
    /// Size of each guest address space in bytes (`None`: the loader's
    /// [`crate::loader::ADDRESS_SPACE_SIZE`]). A smaller space lets pvm run
    /// where a 64 GiB reservation cannot be made (under valgrind, or with
    /// a tight `RLIMIT_AS`), as qemu-user's `-R` does.
    pub address_space: Option<u64>,
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
    pub(crate) has_inbox: AtomicBool,
    /// [`Pending::queued`] of the thread's own pending set, as the thread
    /// last published it (it alone changes that set), for the other
    /// threads' `RLIMIT_SIGPENDING` count.
    pub(crate) queued: AtomicUsize,
    /// The name `prctl(PR_SET_NAME)` gave, for other threads' `/proc`.
    pub name: spin::Mutex<Option<[u8; 16]>>,
    /// The thread's `set_robust_list` head (0 for none), for another
    /// thread's `execve` to see whether this one holds robust futexes.
    pub(crate) robust_head: AtomicU64,
    /// Stopped at its run loop's top while another thread's `execve`
    /// hands the robust lists to the host (see `Process::exec_prepare`).
    pub(crate) exec_parked: AtomicBool,
    /// The System V semaphore this thread waits on while it takes turns
    /// with the others on one host thread (a parked `semop`: the host
    /// does not count it), for the other threads' `GETNCNT`/`GETZCNT`
    /// (see [`crate::syscall`]'s `ipc`).
    pub(crate) sem_wait: spin::Mutex<Option<SemWait>>,
}

/// A parked `semop`'s wait: semaphore `num` of set `id`, for it to be
/// zero (`GETZCNT`) or to grow (`GETNCNT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SemWait {
    pub id: i32,
    pub num: usize,
    pub zero: bool,
}

impl ThreadShared {
    pub(crate) fn new(tid: i32, sigmask: u64) -> ThreadShared {
        ThreadShared {
            tid,
            sigmask: AtomicU64::new(sigmask),
            inbox: spin::Mutex::new(Pending::default()),
            has_inbox: AtomicBool::new(false),
            queued: AtomicUsize::new(0),
            name: spin::Mutex::new(None),
            robust_head: AtomicU64::new(0),
            exec_parked: AtomicBool::new(false),
            sem_wait: spin::Mutex::new(None),
        }
    }

    /// Signals other threads sent to this one since the last call.
    pub fn take_inbox(&self) -> Option<Pending> {
        if !self.has_inbox.swap(false, Ordering::AcqRel) {
            return None;
        }
        Some(core::mem::take(&mut *self.inbox.lock()))
    }

    /// The signals queued for this thread that count against
    /// `RLIMIT_SIGPENDING`: its inbox and its pending set as published.
    pub(crate) fn queued(&self) -> usize {
        self.inbox.lock().queued() + self.queued.load(Ordering::Relaxed)
    }
}

/// [`End::done`] while a thread's `execve` ends the other threads.
pub(crate) const EXECING: u32 = 2;

/// How a process ends while several threads run: the first thread to end
/// it records the status; the others return from their run loops at their
/// next stop (they are interrupted if blocked in a host call).
#[derive(Debug, Default)]
pub(crate) struct End {
    pub(crate) status: spin::Mutex<Option<ExitStatus>>,
    /// Futex word: 0 while running, 1 once `status` is set, [`EXECING`]
    /// while a thread that calls `execve` stops the others (they park,
    /// and go on if the exec fails: see [`Process::exec_prepare`]; or,
    /// on a host without host robust lists, walk their lists and go, see
    /// [`Process::exec_release`]).
    pub(crate) done: AtomicU32,
    /// Set by the host's first thread once it saw the end.
    pub(crate) seen: AtomicBool,
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
    pub(crate) io: IoState,
    pub prctl: Prctl,
    /// The guest's own `/proc` (see [`crate::syscall::procfs`]).
    pub procfs: crate::procfs_state::ProcState,
    /// POSIX timers (`timer_create`; see [`crate::ptimer`]).
    pub timers: crate::ptimer::Timers,
    /// The live threads.
    pub(crate) threads: spin::Mutex<Vec<Arc<ThreadShared>>>,
    pub(crate) end: End,
    /// The translator's code cache, shared by every thread's engine
    /// (made by the first).
    pub(crate) code: spin::Mutex<Option<Arc<crate::translate::SharedCode>>>,
    /// Guest threads waiting their turn, on a host that runs one thread.
    pub green: spin::Mutex<crate::sched::RunQueue>,
    /// The last tid given to such a thread.
    pub(crate) green_tid: AtomicU32,
    /// Tid of the thread the host started the process on (the one
    /// [`Process::run`] returns on).
    pub(crate) first_tid: AtomicU32,
    /// The debugger, once one is attached ([`Process::attach_debugger`]).
    pub(crate) debug: spin::Once<crate::debug::Debugger>,
    /// This process's limit counters when the host shares none
    /// ([`HostOs::tree_counters`]).
    own_counters: crate::limits::TreeCounters,
    pub(crate) me: Weak<Process>,
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
    Signaled(sigstate::Report),
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

impl Process {
    /// A thread's name (`comm`) as Linux shows it: the one
    /// `PR_SET_NAME` gave (`name`), else the program's file name, at most
    /// 15 bytes, NUL-padded.
    pub fn comm(&self, name: Option<[u8; 16]>) -> [u8; 16] {
        if let Some(n) = name {
            return n;
        }
        let exe = &self.exe_path;
        let base = exe.rsplit(|&c| c == b'/').next().unwrap_or(exe);
        let mut n = [0u8; 16];
        let len = base.len().min(15);
        n[..len].copy_from_slice(&base[..len]);
        n
    }

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
            procfs: Default::default(),
            timers: Default::default(),
            threads: spin::Mutex::new(Vec::new()),
            end: End::default(),
            first_tid: AtomicU32::new(0),
            code: spin::Mutex::new(None),
            green: spin::Mutex::new(crate::sched::RunQueue::default()),
            green_tid: AtomicU32::new(0),
            debug: spin::Once::new(),
            own_counters: Default::default(),
            me: me.clone(),
        });
        p.mem.maps.lock().cap = p.options.limits.max_memory;
        let act = crate::sigstate::SigAction::default();
        for signo in 1..=sigstate::NSIG {
            sigstate::tell_host(host, signo, &act);
        }
        p
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

    /// Attach a debugger before the first thread runs (the host makes
    /// every guest thread take turns on one host thread first).
    pub fn attach_debugger(&self, d: crate::debug::Debugger) {
        self.debug.call_once(|| d);
    }

    /// The attached debugger, if any.
    pub fn debugger(&self) -> Option<&crate::debug::Debugger> {
        self.debug.get()
    }

    /// Run guest code on `thread` until a trap: the engine itself, or the
    /// debugger driving it when one is attached.
    pub(crate) fn run_engine(&self, thread: &mut Thread, engine: &mut dyn Engine) -> Trap {
        match self.debug.get() {
            None => engine.run(&mut thread.cpu, &self.mem),
            Some(d) => d.run(self, thread, engine),
        }
    }

    /// Are guest threads taking turns on this host's one thread, and is
    /// there another one than the caller? Then blocking calls park the
    /// caller instead of blocking the host.
    pub fn green_others(&self) -> bool {
        !self.host.threads() && self.threads.lock().len() > 1
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
    /// Has a thread ended the process, or is one's `execve` stopping the
    /// others (waits give up either way)?
    pub fn ending(&self) -> bool {
        self.end.done.load(Ordering::Acquire) != 0
    }
    /// Has a thread ended the process (not only stopped the others for
    /// its `execve`, after which they may go on)?
    pub fn ended(&self) -> bool {
        self.end.done.load(Ordering::Acquire) == 1
    }
    /// Make `info` pending for thread `tid` of this process from another
    /// thread, and interrupt it so it looks soon. `false` when there is
    /// no such thread.
    pub fn send_to_thread(&self, tid: i32, info: sigstate::SigInfo) -> bool {
        let Some(t) = self.thread(tid) else {
            return false;
        };
        t.inbox.lock().add(info);
        t.has_inbox.store(true, Ordering::Release);
        self.host.interrupt_thread(tid);
        true
    }
    /// A process-directed `signo` is pending and thread `except` (-1:
    /// none) blocks it: interrupt a thread that does not, so it takes it
    /// at its next stop (as Linux's `complete_signal` wakes one). When
    /// every thread blocks it, interrupt them all: one may be waiting for
    /// it (`sigwait`, a signalfd), and the others only look again.
    pub(crate) fn wake_taker(&self, except: i32, signo: i32) {
        let others = self.other_threads(except);
        let takers: Vec<_> = others
            .iter()
            .filter(|t| t.sigmask.load(Ordering::Relaxed) & sigstate::bit(signo) == 0)
            .collect();
        match takers.first() {
            Some(t) => self.host.interrupt_thread(t.tid),
            None => {
                for t in &others {
                    self.host.interrupt_thread(t.tid);
                }
            }
        }
    }
    pub(crate) fn register(&self, thread: &mut Thread) -> Arc<ThreadShared> {
        let sh = Arc::new(ThreadShared::new(thread.tid, thread.sigmask));
        *sh.name.lock() = thread.name;
        self.threads.lock().push(sh.clone());
        thread.shared = Some(sh.clone());
        sh
    }
    pub(crate) fn unregister(&self, tid: i32) -> usize {
        let mut threads = self.threads.lock();
        threads.retain(|t| t.tid != tid);
        threads.len()
    }
    /// Run `fork` (the host's process fork, in `f`) so that the child,
    /// which has only the calling thread, inherits no lock another thread
    /// held: every lock the core's threads share is taken first, in the
    /// order the core always takes them, and released on both sides.
    /// A weak handle on this process (for a host's helper thread that
    /// answers for it, see `crate::syscall::peer`).
    pub fn weak(&self) -> Weak<Process> {
        self.me.clone()
    }

    pub fn fork_with<R>(&self, f: impl FnOnce() -> R) -> R {
        let code = self.code.lock().clone();
        let _code = code.as_ref().map(|c| c.lock_for_fork());
        let _space = self.mem.lock_space();
        let _maps = self.mem.maps.lock();
        let _threads = self.threads.lock();
        let _green = self.green.lock();
        let _signals = self.signals.lock();
        // A host's helper answering another process may hold it.
        let _procfs = self.procfs.info.lock();
        // The host's wake-up for the timers changes under this one.
        let _timers = self.timers.lock_for_fork();
        f()
    }
    /// In a forked child: `thread` (with its new `tid`) is the process's
    /// only thread, as Linux keeps only the thread that forked. The others'
    /// state goes, and this thread now ends the process itself.
    pub fn forked_child(&self, thread: &mut Thread) {
        let sh = Arc::new(ThreadShared::new(thread.tid, thread.sigmask));
        *sh.name.lock() = thread.name;
        *self.threads.lock() = alloc::vec![sh.clone()];
        thread.shared = Some(sh);
        *self.green.lock() = crate::sched::RunQueue::default();
        self.first_tid.store(thread.tid as u32, Ordering::Relaxed);
        // Timers are not inherited (nor the parent's host wake-up).
        self.timers.forked_child();
        if let Some(c) = &*self.code.lock() {
            c.forked_child();
        }
        if let Some(d) = self.debug.get() {
            d.forked_child(&self.mem);
        }
    }
}

/// Per-process state of the descriptors the core emulates (signalfds;
/// `crate::syscall::event` works on it).
#[derive(Debug, Default)]
pub struct IoState {
    /// Set once a signalfd was made: until then `read`, `write` and
    /// `close` skip the table.
    pub(crate) any: AtomicBool,
    pub(crate) signalfds: spin::Mutex<Vec<SignalFd>>,
}

/// One signalfd (an open file description): the guest descriptors that
/// name it, its mask, and whether its host eventfd's counter is 1.
#[derive(Debug)]
pub(crate) struct SignalFd {
    pub(crate) fds: Vec<i32>,
    pub(crate) mask: u64,
    pub(crate) armed: bool,
}

impl IoState {
    pub(crate) fn find(&self, fd: i32) -> Option<u64> {
        if !self.any.load(Ordering::Acquire) {
            return None;
        }
        let t = self.signalfds.lock();
        t.iter().find(|s| s.fds.contains(&fd)).map(|s| s.mask)
    }

    /// Forget descriptor `fd` (closed).
    pub(crate) fn forget(&self, fd: i32) {
        self.forget_range(fd as u32, fd as u32);
    }

    /// Forget descriptors `first..=last`.
    pub(crate) fn forget_range(&self, first: u32, last: u32) {
        if !self.any.load(Ordering::Acquire) {
            return;
        }
        let mut t = self.signalfds.lock();
        for s in t.iter_mut() {
            s.fds.retain(|&f| !(first..=last).contains(&(f as u32)));
        }
        t.retain(|s| !s.fds.is_empty());
    }

    /// `new` is now a copy of `old` (`dup`): it names the same signalfd,
    /// if `old` names one, and no longer what it named before.
    pub(crate) fn dup(&self, old: i32, new: i32) {
        if !self.any.load(Ordering::Acquire) || old == new {
            return;
        }
        self.forget(new);
        let mut t = self.signalfds.lock();
        if let Some(s) = t.iter_mut().find(|s| s.fds.contains(&old)) {
            s.fds.push(new);
        }
    }
}
