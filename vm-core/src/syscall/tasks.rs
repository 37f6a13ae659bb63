//! `/proc/<pid>/task` of a process whose guest threads take turns on one
//! host thread (`--threads one`, a debugger attached: [`HostOs::threads`]
//! false). The host's procfs knows only its own thread there, so:
//!
//! * a listing of the process's `task/` directory gets a record for each
//!   live guest thread the host's records miss ([`add_threads`]), as
//!   Linux lists every thread;
//! * a path through `task/<tid>/` of a guest thread the host has no
//!   directory for is looked up in the host thread's (`task/<pid>/`),
//!   which holds what the guest threads share (`fd/`, `cwd`, `root`,
//!   `limits`...) ([`rename`]); the files the core generates per thread
//!   (`comm`, `stat`, `status`...) are opened as that thread's
//!   (`procfs::open_lexical`).
//!
//! A host whose procfs lists the guest's threads itself (the bare-metal
//! host) has those directories, so nothing changes there.

use super::{Ctx, nr, procfs};
use crate::abi::AT_FDCWD;
use crate::host::HostOs;
use alloc::format;
use alloc::vec::Vec;

/// Might this host miss guest threads in its `/proc/<pid>/task`?
pub(super) fn needed(host: &dyn HostOs) -> bool {
    !host.threads()
}

/// Is `tid` a live guest thread of this process?
fn is_guest_thread(cx: &Ctx<'_>, tid: i32) -> bool {
    tid == cx.t.tid || cx.p.thread(tid).is_some()
}

/// The guest path `p` (an argument of call `n`) as the host is to look it
/// up: `/proc/<pid>/task/<tid>/...` of a guest thread the host has no
/// directory for becomes `/proc/<pid>/task/<pid>/...`.
pub(super) fn rename(cx: &Ctx<'_>, n: u64, p: Vec<u8>) -> Vec<u8> {
    let host = cx.p.host;
    if !needed(host) || !p.starts_with(b"/proc") {
        return p;
    }
    let Some(c) = procfs::lexical(cx, AT_FDCWD, &p) else {
        return p;
    };
    let pid = host.ids().pid;
    let base = format!("/proc/{pid}/task/");
    let Some(rest) = c.strip_prefix(base.as_bytes()) else {
        return p;
    };
    let end = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
    let Some(tid) = core::str::from_utf8(&rest[..end])
        .ok()
        .and_then(|t| t.parse::<i32>().ok())
    else {
        return p;
    };
    if tid == pid || !is_guest_thread(cx, tid) {
        return p;
    }
    // A file generated for that thread is opened as its own.
    if matches!(n, nr::OPENAT | nr::OPENAT2) && procfs::generated(host.ids().pid, &c) {
        return p;
    }
    if host.fstatat(AT_FDCWD, &c[..base.len() + end], 0).is_ok() {
        return p;
    }
    let mut v = format!("{base}{pid}").into_bytes();
    v.extend_from_slice(&rest[end..]);
    v
}

/// `DT_DIR`, the type of a thread's directory entry.
const DT_DIR: u8 = 4;

/// After `getdents64` on `fd` filled `buf[..n]` (the room is `buf.len()`):
/// when `fd` is this process's `task/` directory and the records hold the
/// host thread's (`<pid>`), a record for each live guest thread they miss
/// follows it. The new length.
pub(super) fn add_threads(cx: &Ctx<'_>, fd: i32, buf: &mut [u8], n: usize) -> usize {
    let host = cx.p.host;
    if !needed(host) || n == 0 {
        return n;
    }
    let pid = host.ids().pid;
    let mut link = [0u8; 256];
    let Ok(len) = host.readlinkat(
        AT_FDCWD,
        format!("/proc/self/fd/{fd}").as_bytes(),
        &mut link,
    ) else {
        return n;
    };
    if link[..len.min(link.len())] != *format!("/proc/{pid}/task").as_bytes() {
        return n;
    }
    // The records: (offset, length, name).
    let mut recs = Vec::new();
    let mut at = 0;
    while at + 19 <= n {
        let reclen = u16::from_le_bytes([buf[at + 16], buf[at + 17]]) as usize;
        if reclen < 19 || at + reclen > n {
            return n;
        }
        let name = &buf[at + 19..at + reclen];
        let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
        recs.push((
            at,
            reclen,
            core::str::from_utf8(name)
                .ok()
                .and_then(|s| s.parse::<i32>().ok()),
        ));
        at += reclen;
    }
    let Some(&(lead, lead_len, _)) = recs.iter().find(|r| r.2 == Some(pid)) else {
        return n;
    };
    let listed: Vec<i32> = recs.iter().filter_map(|r| r.2).collect();
    let mut tids: Vec<i32> =
        cx.p.other_threads(i32::MIN)
            .iter()
            .map(|t| t.tid)
            .chain(core::iter::once(cx.t.tid))
            .filter(|t| !listed.contains(t))
            .collect();
    tids.sort_unstable();
    tids.dedup();
    // New records after the leader's, with its inode and offset.
    let ino = &buf[lead..lead + 8].to_vec();
    let off = &buf[lead + 8..lead + 16].to_vec();
    let mut extra = Vec::new();
    for t in tids {
        let name = format!("{t}");
        let reclen = (19 + name.len() + 1).next_multiple_of(8);
        if n + extra.len() + reclen > buf.len() {
            break;
        }
        let mut r = alloc::vec![0u8; reclen];
        r[..8].copy_from_slice(ino);
        r[8..16].copy_from_slice(off);
        r[16..18].copy_from_slice(&(reclen as u16).to_le_bytes());
        r[18] = DT_DIR;
        r[19..19 + name.len()].copy_from_slice(name.as_bytes());
        extra.extend_from_slice(&r);
    }
    if extra.is_empty() {
        return n;
    }
    let split = lead + lead_len;
    buf.copy_within(split..n, split + extra.len());
    buf[split..split + extra.len()].copy_from_slice(&extra);
    n + extra.len()
}
