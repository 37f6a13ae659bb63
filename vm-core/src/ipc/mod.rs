//! System V IPC objects (message queues, semaphore sets, shared memory
//! segments) and POSIX message queues, kept by the core itself for a
//! host that is the only kernel there is (the bare-metal unikernel; on
//! Linux the host kernel's objects are used instead, see
//! `syscall/ipc.rs`). One [`Ipc`] is one IPC namespace: the host keeps one
//! for the machine and implements the `HostOs` IPC calls on it.
//!
//! The rules are Linux's: ids are a slot index plus the slot's sequence
//! number (`IPCMNI`), handed out cyclically so that a removed object's id
//! is not soon reused; `IPC_PRIVATE` always makes a new object, a key
//! makes one with `IPC_CREAT` (`EEXIST` with `IPC_EXCL`, `ENOENT`
//! without `IPC_CREAT`); `ipc_perm` holds owner, creator and mode, which
//! are checked as `ipcperms` does (the owner's, the group's or the
//! others' bits; uid 0 may do anything); `IPC_SET` and `IPC_RMID` are the
//! owner's, creator's or root's; the `*_INFO` structures give Linux's
//! default limits ([`crate::abi`]).
//!
//! What the objects need of a kernel the host gives through [`IpcEnv`]:
//! who calls, the clocks, a wait that a signal for the caller ends
//! (`EINTR`), memory for a segment, signals for `mq_notify`, and whether
//! a message the guest sends can be read whole (`EFAULT` for a page gone
//! past its file's end, before anything is queued). A call
//! that must wait takes the namespace's lock only to look: it waits with
//! no lock held, until the namespace's change counter moves (every change
//! that may let a waiter go on bumps it), then looks again. A waiter
//! whose object was removed meanwhile fails with `EIDRM`.
//!
//! The families are one module each: [`msg`], [`sem`], [`shm`] (the
//! table's part; the host maps the memory), [`mq`].

pub mod mq;
pub mod msg;
pub mod sem;
pub mod shm;

use crate::abi::{IPC_CREAT, IPC_EXCL, IPC_PRIVATE, IPCMNI_SHIFT};
use crate::host::{Errno, IpcKind, IpcPerm, IpcStat, SysResult, Timespec};
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

/// Who makes a call: its process and user and group ids (effective).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Caller {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}

impl Caller {
    /// Root may do anything (`CAP_IPC_OWNER`, `CAP_SYS_ADMIN`).
    fn privileged(&self) -> bool {
        self.uid == 0
    }
}

/// What the objects need of the kernel that keeps them.
pub trait IpcEnv {
    /// The calling process.
    fn caller(&self) -> Caller;
    /// `CLOCK_REALTIME` now (the objects' times; `mq_timedsend`'s
    /// deadline).
    fn realtime(&self) -> Timespec;
    /// A monotonic clock, ns (what [`IpcEnv::wait`]'s deadline is on).
    fn now_ns(&self) -> u64;
    /// Wait, holding no lock, until `ready()`, `deadline` (on
    /// [`IpcEnv::now_ns`]'s clock) or a signal for the caller (`EINTR`).
    /// `Ok(true)` when `ready()` ended it.
    fn wait(&self, deadline: Option<u64>, ready: &mut dyn FnMut() -> bool) -> SysResult<bool>;
    /// Memory for a new shared memory segment of `size` bytes, zeroed: a
    /// handle the host attaches it by.
    fn shm_create(&self, size: u64) -> SysResult<u64>;
    /// The segment with memory `handle` is gone (its attachments keep
    /// what they map).
    fn shm_destroy(&self, handle: u64);
    /// Raise signal `signo` in process `pid` from `sender`, with `si_code`
    /// `SI_MESGQ` and `si_value` `value` (an `mq_notify` registration).
    fn mq_signal(&self, pid: i32, signo: i32, value: u64, sender: Caller);
    /// `EFAULT` when the caller's memory `msg` (a message `msgsnd` or
    /// `mq_timedsend` queues, straight from the guest) cannot be read
    /// whole: a page gone past its file's end, which the kernel's copy
    /// of the message (`load_msg`) fails on before anything is queued.
    /// Default: readable (a host whose guest memory cannot go).
    fn readable(&self, msg: &[u8]) -> SysResult<()> {
        let _ = msg;
        Ok(())
    }
}

/// Where a `SIGEV_THREAD` notice goes (the netlink socket the
/// registration named): the 32-byte cookie, its last byte saying why.
pub trait NoticeSink: core::fmt::Debug + Send + Sync {
    fn deliver(&self, cookie: &[u8]);
}

