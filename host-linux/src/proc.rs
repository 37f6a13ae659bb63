//! Guest processes on Linux: the host side of `HostOs::fork`, `vfork`,
//! `execve`, `wait4`/`waitid`, `kill`, process groups and sessions.
//!
//! One guest process is one pvm process, so the guest's process tree *is*
//! a host process tree: pids, process groups, sessions, `wait`, `kill` and
//! the parent-death signal are the host's, forwarded unchanged.
//!
//! * `fork` is a host `fork()` of pvm itself. The guest address space is a
//!   private anonymous mapping, so the child gets a copy-on-write copy of it
//!   (and of the translator's code cache), exactly as Linux copies a process.
//! * `clone(CLONE_VM | CLONE_VFORK)` (glibc's `posix_spawn`, `vfork`) is a
//!   host `clone(CLONE_VM | CLONE_VFORK)` of pvm: the child is a real host
//!   process (its own pid, descriptor table, signal dispositions, process
//!   group) that shares pvm's whole address space, guest memory included,
//!   and the kernel suspends the calling thread until the child execs or
//!   exits, as Linux does for the guest. The child runs on a stack of its
//!   own (allocated here) with a closure from the core that runs the guest
//!   child with its own registers and signal table and an interpreter of
//!   its own, so the parent's registers, signal state and translated code
//!   are untouched; the guest child's writes to guest memory (posix_spawn's
//!   error word) are the parent's, since the memory is shared. Host
//!   signals caught for the parent and not yet taken stay the parent's:
//!   the parent blocks every signal and sets its record of them aside
//!   while the child runs (the child starts with the parent's mask and an
//!   empty record; what arrives for the parent meanwhile waits, blocked,
//!   until it resumes). Whatever the
//!   child allocates on the shared heap for a successful `execve` can no
//!   longer be freed by it: [`execve`] parks those buffers in the vforking
//!   thread's [`VFORK_GARBAGE`] and the parent frees them when it resumes.
//! * `execve` of a RISC-V program re-executes pvm (`/proc/self/exe`) with
//!   the options this pvm was started with ([`set_relaunch`]: sysroot,
//!   engine, code cache size, `--strace`), `--argv0` for the guest's
//!   `argv[0]`, the guest's ignored signals, and the program; the guest's
//!   environment becomes the new pvm's own (it passes its environment on to
//!   its guest), but for the `LD_*` variables, which would steer the host's
//!   dynamic linker loading pvm: those go through `-E`. A host program is executed directly. In both cases the
//!   host exec keeps what Linux's keeps: descriptors without close-on-exec
//!   (guest descriptors are host ones), the signal mask (the host mask is
//!   set to the guest's just before the exec, and a new pvm takes its
//!   initial host mask as the guest's), ignored signals (SIGPIPE, which pvm
//!   always ignores itself, is set to the guest's disposition) and pending
//!   signals (re-raised while blocked, so they stay pending across it).
//! * A pvm whose parent is a guest ([`is_child`]: forked, vforked, or
//!   exec'd by one of those) ends the way its guest ended: a guest killed
//!   by signal S makes the pvm process die of host signal S (core dumps
//!   off), so the guest parent's `wait` sees `WIFSIGNALED`; see
//!   [`end_process`].

use std::cell::RefCell;
use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStringExt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use vm_core::host::{Errno, ExecKind, ExecRequest, ProcessEnd, SysResult, Timespec, WaitInfo};

/// pvm options a re-executed pvm gets (sysroot, engine...), set once.
static RELAUNCH: OnceLock<Vec<OsString>> = OnceLock::new();
/// This pvm's parent is a guest process.
static CHILD: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Buffers of a successful `execve` in a vfork child, which only the
    /// parent can free (see the module comment). The vforking thread's
    /// TLS is the child's too (same address space, same thread pointer).
    static VFORK_GARBAGE: RefCell<Vec<ExecBuffers>> = const { RefCell::new(Vec::new()) };
    /// Is this (host) thread a vfork child right now?
    static IN_VFORK_CHILD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Set the pvm options a re-executed pvm gets (first call wins).
pub fn set_relaunch(options: Vec<OsString>) {
    let _ = RELAUNCH.set(options);
}

/// Mark this pvm as the child of a guest.
pub fn mark_child() {
    CHILD.store(true, Ordering::Relaxed);
}

