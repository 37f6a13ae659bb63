//! Blocking host calls that a signal cannot slip past.
//!
//! A guest thread that blocks in a host call (`read` of a pipe, a `futex`
//! wait, `accept`, `wait4`...) must be woken by a host signal pvm catches
//! for it: a guest signal (see [`crate::signals`]) or a kick from another
//! guest thread ([`crate::signals::KICK`]). Without `SA_RESTART` a signal
//! that arrives while the call is blocked ends it with `EINTR`; one that
//! arrives after the run loop last looked but *before* the call has
//! entered the kernel would only mark a flag, and the call would then
//! block as if nothing had happened, perhaps for good.
//!
//! So these calls go through [`call`], a few instructions of assembly in
//! the manner of musl's cancellation points: it looks at the two flags the
//! handlers set (the process's caught-signal set and this thread's kick
//! mark) and only then executes `syscall`. Both handlers call [`redirect`]
//! first: if the thread they interrupted is between the start of [`call`]
//! and its `syscall` instruction (inclusive, so not yet in the kernel),
//! they move it to the exit that returns `-EINTR` without making the call.
//! A signal before the look is seen by the look, one inside the window is
//! redirected, one during the call interrupts it: none is lost.
//!
//! A call stopped that way was not made, but the guest's signal came
//! *before* it, and Linux makes such a call all the same: only a call
//! that would sleep sees the pending signal and fails with `EINTR`; a
//! write to a file, or a read of a pipe that holds data, goes through.
//! So [`without_sleeping`] makes it again in a form that cannot sleep:
//! as it is for a file, a block device or a non-blocking descriptor;
//! with `MSG_DONTWAIT` on a socket; after a zero-timeout `poll` (and at
//! most one pipe buffer's worth, which a writable pipe takes whole) on a
//! pipe or a character device; with `WNOHANG` for `wait4`/`waitid`; with
//! a zero timeout for `epoll_pwait2` and the futex waits (the word is
//! compared, a free PI lock taken); as `LOCK_NB` for `flock` and
//! `F_SETLK` for `F_SETLKW` (and the OFD twins); with `IPC_NOWAIT` for
//! `msgsnd`/`msgrcv`/`semtimedop`; with a deadline long past for
//! `mq_timedsend`/`mq_timedreceive`; `accept4` of a listening socket and
//! `connect` with the descriptor non-blocking for the moment (see there). Only where
//! that would have had to wait does the call fail with `EINTR`.
//! (Without this a periodic timer's handler made writes to files fail
//! with `EINTR` now and then, and `printf`'s buffered line was lost.)
//!
//! Calls that wait with a signal mask of their own (`ppoll`, `sigsuspend`)
//! use [`crate::signals::interruptible`] instead, which gets the same
//! guarantee by blocking signals around the look.

use std::sync::atomic::AtomicU64;

// `pvm_cp_call(nr, args)`: `args` points to 8 words, the call's six
// arguments, the address of the caught-signal set (a u64, non-zero when a
// signal is waiting) and the address of this thread's kick mark (a byte).
// Returns the kernel's result (a negative errno on failure), or NOT_MADE
// (-512, which no system call returns to user space) without calling when
// a flag was set or a signal came before `syscall`.
// rcx and r11 are scratch (the `syscall` instruction clobbers them too).
core::arch::global_asm!(
    ".pushsection .text.pvm_cp,\"ax\",@progbits",
    ".p2align 4",
    ".globl pvm_cp_call",
    ".hidden pvm_cp_call",
    ".type pvm_cp_call,@function",
    "pvm_cp_call:",
    "    mov rax, rdi",
    "    mov r11, rsi",
    "    mov rdi, [r11]",
    "    mov rsi, [r11 + 8]",
    "    mov rdx, [r11 + 16]",
    "    mov r10, [r11 + 24]",
    "    mov r8, [r11 + 32]",
    "    mov r9, [r11 + 40]",
    "    mov rcx, [r11 + 48]",
    "    cmp qword ptr [rcx], 0",
    "    jne pvm_cp_cancel",
    "    mov rcx, [r11 + 56]",
    "    cmp byte ptr [rcx], 0",
    "    jne pvm_cp_cancel",
    ".globl pvm_cp_syscall",
    ".hidden pvm_cp_syscall",
    "pvm_cp_syscall:",
    "    syscall",
    "    ret",
    ".globl pvm_cp_cancel",
    ".hidden pvm_cp_cancel",
    "pvm_cp_cancel:",
    "    mov rax, -512",
    "    ret",
    ".size pvm_cp_call, . - pvm_cp_call",
    ".popsection",
);

unsafe extern "C" {
    fn pvm_cp_call(nr: usize, args: *const usize) -> isize;
    static pvm_cp_syscall: u8;
    static pvm_cp_cancel: u8;
}

