//! System V semaphore sets: `semget`, `semctl` (`GETVAL`, `SETVAL`,
//! `GETALL`, `SETALL`, `GETPID`, `GETNCNT`, `GETZCNT`, `IPC_STAT`,
//! `IPC_SET`, `IPC_RMID`, `IPC_INFO`/`SEM_INFO`, `SEM_STAT`) and
//! `semop`/`semtimedop`: all the operations of a call or none, at once
//! (a call that would block changes nothing and waits for a change,
//! counted in `GETNCNT`/`GETZCNT` of the semaphore it waits on), `ERANGE`
//! past `SEMVMX`, and `SEM_UNDO` adjustments per process and set, applied
//! when the process ends ([`Ipc::exit`]) and cleared by `SETVAL`/`SETALL`
//! as Linux clears them.

use super::{
    Caller, Ipc, IpcEnv, READ, Stat, Table, WRITE, allowed, deadline_after, lookup, new_perm,
    owner, set_perm,
};
use crate::abi::{
    GETALL, GETNCNT, GETPID, GETVAL, GETZCNT, IPC_INFO, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT,
    SEM_INFO, SEM_STAT, SEM_STAT_ANY, SEM_UNDO, SEMAEM, SEMMNI, SEMMSL, SEMOPM, SEMVMX, SETALL,
    SETVAL,
};
use crate::host::{Errno, IpcCtl, IpcStat, SemBuf, SysResult, Timespec};
use alloc::vec;
use alloc::vec::Vec;

/// One semaphore: its value, the last process to change it, and how
/// many wait for it to grow (`ncnt`) or to be zero (`zcnt`).
#[derive(Clone, Copy, Debug, Default)]
struct Sem {
    val: i32,
    pid: i32,
    ncnt: u32,
    zcnt: u32,
}

/// A semaphore set.
#[derive(Debug)]
pub(super) struct Set {
    sems: Vec<Sem>,
    otime: i64,
    ctime: i64,
}

impl Stat for Set {
    fn stat(&self, perm: &crate::host::IpcPerm) -> IpcStat {
        IpcStat {
            perm: *perm,
            times: [self.otime, 0, self.ctime],
            counts: [self.sems.len() as u64, 0, 0],
            pids: [0; 2],
        }
    }
}

/// Why a `semop` cannot go on now: the semaphore it waits on, and
/// whether for zero.
struct Blocked {
    num: usize,
    zero: bool,
}

