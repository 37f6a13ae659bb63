//! Descriptors the host holds for itself in the guest's descriptor table
//! ([`HostOs::is_own_fd`]: a debugger stub's connection and files, a
//! sandbox's roots) are not the guest's: for the guest they are not open.
//! Everything the guest can do to one answers exactly what it answers for
//! a number that is not open, checks in the same order included (a call
//! that refuses without privilege before it looks at its descriptor still
//! does):
//!
//! * A descriptor argument ([`gate`]): the argument kinds `--strace`
//!   decodes plus those of [`more_fd_args`] (every Linux riscv64 call that
//!   takes one: `waitid(P_PIDFD)`, the mount API, `fanotify_mark`,
//!   `pidfd_getfd`, `kcmp`, `setns`, ...) is replaced by [`NOT_OPEN`], a
//!   number no process has open, before the handler runs: `read`, `fstat`,
//!   `fcntl`, `close`, `dup3`/`dup2` onto one (`EBADF`, as Linux answers a
//!   number past the limit), `mmap` of one, `*at` calls with one as the
//!   directory of a relative or empty path, `finit_module` (`EPERM` first,
//!   as for any number)...
//! * Its entry in `/proc/self/fd` and `/proc/self/fdinfo` (any spelling:
//!   `/proc/PID`, `task/TID`, `thread-self`, relative to a directory under
//!   `/proc`), and anything below it, in every path argument of every call
//!   ([`path_args`]): the path is read once here, and the handler gets it
//!   with the number replaced by [`NOT_OPEN`] (`Ctx::path`); listings of
//!   those directories leave them out ([`filter_dirents`]). A path whose
//!   resolution reaches such an entry through symbolic links the guest
//!   made (to the entry, to `/proc/self/fd`, `/dev/fd`, `/proc/self`, a
//!   chain of them) is resolved here, link by link as the kernel would
//!   ([`walk`]), and renamed the same way. Unless the host resolves paths
//!   itself ([`HostOs::confines_paths`]), a call with a directory argument
//!   is then made from the directory the walk holds, with the name it
//!   checked ([`pin`]): what the walk checked is what the call uses, even
//!   if another process swaps a directory of the path for a link. The
//!   same string given twice (`linkat(d1, p, d2, p)`) is walked from each
//!   directory; a slash after the last name is followed where the kernel
//!   would follow a link there ([`slash_follows`]), so the object found
//!   is used, not the name again; and a host program `execve` runs
//!   natively is run from the descriptor the walk opened (the host's
//!   `execveat(fd, "", AT_EMPTY_PATH)`).
//! * The path of an `AF_UNIX` address given to `bind`, `connect`,
//!   `sendto` or `sendmsg` ([`hide_sockaddr`]), the same way.
//! * Inside structures, where the host does it: `poll`/`ppoll` and
//!   `select`/`pselect6` see `POLLNVAL`/`EBADF`, `SCM_RIGHTS` in `sendmsg`
//!   is `EBADF`, `close_range` closes around them. `setsockopt`'s program
//!   descriptor (`SO_ATTACH_BPF`) is replaced here.
//! * Calls that create descriptors cannot land on one (the host kernel
//!   gives out free numbers only); the one that picks its number, `dup3`,
//!   is above.
//!
//! Calls pvm does not implement (`ENOSYS` whatever the descriptor:
//! `sendmmsg`, `pidfd_getfd`, `kcmp`, `io_uring_*`, `landlock_*`...) are in
//! the table too, so that one that gets a handler is gated from its first
//! day. With no such descriptor ([`HostOs::has_own_fds`] false) none of
//! this runs, except the part of [`super::tasks`] a host that runs the
//! guest's threads in turn needs.

use super::{Ctx, nr, procfs, strace, tasks};
use crate::abi::AT_FDCWD;
use crate::host::{Errno, HostOs, SysResult};
use alloc::vec::Vec;

/// A descriptor number no process has open (past any `RLIMIT_NOFILE`
/// Linux allows), which the host's kernel answers as it answers a closed
/// one.
pub(super) const NOT_OPEN: i32 = i32::MAX;

/// Does [`gate`] have anything to do on this host?
pub(super) fn gated(host: &dyn HostOs) -> bool {
    host.has_own_fds() || tasks::needed(host)
}

