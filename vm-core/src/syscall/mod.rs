//! OS-call emulator: Linux riscv64 (asm-generic) system calls, emulated on
//! the [`crate::host::HostOs`].
//!
//! The guest ABI: the call number in `a7`, arguments in `a0..a5`, the
//! result in `a0` (a negative errno on failure); `pc` moves past the
//! 4-byte `ecall`. Every guest pointer goes through the checked
//! [`crate::memory::GuestMemory`] accessors, so a bad pointer is `-EFAULT`
//! for the guest, never a host fault.
//!
//! Submodules: [`nr`] (the one table of numbers, names and handlers),
//! [`abi`] (guest structure layouts and constants), [`strace`]
//! (`--strace` lines), and the handlers by concern: `fs` (files), `fsx`
//! (more file, device-ioctl and id calls), `event` (poll, select, epoll,
//! eventfd, timerfd, signalfd), `net` (sockets), `mm` (address space),
//! `proc` (fork, exec, wait, process groups), `thread` (clone of threads,
//! futex), `procfs` (the guest's own `/proc`, `process_vm_*`), `ptimer`
//! (POSIX timers, on [`crate::ptimer`]), `ipc` (System V IPC and
//! POSIX message queues), `sys`
//! (process identity, time, signals, the rest), [`hwprobe`]. An unknown
//! call returns `-ENOSYS`.
//!
//! Choices where Linux leaves room or pvm cannot be exact yet:
//! * `rseq` returns `-ENOSYS`, as qemu-user does; glibc then runs without it.
//! * Signals a call raises (`kill`, `tgkill`, SIGPIPE) only become
//!   pending here; the run loop delivers them once the call has returned
//!   (see [`crate::signal`]). A blocking host call a host signal cuts
//!   short fails with `EINTR`; [`dispatch`] then either runs the call
//!   again (the signal was blocked or ignored, or its handler has
//!   `SA_RESTART` and the call is one Linux restarts) or returns `EINTR`.
//!   Sleeps, `ppoll` and `futex` waits go on for the time left themselves;
//!   a restarted `rt_sigtimedwait` starts over with its whole timeout.
//! * `futex` goes to the host's futex on the guest word's host address
//!   (see [`thread`]); on a host without one, `FUTEX_WAIT` with a matching
//!   value sleeps for its timeout (no other thread can wake it there).

pub use crate::abi;
pub(crate) mod event;
pub(crate) mod exec_robust;
mod fork_copy;
mod fs;
mod fsx;
pub mod hwprobe;
mod ipc;
mod mm;
mod net;
pub mod nr;
mod ownfd;
pub mod peer;
mod proc;
pub(crate) mod procfs;
mod ptimer;
pub mod strace;
mod sys;
mod tasks;
pub mod thread;

use crate::host::{Errno, SysResult};
use crate::memory::{Access, GuestMemory};
use crate::process::{Process, Thread};
use alloc::vec::Vec;

/// What the run loop does after a system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Resume the guest (its `pc` is past the `ecall`, `a0` holds the result).
    Continue,
    /// The process exits with this status (`exit_group`).
    Exit(i32),
    /// The calling thread exits with this status (`exit`).
    ExitThread(i32),
}

/// Result of one handler: the value for `a0`.
type R = SysResult<u64>;

/// The state a handler works on.
struct Ctx<'a> {
    p: &'a Process,
    t: &'a mut Thread,
    /// Path arguments [`ownfd::gate`] read (by guest address) and checked,
    /// possibly rewritten: the handler uses these, not guest memory again
    /// (another guest thread may change it in between).
    paths: Vec<(u64, SysResult<Vec<u8>>)>,
    /// Host descriptors of the directories [`ownfd::gate`] resolved path
    /// arguments to (the handler's call is made from them): closed when
    /// the call is over.
    held: Vec<i32>,
    /// `openat2` is to add `O_NOFOLLOW`: [`ownfd::gate`] found the name
    /// it creates missing, so a link made there meanwhile is not followed
    /// (what `openat` gets in its flags argument).
    create_nofollow: bool,
}

impl Ctx<'_> {
    fn mem(&self) -> &GuestMemory {
        &self.p.mem
    }

    /// The NUL-terminated guest path at `addr`, as [`ownfd::gate`] left
    /// it when it looked at it first.
    fn path(&self, addr: u64) -> SysResult<Vec<u8>> {
        match self.paths.iter().find(|(a, _)| *a == addr) {
            Some((_, p)) => p.clone(),
            None => path(self.mem(), addr),
        }
    }
}

