//! OS-call emulator: Linux riscv64 (asm-generic) system calls, emulated on
//! the [`crate::host::HostOs`].
//!
//! The guest ABI: the call number in `a7`, arguments in `a0..a5`, the
//! result in `a0` (a negative errno on failure); `pc` moves past the
//! 4-byte `ecall`. Every guest pointer goes through the checked
//! [`crate::memory::GuestMemory`] accessors, so a bad pointer is `-EFAULT`
//! for the guest, never a host fault.
//!
//! Submodules: [`nr`] (numbers and names, the one table), [`abi`] (guest
//! structure layouts), [`strace`] (`--strace` lines), and the handlers by
//! concern: `fs` (files), `mm` (address space), `proc` (fork, exec, wait,
//! process groups), `sys` (process identity, time, signals, the rest). An
//! unknown call returns `-ENOSYS`.
//! concern: `fs` (files), `fsx` (more file, device-ioctl and id calls),
//! `event` (poll, select, epoll, eventfd, timerfd, signalfd), `net`
//! (sockets), `mm` (address space), `proc` (fork, exec, wait, process
//! groups), `thread` (clone of threads, futex), `sys` (process identity,
//! time, signals, the rest). An unknown call returns `-ENOSYS`.
//! concern: `fs` (files), `fsx` (more file, device-ioctl and id calls),
//! `event` (poll, select, epoll, eventfd, timerfd, signalfd), `net`
//! (sockets), `mm` (address space), `sys` (process, time, signals, the
//! rest). An unknown call returns `-ENOSYS`.
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

pub mod abi;
pub(crate) mod event;
mod fs;
mod fsx;
pub mod hwprobe;
mod mm;
mod net;
pub mod nr;
mod proc;
pub mod strace;
mod sys;
pub mod thread;

use crate::host::{Errno, SetId, SysResult};
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
}

impl Ctx<'_> {
    fn mem(&self) -> &GuestMemory {
        &self.p.mem
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
    };
    let ret = match call(&mut cx, nr, &a) {
        Ok(v) => v as i64,
        Err(Errno::PARK) => {
            // Back to the `ecall`, arguments intact: the call runs again
            // when the thread gets the CPU back (see `crate::sched`).
            thread.cpu.pc = thread.cpu.pc.wrapping_sub(4);
            return Flow::Continue;
        }
        Err(Errno::EINTR)
            if crate::signal::restart_interrupted(process, thread, restartable(nr)) =>
        {
            // Back to the `ecall`, arguments intact: the run loop delivers
            // what is deliverable (a handler runs first), then the call runs again.
            thread.cpu.pc = thread.cpu.pc.wrapping_sub(4);
            return Flow::Continue;
        }
        Err(e) => -(e.0 as i64),
    };
    thread.cpu.x[10] = ret as u64;
    if process.options.strace {
        let line = strace::format_call(&process.mem, nr, &a, Some(ret));
        process.host.log(format_args!("{line}"));
    }
    Flow::Continue
}

/// May call `n`, cut short by a signal whose handler has `SA_RESTART`, be
/// run again? Not the waits Linux never restarts after a handler (sleeps,
/// `ppoll`, `rt_sigsuspend`, `rt_sigtimedwait`: `-ERESTARTNOHAND` or
/// `-ERESTART_RESTARTBLOCK` in the kernel, EINTR for the guest).
fn restartable(n: u64) -> bool {
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
    )
}