/// Tell the host which descriptors call `n` (arguments `a`, result `r`)
/// gave the guest ([`HostOs::note_guest_fd`]), so that it knows how big
/// the guest's descriptor table would be (`select` looks no further):
/// the result of a call that returns a new descriptor, the pair
/// `pipe2`/`socketpair` write, and `dup3`'s target, which Linux makes
/// room for before it looks at the old descriptor. Descriptors that
/// arrive otherwise (`SCM_RIGHTS`, a `clone` pidfd) the host finds open
/// when it is asked.
pub(super) fn note_new(cx: &Ctx<'_>, n: u64, a: &[u64; 6], r: &SysResult<u64>) {
    use crate::abi::{F_DUPFD, F_DUPFD_CLOEXEC};
    use nr::*;
    let host = cx.p.host;
    if !host.has_own_fds() {
        return;
    }
    let v = match (n, r) {
        (DUP3, Err(Errno::EBADF)) => {
            let soft = host.prlimit(7, None).map_or(0, |l| l.0);
            if a[1] as u32 as u64 >= soft {
                return;
            }
            host.note_guest_fd(a[1] as i32);
            return;
        }
        (_, Err(_)) => return,
        (_, Ok(v)) => *v as i32,
    };
    match n {
        OPENAT
        | OPENAT2
        | DUP
        | DUP3
        | SOCKET
        | ACCEPT
        | ACCEPT4
        | EPOLL_CREATE1
        | EVENTFD2
        | SIGNALFD4
        | TIMERFD_CREATE
        | INOTIFY_INIT1
        | MEMFD_CREATE
        | PIDFD_OPEN
        | OPEN_TREE
        | FSOPEN
        | FSMOUNT
        | FSPICK
        | FANOTIFY_INIT
        | PIDFD_GETFD
        | OPEN_BY_HANDLE_AT
        | MEMFD_SECRET
        | USERFAULTFD
        | PERF_EVENT_OPEN
        | IO_URING_SETUP
        | LANDLOCK_CREATE_RULESET
        | MQ_OPEN
        | BPF => host.note_guest_fd(v),
        FCNTL if matches!(a[1] as i32, F_DUPFD | F_DUPFD_CLOEXEC) => host.note_guest_fd(v),
        PIPE2 | SOCKETPAIR => {
            let at = if n == PIPE2 { a[0] } else { a[3] };
            if let Ok(b) = super::get::<8>(cx.mem(), at) {
                host.note_guest_fd(i32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                host.note_guest_fd(i32::from_le_bytes([b[4], b[5], b[6], b[7]]));
            }
        }
        _ => {}
    }
}

/// Descriptor arguments of calls `--strace` does not decode: (index, the
/// path argument it is the directory of).
fn more_fd_args(n: u64) -> &'static [(usize, Option<usize>)] {
    match n {
        nr::INOTIFY_ADD_WATCH
        | nr::INOTIFY_RM_WATCH
        | nr::PREADV
        | nr::PWRITEV
        | nr::PREADV2
        | nr::PWRITEV2
        | nr::SYNC_FILE_RANGE
        | nr::READAHEAD
        | nr::PIDFD_SEND_SIGNAL
        | nr::FINIT_MODULE
        | nr::VMSPLICE
        | nr::FSCONFIG
        | nr::FSMOUNT
        | nr::SETNS
        | nr::QUOTACTL_FD
        | nr::LANDLOCK_ADD_RULE
        | nr::LANDLOCK_RESTRICT_SELF
        | nr::PROCESS_MADVISE
        | nr::PROCESS_MRELEASE
        | nr::IO_URING_ENTER
        | nr::IO_URING_REGISTER => &[(0, None)],
        nr::PIDFD_GETFD | nr::KEXEC_FILE_LOAD => &[(0, None), (1, None)],
        nr::MKNODAT
        | nr::EXECVEAT
        | nr::OPENAT2
        | nr::OPEN_TREE
        | nr::FSPICK
        | nr::NAME_TO_HANDLE_AT
        | nr::MOUNT_SETATTR => &[(0, Some(1))],
        nr::OPEN_BY_HANDLE_AT => &[(0, None)],
        nr::FANOTIFY_MARK => &[(0, None), (3, Some(4))],
        nr::MOVE_MOUNT => &[(0, Some(1)), (2, Some(3))],
        _ => &[],
    }
}

/// Descriptor arguments that are one only for some values of the others.
fn fd_args_if(n: u64, a: &[u64; 6]) -> Option<usize> {
    const P_PIDFD: u64 = 3;
    const KCMP_FILE: u64 = 0;
    const KCMP_EPOLL_TFD: u64 = 7;
    match n {
        nr::WAITID if a[0] == P_PIDFD => Some(1),
        // kcmp(pid1, pid2, type, idx1, idx2): the second descriptor
        // (the first, idx1, is the other process's when pid1 is not ours).
        nr::KCMP if a[2] == KCMP_FILE || a[2] == KCMP_EPOLL_TFD => Some(4),
        _ => None,
    }
}

/// Path arguments (index, the descriptor argument it is relative to) of
/// the calls that take one: the strings a path lookup resolves (not a
/// symbolic link's target, a `memfd` or attribute name).
fn path_args(n: u64) -> &'static [(usize, Option<usize>)] {
    use nr::*;
    match n {
        OPENAT | NEWFSTATAT | STATX | FACCESSAT | FACCESSAT2 | READLINKAT | MKDIRAT | MKNODAT
        | UNLINKAT | FCHMODAT | FCHOWNAT | UTIMENSAT | EXECVEAT | OPENAT2 | NAME_TO_HANDLE_AT
        | OPEN_TREE | FSPICK | MOUNT_SETATTR => &[(1, Some(0))],
        SYMLINKAT => &[(2, Some(1))],
        LINKAT | RENAMEAT2 | MOVE_MOUNT => &[(1, Some(0)), (3, Some(2))],
        FANOTIFY_MARK => &[(4, Some(3))],
        INOTIFY_ADD_WATCH => &[(1, None)],
        TRUNCATE | CHDIR | STATFS | EXECVE | CHROOT | ACCT | SWAPON | SWAPOFF | UMOUNT2
        | SETXATTR | LSETXATTR | GETXATTR | LGETXATTR | LISTXATTR | LLISTXATTR | REMOVEXATTR
        | LREMOVEXATTR => &[(0, None)],
        MOUNT | PIVOT_ROOT => &[(0, None), (1, None)],
        _ => &[],
    }
}

/// The key (counting down from here by argument index) under which
/// [`gate`] files the second path argument of a call that was given the
/// same string twice: above every guest address, so that only the table
/// answers for it.
const TWICE: u64 = u64::MAX - 8;

/// Does a slash after the last name of `p` (path argument `i` of call
/// `n`) make the kernel follow a symbolic link there, whatever the call's
/// flags say? It does (`LOOKUP_FOLLOW` with the slash) except for the
/// names a call creates, removes or renames, which it takes from their
/// directory without following (`mkdir`, `mknod`, `unlink`/`rmdir`,
/// `symlink`'s new link, `rename` at both ends, `link`'s new name); and a
/// `.` after it makes the name a directory on the way, followed by
/// every call.
fn slash_follows(n: u64, i: usize, p: &[u8]) -> bool {
    use nr::*;
    let comps: Vec<&[u8]> = p.split(|&c| c == b'/').collect();
    let Some(k) = comps.iter().rposition(|c| !c.is_empty() && *c != b".") else {
        return false;
    };
    if comps[k] == b".." || k + 1 == comps.len() {
        return false;
    }
    comps[k + 1..].contains(&&b"."[..])
        || !(matches!(n, MKDIRAT | MKNODAT | UNLINKAT | SYMLINKAT | RENAMEAT2)
            || n == LINKAT && i == 3)
}

