//! System V shared memory segments, the table's part: `shmget` (memory
//! from the host, [`super::IpcEnv::shm_create`]), `shmctl` (`IPC_STAT`,
//! `IPC_SET`, `IPC_RMID`, `SHM_LOCK`/`SHM_UNLOCK`, `IPC_INFO`,
//! `SHM_INFO`, `SHM_STAT`), and the count of attachments, which the host
//! reports as it maps and unmaps ([`Ipc::shm_attach`], a fork's copy
//! [`Ipc::shm_inherited`], [`Ipc::shm_detach`]). A segment removed while
//! attached is marked `SHM_DEST`, gets key `IPC_PRIVATE`, and goes (its
//! memory back to the host) with its last attachment, as on Linux.

use super::{
    Caller, Ipc, IpcEnv, READ, Stat, Table, WRITE, allowed, lookup, new_perm, owner, set_perm,
};
use crate::abi::{
    IPC_INFO, IPC_PRIVATE, IPC_RMID, IPC_SET, IPC_STAT, SHM_DEST, SHM_INFO, SHM_INFO_SIZE,
    SHM_LOCK, SHM_LOCKED, SHM_STAT, SHM_STAT_ANY, SHM_UNLOCK, SHMALL, SHMINFO64_SIZE, SHMMAX,
    SHMMIN, SHMMNI,
};
use crate::host::{Errno, IpcCtl, IpcStat, SysResult};
use crate::memory::{PAGE_SIZE, page_up};

/// A shared memory segment.
#[derive(Debug)]
pub(super) struct Segment {
    size: u64,
    /// The host's memory object.
    pub(super) handle: u64,
    nattch: u64,
    atime: i64,
    dtime: i64,
    ctime: i64,
    cpid: i32,
    lpid: i32,
}

impl Stat for Segment {
    fn stat(&self, perm: &crate::host::IpcPerm) -> IpcStat {
        IpcStat {
            perm: *perm,
            times: [self.atime, self.dtime, self.ctime],
            counts: [self.size, self.nattch, 0],
            pids: [self.cpid, self.lpid],
        }
    }
}

fn put_words(b: &mut [u8], at: usize, words: &[u64]) {
    for (i, w) in words.iter().enumerate() {
        let o = at + 8 * i;
        if let Some(d) = b.get_mut(o..o + 8) {
            d.copy_from_slice(&w.to_le_bytes());
        }
    }
}

/// Pages of all segments.
fn pages(table: &Table<Segment>) -> u64 {
    table.iter().map(|s| page_up(s.obj.size) / PAGE_SIZE).sum()
}

impl Ipc {
    pub(super) fn shmget(
        &self,
        env: &dyn IpcEnv,
        who: &Caller,
        now: i64,
        key: i32,
        size: u64,
        flags: i32,
    ) -> SysResult<i32> {
        let mut s = self.sysv.lock();
        let check = |seg: &Segment| match size > seg.size {
            true => Err(Errno::EINVAL),
            false => Ok(()),
        };
        if let Some(id) = lookup(&s.shm, who, key, flags, check)? {
            return Ok(id);
        }
        if !(SHMMIN..=SHMMAX).contains(&size) {
            return Err(Errno::EINVAL);
        }
        let npages = page_up(size) / PAGE_SIZE;
        if pages(&s.shm).saturating_add(npages) > SHMALL {
            return Err(Errno::ENOSPC);
        }
        if s.shm.in_use >= SHMMNI {
            return Err(Errno::ENOSPC);
        }
        let handle = env.shm_create(size)?;
        let seg = Segment {
            size,
            handle,
            nattch: 0,
            atime: 0,
            dtime: 0,
            ctime: now,
            cpid: who.pid,
            lpid: 0,
        };
        s.shm
            .insert(new_perm(who, key, flags), seg)
            .inspect_err(|_| {
                env.shm_destroy(handle);
            })
    }

