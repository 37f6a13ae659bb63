//! Exception emulator: guest signal dispositions, pending signals, and
//! delivery as Linux riscv64 does it.
//!
//! Signals come from four places: engine traps (illegal instruction,
//! memory fault, `ebreak`), which [`deliver_trap`] turns into a forced
//! synchronous signal; system calls (`kill`, `tgkill`, a broken pipe),
//! which [`send`] makes pending; `rt_sigreturn` with a bad frame; and the
//! guest's POSIX timers ([`crate::ptimer`], looked at with the host's
//! signals). The
//! run loop in [`crate::process`] calls [`deliver_pending`] after every
//! trap, which takes each pending signal the thread does not block and
//! either ignores it, ends the process (default action: a [`Report`]), or
//! runs the guest's handler: it pushes a riscv64 `struct rt_sigframe`
//! (siginfo, then a ucontext holding every register) on the guest stack or
//! the alternate stack and points the registers at the handler, with `ra`
//! at a two-instruction trampoline (`li a7, 139; ecall`) that stands in for
//! the vDSO's `__vdso_rt_sigreturn` (pvm maps no vDSO). [`sigreturn`]
//! undoes it. Delivery only rewrites [`crate::cpu::Cpu`] and guest memory,
//! so it is the same for every engine.
//!
//! Signals from outside (another process's `kill`, the terminal, a timer
//! the guest armed) reach pvm as host signals: the core tells the host how
//! to treat each one as the guest's disposition changes ([`sync_host`]:
//! ignore it, leave it to the host's default, or catch it), and takes the
//! caught ones at every stop of the run loop ([`take_host_signals`]), so
//! they go through the guest's masks and dispositions like any other. A
//! blocking host call a caught signal cuts short is restarted or fails
//! with `EINTR` as Linux decides ([`restart_interrupted`]).
//!
//! Where pvm differs from Linux: stop signals the guest itself raises
//! (SIGSTOP, SIGTSTP, ...) are ignored (the host's own default stops pvm
//! for one from outside). A host that keeps signals for itself (on Linux:
//! SIGPIPE, the faults, the kick) hands the guest those another process
//! sends, and queues real-time ones (`host-linux/src/signals.rs`).

use crate::abi::{SS_AUTODISARM, SS_DISABLE, SS_ONSTACK};
use crate::cpu::Trap;
use crate::memory::{PAGE_SIZE, Perm};
use crate::process::{Process, Thread};
pub use crate::sigstate::*;

/// Is the instruction at `pc` an A-extension access (opcode AMO, LR/SC
/// included) that `addr` does not align?
fn misaligned_atomic(process: &Process, pc: u64, addr: u64) -> bool {
    let mem = &process.mem;
    let (Ok(lo), Ok(hi)) = (mem.fetch_u16(pc), mem.fetch_u16(pc.wrapping_add(2))) else {
        return false;
    };
    let bits = lo as u32 | (hi as u32) << 16;
    let size = match (bits & 0x7f, (bits >> 12) & 7) {
        (0x2f, 2) => 4,
        (0x2f, 3) => 8,
        _ => return false,
    };
    !addr.is_multiple_of(size)
}

/// The signal a trap at `pc` raises, or `None` for traps that are not
/// faults (`Ecall`, `Budget`). `si_addr` is the faulting instruction for
/// SIGILL and SIGTRAP, the faulting address for SIGSEGV and SIGBUS, as
/// Linux riscv64 reports them.
pub fn trap_info(process: &Process, pc: u64, trap: Trap) -> Option<SigInfo> {
    match trap {
        Trap::IllegalInstruction(_) => Some(SigInfo::fault(SIGILL, ILL_ILLOPC, pc)),
        Trap::Ebreak => Some(SigInfo::fault(SIGTRAP, TRAP_BRKPT, pc)),
        Trap::MemFault(f) => {
            // LR/SC/AMO must be naturally aligned: a misaligned one is
            // SIGBUS on Linux (whatever the page), every other fault
            // SIGSEGV.
            Some(if misaligned_atomic(process, pc, f.addr) {
                SigInfo::fault(SIGBUS, BUS_ADRALN, f.addr)
            } else if f.gone {
                SigInfo::fault(SIGBUS, BUS_ADRERR, f.addr)
            } else if f.mapped {
                SigInfo::fault(SIGSEGV, SEGV_ACCERR, f.addr)
            } else {
                SigInfo::fault(SIGSEGV, SEGV_MAPERR, f.addr)
            })
        }
        Trap::Ecall | Trap::Budget => None,
    }
}

/// Tell the host how to treat `signo` under the guest's disposition now.
pub fn sync_host(process: &Process, signo: i32) {
    let act = process.signals.lock().actions[(signo - 1) as usize];
    tell_host(process.host, signo, &act);
}

/// Make each signal that reached the host since the last look pending for
/// the process, as if sent to it (through the masks and dispositions, like
/// any other).
pub fn take_host_signals(process: &Process, thread: &mut Thread) {
    crate::ptimer::poll(process, Some(&mut *thread));
    if let Some(sh) = &thread.shared
        && let Some(inbox) = sh.take_inbox()
    {
        for info in inbox.drain_all() {
            thread.pending.add(info);
        }
    }
    while let Some(s) = process.host.take_signal() {
        if (1..=NSIG).contains(&s.signo) {
            let info = if s.signo == SIGCHLD && (CLD_EXITED..=CLD_CONTINUED).contains(&s.code) {
                SigInfo::child(s.code, s.pid, s.uid, s.status)
            } else if s.code == SI_QUEUE || s.code == SI_MESGQ {
                SigInfo::with_value(s.signo, s.code, s.pid, s.uid, s.value)
            } else {
                SigInfo::kill(s.signo, s.code, s.pid, s.uid)
            };
            send(process, thread, info, true);
        }
    }
    publish_queued(thread);
}

/// Publish how many signals `thread`'s own pending set queues, for the
/// other threads' `RLIMIT_SIGPENDING` count ([`within_limit`]).
fn publish_queued(thread: &Thread) {
    if let Some(sh) = &thread.shared {
        sh.queued.store(
            thread.pending.queued(),
            core::sync::atomic::Ordering::Relaxed,
        );
    }
}

/// What `RLIMIT_SIGPENDING` (soft limit `limit`) lets become of `info`,
/// a signal the guest sends to its own process or one of its threads
/// (Linux's `__send_signal_locked`). The signals queued for the user
/// count, as Linux counts them: the process's own and each thread's
/// (another thread's own set as that thread last published it), one
/// for each of its POSIX timers (whose own signal, queued or not, takes
/// no other, [`crate::ptimer::Timers::count`]), and those of the other
/// guest processes of the same real user
/// ([`HostOs::others_queued`](crate::host::HostOs::others_queued)). A standard signal is never refused
/// (`kill`'s override the limit, and a second one is not queued); past
/// the limit a real-time one sent by `kill` (`SI_USER`) loses its
/// information (it arrives from pid 0; nothing more, `None`, when one is
/// pending already), and any other is refused with `EAGAIN`.
pub fn within_limit(
    process: &Process,
    thread: &Thread,
    info: SigInfo,
    limit: u64,
) -> Result<Option<SigInfo>, crate::host::Errno> {
    if info.signo < SIGRTMIN {
        return Ok(Some(info));
    }
    let others: usize = process
        .other_threads(thread.tid)
        .iter()
        .map(|t| t.queued())
        .sum();
    let table = process.signals.lock();
    let act = table.actions[(info.signo - 1) as usize];
    if thread.sigmask & bit(info.signo) == 0 && ignored(&act, info.signo) {
        return Ok(Some(info)); // dropped by `send`, never queued
    }
    // Linux counts the user's: the other guest processes' too.
    let queued = (table.shared.queued() + thread.pending.queued() + others + process.timers.count())
        as u64
        + process.host.others_queued();
    if queued < limit {
        return Ok(Some(info));
    }
    if info.code != SI_USER {
        return Err(crate::host::Errno::EAGAIN);
    }
    if (table.shared.set() | thread.pending.set()) & bit(info.signo) != 0 {
        return Ok(None);
    }
    Ok(Some(SigInfo::kill(info.signo, SI_USER, 0, 0)))
}

