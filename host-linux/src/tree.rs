//! What one guest process tree shares: a System V shared memory segment
//! holding, for its limits (`--max-*`, `--timeout`, `--sandbox`), the
//! core's [`TreeCounters`] and the tree's deadline; one slot per live
//! process (its pid), which `--max-processes` counts and the sandbox's
//! `kill` check asks; a table of threads (below); and the channel through
//! which its processes ask each other for their `/proc` files
//! ([`Channel`], used by `peer`). Every tree has one (a tree without
//! limits goes on without it if it cannot be made).
//!
//! The outermost pvm creates the segment ([`create`]); `fork` and `vfork`
//! children share its mapping; a pvm that a guest's `execve` starts is
//! told its id (`--limit-tree ID`, see `proc`) and attaches it again
//! ([`join`]). System V memory is used because it needs no descriptor:
//! the guest, whose descriptors are the host's, cannot see, close or
//! write it (the core emulates none of the `shm*` calls). Each pvm frees
//! its slot when it ends ([`leave`]); the last one removes the segment.
//! A process that dies without leaving (SIGKILL) keeps its slot until a
//! `fork` that finds the table full checks which pids are gone; a segment
//! whose last process was killed so is removed by the next outermost pvm
//! that starts ([`collect_stale`]).
//!
//! Each pvm of a tree with limits runs a watchdog thread
//! ([`start_watchdog`]) that ends it at the deadline (`--timeout`) or
//! shortly after another process of the tree hit a limit, even while its
//! guest is blocked in a system call; a running guest notices sooner, in
//! the core's run loop.
//!
//! Each slot also carries its process's `RLIMIT_SIGPENDING` state: the
//! signals queued for it and its guest's POSIX timers, one entry each
//! (as it publishes them, plus those the tree's other processes sent it
//! and it has not taken yet), its real user and
//! its guest's soft limit, so that a real-time signal is refused with
//! `EAGAIN` as Linux refuses it, counting the user's signals across the
//! tree's processes against the receiver's limit ([`reserve_signal`]).
//!
//! Not counted: the signals queued for the user's processes outside the
//! tree (a host program the guest ran, any other process of the user on
//! the machine), which Linux counts. The host's own count for the user
//! (`SigQ:` of `/proc/<pid>/status`) is no substitute: besides those it
//! holds one entry for every POSIX timer of every process of the user,
//! pvm's own wake-up timers among them (`crate::wakeup`, one per process
//! whose guest uses timers), and the tree's signals in flight (sent, not
//! taken yet, which the tree counts already); so its outside part cannot
//! be told apart without each pvm publishing its host timers. And the
//! answer would then depend on what else runs as the user on the
//! machine (a `timeout` command holds a timer: an entry), so a test of
//! it would need a user namespace of its own (`unshare -U -r`, where the
//! count starts at zero) for pvm and its oracle alike.
//!
//! The segment also has a table of threads the host's procfs shows
//! wrongly ([`thread_named`], [`threads_of`]): the guest threads that
//! have no host thread of their own (`--threads one`), with their names,
//! and the watchdog and the `peer` server, host threads that are no
//! guest threads ([`serves`] tells whether a process has its server). Another process of the tree reads it for its
//! `/proc/<pid>/task` (`vm_core::syscall::tasks`). A full table leaves a
//! thread out of that view, nothing more.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;
use vm_core::host::{Errno, SysResult};
use vm_core::limits::{Limit, Message, TreeCounters};

/// Process slots, the most `--max-processes` can be.
pub const SLOTS: usize = 4096;
/// A slot taken by a `fork` in progress (the child's pid is not known yet).
const RESERVED: i32 = -1;
/// Thread records: guest threads without a host thread, and helpers.
pub const THREAD_SLOTS: usize = 4096;
/// A record's kind: a guest thread without a host thread of its own.
const EXTRA: u32 = 1;
/// A record's kind: a host thread that is no guest thread.
const HIDDEN: u32 = 2;
/// A record's kind: the thread that answers other processes' requests
/// for this one's `/proc` files (`peer`); a host thread that is no guest
/// thread, like [`HIDDEN`].
const SERVER: u32 = 3;
/// Words of the request channel's buffer ([`vm_core::syscall::peer::MAX_REPLY`] bytes).
pub const CHANNEL_WORDS: usize = vm_core::syscall::peer::MAX_REPLY / 8;

