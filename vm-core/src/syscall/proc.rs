//! Process system calls: `clone` (fork and vfork), `execve`/`execveat`,
//! `wait4`/`waitid`, `kill` to other processes, process groups and
//! sessions, `prctl(PR_SET_PDEATHSIG)`.
//!
//! One guest process is one host process, created and replaced through
//! the [`HostOs`] process methods; pids, groups, sessions and exit
//! statuses are the host's, and a guest child's host process ends the way
//! the guest ended (a guest killed by a signal kills its host process with
//! the same signal), so `wait` needs no translation.
//!
//! * `clone` without `CLONE_VM` (`fork`; glibc's is
//!   `clone(SIGCHLD | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)`) is a
//!   host fork ([`HostOs::fork`]): the child continues from the same
//!   `ecall` with `a0 = 0`, a copy-on-write copy of the memory, no pending
//!   signals, and the thread id the host gave it. With `CLONE_VFORK` the
//!   parent waits, as Linux's, until the child has exec'd or exited. A
//!   host that cannot duplicate itself ([`HostOs::builds_children`], the
//!   bare-metal host) gets a child the core builds instead
//!   (`fork_copy.rs`).
//!
//! [`HostOs::builds_children`]: crate::host::HostOs::builds_children
//! * `clone(CLONE_VM | CLONE_VFORK)` (glibc's `posix_spawn` with its own
//!   child stack, and `vfork` on the caller's stack) runs the guest child
//!   in [`HostOs::vfork`]: a host process sharing this address space,
//!   with a copy of the thread's registers, its own interpreter (so the
//!   parent's translated code and engine state are not touched) and, in
//!   effect, its own signal table: the parent saves its table before and
//!   puts it back after, as the child may change dispositions (posix_spawn
//!   resets them) while the parent is suspended. Everything the child
//!   writes to guest memory is the parent's, as on Linux, so posix_spawn's
//!   error word reaches the parent and a missing program is `ENOENT`.
//!   Other `CLONE_VM` uses (threads) are not handled here.
//! * `execve` does what the kernel's binfmt handlers do before the point
//!   of no return, so that a bad target is an errno for the caller, never
//!   a dead process: the file must exist (`ENOENT`), be a regular file with
//!   execute permission (`EACCES`) and be either a `#!` script, whose
//!   interpreter line is parsed as `binfmt_script` does (interpreter, one
//!   optional argument, then the script's path and `argv[1..]`; four
//!   levels at most, then `ELOOP`), a RISC-V ELF the loader accepts
//!   ([`crate::loader::probe`]: `ENOEXEC` for bad headers, `ENOENT` for a
//!   missing interpreter, `ELIBBAD` for a bad one), or an ELF file of
//!   another machine, which the host runs natively if it can (as
//!   qemu-user does; the host kernel says `ENOEXEC` otherwise). Anything
//!   else is `ENOEXEC` (glibc's `execvp` then runs it with `/bin/sh`).
//!   **Path rule**: every path is looked up through the host, exactly as
//!   `openat` looks it up; on Linux with a sysroot that means an absolute
//!   path that exists inside the sysroot is used from there, else from `/`
//!   (`host-linux/src/host.rs`), so `/bin/sh` is the sysroot's RISC-V
//!   shell when it has one and the host's otherwise. `/proc/self/exe` is
//!   the guest program. The file checked last (the program, or the last
//!   `#!` interpreter) stays open and goes to the host with the request
//!   ([`ExecRequest::fd`]), and so does the dynamic linker checked for it
//!   ([`ExecRequest::interp_fd`]); the host may run them from there: what
//!   was checked is what runs.
//! * `kill` of the process itself stays in the core (`sys::kill`); any
//!   other target (a pid, a group, `-1`) goes to the host.
//!
//! Where pvm differs: `execveat` resolves a directory
//! descriptor through `/proc/self/fd`, so a deleted or anonymous file
//! cannot be executed through a descriptor.