/// Emulate the system call `thread` is stopped at (`a7` = number,
/// `a0..a5` = arguments), write the result to `a0` and advance `pc`.
pub fn dispatch(process: &Process, thread: &mut Thread) -> Flow {
    let x = &thread.cpu.x;
    let nr = x[17];
    let a = [x[10], x[11], x[12], x[13], x[14], x[15]];
    thread.cpu.pc = thread.cpu.pc.wrapping_add(4);
    if nr == nr::EXIT || nr == nr::EXIT_GROUP {
        if process.options.strace {
            let line = strace::format_call(&process.mem, nr, &a, None);
            process.host.log(format_args!("{line}"));
        }
        let code = a[0] as i32 & 0xff;
        return if nr == nr::EXIT {
            Flow::ExitThread(code)
        } else {
            Flow::Exit(code)
        };
    }
    let mut cx = Ctx {
        p: process,
        t: thread,
        paths: Vec::new(),
        held: Vec::new(),
        create_nofollow: false,
    };
    // Descriptors the host holds for itself look closed to the guest, and
    // thread directories the host does not have look as on Linux: the
    // handler gets the arguments as `ownfd::gate` leaves them.
    let r = if ownfd::gated(process.host) {
        let r = ownfd::gate(&mut cx, nr, &a).and_then(|b| call(&mut cx, nr, &b));
        ownfd::release(&mut cx);
        ownfd::note_new(&cx, nr, &a, &r);
        r
    } else {
        call(&mut cx, nr, &a)
    };
    let ret = match r {
        Ok(v) => v as i64,
        Err(Errno::PARK) => {
            // Back to the `ecall`, arguments intact: the call runs again
            // when the thread gets the CPU back (see `crate::sched`).
            thread.cpu.pc = thread.cpu.pc.wrapping_sub(4);
            return Flow::Continue;
        }
        Err(Errno::REPLACED) => {
            // execve on a host that runs the new image itself once this
            // run loop has ended (`HostOs::builds_children`).
            return Flow::Exit(0);
        }
        Err(Errno::EINTR)
            if crate::signal::restart_interrupted(process, thread, restartable(nr))
                || thread::restarts_always(nr, &a) =>
        {
            // Back to the `ecall`, arguments intact: the run loop delivers
            // what is deliverable (a handler runs first), then the call runs again.
            thread.cpu.pc = thread.cpu.pc.wrapping_sub(4);
            return Flow::Continue;
        }
        Err(e) => -(e.0 as i64),
    };
    thread.cpu.x[10] = ret as u64;
    if ret == -(Errno::ENOSYS.0 as i64) && crate::log::on(crate::log::UNIMP) {
        process
            .host
            .log(format_args!("unimp: system call {nr} returns ENOSYS"));
    }
    if process.options.strace {
        let line = strace::format_call(&process.mem, nr, &a, Some(ret));
        process.host.log(format_args!("{line}"));
    }
    Flow::Continue
}

/// May call `n`, cut short by a signal whose handler has `SA_RESTART`, be
/// run again? Not the waits Linux never restarts after a handler (sleeps,
/// `ppoll`, `rt_sigsuspend`, `rt_sigtimedwait`, and System V IPC's
/// `msgsnd`, `msgrcv`, `semop`, `semtimedop`: `-ERESTARTNOHAND` or
/// `-ERESTART_RESTARTBLOCK` in the kernel, EINTR for the guest).
pub(crate) fn restartable(n: u64) -> bool {
    use nr::*;
    !matches!(
        n,
        NANOSLEEP
            | CLOCK_NANOSLEEP
            | PPOLL
            | PSELECT6
            | EPOLL_PWAIT
            | EPOLL_PWAIT2
            | RT_SIGSUSPEND
            | RT_SIGTIMEDWAIT
            | MSGSND
            | MSGRCV
            | SEMOP
            | SEMTIMEDOP
    )
}

fn call(cx: &mut Ctx<'_>, n: u64, a: &[u64; 6]) -> R {
    use nr::*;
    // Calls that change the address space run one at a time (the kernel's
    // mmap_lock): finding a free range and mapping it is not one step.
    let _space = matches!(
        n,
        BRK | MMAP | MUNMAP | MPROTECT | MREMAP | MADVISE | MSYNC | SHMAT | SHMDT
    )
    .then(|| cx.p.mem.lock_space());
    nr::call(cx, n, a)
}

/// `clone` of a new process (no `CLONE_THREAD`): see [`proc`].
fn process_clone(cx: &mut Ctx<'_>, args: &thread::CloneArgs) -> R {
    proc::new_process(cx, args)
}

