//! Guest processes on the unikernel: each one's host state ([`Proc`]: its
//! descriptor table over the one file system, its signals and timers, its
//! limits) and the process table (pids, parents, groups, sessions, stopped
//! processes and the exit statuses parents have not collected yet).
//!
//! A process runs on a kernel task of its own ([`crate::task`]). `fork`
//! makes a new [`Proc`] from its parent's ([`new_child`]); when the
//! process's last image ends, [`end`] closes its descriptors, makes it a
//! zombie for its parent's `wait4`/`waitid` (or reaps it at once when the
//! parent ignores `SIGCHLD` or set `SA_NOCLDWAIT`), raises the parent's
//! exit signal with the child's `siginfo` fields, gives its own children
//! to the notional init (pid 1, which reaps them), and sends them their
//! parent-death signal. `kill` from one process to another raises the
//! signal in the target's [`Signals`] (where its core takes it, as from
//! any host), except the stop and continue signals, which the table
//! carries out itself: a stopped process's task is passed over by the
//! scheduler until `SIGCONT` or `SIGKILL`.
//!
//! Status words and `siginfo` codes are Linux's (see [`wait_report`]).

use crate::host::SharedMap;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use vm_core::process::SemWait;
use host_baremetal::fs::{Fs, MemFigures, ProcFacts, ProcSource};
use host_baremetal::signals::Signals;
use vm_core::host::{
    Errno, ExecRequest, HostSigAction, HostSignal, ProcessEnd, SysResult, WaitInfo,
};

pub use vm_core::sigstate::{SIGCHLD, SIGCONT, SIGKILL, SIGSTOP};
// `SI_USER`: the `si_code` of a signal `kill` sent.
use vm_core::sigstate::{CLD_CONTINUED, CLD_EXITED, CLD_KILLED, CLD_STOPPED, SI_USER, SIGRTMIN};

/// The host state of one guest process.
#[derive(Debug)]
pub struct Proc {
    pub pid: i32,
    pub fs: spin::Mutex<Fs>,
    /// (soft, hard) per Linux resource number, for `prlimit`.
    pub limits: spin::Mutex<[(u64, u64); 16]>,
    /// File mappings (shared and private), each holding its file's page
    /// cache ([`crate::pagecache`]).
    pub shared: spin::Mutex<Vec<SharedMap>>,
    /// Signal dispositions, pending signals, interval timers.
    pub signals: spin::Mutex<Signals>,
    /// The signals its core has queued that count against
    /// `RLIMIT_SIGPENDING`, as it last published them
    /// (`HostOs::publish_queued`); those sent to it and not taken by its
    /// core yet are in `signals` ([`user_queued`]).
    pub queued: AtomicU64,
    /// The System V semaphore waits its threads are parked in (they take
    /// turns on its task, so the IPC code does not see them wait), each
    /// with how many threads wait so, as its core last published them
    /// (`HostOs::publish_sem_waits`), for the other processes'
    /// `GETNCNT`/`GETZCNT` ([`sem_waiters`]).
    pub sem_waits: spin::Mutex<Vec<(SemWait, u32)>>,
    /// Supplementary groups (`setgroups`) and the nice value.
    pub groups: spin::Mutex<Vec<u32>>,
    pub nice: AtomicI32,
    /// A successful `execve` waiting for the run loop to end.
    pub exec: spin::Mutex<Option<ExecRequest>>,
    /// `SA_NOCLDSTOP` and `SA_NOCLDWAIT` of its `SIGCHLD` action.
    pub nocldstop: AtomicBool,
    pub nocldwait: AtomicBool,
    pub pdeathsig: AtomicI32,
    /// CPU time its task has used (ns), and the page faults it took, up
    /// to its last switch.
    cpu_ns: AtomicU64,
    minflt: AtomicU64,
    /// Set while the process is stopped.
    stopped: AtomicBool,
    /// Resident memory (bytes) of its largest address space when given back.
    pub maxrss: AtomicU64,
    /// `HostOs::set_wakeup`: ns since boot at which a wait ends as if a
    /// signal came (the core's POSIX timers); `u64::MAX`: none.
    pub wakeup: AtomicU64,
    /// The program it runs and its arguments (NUL-terminated each), for
    /// `/proc/<pid>/exe`, `comm` and `cmdline`.
    pub image: spin::Mutex<(Vec<u8>, Vec<u8>)>,
    /// When it started (ns since boot), for `/proc/<pid>/stat`.
    start_ns: u64,
    /// The ids of its guest threads other than the first (which has the
    /// pid), for `/proc/<pid>/task` (`HostOs::new_tid`).
    pub threads: spin::Mutex<Vec<i32>>,
    /// Its threads' names as the core gave them (`HostOs::thread_named`),
    /// for `comm`, `stat` and `status`.
    pub names: spin::Mutex<Vec<(i32, [u8; 16])>>,
    /// The reservations (start, size) its guest address spaces live in
    /// (`HostOs::reserve`, until `HostOs::release`), for the memory
    /// figures of its `/proc/<pid>` files.
    pub spaces: spin::Mutex<Vec<(u64, u64)>>,
    /// Its core, which answers other processes' reads of its `/proc`
    /// files (`HostOs::serve_peers`, `HostOs::peer`).
    pub server: spin::Mutex<Option<alloc::sync::Weak<dyn vm_core::host::PeerServer>>>,
    /// Its System V shared memory attachments ([`crate::ipc`]).
    pub shm: spin::Mutex<Vec<crate::ipc::Attachment>>,
}