/// Call `n`'s arguments as its handler is to see them: each of the host's
/// own descriptors replaced by [`NOT_OPEN`], and its path arguments read
/// into `cx.paths`, with an own descriptor's `/proc` entry renamed the
/// same way (and a thread directory the host does not have, see
/// [`tasks::rename`]).
pub(super) fn gate(cx: &mut Ctx<'_>, n: u64, a: &[u64; 6]) -> SysResult<[u64; 6]> {
    let host = cx.p.host;
    let own_fds = host.has_own_fds();
    let mut b = *a;
    // Directory arguments the handler's call is now made from.
    let mut pinned: Vec<(usize, u64)> = Vec::new();
    let args = path_args(n);
    // Paths first, once: the checks below and the handler see one string.
    for &(i, dir) in args {
        let addr = a[i];
        if addr == 0 {
            continue;
        }
        // The same string twice (`linkat(d1, p, d2, p)`): each argument
        // is walked from its own directory, and the second is keyed apart
        // in the table (the handler looks it up by the key it is given),
        // so that each call is made from what its own walk found.
        let key = if args.iter().any(|&(j, _)| j < i && a[j] == addr) {
            TWICE - i as u64
        } else {
            addr
        };
        b[i] = key;
        let dirfd = dir.map_or(AT_FDCWD, |d| a[d] as i32);
        // A thread directory the host does not have is renamed first, so
        // that the walk finds what the host's lookup would.
        let p = super::path(cx.mem(), addr).map(|p| tasks::rename(cx, n, p));
        let follow = follows_last(cx, n, a, i) || p.as_ref().is_ok_and(|p| slash_follows(n, i, p));
        let p = match (p, dir) {
            (Ok(p), Some(d)) if own_fds && pins(cx, n, a) => {
                let held = cx.held.len();
                let r = pin(cx, n, a, d, p, follow, &mut b);
                if cx.held.len() > held {
                    pinned.push((d, key));
                }
                r
            }
            (Ok(p), None) if own_fds && pins_named(cx, n) => pin_named(cx, n, a, p, follow),
            (Ok(p), _) if own_fds => Ok(hide_path(cx, dirfd, p, follow)),
            (p, _) => p,
        };
        cx.paths.push((key, p));
    }
    // The descriptors held for the call are the host's own from now on:
    // a name checked before one took its number does not reach it.
    for &(d, addr) in &pinned {
        let dir = b[d] as i32;
        if let Some((_, Ok(name))) = cx.paths.iter_mut().find(|(p, _)| *p == addr) {
            let first = name.split(|&c| c == b'/').next().unwrap_or_default();
            if number(first).is_some_and(|f| host.is_own_fd(f)) && is_own_fd_dir(host, dir) {
                let mut v = alloc::format!("{NOT_OPEN}").into_bytes();
                v.extend_from_slice(&name[first.len()..]);
                *name = v;
            }
        }
    }
    if !own_fds {
        return Ok(b);
    }
    let own = |i: usize| host.is_own_fd(a[i] as i32);
    let extra = fd_args_if(n, a).map(|i| (i, None));
    for (i, dir_of) in strace::fd_args(n)
        .chain(more_fd_args(n).iter().copied())
        .chain(extra)
    {
        // `mmap` ignores the descriptor of an anonymous mapping; a
        // directory the gate resolved the path from is the gate's.
        if n == nr::MMAP && a[3] & crate::abi::MAP_ANONYMOUS != 0
            || !own(i)
            || pinned.iter().any(|p| p.0 == i)
        {
            continue;
        }
        // A directory counts only for a relative (or empty) path.
        let relative = match dir_of {
            Some(p) => cx.path(b[p]).map_or(true, |s| s.first() != Some(&b'/')),
            None => true,
        };
        if relative {
            b[i] = NOT_OPEN as u64;
        }
    }
    if n == nr::SETSOCKOPT {
        sockopt_fd(cx, &b)?;
    }
    Ok(b)
}

/// Close the directories (and objects) [`gate`] resolved paths to, once
/// the call is over.
pub(super) fn release(cx: &mut Ctx<'_>) {
    for fd in cx.held.drain(..) {
        cx.p.host.drop_own_fd(fd);
    }
}

/// `setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF or SO_ATTACH_REUSEPORT_EBPF,
/// &prog, 4)`: the program is a descriptor. One of the host's own is
/// answered as Linux answers a closed one: the socket's own error first
/// (`EBADF`, `ENOTSOCK`), else `EBADF` (the length and pointer are good:
/// the descriptor was read).
fn sockopt_fd(cx: &Ctx<'_>, b: &[u64; 6]) -> SysResult<()> {
    use crate::abi::{SO_TYPE, SOL_SOCKET};
    // SO_ATTACH_BPF, SO_ATTACH_REUSEPORT_EBPF
    if b[1] as i32 != SOL_SOCKET || !matches!(b[2], 50 | 52) || (b[4] as u32) < 4 {
        return Ok(());
    }
    let Ok(v) = cx.mem().read_u32(b[3]) else {
        return Ok(());
    };
    if !cx.p.host.is_own_fd(v as i32) {
        return Ok(());
    }
    let mut ty = [0u8; 4];
    cx.p.host
        .getsockopt(b[0] as i32, SOL_SOCKET, SO_TYPE, &mut ty)?;
    Err(Errno::EBADF)
}
/// `sun_path`'s size in `struct sockaddr_un`.
const SUN_PATH: usize = 108;

/// A guest socket address as the host is to see it: an `AF_UNIX` path
/// that reaches the entry of one of the host's own descriptors (see
/// [`hide_path`]; `follow`: a link in its last component is followed, as
/// by `connect`, not `bind`) names a closed number's entry instead, which
/// the host answers as Linux does (`ENOENT`). Any other address as it is.
pub(super) fn hide_sockaddr(cx: &Ctx<'_>, addr: Vec<u8>, follow: bool) -> Vec<u8> {
    let host = cx.p.host;
    let unix =
        addr.len() > 2 && u16::from_le_bytes([addr[0], addr[1]]) == crate::abi::AF_UNIX as u16;
    // An abstract name (a NUL first) or none at all reaches no file.
    if !host.has_own_fds() || !unix || addr[2] == 0 {
        return addr;
    }
    let raw = &addr[2..];
    let p = raw[..raw.iter().position(|&b| b == 0).unwrap_or(raw.len())].to_vec();
    let renamed = hide_path(cx, AT_FDCWD, p.clone(), follow);
    if renamed == p {
        return addr;
    }
    // The renamed path may not fit where the guest's did: any path to the
    // closed entry answers the same (its lookup fails first).
    let renamed = if renamed.len() < SUN_PATH {
        renamed
    } else {
        alloc::format!("/proc/self/fd/{NOT_OPEN}").into_bytes()
    };
    let mut v = addr[..2].to_vec();
    v.extend_from_slice(&renamed);
    v.push(0);
    v
}

