//! System V message queues: `msgget`, `msgctl` (`IPC_STAT`, `IPC_SET`
//! with the byte limit, `IPC_RMID`, `IPC_INFO`/`MSG_INFO`, `MSG_STAT`),
//! `msgsnd` (waits while the message does not fit: bytes over
//! `msg_qbytes`, or as many messages as that) and `msgrcv` with Linux's
//! type selection (first, first of a type, first of another type with
//! `MSG_EXCEPT`, lowest type up to a bound), `MSG_NOERROR` truncation and
//! `E2BIG`, `MSG_COPY` (by position, with `IPC_NOWAIT`), and `EIDRM` for a
//! waiter whose queue is removed.

use super::{
    Caller, Ipc, IpcEnv, READ, Stat, Table, WRITE, allowed, lookup, new_perm, owner, set_perm,
};
use crate::abi::{
    IPC_INFO, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT, MSG_COPY, MSG_EXCEPT, MSG_INFO, MSG_NOERROR,
    MSG_STAT, MSG_STAT_ANY, MSGMAX, MSGMNB, MSGMNI,
};
use crate::host::{Errno, IpcCtl, IpcStat, SysResult};
use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// One message: its type and text.
#[derive(Debug)]
struct Msg {
    ty: i64,
    text: Vec<u8>,
}

/// A message queue.
#[derive(Debug)]
pub(super) struct Queue {
    msgs: VecDeque<Msg>,
    cbytes: u64,
    qbytes: u64,
    stime: i64,
    rtime: i64,
    ctime: i64,
    lspid: i32,
    lrpid: i32,
}

impl Stat for Queue {
    fn stat(&self, perm: &crate::host::IpcPerm) -> IpcStat {
        IpcStat {
            perm: *perm,
            times: [self.stime, self.rtime, self.ctime],
            counts: [self.cbytes, self.msgs.len() as u64, self.qbytes],
            pids: [self.lspid, self.lrpid],
        }
    }
}

impl Queue {
    /// Does a message of `n` bytes fit now?
    fn fits(&self, n: u64) -> bool {
        n + self.cbytes <= self.qbytes && (self.msgs.len() as u64) < self.qbytes
    }

    /// The position of the message `msgrcv` with `typ` and `flags` takes.
    fn pick(&self, typ: i64, flags: i32) -> Option<usize> {
        if flags & MSG_COPY != 0 {
            return usize::try_from(typ).ok().filter(|&i| i < self.msgs.len());
        }
        if typ == 0 {
            return (!self.msgs.is_empty()).then_some(0);
        }
        if typ > 0 {
            let except = flags & MSG_EXCEPT != 0;
            return self.msgs.iter().position(|m| (m.ty == typ) != except);
        }
        // The lowest type up to |typ|, the first of those.
        let bound = typ.unsigned_abs();
        let mut best: Option<(usize, i64)> = None;
        for (i, m) in self.msgs.iter().enumerate() {
            if (m.ty as u64) <= bound && best.is_none_or(|(_, t)| m.ty < t) {
                best = Some((i, m.ty));
            }
        }
        best.map(|(i, _)| i)
    }
}