/// Is this pvm's parent a guest?
pub fn is_child() -> bool {
    CHILD.load(Ordering::Relaxed)
}

fn errno() -> Errno {
    Errno(
        std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO),
    )
}

fn check(r: libc::c_long) -> SysResult<libc::c_long> {
    if r < 0 { Err(errno()) } else { Ok(r) }
}

/// End this process as its guest ended: exit with the status, or die of
/// the signal (default action, core dumps off, so the parent's `wait`
/// sees `WIFSIGNALED` without `WCOREDUMP`). Never runs exit handlers: a
/// vfork child shares the parent's memory, and a forked one has nothing
/// of pvm's to flush.
pub fn end_process(end: ProcessEnd) -> ! {
    crate::tree::leave();
    match end {
        ProcessEnd::Exit(code) => {
            // SAFETY: ends the process.
            unsafe { libc::_exit(code & 0xff) }
        }
        ProcessEnd::Signal(signo) => {
            // SAFETY: plain calls on initialised structs; the process is
            // about to die of `signo`.
            unsafe {
                let mut rl: libc::rlimit = std::mem::zeroed();
                if libc::getrlimit(libc::RLIMIT_CORE, &mut rl) == 0 {
                    rl.rlim_cur = 0;
                    libc::setrlimit(libc::RLIMIT_CORE, &rl);
                }
                crate::signals::set_default(signo);
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, signo);
                libc::kill(libc::getpid(), signo);
                libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
                // A signal whose default does not kill (the guest only dies
                // of those that do): the shell's convention.
                libc::_exit(128 + signo)
            }
        }
    }
}

/// `fork`: 0 in the child, its pid in the parent; with `wait_exec`, the
/// parent waits until the child has exec'd or exited (`CLONE_VFORK`);
/// with `cgroup`, the child starts in that cgroup (`CLONE_INTO_CGROUP`).
pub fn fork(exit_signal: i32, wait_exec: bool, cgroup: Option<i32>) -> SysResult<i32> {
    // Signals caught but not taken yet are the parent's; the child must
    // forget them, but not one sent to it right after its birth: hold
    // every host signal back across the fork.
    // SAFETY: plain mask calls on initialised sets.
    // --max-processes: a slot for the child first (EAGAIN when none).
    let slot = crate::tree::reserve_child()?;
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old);
    }
    let pid = if let Some(cg) = cgroup {
        // Only clone3 takes a cgroup: `struct clone_args` up to its
        // version-2 field, no stack (the child runs on its copy of this
        // one, as after fork).
        let vfork = if wait_exec {
            libc::CLONE_VFORK as u64
        } else {
            0
        };
        let args: [u64; 11] = [
            vfork | 0x2_0000_0000, // CLONE_INTO_CGROUP
            0,
            0,
            0,
            exit_signal as u64 & 0xff,
            0,
            0,
            0,
            0,
            0,
            cg as u64,
        ];
        // SAFETY: `args` is a valid clone_args of 88 bytes; as for fork
        // below, the child is one thread with every lock free.
        unsafe { libc::syscall(libc::SYS_clone3, args.as_ptr(), 88usize) }
    } else if exit_signal == libc::SIGCHLD && !wait_exec {
        // SAFETY: pvm holds no lock across a system call, so the child
        // (one thread, a copy of this one) finds every lock free.
        unsafe { libc::fork() as libc::c_long }
    } else {
        // Another exit signal, or CLONE_VFORK: only the raw call can ask
        // for them. glibc's cached thread id stays the parent's in the
        // child; pvm does not use it.
        let vfork = if wait_exec { libc::CLONE_VFORK } else { 0 };
        let flags = (exit_signal & 0xff | vfork) as libc::c_long;
        // SAFETY: as above; no new stack, no shared memory.
        unsafe { libc::syscall(libc::SYS_clone, flags, 0, 0, 0, 0) }
    };
    let err = errno();
    if pid == 0 {
        let _ = crate::signals::clear();
        crate::signals::forget_queued();
        mark_child();
        crate::fdtable::forked();
        // SAFETY: no memory is involved.
        crate::tree::child_forked(slot, Some(unsafe { libc::getpid() }));
        crate::tree::start_watchdog(None);
        crate::peer::start_server(None);
    } else {
        crate::tree::child_forked(slot, (pid > 0).then_some(pid as i32));
    }
    // SAFETY: restores the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
    if pid < 0 { Err(err) } else { Ok(pid as i32) }
}