impl Proc {
    pub fn new(pid: i32, mut fs: Fs, limits: [(u64, u64); 16]) -> Proc {
        fs.set_proc(pid, &TableView);
        Proc {
            pid,
            fs: spin::Mutex::new(fs),
            limits: spin::Mutex::new(limits),
            shared: spin::Mutex::new(Vec::new()),
            signals: spin::Mutex::new(Signals::new()),
            groups: spin::Mutex::new(Vec::new()),
            nice: AtomicI32::new(0),
            exec: spin::Mutex::new(None),
            queued: AtomicU64::new(0),
            sem_waits: spin::Mutex::new(Vec::new()),
            nocldstop: AtomicBool::new(false),
            nocldwait: AtomicBool::new(false),
            pdeathsig: AtomicI32::new(0),
            cpu_ns: AtomicU64::new(0),
            minflt: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
            maxrss: AtomicU64::new(0),
            wakeup: AtomicU64::new(u64::MAX),
            image: spin::Mutex::new((Vec::new(), Vec::new())),
            start_ns: crate::clock::uptime_ns(),
            threads: spin::Mutex::new(Vec::new()),
            names: spin::Mutex::new(Vec::new()),
            spaces: spin::Mutex::new(Vec::new()),
            server: spin::Mutex::new(None),
            shm: spin::Mutex::new(Vec::new()),
        }
    }

    /// Its memory now, as the page tables of its address spaces show it.
    pub fn memory(&self) -> MemFigures {
        let mut u = crate::memory::Usage::default();
        for &(start, size) in self.spaces.lock().iter() {
            let _ = crate::memory::usage_of(start, size, &mut u);
        }
        MemFigures {
            size: u.mapped,
            resident: u.resident,
            text: u.read_only,
            data: u.write,
        }
    }

    /// It runs `exe` (an absolute path) with arguments `argv` now.
    pub fn set_image(&self, exe: &[u8], argv: &[&[u8]]) {
        let mut cmdline = Vec::new();
        for a in argv {
            cmdline.extend_from_slice(a);
            cmdline.push(0);
        }
        *self.image.lock() = (exe.to_vec(), cmdline);
    }

    /// Stopped, and no `SIGKILL` waits for it?
    pub fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    pub fn add_cpu(&self, ns: u64) {
        self.cpu_ns.fetch_add(ns, Ordering::Relaxed);
    }

    pub fn add_faults(&self, n: u64) {
        self.minflt.fetch_add(n, Ordering::Relaxed);
    }

    /// Page faults taken so far, the running stretch's included.
    pub fn minflt(&self) -> u64 {
        let mut n = self.minflt.load(Ordering::Relaxed);
        if core::ptr::eq(&*crate::task::current(), self) {
            n += crate::task::running_faults();
        }
        n
    }