/// Before a read from `fd` that may block: where guest threads take turns
/// on one host thread and `fd` has nothing to read, park the caller until
/// it has (`Errno::PARK`), so the other threads run meanwhile (unless
/// `fd` is nonblocking: the call then fails with `EAGAIN` itself).
fn wait_readable(cx: &mut Ctx<'_>, fd: i32) -> SysResult<()> {
    if !cx.p.green_others() {
        return Ok(());
    }
    use crate::abi::POLLIN;
    let mut p = [crate::host::PollFd {
        fd,
        events: POLLIN,
        revents: 0,
    }];
    match cx
        .p
        .host
        .poll(&mut p, Some(crate::host::Timespec::default()))
    {
        // A look cut short (an interrupt of this host thread: a timer's
        // wake-up, a kick from a guest thread) is no answer either: a
        // blocking read now would stall every guest thread.
        Ok(0) | Err(Errno::EINTR) => {
            // A descriptor that does not block answers at once (EAGAIN).
            if cx
                .p
                .host
                .fcntl(fd, crate::abi::F_GETFL, 0)
                .is_ok_and(|fl| fl as i32 & crate::abi::O_NONBLOCK != 0)
            {
                return Ok(());
            }
            cx.t.block = Some(crate::sched::Block::Io { fd, events: POLLIN });
            Err(Errno::PARK)
        }
        _ => Ok(()),
    }
}

// ---- guest memory helpers shared by the handlers -----------------------

use crate::abi::{MAX_RW_COUNT as MAX_RW, PATH_MAX};

/// A NUL-terminated guest path.
fn path(mem: &GuestMemory, addr: u64) -> SysResult<Vec<u8>> {
    if addr == 0 {
        return Err(Errno::EFAULT);
    }
    let p = mem.read_cstr(addr, PATH_MAX).map_err(|_| Errno::EFAULT)?;
    if p.len() >= PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(p)
}

/// Copy `bytes` to guest `addr` (EFAULT when any byte is not writable).
fn put(mem: &GuestMemory, addr: u64, bytes: &[u8]) -> SysResult<()> {
    mem.write_bytes(addr, bytes).map_err(|_| Errno::EFAULT)
}

/// Read `N` bytes from guest `addr`.
fn get<const N: usize>(mem: &GuestMemory, addr: u64) -> SysResult<[u8; N]> {
    let mut b = [0u8; N];
    mem.read_bytes(addr, &mut b).map_err(|_| Errno::EFAULT)?;
    Ok(b)
}

/// Copy the `len` guest bytes at `addr` into a new vector (`EFAULT` when
/// any is not readable, or its host page is gone: a guarded copy).
fn read_vec(mem: &GuestMemory, addr: u64, len: usize) -> SysResult<Vec<u8>> {
    let mut v = alloc::vec![0u8; len];
    mem.read_bytes(addr, &mut v).map_err(|_| Errno::EFAULT)?;
    Ok(v)
}

/// Append the `n` guest bytes at `base` to `out` (one part of a gather,
/// a guarded copy): `true` when all were copied, `false` when only those
/// before a page whose host page is gone (a file truncated under its
/// mapping) were, perhaps none.
fn gather(mem: &GuestMemory, base: u64, n: usize, out: &mut Vec<u8>) -> bool {
    let at = out.len();
    out.resize(at + n, 0);
    let Err(f) = mem.read_bytes(base, &mut out[at..]) else {
        return true;
    };
    let keep = (crate::memory::page_down(f.addr).saturating_sub(base) as usize).min(n);
    out.truncate(at + keep);
    if mem.read_bytes(base, &mut out[at..]).is_err() {
        out.truncate(at);
    }
    false
}

/// How many of the `len` bytes at `addr` can be accessed, counting from
/// the start: the kernel copies up to the first bad page and fails only if
/// nothing could be copied.
fn usable(mem: &GuestMemory, addr: u64, len: u64, access: Access) -> SysResult<usize> {
    let len = len.min(MAX_RW);
    match mem.check(addr, len, access) {
        Ok(_) => Ok(len as usize),
        Err(f) if f.addr > addr => Ok((f.addr - addr) as usize),
        Err(_) => Err(Errno::EFAULT),
    }
}

/// Make `call`, a host call that fills the guest bytes `[addr, addr+len)`
/// through a host slice; made again when the host refused it only because
/// another thread code-protected one of those pages meanwhile (see
/// [`GuestMemory::host_write`], which says which calls may be made again).
fn fill<T>(
    mem: &GuestMemory,
    addr: u64,
    len: usize,
    mut call: impl FnMut(&mut [u8]) -> SysResult<T>,
) -> SysResult<T> {
    mem.host_write(addr, len as u64, |p| {
        // SAFETY: `host_write` checked the range inside the reservation
        // and writable, as `guest_mut` does; the slice lives for one host
        // call.
        call(unsafe { core::slice::from_raw_parts_mut(p, len) })
    })
}

