//! `/proc/<pid>/task` of a process whose guest threads take turns on one
//! host thread (`--threads one`, a debugger attached: [`HostOs::threads`]
//! false). The host's procfs knows only its own thread there, so:
//!
//! * a listing of the process's `task/` directory gets a record for each
//!   live guest thread the host's records miss ([`fix_listing`]), as
//!   Linux lists every thread (and, with a host thread per guest thread,
//!   loses a host thread still on its way out after its guest thread
//!   ended and was joined);
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
/// host thread's (`<pid>`), the records are the guest's threads: a host
/// thread that is no live guest thread (one whose guest thread has ended
/// but which is still on its way out) is left out, and a record for each
/// live guest thread the host misses follows `<pid>`'s. The new length.
pub(super) fn fix_listing(cx: &Ctx<'_>, fd: i32, buf: &mut [u8], n: usize) -> usize {
    let host = cx.p.host;
    let pid = host.ids().pid;
    // The records: (offset, length, the name as a number).
    let mut recs = Vec::new();
    let mut at = 0;
    while at + 19 <= n {
        let reclen = u16::from_le_bytes([buf[at + 16], buf[at + 17]]) as usize;
        if reclen < 19 || at + reclen > n {
            return n;
        }
        let name = &buf[at + 19..at + reclen];
        let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
        let num = core::str::from_utf8(name)
            .ok()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<i32>().ok());
        recs.push((at, reclen, num));
        at += reclen;
    }
    // Cheap first: a listing without `<pid>` is not the task directory.
    let Some(&(lead, _, _)) = recs.iter().find(|r| r.2 == Some(pid)) else {
        return n;
    };
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
    let listed: Vec<i32> = recs.iter().filter_map(|r| r.2).collect();
    let mut missing: Vec<i32> =
        cx.p.other_threads(i32::MIN)
            .iter()
            .map(|t| t.tid)
            .chain(core::iter::once(cx.t.tid))
            .filter(|t| !listed.contains(t))
            .collect();
    missing.sort_unstable();
    missing.dedup();
    let mut out: Vec<u8> = Vec::with_capacity(n);
    for &(at, reclen, num) in &recs {
        if num.is_some_and(|t| t != pid && !is_guest_thread(cx, t)) {
            continue;
        }
        out.extend_from_slice(&buf[at..at + reclen]);
        if at != lead {
            continue;
        }
        // The missing threads, with the leader's inode and offset, as
        // many as the room takes beside the records still to come.
        let after = n - (at + reclen);
        for &t in &missing {
            let name = format!("{t}");
            let len = (19 + name.len() + 1).next_multiple_of(8);
            if out.len() + len + after > buf.len() {
                break;
            }
            let mut r = alloc::vec![0u8; len];
            r[..16].copy_from_slice(&buf[lead..lead + 16]);
            r[16..18].copy_from_slice(&(len as u16).to_le_bytes());
            r[18] = DT_DIR;
            r[19..19 + name.len()].copy_from_slice(name.as_bytes());
            out.extend_from_slice(&r);
        }
    }
    buf[..out.len()].copy_from_slice(&out);
    out.len()
}