    /// CPU time used so far, the running stretch included if it runs now.
    pub fn cpu_ns(&self) -> u64 {
        let mut t = self.cpu_ns.load(Ordering::Relaxed);
        if core::ptr::eq(&*crate::task::current(), self) {
            t += crate::task::running_ns();
        }
        t
    }
}

/// A state change a parent has not collected yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Event {
    Stopped(i32),
    Continued,
}

#[derive(Debug)]
struct Entry {
    ppid: i32,
    pgid: i32,
    sid: i32,
    /// `None` once it ended (a zombie).
    proc: Option<Arc<Proc>>,
    end: Option<ProcessEnd>,
    event: Option<Event>,
    exit_signal: i32,
    execed: bool,
    /// CPU time (ns) and resident bytes at the end, for `rusage`.
    cpu_ns: u64,
    maxrss: u64,
    /// CPU time of the children it waited for (and of theirs), and the
    /// largest resident size among them.
    children_cpu: u64,
    children_maxrss: u64,
    /// Its page faults at the end, and those of the children it waited for.
    minflt: u64,
    children_minflt: u64,
}

struct Table {
    procs: BTreeMap<i32, Entry>,
    next_pid: i32,
}

static TABLE: spin::Mutex<Table> = spin::Mutex::new(Table {
    procs: BTreeMap::new(),
    next_pid: 2,
});

/// Bumped at every change a waiting parent may look for.
static CHANGES: AtomicU64 = AtomicU64::new(0);

/// The first process: pid 2, started by the notional init (pid 1) in
/// init's own process group and session (1), as a program a shell or a
/// test runner starts is in its starter's group, not a leader.
pub fn init(fs: Fs, limits: [(u64, u64); 16]) -> Arc<Proc> {
    let mut t = TABLE.lock();
    let pid = t.next_pid;
    t.next_pid += 1;
    let p = Arc::new(Proc::new(pid, fs, limits));
    t.procs.insert(
        pid,
        Entry {
            ppid: 1,
            pgid: 1,
            sid: 1,
            proc: Some(p.clone()),
            end: None,
            event: None,
            exit_signal: 0,
            execed: false,
            cpu_ns: 0,
            maxrss: 0,
            children_cpu: 0,
            children_maxrss: 0,
            minflt: 0,
            children_minflt: 0,
        },
    );
    p
}

/// A new table for the next job of a batch boot: the processes of the
/// last job are forgotten (their descriptors closed) and its first
/// process is pid 2 again.
pub fn reset(fs: Fs, limits: [(u64, u64); 16]) -> Arc<Proc> {
    let old = {
        let mut t = TABLE.lock();
        t.next_pid = 2;
        core::mem::take(&mut t.procs)
    };
    for e in old.into_values() {
        if let Some(p) = e.proc {
            p.fs.lock().close_all();
            p.shared.lock().clear();
        }
    }
    CHANGES.fetch_add(1, Ordering::Release);
    init(fs, limits)
}

/// A new id from the pid space (for a guest thread, so threads and
/// processes never share one).
pub fn new_id() -> i32 {
    let mut t = TABLE.lock();
    let id = t.next_pid;
    t.next_pid += 1;
    id
}

