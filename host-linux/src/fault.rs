//! The host fault handler for translated code.
//!
//! Translated code accesses guest memory directly (see
//! `vm_core::translate`): the host protection of the guest
//! reservation follows the guest's page permissions, so a bad guest access
//! raises `SIGSEGV` here (`SIGBUS` where the host page is gone: a file
//! truncated under a mapping of it, which the guest gets as its own
//! `SIGBUS`). When the faulting instruction lies in a code cache
//! (one of the ranges registered by [`register_code`]), the handler hands
//! the interrupted registers to `vm_core::translate::host_fault`,
//! which makes the guest state precise and points the thread at the
//! translator's fault exit; returning from the handler resumes there. Any
//! other fault is pvm's own: the previous disposition (Rust's stack
//! overflow reporter, or the default) is put back and the instruction runs
//! again into it. A SIGSEGV or SIGBUS another process sent is no fault:
//! it is recorded for the guest (`crate::signals::record`).

use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Most code caches (one per live guest thread) the handler knows about.
const MAX_CACHES: usize = 1024;

static STARTS: [AtomicUsize; MAX_CACHES] = [const { AtomicUsize::new(0) }; MAX_CACHES];
static ENDS: [AtomicUsize; MAX_CACHES] = [const { AtomicUsize::new(0) }; MAX_CACHES];
static INSTALL: Once = Once::new();
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// The disposition of SIGSEGV before ours (written once, before the
/// handler is installed).
static mut OLD: std::mem::MaybeUninit<libc::sigaction> = std::mem::MaybeUninit::zeroed();
/// The same for SIGBUS.
static mut OLD_BUS: std::mem::MaybeUninit<libc::sigaction> = std::mem::MaybeUninit::zeroed();

/// `ucontext` general registers by x86 hardware number (rax = 0 .. r15).
const GREGS: [libc::c_int; 16] = [
    libc::REG_RAX,
    libc::REG_RCX,
    libc::REG_RDX,
    libc::REG_RBX,
    libc::REG_RSP,
    libc::REG_RBP,
    libc::REG_RSI,
    libc::REG_RDI,
    libc::REG_R8,
    libc::REG_R9,
    libc::REG_R10,
    libc::REG_R11,
    libc::REG_R12,
    libc::REG_R13,
    libc::REG_R14,
    libc::REG_R15,
];

/// Record `[base, base+len)` as a code cache and make sure the handler is
/// installed. Returns whether faults there will reach the translator.
pub fn register_code(base: usize, len: usize) -> bool {
    INSTALL.call_once(install);
    if !INSTALLED.load(Ordering::Acquire) {
        return false;
    }
    for (s, e) in STARTS.iter().zip(ENDS.iter()) {
        if s.compare_exchange(0, base, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            e.store(base + len, Ordering::Release);
            return true;
        }
    }
    false
}

/// Forget the code cache at `base` (it is being unmapped).
pub fn unregister_code(base: usize) {
    for (s, e) in STARTS.iter().zip(ENDS.iter()) {
        if s.load(Ordering::Acquire) == base {
            e.store(0, Ordering::Release);
            s.store(0, Ordering::Release);
            return;
        }
    }
}

/// Make sure the handler is installed (a guest address space is being
/// reserved: guarded accesses to it, `vm_core::guarded`, need it whatever
/// the engine).
pub fn install_handler() {
    INSTALL.call_once(install);
}

fn in_code(pc: usize) -> bool {
    STARTS
        .iter()
        .zip(ENDS.iter())
        .any(|(s, e)| (s.load(Ordering::Acquire)..e.load(Ordering::Acquire)).contains(&pc))
}

fn install() {
    // SAFETY: plain sigaction calls with valid, fully initialised structs;
    // OLD is written here, once, before the handler that reads it exists.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_fault as *const () as usize;
        // On the alternate stack when the thread has one (Rust sets one up
        // to report stack overflows), so an overflow still reaches it.
        sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        // Nothing nests on it there: the alternate stack holds one
        // signal frame or two, and signals sent in a burst (another
        // process's SIGSEGV, SIGBUS, ...) would overflow it.
        libc::sigfillset(&mut sa.sa_mask);
        let old = &raw mut OLD;
        let old_bus = &raw mut OLD_BUS;
        if libc::sigaction(libc::SIGSEGV, &sa, (*old).as_mut_ptr()) == 0
            && libc::sigaction(libc::SIGBUS, &sa, (*old_bus).as_mut_ptr()) == 0
        {
            INSTALLED.store(true, Ordering::Release);
        }
    }
}

extern "C" fn on_fault(sig: libc::c_int, info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo and ucontext for an
    // SA_SIGINFO handler. `host_fault` is only called for a pc inside a
    // registered code cache, where translated code keeps its context block
    // in rbp (its safety contract); it touches only that thread's run
    // state. Everything here is async-signal-safe: atomics, plain memory,
    // and sigaction.
    unsafe {
        // Another process's SIGSEGV or SIGBUS (`kill`, `sigqueue`) is
        // no fault: it is the guest's, as any signal sent to it; this
        // process's own (the guest's `kill(0, sig)`) the guest gets
        // otherwise (`signals::kill_own_group`).
        match crate::signals::source(info) {
            crate::signals::Source::Another => {
                crate::signals::record(sig, info, uc);
                return;
            }
            crate::signals::Source::Itself => return,
            crate::signals::Source::Fault => {}
        }
        let uc = &mut *(uc as *mut libc::ucontext_t);
        let g = &mut uc.uc_mcontext.gregs;
        let rip = g[libc::REG_RIP as usize] as u64;
        if in_code(rip as usize) {
            let mut regs = [0u64; 16];
            for (r, &i) in regs.iter_mut().zip(GREGS.iter()) {
                *r = g[i as usize] as u64;
            }
            let access = vm_core::translate::HostAccess {
                addr: (*info).si_addr() as u64,
                // Page-fault error code bit 1: the access was a write.
                write: g[libc::REG_ERR as usize] & 2 != 0,
                // SIGBUS: the page is mapped but its file page is gone.
                gone: sig == libc::SIGBUS,
            };
            if let Some(resume) = vm_core::translate::host_fault(&mut regs, rip, access) {
                for (r, &i) in regs.iter().zip(GREGS.iter()) {
                    g[i as usize] = *r as i64;
                }
                g[libc::REG_RIP as usize] = resume as i64;
                return;
            }
        }
        // A guarded guest access of pvm's own code (`vm_core::guarded`):
        // it returns the fault instead. The bytes at rip are the faulting
        // instruction and what follows it in pvm's code.
        let code = std::slice::from_raw_parts(rip as *const u8, vm_core::guarded::MAX_LEN);
        if let Some(past) = vm_core::guarded::resume_after(code) {
            g[libc::REG_RDX as usize] = sig as i64;
            g[libc::REG_R8 as usize] = (*info).si_addr() as i64;
            g[libc::REG_RIP as usize] = (rip + past as u64) as i64;
            return;
        }
        let old = if sig == libc::SIGBUS {
            &raw const OLD_BUS
        } else {
            &raw const OLD
        };
        libc::sigaction(sig, (*old).as_ptr(), std::ptr::null_mut());
    }
}
