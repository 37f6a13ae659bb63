//! The guest's own `/proc`: what Linux shows a process that owns only the
//! guest's memory, generated from the guest's state, never pvm's.
//!
//! Each guest process is one host process, so `/proc/self` on the host is
//! pvm's own directory: its `maps`, `mem`, `auxv`, `stat` would show (and
//! `mem` would write) pvm's host memory. Every `open` the guest makes is
//! therefore checked after the host opened it: when the descriptor is on
//! the host's procfs, its canonical name (the host's link in
//! `/proc/self/fd`) says what it is, whichever way the guest reached it
//! (`/proc/self/...`, `/proc/<pid>/...`, `/proc/thread-self/...`,
//! `task/<tid>/...`, a directory descriptor, the working directory, a
//! symbolic link, `/proc/self/root/...`). For pvm's own process:
//!
//! * `maps`, `smaps`, `smaps_rollup`: the guest's mappings (guest
//!   addresses, guest permissions, the file each maps, `[heap]`,
//!   `[stack]`), in Linux's format;
//! * `mem`: reads and writes guest memory at guest addresses (through
//!   read-only pages too, as the kernel's `FOLL_FORCE`), `EIO` outside the
//!   guest's mappings; `pagemap`: one entry per guest page, the flags the
//!   host kernel keeps for its host page (present, swapped, file,
//!   exclusive, soft-dirty; `HostOs::pagemap`), no frame numbers, as for
//!   an unprivileged process;
//! * `auxv`, `cmdline`, `environ`: the guest's initial auxiliary vector,
//!   and its argument and environment areas read from guest memory;
//! * `stat`, `status`, `statm`, `comm`, `personality`, `syscall`: the
//!   host's lines with every field that belongs to the guest (name, thread
//!   count, memory sizes, code/stack/argument addresses, signal masks and
//!   dispositions, seccomp) replaced by the guest's;
//! * the memory figures of `stat`, `statm`, `status`, `smaps` and
//!   `smaps_rollup` count what is resident of the guest's mappings as the
//!   host's page tables have it (`HostOs::pagemap`: present, file,
//!   exclusively mapped), so an untouched mapping costs nothing, pages
//!   given back leave, and after a fork the pages both sides still share
//!   are shared; `VmHWM` is the host's peak for the process (see
//!   [`MemSizes`]). A page only ever read is the host's shared zero page,
//!   which Linux leaves out of a process's size and this counts (shared);
//! * `map_files/`, `stack`, `numa_maps`: refused (`EACCES`, as Linux
//!   refuses some of them to an unprivileged process);
//! * `exe` is the guest program (see `fs::host_path`);
//! * everything else (`fd/`, `fdinfo/`, `cwd`, `limits`, `task/`...) is
//!   the host's, which is right because descriptors, directories and ids
//!   are the guest's own.
//!
//! `/proc/cpuinfo` is a RISC-V machine's, consistent with
//! `riscv_hwprobe` (see [`super::hwprobe`]).
//!
//! `/proc/<pid>` of *another* process: when it is a pvm of the guest's
//! tree, its `mem`, `maps`, `smaps`, `smaps_rollup`, `auxv`, `environ`,
//! `cmdline`, `statm` and `exe` are its guest's, as it answers them
//! (`super::peer`); when nobody answers, those that would show its host
//! memory are refused (`EACCES`) and `cmdline`, `statm` are the host's.
//! `pagemap`, `map_files`, `numa_maps`, `syscall` and `stack` of another
//! process are always refused (`EACCES`, as Linux refuses them to a
//! process without ptrace rights over the target); the rest is the
//! host's (`stat`, `status` and `task/` get the guest's threads and sizes
//! in `super::tasks`).
//!
//! Generated files are snapshots taken at `open` (Linux generates them as
//! they are read): a host memfd holding the text, opened read-only. `mem`
//! and `pagemap` descriptors are a placeholder memfd (empty: a call this
//! module does not intercept, such as `sendfile`, reads nothing) plus an
//! entry in this process's table, which `read`, `write`, `pread`,
//! `pwrite`, `lseek`, `readv` and `writev` consult; `close`, `dup*`,
//! `fcntl(F_DUPFD)` and `close_range` keep it in step.

use super::{Ctx, R, put};
use crate::host::{AT_EMPTY_PATH, Errno, HostOs, PeerAsk, SysResult};
use crate::memory::{Access, GuestMemory, PAGE_SIZE, Perm, page_down, page_up};
use crate::process::Process;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::Ordering;

use crate::abi::{
    AT_FDCWD, AT_NULL, MFD_CLOEXEC, O_ACCMODE, O_CLOEXEC, O_PATH, O_RDONLY, O_WRONLY,
};

use crate::procfs_state::MemFile;
pub use crate::procfs_state::{ProcInfo, ProcState};

impl ProcState {
    /// Record the process's start from its initial stack (`argc`, `argv`,
    /// `envp`, `auxv` at `sp`), once.
    pub fn capture(&self, mem: &GuestMemory, sp: u64) {
        let mut info = self.info.lock();
        if info.is_some() {
            return;
        }
        let word = |a: u64| mem.read_u64(a).unwrap_or(0);
        let argc = word(sp);
        let mut at = sp + 8;
        let strings = |at: &mut u64, n: Option<u64>| -> (u64, u64) {
            let (mut first, mut end) = (0, 0);
            let mut i = 0;
            loop {
                if n.is_some_and(|n| i >= n) {
                    *at += 8;
                    break;
                }
                let p = word(*at);
                *at += 8;
                if p == 0 {
                    break;
                }
                if i == 0 {
                    first = p;
                }
                let len = mem.read_cstr(p, 1 << 17).map_or(0, |s| s.len() as u64);
                end = end.max(p + len + 1);
                i += 1;
            }
            (first, end)
        };
        let (arg_start, arg_end) = strings(&mut at, Some(argc.min(1 << 20)));
        let (env_start, env_end) = strings(&mut at, None);
        let mut auxv = Vec::new();
        for _ in 0..64 {
            let (k, v) = (word(at), word(at + 8));
            auxv.extend_from_slice(&k.to_le_bytes());
            auxv.extend_from_slice(&v.to_le_bytes());
            at += 16;
            if k == AT_NULL {
                break;
            }
        }
        *info = Some(ProcInfo {
            arg_start,
            arg_end,
            env_start: if env_start == 0 { arg_end } else { env_start },
            env_end: env_end.max(arg_end),
            start_stack: sp,
            auxv,
        });
    }

    pub(crate) fn info(&self) -> ProcInfo {
        self.info.lock().clone().unwrap_or_default()
    }

    fn find(&self, fd: i32) -> Option<Arc<MemFile>> {
        if !self.any.load(Ordering::Acquire) {
            return None;
        }
        let t = self.files.lock();
        t.iter().find(|(f, _)| *f == fd).map(|(_, m)| m.clone())
    }

    /// Descriptors `first..=last` were closed.
    pub(crate) fn forget_range(&self, first: u32, last: u32) {
        if !self.any.load(Ordering::Acquire) {
            return;
        }
        self.files
            .lock()
            .retain(|(f, _)| !(first..=last).contains(&(*f as u32)));
    }

    /// `new` is now a copy of `old`.
    pub(crate) fn dup(&self, old: i32, new: i32) {
        if !self.any.load(Ordering::Acquire) || old == new {
            return;
        }
        let mut t = self.files.lock();
        t.retain(|(f, _)| *f != new);
        if let Some(m) = t.iter().find(|(f, _)| *f == old).map(|(_, m)| m.clone()) {
            t.push((new, m));
        }
    }
}

