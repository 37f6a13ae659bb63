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
//! *Another* process of the guest's tree that runs its threads so (or
//! has host threads that are no guest threads, pvm's helpers) is known
//! from the host ([`HostOs::tree_threads`]: on Linux, the tree's shared
//! table, `host-linux/src/tree.rs`), and gets the same treatment: its
//! `task/` lists its guest threads and no helper, `task/<tid>/` of a
//! guest thread is its host thread's directory, and the `stat`,
//! `status` and `comm` of the process and of each such thread are the
//! host's with the thread's id and name and the guest's thread count
//! put in ([`open_other`]). Such a thread's state is its own, as that
//! process answers it (`super::peer`, from its run queue: `S` for a thread
//! waiting on a futex, a descriptor, a sleep or a poll, `R` for one
//! waiting its turn); the thread on the host thread has the host's. The
//! memory sizes in `stat` and `status` are the guest's, asked the same
//! way.
//!
//! A host whose procfs lists the guest's threads itself (the bare-metal
//! host) has those directories, so nothing changes there.

use super::{Ctx, nr, procfs};
use crate::abi::{AT_FDCWD, O_ACCMODE, O_RDONLY};
use crate::host::{Errno, HostOs, SysResult, TreeThreads};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Might this host miss guest threads in its `/proc/<pid>/task`?
pub(super) fn needed(host: &dyn HostOs) -> bool {
    !host.threads() || host.has_tree_threads()
}

/// `/proc/<pid>/task/<tid>/<rest>` (canonical): pid, tid, the rest
/// (empty, or starting with `/`).
fn split_task(c: &[u8]) -> Option<(i32, i32, &[u8])> {
    let num = |b: &[u8]| -> Option<i32> {
        if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        core::str::from_utf8(b).ok()?.parse().ok()
    };
    let r = c.strip_prefix(b"/proc/")?;
    let s = r.iter().position(|&b| b == b'/')?;
    let pid = num(&r[..s])?;
    let r = r[s..].strip_prefix(b"/task/")?;
    let e = r.iter().position(|&b| b == b'/').unwrap_or(r.len());
    Some((pid, num(&r[..e])?, &r[e..]))
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
    let Some((who, tid, rest)) = split_task(&c) else {
        return p;
    };
    let pid = host.ids().pid;
    let opens = matches!(n, nr::OPENAT | nr::OPENAT2);
    if tid == who {
        return p;
    }
    if who == pid {
        if host.threads() || !is_guest_thread(cx, tid) {
            return p;
        }
        // A file generated for that thread is opened as its own.
        if opens && procfs::generated(pid, &c) {
            return p;
        }
        let dir = format!("/proc/{pid}/task/{tid}");
        if host.fstatat(AT_FDCWD, dir.as_bytes(), 0).is_ok() {
            return p;
        }
    } else {
        let Some(t) = host.tree_threads(who) else {
            return p;
        };
        if !t.extra.iter().any(|e| e.0 == tid) || opens && other_file(rest).is_some() {
            return p;
        }
    }
    let mut v = format!("/proc/{who}/task/{who}").into_bytes();
    v.extend_from_slice(rest);
    v
}

/// The files of another process's thread this module rewrites.
#[derive(Clone, Copy, PartialEq, Eq)]
enum File {
    Stat,
    Status,
    Comm,
}

fn other_file(rest: &[u8]) -> Option<File> {
    match rest {
        b"/stat" => Some(File::Stat),
        b"/status" => Some(File::Status),
        b"/comm" => Some(File::Comm),
        _ => None,
    }
}

/// How many guest threads the host's count `host_count` of a process
/// with records `t` stands for.
fn guest_count(host_count: i64, t: &TreeThreads) -> i64 {
    (host_count - t.hidden.len() as i64).max(1) + t.extra.len() as i64
}