/// Does call `n` follow a symbolic link in the last component of its
/// path argument `i` (as its flags say)? Where it cannot be told, yes:
/// then a link to an own descriptor's entry answers as one to a closed
/// number's entry, never reaching the descriptor.
fn follows_last(cx: &Ctx<'_>, n: u64, a: &[u64; 6], i: usize) -> bool {
    use crate::abi::{AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, O_CREAT, O_EXCL, O_NOFOLLOW};
    use nr::*;
    let nofollow = |flags: u64| flags as i32 & AT_SYMLINK_NOFOLLOW != 0;
    let open_nofollow =
        |flags: i32| flags & O_NOFOLLOW != 0 || flags & (O_CREAT | O_EXCL) == O_CREAT | O_EXCL;
    match n {
        OPENAT => !open_nofollow(a[2] as i32),
        OPENAT2 => cx
            .mem()
            .read_u64(a[2])
            .map_or(true, |f| !open_nofollow(f as i32)),
        NEWFSTATAT | UTIMENSAT | FACCESSAT2 => !nofollow(a[3]),
        STATX | OPEN_TREE | MOUNT_SETATTR => !nofollow(a[2]),
        FCHOWNAT | EXECVEAT => !nofollow(a[4]),
        NAME_TO_HANDLE_AT => a[4] as i32 & AT_SYMLINK_FOLLOW != 0,
        LINKAT => i == 1 && a[4] as i32 & AT_SYMLINK_FOLLOW != 0,
        // IN_DONT_FOLLOW
        INOTIFY_ADD_WATCH => a[2] & 0x0200_0000 == 0,
        READLINKAT | MKDIRAT | MKNODAT | UNLINKAT | SYMLINKAT | RENAMEAT2 | LSETXATTR
        | LGETXATTR | LLISTXATTR | LREMOVEXATTR => false,
        _ => true,
    }
}

/// If the guest path `p` (relative to `dirfd`) reaches the entry of one
/// of the host's own descriptors in this process's `fd/` or `fdinfo/`, or
/// anything below it, by its spelling or through symbolic links (`follow`:
/// a link in the last component is followed): a path to the same entry
/// with [`NOT_OPEN`] for its number, which the host answers as it answers
/// the entry of a closed descriptor (`ENOENT`, or what the call gives for
/// a missing name). Else `p`.
fn hide_path(cx: &Ctx<'_>, dirfd: i32, p: Vec<u8>, follow: bool) -> Vec<u8> {
    match hide_entry(cx, dirfd, &p) {
        Some(v) => v,
        None => through_links(cx, dirfd, &p, follow).unwrap_or(p),
    }
}

/// [`hide_path`] for a path that names the entry itself (any spelling,
/// `..` taken lexically, as `/proc`'s directories are not links).
fn hide_entry(cx: &Ctx<'_>, dirfd: i32, p: &[u8]) -> Option<Vec<u8>> {
    let host = cx.p.host;
    if p.first() == Some(&b'/') && !p.windows(2).any(|w| w == b"fd") {
        return None;
    }
    let n = procfs::lexical(cx, dirfd, p)?;
    let (at, _) = own_fd_entry(host.ids().pid, &n).filter(|e| host.is_own_fd(e.1))?;
    // The guest's spelling stays (`/proc/self` and `/proc/PID` may be
    // treated differently, by a sandbox for one): only the number changes.
    let num = &n[at.clone()];
    let not_open = alloc::format!("{NOT_OPEN}");
    let mut v = Vec::with_capacity(p.len() + 8);
    let mut found = false;
    for (k, c) in p.split(|&b| b == b'/').enumerate() {
        if k > 0 {
            v.push(b'/');
        }
        if c == num {
            v.extend_from_slice(not_open.as_bytes());
            found = true;
        } else {
            v.extend_from_slice(c);
        }
    }
    if found {
        return Some(v);
    }
    // The number came from the directory: the canonical path, renamed.
    let mut v = n[..at.start].to_vec();
    v.extend_from_slice(not_open.as_bytes());
    v.extend_from_slice(&n[at.end..]);
    Some(v)
}

/// Symbolic links one resolution follows at most (Linux's `MAXSYMLINKS`).
const MAX_LINKS: usize = 40;

/// A host descriptor [`walk`] opened, closed when dropped.
struct Held<'a>(&'a dyn HostOs, i32);

impl Held<'_> {
    /// The descriptor, no longer closed when this is dropped.
    fn keep(self) -> i32 {
        let fd = self.1;
        core::mem::forget(self);
        fd
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.drop_own_fd(self.1);
    }
}

/// What [`walk`] found in the last component.
enum Last<'a> {
    /// The call looks it up itself: it does not follow a link there, or
    /// the link is one of `/proc`'s, which the guest cannot change.
    AsIs,
    /// It exists, is not a symbolic link, and the call would follow one
    /// there: the object itself, held.
    Object(Held<'a>),
    /// It does not exist, and the call would follow a link there.
    Missing,
}

/// Where [`walk`] left a guest path.
enum Walked<'a> {
    /// Not walked (an empty path, or one relative to one of the host's
    /// own descriptors): the handler answers for it.
    Not,
    /// The lookup fails with this error, as the kernel's does.
    Fails(Errno),
    /// The path names `name` in the directory held in `dir` (`name` has
    /// no symbolic link to follow but `/proc`'s: one component, with the
    /// slashes and `.`s the path had after it, or `NOT_OPEN[/rest]` in an
    /// `fd` or `fdinfo` directory of this process when `reached`).
    /// `text`: the path resolved so far as a string and `name` (relative
    /// to the walk's `dirfd` unless it starts with a slash), which names
    /// the same thing while nothing changes.
    At {
        dir: Held<'a>,
        name: Vec<u8>,
        last: Last<'a>,
        reached: bool,
        text: Vec<u8>,
    },
}