    pub(super) fn shmctl(
        &self,
        env: &dyn IpcEnv,
        id: i32,
        cmd: i32,
        arg: IpcCtl<'_>,
    ) -> SysResult<i64> {
        let who = env.caller();
        let now = env.realtime().sec;
        let mut s = self.sysv.lock();
        match (cmd, arg) {
            (IPC_INFO, IpcCtl::Info(b)) => {
                let mut info = [0u8; SHMINFO64_SIZE];
                put_words(
                    &mut info,
                    0,
                    &[SHMMAX, SHMMIN, SHMMNI as u64, SHMMNI as u64, SHMALL],
                );
                Ok(s.shm.info(b, &info))
            }
            (SHM_INFO, IpcCtl::Info(b)) => {
                let mut info = [0u8; SHM_INFO_SIZE];
                info[..4].copy_from_slice(&(s.shm.in_use as i32).to_le_bytes());
                let tot = pages(&s.shm);
                put_words(&mut info, 8, &[tot, tot, 0, 0, 0]);
                Ok(s.shm.info(b, &info))
            }
            (IPC_STAT | SHM_STAT | SHM_STAT_ANY, IpcCtl::Stat(st)) => {
                s.shm.stat(&who, id, cmd, SHM_STAT_ANY, st)
            }
            (IPC_SET, IpcCtl::Set(new)) => {
                let slot = s.shm.get_mut(id)?;
                owner(&who, &slot.perm)?;
                set_perm(&mut slot.perm, &new.perm);
                slot.obj.ctime = now;
                Ok(0)
            }
            (IPC_RMID, _) => {
                let slot = s.shm.get_mut(id)?;
                owner(&who, &slot.perm)?;
                if slot.obj.nattch == 0 {
                    let handle = slot.obj.handle;
                    s.shm.remove(id);
                    env.shm_destroy(handle);
                } else {
                    slot.perm.mode |= SHM_DEST;
                    slot.perm.key = IPC_PRIVATE;
                }
                Ok(0)
            }
            (SHM_LOCK | SHM_UNLOCK, _) => {
                let slot = s.shm.get_mut(id)?;
                owner(&who, &slot.perm)?;
                if cmd == SHM_LOCK {
                    slot.perm.mode |= SHM_LOCKED;
                } else {
                    slot.perm.mode &= !SHM_LOCKED;
                }
                Ok(0)
            }
            _ => Err(Errno::EINVAL),
        }
    }

    /// `shmat` of segment `id` (read-only or not) by the caller: the
    /// memory handle and the segment's size; one more attachment.
    pub fn shm_attach(&self, env: &dyn IpcEnv, id: i32, readonly: bool) -> SysResult<(u64, u64)> {
        let who = env.caller();
        let mut s = self.sysv.lock();
        let slot = s.shm.get_mut(id)?;
        allowed(&who, &slot.perm, if readonly { READ } else { READ | WRITE })?;
        slot.obj.nattch += 1;
        slot.obj.atime = env.realtime().sec;
        slot.obj.lpid = who.pid;
        Ok((slot.obj.handle, slot.obj.size))
    }

    /// A fork by `parent` copied an attachment of segment `id`.
    pub fn shm_inherited(&self, env: &dyn IpcEnv, id: i32, parent: i32) {
        if let Ok(slot) = self.sysv.lock().shm.get_mut(id) {
            slot.obj.nattch += 1;
            slot.obj.atime = env.realtime().sec;
            slot.obj.lpid = parent;
        }
    }

    /// Process `pid` no longer has an attachment of segment `id` (`shmdt`,
    /// an unmap, `execve`, exit): the segment goes with its last
    /// attachment once removed.
    pub fn shm_detach(&self, env: &dyn IpcEnv, id: i32, pid: i32) {
        let mut s = self.sysv.lock();
        let Ok(slot) = s.shm.get_mut(id) else {
            return;
        };
        slot.obj.nattch = slot.obj.nattch.saturating_sub(1);
        slot.obj.dtime = env.realtime().sec;
        slot.obj.lpid = pid;
        if slot.obj.nattch == 0 && slot.perm.mode & SHM_DEST != 0 {
            let handle = slot.obj.handle;
            s.shm.remove(id);
            env.shm_destroy(handle);
        }
    }
}