/// What [`call`] returns for a call it did not make (`-ERESTARTSYS`'s
/// value, which the kernel never hands to user space).
pub const NOT_MADE: isize = -512;

/// Make system call `nr` with `args` so that a caught signal or a kick
/// arriving at any moment before it blocks makes it end early: with
/// `EINTR` when it was blocked, or [`NOT_MADE`] before it was made.
/// `arrived` is the caught-signal set, `kicked` this thread's kick mark.
/// The result is the kernel's: a negative errno on failure.
///
/// # Safety
/// As for `libc::syscall(nr, args...)`: every pointer among `args` must be
/// valid for what call `nr` does with it.
pub unsafe fn call(
    nr: libc::c_long,
    args: [usize; 6],
    arrived: &AtomicU64,
    kicked: *const bool,
) -> isize {
    let words = [
        args[0],
        args[1],
        args[2],
        args[3],
        args[4],
        args[5],
        arrived.as_ptr() as usize,
        kicked as usize,
    ];
    // SAFETY: `words` holds the 8 words `pvm_cp_call` reads; the two flag
    // pointers are this thread's live TLS byte and a static; the call's own
    // pointers are the caller's promise.
    unsafe { pvm_cp_call(nr as usize, words.as_ptr()) }
}

/// Called first by pvm's signal handlers with the interrupted context: a
/// thread that was inside [`call`] but not yet in the kernel leaves it
/// through the [`NOT_MADE`] exit instead.
///
/// # Safety
/// `uc` must be the `ucontext_t` the kernel passed to an `SA_SIGINFO`
/// handler on this thread.
pub unsafe fn redirect(uc: *mut libc::c_void) {
    if uc.is_null() {
        return;
    }
    let start = pvm_cp_call as *const () as usize;
    let last = &raw const pvm_cp_syscall as usize;
    // SAFETY: the caller's promise: a valid ucontext of this thread, whose
    // saved rip the kernel restores when the handler returns.
    unsafe {
        let uc = uc.cast::<libc::ucontext_t>();
        let rip = &mut (*uc).uc_mcontext.gregs[libc::REG_RIP as usize];
        let at = *rip as usize;
        if (start..=last).contains(&at) {
            *rip = &raw const pvm_cp_cancel as usize as i64;
        }
    }
}

/// `syscall(nr, a...)` with the result as the kernel gives it: a negative
/// errno on failure.
///
/// # Safety
/// As for `libc::syscall`.
unsafe fn raw(nr: libc::c_long, a: [usize; 6]) -> isize {
    // SAFETY: the caller's promise.
    let r = unsafe { libc::syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) };
    if r == -1 {
        // SAFETY: errno is this thread's.
        -(unsafe { *libc::__errno_location() }) as isize
    } else {
        r as isize
    }
}

/// Is `fd` ready for `events` now (a zero-timeout `poll`)? A closed
/// descriptor counts as ready (`POLLNVAL`): the call itself then says
/// `EBADF`. A poll that fails is no: it fails with `EINTR` when yet
/// another signal came (Linux's zero-timeout poll looks for one), and the
/// call must not then wait with that signal already taken.
fn ready(fd: i32, events: i16) -> bool {
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no wait.
    let n = unsafe { libc::poll(&mut p, 1, 0) };
    n > 0 && p.revents != 0
}

/// Call `nr` with its timeout argument `args[at]` replaced by a zero
/// `timespec`, a time that has already passed whether the call reads it
/// as relative or absolute: it answers what it can without waiting.
///
/// # Safety
/// As for [`call`] with the same `nr` and `args`.
unsafe fn with_time_passed(nr: libc::c_long, args: [usize; 6], at: usize) -> isize {
    let zero = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let mut a = args;
    a[at] = &raw const zero as usize;
    // SAFETY: the caller's promise, with a timeout that outlives the call.
    unsafe { raw(nr, a) }
}

