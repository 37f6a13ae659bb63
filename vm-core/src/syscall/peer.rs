//! Another process's `/proc/<pid>` when that process is another pvm of
//! the guest's tree: what Linux shows a parent (same user) reading its
//! child's files, the guest's view, never pvm's host one.
//!
//! The host's procfs has pvm's files for such a process: its `cmdline`
//! (`pvm --engine ... prog args`), `exe` (the pvm binary), `statm` and
//! the memory lines of `status` (the 64 GiB reservation, the code
//! cache), and `maps`, `mem`, `environ`, `auxv` would show its host
//! memory. So the reader asks that process ([`HostOs::peer`]: on Linux a
//! request through the tree's shared table, answered by a helper thread
//! of the other pvm, `host-linux/src/peer.rs`), which answers from its
//! guest's state with [`serve`], the same generators its own `/proc/self`
//! uses (`super::procfs`). A host whose processes share one kernel (the
//! bare-metal one) calls [`serve`] of the other process directly, through
//! the [`crate::host::PeerServer`] each process hands it as it starts
//! ([`HostOs::serve_peers`]):
//!
//! * `maps`, `smaps`, `smaps_rollup`, `statm`, `auxv`, `cmdline`,
//!   `environ`: the text it would show itself, in a memfd;
//! * `mem`: reads and writes at its guest addresses (through read-only
//!   pages, as the kernel's `FOLL_FORCE`), `EIO` outside its mappings: the
//!   other process checks every address against its own guest memory,
//!   so nothing outside a guest reservation is ever reached;
//! * `exe` (open and `readlink`): its guest program;
//! * `status` and `stat` (`super::tasks::open_other`): the host's lines
//!   with the memory sizes, and a waiting guest thread's state, its own.
//!
//! Under `--sandbox` the files that show or change memory (`mem`, `maps`,
//! `smaps`, `smaps_rollup`, `auxv`, `environ`) stay refused (`EACCES`),
//! on both sides. When nobody answers (a host program, a process outside
//! the tree, a host without [`HostOs::peer`]) those are refused too and
//! the others are the host's. `pagemap`, `map_files`, `numa_maps`,
//! `syscall` and `stack` of another process are always refused.

use super::{Ctx, procfs};
use crate::abi::{O_ACCMODE, O_RDONLY, O_WRONLY};
use crate::host::{Errno, PeerAsk, SysResult};
use crate::process::Process;
use alloc::vec::Vec;

/// Does `ask` show or change the other process's memory (refused under
/// `--sandbox`, and when nobody answers)?
pub(super) fn guarded(ask: PeerAsk) -> bool {
    matches!(
        ask,
        PeerAsk::Maps
            | PeerAsk::Smaps
            | PeerAsk::Rollup
            | PeerAsk::Auxv
            | PeerAsk::Environ
            | PeerAsk::MemRead
            | PeerAsk::MemWrite
    )
}

/// The most one request moves (a `mem` read or write is cut to it).
pub const MAX_REPLY: usize = 1 << 20;

/// Answer `ask` of another process of the tree from this process's guest
/// state (the other side of [`HostOs::peer`]).
pub fn serve(p: &Process, ask: PeerAsk, addr: u64, len: u64, data: &[u8]) -> SysResult<Vec<u8>> {
    if guarded(ask) && p.options.policy.sandbox {
        return Err(Errno::EACCES);
    }
    let info = || p.procfs.info();
    Ok(match ask {
        PeerAsk::Maps => procfs::maps(p, false),
        PeerAsk::Smaps => procfs::maps(p, true),
        PeerAsk::Rollup => procfs::rollup(p),
        PeerAsk::Statm => procfs::statm(p),
        PeerAsk::Cmdline => {
            let i = info();
            procfs::guest_bytes(&p.mem, i.arg_start, i.arg_end)
        }
        PeerAsk::Environ => {
            let i = info();
            procfs::guest_bytes(&p.mem, i.env_start, i.env_end)
        }
        PeerAsk::Auxv => info().auxv,
        PeerAsk::Exe => p.exe_path.clone(),
        PeerAsk::Sizes => procfs::sizes(p)
            .to_words()
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect(),
        PeerAsk::MemRead => {
            let mut b = alloc::vec![0u8; (len as usize).min(MAX_REPLY)];
            let n = procfs::read_force(&p.mem, addr, &mut b);
            b.truncate(n);
            b
        }
        PeerAsk::MemWrite => {
            let data = &data[..data.len().min(MAX_REPLY)];
            (procfs::write_force(&p.mem, addr, data) as u64)
                .to_le_bytes()
                .to_vec()
        }
        PeerAsk::ThreadState => {
            let tid = addr as i32;
            p.green
                .lock()
                .state(tid)
                .map(|s| alloc::vec![s])
                .unwrap_or_default()
        }
    })
}