/// A child of `parent` (`fork`): a copy of its descriptor table (sharing
/// the open files), working directory, limits, groups, nice value and
/// signal dispositions; nothing pending, no timers.
pub fn new_child(parent: &Proc, exit_signal: i32) -> SysResult<Arc<Proc>> {
    let mut t = TABLE.lock();
    let nproc = t.procs.values().filter(|e| e.proc.is_some()).count() as u64;
    if nproc >= parent.limits.lock()[6].0 {
        return Err(Errno::EAGAIN);
    }
    // A process's own kernel metadata (its task's stack, the small part
    // of its page-permission table and of the translator's tables that it
    // touches, page tables) takes frames and heap: refuse the fork, as the
    // kernel does when out of memory, rather than fail half-way.
    if crate::memory::heap_free() < 1 << 20 || crate::memory::frames_free() < 8 << 20 {
        return Err(Errno::EAGAIN);
    }
    let pid = t.next_pid;
    t.next_pid += 1;
    let fs = parent.fs.lock().fork();
    let p = Proc::new(pid, fs, *parent.limits.lock());
    *p.image.lock() = parent.image.lock().clone();
    *p.groups.lock() = parent.groups.lock().clone();
    *p.signals.lock() = parent.signals.lock().forked();
    for (to, from) in [
        (&p.nocldstop, &parent.nocldstop),
        (&p.nocldwait, &parent.nocldwait),
    ] {
        to.store(from.load(Ordering::Relaxed), Ordering::Relaxed);
    }
    p.nice
        .store(parent.nice.load(Ordering::Relaxed), Ordering::Relaxed);
    let p = Arc::new(p);
    let (pgid, sid) = t
        .procs
        .get(&parent.pid)
        .map_or((parent.pid, parent.pid), |e| (e.pgid, e.sid));
    t.procs.insert(
        pid,
        Entry {
            ppid: parent.pid,
            pgid,
            sid,
            proc: Some(p.clone()),
            end: None,
            event: None,
            exit_signal,
            execed: false,
            cpu_ns: 0,
            maxrss: 0,
            children_cpu: 0,
            children_maxrss: 0,
            minflt: 0,
            children_minflt: 0,
        },
    );
    Ok(p)
}

/// Forget a child that never ran (its making failed).
pub fn discard(pid: i32) {
    if let Some(e) = TABLE.lock().procs.remove(&pid)
        && let Some(p) = e.proc
    {
        p.fs.lock().close_all();
    }
}

/// Every process alive.
pub fn all() -> Vec<Arc<Proc>> {
    TABLE
        .lock()
        .procs
        .values()
        .filter_map(|e| e.proc.clone())
        .collect()
}

/// The process `pid` while it lives.
pub fn live(pid: i32) -> Option<Arc<Proc>> {
    TABLE.lock().procs.get(&pid).and_then(|e| e.proc.clone())
}

/// Has `pid` exec'd or ended (what a `CLONE_VFORK` parent waits for)?
pub fn execed_or_ended(pid: i32) -> bool {
    TABLE
        .lock()
        .procs
        .get(&pid)
        .is_none_or(|e| e.execed || e.end.is_some())
}

/// `execve` succeeded in `pid`.
pub fn mark_exec(pid: i32) {
    if let Some(e) = TABLE.lock().procs.get_mut(&pid) {
        e.execed = true;
    }
    CHANGES.fetch_add(1, Ordering::Release);
}

/// Parent, group and session of `pid`.
pub fn ids(pid: i32) -> Option<(i32, i32, i32)> {
    TABLE
        .lock()
        .procs
        .get(&pid)
        .map(|e| (e.ppid, e.pgid, e.sid))
}

/// The process `pid` ended as `how`.
pub fn end(pid: i32, how: ProcessEnd) {
    let mut t = TABLE.lock();
    let Some(e) = t.procs.get_mut(&pid) else {
        return;
    };
    let Some(p) = e.proc.take() else {
        return;
    };
    p.fs.lock().close_all();
    p.shared.lock().clear();
    // Its SEM_UNDO adjustments are undone.
    crate::ipc::IPC.exit(pid);
    p.stopped.store(false, Ordering::Relaxed);
    e.end = Some(how);
    e.event = None;
    e.cpu_ns = p.cpu_ns();
    e.minflt = p.minflt();
    e.maxrss = p.maxrss.load(Ordering::Relaxed);
    let (ppid, exit_signal) = (e.ppid, e.exit_signal);
    // Its children go to init, which reaps the ended ones; the living get
    // their parent-death signal.
    let mut orphans = Vec::new();
    t.procs.retain(|&cpid, c| {
        if c.ppid != pid {
            return true;
        }
        c.ppid = 1;
        if let Some(cp) = &c.proc {
            orphans.push((cpid, cp.clone()));
            true
        } else {
            false
        }
    });
    for (_, cp) in orphans {
        let sig = cp.pdeathsig.load(Ordering::Relaxed);
        if sig != 0 {
            raise(&cp, sig, SI_USER, pid, 0);
        }
    }
    let (code, status) = match how {
        ProcessEnd::Exit(c) => (CLD_EXITED, c & 0xff),
        ProcessEnd::Signal(s) => (CLD_KILLED, s),
    };
    let parent = t.procs.get(&ppid).and_then(|e| e.proc.clone());
    match parent {
        Some(pp) => {
            let ignores = pp.signals.lock().action(SIGCHLD) == HostSigAction::Ignore;
            if ignores || pp.nocldwait.load(Ordering::Relaxed) {
                // Reaped at once (SIG_IGN or SA_NOCLDWAIT), as Linux does.
                t.procs.remove(&pid);
            }
            if exit_signal != 0 {
                raise(&pp, exit_signal, code, pid, status);
            }
        }
        // An orphan's parent is init, which reaps it.
        None => {
            t.procs.remove(&pid);
        }
    }
    drop(t);
    CHANGES.fetch_add(1, Ordering::Release);
}