/// The tree's one request channel for other processes' `/proc` files
/// (`peer` says how it is used). Every field is an atomic: the processes
/// of the tree share it.
#[repr(C)]
pub struct Channel {
    /// The pid of the process whose request is in the channel, 0 when
    /// it is free.
    pub owner: AtomicI32,
    /// The process asked.
    pub to: AtomicI32,
    /// The futex word: a request's sequence number shifted left by two,
    /// plus its phase (`peer`).
    pub state: AtomicU32,
    /// The request (`PeerAsk::code`).
    pub ask: AtomicU32,
    pub addr: AtomicU64,
    pub len: AtomicU64,
    /// The answer's length in bytes, or minus its errno.
    pub result: AtomicI64,
    /// The request's data, then the answer, little-endian in words.
    pub buf: [AtomicU64; CHANNEL_WORDS],
}

/// One thread record. Written by its process only: `pid` claims it,
/// then the kind and name are stored and `tid` last; freeing clears
/// `tid` first. A reader takes a record whose `tid` is set.
#[repr(C)]
struct ThreadSlot {
    pid: AtomicI32,
    tid: AtomicI32,
    kind: AtomicU32,
    _pad: AtomicU32,
    name: [AtomicU64; 2],
}

#[repr(C)]
struct Shared {
    counters: TreeCounters,
    /// `CLOCK_MONOTONIC` nanoseconds (the same clock in every process), 0
    /// for none.
    deadline_ns: AtomicU64,
    /// `--timeout` in milliseconds, for the message.
    timeout_ms: AtomicU64,
    /// `--max-processes`, 0 for none.
    max_processes: AtomicU32,
    /// 1 when the tree has limits (and so watchdogs).
    limited: AtomicU32,
    slots: [AtomicI32; SLOTS],
    /// Per slot, its process's signals that count against
    /// `RLIMIT_SIGPENDING`, in one word so that a signal moves from one
    /// count to the other without a moment where it counts nowhere (or
    /// twice): in the high half as it last published them
    /// ([`publish_queued`]), in the low half those sent to it by the
    /// tree's other processes and not taken yet ([`reserve_signal`],
    /// [`signal_taken`]).
    queued: [AtomicU64; SLOTS],
    /// Per slot, its process's real user id.
    uids: [AtomicU32; SLOTS],
    /// Per slot, its guest's soft `RLIMIT_SIGPENDING` plus one (0: the
    /// host's), kept here and not on the host ([`sigpending_limit`]).
    sigpending: [AtomicU64; SLOTS],
    /// Per slot, the System V semaphore waits its threads are parked in
    /// (threads taking turns on one host thread; [`publish_sem_waits`]),
    /// one word each ([`sem_wait_word`]), 0 for none.
    sem_waits: [[AtomicU64; SEM_WAITS]; SLOTS],
    threads: [ThreadSlot; THREAD_SLOTS],
    channel: Channel,
}

struct Tree {
    shared: &'static Shared,
    id: i32,
}

static TREE: OnceLock<Tree> = OnceLock::new();
/// The program name for the watchdog's message.
static PROGRAM: OnceLock<Vec<u8>> = OnceLock::new();

/// The limits the tree starts with.
#[derive(Clone, Copy, Debug, Default)]
pub struct Config {
    pub max_processes: Option<u32>,
    pub timeout: Option<Duration>,
    /// Limits of any kind (`--max-*`, `--timeout`, `--sandbox`): each
    /// process runs a watchdog.
    pub limited: bool,
}