/// The closure a vfork child runs, behind a thin pointer, and the signal
/// mask to run it with.
struct VforkArg<'a> {
    child: &'a mut dyn FnMut() -> ProcessEnd,
    mask: libc::sigset_t,
}

extern "C" fn vfork_entry(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `VforkArg` the parent passed; the parent is
    // suspended by CLONE_VFORK until this process execs or exits, so this
    // is the only user of it (and of the parent's stack frame it lives in).
    let a = unsafe { &mut *(arg as *mut VforkArg<'_>) };
    IN_VFORK_CHILD.with(|c| c.set(true));
    mark_child();
    // SAFETY: restores the mask the parent had before it blocked all.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &a.mask, std::ptr::null_mut()) };
    let end = (a.child)();
    end_process(end)
}

/// Host stack of a vfork child: the interpreter and the system call
/// handlers, with room to spare.
const VFORK_STACK: usize = 8 << 20;

/// `clone(CLONE_VM | CLONE_VFORK)`: run `child` in a new process sharing
/// this address space; returns its pid once it has exec'd or exited. With
/// `cgroup`, the child starts in that cgroup (`clone3`'s
/// `CLONE_INTO_CGROUP`, with the kernel's answers).
pub fn vfork(child: &mut dyn FnMut() -> ProcessEnd, cgroup: Option<i32>) -> SysResult<i32> {
    let slot = crate::tree::reserve_child()?;
    let page = 4096;
    // SAFETY: a fresh anonymous mapping touches no existing memory.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            VFORK_STACK + page,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_STACK,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        crate::tree::child_forked(slot, None);
        return Err(Errno::EAGAIN);
    }
    // SAFETY: the lowest page of our own mapping becomes a guard page.
    unsafe { libc::mprotect(base, page, libc::PROT_NONE) };
    // The signals caught for the parent and not taken yet stay the
    // parent's: the child (sharing the record of them) starts with none,
    // and signals for the parent wait, blocked, until it resumes.
    // SAFETY: plain mask calls on initialised sets.
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old);
    }
    let parents = crate::signals::clear();
    let mut arg = VforkArg { child, mask: old };
    // SAFETY: the stack top lies inside the mapping (16-byte aligned);
    // `vfork_entry` never returns (it ends the process); `arg` outlives
    // the child's use of it because this thread is suspended until then.
    let arg_ptr: *mut libc::c_void = (&mut arg as *mut VforkArg<'_>).cast();
    let pid = match cgroup {
        None => unsafe {
            libc::clone(
                vfork_entry,
                (base as *mut u8).add(VFORK_STACK + page).cast(),
                libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
                arg_ptr,
            )
        },
        // SAFETY: as for `clone` above: the child starts on the top of the
        // same stack mapping and runs `vfork_entry`, which never returns.
        Some(cg) => unsafe {
            clone3_vfork(
                cg,
                (base as *mut u8).add(page),
                VFORK_STACK,
                vfork_entry,
                arg_ptr,
            )
        },
    };
    let err = errno();
    crate::tree::child_forked(slot, (pid > 0).then_some(pid));
    // The child has exec'd or exited: nothing uses its stack or its
    // parked buffers any more.
    IN_VFORK_CHILD.with(|c| c.set(false));
    VFORK_GARBAGE.with(|g| g.borrow_mut().clear());
    // What the child caught is gone with it; the parent's come back.
    crate::signals::clear();
    crate::signals::restore(parents);
    // SAFETY: restores the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &arg.mask, std::ptr::null_mut()) };
    // SAFETY: our own mapping, no longer used.
    unsafe { libc::munmap(base, VFORK_STACK + page) };
    if pid < 0 { Err(err) } else { Ok(pid) }
}