fn raise(p: &Proc, signo: i32, code: i32, pid: i32, status: i32) {
    p.signals.lock().raise_from(HostSignal {
        signo,
        code,
        pid,
        uid: 0,
        status,
        value: 0,
    });
}

/// Which children a wait looks at.
#[derive(Clone, Copy, Debug)]
pub enum Which {
    Any,
    Pid(i32),
    Group(i32),
}

/// What a wait wants: `WEXITED`, `WUNTRACED`/`WSTOPPED`, `WCONTINUED`,
/// and whether it leaves the child waitable (`WNOWAIT`).
#[derive(Clone, Copy, Debug)]
pub struct Want {
    pub exited: bool,
    pub stopped: bool,
    pub continued: bool,
    pub keep: bool,
}

/// The change counter a blocked wait watches.
pub fn changes() -> u64 {
    CHANGES.load(Ordering::Acquire)
}

/// One look for a child of `me` to report: `Err(ECHILD)` when there is
/// none that matches, `Ok(None)` when none has anything to report yet.
pub fn try_wait(me: i32, which: Which, want: Want) -> SysResult<Option<WaitInfo>> {
    let mut t = TABLE.lock();
    let my_pgid = t.procs.get(&me).map_or(me, |e| e.pgid);
    let which = match which {
        Which::Group(0) => Which::Group(my_pgid),
        w => w,
    };
    let kids: Vec<i32> = t
        .procs
        .iter()
        .filter(|(pid, e)| {
            e.ppid == me
                && match which {
                    Which::Any => true,
                    Which::Pid(p) => **pid == p,
                    Which::Group(g) => e.pgid == g,
                }
        })
        .map(|(pid, _)| *pid)
        .collect();
    if kids.is_empty() {
        return Err(Errno::ECHILD);
    }
    for pid in kids {
        let e = t.procs.get_mut(&pid).expect("listed");
        if let Some(end) = e.end {
            if !want.exited {
                continue;
            }
            let (cpu, rss) = (e.cpu_ns, e.maxrss);
            // What it counted of its own waited-for children goes up
            // with it, as Linux's cutime and cmaxrss do.
            let (its_children, its_max) = (e.children_cpu, e.children_maxrss);
            let faults = e.minflt + e.children_minflt;
            let info = wait_report(pid, Some(end), None, cpu, rss);
            if !want.keep {
                t.procs.remove(&pid);
                if let Some(me) = t.procs.get_mut(&me) {
                    me.children_cpu += cpu + its_children;
                    me.children_maxrss = me.children_maxrss.max(rss).max(its_max);
                    me.children_minflt += faults;
                }
            }
            return Ok(Some(info));
        }
        let ev = match e.event {
            Some(Event::Stopped(s)) if want.stopped => Event::Stopped(s),
            Some(Event::Continued) if want.continued => Event::Continued,
            _ => continue,
        };
        if !want.keep {
            e.event = None;
        }
        let cpu = e.proc.as_ref().map_or(0, |p| p.cpu_ns());
        return Ok(Some(wait_report(pid, None, Some(ev), cpu, 0)));
    }
    Ok(None)
}