/// Before the host opens the canonical path `c`: `stat`, `status` and
/// `comm` of another process of the tree whose host procfs misses
/// threads ([`HostOs::tree_threads`]), of it or of one of its threads,
/// as the host has them with the guest's thread count and, for a
/// thread without a host thread, its id and name; on a host whose
/// procfs has every thread, `stat` and `status` with the memory figures
/// that process answers ([`HostOs::peer`]). `None`: not such a file
/// (the host opens it).
pub(super) fn open_other(cx: &mut Ctx<'_>, c: &[u8], flags: i32) -> Option<SysResult<i32>> {
    let host = cx.p.host;
    let tree = host.has_tree_threads();
    let pid = host.ids().pid;
    let (who, tid, file) = match split_task(c) {
        Some((who, tid, rest)) => (who, tid, other_file(rest)?),
        None => {
            let r = c.strip_prefix(b"/proc/")?;
            let s = r.iter().position(|&b| b == b'/')?;
            let who = core::str::from_utf8(&r[..s]).ok()?.parse::<i32>().ok()?;
            let file = match &r[s..] {
                b"/stat" => File::Stat,
                b"/status" => File::Status,
                _ => return None,
            };
            (who, who, file)
        }
    };
    if who == pid {
        return None;
    }
    let t = if tree {
        host.tree_threads(who)?
    } else {
        // A host whose procfs shows the threads as they are (the
        // bare-metal one): only the memory figures are the guest's, from
        // that process when it answers.
        if file == File::Comm || super::peer::sizes(cx, who).is_none() {
            return None;
        }
        TreeThreads::default()
    };
    let name = t.extra.iter().find(|e| e.0 == tid).map(|e| e.1);
    if file == File::Comm && name.is_none() {
        return None;
    }
    if flags & O_ACCMODE != O_RDONLY {
        return Some(Err(Errno::EACCES));
    }
    let base = match file {
        File::Stat => "stat",
        File::Status => "status",
        File::Comm => "comm",
    };
    // A guest thread without a host thread is shown from the host
    // thread's files; the others from their own.
    let dir = if name.is_some() { who } else { tid };
    let text = match procfs::host_file(host, &format!("/proc/{who}/task/{dir}/{base}")) {
        Ok(t) => t,
        Err(e) => return Some(Err(e)),
    };
    let name = name.map(|n| {
        let len = n.iter().position(|&b| b == 0).unwrap_or(16);
        String::from_utf8_lossy(&n[..len]).into_owned()
    });
    // The guest's memory sizes, and the state of a guest thread that
    // waits its turn there, as that process answers them.
    let sizes = match file {
        File::Comm => None,
        _ => super::peer::sizes(cx, who),
    };
    let state = match file {
        // The host's state stands where its procfs has every thread.
        _ if !tree => None,
        File::Comm => None,
        _ => super::peer::thread_state(cx, who, tid),
    };
    let out = match file {
        File::Comm => match name {
            Some(n) => format!("{n}\n"),
            None => text,
        },
        File::Stat => {
            let Some(close) = text.rfind(')') else {
                return Some(procfs::memfd(cx, text.as_bytes(), flags));
            };
            let open = text.find('(').unwrap_or(close);
            let mut f: Vec<String> = text[close + 1..]
                .split_whitespace()
                .map(String::from)
                .collect();
            // Field 20 (from 1), num_threads, is the 18th after the name.
            if let Some(v) = f.get_mut(17) {
                let n = v.parse::<i64>().unwrap_or(1);
                *v = format!("{}", guest_count(n, &t));
            }
            if let (Some(s), Some(v)) = (state, f.get_mut(0)) {
                *v = String::from(char::from(s));
            }
            // Fields 23 and 24: vsize (bytes) and rss (pages).
            if let Some(z) = sizes
                && f.len() > 21
            {
                f[20] = format!("{}", z.total);
                f[21] = format!("{}", z.rss / crate::memory::PAGE_SIZE);
            }
            let comm = name.unwrap_or_else(|| String::from(&text[open + 1..close]));
            format!("{tid} ({comm}) {}\n", f.join(" "))
        }
        File::Status => {
            let mut out = String::new();
            for line in text.lines() {
                let (key, v) = line.split_once(':').unwrap_or((line, ""));
                let mem = sizes.and_then(|z| procfs::status_memory(key, &z));
                let v = match key {
                    _ if mem.is_some() => mem.unwrap_or_default(),
                    "State" if state.is_some() => String::from(match state {
                        Some(b'R') => "R (running)",
                        Some(b't') => "t (tracing stop)",
                        _ => "S (sleeping)",
                    }),
                    "Name" => name.clone().unwrap_or_else(|| String::from(v.trim())),
                    "Pid" => format!("{tid}"),
                    "Threads" => {
                        format!("{}", guest_count(v.trim().parse().unwrap_or(1), &t))
                    }
                    _ => {
                        out.push_str(line);
                        out.push('\n');
                        continue;
                    }
                };
                out.push_str(key);
                out.push_str(":\t");
                out.push_str(&v);
                out.push('\n');
            }
            out
        }
    };
    Some(procfs::memfd(cx, out.as_bytes(), flags))
}