use super::{Ctx, R, put};
use crate::abi::{AT_EACCESS, MAX_ARG_STRLEN, O_CLOEXEC, O_RDONLY, S_IFMT, S_IFREG, X_OK};
pub use crate::abi::{
    CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_DETACHED, CLONE_PARENT_SETTID, CLONE_SETTLS,
    CLONE_VFORK, CLONE_VM,
};
use crate::host::{AT_EMPTY_PATH, AT_FDCWD, Errno, ExecKind, ExecRequest, ProcessEnd, SysResult};
use crate::process::ExitStatus;
use crate::signal::{self, Pending, SI_KERNEL, SIG_DFL, SIG_IGN, SIGSEGV, SigInfo};
use alloc::vec;
use alloc::vec::Vec;

/// A new process: `clone` (or `clone3`) without `CLONE_THREAD`, its
/// arguments decoded and checked against the kernel's consistency rules
/// (`flags` without the exit signal; `sp` the child's stack pointer or 0).
pub(super) fn new_process(cx: &mut Ctx<'_>, args: &super::thread::CloneArgs) -> R {
    let (flags, exit_signal, newsp) = (args.flags, args.exit_signal, args.sp);
    let (ptid, tls, ctid, cgroup) = (args.parent_tid, args.tls, args.child_tid, args.cgroup);
    let exit_signal = exit_signal as i32;
    let known = super::thread::CLONE_INTO_CGROUP
        | CLONE_VM
        | CLONE_VFORK
        | CLONE_SETTLS
        | CLONE_PARENT_SETTID
        | CLONE_CHILD_CLEARTID
        | CLONE_CHILD_SETTID
        | CLONE_DETACHED;
    if flags & CLONE_VM != 0 && flags & CLONE_VFORK == 0 {
        // A process sharing memory with its parent for good (no exec to
        // wait for): not emulated.
        return Err(Errno::ENOSYS);
    }
    if flags & !known != 0 {
        // Shared descriptor tables or file-system state between processes,
        // namespaces, ptrace, pidfds: not emulated.
        return Err(Errno::EINVAL);
    }
    let mut child = cx.t.clone();
    child.cpu.x[10] = 0;
    if newsp != 0 {
        child.cpu.x[2] = newsp;
    }
    if flags & CLONE_SETTLS != 0 {
        child.cpu.x[4] = tls;
    }
    child.pending = Pending::default();
    child.saved_mask = None;
    child.robust_list = (0, 0);
    if flags & CLONE_CHILD_CLEARTID != 0 {
        child.clear_child_tid = ctid;
    }
    let host = cx.p.host;
    let pid = if flags & CLONE_VM != 0 {
        vfork(cx, child, flags, ctid, cgroup)?
    } else if host.builds_children() {
        if cgroup.is_some() {
            // A host that builds its children has no cgroup file system:
            // no descriptor names a cgroup directory.
            return Err(Errno::EBADF);
        }
        let settid = (flags & CLONE_CHILD_SETTID != 0).then_some(ctid);
        super::fork_copy::fork(cx, child, exit_signal, flags & CLONE_VFORK != 0, settid)?
    } else {
        let pid =
            cx.p.fork_with(|| host.fork(exit_signal, flags & CLONE_VFORK != 0, cgroup))?;
        if pid == 0 {
            // The child: this process from now on, with this thread alone.
            child.tid = host.gettid();
            cx.p.forked_child(&mut child);
            cx.p.signals.lock().shared = Pending::default();
            if flags & CLONE_CHILD_SETTID != 0 {
                let _ = cx.mem().write_u32(ctid, child.tid as u32);
            }
            *cx.t = child;
            return Ok(0);
        }
        pid
    };
    if flags & CLONE_PARENT_SETTID != 0 {
        let _ = cx.mem().write_u32(ptid, pid as u32);
    }
    Ok(pid as u64)
}

/// The `CLONE_VM | CLONE_VFORK` child (see the module comment); returns
/// its pid once it has exec'd or exited.
fn vfork(
    cx: &mut Ctx<'_>,
    mut child: crate::process::Thread,
    flags: u64,
    ctid: u64,
    cgroup: Option<i32>,
) -> SysResult<i32> {
    let p = cx.p;
    let host = p.host;
    let saved = p.signals.lock().clone();
    let mut engine = crate::interp::Interpreter::new();
    let r = host.vfork(
        &mut || {
            child.tid = host.gettid();
            p.signals.lock().shared = Pending::default();
            if flags & CLONE_CHILD_SETTID != 0 {
                let _ = p.mem.write_u32(ctid, child.tid as u32);
            }
            match p.run_vfork_child(&mut child, &mut engine) {
                ExitStatus::Exited(code) => ProcessEnd::Exit(code),
                ExitStatus::Signaled(r) => ProcessEnd::Signal(r.signo),
            }
        },
        cgroup,
    );
    *p.signals.lock() = saved;
    r
}