/// CPU time (ns) of the children `me` waited for.
pub fn children_cpu(me: i32) -> u64 {
    TABLE.lock().procs.get(&me).map_or(0, |e| e.children_cpu)
}

/// The largest resident size (bytes) among the children `me` waited
/// for, and the page faults they took.
pub fn children_mem(me: i32) -> (u64, u64) {
    TABLE
        .lock()
        .procs
        .get(&me)
        .map_or((0, 0), |e| (e.children_maxrss, e.children_minflt))
}

/// What `wait4` and `waitid` report for a child that ended or changed.
fn wait_report(
    pid: i32,
    end: Option<ProcessEnd>,
    ev: Option<Event>,
    cpu_ns: u64,
    maxrss: u64,
) -> WaitInfo {
    let (status, code, si_status) = match (end, ev) {
        (Some(ProcessEnd::Exit(c)), _) => ((c & 0xff) << 8, CLD_EXITED, c & 0xff),
        (Some(ProcessEnd::Signal(s)), _) => (s & 0x7f, CLD_KILLED, s),
        (None, Some(Event::Stopped(s))) => ((s << 8) | 0x7f, CLD_STOPPED, s),
        (None, _) => (0xffff, CLD_CONTINUED, SIGCONT),
    };
    let mut rusage = [0i64; 18];
    // All of a guest's time is user time here.
    rusage[0] = (cpu_ns / 1_000_000_000) as i64;
    rusage[1] = (cpu_ns % 1_000_000_000 / 1000) as i64;
    rusage[4] = (maxrss / 1024) as i64;
    WaitInfo {
        pid,
        status,
        code,
        si_status,
        uid: 0,
        rusage,
    }
}

/// The live processes `kill(pid, ...)` from `me` reaches (zombies count
/// as existing, as on Linux, but take no signal).
fn targets(t: &Table, me: i32, pid: i32) -> Vec<(i32, Option<Arc<Proc>>)> {
    let my_pgid = t.procs.get(&me).map_or(me, |e| e.pgid);
    t.procs
        .iter()
        .filter(|(p, e)| match pid {
            -1 => **p != me,
            0 => e.pgid == my_pgid,
            p2 if p2 < 0 => e.pgid == -p2,
            p2 => **p == p2,
        })
        .map(|(p, e)| (*p, e.proc.clone()))
        .collect()
}

/// `kill(pid, sig)` from process `me` (the core handles a process's
/// signals to itself; a group that includes `me` reaches it here too).
pub fn kill(me: i32, pid: i32, sig: i32) -> SysResult<()> {
    send(me, pid, sig, SI_USER, 0)
}

/// The signals queued for the user's processes that count against
/// `RLIMIT_SIGPENDING` (every process's: the machine has one user),
/// `except` left out: each one's own count as its core published it, and
/// the real-time signals sent to it that its core has not taken yet.
/// Linux counts the limit per real user, across processes.
pub fn user_queued(except: Option<i32>) -> u64 {
    user_queued_in(&TABLE.lock(), except)
}

/// How many threads of the live processes but `except` are parked
/// waiting as `wait` says, as their cores published them.
pub fn sem_waiters(wait: SemWait, except: i32) -> u64 {
    TABLE
        .lock()
        .procs
        .values()
        .filter_map(|e| e.proc.as_ref())
        .filter(|p| p.pid != except)
        .flat_map(|p| {
            p.sem_waits
                .lock()
                .iter()
                .filter(|(w, _)| *w == wait)
                .map(|(_, n)| u64::from(*n))
                .collect::<Vec<_>>()
        })
        .sum()
}

/// [`user_queued`] with the table held.
fn user_queued_in(t: &Table, except: Option<i32>) -> u64 {
    t.procs
        .values()
        .filter_map(|e| e.proc.as_ref())
        .filter(|p| Some(p.pid) != except)
        .map(|p| p.queued.load(Ordering::Relaxed) + p.signals.lock().queued_count())
        .sum()
}