/// A host call of system call `restartable`-or-not failed with `EINTR`
/// because a host signal cut it short: should the call be run again
/// instead of returning `EINTR`? As Linux decides on the way out of a call
/// (`-ERESTARTSYS`): yes when no signal is deliverable (it was blocked or
/// ignored), or when the first one has a handler installed with
/// `SA_RESTART` and the call is one that may be restarted; no when it
/// kills or its handler lacks `SA_RESTART`, or when the process is ending.
pub fn restart_interrupted(process: &Process, thread: &mut Thread, restartable: bool) -> bool {
    // The host signal may have been a debugger's interrupt: it stops the
    // thread here first, and decides which signal, if any, is pending.
    if let Some(d) = process.debugger() {
        d.interrupted_call(process, thread);
    }
    // The process is ending: the call ends, and the thread's run loop
    // sees the end (the guest never sees the EINTR). Another thread's
    // `execve` stopping this one is no end: the thread parks here (its
    // call, which is not touching its robust list, is cut short; a wait
    // that would go on in the host would keep it from parking), and the
    // call runs again once the exec has failed.
    if process.ending() && !process.exec_park(thread) {
        return false;
    }
    take_host_signals(process, thread);
    let table = process.signals.lock();
    let ready = (thread.pending.set() | table.shared.set()) & !(thread.sigmask & !UNBLOCKABLE);
    if ready == 0 {
        return true;
    }
    let signo = ready.trailing_zeros() as i32 + 1;
    let act = table.actions[(signo - 1) as usize];
    restartable && act.handler != SIG_DFL && act.handler != SIG_IGN && act.flags & SA_RESTART != 0
}

/// Has `thread` a signal it does not block, pending for it or for the
/// process (host signals and other threads' sends taken first)? A wait
/// that parks the thread on a host running one thread looks first, as
/// Linux's waits do, and fails with `EINTR` instead of parking.
pub fn deliverable(process: &Process, thread: &mut Thread) -> bool {
    take_host_signals(process, thread);
    let table = process.signals.lock();
    (thread.pending.set() | table.shared.set()) & !(thread.sigmask & !UNBLOCKABLE) != 0
}

/// Generate a signal for `thread` (`shared`: for the whole process, as
/// `kill` does). As in Linux an ignored signal is dropped at once unless
/// blocked: the disposition may change before it is unblocked.
pub fn send(process: &Process, thread: &mut Thread, info: SigInfo, shared: bool) {
    let mut table = process.signals.lock();
    let act = table.actions[(info.signo - 1) as usize];
    if thread.sigmask & bit(info.signo) == 0 && ignored(&act, info.signo) {
        return;
    }
    if shared {
        table.shared.add(info);
        drop(table);
        if thread.sigmask & bit(info.signo) != 0 {
            wake_taker(process, thread.tid, info.signo);
        }
    } else {
        thread.pending.add(info);
        publish_queued(thread);
        drop(table);
    }
    publish_total(process, thread);
}

/// Tell the host how many signals the process has queued now, its
/// timers' included (the count [`within_limit`] makes for it), for the
/// other guest processes' `RLIMIT_SIGPENDING` count; after a signal was
/// queued or taken, a timer made or deleted.
pub(crate) fn publish_total(process: &Process, thread: &Thread) {
    process.host.publish_queued(own_count(process, thread));
}

/// The entries of `process` that count against `RLIMIT_SIGPENDING`: the
/// signals queued for it and its threads, and its timers.
fn own_count(process: &Process, thread: &Thread) -> usize {
    let others: usize = process
        .other_threads(thread.tid)
        .iter()
        .map(|t| t.queued())
        .sum();
    process.signals.lock().shared.queued()
        + thread.pending.queued()
        + others
        + process.timers.count()
}

/// May `process` make one more POSIX timer under `RLIMIT_SIGPENDING`
/// (soft limit `limit`)? Linux's `timer_create` preallocates the timer's
/// signal, counted as a queued one ([`within_limit`]'s count: the
/// user's queued signals and timers, the other guest processes'
/// included), and fails with `EAGAIN` at the limit.
pub fn timer_allowed(process: &Process, thread: &Thread, limit: u64) -> bool {
    (own_count(process, thread) as u64).saturating_add(process.host.others_queued()) < limit
}

/// A process-directed `signo` is pending and the thread that made it so
/// blocks it: wake a thread that takes it ([`Process::wake_taker`]).
pub(crate) fn wake_taker(process: &Process, except: i32, signo: i32) {
    process.wake_taker(except, signo)
}

/// Generate a signal the thread cannot refuse (a fault, a bad signal
/// frame): if it is blocked or ignored, its disposition goes back to the
/// default and it is unblocked, so it kills (Linux `force_sig_info`).
pub fn force(process: &Process, thread: &mut Thread, info: SigInfo) {
    let mut table = process.signals.lock();
    let act = &mut table.actions[(info.signo - 1) as usize];
    let blocked = thread.sigmask & bit(info.signo) != 0;
    let reset = blocked || act.handler == SIG_IGN;
    if reset {
        act.handler = SIG_DFL;
        thread.sigmask &= !bit(info.signo);
    }
    thread.pending.add(info);
    drop(table);
    if reset {
        sync_host(process, info.signo);
    }
}

/// A signal frame could not be built for `signo`: SIGSEGV, fatal if that
/// was SIGSEGV's own handler failing (Linux `force_sigsegv`).
fn force_sigsegv(process: &Process, thread: &mut Thread, signo: i32) {
    if signo == SIGSEGV {
        process.signals.lock().actions[(SIGSEGV - 1) as usize].handler = SIG_DFL;
    }
    force(process, thread, SigInfo::fault(SIGSEGV, SI_KERNEL, 0));
}

/// Turn a trap into a guest signal and deliver it (with any other signal
/// now deliverable). Returns `Some` when a signal kills the process,
/// `None` when the guest goes on (in a handler, if one was installed).
pub fn deliver_trap(process: &Process, thread: &mut Thread, trap: Trap) -> Option<Report> {
    if let Trap::IllegalInstruction(bits) = trap
        && crate::log::on(crate::log::UNIMP)
    {
        process.host.log(format_args!(
            "unimp: illegal instruction {bits:#x} at pc {:#x}",
            thread.cpu.pc
        ));
    }
    let info = trap_info(process, thread.cpu.pc, trap)?;
    force(process, thread, info);
    let at = thread.cpu.pc;
    deliver_pending(process, thread, at)
}