// ---- paths -----------------------------------------------------------------

/// `p` with empty and `.` components dropped and `..` applied, as an
/// absolute path (`p` must start with `/`).
pub(super) fn normalize(p: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in p.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut out = Vec::with_capacity(p.len());
    for c in parts {
        out.push(b'/');
        out.extend_from_slice(c);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

/// The absolute, normalized form of the guest path `p` (relative to
/// `dirfd`), with `/proc/self`, `/proc/thread-self` and `/proc/self/root`
/// spelled out, when it can be had without following links; `None`
/// for a relative path whose base is not under `/proc`.
pub(super) fn lexical(cx: &Ctx<'_>, dirfd: i32, p: &[u8]) -> Option<Vec<u8>> {
    let host = cx.p.host;
    let full = if p.first() == Some(&b'/') {
        p.to_vec()
    } else {
        let mut base = vec![0u8; 4096];
        let n = if dirfd == AT_FDCWD {
            host.getcwd(&mut base).ok()?
        } else {
            host.readlinkat(
                AT_FDCWD,
                format!("/proc/self/fd/{dirfd}").as_bytes(),
                &mut base,
            )
            .ok()?
        };
        base.truncate(n);
        if !base.starts_with(b"/proc") {
            return None;
        }
        base.push(b'/');
        base.extend_from_slice(p);
        base
    };
    let mut n = normalize(&full);
    let pid = host.ids().pid;
    // `/proc/self/root` is `/` (pvm runs the guest without chroot).
    loop {
        let mut changed = false;
        for (pre, repl) in [
            (String::from("/proc/self"), format!("/proc/{pid}")),
            (
                String::from("/proc/thread-self"),
                format!("/proc/{pid}/task/{}", cx.t.tid),
            ),
        ] {
            if n == pre.as_bytes() || n.starts_with(format!("{pre}/").as_bytes()) {
                let mut v = repl.into_bytes();
                v.extend_from_slice(&n[pre.len()..]);
                n = v;
                changed = true;
            }
        }
        let root = format!("/proc/{pid}/root");
        if n == root.as_bytes() || n.starts_with(format!("{root}/").as_bytes()) {
            n = normalize(&n[root.len()..]);
            if n.is_empty() {
                n.push(b'/');
            }
            changed = true;
        }
        if !changed {
            return Some(n);
        }
    }
}

/// What a canonical `/proc` path names, for the emulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Node {
    Maps,
    Smaps,
    Rollup,
    Mem,
    Pagemap,
    Auxv,
    Cmdline,
    Environ,
    Stat,
    Statm,
    Status,
    Comm,
    Personality,
    Syscall,
    /// `comm` of this thread id (the caller's when `None`).
    TaskComm(i32),
    /// `stat` and `status` of this thread id (`task/<tid>/`): its own
    /// id, name and state.
    TaskStat(i32),
    TaskStatus(i32),
    /// A file of another process (pid), which that process answers if
    /// it is a pvm of the tree (`super::peer`; `MemRead` for `mem`).
    Other(i32, PeerAsk),
    Exe,
    Cpuinfo,
    Refuse,
}

/// Files of another process that are always refused: they would show
/// its host memory, and no guest view of them is made.
const OTHERS_REFUSED: &[&[u8]] = &[b"pagemap", b"numa_maps", b"syscall", b"stack"];

/// Files of another process that process answers when it is a pvm of the
/// tree (`super::peer`).
fn other_file(name: &[u8]) -> Option<PeerAsk> {
    Some(match name {
        b"mem" => PeerAsk::MemRead,
        b"maps" => PeerAsk::Maps,
        b"smaps" => PeerAsk::Smaps,
        b"smaps_rollup" => PeerAsk::Rollup,
        b"auxv" => PeerAsk::Auxv,
        b"environ" => PeerAsk::Environ,
        b"cmdline" => PeerAsk::Cmdline,
        b"statm" => PeerAsk::Statm,
        b"exe" => PeerAsk::Exe,
        _ => return None,
    })
}

/// Classify the canonical (absolute, normalized, no `self`) path `p`:
/// `None` when it is not a `/proc` file the guest gets its own view of.
fn classify(pid: i32, p: &[u8]) -> Option<Node> {
    let rest = p.strip_prefix(b"/proc/")?;
    if rest == b"cpuinfo" {
        return Some(Node::Cpuinfo);
    }
    let slash = rest.iter().position(|&b| b == b'/')?;
    let (who, mut rest) = (&rest[..slash], &rest[slash + 1..]);
    if who.is_empty() || !who.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut tid = None;
    if let Some(t) = rest.strip_prefix(b"task/") {
        let s = t.iter().position(|&b| b == b'/')?;
        if !t[..s].iter().all(u8::is_ascii_digit) {
            return None;
        }
        tid = core::str::from_utf8(&t[..s])
            .ok()
            .and_then(|x| x.parse().ok());
        rest = &t[s + 1..];
    }
    let own = who == format!("{pid}").as_bytes();
    if rest == b"map_files" || rest.starts_with(b"map_files/") {
        return Some(Node::Refuse);
    }
    if !own {
        if OTHERS_REFUSED.contains(&rest) {
            return Some(Node::Refuse);
        }
        let who = core::str::from_utf8(who).ok()?.parse().ok()?;
        return other_file(rest).map(|a| Node::Other(who, a));
    }
    Some(match rest {
        b"maps" => Node::Maps,
        b"smaps" => Node::Smaps,
        b"smaps_rollup" => Node::Rollup,
        b"mem" => Node::Mem,
        b"pagemap" => Node::Pagemap,
        b"auxv" => Node::Auxv,
        b"cmdline" => Node::Cmdline,
        b"environ" => Node::Environ,
        b"stat" => tid.map_or(Node::Stat, Node::TaskStat),
        b"statm" => Node::Statm,
        b"status" => tid.map_or(Node::Status, Node::TaskStatus),
        b"comm" => tid.map_or(Node::Comm, Node::TaskComm),
        b"personality" => Node::Personality,
        b"syscall" => Node::Syscall,
        b"exe" => Node::Exe,
        b"stack" | b"numa_maps" => Node::Refuse,
        _ => return None,
    })
}

/// Does the core make (or refuse) the file the canonical path `p` names
/// itself, rather than the host?
pub(super) fn generated(pid: i32, p: &[u8]) -> bool {
    classify(pid, p).is_some()
}

/// The guest program the guest path `p` (relative to `dirfd`) names when
/// it is an `exe` link: the guest's own, or that of another pvm of the
/// tree that answers (`super::peer`).
pub(super) fn exe_target(cx: &Ctx<'_>, dirfd: i32, p: &[u8]) -> Option<Vec<u8>> {
    if !p.ends_with(b"exe") {
        return None;
    }
    match classify(cx.p.host.ids().pid, &lexical(cx, dirfd, p)?)? {
        Node::Exe => Some(cx.p.exe_path.clone()),
        Node::Other(who, PeerAsk::Exe) => super::peer::exe(cx, who),
        _ => None,
    }
}

/// What `/proc/self/maps` names for a mapping of host descriptor `fd`
/// from byte `offset` to guest address `end`: the file's canonical path,
/// device and inode.
pub(crate) fn map_name(
    host: &dyn HostOs,
    fd: i32,
    end: u64,
    offset: u64,
) -> Option<crate::memory::MapName> {
    let st = host.fstatat(fd, b"", AT_EMPTY_PATH).ok()?;
    let path = fd_name(host, fd)?;
    Some(crate::memory::MapName {
        end,
        path: Arc::from(path),
        offset,
        dev: st.dev,
        ino: st.ino,
    })
}

/// The thread id in a canonical `/proc/<pid>/task/<tid>/...` path.
fn task_tid(p: &[u8]) -> Option<i32> {
    let i = p.windows(6).position(|w| w == b"/task/")?;
    let t = &p[i + 6..];
    let end = t.iter().position(|&b| b == b'/').unwrap_or(t.len());
    core::str::from_utf8(&t[..end]).ok()?.parse().ok()
}

/// Before the host sees an absolute guest path: a file of the guest's own
/// `/proc` it names directly is opened here, so that `task/<tid>/` of a
/// guest thread the host does not know (threads taking turns on one host
/// thread) works too. `None`: let the host open it (and [`after_open`]
/// look at the result).
pub(super) fn open_lexical(cx: &mut Ctx<'_>, p: &[u8], flags: i32) -> Option<SysResult<i32>> {
    if !p.starts_with(b"/proc") || flags & O_PATH != 0 {
        return None;
    }
    let n = lexical(cx, AT_FDCWD, p)?;
    if let Some(r) = super::tasks::open_other(cx, &n, flags) {
        return Some(r);
    }
    let pid = cx.p.host.ids().pid;
    let node = classify(pid, &n)?;
    if node == Node::Exe || !n.starts_with(format!("/proc/{pid}/").as_bytes()) {
        return None;
    }
    if let Some(tid) = task_tid(&n)
        && tid != cx.t.tid
        && !cx.p.other_threads(cx.t.tid).iter().any(|t| t.tid == tid)
    {
        return None;
    }
    Some(open_node(cx, node, flags))
}

/// The host procfs's device number, if the host has one.
fn proc_dev(cx: &Ctx<'_>) -> Option<u64> {
    let st = &cx.p.procfs;
    let mut d = st.proc_dev.load(Ordering::Relaxed);
    if d == 0 {
        d = match cx.p.host.fstatat(AT_FDCWD, b"/proc/self", 0) {
            Ok(s) => s.dev.wrapping_add(2),
            Err(_) => 1,
        };
        st.proc_dev.store(d, Ordering::Relaxed);
    }
    (d != 1).then(|| d.wrapping_sub(2))
}

/// The canonical host name of descriptor `fd`.
fn fd_name(host: &dyn HostOs, fd: i32) -> Option<Vec<u8>> {
    let mut b = vec![0u8; 4096];
    let n = host
        .readlinkat(AT_FDCWD, format!("/proc/self/fd/{fd}").as_bytes(), &mut b)
        .ok()?;
    b.truncate(n);
    Some(b)
}

/// After the host opened a guest path as `fd` with `flags`: the descriptor
/// the guest gets. A file of pvm's own `/proc` is replaced by the guest's
/// view of it (or refused), whichever way the path reached it.
pub(super) fn after_open(cx: &mut Ctx<'_>, fd: i32, flags: i32) -> SysResult<i32> {
    let Some(dev) = proc_dev(cx) else {
        return Ok(fd);
    };
    let host = cx.p.host;
    match host.fstatat(fd, b"", AT_EMPTY_PATH) {
        Ok(s) if s.dev == dev => {}
        _ => return Ok(fd),
    }
    let node = fd_name(host, fd).and_then(|n| classify(host.ids().pid, &n));
    let Some(node) = node else {
        return Ok(fd);
    };
    if flags & O_PATH != 0 && node != Node::Refuse {
        // Nothing can be read through it; reopening it through
        // /proc/self/fd comes back here.
        return Ok(fd);
    }
    if let Node::Other(who, what) = node {
        // Another pvm of the tree answers with its guest's view; when
        // nobody answers, what would show host memory is refused and the
        // rest is the host's.
        return match super::peer::open(cx, who, what, flags) {
            Some(r) => {
                let _ = host.close(fd);
                r
            }
            None if super::peer::guarded(what) => {
                let _ = host.close(fd);
                Err(Errno::EACCES)
            }
            None => Ok(fd),
        };
    }
    let _ = host.close(fd);
    open_node(cx, node, flags)
}

/// A `mem` or `pagemap` descriptor (this process's, or another's: `peer`,
/// its pid; 0 for this one) opened with `flags`: a placeholder memfd plus
/// its entry in the table, which reads and writes through it consult.
pub(super) fn mem_descriptor(
    cx: &mut Ctx<'_>,
    flags: i32,
    pagemap: bool,
    readable: bool,
    writable: bool,
    peer: i32,
) -> SysResult<i32> {
    let fd = memfd(cx, &[], flags)?;
    let st = &cx.p.procfs;
    let mut t = st.files.lock();
    // An entry left for this number by an earlier descriptor must not
    // shadow the new one.
    t.retain(|(f, _)| *f != fd);
    t.push((
        fd,
        Arc::new(MemFile {
            pagemap,
            pos: spin::Mutex::new(0),
            readable,
            writable,
            peer,
        }),
    ));
    st.any.store(true, Ordering::Release);
    Ok(fd)
}

/// The guest's descriptor for `node`, opened with `flags`.
fn open_node(cx: &mut Ctx<'_>, node: Node, flags: i32) -> SysResult<i32> {
    let acc = flags & O_ACCMODE;
    match node {
        Node::Refuse => return Err(Errno::EACCES),
        Node::Mem | Node::Pagemap => {
            let pagemap = node == Node::Pagemap;
            if pagemap && acc != O_RDONLY {
                return Err(Errno::EACCES);
            }
            return mem_descriptor(cx, flags, pagemap, acc != O_WRONLY, acc != O_RDONLY, 0);
        }
        Node::Exe => {
            let exe = cx.p.exe_path.clone();
            return cx.p.host.openat(AT_FDCWD, &exe, flags, 0);
        }
        _ => {}
    }
    if acc != O_RDONLY {
        return Err(Errno::EACCES);
    }
    let text = match node {
        Node::Maps => maps(cx.p, false),
        Node::Smaps => maps(cx.p, true),
        Node::Rollup => rollup(cx.p),
        Node::Auxv => cx.p.procfs.info().auxv,
        Node::Cmdline => {
            let i = cx.p.procfs.info();
            guest_bytes(cx.mem(), i.arg_start, i.arg_end)
        }
        Node::Environ => {
            let i = cx.p.procfs.info();
            guest_bytes(cx.mem(), i.env_start, i.env_end)
        }
        Node::Stat => stat(cx, None),
        Node::TaskStat(tid) => stat(cx, Some(tid)),
        Node::Statm => statm(cx.p),
        Node::Status => status(cx, None),
        Node::TaskStatus(tid) => status(cx, Some(tid)),
        Node::Comm => {
            let mut n = comm(cx);
            n.push(b'\n');
            n
        }
        Node::TaskComm(tid) => {
            let mut n = task_comm(cx, tid);
            n.push(b'\n');
            n
        }
        Node::Personality => {
            format!("{:08x}\n", cx.p.procfs.personality.load(Ordering::Relaxed)).into_bytes()
        }
        Node::Syscall => syscall_line(cx),
        Node::Cpuinfo => cpuinfo(cx),
        _ => unreachable!(),
    };
    memfd(cx, &text, flags)
}

/// A host memfd holding `text`, reopened read-only (or with the access
/// mode of `flags` for the placeholders), with `O_CLOEXEC` as asked.
pub(super) fn memfd(cx: &Ctx<'_>, text: &[u8], flags: i32) -> SysResult<i32> {
    let host = cx.p.host;
    let m = host.memfd_create(b"proc", MFD_CLOEXEC)?;
    let mut done = 0;
    while done < text.len() {
        match host.write(m, &text[done..]) {
            Ok(0) | Err(_) => {
                let _ = host.close(m);
                return Err(Errno::ENOMEM);
            }
            Ok(n) => done += n,
        }
    }
    let acc = if text.is_empty() {
        flags & O_ACCMODE
    } else {
        O_RDONLY
    };
    let r = host.openat(
        AT_FDCWD,
        format!("/proc/self/fd/{m}").as_bytes(),
        acc | (flags & O_CLOEXEC),
        0,
    );
    let _ = host.close(m);
    r
}

pub(super) fn guest_bytes(mem: &GuestMemory, start: u64, end: u64) -> Vec<u8> {
    let mut v = vec![0u8; end.saturating_sub(start).min(1 << 21) as usize];
    let n = read_force(mem, start, &mut v);
    v.truncate(n);
    v
}

// ---- mem and pagemap -----------------------------------------------------

/// Read guest memory at `addr` regardless of the guest's page permissions
/// (as `FOLL_FORCE`): the bytes up to the first unmapped page.
pub(super) fn read_force(mem: &GuestMemory, addr: u64, buf: &mut [u8]) -> usize {
    let mut done = 0usize;
    while done < buf.len() {
        let a = addr.wrapping_add(done as u64);
        if a < addr || a >= mem.size() || !mem.is_mapped(a) {
            break;
        }
        let n = ((page_down(a) + PAGE_SIZE - a) as usize).min(buf.len() - done);
        let perm = mem.perm(a);
        if perm.is_empty() {
            // A PROT_NONE page: its host page is inaccessible; make it
            // readable for the copy, as the kernel reads it for ptrace.
            let host_page = mem.host_base().wrapping_add(page_down(a) as usize);
            let host = mem.host();
            if host
                .protect(host_page, PAGE_SIZE as usize, crate::host::HostProt::READ)
                .is_err()
            {
                break;
            }
            // SAFETY: the page lies inside the reservation (checked
            // against `size`) and is host-readable now; a host fault there
            // (a page gone under a file mapping) is returned (a guarded
            // copy).
            let copied = unsafe {
                crate::guarded::copy(buf[done..].as_mut_ptr(), mem.host_base().add(a as usize), n)
            };
            let _ = host.protect(
                host_page,
                PAGE_SIZE as usize,
                crate::host::HostProt::empty(),
            );
            if copied.is_err() {
                break;
            }
        } else if mem.read_bytes(a, &mut buf[done..done + n]).is_err() {
            break;
        }
        done += n;
    }
    done
}

/// Write guest memory at `addr` regardless of the guest's page
/// permissions (as `FOLL_FORCE`): the bytes up to the first unmapped page.
pub(super) fn write_force(mem: &GuestMemory, addr: u64, buf: &[u8]) -> usize {
    let mut done = 0usize;
    let mut code = false;
    while done < buf.len() {
        let a = addr.wrapping_add(done as u64);
        if a < addr || a >= mem.size() || !mem.is_mapped(a) {
            break;
        }
        let n = ((page_down(a) + PAGE_SIZE - a) as usize).min(buf.len() - done);
        let perm = mem.perm(a);
        code |= perm.contains(Perm::EXEC);
        let r = if perm.contains(Perm::WRITE) {
            mem.write_bytes(a, &buf[done..done + n])
        } else {
            let _space = mem.lock_space();
            mem.write_bytes_privileged(a, &buf[done..done + n])
        };
        if r.is_err() {
            break;
        }
        done += n;
    }
    if code {
        mem.invalidate_code();
    }
    done
}

/// `read`/`pread` (`at` = `Some(offset)`) of a `mem`/`pagemap` descriptor;
/// `None` when `fd` is not one.
pub(super) fn read(cx: &Ctx<'_>, fd: i32, buf: u64, len: u64, at: Option<u64>) -> Option<R> {
    let f = cx.p.procfs.find(fd)?;
    Some((|| {
        if !f.readable {
            return Err(Errno::EBADF);
        }
        let len = len.min(super::MAX_RW).min(1 << 20) as usize;
        let mut pos = f.pos.lock();
        let off = at.unwrap_or(*pos);
        let data = if f.peer != 0 {
            super::peer::mem_read(cx, f.peer, off, len)?
        } else if f.pagemap {
            pagemap(cx.mem(), off, len)?
        } else {
            let mut b = vec![0u8; len];
            let n = read_force(cx.mem(), off, &mut b);
            if n == 0 && len > 0 {
                return Err(Errno::EIO);
            }
            b.truncate(n);
            b
        };
        put(cx.mem(), buf, &data)?;
        if at.is_none() {
            *pos = off.wrapping_add(data.len() as u64);
        }
        Ok(data.len() as u64)
    })())
}

/// `write`/`pwrite` of a `mem` descriptor; `None` when `fd` is not one.
pub(super) fn write(cx: &Ctx<'_>, fd: i32, buf: u64, len: u64, at: Option<u64>) -> Option<R> {
    let f = cx.p.procfs.find(fd)?;
    Some((|| {
        if !f.writable || f.pagemap {
            return Err(Errno::EBADF);
        }
        let len = len.min(super::MAX_RW).min(1 << 20) as usize;
        let mut data = vec![0u8; len];
        cx.mem()
            .read_bytes(buf, &mut data)
            .map_err(|_| Errno::EFAULT)?;
        let mut pos = f.pos.lock();
        let off = at.unwrap_or(*pos);
        let n = if f.peer != 0 {
            super::peer::mem_write(cx, f.peer, off, &data)?
        } else {
            write_force(cx.mem(), off, &data)
        };
        if n == 0 && len > 0 {
            return Err(Errno::EIO);
        }
        if at.is_none() {
            *pos = off.wrapping_add(n as u64);
        }
        Ok(n as u64)
    })())
}

/// `lseek` of a `mem`/`pagemap` descriptor (any 64-bit position, as
/// Linux's `mem_lseek`); `None` when `fd` is not one.
pub(super) fn lseek(cx: &Ctx<'_>, fd: i32, off: u64, whence: u32) -> Option<R> {
    let f = cx.p.procfs.find(fd)?;
    let mut pos = f.pos.lock();
    Some(match whence {
        0 => {
            *pos = off;
            Ok(off)
        }
        1 => {
            *pos = pos.wrapping_add(off);
            Ok(*pos)
        }
        _ => Err(Errno::EINVAL),
    })
}

/// Is `fd` an emulated `mem`/`pagemap` descriptor?
pub(super) fn is_mem(cx: &Ctx<'_>, fd: i32) -> bool {
    cx.p.procfs.find(fd).is_some()
}

/// `len` bytes of pagemap from byte `off`: one little-endian u64 per guest
/// page, bit 63 for a mapped page, no frame number.
fn pagemap(mem: &GuestMemory, off: u64, len: usize) -> SysResult<Vec<u8>> {
    if !off.is_multiple_of(8) || !len.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    let first = off / 8;
    let pages = mem.size() / PAGE_SIZE;
    let end = (first + len as u64 / 8).min(pages);
    let mut v = Vec::with_capacity(len);
    let mut p = first;
    while p < end {
        // A run of mapped pages gets the host's page-table state, a run of
        // unmapped ones zeros.
        let mapped = mem.is_mapped(p * PAGE_SIZE);
        let mut q = p + 1;
        while q < end && mem.is_mapped(q * PAGE_SIZE) == mapped {
            q += 1;
        }
        let mut run = vec![0u64; (q - p) as usize];
        if mapped {
            let host = mem.host_base().wrapping_add((p * PAGE_SIZE) as usize);
            mem.host().pagemap(host, &mut run)?;
        }
        for e in run {
            v.extend_from_slice(&e.to_le_bytes());
        }
        p = q;
    }
    Ok(v)
}

// ---- maps ------------------------------------------------------------------

/// One line of `maps`.
struct Vma {
    start: u64,
    end: u64,
    perm: Perm,
    shared: bool,
    offset: u64,
    dev: u64,
    ino: u64,
    name: Vec<u8>,
}

/// The guest's mappings as Linux's VMAs: split where the file, the heap or
/// the stack begins or ends, merged where neighbours agree.
fn vmas(p: &Process) -> Vec<Vma> {
    let mem = &p.mem;
    let info = p.procfs.info();
    let m = mem.maps.lock();
    let heap = (m.brk_start, page_up(m.brk));
    let mut out: Vec<Vma> = Vec::new();
    for (&s, map) in m.map.iter() {
        let mut cuts: Vec<u64> = vec![s, map.end];
        for (&ns, n) in m
            .names
            .range(..map.end)
            .rev()
            .take_while(|(_, n)| n.end > s)
        {
            cuts.push(ns.max(s));
            cuts.push(n.end.min(map.end));
        }
        for b in [heap.0, heap.1] {
            if b > s && b < map.end {
                cuts.push(b);
            }
        }
        for (ss, se) in m.shared_parts(s, map.end) {
            cuts.push(ss);
            cuts.push(se);
        }
        cuts.sort_unstable();
        cuts.dedup();
        for w in cuts.windows(2) {
            let (a, b) = (w[0], w[1]);
            let shared = !m.shared_parts(a, b).is_empty();
            let mut v = Vma {
                start: a,
                end: b,
                perm: map.perm,
                shared,
                offset: 0,
                dev: 0,
                ino: 0,
                name: Vec::new(),
            };
            if let Some((ns, n)) = m.name_at(a) {
                v.offset = n.offset + (a - ns);
                v.dev = n.dev;
                v.ino = n.ino;
                v.name = n.path.to_vec();
            } else if a >= heap.0 && b <= heap.1 && heap.1 > heap.0 {
                v.name = b"[heap]".to_vec();
            } else if info.start_stack >= a && info.start_stack < b {
                v.name = b"[stack]".to_vec();
            }
            if let Some(p) = out.last_mut()
                && p.end == v.start
                && p.perm == v.perm
                && p.shared == v.shared
                && p.name == v.name
                && p.ino == v.ino
                && (p.ino == 0 || p.offset + (p.end - p.start) == v.offset)
            {
                p.end = v.end;
                continue;
            }
            out.push(v);
        }
    }
    out
}

fn kb(bytes: u64) -> u64 {
    bytes / 1024
}

/// `maps`, or `smaps` (each line followed by its sizes).
pub(super) fn maps(p: &Process, smaps: bool) -> Vec<u8> {
    let mut s = String::new();
    for v in vmas(p) {
        let perm = v.perm;
        let mut line = format!(
            "{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {} ",
            v.start,
            v.end,
            if perm.contains(Perm::READ) { 'r' } else { '-' },
            if perm.contains(Perm::WRITE) { 'w' } else { '-' },
            if perm.contains(Perm::EXEC) { 'x' } else { '-' },
            if v.shared { 's' } else { 'p' },
            v.offset,
            (v.dev >> 8) & 0xfff,
            (v.dev & 0xff) | ((v.dev >> 12) & 0xfff00),
            v.ino,
        );
        if !v.name.is_empty() {
            while line.len() < 73 {
                line.push(' ');
            }
            line.push_str(&String::from_utf8_lossy(&v.name));
        }
        s.push_str(&line);
        s.push('\n');
        if smaps {
            let size = kb(v.end - v.start);
            let r = resident(&p.mem, &v);
            let anon = r.rss - r.file;
            let _ = write!(
                s,
                "Size:           {size:8} kB\nKernelPageSize: {:8} kB\nMMUPageSize:    {:8} kB\n\
                 Rss:            {:8} kB\nPss:            {:8} kB\nPss_Dirty:      {:8} kB\n\
                 Shared_Clean:   {:8} kB\nShared_Dirty:   {:8} kB\n\
                 Private_Clean:  {:8} kB\nPrivate_Dirty:  {:8} kB\n\
                 Referenced:     {:8} kB\nAnonymous:      {:8} kB\nKSM:                   0 kB\n\
                 LazyFree:              0 kB\nAnonHugePages:         0 kB\nShmemPmdMapped:        0 kB\n\
                 FilePmdMapped:         0 kB\nShared_Hugetlb:        0 kB\nPrivate_Hugetlb:       0 kB\n\
                 Swap:                  0 kB\nSwapPss:               0 kB\nLocked:                0 kB\n\
                 THPeligible:           0\nVmFlags: {}{}{}mr mw me ac\n",
                PAGE_SIZE / 1024,
                PAGE_SIZE / 1024,
                kb(r.rss),
                kb(r.pss()),
                kb(r.pss_anon()),
                kb(r.file - r.own_file),
                kb(anon - r.own_anon()),
                kb(r.own_file),
                kb(r.own_anon()),
                kb(r.rss),
                kb(anon),
                if perm.contains(Perm::READ) { "rd " } else { "" },
                if perm.contains(Perm::WRITE) {
                    "wr "
                } else {
                    ""
                },
                if perm.contains(Perm::EXEC) { "ex " } else { "" },
            );
        }
    }
    s.into_bytes()
}

/// `smaps_rollup`: the sums of `smaps`.
pub(super) fn rollup(p: &Process) -> Vec<u8> {
    let mut r = Resident::default();
    let (mut lo, mut hi) = (u64::MAX, 0);
    for v in vmas(p) {
        lo = lo.min(v.start);
        hi = hi.max(v.end);
        r.add(resident(&p.mem, &v));
    }
    if lo > hi {
        lo = 0;
    }
    let anon = r.rss - r.file;
    format!(
        "{lo:08x}-{hi:08x} ---p 00000000 00:00 0                          [rollup]\n\
         Rss:            {:8} kB\nPss:            {:8} kB\nPss_Dirty:      {:8} kB\n\
         Pss_Anon:       {:8} kB\nPss_File:       {:8} kB\nPss_Shmem:             0 kB\n\
         Shared_Clean:   {:8} kB\nShared_Dirty:   {:8} kB\nPrivate_Clean:  {:8} kB\n\
         Private_Dirty:  {:8} kB\nReferenced:     {:8} kB\nAnonymous:      {:8} kB\n\
         Swap:                  0 kB\n",
        kb(r.rss),
        kb(r.pss()),
        kb(r.pss_anon()),
        kb(r.pss_anon()),
        kb(r.pss() - r.pss_anon()),
        kb(r.file - r.own_file),
        kb(anon - r.own_anon()),
        kb(r.own_file),
        kb(r.own_anon()),
        kb(r.rss),
        kb(anon)
    )
    .into_bytes()
}

/// What the host's page tables say of a range of guest pages, in bytes:
/// resident, of those file pages (or shared memory), and of each kind
/// those no other process maps (`HostOs::pagemap`'s exclusive bit; a
/// fork's two sides share their untouched private pages, as on Linux).
/// Dirty is not told apart from clean: a resident anonymous page counts
/// as dirty, a file page as clean (a written private file page is
/// anonymous by then).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Resident {
    pub rss: u64,
    pub file: u64,
    pub own: u64,
    pub own_file: u64,
}