/// May a real-time `sig` with `si_code` `code` be queued for `p` under
/// its soft `RLIMIT_SIGPENDING`, `queued` being queued for the user now
/// ([`user_queued`])? As Linux's `__send_signal_locked`: below the limit
/// yes; past it, a `kill`'s (`SI_USER`) is sent without its information
/// (from pid 0, nothing when one is pending already), anything else is
/// refused with `EAGAIN`. `Ok(None)`: nothing to raise.
fn within_limit(p: &Proc, s: HostSignal, queued: u64) -> SysResult<Option<HostSignal>> {
    if s.signo < SIGRTMIN || queued < p.limits.lock()[11].0 {
        return Ok(Some(s));
    }
    if s.code != SI_USER {
        return Err(Errno::EAGAIN);
    }
    if p.signals.lock().is_pending(s.signo) {
        return Ok(None);
    }
    Ok(Some(HostSignal { pid: 0, ..s }))
}

/// Send `sig` with `si_code` `code` and `si_value` `value` from `me` to
/// the processes `pid` names (as `kill`): `kill` (`SI_USER`), `tgkill`
/// of another process (`SI_TKILL`: the process takes it, as its threads
/// share one table here), `sigqueue` (`SI_QUEUE`).
pub fn send(me: i32, pid: i32, sig: i32, code: i32, value: u64) -> SysResult<()> {
    let mut t = TABLE.lock();
    let hit = targets(&t, me, pid);
    let single = pid > 0;
    if hit.is_empty() {
        // The notional init (pid 1, every process's first ancestor)
        // exists, and ignores what it has no handler for, as Linux's.
        if pid == 1 {
            return Ok(());
        }
        return Err(Errno::ESRCH);
    }
    if sig == 0 {
        return Ok(());
    }
    for (tpid, p) in hit {
        let Some(p) = p else { continue };
        let action = p.signals.lock().action(sig);
        let stop = sig == SIGSTOP || (matches!(sig, 20..=22) && action == HostSigAction::Default);
        if stop {
            if !p.stopped.swap(true, Ordering::Relaxed) {
                changed(&mut t, tpid, Event::Stopped(sig));
            }
            continue;
        }
        if sig == SIGCONT || sig == SIGKILL {
            let was = p.stopped.swap(false, Ordering::Relaxed);
            if was && sig == SIGCONT {
                changed(&mut t, tpid, Event::Continued);
            }
        }
        let s = HostSignal {
            signo: sig,
            code,
            pid: me,
            uid: 0,
            status: 0,
            value,
        };
        let queued = if sig >= SIGRTMIN {
            user_queued_in(&t, None)
        } else {
            0
        };
        match within_limit(&p, s, queued) {
            Ok(Some(s)) => p.signals.lock().raise_from(s),
            Ok(None) => {}
            // One process refused: the call's answer (a group's other
            // members got theirs).
            Err(e) if single => {
                drop(t);
                return Err(e);
            }
            Err(_) => {}
        }
    }
    drop(t);
    CHANGES.fetch_add(1, Ordering::Release);
    Ok(())
}

/// Record a stop or continue of `pid` for its parent, and raise its
/// `SIGCHLD` unless the parent set `SA_NOCLDSTOP`.
fn changed(t: &mut Table, pid: i32, ev: Event) {
    let Some(e) = t.procs.get_mut(&pid) else {
        return;
    };
    e.event = Some(ev);
    let ppid = e.ppid;
    if let Some(pp) = t.procs.get(&ppid).and_then(|e| e.proc.clone())
        && !pp.nocldstop.load(Ordering::Relaxed)
    {
        let (code, status) = match ev {
            Event::Stopped(s) => (CLD_STOPPED, s),
            Event::Continued => (CLD_CONTINUED, SIGCONT),
        };
        raise(&pp, SIGCHLD, code, pid, status);
    }
}