/// `clone3(CLONE_VM | CLONE_VFORK | CLONE_INTO_CGROUP)` into `cgroup`,
/// the child on the stack `[stack, stack + size)` calling `entry(arg)`
/// (which must not return); the child's pid, or -1 with `errno` set.
///
/// # Safety
/// The stack is this process's, unused by anything else until the child
/// has exec'd or exited (the caller is suspended until then).
unsafe fn clone3_vfork(
    cgroup: i32,
    stack: *mut u8,
    size: usize,
    entry: extern "C" fn(*mut libc::c_void) -> libc::c_int,
    arg: *mut libc::c_void,
) -> i32 {
    let args = clone_args(
        (libc::CLONE_VM | libc::CLONE_VFORK) as u64,
        libc::SIGCHLD as u64,
        (stack as u64, size as u64),
        cgroup,
    );
    let ret: i64;
    // SAFETY: the caller's promise. The parent gets the result in rax;
    // the child (rax 0) starts with rsp at the top of its stack (16-byte
    // aligned, as before a call) and calls `entry`, which ends the
    // process; it touches none of the parent's registers or stack.
    unsafe {
        core::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "xor ebp, ebp",
            "mov rdi, r12",
            "call r13",
            "ud2",
            "2:",
            inlateout("rax") libc::SYS_clone3 => ret,
            in("rdi") args.as_ptr(),
            in("rsi") vm_core::abi::CLONE_ARGS_SIZE_VER2,
            in("r12") arg,
            in("r13") entry,
            lateout("rcx") _,
            lateout("r11") _,
        );
    }
    if ret < 0 {
        // SAFETY: errno is this thread's.
        unsafe { *libc::__errno_location() = -ret as i32 };
        return -1;
    }
    ret as i32
}

/// `struct clone_args` (version 2, [`vm_core::abi::CLONE_ARGS_SIZE_VER2`] bytes) for a
/// `clone3` into the cgroup v2 directory open at `cgroup`
/// (`CLONE_INTO_CGROUP`): `flags`, the exit signal, and the child's stack
/// as (lowest address, size).
fn clone_args(flags: u64, exit_signal: u64, (stack, size): (u64, u64), cgroup: i32) -> [u64; 11] {
    let mut a = [0u64; 11];
    a[0] = flags | vm_core::abi::CLONE_INTO_CGROUP;
    a[4] = exit_signal;
    a[5] = stack;
    a[6] = size;
    a[10] = cgroup as u64;
    a
}

/// May a thread of this process be created in the cgroup v2 directory at
/// `cgroup`? The kernel answers: a thread (`CLONE_VM | CLONE_SIGHAND |
/// CLONE_THREAD | CLONE_INTO_CGROUP`) is created there for an instant and
/// ends at once (it runs only the `exit` call: it touches no memory, so it
/// needs no stack of its own; every signal is blocked across the call, so
/// none is delivered on the stack it shares).
pub fn thread_cgroup(cgroup: i32) -> SysResult<()> {
    let args = clone_args(
        (libc::CLONE_VM | libc::CLONE_SIGHAND | libc::CLONE_THREAD) as u64,
        0,
        (0, 0),
        cgroup,
    );
    // SAFETY: plain mask calls on initialised sets.
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old);
    }
    let ret: i64;
    // SAFETY: the child (rax 0) runs only `exit(0)` (no memory access, no
    // stack); the parent gets the result in rax.
    unsafe {
        core::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "mov eax, 60",
            "xor edi, edi",
            "syscall",
            "2:",
            inlateout("rax") libc::SYS_clone3 => ret,
            in("rdi") args.as_ptr(),
            in("rsi") vm_core::abi::CLONE_ARGS_SIZE_VER2,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    // SAFETY: restores the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
    if ret < 0 {
        return Err(Errno(-ret as i32));
    }
    Ok(())
}

/// The NUL-terminated strings and pointer arrays of one `execve`.
struct ExecBuffers {
    _req: ExecRequest,
    _strings: Vec<CString>,
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
    path: CString,
    /// Run the file open here (`execveat(fd, "", AT_EMPTY_PATH)`), not
    /// `path`: a host program where pvm holds descriptors of its own.
    by_fd: Option<i32>,
}

fn cstring(b: &[u8]) -> SysResult<CString> {
    // A string with a NUL inside cannot come from guest C strings.
    CString::new(b).map_err(|_| Errno::EINVAL)
}