impl Resident {
    fn add(&mut self, o: Resident) {
        self.rss += o.rss;
        self.file += o.file;
        self.own += o.own;
        self.own_file += o.own_file;
    }

    fn own_anon(&self) -> u64 {
        self.own - self.own_file
    }

    /// The proportional set size: a page another process maps too is
    /// counted half (the host does not tell an unprivileged process how
    /// many map it; two is a fork's case).
    fn pss(&self) -> u64 {
        self.own + (self.rss - self.own) / 2
    }

    fn pss_anon(&self) -> u64 {
        let anon = self.rss - self.file;
        self.own_anon() + (anon - self.own_anon()) / 2
    }

    /// From pagemap entries (bit 63 present, 61 file or shared memory,
    /// 56 exclusively mapped).
    fn count(&mut self, entries: &[u64]) {
        for &e in entries {
            if e >> 63 & 1 == 0 {
                continue;
            }
            let (file, own) = (e >> 61 & 1 != 0, e >> 56 & 1 != 0);
            self.rss += PAGE_SIZE;
            self.file += PAGE_SIZE * file as u64;
            self.own += PAGE_SIZE * own as u64;
            self.own_file += PAGE_SIZE * (own && file) as u64;
        }
    }
}

/// Pagemap entries asked of the host at a time.
const PAGEMAP_RUN: usize = 4096;