/// `struct msginfo` (`IPC_INFO` with the limits; `MSG_INFO` with what is
/// in use).
fn msginfo(table: &Table<Queue>, usage: bool) -> [u8; crate::abi::MSGINFO_SIZE] {
    let mut b = [0u8; crate::abi::MSGINFO_SIZE];
    let (pool, map, tql) = if usage {
        let msgs: usize = table.iter().map(|s| s.obj.msgs.len()).sum();
        let bytes: u64 = table.iter().map(|s| s.obj.cbytes).sum();
        (table.in_use as i32, msgs as i32, bytes as i32)
    } else {
        let pool = (MSGMNI * MSGMNB / 1024) as i32;
        (pool, MSGMNB as i32, MSGMNB as i32)
    };
    let words = [
        pool,
        map,
        MSGMAX as i32,
        MSGMNB as i32,
        MSGMNI as i32,
        16,
        tql,
    ];
    for (i, w) in words.into_iter().enumerate() {
        b[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    b[28..30].copy_from_slice(&0xffffu16.to_le_bytes());
    b
}

impl Ipc {
    pub(super) fn msgget(&self, who: &Caller, now: i64, key: i32, flags: i32) -> SysResult<i32> {
        let mut s = self.sysv.lock();
        if let Some(id) = lookup(&s.msg, who, key, flags, |_| Ok(()))? {
            return Ok(id);
        }
        let q = Queue {
            msgs: VecDeque::new(),
            cbytes: 0,
            qbytes: MSGMNB as u64,
            stime: 0,
            rtime: 0,
            ctime: now,
            lspid: 0,
            lrpid: 0,
        };
        s.msg.insert(new_perm(who, key, flags), q)
    }

    pub(super) fn msgctl(
        &self,
        env: &dyn IpcEnv,
        id: i32,
        cmd: i32,
        arg: IpcCtl<'_>,
    ) -> SysResult<i64> {
        let who = env.caller();
        let mut s = self.sysv.lock();
        match (cmd, arg) {
            (IPC_INFO | MSG_INFO, IpcCtl::Info(b)) => {
                let info = msginfo(&s.msg, cmd == MSG_INFO);
                Ok(s.msg.info(b, &info))
            }
            (IPC_STAT | MSG_STAT | MSG_STAT_ANY, IpcCtl::Stat(st)) => {
                s.msg.stat(&who, id, cmd, MSG_STAT_ANY, st)
            }
            (IPC_SET, IpcCtl::Set(new)) => {
                let slot = s.msg.get_mut(id)?;
                owner(&who, &slot.perm)?;
                if new.counts[2] > MSGMNB as u64 && who.uid != 0 {
                    return Err(Errno::EPERM);
                }
                set_perm(&mut slot.perm, &new.perm);
                slot.obj.qbytes = new.counts[2];
                slot.obj.ctime = env.realtime().sec;
                Ok(0)
            }
            (IPC_RMID, _) => {
                owner(&who, &s.msg.get(id)?.perm)?;
                s.msg.remove(id);
                Ok(0)
            }
            _ => Err(Errno::EINVAL),
        }
    }

    /// `msgsnd(id, msg, msg.len() - 8, flags)`: `msg` is the type (8
    /// bytes) and the text.
    pub fn msgsnd(&self, env: &dyn IpcEnv, id: i32, msg: &[u8], flags: i32) -> SysResult<()> {
        let who = env.caller();
        let (ty, text) = msg.split_at_checked(8).ok_or(Errno::EINVAL)?;
        let ty = i64::from_le_bytes(ty.try_into().map_err(|_| Errno::EINVAL)?);
        if text.len() > MSGMAX || id < 0 {
            return Err(Errno::EINVAL);
        }
        if ty < 1 {
            return Err(Errno::EINVAL);
        }
        // Linux copies the message in before it looks the queue up.
        env.readable(msg)?;
        let mut waited = false;
        loop {
            let seen = self.seen();
            {
                let mut s = self.sysv.lock();
                let slot = s.msg.get_after_wait(id, waited)?;
                allowed(&who, &slot.perm, WRITE)?;
                let q = &mut slot.obj;
                if q.fits(text.len() as u64) {
                    q.msgs.push_back(Msg {
                        ty,
                        text: text.to_vec(),
                    });
                    q.cbytes += text.len() as u64;
                    q.lspid = who.pid;
                    q.stime = env.realtime().sec;
                    drop(s);
                    self.changed();
                    return Ok(());
                }
                if flags & IPC_NOWAIT != 0 {
                    return Err(Errno::EAGAIN);
                }
            }
            self.wait(env, None, seen)?;
            waited = true;
        }
    }

    /// `msgrcv(id, buf, buf.len() - 8, typ, flags)` into a `struct
    /// msgbuf`: the text's length.
    pub fn msgrcv(
        &self,
        env: &dyn IpcEnv,
        id: i32,
        buf: &mut [u8],
        typ: i64,
        flags: i32,
    ) -> SysResult<usize> {
        let who = env.caller();
        if id < 0 || buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        if flags & MSG_COPY != 0 && (flags & MSG_EXCEPT != 0 || flags & IPC_NOWAIT == 0) {
            return Err(Errno::EINVAL);
        }
        let room = buf.len() - 8;
        let mut waited = false;
        loop {
            let seen = self.seen();
            {
                let mut s = self.sysv.lock();
                let slot = s.msg.get_after_wait(id, waited)?;
                allowed(&who, &slot.perm, READ)?;
                let q = &mut slot.obj;
                if let Some(i) = q.pick(typ, flags) {
                    let len = q.msgs[i].text.len();
                    if len > room && flags & MSG_NOERROR == 0 {
                        return Err(Errno::E2BIG);
                    }
                    let n = len.min(room);
                    buf[..8].copy_from_slice(&q.msgs[i].ty.to_le_bytes());
                    buf[8..8 + n].copy_from_slice(&q.msgs[i].text[..n]);
                    if flags & MSG_COPY == 0 {
                        q.msgs.remove(i);
                        q.cbytes -= len as u64;
                        q.lrpid = who.pid;
                        q.rtime = env.realtime().sec;
                        drop(s);
                        self.changed();
                    }
                    return Ok(n);
                }
                if flags & IPC_NOWAIT != 0 {
                    return Err(Errno::ENOMSG);
                }
            }
            self.wait(env, None, seen)?;
            waited = true;
        }
    }
}