/// A zeroed buffer of `n` bytes for a host call to fill, or `ENOMEM`
/// where the host has no room for it (never an abort).
fn stage_buffer(n: usize) -> SysResult<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
    v.resize(n, 0);
    Ok(v)
}

/// Make `call`, a host call on `fd` that fills up to `len` guest bytes at
/// `addr` and takes what it returns off `fd`, so that a copy the host
/// refuses because of a code-protection race (see [`fill`]) loses
/// nothing. Such a race needs a page of the buffer that may hold
/// translated code ([`GuestMemory::may_hold_code`]: executable, or
/// code-protected already); a buffer without one is filled directly,
/// through [`fill`], as is one on a descriptor whose data stays queued
/// when the copy out fails ([`keeps_on_fault`]: a regular file, a pipe,
/// a stream socket), where the retry finds it again. Otherwise (a
/// datagram socket, an eventfd, a timerfd, inotify, a terminal: they
/// drop what they took when the copy out fails) the call fills a buffer
/// of pvm's own, which then goes to the guest with a guarded store (a
/// page gone meanwhile loses it, as on Linux). A page that another
/// thread makes executable, and runs code on, while a direct fill waits
/// is left host-writable until the call returns, which then drops the
/// translations made from it (see [`GuestMemory::host_write`]), so the
/// host's copy is not refused and stale code does not run after it.
/// `count` says how many bytes a result filled.
fn fill_taking<T>(
    cx: &Ctx<'_>,
    fd: i32,
    addr: u64,
    len: usize,
    mut call: impl FnMut(&mut [u8]) -> SysResult<T>,
    count: impl Fn(&T) -> usize,
) -> SysResult<T> {
    if !cx.mem().may_hold_code(addr, len as u64) || keeps_on_fault(cx, fd) {
        return fill(cx.mem(), addr, len, call);
    }
    let mut stage = stage_buffer(len)?;
    let r = call(&mut stage)?;
    put(cx.mem(), addr, &stage[..count(&r).min(len)])?;
    Ok(r)
}

/// Does data on `fd` stay queued when the host fails to copy it out (so a
/// read refused with `EFAULT` can be made again)? Regular files,
/// directories, pipes, block devices and stream sockets keep it; anything
/// else, or a descriptor the host cannot describe, is taken not to.
fn keeps_on_fault(cx: &Ctx<'_>, fd: i32) -> bool {
    use crate::abi::{S_IFBLK, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK};
    use crate::abi::{SO_TYPE, SOCK_STREAM, SOL_SOCKET};
    let Ok(st) = cx.p.host.fstatat(fd, b"", crate::abi::AT_EMPTY_PATH) else {
        return false;
    };
    match st.mode & S_IFMT {
        S_IFREG | S_IFDIR | S_IFIFO | S_IFBLK => true,
        S_IFSOCK => {
            let mut v = [0u8; 4];
            matches!(cx.p.host.getsockopt(fd, SOL_SOCKET, SO_TYPE, &mut v),
                Ok(4) if i32::from_le_bytes(v) == SOCK_STREAM)
        }
        _ => false,
    }
}

/// The guest bytes `[addr, addr+len)` as a host slice for a host call to
/// fill. A host call that writes there goes through [`fill`] instead
/// where an `EFAULT` leaves it as if not made.
#[allow(clippy::mut_from_ref)]
fn guest_mut(mem: &GuestMemory, addr: u64, len: usize) -> SysResult<&mut [u8]> {
    let p = mem
        .check(addr, len as u64, Access::Write)
        .map_err(|_| Errno::EFAULT)?;
    // SAFETY: `check` proved the range lies inside the reservation and is
    // writable. Guest memory is not owned by any Rust value; the slice lives
    // only for one host call, during which pvm holds no other reference to
    // these bytes (another guest thread racing on them is a guest data race,
    // as on hardware).
    Ok(unsafe { core::slice::from_raw_parts_mut(p, len) })
}

/// The guest bytes `[addr, addr+len)` as a host slice for a host call to read.
fn guest_ref(mem: &GuestMemory, addr: u64, len: usize) -> SysResult<&[u8]> {
    let p = mem
        .check(addr, len as u64, Access::Read)
        .map_err(|_| Errno::EFAULT)?;
    // SAFETY: as in `guest_mut`; the range was checked readable.
    Ok(unsafe { core::slice::from_raw_parts(p, len) })
}

#[cfg(test)]
mod tests;