fn call(cx: &mut Ctx<'_>, n: u64, a: &[u64; 6]) -> R {
    use nr::*;
    // Calls that change the address space run one at a time (the kernel's
    // mmap_lock): finding a free range and mapping it is not one step.
    let _space = matches!(n, BRK | MMAP | MUNMAP | MPROTECT | MREMAP | MADVISE | MSYNC)
        .then(|| cx.p.mem.lock_space());
    match n {
        READ => fs::read(cx, a),
        WRITE => fs::write(cx, a),
        READV => fs::readv(cx, a, None),
        WRITEV => fs::writev(cx, a, None),
        PREAD64 => fs::pread(cx, a),
        PWRITE64 => fs::pwrite(cx, a),
        PREADV => fs::readv(cx, a, Some(a[3] as i64)),
        PWRITEV => fs::writev(cx, a, Some(a[3] as i64)),
        OPENAT => fs::openat(cx, a),
        CLOSE => fs::close(cx, a),
        LSEEK => fs::lseek(cx, a),
        NEWFSTATAT => fs::newfstatat(cx, a),
        FSTAT => fs::fstat(cx, a),
        STATX => fs::statx(cx, a),
        FACCESSAT => fs::faccessat(cx, a, 0),
        FACCESSAT2 => fs::faccessat(cx, a, a[3] as i32),
        READLINKAT => fs::readlinkat(cx, a),
        GETDENTS64 => fs::getdents64(cx, a),
        MKDIRAT => fs::mkdirat(cx, a),
        UNLINKAT => fs::unlinkat(cx, a),
        RENAMEAT2 => fs::renameat2(cx, a),
        SYMLINKAT => fs::symlinkat(cx, a),
        LINKAT => fs::linkat(cx, a),
        FCHMODAT => fs::fchmodat(cx, a),
        FCHMOD => fs::fchmod(cx, a),
        UTIMENSAT => fs::utimensat(cx, a),
        FTRUNCATE => fs::ftruncate(cx, a),
        TRUNCATE => fs::truncate(cx, a),
        FADVISE64 => fs::fadvise(cx, a),
        STATFS => fs::statfs(cx, a),
        FSTATFS => fs::fstatfs(cx, a),
        FSYNC | FDATASYNC => fs::fsync(cx, a),
        FCNTL => fs::fcntl(cx, a),
        DUP => fs::dup(cx, a),
        DUP3 => fs::dup3(cx, a),
        PIPE2 => fs::pipe2(cx, a),
        IOCTL => fs::ioctl(cx, a),
        GETCWD => fs::getcwd(cx, a),
        CHDIR => fs::chdir(cx, a),
        FCHDIR => fs::fchdir(cx, a),
        UMASK => Ok(cx.p.host.umask(a[0] as u32 & 0o777) as u64),
        BRK => mm::brk(cx, a),
        MMAP => mm::mmap(cx, a),
        MUNMAP => mm::munmap(cx, a),
        MPROTECT => mm::mprotect(cx, a),
        MREMAP => mm::mremap(cx, a),
        MADVISE => mm::madvise(cx, a),
        MSYNC => mm::msync(cx, a),
        GETPID => Ok(cx.p.host.ids().pid as u64),
        GETPPID => Ok(cx.p.host.ids().ppid as u64),
        GETTID => Ok(cx.t.tid as u64),
        GETUID => Ok(cx.p.host.ids().uid as u64),
        GETEUID => Ok(cx.p.host.ids().euid as u64),
        GETGID => Ok(cx.p.host.ids().gid as u64),
        GETEGID => Ok(cx.p.host.ids().egid as u64),
        GETRESUID => fsx::getres(cx, a, true),
        GETRESGID => fsx::getres(cx, a, false),
        UNAME => sys::uname(cx, a),
        CLOCK_GETTIME => sys::clock_gettime(cx, a),
        CLOCK_GETRES => sys::clock_getres(cx, a),
        GETTIMEOFDAY => sys::gettimeofday(cx, a),
        NANOSLEEP => sys::nanosleep(cx, a),
        CLOCK_NANOSLEEP => sys::clock_nanosleep(cx, a),
        GETRANDOM => sys::getrandom(cx, a),
        SET_TID_ADDRESS => {
            cx.t.clear_child_tid = a[0];
            Ok(cx.t.tid as u64)
        }
        SET_ROBUST_LIST => {
            if a[1] != 24 {
                return Err(Errno::EINVAL);
            }
            cx.t.robust_list = (a[0], a[1]);
            Ok(0)
        }
        GET_ROBUST_LIST => thread::get_robust_list(cx, a),
        CLONE => thread::clone(cx, a),
        CLONE3 => thread::clone3(cx, a),
        MEMBARRIER => thread::membarrier(cx, a),
        SCHED_SETAFFINITY => thread::sched_setaffinity(cx, a),
        RSEQ => Err(Errno::ENOSYS),
        PRCTL => thread::prctl(cx, a),
        EXECVE => proc::execve(cx, a),
        EXECVEAT => proc::execveat(cx, a),
        WAIT4 => proc::wait4(cx, a),
        WAITID => proc::waitid(cx, a),
        SETPGID => proc::setpgid(cx, a),
        GETPGID => proc::getpgid(cx, a),
        SETSID => proc::setsid(cx),
        GETSID => proc::getsid(cx, a),
        PRLIMIT64 => sys::prlimit(cx, a[0] as i32, a[1], a[2], a[3]),
        GETRLIMIT => sys::prlimit(cx, 0, a[0], 0, a[1]),
        SETRLIMIT => sys::prlimit(cx, 0, a[0], a[1], 0),
        SYSINFO => sys::sysinfo(cx, a),
        TIMES => sys::times(cx, a),
        GETRUSAGE => sys::getrusage(cx, a),
        SCHED_YIELD => thread::sched_yield(cx),
        PPOLL => event::ppoll(cx, a),
        PSELECT6 => event::pselect6(cx, a),
        EPOLL_CREATE1 => event::epoll_create1(cx, a),
        EPOLL_CTL => event::epoll_ctl(cx, a),
        EPOLL_PWAIT => event::epoll_pwait(cx, a, false),
        EPOLL_PWAIT2 => event::epoll_pwait(cx, a, true),
        EVENTFD2 => event::eventfd2(cx, a),
        TIMERFD_CREATE => event::timerfd_create(cx, a),
        TIMERFD_SETTIME => event::timerfd_settime(cx, a),
        TIMERFD_GETTIME => event::timerfd_gettime(cx, a),
        SIGNALFD4 => event::signalfd4(cx, a),
        SOCKET => net::socket(cx, a),
        SOCKETPAIR => net::socketpair(cx, a),
        BIND => net::bind(cx, a),
        LISTEN => net::listen(cx, a),
        ACCEPT => net::accept4(cx, a, 0),
        ACCEPT4 => net::accept4(cx, a, a[3] as i32),
        CONNECT => net::connect(cx, a),
        GETSOCKNAME => net::sockname(cx, a, false),
        GETPEERNAME => net::sockname(cx, a, true),
        SENDTO => net::sendto(cx, a),
        RECVFROM => net::recvfrom(cx, a),
        SENDMSG => net::sendmsg(cx, a),
        RECVMSG => net::recvmsg(cx, a),
        SHUTDOWN => net::shutdown(cx, a),
        SETSOCKOPT => net::setsockopt(cx, a),
        GETSOCKOPT => net::getsockopt(cx, a),
        MEMFD_CREATE => fsx::memfd_create(cx, a),
        FLOCK => fsx::flock(cx, a),
        SENDFILE => fsx::sendfile(cx, a),
        COPY_FILE_RANGE => fsx::copy_range(cx, a, false),
        SPLICE => fsx::copy_range(cx, a, true),
        TEE => fsx::tee(cx, a),
        FALLOCATE => fsx::fallocate(cx, a),
        CLOSE_RANGE => fsx::close_range(cx, a),
        FCHOWNAT => fsx::fchownat(cx, a),
        FCHOWN => fsx::fchown(cx, a),
        SETXATTR | LSETXATTR | FSETXATTR => fsx::setxattr(cx, a, n - SETXATTR),
        GETXATTR | LGETXATTR | FGETXATTR => fsx::getxattr(cx, a, n - GETXATTR),
        LISTXATTR | LLISTXATTR | FLISTXATTR => fsx::listxattr(cx, a, n - LISTXATTR),
        REMOVEXATTR | LREMOVEXATTR | FREMOVEXATTR => fsx::removexattr(cx, a, n - REMOVEXATTR),
        SYNC => fsx::sync(cx),
        SYNCFS => fsx::syncfs(cx, a),
        PREADV2 => fsx::rw2(cx, a, false),
        PWRITEV2 => fsx::rw2(cx, a, true),
        SETRESUID => fsx::setres(cx, a, true),
        SETRESGID => fsx::setres(cx, a, false),
        GETGROUPS => fsx::getgroups(cx, a),
        SETGROUPS => fsx::setgroups(cx, a),
        GETPRIORITY => fsx::getpriority(cx, a),
        SETPRIORITY => fsx::setpriority(cx, a),
        SETITIMER => sys::setitimer(cx, a),
        GETITIMER => sys::getitimer(cx, a),
        SCHED_GETAFFINITY => thread::sched_getaffinity(cx, a),
        SCHED_GET_PRIORITY_MAX => thread::sched_priority_range(a, true),
        SCHED_GET_PRIORITY_MIN => thread::sched_priority_range(a, false),
        SCHED_GETSCHEDULER => thread::sched_getscheduler(cx, a),
        SCHED_GETPARAM => thread::sched_getparam(cx, a),
        SCHED_SETSCHEDULER => thread::sched_setscheduler(cx, a, Some(a[1] as i32)),
        SCHED_SETPARAM => thread::sched_setscheduler(cx, a, None),
        SCHED_RR_GET_INTERVAL => thread::sched_rr_get_interval(cx, a),
        SETUID => fsx::set_id(cx, SetId::Uid(a[0] as u32)),
        SETGID => fsx::set_id(cx, SetId::Gid(a[0] as u32)),
        SETREUID => fsx::set_id(cx, SetId::ReUid(a[0] as u32, a[1] as u32)),
        SETREGID => fsx::set_id(cx, SetId::ReGid(a[0] as u32, a[1] as u32)),
        SETFSUID => fsx::set_id(cx, SetId::FsUid(a[0] as u32)),
        SETFSGID => fsx::set_id(cx, SetId::FsGid(a[0] as u32)),
        MKNODAT => fs::mknodat(cx, a),
        FUTEX => thread::futex(cx, a),
        RT_SIGACTION => sys::rt_sigaction(cx, a),
        RT_SIGPROCMASK => sys::rt_sigprocmask(cx, a),
        SIGALTSTACK => sys::sigaltstack(cx, a),
        RT_SIGRETURN => Ok(crate::signal::sigreturn(cx.p, cx.t)),
        RT_SIGSUSPEND => sys::rt_sigsuspend(cx, a),
        RT_SIGPENDING => sys::rt_sigpending(cx, a),
        RT_SIGTIMEDWAIT => sys::rt_sigtimedwait(cx, a),
        RT_SIGQUEUEINFO => sys::sigqueueinfo(cx, a[0] as i32, None, a[1], a[2]),
        RT_TGSIGQUEUEINFO => sys::sigqueueinfo(cx, a[0] as i32, Some(a[1] as i32), a[2], a[3]),
        KILL => proc::kill(cx, a),
        TKILL => sys::kill(cx, -1, Some(a[0] as i32), a[1]),
        TGKILL => sys::kill(cx, a[0] as i32, Some(a[1] as i32), a[2]),
        RISCV_HWPROBE => hwprobe::riscv_hwprobe(cx, a),
        RISCV_FLUSH_ICACHE => {
            if a[2] & !1 != 0 {
                return Err(Errno::EINVAL);
            }
            cx.mem().invalidate_code();
            Ok(0)
        }
        _ => Err(Errno::ENOSYS),
    }
}