/// Resolve the guest path `p` (relative to `dirfd`) one component at a
/// time as the kernel does, each from a descriptor of the directory
/// reached so far, so that what is checked is what is used: a component
/// is opened without following (`O_PATH | O_NOFOLLOW`), a symbolic link
/// outside `/proc` is followed by its text (read from the link opened, not
/// by name again), `..` is the parent of the directory held, and a link
/// in `/proc` (`self`, a descriptor's entry, `cwd`...) is the kernel's to
/// follow, from the directory held (with `resolve`, `openat2`'s
/// `RESOLVE_*` flags of the call, so that `RESOLVE_NO_MAGICLINKS` refuses
/// one as the kernel's lookup would). `follow`: a link in the last
/// component is followed (a slash after it follows one too). Stops at
/// the entry of one of the host's own descriptors (named in an `fd` or
/// `fdinfo` directory of this process, followed or not).
fn walk<'h>(host: &'h dyn HostOs, dirfd: i32, p: &[u8], follow: bool, resolve: u64) -> Walked<'h> {
    use crate::abi::{
        AT_EMPTY_PATH, O_CLOEXEC, O_NOFOLLOW, O_PATH, PROC_SUPER_MAGIC, S_IFLNK, S_IFMT,
    };
    let abs = p.first() == Some(&b'/');
    if p.is_empty() || !abs && host.is_own_fd(dirfd) {
        return Walked::Not;
    }
    // An absolute path is looked up where the host's calls look it up.
    let mapped;
    let p = if abs {
        mapped = host.host_name(p);
        &mapped[..]
    } else {
        p
    };
    let open = |at: i32, name: &[u8], flags: i32| {
        host.openat(at, name, O_PATH | O_CLOEXEC | flags, 0)
            .map(|fd| Held(host, fd))
    };
    let start = if abs {
        open(AT_FDCWD, b"/", 0)
    } else {
        open(dirfd, b".", 0)
    };
    let mut cur = match start {
        Ok(h) => h,
        Err(e) => return Walked::Fails(e),
    };
    // Open `name` from `cur`; with the guest's table full (the walk needs
    // a second descriptor), `cur` moves among the host's own first.
    let from = |cur: &mut Held<'h>, name: &[u8], flags: i32| match open(cur.1, name, flags) {
        Err(Errno::EMFILE) => {
            let fd = host.hold_own_fd(cur.1);
            if fd != cur.1 {
                core::mem::forget(core::mem::replace(cur, Held(host, fd)));
            }
            open(cur.1, name, flags)
        }
        r => r,
    };
    // The resolved path so far (relative to `dirfd` unless it starts with
    // a slash), and the components still to go, last first.
    let mut out: Vec<u8> = if abs { alloc::vec![b'/'] } else { Vec::new() };
    let mut todo: Vec<Vec<u8>> = p.split(|&b| b == b'/').rev().map(<[u8]>::to_vec).collect();
    let mut links = 0;
    let mut buf = alloc::vec![0u8; crate::abi::PATH_MAX];
    let join = |out: &[u8], c: &[u8]| {
        let mut v = out.to_vec();
        if !v.is_empty() && v.last() != Some(&b'/') {
            v.push(b'/');
        }
        v.extend_from_slice(c);
        v
    };
    let at = |dir: Held<'h>, out: &[u8], name: Vec<u8>, last: Last<'h>, reached: bool| {
        let text = join(out, &name);
        Walked::At {
            dir,
            name,
            last,
            reached,
            text,
        }
    };
    while let Some(c) = todo.pop() {
        // Only `.` and empty components after this one: it is the last
        // (`trailing`: with a slash after it).
        let last = todo.iter().all(|c| c.is_empty() || c == b".");
        let trailing = last && !todo.is_empty();
        // The name as the call is to see it: with what came after it
        // (slashes and `.`), which the kernel answers for.
        let name = |c: &[u8]| {
            let mut v = c.to_vec();
            for rest in todo.iter().rev() {
                v.push(b'/');
                v.extend_from_slice(rest);
            }
            v
        };
        if c.is_empty() || c == b"." {
            if todo.is_empty() {
                return at(cur, &out, b".".to_vec(), Last::AsIs, false);
            }
            continue;
        }
        if number(&c).is_some_and(|f| host.is_own_fd(f)) && is_own_fd_dir(host, cur.1) {
            let mut v = alloc::format!("{NOT_OPEN}").into_bytes();
            for rest in todo.iter().rev() {
                v.push(b'/');
                v.extend_from_slice(rest);
            }
            return at(cur, &out, v, Last::AsIs, true);
        }
        if c == b".." {
            if last {
                return at(cur, &out, name(&c), Last::AsIs, false);
            }
            cur = match from(&mut cur, b"..", 0) {
                Ok(h) => h,
                Err(e) => return Walked::Fails(e),
            };
            out = join(&out, &c);
            continue;
        }
        let obj = match from(&mut cur, &c, O_NOFOLLOW) {
            Ok(h) => h,
            Err(Errno::ENOENT) if last => {
                let l = if follow { Last::Missing } else { Last::AsIs };
                return at(cur, &out, name(&c), l, false);
            }
            Err(e) => return Walked::Fails(e),
        };
        let is_link = host
            .fstatat(obj.1, b"", AT_EMPTY_PATH)
            .is_ok_and(|st| st.mode & S_IFMT == S_IFLNK);
        if !is_link {
            if last {
                let l = if follow {
                    Last::Object(obj)
                } else {
                    Last::AsIs
                };
                return at(cur, &out, name(&c), l, false);
            }
            cur = obj;
            out = join(&out, &c);
            continue;
        }
        if last && !follow {
            // Not followed, a slash after it or not: the call acts on the
            // link itself (`rmdir("l/")` is `ENOTDIR`; where a slash makes
            // the kernel follow, `follow` says so, `slash_follows`).
            return at(cur, &out, name(&c), Last::AsIs, false);
        }
        let on_proc = host
            .statfs(cur.1, b"")
            .is_ok_and(|s| s.fs_type == PROC_SUPER_MAGIC);
        if on_proc {
            // `/proc`'s links are the kernel's to follow (a descriptor's
            // entry names no path), from the directory held.
            if last && !trailing {
                return at(cur, &out, c, Last::AsIs, false);
            }
            let next = if resolve == 0 {
                from(&mut cur, &c, 0)
            } else {
                host.openat2(cur.1, &c, O_PATH | O_CLOEXEC, 0, resolve)
                    .map(|fd| Held(host, fd))
            };
            cur = match next {
                Ok(h) => h,
                Err(e) => return Walked::Fails(e),
            };
            out = join(&out, &c);
            continue;
        }
        links += 1;
        if links > MAX_LINKS {
            return Walked::Fails(Errno::ELOOP);
        }
        let len = match host.readlinkat(obj.1, b"", &mut buf) {
            Ok(n) if n >= buf.len() => return Walked::Fails(Errno::ENAMETOOLONG),
            Ok(0) => return Walked::Fails(Errno::ENOENT),
            Ok(n) => n,
            Err(e) => return Walked::Fails(e),
        };
        let t = &buf[..len];
        if t.first() == Some(&b'/') {
            cur = match open(AT_FDCWD, b"/", 0) {
                Ok(h) => h,
                Err(e) => return Walked::Fails(e),
            };
            out = alloc::vec![b'/'];
        }
        todo.extend(t.split(|&b| b == b'/').rev().map(<[u8]>::to_vec));
    }
    Walked::Not
}