/// The call a caught signal came before (see the module documentation):
/// made now if it cannot sleep, else `-EINTR`, as Linux answers a call
/// that finds a signal pending when it would sleep.
///
/// # Safety
/// As for [`call`] with the same `nr` and `args`.
pub unsafe fn without_sleeping(nr: libc::c_long, args: [usize; 6]) -> isize {
    const EINTR: isize = -(libc::EINTR as isize);
    let eagain_is_eintr = |r: isize| {
        if r == -(libc::EAGAIN as isize) {
            EINTR
        } else {
            r
        }
    };
    let fd = args[0] as i32;
    match nr {
        libc::SYS_read | libc::SYS_write | libc::SYS_sendmsg | libc::SYS_recvmsg => {
            // SAFETY: plain descriptor queries.
            let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            // SAFETY: `st` is a valid out-pointer.
            if flags < 0
                || flags & libc::O_NONBLOCK != 0
                || unsafe { libc::fstat(fd, &mut st) } != 0
            {
                // It cannot sleep (or is no descriptor): as it is.
                // SAFETY: the caller's promise.
                return unsafe { raw(nr, args) };
            }
            let input = matches!(nr, libc::SYS_read | libc::SYS_recvmsg);
            match st.st_mode & libc::S_IFMT {
                libc::S_IFREG | libc::S_IFBLK | libc::S_IFDIR => unsafe { raw(nr, args) },
                libc::S_IFSOCK => {
                    let dw = libc::MSG_DONTWAIT as usize;
                    let r = match nr {
                        // SAFETY (all four): the caller's buffer, as the
                        // call it stands for would use it.
                        libc::SYS_read => unsafe {
                            raw(
                                libc::SYS_recvfrom,
                                [fd as usize, args[1], args[2], dw, 0, 0],
                            )
                        },
                        libc::SYS_write => unsafe {
                            raw(libc::SYS_sendto, [fd as usize, args[1], args[2], dw, 0, 0])
                        },
                        _ => unsafe { raw(nr, [args[0], args[1], args[2] | dw, 0, 0, 0]) },
                    };
                    eagain_is_eintr(r)
                }
                mode => {
                    let events = if input { libc::POLLIN } else { libc::POLLOUT };
                    if !ready(fd, events) {
                        return EINTR;
                    }
                    let mut a = args;
                    if mode == libc::S_IFIFO && !input {
                        // A writable pipe has a free buffer: one page's
                        // worth goes in without waiting (Linux too writes
                        // what fits and returns the count).
                        a[2] = a[2].min(libc::PIPE_BUF);
                    }
                    // SAFETY: the caller's promise, with a shorter length.
                    unsafe { raw(nr, a) }
                }
            }
        }
        libc::SYS_wait4 => {
            let mut a = args;
            a[2] |= libc::WNOHANG as usize;
            // SAFETY: the caller's promise.
            match unsafe { raw(nr, a) } {
                0 => EINTR,
                r => r,
            }
        }
        libc::SYS_waitid => {
            let mut a = args;
            a[3] |= libc::WNOHANG as usize;
            let info = args[2] as *mut libc::siginfo_t;
            if info.is_null() {
                return EINTR;
            }
            // SAFETY: the caller's promise: `info` is a valid siginfo;
            // si_pid 0 tells "no child changed state" under WNOHANG.
            unsafe {
                std::ptr::write_bytes(info, 0, 1);
                let r = raw(nr, a);
                if r == 0 && (*info).si_pid() == 0 {
                    EINTR
                } else {
                    r
                }
            }
        }
        libc::SYS_epoll_pwait2 => {
            // Ready events come back before a pending signal is looked at.
            // SAFETY: the caller's promise; `args[3]` is the timeout.
            match unsafe { with_time_passed(nr, args, 3) } {
                0 => EINTR,
                r => r,
            }
        }
        libc::SYS_flock => {
            let op = args[1] as i32;
            if op & (libc::LOCK_UN | libc::LOCK_NB) != 0 {
                // SAFETY: no memory is involved.
                return unsafe { raw(nr, args) };
            }
            let mut a = args;
            a[1] = (op | libc::LOCK_NB) as usize;
            // SAFETY: no memory is involved.
            eagain_is_eintr(unsafe { raw(nr, a) })
        }
        libc::SYS_fcntl => {
            // The lock commands (the only ones made this way): the waiting
            // ones become their non-waiting twins, whose "held by another"
            // is where Linux would have slept.
            let mut a = args;
            a[1] = match args[1] as i32 {
                libc::F_SETLKW => libc::F_SETLK as usize,
                libc::F_OFD_SETLKW => libc::F_OFD_SETLK as usize,
                // SAFETY: the caller's promise.
                _ => return unsafe { raw(nr, args) },
            };
            // SAFETY: the caller's promise: `a[2]` is its struct flock.
            match unsafe { raw(nr, a) } {
                r if r == -(libc::EAGAIN as isize) || r == -(libc::EACCES as isize) => EINTR,
                r => r,
            }
        }
        libc::SYS_futex | libc::SYS_mq_timedsend | libc::SYS_mq_timedreceive => {
            // The futex waits (the only futex commands made this way) and
            // the message queue's, with a timeout that has already passed:
            // a futex word is still compared first (EAGAIN), a free PI lock
            // still taken, a message still moved (EAGAIN stays for a
            // non-blocking queue).
            let at = if nr == libc::SYS_futex { 3 } else { 4 };
            // SAFETY: the caller's promise; `args[at]` is the timeout.
            match unsafe { with_time_passed(nr, args, at) } {
                r if r == -(libc::ETIMEDOUT as isize) => EINTR,
                r => r,
            }
        }
        libc::SYS_msgsnd | libc::SYS_msgrcv => {
            // With IPC_NOWAIT: what would have waited is EAGAIN (msgsnd)
            // or ENOMSG (msgrcv), unless the caller asked for that too.
            let at = if nr == libc::SYS_msgsnd { 3 } else { 4 };
            let nowait = libc::IPC_NOWAIT as usize;
            let mut a = args;
            a[at] |= nowait;
            // SAFETY: the caller's promise, with one more flag.
            let r = unsafe { raw(nr, a) };
            let would_wait = r == -(libc::EAGAIN as isize) || r == -(libc::ENOMSG as isize);
            if would_wait && args[at] & nowait == 0 {
                EINTR
            } else {
                r
            }
        }
        libc::SYS_semtimedop => {
            // The operations again, each with IPC_NOWAIT.
            let n = args[2].min(65536);
            let mut ops: Vec<libc::sembuf> = (0..n)
                // SAFETY: the caller's promise: `args[1]` holds `args[2]`
                // sembufs.
                .map(|i| unsafe { *(args[1] as *const libc::sembuf).add(i) })
                .collect();
            let asked = ops.iter().any(|o| o.sem_flg & libc::IPC_NOWAIT as i16 != 0);
            for o in &mut ops {
                o.sem_flg |= libc::IPC_NOWAIT as i16;
            }
            let mut a = args;
            a[1] = ops.as_mut_ptr() as usize;
            // SAFETY: the caller's call, on our copy of its operations.
            let r = unsafe { raw(nr, a) };
            if r == -(libc::EAGAIN as isize) && !asked {
                EINTR
            } else {
                r
            }
        }
        libc::SYS_accept4 => {
            // Only a listening socket that blocks can sleep; the rest
            // fail (or succeed) at once.
            let mut on: i32 = 0;
            let mut len = 4 as libc::socklen_t;
            // SAFETY: `on` is a valid int of `len` bytes; a plain query.
            let listening = unsafe {
                libc::getsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    libc::SO_ACCEPTCONN,
                    (&raw mut on).cast(),
                    &mut len,
                ) == 0
                    && on != 0
                    && libc::fcntl(fd, libc::F_GETFL) & libc::O_NONBLOCK == 0
            };
            if !listening {
                // SAFETY: the caller's promise.
                return unsafe { raw(nr, args) };
            }
            // A queued connection is taken without sleeping: with the
            // descriptor non-blocking for the moment (as for `connect`
            // below), so that when another process took the connection
            // POLLIN saw, this call fails with EINTR instead of waiting
            // for the next one with the guest's signal pending.
            // SAFETY: the descriptor's own flags, one more and back; the
            // call is the caller's (its promise), and cannot sleep.
            let r = unsafe {
                let flags = libc::fcntl(fd, libc::F_GETFL);
                libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
                let r = raw(nr, args);
                libc::fcntl(fd, libc::F_SETFL, flags);
                r
            };
            if r == -(libc::EAGAIN as isize) {
                EINTR
            } else {
                r
            }
        }
        libc::SYS_connect => {
            // Made non-blocking for the moment: a connect that completes
            // at once (AF_UNIX with room in the listener's backlog, UDP)
            // does so; one that would have waited is EINTR, and is left
            // as Linux leaves it: a TCP connect has sent its SYN and goes
            // on (EINPROGRESS; EALREADY when one was already going on),
            // so SO_ERROR, poll and a later connect (0 once, then
            // EISCONN) say what they say on Linux; an AF_UNIX one whose
            // listener's backlog is full has done nothing (EAGAIN).
            // (The flag is the open file's: a thread sharing it sees it
            // for these few instructions.)
            // SAFETY: plain descriptor queries.
            let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
            let mut domain: i32 = 0;
            let mut len = 4 as libc::socklen_t;
            // SAFETY: `domain` is a valid int of `len` bytes.
            let sock = unsafe {
                libc::getsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    libc::SO_DOMAIN,
                    (&raw mut domain).cast(),
                    &mut len,
                )
            } == 0;
            if flags < 0 || flags & libc::O_NONBLOCK != 0 || !sock {
                // SAFETY: the caller's promise.
                return unsafe { raw(nr, args) };
            }
            // SAFETY: the descriptor's own flags, one more and back.
            let r = unsafe {
                libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
                let r = raw(nr, args);
                libc::fcntl(fd, libc::F_SETFL, flags);
                r
            };
            let waits = r == -(libc::EINPROGRESS as isize)
                || r == -(libc::EALREADY as isize)
                || (r == -(libc::EAGAIN as isize) && domain == libc::AF_UNIX);
            if waits { EINTR } else { r }
        }
        _ => EINTR,
    }
}