/// `DT_DIR`, the type of a thread's directory entry.
const DT_DIR: u8 = 4;

/// After `getdents64` on `fd` filled `buf[..n]` (the room is `buf.len()`):
/// when `fd` is a `task/` directory whose records the host gets wrong,
/// the records are the guest's threads. For this process, when the
/// records hold the host thread's (`<pid>`): a host thread that is no
/// live guest thread (one whose guest thread has ended but which is
/// still on its way out) is left out, and a record for each live guest
/// thread the host misses follows `<pid>`'s. For another process of the
/// tree ([`HostOs::tree_threads`]): its helper threads are left out and
/// its guest threads without a host thread follow its own record. The
/// new length.
pub(super) fn fix_listing(cx: &Ctx<'_>, fd: i32, buf: &[u8], room: usize) -> Option<Vec<u8>> {
    let n = buf.len();
    let host = cx.p.host;
    if !needed(host) {
        return None;
    }
    let pid = host.ids().pid;
    // The records: (offset, length, the name as a number).
    let mut recs = Vec::new();
    let mut at = 0;
    let mut other = false;
    while at + 19 <= n {
        let reclen = u16::from_le_bytes([buf[at + 16], buf[at + 17]]) as usize;
        if reclen < 19 || at + reclen > n {
            return None;
        }
        let name = &buf[at + 19..at + reclen];
        let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
        let num = core::str::from_utf8(name)
            .ok()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<i32>().ok());
        other |= num.is_none() && name != b"." && name != b"..";
        recs.push((at, reclen, num));
        at += reclen;
    }
    // Cheap first: a task directory has numbers, dots and nothing else.
    if other || !recs.iter().any(|r| r.2.is_some()) {
        return None;
    }
    let own = !host.threads() && recs.iter().any(|r| r.2 == Some(pid));
    if !own && !host.has_tree_threads() {
        return None;
    }
    let mut link = [0u8; 256];
    let Ok(len) = host.readlinkat(
        AT_FDCWD,
        format!("/proc/self/fd/{fd}").as_bytes(),
        &mut link,
    ) else {
        return None;
    };
    let link = &link[..len.min(link.len())];
    let who = link
        .strip_prefix(b"/proc/")
        .and_then(|r| r.strip_suffix(b"/task"))
        .and_then(|w| core::str::from_utf8(w).ok())
        .and_then(|w| w.parse::<i32>().ok())?;
    let &(lead, _, _) = recs.iter().find(|r| r.2 == Some(who))?;
    // Which records stay, and which threads are missing.
    let (dropped, mut missing): (Vec<Option<i32>>, Vec<i32>) = if who == pid && own {
        let listed: Vec<i32> = recs.iter().filter_map(|r| r.2).collect();
        let missing =
            cx.p.other_threads(i32::MIN)
                .iter()
                .map(|t| t.tid)
                .chain(core::iter::once(cx.t.tid))
                .filter(|t| !listed.contains(t))
                .collect();
        let dropped = recs
            .iter()
            .map(|r| r.2.filter(|&t| t != pid && !is_guest_thread(cx, t)))
            .collect();
        (dropped, missing)
    } else {
        let t = host.tree_threads(who)?;
        let listed: Vec<i32> = recs.iter().filter_map(|r| r.2).collect();
        // (This process's own records, with a host thread per guest
        // thread, are all there: only its helpers go.)
        let missing = t
            .extra
            .iter()
            .map(|e| e.0)
            .filter(|t| who != pid && !listed.contains(t))
            .collect();
        let dropped = recs
            .iter()
            .map(|r| r.2.filter(|x| t.hidden.contains(x)))
            .collect();
        (dropped, missing)
    };
    missing.sort_unstable();
    missing.dedup();
    let mut out: Vec<u8> = Vec::with_capacity(n);
    for (&(at, reclen, _), drop) in recs.iter().zip(&dropped) {
        if drop.is_some() {
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
            if out.len() + len + after > room {
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
    Some(out)
}