/// `struct seminfo` (`IPC_INFO`: the limits; `SEM_INFO`: also the sets
/// and semaphores in use).
fn seminfo(table: &Table<Set>, usage: bool) -> [u8; crate::abi::SEMINFO_SIZE] {
    let semmns = (SEMMNI * SEMMSL) as i32;
    let (usz, aem) = if usage {
        let sems: usize = table.iter().map(|s| s.obj.sems.len()).sum();
        (table.in_use as i32, sems as i32)
    } else {
        (20, SEMAEM)
    };
    let words = [
        semmns,
        SEMMNI as i32,
        semmns,
        semmns,
        SEMMSL as i32,
        SEMOPM as i32,
        SEMOPM as i32,
        usz,
        SEMVMX,
        aem,
    ];
    let mut b = [0u8; crate::abi::SEMINFO_SIZE];
    for (i, w) in words.into_iter().enumerate() {
        b[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    b
}

impl Ipc {
    pub(super) fn semget(
        &self,
        who: &Caller,
        now: i64,
        key: i32,
        nsems: u64,
        flags: i32,
    ) -> SysResult<i32> {
        if nsems > SEMMSL as u64 {
            return Err(Errno::EINVAL);
        }
        let mut s = self.sysv.lock();
        let check = |set: &Set| match nsems > set.sems.len() as u64 {
            true => Err(Errno::EINVAL),
            false => Ok(()),
        };
        if let Some(id) = lookup(&s.sem, who, key, flags, check)? {
            return Ok(id);
        }
        if nsems == 0 {
            return Err(Errno::EINVAL);
        }
        let set = Set {
            sems: vec![Sem::default(); nsems as usize],
            otime: 0,
            ctime: now,
        };
        s.sem.insert(new_perm(who, key, flags), set)
    }

    pub(super) fn semctl(
        &self,
        env: &dyn IpcEnv,
        id: i32,
        semnum: i32,
        cmd: i32,
        arg: IpcCtl<'_>,
    ) -> SysResult<i64> {
        let who = env.caller();
        if cmd == SETVAL
            && let IpcCtl::Val(v) = arg
            && !(0..=SEMVMX).contains(&v)
        {
            return Err(Errno::ERANGE);
        }
        let now = env.realtime().sec;
        let mut guard = self.sysv.lock();
        let s = &mut *guard;
        match (cmd, arg) {
            (IPC_INFO | SEM_INFO, IpcCtl::Info(b)) => {
                let info = seminfo(&s.sem, cmd == SEM_INFO);
                Ok(s.sem.info(b, &info))
            }
            (IPC_STAT | SEM_STAT | SEM_STAT_ANY, IpcCtl::Stat(st)) => {
                s.sem.stat(&who, id, cmd, SEM_STAT_ANY, st)
            }
            (IPC_SET, IpcCtl::Set(new)) => {
                let slot = s.sem.get_mut(id)?;
                owner(&who, &slot.perm)?;
                set_perm(&mut slot.perm, &new.perm);
                slot.obj.ctime = now;
                Ok(0)
            }
            (IPC_RMID, _) => {
                owner(&who, &s.sem.get(id)?.perm)?;
                s.sem.remove(id);
                s.undo.retain(|&(_, set), _| set != id);
                Ok(0)
            }
            (GETVAL | GETPID | GETNCNT | GETZCNT, _) => {
                let slot = s.sem.get(id)?;
                allowed(&who, &slot.perm, READ)?;
                let sem = usize::try_from(semnum)
                    .ok()
                    .and_then(|n| slot.obj.sems.get(n))
                    .ok_or(Errno::EINVAL)?;
                Ok(match cmd {
                    GETVAL => sem.val,
                    GETPID => sem.pid,
                    GETNCNT => sem.ncnt as i32,
                    _ => sem.zcnt as i32,
                } as i64)
            }
            (SETVAL, IpcCtl::Val(v)) => {
                let slot = s.sem.get_mut(id)?;
                allowed(&who, &slot.perm, WRITE)?;
                let n = usize::try_from(semnum)
                    .ok()
                    .filter(|&n| n < slot.obj.sems.len())
                    .ok_or(Errno::EINVAL)?;
                slot.obj.sems[n].val = v;
                slot.obj.sems[n].pid = who.pid;
                slot.obj.ctime = now;
                for (_, adj) in s.undo.iter_mut().filter(|((_, set), _)| *set == id) {
                    adj[n] = 0;
                }
                Ok(0)
            }
            (GETALL, IpcCtl::Values(v)) => {
                let slot = s.sem.get(id)?;
                allowed(&who, &slot.perm, READ)?;
                for (out, sem) in v.iter_mut().zip(&slot.obj.sems) {
                    *out = sem.val as u16;
                }
                Ok(0)
            }
            (SETALL, IpcCtl::Values(v)) => {
                let slot = s.sem.get_mut(id)?;
                allowed(&who, &slot.perm, WRITE)?;
                if v.iter().any(|&x| i32::from(x) > SEMVMX) {
                    return Err(Errno::ERANGE);
                }
                for (sem, &x) in slot.obj.sems.iter_mut().zip(v.iter()) {
                    sem.val = x.into();
                    sem.pid = who.pid;
                }
                slot.obj.ctime = now;
                s.undo.retain(|&(_, set), _| set != id);
                Ok(0)
            }
            _ => Err(Errno::EINVAL),
        }
    }

    /// `semtimedop(id, ops, timeout)` (a relative timeout; `None` waits
    /// for good; `EAGAIN` when it passes).
    pub fn semop(
        &self,
        env: &dyn IpcEnv,
        id: i32,
        ops: &[SemBuf],
        timeout: Option<Timespec>,
    ) -> SysResult<()> {
        let who = env.caller();
        if ops.is_empty() {
            return Err(Errno::EINVAL);
        }
        if ops.len() > SEMOPM {
            return Err(Errno::E2BIG);
        }
        let deadline = timeout.map(|t| deadline_after(env, t)).transpose()?;
        if id < 0 {
            return Err(Errno::EINVAL);
        }
        let max = ops.iter().map(|o| o.num as usize).max().unwrap_or(0);
        let alter = ops.iter().any(|o| o.op != 0);
        let mut waited = false;
        loop {
            let seen = self.seen();
            let blocked = {
                let mut guard = self.sysv.lock();
                let s = &mut *guard;
                let slot = s.sem.get_after_wait(id, waited)?;
                if max >= slot.obj.sems.len() {
                    return Err(Errno::EFBIG);
                }
                allowed(&who, &slot.perm, if alter { WRITE } else { READ })?;
                let nsems = slot.obj.sems.len();
                let undo = s.undo.get(&(who.pid, id));
                match try_ops(&slot.obj.sems, undo, ops)? {
                    Ok((vals, adj)) => {
                        for (sem, v) in slot.obj.sems.iter_mut().zip(vals) {
                            sem.val = v;
                        }
                        for o in ops {
                            slot.obj.sems[o.num as usize].pid = who.pid;
                        }
                        slot.obj.otime = env.realtime().sec;
                        if ops.iter().any(|o| o.flg & SEM_UNDO != 0 && o.op != 0) {
                            s.undo.insert((who.pid, id), adj.unwrap_or(vec![0; nsems]));
                        }
                        drop(guard);
                        self.changed();
                        return Ok(());
                    }
                    Err((b, nowait)) => {
                        if nowait {
                            return Err(Errno::EAGAIN);
                        }
                        let sem = &mut slot.obj.sems[b.num];
                        if b.zero {
                            sem.zcnt += 1;
                        } else {
                            sem.ncnt += 1;
                        }
                        b
                    }
                }
            };
            let r = self.wait(env, deadline, seen);
            if let Ok(slot) = self.sysv.lock().sem.get_mut(id)
                && let Some(sem) = slot.obj.sems.get_mut(blocked.num)
            {
                if blocked.zero {
                    sem.zcnt = sem.zcnt.saturating_sub(1);
                } else {
                    sem.ncnt = sem.ncnt.saturating_sub(1);
                }
            }
            waited = true;
            if !r? {
                return Err(Errno::EAGAIN);
            }
        }
    }

    /// Apply and forget the `SEM_UNDO` adjustments of process `pid`.
    pub(super) fn sem_exit(&self, pid: i32) {
        let mut guard = self.sysv.lock();
        let s = &mut *guard;
        let mine: Vec<(i32, Vec<i32>)> = s
            .undo
            .iter()
            .filter(|((p, _), _)| *p == pid)
            .map(|(&(_, id), adj)| (id, adj.clone()))
            .collect();
        s.undo.retain(|&(p, _), _| p != pid);
        for (id, adj) in mine {
            let Ok(slot) = s.sem.get_mut(id) else {
                continue;
            };
            for (sem, a) in slot.obj.sems.iter_mut().zip(adj) {
                if a != 0 {
                    sem.val = (sem.val + a).clamp(0, SEMVMX);
                    sem.pid = pid;
                }
            }
        }
    }
}

/// Which semaphore a `semop` of `ops` waits on when the set's values are
/// `vals` (as `GETALL` gives them): `(num, zero)` of the first operation
/// that cannot go on (`zero`: it waits for zero), where Linux counts the
/// waiter in `GETZCNT` or `GETNCNT`; `None` when the call would not wait
/// (it goes on, or fails).
pub fn waits_on(vals: &[u16], ops: &[SemBuf]) -> Option<(usize, bool)> {
    if ops.iter().any(|o| o.num as usize >= vals.len()) {
        return None;
    }
    let sems: Vec<Sem> = vals
        .iter()
        .map(|&v| Sem {
            val: v.into(),
            ..Sem::default()
        })
        .collect();
    match try_ops(&sems, None, ops) {
        Ok(Err((b, _))) => Some((b.num, b.zero)),
        _ => None,
    }
}

/// The values (and `SEM_UNDO` adjustments, if any op has the flag)
/// after `ops` on `sems`, all or nothing: `Ok(Err((blocked, nowait)))`
/// when one would have to wait (`nowait`: its `IPC_NOWAIT`), `ERANGE`
/// past `SEMVMX` or `SEMAEM`.
#[allow(clippy::type_complexity)]
fn try_ops(
    sems: &[Sem],
    undo: Option<&Vec<i32>>,
    ops: &[SemBuf],
) -> SysResult<Result<(Vec<i32>, Option<Vec<i32>>), (Blocked, bool)>> {
    let mut vals: Vec<i32> = sems.iter().map(|s| s.val).collect();
    let mut adj: Option<Vec<i32>> = undo.cloned();
    for o in ops {
        let n = o.num as usize;
        let v = vals[n];
        let nowait = o.flg & IPC_NOWAIT as i16 != 0;
        if o.op == 0 {
            if v != 0 {
                return Ok(Err((Blocked { num: n, zero: true }, nowait)));
            }
            continue;
        }
        let nv = v + i32::from(o.op);
        if nv < 0 {
            return Ok(Err((
                Blocked {
                    num: n,
                    zero: false,
                },
                nowait,
            )));
        }
        if nv > SEMVMX {
            return Err(Errno::ERANGE);
        }
        if o.flg & SEM_UNDO != 0 {
            let a = adj.get_or_insert_with(|| vec![0; sems.len()]);
            let na = a[n] - i32::from(o.op);
            if !(-SEMAEM - 1..=SEMAEM).contains(&na) {
                return Err(Errno::ERANGE);
            }
            a[n] = na;
        }
        vals[n] = nv;
    }
    Ok(Ok((vals, adj)))
}