/// `clone` of a new process (no `CLONE_THREAD`): see [`proc`].
fn process_clone(cx: &mut Ctx<'_>, args: &thread::CloneArgs) -> R {
    proc::new_process(
        cx,
        args.flags,
        args.exit_signal,
        args.sp,
        args.parent_tid,
        args.tls,
        args.child_tid,
    )
}

/// Before a read from `fd` that may block: where guest threads take turns
/// on one host thread and `fd` has nothing to read, park the caller until
/// it has (`Errno::PARK`), so the other threads run meanwhile.
fn wait_readable(cx: &mut Ctx<'_>, fd: i32) -> SysResult<()> {
    if !cx.p.green_others() {
        return Ok(());
    }
    const POLLIN: i16 = 1;
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
        Ok(0) => {
            cx.t.block = Some(crate::sched::Block::Io { fd, events: POLLIN });
            Err(Errno::PARK)
        }
        _ => Ok(()),
    }
}

// ---- guest memory helpers shared by the handlers -----------------------

/// Longest path the kernel accepts, NUL included.
const PATH_MAX: usize = 4096;
/// Largest byte count one read or write moves (`MAX_RW_COUNT`).
const MAX_RW: u64 = 0x7fff_f000;

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

/// The guest bytes `[addr, addr+len)` as a host slice for a host call to
/// fill.
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