/// The next signal to deliver: unblocked, faults first, then the lowest
/// number; thread-directed before process-directed.
fn dequeue(process: &Process, thread: &mut Thread) -> Option<SigInfo> {
    let mut table = process.signals.lock();
    if thread.pending.is_empty() && table.shared.is_empty() {
        return None;
    }
    let ready = (thread.pending.set() | table.shared.set()) & !(thread.sigmask & !UNBLOCKABLE);
    let first = if ready & SYNCHRONOUS != 0 {
        ready & SYNCHRONOUS
    } else {
        ready
    };
    if first == 0 {
        return None;
    }
    let signo = first.trailing_zeros() as i32 + 1;
    match crate::ptimer::take(process, &mut thread.pending, &mut table, signo) {
        Some(info) => {
            publish_queued(thread);
            drop(table);
            publish_total(process, thread);
            Some(info)
        }
        // A stale timer signal was dropped: look again.
        None => {
            drop(table);
            dequeue(process, thread)
        }
    }
}

/// The report for a fatal `info`; `at` is the pc to name.
fn report(info: &SigInfo, at: u64) -> Report {
    let addr = match info.fields {
        SigFields::Fault { addr }
            if matches!(info.signo, SIGSEGV | SIGBUS) && (1..SI_KERNEL).contains(&info.code) =>
        {
            Some(addr)
        }
        _ => None,
    };
    Report {
        signo: info.signo,
        pc: at,
        addr,
    }
}

/// Deliver every pending signal `thread` does not block, as the kernel
/// does on its way back to user mode: each handled one pushes a frame
/// (so a later one's handler runs first, nested), ignored ones vanish,
/// and the first fatal one ends the process with a [`Report`] naming
/// `at`. Afterwards a mask `rt_sigsuspend` replaced is put back if no
/// handler took it into its frame.
pub fn deliver_pending(process: &Process, thread: &mut Thread, at: u64) -> Option<Report> {
    take_host_signals(process, thread);
    while let Some(mut info) = dequeue(process, thread) {
        // Under a debugger, the client sees the signal first and may
        // discard or replace it (SIGKILL excepted, as under ptrace).
        if info.signo != SIGKILL
            && let Some(d) = process.debugger()
        {
            match d.signal_stop(process, thread, info) {
                Some(i) => info = i,
                None => continue,
            }
        }
        let signo = info.signo;
        if process.options.strace {
            log_signal(process, &info);
        }
        let act = process.signals.lock().actions[(signo - 1) as usize];
        if signo == SIGKILL {
            return Some(report(&info, at));
        }
        match act.handler {
            SIG_IGN => {}
            SIG_DFL => {
                if default_action(signo) == DefaultAction::Terminate {
                    return Some(report(&info, at));
                }
            }
            _ => {
                if setup_frame(process, thread, &info, &act).is_err() {
                    force_sigsegv(process, thread, signo);
                }
            }
        }
    }
    if let Some(m) = thread.saved_mask.take() {
        thread.sigmask = m;
    }
    None
}

/// Layout of the riscv64 `struct rt_sigframe { siginfo_t info; struct
/// ucontext uc; }`, as offsets from the frame (checked against the
/// sysroot's `ucontext_t`/`mcontext_t`/`stack_t` with `offsetof` under
/// qemu-riscv64).
pub mod frame {
    /// `siginfo_t info`.
    pub const INFO: u64 = 0;
    /// `struct ucontext uc`.
    pub const UC: u64 = 128;
    pub const UC_FLAGS: u64 = UC;
    pub const UC_LINK: u64 = UC + 8;
    /// `stack_t uc_stack`: ss_sp, ss_flags (+8), ss_size (+16).
    pub const UC_STACK: u64 = UC + 16;
    /// The kernel's 8-byte `sigset_t`, padded to 128 bytes.
    pub const UC_SIGMASK: u64 = UC + 40;
    /// `struct sigcontext uc_mcontext`, 16-byte aligned.
    pub const MCONTEXT: u64 = UC + 176;
    /// `sc_regs`: pc, then x1..x31.
    pub const SC_REGS: u64 = MCONTEXT;
    /// `sc_fpregs.d.f[32]`.
    pub const SC_FPREGS: u64 = MCONTEXT + 256;
    /// `sc_fpregs.d.fcsr` (u32).
    pub const SC_FCSR: u64 = SC_FPREGS + 256;
    /// The last 12 bytes of the 528-byte `union __riscv_fp_state`:
    /// `sc_extdesc.reserved` and the END extension header in current
    /// kernels (`q.reserved[3]` in older ones). Zero, and must stay zero
    /// for `rt_sigreturn`.
    pub const SC_EXT_RESERVED: u64 = SC_FPREGS + 516;
    /// `sizeof(struct rt_sigframe)`: a multiple of 16.
    pub const SIZE: u64 = UC + 960;
}

fn put_u64(b: &mut [u8], off: u64, v: u64) {
    b[off as usize..off as usize + 8].copy_from_slice(&v.to_le_bytes());
}

fn get_u64(b: &[u8], off: u64) -> u64 {
    u64::from_le_bytes(b[off as usize..off as usize + 8].try_into().unwrap())
}

fn get_u32(b: &[u8], off: u64) -> u32 {
    u32::from_le_bytes(b[off as usize..off as usize + 4].try_into().unwrap())
}

/// Push a signal frame for `info` and enter the handler of `act`, as
/// Linux riscv64's `setup_rt_frame`. `Err` when the frame does not fit
/// (an overflowing alternate stack, an unwritable stack) or there is no
/// room for the trampoline.
fn setup_frame(
    process: &Process,
    thread: &mut Thread,
    info: &SigInfo,
    act: &SigAction,
) -> Result<(), ()> {
    let sp = thread.cpu.x[2];
    let alt = thread.altstack;
    if alt.on_stack(sp) && !alt.on_stack(sp.wrapping_sub(frame::SIZE)) {
        return Err(());
    }
    let top = if act.flags & SA_ONSTACK != 0 && alt.mode(sp) == 0 {
        alt.sp.wrapping_add(alt.size)
    } else {
        sp
    };
    let at = top.wrapping_sub(frame::SIZE) & !15;
    let mut b = [0u8; frame::SIZE as usize];
    b[..SIGINFO_SIZE].copy_from_slice(&info.to_bytes());
    put_u64(&mut b, frame::UC_STACK, alt.sp);
    put_u64(&mut b, frame::UC_STACK + 8, alt.reported_flags(sp) as u64);
    put_u64(&mut b, frame::UC_STACK + 16, alt.size);
    let saved_mask = thread.saved_mask.unwrap_or(thread.sigmask);
    put_u64(&mut b, frame::UC_SIGMASK, saved_mask);
    let cpu = &thread.cpu;
    put_u64(&mut b, frame::SC_REGS, cpu.pc);
    for i in 1..32 {
        put_u64(&mut b, frame::SC_REGS + 8 * i as u64, cpu.x[i]);
    }
    for i in 0..32 {
        put_u64(&mut b, frame::SC_FPREGS + 8 * i as u64, cpu.f[i]);
    }
    let fcsr = (cpu.fflags & 0x1f) | (cpu.frm & 7) << 5;
    b[frame::SC_FCSR as usize..frame::SC_FCSR as usize + 4].copy_from_slice(&fcsr.to_le_bytes());
    process.mem.write_bytes(at, &b).map_err(|_| ())?;
    let ret = trampoline(process).ok_or(())?;

    if alt.flags & SS_AUTODISARM != 0 {
        thread.altstack = AltStack::default();
    }
    thread.saved_mask = None;
    let signo = info.signo;
    let cpu = &mut thread.cpu;
    cpu.x[1] = ret;
    cpu.x[2] = at;
    cpu.x[10] = signo as u64;
    cpu.x[11] = at + frame::INFO;
    cpu.x[12] = at + frame::UC;
    cpu.pc = act.handler;
    // The kernel drops a reservation on every trap return.
    cpu.reservation = None;
    let defer = if act.flags & SA_NODEFER != 0 {
        0
    } else {
        bit(signo)
    };
    thread.sigmask = (thread.sigmask | act.mask | defer) & !UNBLOCKABLE;
    if act.flags & SA_RESETHAND != 0 {
        process.signals.lock().actions[(signo - 1) as usize].handler = SIG_DFL;
        sync_host(process, signo);
    }
    Ok(())
}