/// If the walk of `p` reaches the entry of one of the host's own
/// descriptors: the path resolved so far, [`NOT_OPEN`] for the entry and
/// the rest, which resolves as the guest's path does but names a closed
/// number. For a host that resolves every path itself
/// ([`HostOs::confines_paths`]) and for calls [`pin`] does not take.
fn through_links(cx: &Ctx<'_>, dirfd: i32, p: &[u8], follow: bool) -> Option<Vec<u8>> {
    match walk(cx.p.host, dirfd, p, follow, 0) {
        Walked::At {
            reached: true,
            text,
            ..
        } => Some(text),
        _ => None,
    }
}

/// `openat2`'s `RESOLVE_NO_SYMLINKS`, `RESOLVE_NO_XDEV`,
/// `RESOLVE_BENEATH`, `RESOLVE_IN_ROOT`: flags under which the kernel's
/// own lookup follows no symbolic link the guest made into `/proc`
/// (`RESOLVE_NO_SYMLINKS` none at all; the scoped ones neither absolute
/// links, nor `..` above the directory, nor `/proc`'s descriptor links;
/// `RESOLVE_NO_XDEV` no jump onto another mount, as `/proc` is), so that
/// a name the guest swaps after the walk cannot lead it to the entry of
/// one of the host's descriptors: the path, renamed, is the kernel's to
/// resolve, relative to the guest's directory as the flags want.
const RESOLVE_CONFINED: u64 = 0x04 | 0x01 | 0x08 | 0x10;

/// The `RESOLVE_*` flags of `openat2` call `a` (0 when they cannot be read:
/// the handler answers for that).
fn resolve_flags(cx: &Ctx<'_>, a: &[u64; 6]) -> u64 {
    if a[3] < 24 {
        return 0;
    }
    cx.mem().read_u64(a[2].wrapping_add(16)).unwrap_or(0)
}

/// Is path argument `i` of call `n` (arguments `a`) made from the
/// directory the walk holds ([`pin`])? Not on a host that confines paths
/// itself, not for `execve`/`execveat` (their lookups are the core's
/// own, [`open_walked`]: the new program's path is handed on as a
/// string), nor for `openat2` with a flag of [`RESOLVE_CONFINED`] (they
/// are relative to the guest's directory, and the kernel's lookup under
/// them cannot be led into `/proc`); `openat2` with only
/// `RESOLVE_NO_MAGICLINKS` or `RESOLVE_CACHED` is, the walk obeying them.
fn pins(cx: &Ctx<'_>, n: u64, a: &[u64; 6]) -> bool {
    if cx.p.host.confines_paths() {
        return false;
    }
    match n {
        nr::EXECVE | nr::EXECVEAT => false,
        nr::OPENAT2 => a[3] >= 24 && resolve_flags(cx, a) & RESOLVE_CONFINED == 0,
        _ => true,
    }
}

/// Are `execve`'s own lookups (the program, a `#!` line's interpreter, a
/// `PT_INTERP`) made through [`open_walked`]? With descriptors of the
/// host's own, unless the host confines paths itself.
pub(super) fn walks_exec(cx: &Ctx<'_>) -> bool {
    let host = cx.p.host;
    host.has_own_fds() && !host.confines_paths()
}

/// Open `p` (relative to `dirfd`; `follow`: a link in its last component
/// is followed, else it is `ELOOP`) for reading, as `execve` opens the
/// files it runs, from what the walk reached ([`pin`]): the object the
/// walk found through its own descriptor, so that a directory of the path
/// the guest swaps for a symbolic link after the walk changes nothing,
/// and the entry of one of the host's own descriptors is a closed
/// number's (`ENOENT`). The descriptor is close-on-exec; the caller
/// closes it.
pub(super) fn open_walked(cx: &mut Ctx<'_>, dirfd: i32, p: &[u8], follow: bool) -> SysResult<i32> {
    use crate::abi::{O_CLOEXEC, O_NOFOLLOW, O_RDONLY};
    let a = [dirfd as i64 as u64, 0, 0, 0, 0, 0];
    let mut b = a;
    let name = pin(cx, nr::EXECVEAT, &a, 0, p.to_vec(), follow, &mut b)?;
    let nofollow = if follow { 0 } else { O_NOFOLLOW };
    cx.p.host
        .openat(b[0] as i32, &name, O_RDONLY | O_CLOEXEC | nofollow, 0)
}

/// Is the path argument of call `n`, which has no directory argument, made
/// from the directory the walk holds ([`pin_named`])? The calls that look
/// up a path and act on what it names (not `execve`, whose path the new
/// program gets as a string, nor the administrators' calls, refused
/// before any lookup).
fn pins_named(cx: &Ctx<'_>, n: u64) -> bool {
    use nr::*;
    !cx.p.host.confines_paths()
        && matches!(
            n,
            TRUNCATE
                | CHDIR
                | STATFS
                | SETXATTR
                | LSETXATTR
                | GETXATTR
                | LGETXATTR
                | LISTXATTR
                | LLISTXATTR
                | REMOVEXATTR
                | LREMOVEXATTR
                | INOTIFY_ADD_WATCH
        )
}