fn now_ns() -> u64 {
    // SAFETY: `t` is written by the call.
    let mut t: libc::timespec = unsafe { std::mem::zeroed() };
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

fn attach(id: i32) -> Result<&'static Shared, String> {
    // SAFETY: attaches a segment at an address the kernel picks; it stays
    // mapped for the life of the process (never detached), so the
    // reference is 'static. Its size was checked by `shmget` (the
    // creator's) or below.
    let p = unsafe { libc::shmat(id, std::ptr::null(), 0) };
    if p as isize == -1 {
        return Err(format!(
            "cannot attach the limit state of the process tree (id {id}): {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: IPC_STAT fills one shmid_ds.
    let mut ds: libc::shmid_ds = unsafe { std::mem::zeroed() };
    if unsafe { libc::shmctl(id, libc::IPC_STAT, &mut ds) } != 0
        || ds.shm_segsz < std::mem::size_of::<Shared>()
    {
        return Err(format!(
            "the limit state of the process tree (id {id}) is not pvm's"
        ));
    }
    // SAFETY: the segment is at least `Shared`'s size, page aligned,
    // zero-filled at creation and only ever changed through atomics.
    Ok(unsafe { &*(p as *const Shared) })
}

/// Remove what trees whose last process was killed (SIGKILL) left: this
/// user's private segments of exactly pvm's size that no process has
/// attached and whose creator is gone.
fn collect_stale(size: usize) {
    let Ok(table) = std::fs::read_to_string("/proc/sysvipc/shm") else {
        return;
    };
    // SAFETY: no memory is involved.
    let uid = unsafe { libc::getuid() };
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        // key shmid perms size cpid lpid nattch uid gid cuid ...
        let num = |i: usize| f.get(i).and_then(|v| v.parse::<i64>().ok());
        let (Some(key), Some(id), Some(sz), Some(cpid), Some(nattch), Some(cuid)) =
            (num(0), num(1), num(3), num(4), num(6), num(9))
        else {
            continue;
        };
        if key == 0 && sz == size as i64 && nattch == 0 && cuid == uid as i64 && !alive(cpid as i32)
        {
            // SAFETY: marks an orphaned segment for removal.
            unsafe { libc::shmctl(id as i32, libc::IPC_RMID, std::ptr::null_mut()) };
        }
    }
}

/// Create the tree's state (the outermost pvm): returns its id.
pub fn create(cfg: Config) -> Result<i32, String> {
    let size = std::mem::size_of::<Shared>();
    collect_stale(size);
    // SAFETY: no memory is involved.
    let id = unsafe { libc::shmget(libc::IPC_PRIVATE, size, libc::IPC_CREAT | 0o600) };
    if id < 0 {
        return Err(format!(
            "cannot create the limit state of the process tree: {}",
            std::io::Error::last_os_error()
        ));
    }
    let shared = attach(id)?;
    if let Some(t) = cfg.timeout {
        shared.deadline_ns.store(
            now_ns().saturating_add(t.as_nanos() as u64),
            Ordering::Relaxed,
        );
        shared
            .timeout_ms
            .store(t.as_millis() as u64, Ordering::Relaxed);
    }
    shared.max_processes.store(
        cfg.max_processes.unwrap_or(0).min(SLOTS as u32),
        Ordering::Relaxed,
    );
    shared
        .limited
        .store(u32::from(cfg.limited), Ordering::Relaxed);
    for fd in [1, 2] {
        // SAFETY: `st` is written by the call.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(fd, &mut st) } == 0 {
            shared
                .counters
                .set_output(fd as usize - 1, st.st_dev, st.st_ino);
        }
    }
    // SAFETY: no memory is involved.
    shared.slots[0].store(unsafe { libc::getpid() }, Ordering::Relaxed);
    let _ = TREE.set(Tree { shared, id });
    Ok(id)
}

/// Join the tree whose state is segment `id` (a pvm a guest's `execve`
/// started: its slot, under the same pid, is in the table already).
pub fn join(id: i32) -> Result<(), String> {
    let shared = attach(id)?;
    // The threads of the program this process ran before are gone.
    drop_threads(shared, std::process::id() as i32);
    let _ = TREE.set(Tree { shared, id });
    Ok(())
}

/// The segment id, for a pvm started by `execve`.
pub fn id() -> Option<i32> {
    TREE.get().map(|t| t.id)
}

/// The core's counters, shared by the tree.
/// (`None` for a tree without limits, made for its thread table alone.)
pub fn counters() -> Option<&'static TreeCounters> {
    TREE.get()
        .filter(|t| t.shared.limited.load(Ordering::Relaxed) != 0)
        .map(|t| &t.shared.counters)
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks.
    unsafe { libc::kill(pid, 0) == 0 || *libc::__errno_location() != libc::ESRCH }
}