/// The words of the vDSO's `__vdso_rt_sigreturn`: `li a7, 139; ecall`.
/// Unwinders (libgcc's, gdb's) recognise a signal frame by exactly these.
const TRAMPOLINE: [u8; 8] = [0x93, 0x08, 0xb0, 0x08, 0x73, 0x00, 0x00, 0x00];

/// The guest address of the sigreturn trampoline, mapping its page (read
/// and execute, placed like an `mmap`) the first time, or again if the
/// guest unmapped or overwrote it.
fn trampoline(process: &Process) -> Option<u64> {
    let mut table = process.signals.lock();
    let mem = &process.mem;
    if let Some(a) = table.trampoline {
        let mut cur = [0u8; 8];
        if mem.perm(a).contains(Perm::EXEC)
            && mem.read_bytes(a, &mut cur).is_ok()
            && cur == TRAMPOLINE
        {
            return Some(a);
        }
    }
    let _space = mem.lock_space();
    let addr = mem.maps.lock().find_free(PAGE_SIZE)?;
    mem.map(addr, PAGE_SIZE, Perm::READ | Perm::EXEC, true)
        .ok()?;
    mem.write_bytes_privileged(addr, &TRAMPOLINE).ok()?;
    table.trampoline = Some(addr);
    Some(addr)
}

/// `rt_sigreturn`: restore the registers, the signal mask and the
/// alternate stack from the frame at `sp`, as Linux riscv64 does. Returns
/// the restored `a0` (the call's "result"). A frame that cannot be read
/// or whose reserved words are not zero is a forced SIGSEGV.
pub fn sigreturn(process: &Process, thread: &mut Thread) -> u64 {
    let at = thread.cpu.x[2];
    let mut b = [0u8; frame::SIZE as usize];
    if process.mem.read_bytes(at, &mut b).is_err() {
        force(process, thread, SigInfo::fault(SIGSEGV, SI_KERNEL, 0));
        return 0;
    }
    thread.sigmask = get_u64(&b, frame::UC_SIGMASK) & !UNBLOCKABLE;
    let cpu = &mut thread.cpu;
    cpu.pc = get_u64(&b, frame::SC_REGS);
    for i in 1..32 {
        cpu.x[i] = get_u64(&b, frame::SC_REGS + 8 * i as u64);
    }
    for i in 0..32 {
        cpu.f[i] = get_u64(&b, frame::SC_FPREGS + 8 * i as u64);
    }
    let fcsr = get_u32(&b, frame::SC_FCSR);
    cpu.fflags = fcsr & 0x1f;
    cpu.frm = (fcsr >> 5) & 7;
    cpu.reservation = None;
    let reserved = &b[frame::SC_EXT_RESERVED as usize..];
    if reserved.iter().any(|&x| x != 0) {
        force(process, thread, SigInfo::fault(SIGSEGV, SI_KERNEL, 0));
        return 0;
    }
    // Errors other than a fault are ignored here, as in Linux.
    let stack = AltStack {
        sp: get_u64(&b, frame::UC_STACK),
        flags: get_u32(&b, frame::UC_STACK + 8),
        size: get_u64(&b, frame::UC_STACK + 16),
    };
    let sp = thread.cpu.x[2];
    let _ = set_altstack(thread, sp, stack);
    thread.cpu.x[10]
}

/// Why `sigaltstack` refused a new stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AltStackError {
    /// The thread runs on its current alternate stack (EPERM).
    OnStack,
    /// Unknown `ss_flags` (EINVAL).
    BadFlags,
    /// Smaller than `MINSIGSTKSZ` (ENOMEM).
    TooSmall,
}

/// Install `new` (raw `stack_t` fields) as `thread`'s alternate stack, as
/// `sigaltstack` does for a thread whose stack pointer is `sp`.
pub fn set_altstack(thread: &mut Thread, sp: u64, new: AltStack) -> Result<(), AltStackError> {
    if thread.altstack.on_stack(sp) {
        return Err(AltStackError::OnStack);
    }
    let mode = new.flags & !SS_AUTODISARM;
    if mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK {
        return Err(AltStackError::BadFlags);
    }
    thread.altstack = if mode == SS_DISABLE {
        AltStack {
            flags: new.flags & SS_AUTODISARM,
            ..AltStack::default()
        }
    } else {
        if new.size < crate::abi::MINSIGSTKSZ {
            return Err(AltStackError::TooSmall);
        }
        AltStack {
            flags: new.flags & SS_AUTODISARM,
            ..new
        }
    };
    Ok(())
}

/// The `si_code` as strace names it.
fn code_name(info: &SigInfo) -> Option<&'static str> {
    Some(match (info.signo, info.code) {
        (_, SI_USER) => "SI_USER",
        (_, SI_KERNEL) => "SI_KERNEL",
        (_, SI_TKILL) => "SI_TKILL",
        (_, SI_QUEUE) => "SI_QUEUE",
        (_, SI_MESGQ) => "SI_MESGQ",
        (_, crate::ptimer::SI_TIMER) => "SI_TIMER",
        (SIGSEGV, SEGV_MAPERR) => "SEGV_MAPERR",
        (SIGSEGV, SEGV_ACCERR) => "SEGV_ACCERR",
        (SIGBUS, BUS_ADRALN) => "BUS_ADRALN",
        (SIGBUS, BUS_ADRERR) => "BUS_ADRERR",
        (SIGILL, ILL_ILLOPC) => "ILL_ILLOPC",
        (SIGTRAP, TRAP_BRKPT) => "TRAP_BRKPT",
        _ => return None,
    })
}