/// The most strings `execve` takes (`MAX_ARG_STRINGS`).
const MAX_ARG_STRINGS: usize = 0x7fff_ffff;
/// The argument area the loader allows (a quarter of the 8 MiB stack).
const MAX_ARG_BYTES: usize = 2 << 20;

/// A NULL-terminated guest array of strings (`argv`, `envp`); a null
/// array is empty.
fn strings(cx: &Ctx<'_>, mut at: u64, total: &mut usize) -> SysResult<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    if at == 0 {
        return Ok(out);
    }
    loop {
        let p = cx.mem().read_u64(at).map_err(|_| Errno::EFAULT)?;
        if p == 0 {
            return Ok(out);
        }
        let s = cx
            .mem()
            .read_cstr(p, MAX_ARG_STRLEN)
            .map_err(|_| Errno::EFAULT)?;
        if s.len() >= MAX_ARG_STRLEN || out.len() >= MAX_ARG_STRINGS {
            return Err(Errno::E2BIG);
        }
        *total += s.len() + 1 + 8;
        if *total > MAX_ARG_BYTES {
            return Err(Errno::E2BIG);
        }
        out.push(s);
        at = at.wrapping_add(8);
    }
}

pub(super) fn execve(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let file = cx.path(a[0])?;
    exec(cx, AT_FDCWD, file, a[1], a[2], 0)
}