/// [`pin`] for a call without a directory argument: the path becomes
/// `/proc/self/fd/DIR/NAME` of the directory the walk holds (the kernel
/// follows that link to the directory itself, whatever the guest renames
/// meanwhile), or the object's own `/proc/self/fd/N`.
fn pin_named(
    cx: &mut Ctx<'_>,
    n: u64,
    a: &[u64; 6],
    p: Vec<u8>,
    follow: bool,
) -> SysResult<Vec<u8>> {
    // The sixth argument of these calls is unused: it stands for the
    // directory argument they lack.
    const AT: usize = 5;
    let mut fake = *a;
    fake[AT] = AT_FDCWD as i64 as u64;
    let mut b = fake;
    let held = cx.held.len();
    let name = pin(cx, n, &fake, AT, p, follow, &mut b)?;
    if cx.held.len() == held || name.first() == Some(&b'/') {
        return Ok(name);
    }
    let host = cx.p.host;
    let dir = b[AT] as i32;
    // A number checked before one of the host's descriptors took it.
    let first = name.split(|&c| c == b'/').next().unwrap_or_default();
    let mut v = alloc::format!("/proc/self/fd/{dir}/").into_bytes();
    if number(first).is_some_and(|f| host.is_own_fd(f)) && is_own_fd_dir(host, dir) {
        v.extend_from_slice(alloc::format!("{NOT_OPEN}").as_bytes());
        v.extend_from_slice(&name[first.len()..]);
    } else {
        v.extend_from_slice(&name);
    }
    Ok(v)
}

/// Does the absolute path `p` stay inside `/proc`, through nothing the
/// guest can change (no `..`, none of a process's links to elsewhere:
/// `root`, `cwd`, `exe`, `fd`, `fdinfo`, `map_files`)? Such a path resolves
/// the same whenever it is looked up (`self`, `thread-self` and `net` are
/// `/proc`'s own links), and the `/proc` emulation reads it as a string
/// (a thread the host runs in turn has no directory of its own there).
fn plain_proc(p: &[u8]) -> bool {
    const LEAVE: [&[u8]; 7] = [
        b"..",
        b"root",
        b"cwd",
        b"exe",
        b"fd",
        b"fdinfo",
        b"map_files",
    ];
    let mut parts = p
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".");
    p.first() == Some(&b'/') && parts.next() == Some(b"proc") && parts.all(|c| !LEAVE.contains(&c))
}

/// Does call `n` create the file its path names when it is missing
/// (following a link there)?
fn creates(cx: &Ctx<'_>, n: u64, a: &[u64; 6]) -> bool {
    use crate::abi::O_CREAT;
    match n {
        nr::OPENAT => a[2] as i32 & O_CREAT != 0,
        nr::OPENAT2 => cx
            .mem()
            .read_u64(a[2])
            .is_ok_and(|f| f as i32 & O_CREAT != 0),
        _ => false,
    }
}

/// Path argument `p` of call `n` (relative to the directory argument
/// `b[d]`, `follow`: a link in its last component is followed) as the
/// handler is to use it, made from the directory the walk reached
/// ([`walk`]): `b[d]` becomes that directory (held until the call is
/// over, [`release`]) and the path its last component, so that a
/// directory of the path the guest swaps for a symbolic link after the
/// walk changes nothing. In the last component: a call that follows a
/// link there gets the object the walk found through its own descriptor
/// (`/proc/self/fd/N` of the walk's, which the kernel follows to that
/// object), a missing one is `ENOENT` (`openat` creating it gets
/// `O_NOFOLLOW`, `openat2` through `Ctx::create_nofollow`: a link made
/// there meanwhile is not followed). A slash after the last name counts
/// as following where it makes the kernel's lookup follow a link there
/// ([`slash_follows`]): the object found is used, not the name looked up
/// again. The entry
/// of one of the host's own descriptors is [`NOT_OPEN`]'s in that
/// directory. The walk's error when the lookup fails.
fn pin(
    cx: &mut Ctx<'_>,
    n: u64,
    a: &[u64; 6],
    d: usize,
    p: Vec<u8>,
    follow: bool,
    b: &mut [u64; 6],
) -> SysResult<Vec<u8>> {
    let host = cx.p.host;
    let dirfd = a[d] as i32;
    if let Some(v) = hide_entry(cx, dirfd, &p) {
        return Ok(v);
    }
    if plain_proc(&p) {
        return Ok(p);
    }
    let resolve = if n == nr::OPENAT2 {
        resolve_flags(cx, a)
    } else {
        0
    };
    let (dir, name, last) = match walk(host, dirfd, &p, follow, resolve) {
        Walked::Not => return Ok(p),
        Walked::Fails(e) => return Err(e),
        Walked::At {
            dir, name, last, ..
        } => (dir, name, last),
    };
    let dir = host.hold_own_fd(dir.keep());
    cx.held.push(dir);
    b[d] = dir as u64;
    match last {
        Last::AsIs => Ok(name),
        Last::Object(obj) => {
            let obj = host.hold_own_fd(obj.keep());
            cx.held.push(obj);
            let mut v = alloc::format!("/proc/self/fd/{obj}").into_bytes();
            if let Some(at) = name.iter().position(|&c| c == b'/') {
                v.extend_from_slice(&name[at..]);
            }
            Ok(v)
        }
        Last::Missing if creates(cx, n, a) => {
            if n == nr::OPENAT {
                b[2] |= crate::abi::O_NOFOLLOW as u64;
            } else {
                cx.create_nofollow = true;
            }
            Ok(name)
        }
        Last::Missing => Err(Errno::ENOENT),
    }
}

/// Is `p` the `/proc/self/fd/N` name [`pin`] gave the object it found
/// for this call (N held for it)?
pub(super) fn is_held_object(cx: &Ctx<'_>, p: &[u8]) -> bool {
    // The number, and after it only what `pin` keeps of the guest's
    // path after the name (slashes and `.`).
    let Some(r) = p.strip_prefix(b"/proc/self/fd/") else {
        return false;
    };
    let end = r.iter().position(|&c| c == b'/').unwrap_or(r.len());
    let tail_ok = r[end..]
        .split(|&c| c == b'/')
        .all(|c| c.is_empty() || c == b".");
    tail_ok && number(&r[..end]).is_some_and(|n| cx.held.contains(&n))
}