/// What is resident of mapping `v` (nothing of an inaccessible one: its
/// host pages are reserved, never touched).
fn resident(mem: &GuestMemory, v: &Vma) -> Resident {
    let mut r = Resident::default();
    if v.perm.is_empty() {
        return r;
    }
    let mut run = vec![0u64; PAGEMAP_RUN];
    let mut at = v.start;
    while at < v.end {
        let n = ((v.end - at) / PAGE_SIZE).min(PAGEMAP_RUN as u64) as usize;
        let host = mem.host_base().wrapping_add(at as usize);
        match mem.host().pagemap(host, &mut run[..n]) {
            Ok(()) => r.count(&run[..n]),
            // A host that cannot say: all of it, as a host without paging.
            Err(_) => r.count(&vec![1 << 63 | 1 << 56; n]),
        }
        at += n as u64 * PAGE_SIZE;
    }
    r
}

// ---- stat, status, statm ----------------------------------------------------

/// A guest process's memory figures, in bytes, as `stat`, `statm` and
/// `status` show them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct MemSizes {
    /// All mapped (`VmSize`).
    pub total: u64,
    /// Resident (`VmRSS`), and of it anonymous, file and shared-memory
    /// pages (`RssAnon`, `RssFile`, `RssShmem`).
    pub rss: u64,
    pub anon: u64,
    pub file: u64,
    pub shmem: u64,
    /// The most ever resident (`VmHWM`): the host's peak for the process
    /// (its `ru_maxrss`), which holds the guest's.
    pub hwm: u64,
    /// Writable private mappings (`VmData`), the stack, and the main
    /// program's executable mapping (`VmExe`).
    pub data: u64,
    pub stack: u64,
    pub code: u64,
}