pub(super) fn execveat(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let flags = a[4] as i32;
    // AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH
    if flags & !(0x100 | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let file = cx.path(a[1])?;
    exec(cx, a[0] as i32, file, a[2], a[3], flags)
}

/// The path of `file` relative to `dirfd`, as one the host can open from
/// anywhere (for `execveat`).
fn at_path(cx: &Ctx<'_>, dirfd: i32, file: Vec<u8>, flags: i32) -> SysResult<Vec<u8>> {
    if dirfd == AT_FDCWD || file.first() == Some(&b'/') {
        return Ok(file);
    }
    if file.is_empty() && flags & AT_EMPTY_PATH == 0 {
        return Err(Errno::ENOENT);
    }
    let link = alloc::format!("/proc/self/fd/{dirfd}");
    let mut buf = vec![0u8; super::PATH_MAX];
    let n =
        cx.p.host
            .readlinkat(AT_FDCWD, link.as_bytes(), &mut buf)
            .map_err(|_| Errno::EBADF)?;
    buf.truncate(n);
    if file.is_empty() {
        // The descriptor itself (fexecve). A file with a name is run by
        // that name: the descriptor is usually close-on-exec (CPython's
        // are), and the kernel opens the file before it closes those.
        let named = buf.first() == Some(&b'/')
            && !buf.ends_with(b" (deleted)")
            && cx.p.host.fstatat(AT_FDCWD, &buf, 0).is_ok();
        if named {
            return Ok(buf);
        }
        // A file without one (a memfd, a deleted file) opens only through
        // the descriptor's /proc/self/fd link, which must then survive the
        // exec.
        let _ = cx.p.host.fcntl(dirfd, crate::abi::F_SETFD, 0);
        return Ok(link.into_bytes());
    }
    buf.push(b'/');
    buf.extend_from_slice(&file);
    Ok(buf)
}
use crate::loader::{EM_RISCV, EM_X86_64};
/// How much of a file the kernel looks at to recognise it
/// (`BINPRM_BUF_SIZE`).
const BINPRM_BUF: usize = 256;

/// A file `execve` runs (the program, a `#!` line's interpreter, a
/// `PT_INTERP`), open for reading: by `file`, or, where the core walks
/// the guest's paths itself (`ownfd::walks_exec`), by `walk` (a path
/// relative to a directory, and whether a link in its last component is
/// followed) from what the walk reached, so that a name swapped after
/// the check changes nothing.
fn open_exec(cx: &mut Ctx<'_>, file: &[u8], walk: Option<(i32, &[u8], bool)>) -> SysResult<i32> {
    match walk {
        Some((dirfd, p, follow)) => super::ownfd::open_walked(cx, dirfd, p, follow),
        None => cx.p.host.openat(AT_FDCWD, file, O_RDONLY | O_CLOEXEC, 0),
    }
}

/// The first bytes of an executable file, after the checks every binfmt
/// shares (exists, regular, executable), and the file, open (the caller
/// closes it); opened as [`open_exec`] says.
fn head(
    cx: &mut Ctx<'_>,
    file: &[u8],
    walk: Option<(i32, &[u8], bool)>,
) -> SysResult<(i32, Vec<u8>)> {
    let host = cx.p.host;
    let walked = walk.is_some();
    let fd = open_exec(cx, file, walk)?;
    let r = (|| {
        let st = host.fstatat(fd, b"", AT_EMPTY_PATH)?;
        if st.mode & S_IFMT != S_IFREG {
            return Err(Errno::EACCES);
        }
        // As the kernel checks it: with the effective ids (of the file
        // opened, where the name is not to be looked up again).
        if walked {
            let own = alloc::format!("/proc/self/fd/{fd}");
            host.faccessat(AT_FDCWD, own.as_bytes(), X_OK, AT_EACCESS)?;
        } else {
            host.faccessat(AT_FDCWD, file, X_OK, AT_EACCESS)?;
        }
        let mut buf = vec![0u8; BINPRM_BUF];
        let mut got = 0;
        while got < buf.len() {
            match host.pread(fd, &mut buf[got..], got as i64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
        buf.truncate(got);
        Ok(buf)
    })();
    match r {
        Ok(buf) => Ok((fd, buf)),
        Err(e) => {
            let _ = host.close(fd);
            Err(e)
        }
    }
}

/// `binfmt_script`: the interpreter and its optional argument from a
/// `#!` line (`buf` starts with `#!`).
fn script_line(buf: &[u8]) -> SysResult<(Vec<u8>, Option<Vec<u8>>)> {
    // The kernel's buffer: the file's first bytes, zero-padded, of which
    // the last is never looked at.
    let mut padded = buf.to_vec();
    padded.resize(BINPRM_BUF, 0);
    let body = &padded[2..BINPRM_BUF - 1];
    let line = match body.iter().position(|&c| c == b'\n') {
        Some(n) => &body[..n],
        None => {
            // No end of line in the buffer: the interpreter name must at
            // least end inside it.
            let start = body.iter().position(|&c| c != b' ' && c != b'\t');
            let ends =
                start.is_some_and(|s| body[s..].iter().any(|&c| matches!(c, b' ' | b'\t' | 0)));
            if !ends {
                return Err(Errno::ENOEXEC);
            }
            body
        }
    };
    let line = match line.iter().position(|&c| c == 0) {
        Some(n) => &line[..n],
        None => line,
    };
    let is_ws = |c: &u8| *c == b' ' || *c == b'\t';
    let start = line.iter().position(|c| !is_ws(c)).ok_or(Errno::ENOEXEC)?;
    let line = &line[start..];
    let end = line.iter().position(is_ws).unwrap_or(line.len());
    let interp = line[..end].to_vec();
    let rest = &line[end..];
    let arg = match rest.iter().position(|c| !is_ws(c)) {
        Some(s) => {
            let e = rest.iter().rposition(|c| !is_ws(c)).unwrap_or(s) + 1;
            Some(rest[s..e].to_vec())
        }
        None => None,
    };
    Ok((interp, arg))
}

/// The errno `execve` gives for a RISC-V program the loader refuses.
fn load_errno(e: &crate::loader::LoadError) -> Errno {
    use crate::loader::LoadError::*;
    match e {
        NotFound | InterpreterNotFound { .. } => Errno::ENOENT,
        PermissionDenied | IsDirectory | NotRegularFile | NotExecutable => Errno::EACCES,
        Io(e) => *e,
        BadInterpreter { .. } => Errno::ELIBBAD,
        ArgumentsTooLong => Errno::E2BIG,
        Memory(_) => Errno::ENOMEM,
        _ => Errno::ENOEXEC,
    }
}

fn exec(cx: &mut Ctx<'_>, dirfd: i32, file: Vec<u8>, argv: u64, envp: u64, flags: i32) -> R {
    let mut total = 0;
    let mut args = strings(cx, argv, &mut total)?;
    let env = strings(cx, envp, &mut total)?;
    if args.is_empty() {
        // Linux gives a program started without arguments an empty argv[0].
        args.push(Vec::new());
    }
    if file.is_empty() && flags & AT_EMPTY_PATH == 0 {
        return Err(Errno::ENOENT);
    }
    // Where the core walks the guest's paths itself: the first file from
    // `dirfd` as the guest named it (the descriptor itself for an empty
    // path), a link in its last component followed unless
    // `AT_SYMLINK_NOFOLLOW`; then each interpreter from the working
    // directory, followed.
    let mut walk: Option<(i32, Vec<u8>, bool)> = super::ownfd::walks_exec(cx).then(|| {
        if file.is_empty() {
            let own = alloc::format!("/proc/self/fd/{dirfd}").into_bytes();
            (AT_FDCWD, own, true)
        } else {
            let p = super::fs::host_path_at(cx, dirfd, file.clone());
            (dirfd, p, flags & 0x100 == 0)
        }
    });
    let mut file = super::fs::host_path(cx, at_path(cx, dirfd, file, flags)?);
    let mut kind = None;
    let host = cx.p.host;
    // The file checked last, open: the one the host is to run; and the
    // dynamic linker checked for it.
    let mut held: Option<i32> = None;
    let mut interp_fd: Option<i32> = None;
    let r = (|| {
        // Interpreters of interpreters: the kernel's BINPRM_MAX_RECURSION.
        for _ in 0..5 {
            if let Some(fd) = held.take() {
                let _ = host.close(fd);
            }
            let w = walk.as_ref().map(|(d, p, f)| (*d, &p[..], *f));
            let (fd, buf) = head(cx, &file, w)?;
            held = Some(fd);
            if buf.starts_with(b"#!") {
                let (interp, arg) = script_line(&buf)?;
                if walk.is_some() {
                    walk = Some((AT_FDCWD, interp.clone(), true));
                }
                let mut new = vec![interp.clone()];
                new.extend(arg);
                new.push(file);
                new.extend(args.drain(..).skip(1));
                args = new;
                file = interp;
                continue;
            }
            if !buf.starts_with(b"\x7fELF") {
                return Err(Errno::ENOEXEC);
            }
            let machine = buf.get(18..20).map(|m| u16::from_le_bytes([m[0], m[1]]));
            kind = Some(if buf.get(4) == Some(&2) && machine == Some(EM_RISCV) {
                // The file `head` opened and read, not its name again.
                let fd = held.ok_or(Errno::ELOOP)?;
                let size = cx.mem().size();
                let walks = walk.is_some();
                let mut open = |p: &[u8]| {
                    let w = walks.then_some((AT_FDCWD, p, true));
                    open_exec(cx, p, w)
                };
                interp_fd =
                    crate::loader::probe(host, fd, size, &mut open).map_err(|e| load_errno(&e))?;
                ExecKind::Guest
            } else if buf.get(4) == Some(&2) && machine == Some(EM_X86_64) {
                ExecKind::Native
            } else {
                // Another machine's program: Linux riscv64 and the host
                // both refuse it, and saying so here (not from the host's
                // exec) keeps it before the point of no return.
                return Err(Errno::ENOEXEC);
            });
            break;
        }
        let kind = kind.ok_or(Errno::ELOOP)?;
        if kind == ExecKind::Native && !cx.p.options.policy.host_programs() {
            // --sandbox: no host program runs outside pvm's control.
            return Err(Errno::EACCES);
        }
        Ok((kind, file, args))
    })();
    let (kind, file, args) = match r {
        Ok(v) => v,
        Err(e) => {
            for fd in held.into_iter().chain(interp_fd) {
                let _ = host.close(fd);
            }
            return Err(e);
        }
    };
    let fd = held.ok_or(Errno::ELOOP)?;
    let table = cx.p.signals.lock();
    let ignored = table
        .actions
        .iter()
        .enumerate()
        .filter(|(_, act)| act.handler == SIG_IGN)
        .fold(0u64, |m, (i, _)| m | 1 << i);
    let pending = table.shared.set() | cx.t.pending.set();
    drop(table);
    if cx.p.options.strace {
        // A successful exec never returns to `dispatch`'s log line.
        cx.p.host.log(format_args!(
            "execve({:?}, ...) = (a new image follows)",
            alloc::string::String::from_utf8_lossy(&file)
        ));
    }
    let req = ExecRequest {
        kind,
        path: file,
        fd,
        interp_fd,
        argv: args,
        envp: env,
        sigmask: cx.t.sigmask,
        ignored,
        pending,
    };
    // The robust futexes the threads hold are released past the point of
    // no return, as the old image goes: by the host kernel, handed them
    // just before its exec, or, on a host that builds the new image
    // itself, here once it answered that it will (see
    // `Process::exec_prepare`).
    let builds = host.builds_children();
    let hold = if builds {
        super::exec_robust::ExecHold::Nothing
    } else {
        match cx.p.exec_prepare(cx.t) {
            Ok(h) => h,
            Err(e) => {
                for fd in Some(fd).into_iter().chain(interp_fd) {
                    let _ = host.close(fd);
                }
                return Err(e);
            }
        }
    };
    let e = host.execve(req);
    for fd in Some(fd).into_iter().chain(interp_fd) {
        let _ = host.close(fd);
    }
    if builds && e == Errno::REPLACED {
        cx.p.exec_release(cx.t);
    } else if !builds && e != Errno::REPLACED && !cx.p.exec_failed(hold) {
        // The old image cannot go on (its threads or its robust locks are
        // gone): a fatal SIGSEGV, as Linux gives an exec failing there.
        cx.p.signals.lock().actions[(SIGSEGV - 1) as usize].handler = SIG_DFL;
        signal::force(cx.p, cx.t, SigInfo::fault(SIGSEGV, SI_KERNEL, 0));
    }
    Err(e)
}

/// `wait4(pid, wstatus, options, rusage)`.
pub(super) fn wait4(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (pid, wstatus, options, rusage) = (a[0] as i32, a[1], a[2], a[3]);
    // WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE
    if options & !0xe000_000b != 0 {
        return Err(Errno::EINVAL);
    }
    let Some(w) = cx.p.host.wait4(pid, options as i32)? else {
        return Ok(0);
    };
    if wstatus != 0 {
        put(cx.mem(), wstatus, &w.status.to_le_bytes())?;
    }
    if rusage != 0 {
        put_rusage(cx, rusage, &w.rusage)?;
    }
    Ok(w.pid as u64)
}

fn put_rusage(cx: &Ctx<'_>, at: u64, ru: &[i64; 18]) -> SysResult<()> {
    let mut b = [0u8; 144];
    for (c, v) in b.chunks_exact_mut(8).zip(ru) {
        c.copy_from_slice(&v.to_le_bytes());
    }
    put(cx.mem(), at, &b)
}

/// `waitid(idtype, id, infop, options, rusage)`.
pub(super) fn waitid(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (idtype, id, infop, options, rusage) = (a[0], a[1] as i32, a[2], a[3], a[4]);
    // P_ALL, P_PID, P_PGID, P_PIDFD; the options must ask for an event
    // (WEXITED, WSTOPPED or WCONTINUED).
    if idtype > 3 || options & 0xe == 0 {
        return Err(Errno::EINVAL);
    }
    // WNOHANG | WSTOPPED | WEXITED | WCONTINUED | WNOWAIT | __W*
    if options & !0xe100_000f != 0 {
        return Err(Errno::EINVAL);
    }
    let w = cx.p.host.waitid(idtype as i32, id, options as i32)?;
    if infop != 0 {
        // What the kernel writes: zeroes when WNOHANG found nothing.
        let mut b = [0u8; 28];
        if let Some(w) = &w {
            b[0..4].copy_from_slice(&signal::SIGCHLD.to_le_bytes());
            b[8..12].copy_from_slice(&w.code.to_le_bytes());
            b[16..20].copy_from_slice(&w.pid.to_le_bytes());
            b[20..24].copy_from_slice(&w.uid.to_le_bytes());
            b[24..28].copy_from_slice(&w.si_status.to_le_bytes());
        }
        put(cx.mem(), infop, &b)?;
    }
    if rusage != 0 {
        put_rusage(cx, rusage, &w.map(|w| w.rusage).unwrap_or_default())?;
    }
    Ok(0)
}

/// `kill(pid, sig)`: the process itself in the core, anything else on the
/// host.
pub(super) fn kill(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (pid, sig) = (a[0] as i32, a[1]);
    if sig > signal::NSIG as u64 {
        return Err(Errno::EINVAL);
    }
    if pid == cx.p.host.ids().pid {
        return super::sys::kill(cx, pid, None, sig);
    }
    if pid == i32::MIN {
        // -pid overflows: the kernel refuses it.
        return Err(Errno::ESRCH);
    }
    cx.p.host.kill(pid, sig as i32).map(|_| 0)
}

pub(super) fn setpgid(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    cx.p.host.setpgid(a[0] as i32, a[1] as i32).map(|_| 0)
}

pub(super) fn getpgid(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    cx.p.host.getpgid(a[0] as i32).map(|g| g as u64)
}

pub(super) fn setsid(cx: &mut Ctx<'_>) -> R {
    cx.p.host.setsid().map(|s| s as u64)
}

pub(super) fn getsid(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    cx.p.host.getsid(a[0] as i32).map(|s| s as u64)
}

/// `ioctl(fd, TIOCGPGRP, &pgrp)` and `ioctl(fd, TIOCSPGRP, &pgrp)`.
pub(super) fn ioctl_pgrp(cx: &mut Ctx<'_>, fd: i32, req: u64, arg: u64) -> R {
    if req == super::abi::TIOCGPGRP {
        let g = cx.p.host.tcgetpgrp(fd)?;
        put(cx.mem(), arg, &g.to_le_bytes())?;
    } else {
        let g = cx.mem().read_u32(arg).map_err(|_| Errno::EFAULT)?;
        cx.p.host.tcsetpgrp(fd, g as i32)?;
    }
    Ok(0)
}

/// `pidfd_open(pid, flags)` (`flags`: `PIDFD_NONBLOCK` or
/// `PIDFD_THREAD`).
pub(super) fn pidfd_open(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (pid, flags) = (a[0] as i32, a[1] as u32);
    if pid <= 0 || flags & !(crate::abi::O_NONBLOCK as u32 | 0o200) != 0 {
        return Err(Errno::EINVAL);
    }
    cx.p.host.pidfd_open(pid, flags).map(|fd| fd as u64)
}

/// `pidfd_send_signal(pidfd, sig, info, flags)`: to this process, the
/// guest's own delivery (as `kill`); to another, the host's.
pub(super) fn pidfd_send_signal(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (fd, sig, info, flags) = (a[0] as i32, a[1], a[2], a[3]);
    if flags != 0 || sig > signal::NSIG as u64 {
        return Err(Errno::EINVAL);
    }
    if info != 0 {
        // A caller-made siginfo would need its pid and uid checked as the
        // kernel does; glibc and Go pass none.
        return Err(Errno::EINVAL);
    }
    let pid = cx.p.host.pidfd_pid(fd)?;
    if pid == 0 {
        return Err(Errno::ESRCH);
    }
    if pid == cx.p.host.ids().pid {
        return super::sys::kill(cx, pid, None, sig);
    }
    cx.p.host.pidfd_send_signal(fd, sig as i32).map(|_| 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{GuestMemory, Perm};
    use crate::process::{Options, Process, Thread};
    use crate::testhost::TestHost;
    extern crate std;

    /// `execve(path, argv = [path], envp = [])` on the test host, whose
    /// own `execve` is the default (`ENOSYS`): every check before the
    /// point of no return is the core's.
    fn execve_errno(path: &[u8]) -> i64 {
        let host = TestHost::leak();
        let mem = GuestMemory::new(host, 1 << 26).unwrap();
        mem.map(0x10000, 0x2000, Perm::READ | Perm::WRITE, true)
            .unwrap();
        let mut cpath = path.to_vec();
        cpath.push(0);
        mem.write_bytes(0x10100, &cpath).unwrap();
        mem.write_u64(0x10000, 0x10100).unwrap();
        mem.write_u64(0x10008, 0).unwrap();
        let p = Process::new(host, mem, b"/bin/guest".to_vec(), Options::default());
        let mut t = Thread::default();
        t.cpu.x[17] = super::super::nr::EXECVE;
        t.cpu.x[10] = 0x10100;
        t.cpu.x[11] = 0x10000;
        t.cpu.x[12] = 0x10008;
        super::super::dispatch(&p, &mut t);
        t.cpu.x[10] as i64
    }

    #[test]
    fn execve_refuses_bad_targets_before_the_point_of_no_return() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(alloc::format!("pvm-exec-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let file = |name: &str, data: &[u8], mode: u32| {
            let f = dir.join(name);
            std::fs::write(&f, data).unwrap();
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
            alloc::string::String::from(f.to_str().unwrap())
        };
        let errno = |p: &str| -execve_errno(p.as_bytes()) as i32;
        let missing = dir.join("missing");
        assert_eq!(errno(missing.to_str().unwrap()), Errno::ENOENT.0);
        assert_eq!(errno(dir.to_str().unwrap()), Errno::EACCES.0);
        assert_eq!(
            errno(&file("plain", b"#!/bin/sh\n", 0o644)),
            Errno::EACCES.0
        );
        assert_eq!(errno(&file("garbage", b"hello", 0o755)), Errno::ENOEXEC.0);
        assert_eq!(errno(&file("empty", b"", 0o755)), Errno::ENOEXEC.0);
        assert_eq!(errno(&file("noint", b"#!\n", 0o755)), Errno::ENOEXEC.0);
        let gone = alloc::format!("#!{}\n", missing.to_str().unwrap());
        assert_eq!(
            errno(&file("gone", gone.as_bytes(), 0o755)),
            Errno::ENOENT.0
        );
        // A RISC-V ELF the loader refuses (too short), directly and as
        // an interpreter.
        let elf = [
            0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 243, 0,
        ];
        let short = file("short", &elf, 0o755);
        assert_eq!(errno(&short), Errno::ENOEXEC.0);
        let via = alloc::format!("#!{short} arg\n");
        assert_eq!(errno(&file("via", via.as_bytes(), 0o755)), Errno::ENOEXEC.0);
        // A script that names itself: the kernel gives up after four
        // interpreters.
        let me = dir.join("loop");
        let looped = alloc::format!("#!{}\n", me.to_str().unwrap());
        assert_eq!(
            errno(&file("loop", looped.as_bytes(), 0o755)),
            Errno::ELOOP.0
        );
        // Another machine's ELF passes the core's checks: the host decides.
        let mut x86 = elf;
        x86[18] = 62;
        assert_eq!(errno(&file("x86", &x86, 0o755)), Errno::ENOSYS.0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn script_lines_parse_as_the_kernel_does() {
        let p = |s: &[u8]| script_line(s);
        assert_eq!(p(b"#!/bin/sh\n"), Ok((b"/bin/sh".to_vec(), None)));
        assert_eq!(
            p(b"#! /usr/bin/env  python3 -u  \nx"),
            Ok((b"/usr/bin/env".to_vec(), Some(b"python3 -u".to_vec())))
        );
        assert_eq!(
            p(b"#!\t/bin/x\targ\n"),
            Ok((b"/bin/x".to_vec(), Some(b"arg".to_vec())))
        );
        assert_eq!(p(b"#!\n"), Err(Errno::ENOEXEC));
        assert_eq!(p(b"#!   \n"), Err(Errno::ENOEXEC));
        assert_eq!(p(b"#!/bin/sh"), Ok((b"/bin/sh".to_vec(), None)));
        let long = [&b"#!/"[..], &[b'x'; 300]].concat();
        assert_eq!(p(&long[..BINPRM_BUF]), Err(Errno::ENOEXEC));
        assert_eq!(
            p(b"#!/bin/sh -e"),
            Ok((b"/bin/sh".to_vec(), Some(b"-e".to_vec())))
        );
    }
}