/// What `IPC_STAT` and its neighbours tell of an object of a family.
trait Stat {
    fn stat(&self, perm: &IpcPerm) -> IpcStat;
}

/// One object in a table, with its permissions (whose `seq` is part of
/// its id).
#[derive(Debug)]
struct Slot<T> {
    perm: IpcPerm,
    obj: T,
}

/// The objects of one family by slot index, ids made as Linux makes them.
#[derive(Debug)]
struct Table<T> {
    slots: Vec<Option<Slot<T>>>,
    /// The sequence number new objects get; bumped when the cyclic index
    /// wraps.
    seq: u16,
    /// The index given last (`-1`: none yet).
    last: i64,
    in_use: usize,
    /// Most objects at once (`MSGMNI`...).
    mni: usize,
}

impl<T> Table<T> {
    const fn new(mni: usize) -> Self {
        Table {
            slots: Vec::new(),
            seq: 0,
            last: -1,
            in_use: 0,
            mni,
        }
    }

    fn index(id: i32) -> usize {
        (id as u32 & ((1 << IPCMNI_SHIFT) - 1)) as usize
    }

    fn id_of(index: usize, seq: u16) -> i32 {
        ((seq as i32) << IPCMNI_SHIFT) | index as i32
    }

    /// The object `id` names (`EINVAL` when none: removed, or another
    /// sequence number).
    fn get(&self, id: i32) -> SysResult<&Slot<T>> {
        if id < 0 {
            return Err(Errno::EINVAL);
        }
        match self.slots.get(Self::index(id)) {
            Some(Some(s)) if Self::id_of(Self::index(id), s.perm.seq) == id => Ok(s),
            _ => Err(Errno::EINVAL),
        }
    }

    fn get_mut(&mut self, id: i32) -> SysResult<&mut Slot<T>> {
        self.get(id)?;
        match self.slots.get_mut(Self::index(id)) {
            Some(Some(s)) => Ok(s),
            _ => Err(Errno::EINVAL),
        }
    }

    /// [`Table::get_mut`] for a call that sleeps and looks again: once it
    /// has `waited`, a missing object was removed while it slept
    /// (`EIDRM`, as Linux answers the waiters of a removed object).
    fn get_after_wait(&mut self, id: i32, waited: bool) -> SysResult<&mut Slot<T>> {
        self.get_mut(id)
            .map_err(|e| if waited { Errno::EIDRM } else { e })
    }

    /// The object at slot `index` and its id (`*_STAT`).
    fn at(&self, index: i32) -> SysResult<(i32, &Slot<T>)> {
        match usize::try_from(index).ok().and_then(|i| self.slots.get(i)) {
            Some(Some(s)) => Ok((Self::id_of(index as usize, s.perm.seq), s)),
            _ => Err(Errno::EINVAL),
        }
    }

    /// `*_INFO` into `b` (as much of `info` as fits): what the call
    /// answers, the highest index in use.
    fn info(&self, b: &mut [u8], info: &[u8]) -> i64 {
        let n = b.len().min(info.len());
        b[..n].copy_from_slice(&info[..n]);
        self.max_index().max(0) as i64
    }

    /// `IPC_STAT` of object `id`, or `cmd`'s `*_STAT` (and `any`,
    /// `*_STAT_ANY`, which needs no read permission) of slot index `id`,
    /// into `st`: what the call answers (0, or the object's id).
    fn stat(&self, who: &Caller, id: i32, cmd: i32, any: i32, st: &mut IpcStat) -> SysResult<i64>
    where
        T: Stat,
    {
        let (r, slot) = match cmd {
            crate::abi::IPC_STAT => (0, self.get(id)?),
            _ => self.at(id)?,
        };
        if cmd != any {
            allowed(who, &slot.perm, READ)?;
        }
        *st = slot.obj.stat(&slot.perm);
        Ok(r as i64)
    }

    /// The id of the object with `key`, if any (never `IPC_PRIVATE`).
    fn find(&self, key: i32) -> Option<i32> {
        self.slots.iter().enumerate().find_map(|(i, s)| match s {
            Some(s) if s.perm.key == key => Some(Self::id_of(i, s.perm.seq)),
            _ => None,
        })
    }

    /// The highest index in use, `-1` for none (what `*_INFO` answers).
    fn max_index(&self) -> i32 {
        self.slots
            .iter()
            .rposition(Option::is_some)
            .map_or(-1, |i| i as i32)
    }