impl MemSizes {
    const WORDS: usize = 9;

    /// As words, for another process that asks (`super::peer`).
    pub fn to_words(self) -> [u64; Self::WORDS] {
        let z = self;
        [
            z.total, z.rss, z.anon, z.file, z.shmem, z.hwm, z.data, z.stack, z.code,
        ]
    }

    pub fn from_words(w: &[u64]) -> Option<MemSizes> {
        let &[total, rss, anon, file, shmem, hwm, data, stack, code] = w.get(..Self::WORDS)? else {
            return None;
        };
        Some(MemSizes {
            total,
            rss,
            anon,
            file,
            shmem,
            hwm,
            data,
            stack,
            code,
        })
    }
}

/// The guest's memory figures.
pub(super) fn sizes(p: &Process) -> MemSizes {
    let mut z = MemSizes::default();
    for v in vmas(p) {
        let len = v.end - v.start;
        z.total += len;
        let r = resident(&p.mem, &v);
        z.rss += r.rss;
        z.anon += r.rss - r.file;
        if v.ino == 0 {
            z.shmem += r.file;
        } else {
            z.file += r.file;
        }
        if v.name == b"[stack]" {
            z.stack += len;
        }
        if v.perm.contains(Perm::EXEC) && v.ino != 0 {
            z.code += len;
        }
    }
    z.data = p.mem.maps.lock().data_vm();
    let peak = p
        .host
        .rusage(crate::host::RusageWho::Process)
        .map_or(0, |ru| ru[4].max(0) as u64 * 1024);
    z.hwm = peak.max(z.rss);
    z
}