fn pointers(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// Which of descriptors 0, 1 and 2 the new image will not have (closed,
/// or close-on-exec): bit n for descriptor n (see `--closed-fds`).
fn closed_std_fds() -> u64 {
    (0..3)
        .filter(|&fd| {
            // SAFETY: F_GETFD reads descriptor flags only.
            let f = unsafe { libc::fcntl(fd, libc::F_GETFD) };
            f == -1 || f & libc::FD_CLOEXEC != 0
        })
        .fold(0, |m, fd| m | 1 << fd)
}

/// The hexadecimal form of a signal set for `--ignored-signals`.
fn hex(set: u64) -> OsString {
    OsString::from(format!("{set:#x}"))
}

/// What a process (not a vfork child) does around its `execve`: pvm's
/// GDB stub tells its client, or hands the connection on to the new pvm
/// (the binary sets it).
#[derive(Clone, Copy, Debug)]
pub struct ExecHooks {
    /// Called with the program's path and whether it is a guest (a new
    /// pvm runs it) just before the exec; may return one more option for
    /// that new pvm.
    pub before: fn(&[u8], bool) -> Option<Vec<u8>>,
    /// The exec failed: undo what `before` did.
    pub failed: fn(),
}

/// The [`ExecHooks`], once set.
pub static EXEC_HOOKS: std::sync::OnceLock<ExecHooks> = std::sync::OnceLock::new();

/// Replace this process with `req`; returns the errno on failure.
pub fn execve(host: &crate::host::LinuxHost, req: ExecRequest) -> Errno {
    let hooks = EXEC_HOOKS
        .get()
        .filter(|_| !IN_VFORK_CHILD.with(|c| c.get()));
    let extra = hooks.and_then(|h| (h.before)(&req.path, req.kind == ExecKind::Guest));
    let e = match prepare(host, req, extra) {
        Ok(b) => run_exec(b),
        Err(e) => e,
    };
    if let Some(h) = hooks {
        (h.failed)();
    }
    e
}

fn prepare(
    host: &crate::host::LinuxHost,
    req: ExecRequest,
    extra: Option<Vec<u8>>,
) -> SysResult<ExecBuffers> {
    let mut args: Vec<Vec<u8>> = Vec::new();
    let mut by_fd = None;
    let path = match req.kind {
        ExecKind::Guest => {
            args.push(b"pvm".to_vec());
            for o in RELAUNCH.get().map(|v| &v[..]).unwrap_or(&[]) {
                args.push(o.clone().into_vec());
            }
            if is_child() {
                args.push(b"--guest-child".to_vec());
            }
            if let Some(id) = crate::tree::id() {
                // The new pvm joins this tree's limits (see `tree`).
                args.push(format!("--limit-tree={id}").into_bytes());
            }
            args.push(b"--ignored-signals".to_vec());
            args.push(hex(req.ignored).into_vec());
            // The exec happens with every host signal blocked (see
            // `run_exec`): the new pvm takes the guest's mask from here.
            args.push(b"--signal-mask".to_vec());
            args.push(hex(req.sigmask).into_vec());
            let closed = closed_std_fds();
            if closed != 0 {
                args.push(b"--closed-fds".to_vec());
                args.push(hex(closed).into_vec());
            }
            // The host's dynamic linker reads LD_* from pvm's environment:
            // the guest's (RISC-V libraries to preload, a RISC-V library
            // path) reach the guest through -E instead.
            for e in req.envp.iter().filter(|e| e.starts_with(b"LD_")) {
                args.push(b"-E".to_vec());
                args.push(e.clone());
            }
            args.extend(extra);
            if crate::sandbox::get().is_some() || crate::ownfd::any() {
                // The new pvm loads the file the core checked, from this
                // descriptor, and (under --sandbox) makes it its
                // program's place: a name the guest swaps for a link
                // after the check changes nothing (see `sandbox`; with
                // descriptors of pvm's own, `vm_core::syscall::ownfd`).
                // SAFETY: no memory is involved; `req.fd` is open.
                if unsafe { libc::fcntl(req.fd, libc::F_SETFD, 0) } == 0 {
                    args.push(format!("--program-fd={}", req.fd).into_bytes());
                }
                // Its dynamic linker too: the one checked, not what its
                // name names when the new pvm loads it.
                // SAFETY: as above.
                if let Some(fd) = req.interp_fd
                    && unsafe { libc::fcntl(fd, libc::F_SETFD, 0) } == 0
                {
                    args.push(format!("--interp-fd={fd}").into_bytes());
                }
            }
            let mut a0 = b"--argv0=".to_vec();
            a0.extend_from_slice(&req.argv[0]);
            args.push(a0);
            args.push(b"--".to_vec());
            args.push(req.path.clone());
            args.extend(req.argv[1..].iter().cloned());
            cstring(b"/proc/self/exe")?
        }
        ExecKind::Native => {
            args.extend(req.argv.iter().cloned());
            // With descriptors of pvm's own (the GDB stub's), the kernel
            // runs the file the core checked (found by its walk, see
            // `vm_core::syscall::ownfd`), not what the name names now: a
            // directory of the path swapped for a link into /proc after
            // the check would lead it to one of pvm's descriptors. The
            // core resolved every `#!` line itself, so this is an ELF
            // file, which the kernel runs from a close-on-exec descriptor.
            if crate::ownfd::any() {
                by_fd = Some(req.fd);
            }
            cstring(&host.map(&req.path))?
        }
    };
    let strings = args
        .iter()
        .map(|a| cstring(a))
        .collect::<SysResult<Vec<_>>>()?;
    let env = req
        .envp
        .iter()
        .filter(|e| req.kind == ExecKind::Native || !e.starts_with(b"LD_"))
        .map(|e| cstring(e))
        .collect::<SysResult<Vec<_>>>()?;
    let argv = pointers(&strings);
    let envp = pointers(&env);
    let mut all = strings;
    all.extend(env);
    Ok(ExecBuffers {
        _req: req,
        _strings: all,
        argv,
        envp,
        path,
        by_fd,
    })
}

/// Set the host's signal state to the guest's, exec, and undo it all if
/// the exec fails.
///
/// A signal sent to the process while it execs must not be lost: Linux
/// keeps it pending across `execve`, and the new image takes it (with its
/// default action, the handlers being reset). pvm's own handler would
/// record it in this image and lose it with the image, so every host
/// signal is blocked first (one that arrives from then on stays pending in
/// the kernel), and those the handler recorded since the core last looked
/// are raised again, pending too. A new pvm starts with them pending and
/// the guest's mask from `--signal-mask`; a host program gets the guest's
/// mask, with pvm's handlers reset first, so that what is pending meets
/// the default actions as the kernel's exec would have it.
fn run_exec(b: ExecBuffers) -> Errno {
    let req = &b._req;
    let (path, argv, envp) = (b.path.as_ptr(), b.argv.as_ptr(), b.envp.as_ptr());
    let by_fd = b.by_fd;
    let bit = |s: i32| 1u64 << (s - 1);
    // SAFETY: plain signal calls on initialised sets; `path`, `argv` and
    // `envp` point into `b`, which lives until execve returns (or is
    // parked for the parent to free, in a vfork child, and then outlives
    // this process's use of the address space).
    unsafe {
        let mut old_mask: libc::sigset_t = std::mem::zeroed();
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old_mask);
        // (A vfork child shares the record with its parent, which keeps
        // what it holds.)
        let arrived = if IN_VFORK_CHILD.with(|c| c.get()) {
            0
        } else {
            crate::signals::clear()
        };
        for s in 1..=64 {
            if arrived & bit(s) != 0 {
                libc::kill(libc::getpid(), s);
            }
        }
        let mut mask: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut mask);
        for s in 1..=64 {
            if req.sigmask & bit(s) != 0 && s != libc::SIGKILL && s != libc::SIGSTOP {
                libc::sigaddset(&mut mask, s);
            }
        }
        let pipe = if req.ignored & bit(libc::SIGPIPE) != 0 {
            libc::SIG_IGN
        } else {
            libc::SIG_DFL
        };
        libc::signal(libc::SIGPIPE, pipe);
        let mut raised = Vec::new();
        for s in 1..=64 {
            if req.pending & bit(s) != 0 && libc::sigismember(&mask, s) == 1 {
                libc::kill(libc::getpid(), s);
                raised.push(s);
            }
        }
        let native = req.kind == ExecKind::Native && crate::tree::release_for_native_exec();
        // A host program: the guest's mask, once nothing pending can reach
        // one of pvm's handlers (the kernel's exec resets them anyway; the
        // ignored ones it keeps, and so does this).
        let mut saved: Vec<(i32, libc::sigaction)> = Vec::new();
        if req.kind == ExecKind::Native {
            for s in 1..=64 {
                let mut sa: libc::sigaction = std::mem::zeroed();
                if s == libc::SIGKILL
                    || s == libc::SIGSTOP
                    || s == crate::signals::KICK
                    || libc::sigaction(s, std::ptr::null(), &mut sa) != 0
                    || sa.sa_sigaction == libc::SIG_IGN
                    || sa.sa_sigaction == libc::SIG_DFL
                {
                    continue;
                }
                libc::signal(s, libc::SIG_DFL);
                saved.push((s, sa));
            }
            libc::pthread_sigmask(libc::SIG_SETMASK, &mask, std::ptr::null_mut());
        }
        let garbage = IN_VFORK_CHILD.with(|c| c.get());
        let b = if garbage {
            VFORK_GARBAGE.with(|g| g.borrow_mut().push(b));
            None
        } else {
            Some(b)
        };
        match by_fd {
            Some(fd) => {
                libc::syscall(
                    libc::SYS_execveat,
                    fd,
                    c"".as_ptr(),
                    argv,
                    envp,
                    libc::AT_EMPTY_PATH,
                );
            }
            None => {
                libc::execve(path, argv, envp);
            }
        }
        let err = errno();
        if native {
            crate::tree::rejoin();
        }
        if garbage {
            VFORK_GARBAGE.with(|g| g.borrow_mut().pop());
        }
        drop(b);
        // Failed: take back what was raised (the core still has it
        // pending), and restore pvm's own host state.
        for s in raised {
            let mut one: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut one);
            libc::sigaddset(&mut one, s);
            let zero = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            libc::sigtimedwait(&one, std::ptr::null_mut(), &zero);
        }
        for (s, sa) in &saved {
            libc::sigaction(*s, sa, std::ptr::null_mut());
        }
        crate::signals::install_kept();
        // What was raised again from `arrived` reaches pvm's handler again.
        libc::pthread_sigmask(libc::SIG_SETMASK, &old_mask, std::ptr::null_mut());
        err
    }
}