    /// Put a new object in the next free slot (cyclically, below
    /// `max(in_use * 3 / 2, 64)`, as `idr_alloc_cyclic`): its id.
    fn insert(&mut self, mut perm: IpcPerm, obj: T) -> SysResult<i32> {
        if self.in_use >= self.mni {
            return Err(Errno::ENOSPC);
        }
        let max = (self.in_use * 3 / 2).max(64).min(self.mni);
        let free =
            |i: usize, slots: &Vec<Option<Slot<T>>>| slots.get(i).is_none_or(Option::is_none);
        let start = (self.last + 1) as usize;
        let index = (start..max)
            .chain(0..start.min(max))
            .find(|&i| free(i, &self.slots))
            .ok_or(Errno::ENOSPC)?;
        if index as i64 <= self.last {
            self.seq = self.seq.wrapping_add(1);
        }
        self.last = index as i64;
        perm.seq = self.seq;
        if self.slots.len() <= index {
            self.slots.resize_with(index + 1, || None);
        }
        self.slots[index] = Some(Slot { perm, obj });
        self.in_use += 1;
        Ok(Self::id_of(index, perm.seq))
    }

    fn remove(&mut self, id: i32) -> Option<T> {
        self.get(id).ok()?;
        let s = self.slots[Self::index(id)].take()?;
        self.in_use -= 1;
        Some(s.obj)
    }

    fn iter(&self) -> impl Iterator<Item = &Slot<T>> {
        self.slots.iter().flatten()
    }
}

/// May `who` have the access `flag` asks (`0o444` read, `0o222` write,
/// or a `*get` call's mode bits) to an object with `perm`? (`ipcperms`.)
fn allowed(who: &Caller, perm: &IpcPerm, flag: i32) -> SysResult<()> {
    let flag = flag as u32;
    let requested = (flag >> 6) | (flag >> 3) | flag;
    let mut granted = perm.mode;
    if who.uid == perm.cuid || who.uid == perm.uid {
        granted >>= 6;
    } else if who.gid == perm.cgid || who.gid == perm.gid {
        granted >>= 3;
    }
    if requested & !granted & 0o7 != 0 && !who.privileged() {
        return Err(Errno::EACCES);
    }
    Ok(())
}

/// Read access (`S_IRUGO`).
const READ: i32 = 0o444;
/// Write (alter) access (`S_IWUGO`).
const WRITE: i32 = 0o222;

