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
//! Calls that wait with a signal mask of their own (`ppoll`, `sigsuspend`)
//! use [`crate::signals::interruptible`] instead, which gets the same
//! guarantee by blocking signals around the look.

use std::sync::atomic::AtomicU64;

// `pvm_cp_call(nr, args)`: `args` points to 8 words, the call's six
// arguments, the address of the caught-signal set (a u64, non-zero when a
// signal is waiting) and the address of this thread's kick mark (a byte).
// Returns the kernel's result (a negative errno on failure), or -EINTR
// without calling when a flag was set or a signal came before `syscall`.
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
    "    mov rax, -4",
    "    ret",
    ".size pvm_cp_call, . - pvm_cp_call",
    ".popsection",
);

unsafe extern "C" {
    fn pvm_cp_call(nr: usize, args: *const usize) -> isize;
    static pvm_cp_syscall: u8;
    static pvm_cp_cancel: u8;
}

/// Make system call `nr` with `args` so that a caught signal or a kick
/// arriving at any moment before it blocks makes it fail with `EINTR`
/// (then without having been made). `arrived` is the caught-signal set,
/// `kicked` this thread's kick mark. The result is the kernel's: a
/// negative errno on failure.
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
/// through the `-EINTR` exit instead.
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