/// The guest's name (`comm`): the thread's `PR_SET_NAME`, else the
/// program's file name, at most 15 bytes.
/// The name of thread `tid` of this process.
fn task_comm(cx: &Ctx<'_>, tid: i32) -> Vec<u8> {
    let other =
        cx.p.other_threads(cx.t.tid)
            .into_iter()
            .find(|t| t.tid == tid)
            .and_then(|t| *t.name.lock());
    match other {
        Some(n) => n[..n.iter().position(|&b| b == 0).unwrap_or(15)].to_vec(),
        None if tid != cx.t.tid => comm_of_program(cx),
        None => comm(cx),
    }
}

/// The host's `name` file (`stat`, `status`) of thread `tid`, or of the
/// process: a guest thread that has a host thread of its own has the
/// host's, one taking turns on a host thread (`--threads one`) has none;
/// and the state that thread shows, when it waits its turn there (its
/// own, `S` or `R`: [`crate::sched::RunQueue::state`]).
fn task_host_text(cx: &Ctx<'_>, tid: Option<i32>, name: &str) -> (String, Option<u8>) {
    let Some(t) = tid else {
        return (host_text(cx.p.host, name), None);
    };
    let own = host_file(cx.p.host, &format!("/proc/self/task/{t}/{name}")).ok();
    let state = cx.p.green.lock().state(t);
    (own.unwrap_or_else(|| host_text(cx.p.host, name)), state)
}

fn comm(cx: &Ctx<'_>) -> Vec<u8> {
    if let Some(n) = &cx.t.name {
        let len = n.iter().position(|&b| b == 0).unwrap_or(16).min(15);
        return n[..len].to_vec();
    }
    comm_of_program(cx)
}

/// The program's file name, at most 15 bytes (a thread's default name).
fn comm_of_program(cx: &Ctx<'_>) -> Vec<u8> {
    let exe = &cx.p.exe_path;
    let base = exe.rsplit(|&b| b == b'/').next().unwrap_or(exe);
    base[..base.len().min(15)].to_vec()
}

/// A file of the host's `/proc/self`, as text.
fn host_text(host: &dyn HostOs, name: &str) -> String {
    host_file(host, &format!("/proc/self/{name}")).unwrap_or_default()
}

/// A host file (of its procfs), as text.
pub(super) fn host_file(host: &dyn HostOs, path: &str) -> SysResult<String> {
    let fd = host.openat(AT_FDCWD, path.as_bytes(), O_RDONLY | O_CLOEXEC, 0)?;
    let mut v = Vec::new();
    let mut b = [0u8; 4096];
    while let Ok(n) = host.read(fd, &mut b) {
        if n == 0 {
            break;
        }
        v.extend_from_slice(&b[..n]);
    }
    let _ = host.close(fd);
    Ok(String::from_utf8_lossy(&v).into_owned())
}