/// May `who` change or remove an object with `perm` (`IPC_SET`,
/// `IPC_RMID`)? Its owner, creator or root; else `EPERM`.
fn owner(who: &Caller, perm: &IpcPerm) -> SysResult<()> {
    if who.uid == perm.uid || who.uid == perm.cuid || who.privileged() {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

/// `IPC_SET`'s change of owner and mode (the permission bits only).
fn set_perm(perm: &mut IpcPerm, new: &IpcPerm) {
    perm.uid = new.uid;
    perm.gid = new.gid;
    perm.mode = (perm.mode & !0o777) | (new.mode & 0o777);
}

/// A new object's permissions: `key`, the caller as owner and creator,
/// the mode bits of `flags`.
fn new_perm(who: &Caller, key: i32, flags: i32) -> IpcPerm {
    IpcPerm {
        key,
        uid: who.uid,
        gid: who.gid,
        cuid: who.uid,
        cgid: who.gid,
        mode: flags as u32 & 0o777,
        seq: 0,
    }
}

/// What `*get` does with a key (`ipcget`): the id of the object to use,
/// or `None` when a new one is to be made. `check` is the family's check
/// of an existing object (`EINVAL` for a set too small...).
fn lookup<T>(
    table: &Table<T>,
    who: &Caller,
    key: i32,
    flags: i32,
    check: impl FnOnce(&T) -> SysResult<()>,
) -> SysResult<Option<i32>> {
    if key == IPC_PRIVATE {
        return Ok(None);
    }
    match table.find(key) {
        None if flags & IPC_CREAT == 0 => Err(Errno::ENOENT),
        None => Ok(None),
        Some(_) if flags & IPC_CREAT != 0 && flags & IPC_EXCL != 0 => Err(Errno::EEXIST),
        Some(id) => {
            let s = table.get(id)?;
            check(&s.obj)?;
            allowed(who, &s.perm, flags)?;
            Ok(Some(id))
        }
    }
}

/// The System V objects of a namespace.
#[derive(Debug)]
struct Sysv {
    msg: Table<msg::Queue>,
    sem: Table<sem::Set>,
    shm: Table<shm::Segment>,
    /// `SEM_UNDO` adjustments by (process, set id): one per semaphore.
    undo: BTreeMap<(i32, i32), Vec<i32>>,
}

impl Sysv {
    const fn new() -> Self {
        Sysv {
            msg: Table::new(crate::abi::MSGMNI),
            sem: Table::new(crate::abi::SEMMNI),
            shm: Table::new(crate::abi::SHMMNI),
            undo: BTreeMap::new(),
        }
    }
}

/// One IPC namespace: the System V tables and the POSIX message queues
/// by name.
#[derive(Debug)]
pub struct Ipc {
    sysv: spin::Mutex<Sysv>,
    queues: spin::Mutex<BTreeMap<alloc::vec::Vec<u8>, Arc<mq::MqQueue>>>,
    /// Every POSIX message queue made, named or not, while anything holds
    /// it (a name or a descriptor): what `RLIMIT_MSGQUEUE` counts.
    live_queues: spin::Mutex<alloc::vec::Vec<alloc::sync::Weak<mq::MqQueue>>>,
    /// Bumped by every change a waiter may be waiting for.
    changes: AtomicU64,
}

impl Default for Ipc {
    fn default() -> Self {
        Self::new()
    }
}

impl Ipc {
    pub const fn new() -> Ipc {
        Ipc {
            sysv: spin::Mutex::new(Sysv::new()),
            queues: spin::Mutex::new(BTreeMap::new()),
            live_queues: spin::Mutex::new(alloc::vec::Vec::new()),
            changes: AtomicU64::new(0),
        }
    }

    /// Forget every object (a new machine: the next job of a batch
    /// boot). The segments' memory goes back to `env`.
    pub fn reset(&self, env: &dyn IpcEnv) {
        let old = core::mem::replace(&mut *self.sysv.lock(), Sysv::new());
        for s in old.shm.iter() {
            env.shm_destroy(s.obj.handle);
        }
        self.queues.lock().clear();
        self.live_queues.lock().clear();
        self.changed();
    }

    fn changed(&self) {
        self.changes.fetch_add(1, Ordering::AcqRel);
    }

    fn seen(&self) -> u64 {
        self.changes.load(Ordering::Acquire)
    }

    /// Wait for a change after `seen` (see the module documentation):
    /// `Ok(false)` once `deadline` passed.
    fn wait(&self, env: &dyn IpcEnv, deadline: Option<u64>, seen: u64) -> SysResult<bool> {
        env.wait(deadline, &mut || self.seen() != seen)
    }

    /// `msgget`, `semget`, `shmget` (`arg`: semaphores, bytes).
    pub fn get(
        &self,
        env: &dyn IpcEnv,
        kind: IpcKind,
        key: i32,
        arg: u64,
        flags: i32,
    ) -> SysResult<i32> {
        let who = env.caller();
        let now = env.realtime().sec;
        match kind {
            IpcKind::Msg => self.msgget(&who, now, key, flags),
            IpcKind::Sem => self.semget(&who, now, key, arg, flags),
            IpcKind::Shm => self.shmget(env, &who, now, key, arg, flags),
        }
    }

    /// `msgctl`, `semctl`, `shmctl`.
    pub fn ctl(
        &self,
        env: &dyn IpcEnv,
        kind: IpcKind,
        id: i32,
        semnum: i32,
        cmd: i32,
        arg: crate::host::IpcCtl<'_>,
    ) -> SysResult<i64> {
        let r = match kind {
            IpcKind::Msg => self.msgctl(env, id, cmd, arg),
            IpcKind::Sem => self.semctl(env, id, semnum, cmd, arg),
            IpcKind::Shm => self.shmctl(env, id, cmd, arg),
        };
        self.changed();
        r
    }

    /// Process `pid` ended: its `SEM_UNDO` adjustments are applied.
    pub fn exit(&self, pid: i32) {
        self.sem_exit(pid);
        self.changed();
    }
}

/// A relative timeout as a deadline on `env`'s monotonic clock
/// (`EINVAL` for a bad one).
fn deadline_after(env: &dyn IpcEnv, t: Timespec) -> SysResult<u64> {
    if t.sec < 0 || !(0..1_000_000_000).contains(&t.nsec) {
        return Err(Errno::EINVAL);
    }
    let ns = (t.sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(t.nsec as u64);
    Ok(env.now_ns().saturating_add(ns))
}

/// An absolute `CLOCK_REALTIME` deadline as one on `env`'s monotonic
/// clock (`EINVAL` for a bad one; a past one is now).
fn deadline_at(env: &dyn IpcEnv, t: Timespec) -> SysResult<u64> {
    if t.sec < 0 || !(0..1_000_000_000).contains(&t.nsec) {
        return Err(Errno::EINVAL);
    }
    let now = env.realtime();
    let ns = |t: Timespec| (t.sec as i128) * 1_000_000_000 + t.nsec as i128;
    let left = (ns(t) - ns(now)).max(0);
    Ok(env
        .now_ns()
        .saturating_add(left.min(u64::MAX as i128) as u64))
}

#[cfg(test)]
mod tests;