/// Free the slots of processes that are gone.
fn sweep(s: &Shared) {
    for slot in &s.slots {
        let pid = slot.load(Ordering::Acquire);
        if pid > 0 && !alive(pid) {
            let _ = slot.compare_exchange(pid, 0, Ordering::AcqRel, Ordering::Relaxed);
        }
    }
    for t in &s.threads {
        let pid = t.pid.load(Ordering::Acquire);
        if pid > 0 && !alive(pid) {
            free_thread(t, pid);
        }
    }
}

fn free_thread(t: &ThreadSlot, pid: i32) {
    t.tid.store(0, Ordering::Release);
    let _ = t
        .pid
        .compare_exchange(pid, 0, Ordering::AcqRel, Ordering::Relaxed);
}

/// Free every thread record of process `pid`.
fn drop_threads(s: &Shared, pid: i32) {
    for t in &s.threads {
        if t.pid.load(Ordering::Acquire) == pid {
            free_thread(t, pid);
        }
    }
}

/// Record (or rename) thread `tid` of this process, of `kind`.
fn put_thread(tid: i32, kind: u32, name: &[u8]) {
    let Some(t) = TREE.get() else {
        return;
    };
    let me = std::process::id() as i32;
    let slots = &t.shared.threads;
    let slot = slots
        .iter()
        .find(|x| x.pid.load(Ordering::Acquire) == me && x.tid.load(Ordering::Acquire) == tid)
        .or_else(|| {
            slots.iter().find(|x| {
                x.pid
                    .compare_exchange(0, me, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
            })
        });
    let Some(x) = slot else {
        return;
    };
    let mut n = [0u8; 16];
    let len = name.len().min(15);
    n[..len].copy_from_slice(&name[..len]);
    x.kind.store(kind, Ordering::Relaxed);
    for (i, w) in x.name.iter().enumerate() {
        w.store(
            u64::from_le_bytes(n[i * 8..i * 8 + 8].try_into().unwrap()),
            Ordering::Relaxed,
        );
    }
    x.tid.store(tid, Ordering::Release);
}

/// Guest thread `tid` of this process, which has no host thread of its
/// own, is named `name` (its start, or `PR_SET_NAME`).
pub fn thread_named(tid: i32, name: &[u8]) {
    put_thread(tid, EXTRA, name);
}

/// Thread `tid` of this process ended: its record goes.
pub fn thread_ended(tid: i32) {
    let Some(t) = TREE.get() else {
        return;
    };
    let me = std::process::id() as i32;
    for x in &t.shared.threads {
        if x.pid.load(Ordering::Acquire) == me && x.tid.load(Ordering::Acquire) == tid {
            free_thread(x, me);
        }
    }
}

/// This thread (`tid`) answers other processes' requests (`peer`).
pub fn server_started(tid: i32) {
    put_thread(tid, SERVER, b"pvm-procfs");
}

/// Does process `pid` of the tree have a thread that answers requests?
pub fn serves(pid: i32) -> bool {
    TREE.get().is_some_and(|t| {
        t.shared.threads.iter().any(|x| {
            x.pid.load(Ordering::Acquire) == pid
                && x.tid.load(Ordering::Acquire) != 0
                && x.kind.load(Ordering::Relaxed) == SERVER
        })
    })
}

/// The tree's request channel, if there is a tree.
pub fn channel() -> Option<&'static Channel> {
    TREE.get().map(|t| &t.shared.channel)
}

/// Is process `pid` alive (or at least not gone)?
pub fn is_alive(pid: i32) -> bool {
    alive(pid)
}

/// Is there a thread table to read?
pub fn has_threads() -> bool {
    TREE.get().is_some()
}