/// The guest's signal dispositions: (ignored, caught) masks.
fn dispositions(cx: &Ctx<'_>) -> (u64, u64) {
    let t = cx.p.signals.lock();
    let (mut ign, mut cgt) = (0u64, 0u64);
    for (i, a) in t.actions.iter().enumerate() {
        match a.handler {
            crate::signal::SIG_DFL => {}
            crate::signal::SIG_IGN => ign |= 1 << i,
            _ => cgt |= 1 << i,
        }
    }
    (ign, cgt)
}

fn thread_count(cx: &Ctx<'_>) -> usize {
    cx.p.other_threads(i32::MIN).len().max(1)
}

/// Where the main program's executable mapping lies (start, end).
fn code_range(p: &Process) -> (u64, u64) {
    let entry = auxv_get(&p.procfs.info().auxv, 9).unwrap_or(0);
    vmas(p)
        .into_iter()
        .find(|v| v.start <= entry && entry < v.end)
        .map_or((0, 0), |v| (v.start, v.end))
}

fn auxv_get(auxv: &[u8], key: u64) -> Option<u64> {
    auxv.chunks_exact(16).find_map(|c| {
        let k = u64::from_le_bytes(c[..8].try_into().unwrap());
        (k == key).then(|| u64::from_le_bytes(c[8..].try_into().unwrap()))
    })
}

/// `stat` of the process, or of its thread `tid` (`task/<tid>/stat`).
fn stat(cx: &Ctx<'_>, tid: Option<i32>) -> Vec<u8> {
    let (host, state) = task_host_text(cx, tid, "stat");
    let after = host.rfind(')').map_or("", |i| host[i + 1..].trim());
    // Fields from 3 (state) on.
    let mut f: Vec<String> = after.split_whitespace().map(String::from).collect();
    f.resize(50, String::from("0"));
    if let Some(s) = state {
        f[0] = String::from(s as char);
    }
    let set = |f: &mut Vec<String>, field: usize, v: u64| f[field - 3] = format!("{v}");
    let info = cx.p.procfs.info();
    let MemSizes { total, rss, .. } = sizes(cx.p);
    let (code_lo, code_hi) = code_range(cx.p);
    let (ign, cgt) = dispositions(cx);
    let m = cx.mem().maps.lock();
    let (brk_start, mmap_top) = (m.brk_start, m.mmap_top);
    drop(m);
    set(&mut f, 20, thread_count(cx) as u64);
    set(&mut f, 23, total);
    set(&mut f, 24, rss / PAGE_SIZE);
    set(&mut f, 26, code_lo);
    set(&mut f, 27, code_hi);
    set(&mut f, 28, info.start_stack);
    set(&mut f, 29, 0);
    set(&mut f, 30, 0);
    set(&mut f, 31, 0);
    set(&mut f, 32, cx.t.sigmask);
    set(&mut f, 33, ign);
    set(&mut f, 34, cgt);
    set(&mut f, 35, 0);
    set(&mut f, 45, code_hi);
    set(&mut f, 46, brk_start.min(mmap_top));
    set(&mut f, 47, brk_start);
    set(&mut f, 48, info.arg_start);
    set(&mut f, 49, info.arg_end);
    set(&mut f, 50, info.env_start);
    set(&mut f, 51, info.env_end);
    set(&mut f, 52, 0);
    let (id, name) = match tid {
        Some(t) => (t, task_comm(cx, t)),
        None => (cx.p.host.ids().pid, comm(cx)),
    };
    let name = String::from_utf8_lossy(&name).into_owned();
    format!("{id} ({name}) {}\n", f.join(" ")).into_bytes()
}

pub(super) fn statm(p: &Process) -> Vec<u8> {
    let z = sizes(p);
    let pg = |b: u64| b / PAGE_SIZE;
    format!(
        "{} {} {} {} 0 {} 0\n",
        pg(z.total),
        pg(z.rss),
        pg(z.file + z.shmem),
        pg(z.code),
        pg(z.data + z.stack)
    )
    .into_bytes()
}

/// `status` of the process, or of its thread `tid` (`task/<tid>/status`).
fn status(cx: &Ctx<'_>, tid: Option<i32>) -> Vec<u8> {
    let (host, state) = task_host_text(cx, tid, "status");
    let z = sizes(cx.p);
    let (ign, cgt) = dispositions(cx);
    let pending = {
        let t = cx.p.signals.lock();
        t.shared.set()
    };
    let nnp = cx.p.prctl.no_new_privs.load(Ordering::Relaxed);
    let name = tid.map_or_else(|| comm(cx), |t| task_comm(cx, t));
    let name = String::from_utf8_lossy(&name).into_owned();
    let mut out = String::new();
    for line in host.lines() {
        let key = line.split(':').next().unwrap_or("");
        if let Some(v) = status_memory(key, &z) {
            let _ = writeln!(out, "{key}:\t{v}");
            continue;
        }
        let v = match key {
            "Name" => name.clone(),
            "Pid" if tid.is_some() => format!("{}", tid.unwrap_or(0)),
            "State" if state.is_some() => String::from(match state {
                Some(b'R') => "R (running)",
                Some(b't') => "t (tracing stop)",
                _ => "S (sleeping)",
            }),
            "Threads" => format!("{}", thread_count(cx)),
            "SigPnd" => format!("{:016x}", cx.t.pending.set()),
            "ShdPnd" => format!("{pending:016x}"),
            "SigBlk" => format!("{:016x}", cx.t.sigmask),
            "SigIgn" => format!("{ign:016x}"),
            "SigCgt" => format!("{cgt:016x}"),
            "NoNewPrivs" => format!("{nnp}"),
            "Seccomp" | "Seccomp_filters" => String::from("0"),
            _ => {
                out.push_str(line);
                out.push('\n');
                continue;
            }
        };
        let _ = writeln!(out, "{key}:\t{v}");
    }
    out.into_bytes()
}

/// The value of memory line `key` of `status` for a process of these
/// sizes; `None` for a line that is not about memory.
pub(super) fn status_memory(key: &str, z: &MemSizes) -> Option<String> {
    let kb = |b: u64| format!("{:8} kB", b / 1024);
    Some(match key {
        "VmPeak" | "VmSize" => kb(z.total),
        "VmHWM" => kb(z.hwm),
        "VmRSS" => kb(z.rss),
        "RssAnon" => kb(z.anon),
        "RssFile" => kb(z.file),
        "RssShmem" => kb(z.shmem),
        "VmLck" | "VmPin" | "VmLib" | "VmSwap" => kb(0),
        "VmData" => kb(z.data),
        "VmStk" => kb(z.stack),
        "VmExe" => kb(z.code),
        "VmPTE" => kb((z.total / 512).max(4096)),
        _ => return None,
    })
}

/// `syscall`: the call being made (this `openat`) as Linux shows a task
/// reading its own file: number, six arguments, stack pointer and pc.
fn syscall_line(cx: &Ctx<'_>) -> Vec<u8> {
    let x = &cx.t.cpu.x;
    format!(
        "{} {:#x} {:#x} {:#x} {:#x} {:#x} {:#x} {:#x} {:#x}\n",
        x[17],
        x[10],
        x[11],
        x[12],
        x[13],
        x[14],
        x[15],
        x[2],
        cx.t.cpu.pc.wrapping_sub(4)
    )
    .into_bytes()
}