/// strace's line for a signal the thread takes.
fn log_signal(process: &Process, info: &SigInfo) {
    let name = name(info.signo).unwrap_or("SIG?");
    let code = code_name(info);
    let rest = match info.fields {
        SigFields::Kill { pid, uid } => alloc::format!("si_pid={pid}, si_uid={uid}"),
        SigFields::Fault { addr } => alloc::format!("si_addr={addr:#x}"),
        SigFields::Raw(r) => alloc::format!(
            "si_pid={}, si_uid={}",
            i32::from_le_bytes([r[0], r[1], r[2], r[3]]),
            u32::from_le_bytes([r[4], r[5], r[6], r[7]])
        ),
        SigFields::Timer { id, overrun, value } => {
            alloc::format!("si_timerid={id:#x}, si_overrun={overrun}, si_int={value}")
        }
    };
    match code {
        Some(c) => process.host.log(format_args!(
            "--- {name} {{si_signo={name}, si_code={c}, {rest}}} ---"
        )),
        None => process.host.log(format_args!(
            "--- {name} {{si_signo={name}, si_code={}, {rest}}} ---",
            info.code
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::HostSigAction;
    use crate::memory::{Access, GuestMemory, MemFault};
    use crate::process::Options;
    use crate::testhost::TestHost;
    use alloc::sync::Arc;

    const STACK: u64 = 0x10_0000;
    const STACK_TOP: u64 = 0x11_0000;
    const ALT: u64 = 0x20_0000;
    const HANDLER: u64 = 0x3000;

    fn process() -> Arc<Process> {
        process_on(TestHost::leak())
    }

    fn process_on(host: &'static TestHost) -> Arc<Process> {
        let mem = GuestMemory::new(host, 1 << 24).unwrap();
        mem.map(0x1000, 0x1000, Perm::READ | Perm::WRITE, true)
            .unwrap();
        // amoadd.w a0, a1, (a2) at 0x2000, then a plain sw a1, 0(a2).
        mem.map(0x2000, 0x2000, Perm::READ | Perm::EXEC, true)
            .unwrap();
        mem.write_bytes_privileged(0x2000, &0x00b6_252fu32.to_le_bytes())
            .unwrap();
        mem.write_bytes_privileged(0x2004, &0x00b6_2023u32.to_le_bytes())
            .unwrap();
        mem.map(STACK, STACK_TOP - STACK, Perm::READ | Perm::WRITE, true)
            .unwrap();
        mem.map(ALT, 0x4000, Perm::READ | Perm::WRITE, true)
            .unwrap();
        {
            let mut m = mem.maps.lock();
            m.mmap_top = 0x80_0000;
            m.mmap_min = 0x40_0000;
        }
        Process::new(host, mem, alloc::vec::Vec::new(), Options::default())
    }

    /// A thread with a distinct value in every register.
    fn thread() -> Thread {
        let mut t = Thread {
            tid: 7,
            ..Default::default()
        };
        for i in 1..32 {
            t.cpu.x[i] = 0x1000_0000_0000 + i as u64 * 0x111;
            t.cpu.f[i] = 0xffff_ffff_0000_0000 | i as u64;
        }
        t.cpu.f[0] = 0x4009_21fb_5444_2d18;
        t.cpu.x[2] = STACK_TOP - 0x100 + 8; // deliberately not 16-aligned
        t.cpu.pc = 0x2004;
        t.cpu.fflags = 0b10101;
        t.cpu.frm = 3;
        t.cpu.reservation = Some(0x1000);
        t
    }

    fn handle(p: &Process, signo: i32, flags: u64, mask: u64) {
        p.signals.lock().actions[(signo - 1) as usize] = SigAction {
            handler: HANDLER,
            flags,
            mask,
        };
    }

    fn segv(addr: u64, mapped: bool) -> Trap {
        Trap::MemFault(MemFault {
            addr,
            access: Access::Write,
            mapped,
            gone: false,
        })
    }

    fn tkill(signo: i32) -> SigInfo {
        SigInfo::kill(signo, SI_TKILL, 1, 2)
    }

    #[test]
    fn frame_layout_matches_the_riscv64_abi() {
        // Offsets measured with offsetof() in a riscv64 program against
        // the sysroot headers: ucontext_t 960 bytes, uc_sigmask at 40,
        // uc_mcontext at 176, __fpregs at 256 in it, fcsr after f[32].
        assert_eq!(frame::SIZE, 1088);
        assert_eq!(frame::SIZE % 16, 0);
        assert_eq!(frame::UC, 128);
        assert_eq!(frame::UC_STACK, 144);
        assert_eq!(frame::UC_SIGMASK, 168);
        assert_eq!(frame::MCONTEXT, 304);
        assert_eq!(frame::MCONTEXT % 16, 0);
        assert_eq!(frame::SC_FPREGS, 560);
        assert_eq!(frame::SC_FCSR, 816);
        assert_eq!(frame::SC_FPREGS + 528, frame::SIZE);
        let b = SigInfo::fault(SIGSEGV, SEGV_ACCERR, 0xdead_beef).to_bytes();
        assert_eq!(&b[0..4], &11i32.to_le_bytes());
        assert_eq!(&b[8..12], &2i32.to_le_bytes());
        assert_eq!(&b[16..24], &0xdead_beefu64.to_le_bytes());
        let b = SigInfo::kill(SIGUSR1, SI_TKILL, 42, 1000).to_bytes();
        assert_eq!(&b[8..12], &(-6i32).to_le_bytes());
        assert_eq!(&b[16..20], &42i32.to_le_bytes());
        assert_eq!(&b[20..24], &1000u32.to_le_bytes());
    }

    #[test]
    fn traps_without_handlers_are_fatal() {
        let p = process();
        let mut t = Thread::default();
        t.cpu.pc = 0x1234;
        let r = deliver_trap(&p, &mut t, Trap::IllegalInstruction(0)).unwrap();
        assert_eq!((r.signo, r.pc, r.addr), (SIGILL, 0x1234, None));
        assert_eq!(
            deliver_trap(&p, &mut t, Trap::Ebreak).unwrap().signo,
            SIGTRAP
        );
        let r = deliver_trap(&p, &mut t, segv(0x5000, false)).unwrap();
        assert_eq!((r.signo, r.addr), (SIGSEGV, Some(0x5000)));
        t.cpu.pc = 0x2000;
        let r = deliver_trap(&p, &mut t, segv(0x1003, true)).unwrap();
        assert_eq!((r.signo, r.addr), (SIGBUS, Some(0x1003)));
        // Misaligned and unmapped: still SIGBUS (alignment is checked first).
        let r = deliver_trap(&p, &mut t, segv(0x9_0002, false)).unwrap();
        assert_eq!(r.signo, SIGBUS);
        // An aligned AMO on an unmapped page, or a plain store: SIGSEGV.
        let r = deliver_trap(&p, &mut t, segv(0x9_0000, false)).unwrap();
        assert_eq!(r.signo, SIGSEGV);
        t.cpu.pc = 0x2004;
        let r = deliver_trap(&p, &mut t, segv(0x9_0002, false)).unwrap();
        assert_eq!(r.signo, SIGSEGV);
        assert_eq!(deliver_trap(&p, &mut t, Trap::Budget), None);
        assert!(t.pending.is_empty());
    }

    #[test]
    fn trap_codes() {
        let p = process();
        let code = |pc, trap| trap_info(&p, pc, trap).unwrap();
        assert_eq!(
            code(0x2004, segv(0x50, false)),
            SigInfo::fault(SIGSEGV, SEGV_MAPERR, 0x50)
        );
        assert_eq!(
            code(0x2004, segv(0x1000, true)),
            SigInfo::fault(SIGSEGV, SEGV_ACCERR, 0x1000)
        );
        assert_eq!(
            code(0x2000, segv(0x1003, true)),
            SigInfo::fault(SIGBUS, BUS_ADRALN, 0x1003)
        );
        assert_eq!(
            code(0x2000, Trap::IllegalInstruction(0)),
            SigInfo::fault(SIGILL, ILL_ILLOPC, 0x2000)
        );
        assert_eq!(
            code(0x2002, Trap::Ebreak),
            SigInfo::fault(SIGTRAP, TRAP_BRKPT, 0x2002)
        );
    }

    #[test]
    fn handler_frame_and_sigreturn_round_trip() {
        let p = process();
        let mut t = thread();
        t.sigmask = bit(SIGUSR2);
        handle(&p, SIGSEGV, SA_SIGINFO, bit(SIGINT) | bit(SIGKILL));
        let before = t.cpu.clone();
        assert_eq!(deliver_trap(&p, &mut t, segv(0x40, false)), None);
        let sp = t.cpu.x[2];
        assert_eq!(sp % 16, 0);
        assert_eq!(sp, (before.x[2] - frame::SIZE) & !15);
        assert_eq!(t.cpu.pc, HANDLER);
        assert_eq!(t.cpu.x[10], SIGSEGV as u64);
        assert_eq!((t.cpu.x[11], t.cpu.x[12]), (sp, sp + 128));
        assert_eq!(t.cpu.reservation, None);
        // ra is the trampoline: `li a7, 139; ecall`, read+exec only.
        let ra = t.cpu.x[1];
        assert_eq!(p.mem.read_u32(ra).unwrap(), 0x08b0_0893);
        assert_eq!(p.mem.read_u32(ra + 4).unwrap(), 0x0000_0073);
        assert_eq!(p.mem.perm(ra), Perm::READ | Perm::EXEC);
        // The mask: the old one, sa_mask (never SIGKILL) and the signal.
        assert_eq!(t.sigmask, bit(SIGUSR2) | bit(SIGINT) | bit(SIGSEGV));
        // The frame.
        let m = &p.mem;
        assert_eq!(m.read_u32(sp).unwrap(), SIGSEGV as u32);
        assert_eq!(m.read_u32(sp + 8).unwrap(), SEGV_MAPERR as u32);
        assert_eq!(m.read_u64(sp + 16).unwrap(), 0x40);
        assert_eq!(m.read_u64(sp + frame::UC_FLAGS).unwrap(), 0);
        assert_eq!(m.read_u64(sp + frame::UC_LINK).unwrap(), 0);
        assert_eq!(m.read_u32(sp + frame::UC_STACK + 8).unwrap(), SS_DISABLE);
        assert_eq!(m.read_u64(sp + frame::UC_SIGMASK).unwrap(), bit(SIGUSR2));
        assert_eq!(m.read_u64(sp + frame::SC_REGS).unwrap(), 0x2004);
        for i in 1..32 {
            let v = m.read_u64(sp + frame::SC_REGS + 8 * i).unwrap();
            assert_eq!(v, before.x[i as usize], "x{i}");
            let v = m.read_u64(sp + frame::SC_FPREGS + 8 * i).unwrap();
            assert_eq!(v, before.f[i as usize], "f{i}");
        }
        assert_eq!(m.read_u32(sp + frame::SC_FCSR).unwrap(), 0b10101 | 3 << 5);
        // The handler clobbers everything, then returns through the
        // trampoline's rt_sigreturn with sp at the frame.
        for i in 1..32 {
            t.cpu.x[i] = !(i as u64);
            t.cpu.f[i] = i as u64;
        }
        t.cpu.x[2] = sp;
        t.cpu.fflags = 0;
        t.cpu.frm = 0;
        t.sigmask = u64::MAX >> 1;
        let a0 = sigreturn(&p, &mut t);
        assert_eq!(a0, before.x[10]);
        let mut want = before.clone();
        want.reservation = None;
        assert_eq!(t.cpu, want);
        assert_eq!(t.sigmask, bit(SIGUSR2));
        assert!(t.pending.is_empty());
    }

    #[test]
    fn a_handler_can_move_the_saved_pc() {
        let p = process();
        let mut t = thread();
        handle(&p, SIGILL, 0, 0);
        assert_eq!(deliver_trap(&p, &mut t, Trap::IllegalInstruction(0)), None);
        let sp = t.cpu.x[2];
        p.mem.write_u64(sp + frame::SC_REGS, 0x2008).unwrap();
        p.mem.write_u64(sp + frame::SC_REGS + 8 * 10, 99).unwrap();
        t.cpu.x[2] = sp;
        assert_eq!(sigreturn(&p, &mut t), 99);
        assert_eq!((t.cpu.pc, t.cpu.x[10]), (0x2008, 99));
        assert_eq!(t.sigmask, 0);
    }

    #[test]
    fn flags_resethand_and_nodefer() {
        let p = process();
        let mut t = thread();
        handle(&p, SIGUSR1, SA_RESETHAND | SA_NODEFER, 0);
        send(&p, &mut t, tkill(SIGUSR1), false);
        assert_eq!(deliver_pending(&p, &mut t, 0), None);
        assert_eq!(t.cpu.pc, HANDLER);
        assert_eq!(t.sigmask, 0, "SA_NODEFER: not blocked in its handler");
        assert_eq!(p.signals.lock().actions[9].handler, SIG_DFL);
        // The next one takes the default action: fatal.
        send(&p, &mut t, tkill(SIGUSR1), false);
        let r = deliver_pending(&p, &mut t, 0x77).unwrap();
        assert_eq!((r.signo, r.pc, r.addr), (SIGUSR1, 0x77, None));
    }

    #[test]
    fn blocked_signals_wait_and_nest() {
        let p = process();
        let mut t = thread();
        handle(&p, SIGUSR1, 0, 0);
        handle(&p, SIGUSR2, 0, 0);
        t.sigmask = bit(SIGUSR1) | bit(SIGUSR2);
        send(&p, &mut t, tkill(SIGUSR1), false);
        send(&p, &mut t, SigInfo::kill(SIGUSR2, SI_USER, 1, 2), true);
        send(&p, &mut t, tkill(SIGUSR1), false); // not queued twice
        assert_eq!(deliver_pending(&p, &mut t, 0), None);
        assert_eq!(t.cpu.pc, 0x2004, "blocked: nothing ran");
        assert_eq!(t.pending.set() | p.signals.lock().shared.set(), t.sigmask);
        // Unblock both: SIGUSR1 (lower) is set up first, then SIGUSR2
        // nests on top of it, so SIGUSR2's handler runs first.
        let orig = t.cpu.clone();
        t.sigmask = 0;
        assert_eq!(deliver_pending(&p, &mut t, 0), None);
        assert!(t.pending.is_empty() && p.signals.lock().shared.is_empty());
        assert_eq!(t.cpu.x[10], SIGUSR2 as u64);
        assert_eq!(t.sigmask, bit(SIGUSR1) | bit(SIGUSR2));
        let outer = t.cpu.clone();
        assert_eq!(p.mem.read_u32(outer.x[11] + 8).unwrap(), SI_USER as u32);
        // Return from SIGUSR2: into SIGUSR1's handler, its mask back.
        sigreturn(&p, &mut t);
        assert_eq!((t.cpu.pc, t.cpu.x[10]), (HANDLER, SIGUSR1 as u64));
        assert_eq!(t.sigmask, bit(SIGUSR1));
        assert!(t.cpu.x[2] > outer.x[2]);
        sigreturn(&p, &mut t);
        let mut want = orig;
        want.reservation = None;
        assert_eq!(t.cpu, want);
        assert_eq!(t.sigmask, 0);
    }

    #[test]
    fn ignored_signals_vanish() {
        let p = process();
        let mut t = thread();
        p.signals.lock().actions[(SIGUSR1 - 1) as usize].handler = SIG_IGN;
        send(&p, &mut t, tkill(SIGUSR1), false);
        send(&p, &mut t, tkill(SIGCHLD), false);
        send(&p, &mut t, tkill(SIGWINCH), true);
        assert!(t.pending.is_empty() && p.signals.lock().shared.is_empty());
        // Blocked, an ignored signal stays pending, then vanishes.
        t.sigmask = bit(SIGUSR1);
        send(&p, &mut t, tkill(SIGUSR1), false);
        assert_eq!(t.pending.set(), bit(SIGUSR1));
        t.sigmask = 0;
        assert_eq!(deliver_pending(&p, &mut t, 0), None);
        assert!(t.pending.is_empty());
        assert_eq!(t.cpu.pc, 0x2004);
    }

    #[test]
    fn blocked_or_ignored_faults_are_fatal() {
        let p = process();
        let mut t = thread();
        handle(&p, SIGSEGV, 0, 0);
        t.sigmask = bit(SIGSEGV);
        let r = deliver_trap(&p, &mut t, segv(0x40, false)).unwrap();
        assert_eq!((r.signo, r.pc, r.addr), (SIGSEGV, 0x2004, Some(0x40)));
        assert_eq!(p.signals.lock().actions[10].handler, SIG_DFL);
        let mut t = thread();
        p.signals.lock().actions[(SIGILL - 1) as usize].handler = SIG_IGN;
        let r = deliver_trap(&p, &mut t, Trap::IllegalInstruction(0)).unwrap();
        assert_eq!(r.signo, SIGILL);
    }

    #[test]
    fn unwritable_stack_kills() {
        let p = process();
        let mut t = thread();
        handle(&p, SIGSEGV, 0, 0);
        t.cpu.x[2] = STACK + 64; // the frame would go below the mapping
        let r = deliver_trap(&p, &mut t, segv(STACK - 8, false)).unwrap();
        assert_eq!(r.signo, SIGSEGV);
        // Another handled signal that cannot be delivered becomes a
        // SIGSEGV, itself fatal here.
        let mut t = thread();
        t.cpu.x[2] = STACK + 64;
        handle(&p, SIGUSR1, 0, 0);
        send(&p, &mut t, tkill(SIGUSR1), false);
        let r = deliver_pending(&p, &mut t, 0).unwrap();
        assert_eq!((r.signo, r.addr), (SIGSEGV, None));
    }

    #[test]
    fn alternate_stack() {
        let p = process();
        let mut t = thread();
        handle(&p, SIGSEGV, SA_ONSTACK, 0);
        let alt = AltStack {
            sp: ALT,
            flags: 0,
            size: 0x4000,
        };
        let sp0 = t.cpu.x[2];
        assert_eq!(
            set_altstack(&mut t, sp0, AltStack { size: 100, ..alt }),
            Err(AltStackError::TooSmall)
        );
        assert_eq!(
            set_altstack(&mut t, sp0, AltStack { flags: 7, ..alt }),
            Err(AltStackError::BadFlags)
        );
        set_altstack(&mut t, sp0, alt).unwrap();
        assert_eq!(deliver_trap(&p, &mut t, segv(0x40, false)), None);
        let sp = t.cpu.x[2];
        assert_eq!(sp, ALT + 0x4000 - frame::SIZE);
        // The frame records the stack as it was before (not on it yet).
        assert_eq!(p.mem.read_u64(sp + frame::UC_STACK).unwrap(), ALT);
        assert_eq!(p.mem.read_u32(sp + frame::UC_STACK + 8).unwrap(), 0);
        assert_eq!(p.mem.read_u64(sp + frame::UC_STACK + 16).unwrap(), 0x4000);
        // On the stack: sigaltstack may not change it; a nested signal
        // stays on it, below the first frame.
        assert_eq!(t.altstack.reported_flags(sp), SS_ONSTACK);
        assert_eq!(set_altstack(&mut t, sp, alt), Err(AltStackError::OnStack));
        handle(&p, SIGUSR1, SA_ONSTACK, 0);
        send(&p, &mut t, tkill(SIGUSR1), false);
        assert_eq!(deliver_pending(&p, &mut t, 0), None);
        let sp2 = t.cpu.x[2];
        assert_eq!(sp2, sp - frame::SIZE);
        assert_eq!(
            p.mem.read_u32(sp2 + frame::UC_STACK + 8).unwrap(),
            SS_ONSTACK
        );
        sigreturn(&p, &mut t);
        sigreturn(&p, &mut t);
        assert_eq!(t.cpu.x[2], sp0);
        // Running out of alternate stack while on it is fatal.
        let mut t = thread();
        set_altstack(&mut t, sp0, alt).unwrap();
        t.cpu.x[2] = ALT + 0x100;
        let r = deliver_trap(&p, &mut t, segv(0x40, false)).unwrap();
        assert_eq!(r.signo, SIGSEGV);
    }

    #[test]
    fn autodisarm_gives_the_stack_up_during_the_handler() {
        let p = process();
        let mut t = thread();
        handle(&p, SIGUSR1, SA_ONSTACK, 0);
        let alt = AltStack {
            sp: ALT,
            flags: SS_AUTODISARM,
            size: 0x4000,
        };
        let sp0 = t.cpu.x[2];
        set_altstack(&mut t, sp0, alt).unwrap();
        send(&p, &mut t, tkill(SIGUSR1), false);
        assert_eq!(deliver_pending(&p, &mut t, 0), None);
        let sp = t.cpu.x[2];
        assert_eq!(sp, ALT + 0x4000 - frame::SIZE);
        assert_eq!(
            p.mem.read_u32(sp + frame::UC_STACK + 8).unwrap(),
            SS_AUTODISARM
        );
        assert_eq!(t.altstack.size, 0, "disarmed");
        // rt_sigreturn re-arms it from uc_stack.
        sigreturn(&p, &mut t);
        assert_eq!(t.altstack, alt);
    }

    #[test]
    fn bad_sigreturn_frames() {
        let p = process();
        let mut t = thread();
        t.cpu.x[2] = 0x50_0000; // unmapped
        sigreturn(&p, &mut t);
        let r = deliver_pending(&p, &mut t, 0x99).unwrap();
        assert_eq!((r.signo, r.pc, r.addr), (SIGSEGV, 0x99, None));
        // A frame with a non-zero reserved word.
        let mut t = thread();
        handle(&p, SIGUSR1, 0, 0);
        send(&p, &mut t, tkill(SIGUSR1), false);
        assert_eq!(deliver_pending(&p, &mut t, 0), None);
        let sp = t.cpu.x[2];
        p.mem.write_u32(sp + frame::SC_EXT_RESERVED, 1).unwrap();
        sigreturn(&p, &mut t);
        assert_eq!(
            deliver_pending(&p, &mut t, 0).map(|r| r.signo),
            Some(SIGSEGV)
        );
    }

    #[test]
    fn trampoline_survives_and_is_remapped() {
        let p = process();
        let a = trampoline(&p).unwrap();
        assert_eq!(trampoline(&p), Some(a));
        p.mem.unmap(a, PAGE_SIZE).unwrap();
        let b = trampoline(&p).unwrap();
        assert_eq!(p.mem.read_u32(b).unwrap(), 0x08b0_0893);
    }

    #[test]
    fn sigsuspend_mask_is_saved_in_the_frame() {
        let p = process();
        let mut t = thread();
        handle(&p, SIGUSR1, 0, 0);
        t.sigmask = bit(SIGUSR1);
        send(&p, &mut t, tkill(SIGUSR1), false);
        // What rt_sigsuspend(&empty) leaves.
        t.saved_mask = Some(t.sigmask);
        t.sigmask = 0;
        assert_eq!(deliver_pending(&p, &mut t, 0), None);
        assert_eq!(t.saved_mask, None);
        let sp = t.cpu.x[2];
        assert_eq!(
            p.mem.read_u64(sp + frame::UC_SIGMASK).unwrap(),
            bit(SIGUSR1)
        );
        sigreturn(&p, &mut t);
        assert_eq!(t.sigmask, bit(SIGUSR1));
        // Without a signal to take, the old mask comes straight back.
        t.saved_mask = Some(bit(SIGUSR2));
        assert_eq!(deliver_pending(&p, &mut t, 0), None);
        assert_eq!((t.sigmask, t.saved_mask), (bit(SIGUSR2), None));
    }

    #[test]
    fn names() {
        assert_eq!(name(11), Some("SIGSEGV"));
        assert_eq!(name(31), Some("SIGSYS"));
        assert_eq!(name(34), Some("SIGRT_2"));
        assert_eq!(name(0), None);
        assert_eq!(description(SIGSEGV), "Segmentation fault");
        assert_eq!(description(SIGABRT), "Aborted");
        assert_eq!(default_action(SIGCHLD), DefaultAction::Ignore);
        assert_eq!(default_action(SIGPIPE), DefaultAction::Terminate);
    }

    #[test]
    fn realtime_signals_queue() {
        let mut q = Pending::default();
        q.add(tkill(40));
        q.add(tkill(40));
        q.add(tkill(SIGUSR1));
        q.add(tkill(SIGUSR1));
        assert_eq!(q.queue.len(), 3);
        assert!(q.take(40).is_some() && q.take(40).is_some());
        assert_eq!(q.take(40), None);
        q.discard(SIGUSR1);
        assert!(q.is_empty());
    }

    fn host_signal(signo: i32, pid: i32) -> crate::host::HostSignal {
        crate::host::HostSignal {
            signo,
            code: SI_USER,
            pid,
            uid: 5,
            status: 0,
            value: 0,
        }
    }

    #[test]
    fn host_actions_follow_the_guest_disposition() {
        let dfl = SigAction::default();
        let ign = SigAction {
            handler: SIG_IGN,
            ..dfl
        };
        let caught = SigAction {
            handler: HANDLER,
            ..dfl
        };
        assert_eq!(host_action(SIGINT, &dfl), Some(HostSigAction::Catch));
        assert_eq!(host_action(SIGWINCH, &dfl), Some(HostSigAction::Default));
        assert_eq!(host_action(SIGTSTP, &dfl), Some(HostSigAction::Default));
        assert_eq!(host_action(SIGUSR1, &ign), Some(HostSigAction::Ignore));
        assert_eq!(host_action(SIGCHLD, &caught), Some(HostSigAction::Catch));
        assert_eq!(
            host_action(SIGRTMIN + 2, &caught),
            Some(HostSigAction::Catch)
        );
        for kept in [SIGSEGV, SIGBUS, SIGILL, SIGKILL, SIGSTOP, SIGPIPE, SIGRTMIN] {
            assert_eq!(host_action(kept, &caught), None, "{kept}");
        }
        assert_eq!(host_action(0, &dfl), None);
        assert_eq!(host_action(65, &dfl), None);
    }

    #[test]
    fn the_host_learns_every_disposition_change() {
        let host = TestHost::leak();
        let p = process_on(host);
        {
            let a = host.sig_actions.lock().unwrap();
            assert_eq!(a.get(&SIGALRM), Some(&HostSigAction::Catch));
            assert_eq!(a.get(&SIGCHLD), Some(&HostSigAction::Default));
            assert_eq!(a.get(&SIGSEGV), None);
        }
        // SA_RESETHAND: the handler runs once, then the default is back,
        // on the host too.
        p.signals.lock().actions[(SIGUSR2 - 1) as usize] = SigAction {
            handler: HANDLER,
            flags: SA_RESETHAND,
            mask: 0,
        };
        p.signals.lock().actions[(SIGWINCH - 1) as usize].handler = HANDLER;
        sync_host(&p, SIGWINCH);
        assert_eq!(
            host.sig_actions.lock().unwrap()[&SIGWINCH],
            HostSigAction::Catch
        );
        let mut t = thread();
        send(&p, &mut t, SigInfo::kill(SIGUSR2, SI_USER, 1, 0), false);
        assert_eq!(deliver_pending(&p, &mut t, 0x2000), None);
        assert_eq!(t.cpu.pc, HANDLER);
        assert_eq!(
            host.sig_actions.lock().unwrap()[&SIGUSR2],
            HostSigAction::Catch
        );
        assert_eq!(
            p.signals.lock().actions[(SIGUSR2 - 1) as usize].handler,
            SIG_DFL
        );
    }

    #[test]
    fn host_signals_run_the_guest_handler_with_their_siginfo() {
        let host = TestHost::leak();
        let p = process_on(host);
        p.signals.lock().actions[(SIGUSR1 - 1) as usize].handler = HANDLER;
        let mut t = thread();
        host.signals.lock().unwrap().push(host_signal(SIGUSR1, 42));
        assert_eq!(deliver_pending(&p, &mut t, 0x2000), None);
        assert_eq!(t.cpu.pc, HANDLER);
        assert_eq!(t.cpu.x[10], SIGUSR1 as u64);
        let info = t.cpu.x[11];
        assert_eq!(p.mem.read_u32(info + 16).unwrap(), 42);
        assert_eq!(p.mem.read_u32(info + 20).unwrap(), 5);
        assert!(host.signals.lock().unwrap().is_empty());
    }

    #[test]
    fn blocked_host_signals_wait_and_kill_once_unblocked() {
        let host = TestHost::leak();
        let p = process_on(host);
        let mut t = thread();
        let pc = t.cpu.pc;
        t.sigmask = bit(SIGTERM);
        host.signals.lock().unwrap().push(host_signal(SIGTERM, 9));
        // Ignored by default: dropped at once.
        host.signals.lock().unwrap().push(host_signal(SIGWINCH, 9));
        assert_eq!(deliver_pending(&p, &mut t, 0x2000), None);
        assert_eq!(t.cpu.pc, pc);
        assert_eq!(p.signals.lock().shared.set(), bit(SIGTERM));
        t.sigmask = 0;
        let r = deliver_pending(&p, &mut t, 0x2000).unwrap();
        assert_eq!(r.signo, SIGTERM);
    }

    #[test]
    fn interrupted_calls_restart_as_linux_decides() {
        let host = TestHost::leak();
        let p = process_on(host);
        let mut t = thread();
        // Nothing deliverable (blocked): run the call again, restartable or not.
        t.sigmask = bit(SIGALRM);
        host.signals.lock().unwrap().push(host_signal(SIGALRM, 0));
        assert!(restart_interrupted(&p, &mut t, false));
        assert_eq!(p.signals.lock().shared.set(), bit(SIGALRM));
        t.sigmask = 0;
        // Fatal by default: EINTR (and the process dies right after).
        assert!(!restart_interrupted(&p, &mut t, true));
        // A handler without SA_RESTART: EINTR.
        p.signals.lock().actions[(SIGALRM - 1) as usize].handler = HANDLER;
        assert!(!restart_interrupted(&p, &mut t, true));
        // With SA_RESTART: only calls Linux restarts.
        p.signals.lock().actions[(SIGALRM - 1) as usize].flags = SA_RESTART;
        assert!(restart_interrupted(&p, &mut t, true));
        assert!(!restart_interrupted(&p, &mut t, false));
    }
}