/// The records of process `pid`: `None` when it has none.
pub fn threads_of(pid: i32) -> Option<vm_core::host::TreeThreads> {
    let t = TREE.get()?;
    if !is_member(pid) {
        return None;
    }
    let mut out = vm_core::host::TreeThreads::default();
    for x in &t.shared.threads {
        let tid = x.tid.load(Ordering::Acquire);
        if tid == 0 || x.pid.load(Ordering::Acquire) != pid {
            continue;
        }
        match x.kind.load(Ordering::Relaxed) {
            EXTRA => {
                let mut n = [0u8; 16];
                for (i, w) in x.name.iter().enumerate() {
                    n[i * 8..i * 8 + 8].copy_from_slice(&w.load(Ordering::Relaxed).to_le_bytes());
                }
                n[15] = 0;
                out.extra.push((tid, n));
            }
            HIDDEN | SERVER => out.hidden.push(tid),
            _ => {}
        }
    }
    (!out.extra.is_empty() || !out.hidden.is_empty()).then_some(out)
}

fn used(s: &Shared) -> usize {
    s.slots
        .iter()
        .filter(|x| x.load(Ordering::Acquire) != 0)
        .count()
}

/// Before a `fork`: take a slot for the child, or `EAGAIN` when the tree
/// has `--max-processes` processes (as `RLIMIT_NPROC` answers). `None`:
/// nothing to count.
pub fn reserve_child() -> SysResult<Option<usize>> {
    let Some(t) = TREE.get() else {
        return Ok(None);
    };
    let s = t.shared;
    let max = s.max_processes.load(Ordering::Relaxed) as usize;
    let mut taken = None;
    for pass in 0..2 {
        taken = s.slots.iter().position(|x| {
            x.compare_exchange(0, RESERVED, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        });
        if let Some(i) = taken {
            // A forked child starts with no signal pending, and with
            // this process's limit.
            clear_queued(s, i);
            let mine = own_slot().map_or(0, |(s, me)| s.sigpending[me].load(Ordering::Relaxed));
            s.sigpending[i].store(mine, Ordering::Relaxed);
        }
        if taken.is_some() {
            break;
        }
        if pass == 0 {
            sweep(s);
        }
    }
    let Some(i) = taken else {
        return if max == 0 {
            Ok(None)
        } else {
            Err(Errno::EAGAIN)
        };
    };
    if max != 0 && used(s) > max {
        sweep(s);
        if used(s) > max {
            s.slots[i].store(0, Ordering::Release);
            return Err(Errno::EAGAIN);
        }
    }
    Ok(Some(i))
}

/// After the `fork` of a [`reserve_child`]: record the child's pid (in
/// the parent and in the child, whichever comes first), or free the slot
/// if there is no child.
pub fn child_forked(slot: Option<usize>, pid: Option<i32>) {
    let (Some(t), Some(i)) = (TREE.get(), slot) else {
        return;
    };
    let new = pid.unwrap_or(0);
    let _ = t.shared.slots[i].compare_exchange(RESERVED, new, Ordering::AcqRel, Ordering::Relaxed);
}

/// Is `pid` a process of this tree?
pub fn is_member(pid: i32) -> bool {
    pid > 0
        && TREE.get().is_some_and(|t| {
            t.shared
                .slots
                .iter()
                .any(|x| x.load(Ordering::Acquire) == pid)
        })
}

/// This pvm process ends: free its slot; the last one removes the state.
pub fn leave() {
    let Some(t) = TREE.get() else {
        return;
    };
    // SAFETY: no memory is involved.
    let me = unsafe { libc::getpid() };
    for slot in &t.shared.slots {
        let _ = slot.compare_exchange(me, 0, Ordering::AcqRel, Ordering::Relaxed);
    }
    drop_threads(t.shared, me);
    sweep(t.shared);
    if used(t.shared) == 0 {
        // SAFETY: marks the segment for removal once detached everywhere.
        unsafe { libc::shmctl(t.id, libc::IPC_RMID, std::ptr::null_mut()) };
    }
}

/// Before `execve` of a host program: it is not pvm and will not leave
/// the tree, so this process's slot is freed now (the last one out
/// removes the state). Returns whether there was one, for [`rejoin`].
pub fn release_for_native_exec() -> bool {
    let present = is_member(std::process::id() as i32);
    if present {
        leave();
    }
    present
}

/// After a failed `execve` of a host program: take the slot back.
pub fn rejoin() {
    if let Some(t) = TREE.get() {
        let me = std::process::id() as i32;
        if let Some(i) = t.shared.slots.iter().position(|x| {
            x.compare_exchange(0, me, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        }) {
            clear_queued(t.shared, i);
        }
    }
}

fn clear_queued(s: &Shared, i: usize) {
    s.queued[i].store(0, Ordering::Relaxed);
    for w in &s.sem_waits[i] {
        w.store(0, Ordering::Relaxed);
    }
}

/// How many distinct semaphore waits a process publishes (more are left
/// out: another process's `GETNCNT`/`GETZCNT` does not see them).
const SEM_WAITS: usize = 4;
/// The count's bits in a [`Shared::sem_waits`] word.
const SEM_COUNT: u64 = 0x7fff;

/// A [`Shared::sem_waits`] word: set id, semaphore number, the kind of
/// wait, and `n` threads (at most [`SEM_COUNT`]; 0 makes the key).
fn sem_wait_word(w: vm_core::process::SemWait, n: u32) -> u64 {
    (w.id as u32 as u64) << 32
        | (w.num as u64 & 0xffff) << 16
        | u64::from(w.zero) << 15
        | u64::from(n).min(SEM_COUNT)
}

/// Publish the semaphore waits this process's threads are parked in,
/// for the tree's other processes' `GETNCNT`/`GETZCNT`.
pub fn publish_sem_waits(waits: &[(vm_core::process::SemWait, u32)]) {
    if let Some((s, i)) = own_slot() {
        for (k, w) in s.sem_waits[i].iter().enumerate() {
            let word = waits.get(k).map_or(0, |&(x, n)| sem_wait_word(x, n));
            w.store(word, Ordering::Relaxed);
        }
    }
}

/// How many threads of the tree's other live processes are parked
/// waiting as `wait` says, as they published them.
pub fn others_sem_waiters(wait: vm_core::process::SemWait) -> u64 {
    let Some((s, me)) = own_slot() else {
        return 0;
    };
    let key = sem_wait_word(wait, 0);
    let mut total = 0;
    for i in (0..SLOTS).filter(|&i| i != me) {
        let n: u64 = s.sem_waits[i]
            .iter()
            .map(|w| w.load(Ordering::Relaxed))
            .filter(|&w| w != 0 && w & !SEM_COUNT == key)
            .map(|w| w & SEM_COUNT)
            .sum();
        // A process killed while its threads waited never took its
        // words back.
        let pid = s.slots[i].load(Ordering::Acquire);
        if n > 0 && pid > 0 && alive(pid) {
            total += n;
        }
    }
    total
}

/// The low half of a [`Shared::queued`] word: signals in flight to it.
const IN_FLIGHT: u64 = 0xffff_ffff;
/// One published signal in a [`Shared::queued`] word.
const PUBLISHED: u64 = 1 << 32;

/// The signals a [`Shared::queued`] word counts.
fn queued_count(w: u64) -> u64 {
    (w >> 32) + (w & IN_FLIGHT)
}

/// Take one signal off the in-flight half of slot `i`'s word (if any is
/// there), adding `then` to the word.
fn land_in_flight(s: &Shared, i: usize, then: u64) {
    let _ = s.queued[i].try_update(Ordering::AcqRel, Ordering::Acquire, |w| {
        (w & IN_FLIGHT != 0).then(|| {
            let w = w - 1;
            if w >> 32 == IN_FLIGHT { w } else { w + then }
        })
    });
}

/// The slot of process `pid`.
fn slot_of(s: &Shared, pid: i32) -> Option<usize> {
    if pid <= 0 {
        return None;
    }
    s.slots
        .iter()
        .position(|x| x.load(Ordering::Acquire) == pid)
}

/// The slot [`own_slot`] found last: pid (high half) and index.
static OWN: AtomicU64 = AtomicU64::new(0);

/// This process's slot, and the tree.
fn own_slot() -> Option<(&'static Shared, usize)> {
    let t = TREE.get()?;
    // SAFETY: no memory is involved.
    let me = unsafe { libc::getpid() };
    let seen = OWN.load(Ordering::Relaxed);
    let i = (seen & 0xffff_ffff) as usize;
    if seen >> 32 == me as u64 && i < SLOTS && t.shared.slots[i].load(Ordering::Acquire) == me {
        return Some((t.shared, i));
    }
    let i = slot_of(t.shared, me)?;
    OWN.store((me as u64) << 32 | i as u64, Ordering::Relaxed);
    Some((t.shared, i))
}

/// The real user id of process `pid` (its procfs `Uid:` line).
fn real_uid(pid: i32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The signals queued for the tree's processes of real user `uid`
/// (`except`'s slot left out), as Linux counts `RLIMIT_SIGPENDING` for a
/// user.
fn user_queued(s: &Shared, uid: u32, except: Option<usize>) -> u64 {
    (0..SLOTS)
        .filter(|&i| Some(i) != except && s.slots[i].load(Ordering::Acquire) > 0)
        .filter(|&i| s.uids[i].load(Ordering::Relaxed) == uid)
        .map(|i| queued_count(s.queued[i].load(Ordering::Acquire)))
        .sum()
}

/// Publish how many signals this process has queued (the core's count),
/// for the other processes' `RLIMIT_SIGPENDING` count.
pub fn publish_queued(n: usize) {
    if let Some((s, i)) = own_slot() {
        // SAFETY: no memory is involved.
        s.uids[i].store(unsafe { libc::getuid() }, Ordering::Relaxed);
        let n = (n as u64).min(IN_FLIGHT);
        let _ = s.queued[i].try_update(Ordering::AcqRel, Ordering::Acquire, |w| {
            Some(n << 32 | (w & IN_FLIGHT))
        });
    }
}

/// The signals queued for the tree's other processes of this one's real
/// user (Linux's `RLIMIT_SIGPENDING` counts a user's, in all processes).
pub fn others_queued() -> u64 {
    let Some((s, i)) = own_slot() else {
        return 0;
    };
    // SAFETY: no memory is involved.
    user_queued(s, unsafe { libc::getuid() }, Some(i))
}

/// Before this process queues a real-time signal for process `pid` of
/// the tree (`sigqueue`, `tgkill`): `EAGAIN` when the signals queued for
/// `pid`'s real user have reached `pid`'s `RLIMIT_SIGPENDING`, as Linux
/// refuses it (`__send_signal_locked`); else it counts as queued for
/// `pid` until `pid` takes it ([`signal_taken`]), and the slot to give
/// back to [`unreserve_signal`] if it was not sent after all. `None`: not
/// a process of the tree (the host kernel alone decides).
fn reserve_signal(pid: i32) -> SysResult<Option<usize>> {
    let Some(t) = TREE.get() else {
        return Ok(None);
    };
    let s = t.shared;
    let (Some(i), Some(uid)) = (slot_of(s, pid), real_uid(pid)) else {
        return Ok(None);
    };
    let limit = match s.sigpending[i].load(Ordering::Relaxed) {
        0 => host_soft_sigpending(pid)?,
        n => n - 1,
    };
    s.uids[i].store(uid, Ordering::Relaxed);
    if user_queued(s, uid, None) >= limit {
        return Err(Errno::EAGAIN);
    }
    s.queued[i].fetch_add(1, Ordering::AcqRel);
    Ok(Some(i))
}

/// The host's soft `RLIMIT_SIGPENDING` of process `pid`.
fn host_soft_sigpending(pid: i32) -> SysResult<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is written by the call; no new limit is passed.
    if unsafe { libc::prlimit(pid, libc::RLIMIT_SIGPENDING, std::ptr::null(), &mut lim) } != 0 {
        // SAFETY: errno is this thread's.
        return Err(Errno(unsafe { *libc::__errno_location() }));
    }
    Ok(lim.rlim_cur)
}

/// Has this process a slot in a tree?
pub fn in_tree() -> bool {
    own_slot().is_some()
}

/// This guest's soft `RLIMIT_SIGPENDING`, if it set one (kept in its
/// slot, so that a `fork`'s child and an `execve`'s new pvm keep it, and
/// the tree's other processes read it).
pub fn sigpending_limit() -> Option<u64> {
    let (s, i) = own_slot()?;
    match s.sigpending[i].load(Ordering::Relaxed) {
        0 => None,
        n => Some(n - 1),
    }
}

/// Keep `soft` as this guest's soft `RLIMIT_SIGPENDING`; `false`
/// without a tree to keep it in.
pub fn set_sigpending_limit(soft: u64) -> bool {
    let Some((s, i)) = own_slot() else {
        return false;
    };
    s.sigpending[i].store(soft.saturating_add(1), Ordering::Relaxed);
    true
}

/// Send a signal to process `pid` with `send`; `counted`: a real-time
/// signal that counts against `pid`'s `RLIMIT_SIGPENDING` from now
/// ([`reserve_signal`]: `EAGAIN` past it), given back if `send` fails.
pub fn send_counted(
    pid: i32,
    counted: bool,
    send: impl FnOnce() -> SysResult<()>,
) -> SysResult<()> {
    let slot = if counted { reserve_signal(pid)? } else { None };
    let r = send();
    if r.is_err() {
        unreserve_signal(slot);
    }
    r
}

/// A [`reserve_signal`] whose signal was not sent.
fn unreserve_signal(slot: Option<usize>) {
    if let (Some(t), Some(i)) = (TREE.get(), slot) {
        land_in_flight(t.shared, i, 0);
    }
}

/// This process took a real-time signal another process of the tree
/// queued for it ([`reserve_signal`]): it now counts as published, in
/// one step, until this process publishes its count with the signal
/// queued in the core (the next [`publish_queued`]). Counting it nowhere
/// in between let another process queue one signal past the limit.
pub fn signal_taken() {
    if let Some((s, i)) = own_slot() {
        land_in_flight(s, i, PUBLISHED);
    }
}

/// The exit status of a limit the tree hit, if one did.
pub fn hit_status() -> Option<i32> {
    counters().and_then(|c| c.hit()).map(Limit::exit_status)
}

/// Start this process's watchdog thread (once per process: again in a
/// forked child, which has only the forking thread).
pub fn start_watchdog(program: Option<&[u8]>) {
    let Some(t) = TREE.get() else {
        return;
    };
    if let Some(p) = program {
        let _ = PROGRAM.set(p.to_vec());
    }
    let s = t.shared;
    if s.limited.load(Ordering::Relaxed) == 0 {
        return;
    }
    let _ = std::thread::Builder::new()
        .name("pvm-watchdog".into())
        .stack_size(64 << 10)
        .spawn(move || {
            // No guest thread: other processes' /proc leave it out.
            // SAFETY: cannot fail.
            put_thread(unsafe { libc::gettid() }, HIDDEN, b"pvm-watchdog");
            // Host signals are for the guest's threads.
            crate::signals::helper_thread();
            let mut seen = 0;
            loop {
                std::thread::sleep(Duration::from_millis(20));
                let deadline = s.deadline_ns.load(Ordering::Relaxed);
                if deadline != 0 && now_ns() >= deadline && s.counters.set_hit(Limit::Timeout) {
                    let m = Message {
                        program: PROGRAM.get().map_or(&b"guest"[..], |p| &p[..]),
                        limit: Limit::Timeout,
                        value: s.timeout_ms.load(Ordering::Relaxed).div_ceil(1000),
                    };
                    eprintln!("{m}");
                }
                // Another process (or thread) hit a limit: its run loop
                // ends it at once if running; give it a moment to report,
                // then end this process whatever its guest is doing.
                match s.counters.hit() {
                    Some(l) => {
                        seen += 1;
                        if seen >= 3 {
                            leave();
                            // SAFETY: ends the process.
                            unsafe { libc::_exit(l.exit_status()) }
                        }
                    }
                    None => seen = 0,
                }
            }
        });
}