impl crate::host::PeerServer for Process {
    fn answer(&self, ask: PeerAsk, addr: u64, len: u64, data: &[u8]) -> SysResult<Vec<u8>> {
        serve(self, ask, addr, len, data)
    }
}

/// Ask process `pid` (the caller's checks done).
fn ask(
    cx: &Ctx<'_>,
    pid: i32,
    ask: PeerAsk,
    addr: u64,
    len: u64,
    data: &[u8],
) -> Option<SysResult<Vec<u8>>> {
    if pid <= 0 || pid == cx.p.host.ids().pid {
        return None;
    }
    cx.p.host.peer(pid, ask, addr, len, data)
}

/// Open file `ask` of process `pid` with `flags` (`PeerAsk::MemRead`
/// stands for `mem`): the guest's descriptor, `None` when nobody answers
/// (the caller then refuses it or lets the host's stand, see
/// [`guarded`]).
pub(super) fn open(
    cx: &mut Ctx<'_>,
    pid: i32,
    what: PeerAsk,
    flags: i32,
) -> Option<SysResult<i32>> {
    if guarded(what) && cx.p.options.policy.sandbox {
        return Some(Err(Errno::EACCES));
    }
    if what == PeerAsk::MemRead {
        // Is anyone there? (An empty read answers.)
        match ask(cx, pid, PeerAsk::MemRead, 0, 0, &[])? {
            Ok(_) => {}
            Err(e) => return Some(Err(e)),
        }
        let acc = flags & O_ACCMODE;
        return Some(procfs::mem_descriptor(
            cx,
            flags,
            false,
            acc != O_WRONLY,
            acc != O_RDONLY,
            pid,
        ));
    }
    let text = match ask(cx, pid, what, 0, 0, &[])? {
        Ok(t) => t,
        Err(e) => return Some(Err(e)),
    };
    if flags & O_ACCMODE != O_RDONLY {
        return Some(Err(Errno::EACCES));
    }
    Some(procfs::memfd(cx, &text, flags))
}

/// `len` bytes of process `pid`'s guest memory at `addr` (`EIO` when the
/// first page is not mapped there).
pub(super) fn mem_read(cx: &Ctx<'_>, pid: i32, addr: u64, len: usize) -> SysResult<Vec<u8>> {
    let b = ask(cx, pid, PeerAsk::MemRead, addr, len as u64, &[]).ok_or(Errno::EIO)??;
    if b.is_empty() && len > 0 {
        return Err(Errno::EIO);
    }
    Ok(b)
}

/// Write `data` to process `pid`'s guest memory at `addr`: the count
/// written (`EIO` when the first page is not mapped there).
pub(super) fn mem_write(cx: &Ctx<'_>, pid: i32, addr: u64, data: &[u8]) -> SysResult<usize> {
    let b = ask(cx, pid, PeerAsk::MemWrite, addr, data.len() as u64, data).ok_or(Errno::EIO)??;
    let n = b.get(..8).map_or(0, |w| {
        u64::from_le_bytes(w.try_into().unwrap_or([0; 8])) as usize
    });
    if n == 0 && !data.is_empty() {
        return Err(Errno::EIO);
    }
    Ok(n)
}

/// The guest program of process `pid`, if it answers.
pub(super) fn exe(cx: &Ctx<'_>, pid: i32) -> Option<Vec<u8>> {
    ask(cx, pid, PeerAsk::Exe, 0, 0, &[])?
        .ok()
        .filter(|p| !p.is_empty())
}

/// Process `pid`'s memory figures, if it answers.
pub(super) fn sizes(cx: &Ctx<'_>, pid: i32) -> Option<procfs::MemSizes> {
    let b = ask(cx, pid, PeerAsk::Sizes, 0, 0, &[])?.ok()?;
    let words: Vec<u64> = b
        .chunks_exact(8)
        .map(|w| u64::from_le_bytes(w.try_into().expect("8 bytes")))
        .collect();
    procfs::MemSizes::from_words(&words)
}

/// The state of guest thread `tid` of process `pid` when it waits its
/// turn there (`None`: the host's state stands).
pub(super) fn thread_state(cx: &Ctx<'_>, pid: i32, tid: i32) -> Option<u8> {
    ask(cx, pid, PeerAsk::ThreadState, tid as u64, 0, &[])?
        .ok()?
        .first()
        .copied()
}