/// `struct rusage` as the 18 longs of its Linux layout.
fn rusage_words(ru: &libc::rusage) -> [i64; 18] {
    const _: () = assert!(std::mem::size_of::<libc::rusage>() == 144);
    // SAFETY: x86-64's struct rusage is exactly 18 longs (checked above),
    // all plain integers.
    unsafe { std::mem::transmute_copy(ru) }
}

/// `wait4`; `None` when `WNOHANG` found no child to report.
pub fn wait4(pid: i32, options: i32) -> SysResult<Option<WaitInfo>> {
    let mut status = 0;
    // SAFETY: both out-pointers are valid for the call.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let a = [
        pid as usize,
        &raw mut status as usize,
        options as usize,
        &raw mut ru as usize,
        0,
        0,
    ];
    let r = unsafe { crate::signals::blocking(libc::SYS_wait4, a) }? as i32;
    if r == 0 {
        return Ok(None);
    }
    Ok(Some(WaitInfo {
        pid: r,
        status,
        rusage: rusage_words(&ru),
        ..Default::default()
    }))
}

/// `waitid`; `None` when `WNOHANG` found no child to report.
pub fn waitid(idtype: i32, id: i32, options: i32) -> SysResult<Option<WaitInfo>> {
    // SAFETY: the raw call fills one siginfo and one rusage.
    let mut si: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let a = [
        idtype as usize,
        id as usize,
        &raw mut si as usize,
        options as usize,
        &raw mut ru as usize,
        0,
    ];
    unsafe { crate::signals::blocking(libc::SYS_waitid, a) }?;
    // SAFETY: the kernel filled the SIGCHLD layout (or zeroes).
    let (pid, uid, status) = unsafe { (si.si_pid(), si.si_uid(), si.si_status()) };
    if pid == 0 {
        return Ok(None);
    }
    Ok(Some(WaitInfo {
        pid,
        code: si.si_code,
        si_status: status,
        uid,
        rusage: rusage_words(&ru),
        ..Default::default()
    }))
}