/// `/proc/cpuinfo` of an RV64GC machine with the host's number of CPUs,
/// as Linux 6.x prints it for riscv; the ISA string is
/// [`super::hwprobe::isa_string`], what `riscv_hwprobe` reports.
fn cpuinfo(cx: &Ctx<'_>) -> Vec<u8> {
    let mut s = String::new();
    let isa = super::hwprobe::isa_string();
    for cpu in 0..cx.p.host.cpu_count().max(1) {
        let _ = write!(
            s,
            "processor\t: {cpu}\nhart\t\t: {cpu}\nisa\t\t: {isa}\n\
             mmu\t\t: sv39\nmvendorid\t: 0x0\nmarchid\t\t: 0x0\nmimpid\t\t: 0x0\n\
             hart isa\t: {isa}\n\n"
        );
    }
    s.into_bytes()
}

/// `personality`: the guest's own value (PER_LINUX and flags), kept in
/// the core so nothing of it reaches pvm's host process; 0xffffffff
/// queries.
pub(super) fn personality(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let st = &cx.p.procfs.personality;
    let old = st.load(Ordering::Relaxed);
    if a[0] as u32 != 0xffff_ffff {
        st.store(a[0] as u32, Ordering::Relaxed);
    }
    Ok(old as u64)
}

// ---- process_vm_readv / process_vm_writev ---------------------------------

/// `process_vm_readv`/`process_vm_writev`: on the guest's own pid, a copy
/// between its own ranges (as Linux does for a process that targets
/// itself); another process's memory is a VM's host memory: `EPERM` (or
/// `ESRCH` when there is no such process).
pub(super) fn process_vm(cx: &mut Ctx<'_>, a: &[u64; 6], write: bool) -> R {
    let (pid, liov, lcnt, riov, rcnt, flags) = (a[0] as i32, a[1], a[2], a[3], a[4], a[5]);
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let local = super::fs::iovecs(cx, liov, lcnt)?;
    let remote = super::fs::iovecs(cx, riov, rcnt)?;
    if pid != cx.p.host.ids().pid {
        if pid <= 0 {
            return Err(Errno::ESRCH);
        }
        return match cx.p.host.kill(pid, 0) {
            Err(Errno::ESRCH) => Err(Errno::ESRCH),
            _ => Err(Errno::EPERM),
        };
    }
    let mem = cx.mem();
    // Copy through a staging buffer, remote range by remote range; stop at
    // the first remote fault (a partial count), fail with EFAULT if
    // nothing moved.
    let mut li = local.iter().copied().filter(|&(_, l)| l > 0);
    let mut cur: Option<(u64, u64)> = li.next();
    let mut done: u64 = 0;
    'outer: for (rbase, rlen) in remote {
        let mut off = 0;
        while off < rlen {
            let Some((lb, ll)) = cur else {
                break 'outer;
            };
            let want = (rlen - off).min(ll).min(1 << 16);
            let (src, dst) = if write {
                (lb, rbase.wrapping_add(off))
            } else {
                (rbase.wrapping_add(off), lb)
            };
            // The bytes both sides allow, up to the first bad page.
            let n = super::usable(mem, src, want, Access::Read)
                .unwrap_or(0)
                .min(super::usable(mem, dst, want, Access::Write).unwrap_or(0))
                as u64;
            if n > 0 {
                let mut b = vec![0u8; n as usize];
                mem.read_bytes(src, &mut b).map_err(|_| Errno::EFAULT)?;
                mem.write_bytes(dst, &b).map_err(|_| Errno::EFAULT)?;
            }
            done += n;
            if n < want {
                if done == 0 {
                    return Err(Errno::EFAULT);
                }
                break 'outer;
            }
            off += n;
            cur = if n == ll {
                li.next()
            } else {
                Some((lb + n, ll - n))
            };
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_reads_and_writes_through_any_permission() {
        use crate::testhost::TestHost;
        let mem = GuestMemory::new(TestHost::leak(), 1 << 24).unwrap();
        let rw = Perm::READ | Perm::WRITE;
        mem.map(0x10000, 0x3000, rw, true).unwrap();
        mem.write_bytes(0x10ff8, b"abcdefghijklmnop").unwrap();
        mem.protect(0x10000, 0x1000, Perm::READ).unwrap();
        mem.protect(0x11000, 0x1000, Perm::empty()).unwrap();
        // Read across a read-only and a PROT_NONE page, then past the end.
        let mut b = [0u8; 16];
        assert_eq!(read_force(&mem, 0x10ff8, &mut b), 16);
        assert_eq!(&b, b"abcdefghijklmnop");
        let mut tail = [0u8; 32];
        assert_eq!(read_force(&mem, 0x12ff0, &mut tail), 16);
        assert_eq!(read_force(&mem, 0x20000, &mut tail), 0);
        assert_eq!(read_force(&mem, u64::MAX - 4, &mut tail), 0);
        // Write through the read-only page: the guest's permission stays.
        assert_eq!(write_force(&mem, 0x10ffc, b"XY"), 2);
        assert_eq!(mem.perm(0x10000), Perm::READ);
        assert_eq!(mem.read_u16(0x10ffc).unwrap(), u16::from_le_bytes(*b"XY"));
        assert!(mem.write_bytes(0x10000, b"z").is_err());
        assert_eq!(write_force(&mem, 0x20000, b"no"), 0);
        // pagemap: mapped pages present, holes not, no frame numbers.
        let pm = pagemap(&mem, 0x10000 / 4096 * 8, 32).unwrap();
        let e = |i: usize| u64::from_le_bytes(pm[i * 8..i * 8 + 8].try_into().unwrap());
        assert_eq!((e(0), e(2), e(3)), (1 << 63, 1 << 63, 0));
        assert_eq!(pagemap(&mem, 4, 8), Err(Errno::EINVAL));
    }

    #[test]
    fn normalize_paths() {
        assert_eq!(normalize(b"//proc//self/./maps"), b"/proc/self/maps");
        assert_eq!(normalize(b"/proc/self/../self/mem"), b"/proc/self/mem");
        assert_eq!(normalize(b"/../.."), b"/");
    }

    #[test]
    fn classify_own_and_others() {
        assert_eq!(classify(7, b"/proc/7/maps"), Some(Node::Maps));
        assert_eq!(classify(7, b"/proc/7/task/8/mem"), Some(Node::Mem));
        assert_eq!(classify(7, b"/proc/7/task/8/comm"), Some(Node::TaskComm(8)));
        assert_eq!(classify(7, b"/proc/7/exe"), Some(Node::Exe));
        assert_eq!(
            classify(7, b"/proc/7/map_files/1000-2000"),
            Some(Node::Refuse)
        );
        assert_eq!(classify(7, b"/proc/7/fd/3"), None);
        assert_eq!(classify(7, b"/proc/cpuinfo"), Some(Node::Cpuinfo));
        // Another process: the files it answers for (when it is a pvm of
        // the tree), those always refused, and the host's.
        assert_eq!(
            classify(7, b"/proc/9/mem"),
            Some(Node::Other(9, PeerAsk::MemRead))
        );
        assert_eq!(
            classify(7, b"/proc/9/task/9/maps"),
            Some(Node::Other(9, PeerAsk::Maps))
        );
        assert_eq!(
            classify(7, b"/proc/9/exe"),
            Some(Node::Other(9, PeerAsk::Exe))
        );
        assert_eq!(classify(7, b"/proc/9/pagemap"), Some(Node::Refuse));
        assert_eq!(classify(7, b"/proc/9/status"), None);
        assert_eq!(classify(7, b"/proc/meminfo"), None);
        assert_eq!(task_tid(b"/proc/7/task/12/maps"), Some(12));
    }
}