/// Is the directory open at host descriptor `fd` an `fd` or `fdinfo`
/// directory of this process (or of one of its threads)?
fn is_own_fd_dir(host: &dyn HostOs, fd: i32) -> bool {
    let mut link = [0u8; 256];
    let at = alloc::format!("/proc/self/fd/{fd}");
    host.readlinkat(AT_FDCWD, at.as_bytes(), &mut link)
        .is_ok_and(|n| n < link.len() && is_fd_dir(host.ids().pid, &link[..n]))
}

/// `/proc/PID[/task/TID]/(fd|fdinfo)/N[/...]` of process `pid`: where N
/// is in the path, and N.
fn own_fd_entry(pid: i32, p: &[u8]) -> Option<(core::ops::Range<usize>, i32)> {
    let slashes = p.iter().enumerate().filter(|(_, b)| **b == b'/');
    for (i, _) in slashes {
        if !is_fd_dir(pid, &p[..i]) {
            continue;
        }
        let name = &p[i + 1..];
        let end = name.iter().position(|&b| b == b'/').unwrap_or(name.len());
        return Some((i + 1..i + 1 + end, number(&name[..end])?));
    }
    None
}

fn split_last(p: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = p.iter().rposition(|&b| b == b'/')?;
    Some((&p[..i], &p[i + 1..]))
}

fn number(s: &[u8]) -> Option<i32> {
    if s.is_empty() || s.len() > 9 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    core::str::from_utf8(s).ok()?.parse().ok()
}

/// Is the canonical path `d` this process's `fd` or `fdinfo` directory
/// (or one of its threads')?
fn is_fd_dir(pid: i32, d: &[u8]) -> bool {
    let Some((base, last)) = split_last(d) else {
        return false;
    };
    if last != b"fd" && last != b"fdinfo" {
        return false;
    }
    let own = alloc::format!("/proc/{pid}");
    if base == own.as_bytes() {
        return true;
    }
    // /proc/PID/task/TID
    base.strip_prefix(own.as_bytes())
        .and_then(|r| r.strip_prefix(b"/task/"))
        .is_some_and(|t| number(t).is_some())
}

/// After `getdents64` on `fd` gave the records `buf`: when `fd` is this
/// process's `fd`/`fdinfo` directory, the records without the host's own
/// descriptors' (`None` when nothing changes). Empty only when the host's
/// records were all there was, which the caller reads past. The caller
/// writes them back: this reads the guest's buffer and never stores there.
pub(super) fn filter_dirents(host: &dyn HostOs, fd: i32, buf: &[u8]) -> Option<Vec<u8>> {
    let n = buf.len();
    if !host.has_own_fds() || n == 0 {
        return None;
    }
    let mut link = [0u8; 256];
    let Ok(len) = host.readlinkat(
        AT_FDCWD,
        alloc::format!("/proc/self/fd/{fd}").as_bytes(),
        &mut link,
    ) else {
        return None;
    };
    if !is_fd_dir(host.ids().pid, &link[..len.min(link.len())]) {
        return None;
    }
    let mut keep: Vec<u8> = Vec::with_capacity(n);
    let mut at = 0;
    while at + 19 <= n {
        let reclen = u16::from_le_bytes([buf[at + 16], buf[at + 17]]) as usize;
        if reclen < 19 || at + reclen > n {
            return None;
        }
        let rec = &buf[at..at + reclen];
        let name = &rec[19..];
        let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
        if !number(name).is_some_and(|f| host.is_own_fd(f)) {
            keep.extend_from_slice(rec);
        }
        at += reclen;
    }
    (keep.len() != n).then_some(keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_entries_of_this_process_only() {
        let n = |p: &[u8]| own_fd_entry(7, p).map(|(_, n)| n);
        assert_eq!(n(b"/proc/7/fd/950"), Some(950));
        assert_eq!(n(b"/proc/7/fdinfo/951"), Some(951));
        assert_eq!(n(b"/proc/7/task/9/fd/950"), Some(950));
        assert_eq!(
            own_fd_entry(7, b"/proc/7/fd/950/sub/x"),
            Some((11..14, 950))
        );
        assert_eq!(own_fd_entry(8, b"/proc/7/fd/950"), None);
        assert_eq!(own_fd_entry(7, b"/proc/7/fd"), None);
        assert_eq!(own_fd_entry(7, b"/proc/7/fd/x"), None);
        assert_eq!(own_fd_entry(7, b"/proc/7/task/fd/950"), None);
        assert_eq!(own_fd_entry(7, b"/tmp/fd/950"), None);
    }

    #[test]
    fn a_slash_after_the_last_name_follows_it_where_the_kernel_does() {
        use nr::*;
        assert!(slash_follows(NEWFSTATAT, 1, b"d/"));
        assert!(slash_follows(READLINKAT, 1, b"a/d//"));
        assert!(!slash_follows(NEWFSTATAT, 1, b"d"));
        assert!(!slash_follows(NEWFSTATAT, 1, b"d/.."));
        assert!(!slash_follows(NEWFSTATAT, 1, b"./"));
        // The names these calls act on are not followed...
        assert!(!slash_follows(UNLINKAT, 1, b"d/"));
        assert!(!slash_follows(RENAMEAT2, 3, b"d/"));
        assert!(!slash_follows(LINKAT, 3, b"d/"));
        assert!(slash_follows(LINKAT, 1, b"d/"));
        // ...unless a `.` makes the name a directory on the way.
        assert!(slash_follows(UNLINKAT, 1, b"d/."));
        assert!(slash_follows(MKDIRAT, 1, b"d/./"));
    }

    #[test]
    fn descriptor_arguments() {
        let v: Vec<_> = strace::fd_args(nr::READ).collect();
        assert_eq!(v, [(0, None)]);
        let v: Vec<_> = strace::fd_args(nr::DUP3).collect();
        assert_eq!(v, [(0, None), (1, None)]);
        let v: Vec<_> = strace::fd_args(nr::OPENAT).collect();
        assert_eq!(v, [(0, Some(1))]);
        let v: Vec<_> = strace::fd_args(nr::RENAMEAT2).collect();
        assert_eq!(v, [(0, Some(1)), (2, Some(3))]);
    }
}