/// `--sandbox`: may the guest signal `pid` (as `kill` takes it)? Only
/// processes of its own tree: `-1` (everyone) never; a process group
/// only when all its members are in the tree. Landlock's signal scope,
/// where the kernel has it, enforces the same below pvm.
pub fn sandbox_kill_check(pid: i32) -> SysResult<()> {
    if pid > 0 {
        return if crate::tree::is_member(pid) {
            Ok(())
        } else {
            Err(Errno::EPERM)
        };
    }
    if pid == -1 {
        return Err(Errno::EPERM);
    }
    // SAFETY: no memory is involved.
    let pgid = if pid == 0 {
        unsafe { libc::getpgrp() }
    } else {
        -pid
    };
    if crate::sandbox::signal_scoped() {
        // The kernel refuses signals to processes outside this tree.
        return Ok(());
    }
    let dir = std::fs::read_dir("/proc").map_err(|_| Errno::EPERM)?;
    for e in dir.flatten() {
        let Some(p) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        // Fields after the command name (which may hold spaces): state,
        // ppid, pgrp.
        let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let group = after
            .split_whitespace()
            .nth(2)
            .and_then(|g| g.parse::<i32>().ok());
        if group == Some(pgid) && !crate::tree::is_member(p) {
            return Err(Errno::EPERM);
        }
    }
    Ok(())
}