/// `setpgid(pid, pgid)` from `me`.
pub fn setpgid(me: i32, pid: i32, pgid: i32) -> SysResult<()> {
    if pgid < 0 {
        return Err(Errno::EINVAL);
    }
    let mut t = TABLE.lock();
    let pid = if pid == 0 { me } else { pid };
    let pgid = if pgid == 0 { pid } else { pgid };
    let my_sid = t.procs.get(&me).map_or(me, |e| e.sid);
    let e = t.procs.get(&pid).ok_or(Errno::ESRCH)?;
    if pid != me && (e.ppid != me || e.proc.is_none()) {
        return Err(Errno::ESRCH);
    }
    if e.sid != my_sid {
        return Err(Errno::EPERM);
    }
    if pid != me && e.execed {
        return Err(Errno::EACCES);
    }
    if e.sid == pid {
        // A session leader keeps its group.
        return Err(Errno::EPERM);
    }
    if pgid != pid
        && !t
            .procs
            .values()
            .any(|o| o.pgid == pgid && o.sid == my_sid && o.proc.is_some())
    {
        return Err(Errno::EPERM);
    }
    t.procs.get_mut(&pid).expect("looked up").pgid = pgid;
    Ok(())
}

/// `getpgid(pid)` / `getsid(pid)` (0: the caller).
pub fn group_of(me: i32, pid: i32, session: bool) -> SysResult<i32> {
    let pid = if pid == 0 { me } else { pid };
    let t = TABLE.lock();
    let e = t.procs.get(&pid).ok_or(Errno::ESRCH)?;
    Ok(if session { e.sid } else { e.pgid })
}

/// `setsid()`: a new session and group led by `me`, unless it already
/// leads a group.
pub fn setsid(me: i32) -> SysResult<i32> {
    let mut t = TABLE.lock();
    if t.procs.values().any(|e| e.pgid == me && e.proc.is_some()) {
        return Err(Errno::EPERM);
    }
    let e = t.procs.get_mut(&me).ok_or(Errno::ESRCH)?;
    e.pgid = me;
    e.sid = me;
    Ok(me)
}

/// Number of live processes (`sysinfo`).
pub fn count() -> usize {
    TABLE
        .lock()
        .procs
        .values()
        .filter(|e| e.proc.is_some())
        .count()
}

/// The process table as `/proc` sees it ([`ProcSource`]).
struct TableView;

impl ProcSource for TableView {
    fn pids(&self) -> Vec<i32> {
        TABLE.lock().procs.keys().copied().collect()
    }

    fn state(&self, pid: i32) -> Option<u8> {
        let t = TABLE.lock();
        Some(match &t.procs.get(&pid)?.proc {
            None => b'Z',
            Some(p) if p.stopped() => b'T',
            Some(_) => b'S',
        })
    }

    fn facts(&self, pid: i32, me: i32) -> Option<ProcFacts> {
        let (mut f, proc) = {
            let t = TABLE.lock();
            let e = t.procs.get(&pid)?;
            let state = match &e.proc {
                None => b'Z',
                Some(_) if pid == me => b'R',
                Some(p) if p.stopped() => b'T',
                Some(_) => b'S',
            };
            let f = ProcFacts {
                ppid: e.ppid,
                pgid: e.pgid,
                sid: e.sid,
                state,
                cpu_ns: e.cpu_ns,
                ..ProcFacts::default()
            };
            (f, e.proc.clone())
        };
        if let Some(p) = proc {
            (f.exe, f.cmdline) = p.image.lock().clone();
            f.cpu_ns = p.cpu_ns();
            f.start_ns = p.start_ns;
            f.threads = p.threads.lock().clone();
            f.names = p.names.lock().clone();
            f.mem = Some(p.memory());
            // The caller's own table is busy (it is what asks); another
            // process's is taken only if free (never waited for here).
            if pid != me
                && let Some(fs) = p.fs.try_lock()
            {
                f.cwd = Some(fs.cwd().to_vec());
                f.umask = Some(fs.current_umask());
                f.fds = Some(fs.fd_links());
            }
        }
        Some(f)
    }

    fn uptime_ns(&self) -> u64 {
        crate::clock::uptime_ns()
    }

    fn memory(&self) -> (u64, u64) {
        crate::memory::usage()
    }

    fn cpus(&self) -> usize {
        1
    }
}