pub fn kill(pid: i32, sig: i32) -> SysResult<()> {
    // SAFETY: no memory is involved.
    check(unsafe { libc::kill(pid, sig) } as libc::c_long).map(|_| ())
}

pub fn setpgid(pid: i32, pgid: i32) -> SysResult<()> {
    // SAFETY: no memory is involved.
    check(unsafe { libc::setpgid(pid, pgid) } as libc::c_long).map(|_| ())
}

pub fn getpgid(pid: i32) -> SysResult<i32> {
    // SAFETY: no memory is involved.
    check(unsafe { libc::getpgid(pid) } as libc::c_long).map(|r| r as i32)
}

pub fn setsid() -> SysResult<i32> {
    // SAFETY: no memory is involved.
    check(unsafe { libc::setsid() } as libc::c_long).map(|r| r as i32)
}

pub fn getsid(pid: i32) -> SysResult<i32> {
    // SAFETY: no memory is involved.
    check(unsafe { libc::getsid(pid) } as libc::c_long).map(|r| r as i32)
}

pub fn tcgetpgrp(fd: i32) -> SysResult<i32> {
    let mut pgrp: libc::pid_t = 0;
    // SAFETY: TIOCGPGRP writes one pid_t.
    check(
        unsafe { libc::ioctl(fd, libc::TIOCGPGRP, &mut pgrp as *mut libc::pid_t) } as libc::c_long,
    )?;
    Ok(pgrp)
}

pub fn tcsetpgrp(fd: i32, pgrp: i32) -> SysResult<()> {
    // SAFETY: TIOCSPGRP reads one pid_t.
    check(unsafe { libc::ioctl(fd, libc::TIOCSPGRP, &pgrp as *const libc::pid_t) } as libc::c_long)
        .map(|_| ())
}

pub fn pdeathsig(set: Option<i32>) -> SysResult<i32> {
    if let Some(s) = set {
        // SAFETY: no memory is involved.
        check(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, s as libc::c_ulong) } as libc::c_long)?;
    }
    let mut v: libc::c_int = 0;
    // SAFETY: PR_GET_PDEATHSIG writes one int.
    check(
        unsafe { libc::prctl(libc::PR_GET_PDEATHSIG, &mut v as *mut libc::c_int) } as libc::c_long,
    )?;
    Ok(v)
}

/// `getrusage` of this host process, the calling host thread or the
/// children waited for: the guest's own (see `HostOs::rusage`). Under
/// `--threads one` the guest threads share one host thread, whose use
/// `RUSAGE_THREAD` gives.
pub fn rusage(who: vm_core::host::RusageWho) -> SysResult<[i64; 18]> {
    use vm_core::host::RusageWho;
    let who = match who {
        RusageWho::Process => libc::RUSAGE_SELF,
        RusageWho::Thread => libc::RUSAGE_THREAD,
        RusageWho::Children => libc::RUSAGE_CHILDREN,
    };
    // SAFETY: the call fills one rusage.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    check(unsafe { libc::getrusage(who, &mut ru) } as libc::c_long)?;
    Ok(rusage_words(&ru))
}

/// User plus system time of the children waited for.
pub fn children_cpu_time() -> SysResult<Timespec> {
    // SAFETY: the call fills one rusage.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    check(unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) } as libc::c_long)?;
    let usec = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1_000_000
        + ru.ru_utime.tv_usec
        + ru.ru_stime.tv_usec;
    Ok(Timespec {
        sec: usec / 1_000_000,
        nsec: usec % 1_000_000 * 1000,
    })
}
