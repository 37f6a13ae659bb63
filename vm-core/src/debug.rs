//! The core's side of a debugger: software breakpoints, write
//! watchpoints, single steps and stop reports, for a debugger stub in the
//! host (pvm's GDB remote stub is `host-linux/src/gdb/`).
//!
//! How it works, under both engines:
//! * A software breakpoint is an `ebreak` (`c.ebreak` for a 2-byte one)
//!   written over the guest's instruction, its original bytes kept here.
//!   Writing it moves the code epoch ([`GuestMemory::invalidate_code`]),
//!   so both engines drop every decoding or translation made before and
//!   the breakpoint stops the thread at that exact instruction, whatever
//!   block or region it falls in. Reads through [`Debugger::read_memory`]
//!   see the original bytes.
//! * A single step runs one instruction through the interpreter
//!   ([`crate::interp::step`]), decoded from the original bytes, so
//!   stepping never touches the code cache or the profile: the next
//!   continue finds them as they were. Moving past a breakpoint the thread
//!   stopped at is such a step.
//! * While a watchpoint is set (write, read or access: gdb's `watch`,
//!   `rwatch`, `awatch`), every thread runs one instruction at a time
//!   this way, under either engine, and stops before the load, store,
//!   AMO, `lr` or `sc` that would touch a watched range, at that exact
//!   instruction (as RISC-V's hardware triggers, which fire before the
//!   access; gdb steps over it and then reads the value). Accesses made
//!   by system calls are not watched.
//! * All guest threads take turns on one host thread while a debugger is
//!   attached (the host makes sure of it), so a stop stops them all, as
//!   gdb's all-stop mode expects, and the others' registers are in the
//!   run queue ([`crate::sched::RunQueue::threads_mut`]).
//!
//! * Every signal about to be delivered is reported first
//!   ([`Debugger::signal_stop`], from [`crate::signal::deliver_pending`]),
//!   as Linux's ptrace signal-delivery stop: the client's answer delivers,
//!   replaces or discards it. Faults reach it that way too (the trap goes
//!   back to the run loop, whose delivery reports the signal).
//! * An interrupt from the client is looked for each time the engine
//!   returns, when a blocking system call is cut short by a host signal
//!   ([`crate::signal::restart_interrupted`]: the stop is made inside the
//!   call, which then restarts as if never interrupted), and when every
//!   thread waits (the run loop's scheduler).
//! * A step applies to one thread ([`Resume::StepThread`] names one other
//!   than the stopped one): the scheduler gives it the CPU first, and the
//!   other threads run as for a continue meanwhile, unless the client
//!   keeps them stopped ([`Debugger::hold`]: threads gdb's `vCont` gives
//!   no action stay stopped until the next stop, as in gdb's all-stop
//!   mode). When the threads that may run have all exited, the stop is
//!   [`Stop::NoResumed`].
//!
//! The run loop calls [`Debugger::run`] instead of `Engine::run` when a
//! debugger is attached ([`Process::debugger`]); with none attached the
//! only cost is one check per return of the engine.

use crate::cpu::{Cpu, Trap};
use crate::decode::{self, Inst};
use crate::memory::{GuestMemory, MemFault};
use crate::process::{Engine, Process, Thread};
// The signal numbers and `siginfo` are data (`sigstate`); delivery
// (`signal`) calls in here, never the other way.
use crate::sigstate as signal;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// Why a thread stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Before the first guest instruction.
    Start,
    /// At a software breakpoint (not yet executed).
    Breakpoint,
    /// After a single step.
    Step,
    /// Before an access of `kind` to the watched range holding this
    /// address (gdb steps over the instruction itself).
    Watch(WatchKind, u64),
    /// This (Linux) signal is about to be delivered to the thread (a
    /// fault, an illegal instruction, an `ebreak` of the guest's own, a
    /// `kill`, `tgkill` or `abort`, a signal from outside): the client's
    /// answer decides whether it is delivered, replaced or discarded
    /// (Linux's signal-delivery-stop under ptrace).
    Signal(i32),
    /// The client asked to stop the running guest.
    Interrupt,
    /// No thread is left to run: the one the client resumed (alone, the
    /// others kept stopped) exited. Reported through one of the stopped
    /// threads (gdb's "no resumed threads" stop).
    NoResumed,
}

/// What a watchpoint watches for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchKind {
    /// Stores (gdb's `watch`, `Z2`).
    Write,
    /// Loads (`rwatch`, `Z3`).
    Read,
    /// Loads and stores (`awatch`, `Z4`).
    Access,
}

/// How the stopped guest goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resume {
    /// Run until the next stop; with a signal to deliver first.
    Continue(Option<i32>),
    /// Run one instruction; with a signal to deliver first.
    Step(Option<i32>),
    /// Run one instruction of thread `tid` (not the stopped one) while
    /// the others continue; with a signal for that thread.
    StepThread(i32, Option<i32>),
    /// Forget the debugger: breakpoints and watchpoints go, the guest
    /// runs on freely.
    Detach,
}

/// The host's debugger stub.
pub trait DebugHook: Send + Sync {
    /// `thread` stopped for `why` (every other guest thread is stopped
    /// too). Talk to the client until it says how to go on.
    fn stopped(&self, process: &Process, thread: &mut Thread, why: Stop) -> Resume;
    /// Has the client asked to interrupt the running guest? Asked each
    /// time the engine returns (at least every few million instructions).
    fn interrupt_requested(&self) -> bool {
        false
    }
    /// This is a forked child: let go of the client (the parent keeps it).
    fn forked_child(&self) {}
    /// Does the client want (Linux) signal `signo` delivered without a
    /// stop (gdb's `handle SIG nostop`, sent as `QPassSignals`)?
    fn passes_signal(&self, _signo: i32) -> bool {
        false
    }
}

/// A software breakpoint: the instruction bytes it replaced.
#[derive(Clone, Copy, Debug)]
struct Breakpoint {
    len: u8,
    orig: [u8; 4],
}

/// How the guest runs between stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Continue,
    /// Thread `.0` runs one instruction; the others continue.
    Step(i32),
    Detached,
}

#[derive(Debug)]
struct State {
    bps: BTreeMap<u64, Breakpoint>,
    /// Watchpoints: (start, length, kind).
    watches: Vec<(u64, u64, WatchKind)>,
    mode: Mode,
    /// A stop to report before running on (the first one, or a step
    /// that ended in a system call the run loop completed).
    owed: Option<(i32, Stop)>,
    /// The thread and pc last reported at a breakpoint: resuming there
    /// runs the original instruction first.
    resume_from: Option<(i32, u64)>,
    /// The thread and pc last reported at a watchpoint (before the
    /// access): resuming there runs the instruction.
    watch_from: Option<(i32, u64)>,
    /// The `lr` value for steps (see [`crate::interp::step`]).
    lr_value: u64,
    /// The thread and pc a step was asked at: if the thread is elsewhere
    /// when it runs again, a signal handler was entered (or the client
    /// moved it), and the step ends there before running anything, as
    /// Linux's single-step into a handler does.
    step_from: Option<(i32, u64)>,
    /// Signals the client passed (`C`/`S` after another stop) that are
    /// pending now for (thread, signal): delivered without another stop.
    approved: Vec<(i32, i32)>,
}

/// An attached debugger (see the module documentation).
pub struct Debugger {
    hook: Box<dyn DebugHook>,
    state: spin::Mutex<State>,
}

impl core::fmt::Debug for Debugger {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Debugger")
            .field("state", &*self.state.lock())
            .finish_non_exhaustive()
    }
}

/// What a stepped instruction did.
enum Stepped {
    Done,
    /// It would access a watched range of this kind at this address.
    Watch(WatchKind, u64),
}

/// Instructions run one at a time under a watchpoint before the run loop
/// gets a look (signals, other threads, an interrupt).
const WATCH_SLICE: u32 = 1 << 16;

impl Debugger {
    /// A debugger around the host's stub; the first thread reports
    /// [`Stop::Start`] before its first instruction.
    pub fn new(hook: Box<dyn DebugHook>) -> Debugger {
        Debugger {
            hook,
            state: spin::Mutex::new(State {
                bps: BTreeMap::new(),
                watches: Vec::new(),
                mode: Mode::Continue,
                owed: Some((0, Stop::Start)),
                resume_from: None,
                watch_from: None,
                lr_value: 0,
                step_from: None,
                approved: Vec::new(),
            }),
        }
    }

    /// Insert a software breakpoint of `len` (2 or 4) bytes at `addr`.
    pub fn insert_breakpoint(&self, mem: &GuestMemory, addr: u64, len: u8) -> Result<(), MemFault> {
        let len = if len == 2 { 2 } else { 4 };
        let mut st = self.state.lock();
        if st.bps.contains_key(&addr) {
            return Ok(());
        }
        let mut orig = [0u8; 4];
        read_exec(mem, addr, &mut orig[..len as usize])?;
        let bits: &[u8] = if len == 2 {
            &0x9002u16.to_le_bytes()
        } else {
            &0x0010_0073u32.to_le_bytes()
        };
        mem.write_bytes_privileged(addr, bits)?;
        mem.invalidate_code();
        st.bps.insert(addr, Breakpoint { len, orig });
        Ok(())
    }

    /// Remove the breakpoint at `addr` (false if there was none).
    pub fn remove_breakpoint(&self, mem: &GuestMemory, addr: u64) -> bool {
        let Some(bp) = self.state.lock().bps.remove(&addr) else {
            return false;
        };
        let _ = mem.write_bytes_privileged(addr, &bp.orig[..bp.len as usize]);
        mem.invalidate_code();
        true
    }

    /// Watch `[addr, addr+len)` for accesses of `kind`, by every thread.
    pub fn insert_watchpoint(&self, addr: u64, len: u64, kind: WatchKind) {
        let mut st = self.state.lock();
        if !st.watches.contains(&(addr, len, kind)) {
            st.watches.push((addr, len, kind));
        }
    }

    /// Stop watching `[addr, addr+len)` for `kind` (false if it was not
    /// watched).
    pub fn remove_watchpoint(&self, addr: u64, len: u64, kind: WatchKind) -> bool {
        let mut st = self.state.lock();
        let n = st.watches.len();
        st.watches.retain(|&w| w != (addr, len, kind));
        st.watches.len() != n
    }

    /// Read guest memory as the program has it (breakpoints show their
    /// original bytes). Any mapped, readable or executable page; `Err` at
    /// the first byte that is not.
    pub fn read_memory(
        &self,
        mem: &GuestMemory,
        addr: u64,
        buf: &mut [u8],
    ) -> Result<(), MemFault> {
        read_exec(mem, addr, buf)?;
        let st = self.state.lock();
        let end = addr.saturating_add(buf.len() as u64);
        for (&a, bp) in st.bps.range(addr.saturating_sub(3)..end) {
            for i in 0..bp.len as u64 {
                let at = a + i;
                if at >= addr && at < end {
                    buf[(at - addr) as usize] = bp.orig[i as usize];
                }
            }
        }
        Ok(())
    }

    /// Write guest memory for the client, whatever the page's guest
    /// permission (mapped pages only). Bytes under a breakpoint change the
    /// saved original; the breakpoint stays.
    pub fn write_memory(&self, mem: &GuestMemory, addr: u64, data: &[u8]) -> Result<(), MemFault> {
        let mut st = self.state.lock();
        let end = addr.saturating_add(data.len() as u64);
        let mut out = data.to_vec();
        let lo = addr.saturating_sub(3);
        for (&a, bp) in st.bps.range_mut(lo..end) {
            for i in 0..bp.len as u64 {
                let at = a + i;
                if at >= addr && at < end {
                    let k = (at - addr) as usize;
                    bp.orig[i as usize] = data[k];
                    // Keep the breakpoint's own byte in memory.
                    out[k] = breakpoint_byte(bp.len, i as usize);
                }
            }
        }
        mem.write_bytes_privileged(addr, &out)?;
        mem.invalidate_code();
        Ok(())
    }

    /// In a forked child: the child runs without the debugger (as with a
    /// fork under gdb on Linux): its copy of the breakpoints goes.
    pub fn forked_child(&self, mem: &GuestMemory) {
        self.detach(mem);
        self.hook.forked_child();
    }

    /// Is the debugger still in control?
    pub fn attached(&self) -> bool {
        self.state.lock().mode != Mode::Detached
    }

    fn detach(&self, mem: &GuestMemory) {
        let bps: Vec<u64> = self.state.lock().bps.keys().copied().collect();
        for a in bps {
            self.remove_breakpoint(mem, a);
        }
        let mut st = self.state.lock();
        st.watches.clear();
        st.owed = None;
        st.mode = Mode::Detached;
    }

    /// Report `why`, take the client's answer: the signal it passes, if
    /// any. For a [`Stop::Signal`] that is the signal to deliver in place
    /// of the reported one (`None`: it is discarded); after any other stop
    /// it is a signal to send the thread ([`Debugger::inject`]).
    fn stop(&self, p: &Process, thread: &mut Thread, why: Stop) -> Option<i32> {
        {
            let mut st = self.state.lock();
            let here = Some((thread.tid, thread.cpu.pc));
            st.resume_from = if why == Stop::Breakpoint { here } else { None };
            st.watch_from = if matches!(why, Stop::Watch(..)) {
                here
            } else {
                None
            };
            // This stop replaces one the thread still owed (a step that
            // ended in a system call that raised a signal).
            if st.owed.is_some_and(|(t, _)| t == thread.tid) {
                st.owed = None;
            }
        }
        // Every thread may run again unless the client's answer holds
        // some ([`Debugger::hold`]).
        p.green.lock().hold(Vec::new());
        let resume = self.hook.stopped(p, thread, why);
        let (mode, sig) = match resume {
            Resume::Continue(s) => (Mode::Continue, s),
            Resume::Step(s) => (Mode::Step(thread.tid), s),
            Resume::StepThread(t, s) => {
                if let Some(s) = s {
                    self.inject(p, t, None, s);
                }
                (Mode::Step(t), None)
            }
            Resume::Detach => {
                self.detach(&p.mem);
                // A signal the thread stopped for is delivered.
                return match why {
                    Stop::Signal(s) => Some(s),
                    _ => None,
                };
            }
        };
        let mut st = self.state.lock();
        st.mode = mode;
        let here = Some((thread.tid, thread.cpu.pc));
        // The pc may have moved (the client wrote it).
        if st.resume_from != here {
            st.resume_from = None;
        }
        st.step_from = match mode {
            Mode::Step(t) if t == thread.tid => here,
            _ => None,
        };
        sig
    }

    /// Send `sig` to thread `tid` (`thread`, when it is the one in hand)
    /// for the client, which already chose it: it is delivered without
    /// another stop.
    fn inject(&self, p: &Process, tid: i32, thread: Option<&mut Thread>, sig: i32) {
        if !(1..=signal::NSIG).contains(&sig) {
            return;
        }
        self.state.lock().approved.push((tid, sig));
        let info = signal::SigInfo::kill(sig, signal::SI_USER, 0, 0);
        match thread {
            Some(t) => t.pending.add(info),
            // A waiting thread: its inbox, which ends its wait.
            None => {
                p.send_to_thread(tid, info);
            }
        }
    }

    /// Linux's signal-delivery-stop: `info` is about to be delivered to
    /// `thread` (called by [`signal::deliver_pending`] for each signal it
    /// takes). Reports it unless the client said to pass it without a
    /// stop (or already chose it); returns what to deliver: `info`,
    /// another signal the client chose, or nothing (discarded, as gdb's
    /// `signal 0` or `handle nopass`).
    pub(crate) fn signal_stop(
        &self,
        p: &Process,
        thread: &mut Thread,
        info: signal::SigInfo,
    ) -> Option<signal::SigInfo> {
        // A vfork child (no thread entry) runs unreported.
        if thread.shared.is_none() {
            return Some(info);
        }
        {
            let mut st = self.state.lock();
            if st.mode == Mode::Detached {
                return Some(info);
            }
            let key = (thread.tid, info.signo);
            if let Some(i) = st.approved.iter().position(|&a| a == key) {
                st.approved.swap_remove(i);
                return Some(info);
            }
        }
        if self.hook.passes_signal(info.signo) {
            return Some(info);
        }
        match self.stop(p, thread, Stop::Signal(info.signo))? {
            s if s == info.signo => Some(info),
            s if (1..=signal::NSIG).contains(&s) => {
                let info = signal::SigInfo::kill(s, signal::SI_USER, 0, 0);
                if thread.sigmask & signal::bit(s) != 0 {
                    // Blocked: pending until unblocked (as Linux's
                    // `ptrace_signal` requeues it), chosen already.
                    self.state.lock().approved.push((thread.tid, s));
                    thread.pending.add(info);
                    return None;
                }
                Some(info)
            }
            _ => None,
        }
    }

    /// A blocking system call of `thread` was cut short by a host signal
    /// (called by [`signal::restart_interrupted`]): if the client asked
    /// for an interrupt, stop here, inside the call (the pc past its
    /// `ecall`, as under ptrace on Linux). Without a signal from the
    /// client the call then goes on as if never interrupted.
    pub(crate) fn interrupted_call(&self, p: &Process, thread: &mut Thread) {
        if thread.shared.is_none() || !self.attached() || !self.hook.interrupt_requested() {
            return;
        }
        if let Some(sig) = self.stop(p, thread, Stop::Interrupt) {
            let tid = thread.tid;
            self.inject(p, tid, Some(thread), sig);
        }
    }

    /// Every guest thread waits (on a host that runs one thread) and the
    /// client asked for an interrupt (called by the run loop before it
    /// sleeps): true when it did; one of the waiting threads must then
    /// be reported stopped ([`Debugger::stop_waiting`]).
    pub(crate) fn interrupt_while_waiting(&self) -> bool {
        self.attached() && self.hook.interrupt_requested()
    }

    /// Report waiting `thread` stopped for the client's interrupt; it
    /// waits on afterwards, unless the client sends it a signal.
    pub(crate) fn stop_waiting(&self, p: &Process, thread: &mut Thread) {
        if let Some(sig) = self.stop(p, thread, Stop::Interrupt) {
            self.inject(p, thread.tid, None, sig);
        }
    }

    /// For the resume the client is answering a stop with: threads
    /// `tids` stay stopped until the next stop (gdb's `vCont` gave them
    /// no action).
    pub fn hold(&self, p: &Process, tids: Vec<i32>) {
        p.green.lock().hold(tids);
    }

    /// The thread is about to end with the `exit` system call whose
    /// `ecall` is at `at`, while the client runs it alone (every other
    /// thread is held): stepped, or continued onto a breakpoint at the
    /// next instruction (gdb's software single step, which is how it
    /// steps over a breakpoint on the `ecall`). It stops first, at the
    /// instruction after the `ecall`, as Linux's `PTRACE_EVENT_EXIT` stop
    /// (reported as the step or the breakpoint the client waits for), and
    /// ends when the client resumes it. Without this stop the client only
    /// hears [`Stop::NoResumed`] and gdb 13, in the middle of its step
    /// over, could never resume again. A signal the client passes with
    /// its answer is dropped: the thread is gone.
    pub(crate) fn thread_exiting(&self, p: &Process, thread: &mut Thread, at: u64) {
        let next = at.wrapping_add(4);
        let why = {
            let st = self.state.lock();
            match st.mode {
                Mode::Detached => return,
                Mode::Step(t) if t == thread.tid => Stop::Step,
                _ if st.bps.contains_key(&next) => Stop::Breakpoint,
                _ => return,
            }
        };
        if !p.green.lock().all_held() {
            return;
        }
        thread.cpu.pc = next;
        let _ = self.stop(p, thread, why);
    }

    /// Thread `tid` exited (others remain). A step it owed is dropped; if
    /// it was the one being stepped, the others go on as for a continue;
    /// if every thread left is one the client keeps stopped, nothing can
    /// run: one of them reports [`Stop::NoResumed`] (as gdbserver does)
    /// instead of the client waiting for ever.
    pub(crate) fn thread_exited(&self, p: &Process, tid: i32) {
        {
            let mut st = self.state.lock();
            if st.mode == Mode::Detached {
                return;
            }
            if st.owed.is_some_and(|(t, _)| t == tid) {
                st.owed = None;
            }
            if st.mode == Mode::Step(tid) {
                st.mode = Mode::Continue;
            }
            st.approved.retain(|&(t, _)| t != tid);
        }
        let mut q = p.green.lock();
        if !q.all_held() {
            return;
        }
        let Some(mut w) = q.pop_front() else {
            return;
        };
        drop(q);
        if let Some(sig) = self.stop(p, &mut w.thread, Stop::NoResumed) {
            self.inject(p, w.thread.tid, None, sig);
        }
        p.green.lock().push_front(w);
    }

    /// The thread the client steps while the others continue, if any: the
    /// run loop gives it the CPU first.
    pub(crate) fn stepping_thread(&self) -> Option<i32> {
        match self.state.lock().mode {
            Mode::Step(t) => Some(t),
            _ => None,
        }
    }

    /// Owe `thread` the report `why` (made at its next look).
    fn owe(&self, thread: &Thread, why: Stop) {
        self.state.lock().owed = Some((thread.tid, why));
    }

    /// Run `thread` as the debugger directs until the run loop must
    /// handle a trap (a system call, a signal to deliver, a budget end to
    /// look at other threads). Used by the run loop in place of
    /// `engine.run` while a debugger is attached. A fault goes back to the
    /// run loop, whose delivery reports the signal ([`Debugger::signal_stop`]).
    pub fn run(&self, p: &Process, thread: &mut Thread, engine: &mut dyn Engine) -> Trap {
        loop {
            let (owed, mode, watching) = {
                let mut st = self.state.lock();
                // A stop owed to this thread (0: the first one, whichever).
                let owed = match st.owed {
                    Some((t, why)) if t == thread.tid || t == 0 => {
                        st.owed = None;
                        Some(why)
                    }
                    _ => None,
                };
                (owed, st.mode, !st.watches.is_empty())
            };
            if let Some(why) = owed {
                if let Some(sig) = self.stop(p, thread, why) {
                    let tid = thread.tid;
                    self.inject(p, tid, Some(thread), sig);
                    return Trap::Budget;
                }
                continue;
            }
            if mode == Mode::Detached {
                return engine.run(&mut thread.cpu, &p.mem);
            }
            if self.hook.interrupt_requested() {
                self.owe(thread, Stop::Interrupt);
                continue;
            }
            // Kept stopped by the client: another thread gets the CPU.
            if p.green.lock().held(thread.tid) {
                return Trap::Budget;
            }
            if let Mode::Step(t) = mode {
                if t == thread.tid {
                    // Already somewhere else: a handler was entered.
                    let moved = self
                        .state
                        .lock()
                        .step_from
                        .take()
                        .is_some_and(|(_, pc)| pc != thread.cpu.pc);
                    if moved {
                        self.owe(thread, Stop::Step);
                        continue;
                    }
                    match self.step(p, thread) {
                        Ok(Stepped::Done) => self.owe(thread, Stop::Step),
                        Ok(Stepped::Watch(k, a)) => self.owe(thread, Stop::Watch(k, a)),
                        Err(Trap::Ecall) => {
                            // Reported once the run loop completed the call.
                            self.owe(thread, Stop::Step);
                            return Trap::Ecall;
                        }
                        // A fault: its signal's stop is the report.
                        Err(t) => return t,
                    }
                    continue;
                }
                // Another thread steps: it gets the CPU if it can run;
                // else this one continues.
                if p.green.lock().runnable(t) {
                    return Trap::Budget;
                }
            }
            // Continue: past the breakpoint the thread stopped at, then
            // one instruction at a time while watching, else the engine.
            let over = {
                let mut st = self.state.lock();
                let here = Some((thread.tid, thread.cpu.pc));
                let over = st.resume_from == here && st.bps.contains_key(&thread.cpu.pc);
                st.resume_from = None;
                over
            };
            if over || watching {
                let slice = if watching { WATCH_SLICE } else { 1 };
                for i in 0..slice {
                    if self.at_breakpoint(thread.cpu.pc) && !(over && i == 0) {
                        break;
                    }
                    match self.step(p, thread) {
                        Ok(Stepped::Done) => {}
                        Ok(Stepped::Watch(k, a)) => {
                            self.owe(thread, Stop::Watch(k, a));
                            break;
                        }
                        Err(t) => return t,
                    }
                    if !watching {
                        break;
                    }
                }
                if self.state.lock().owed.is_some() {
                    continue;
                }
                if watching {
                    if self.at_breakpoint(thread.cpu.pc) {
                        self.owe(thread, Stop::Breakpoint);
                        continue;
                    }
                    return Trap::Budget;
                }
            }
            let trap = engine.run(&mut thread.cpu, &p.mem);
            match trap {
                Trap::Ebreak if self.at_breakpoint(thread.cpu.pc) => {
                    self.owe(thread, Stop::Breakpoint);
                }
                Trap::Budget if self.hook.interrupt_requested() => {
                    self.owe(thread, Stop::Interrupt);
                }
                t => return t,
            }
        }
    }

    /// Run `thread` with the debugger's breakpoints in memory but no
    /// reports (a `vfork` child, which shares the parent's memory):
    /// breakpoints are stepped over.
    pub fn run_quiet(&self, p: &Process, thread: &mut Thread, engine: &mut dyn Engine) -> Trap {
        loop {
            let trap = engine.run(&mut thread.cpu, &p.mem);
            if trap != Trap::Ebreak || !self.at_breakpoint(thread.cpu.pc) {
                return trap;
            }
            if let Err(t) = self.step(p, thread) {
                return t;
            }
        }
    }

    fn at_breakpoint(&self, pc: u64) -> bool {
        self.state.lock().bps.contains_key(&pc)
    }

    /// Run one instruction, decoded from the program's own bytes (not a
    /// breakpoint's), through the interpreter.
    fn step(&self, p: &Process, thread: &mut Thread) -> Result<Stepped, Trap> {
        let tid = thread.tid;
        let cpu = &mut thread.cpu;
        let mut raw = [0u8; 4];
        let pc = cpu.pc;
        self.read_memory(&p.mem, pc, &mut raw[..2])
            .map_err(|mut f| {
                f.access = crate::memory::Access::Exec;
                Trap::MemFault(f)
            })?;
        let lo = u16::from_le_bytes([raw[0], raw[1]]) as u32;
        let bits = if lo & 3 == 3 {
            self.read_memory(&p.mem, pc + 2, &mut raw[2..])
                .map_err(|mut f| {
                    f.access = crate::memory::Access::Exec;
                    Trap::MemFault(f)
                })?;
            u32::from_le_bytes(raw)
        } else {
            lo
        };
        // The fetch must be allowed (executable page) as for the engines.
        p.mem.fetch_u16(pc).map_err(Trap::MemFault)?;
        let (inst, len) = decode::decode(bits);
        // An access to a watched range stops before it runs (gdb steps
        // over it itself, as on RISC-V hardware), unless the thread
        // resumes from that very stop.
        let (load, store) = (load_range(cpu, &inst), store_range(cpu, &inst));
        if load.is_some() || store.is_some() {
            let mut st = self.state.lock();
            let resuming = st.watch_from.take() == Some((tid, pc));
            if !resuming && let Some((k, a)) = watch_hit(&st.watches, load, store) {
                return Ok(Stepped::Watch(k, a));
            }
        }
        let mut lr = self.state.lock().lr_value;
        let r = crate::interp::step(cpu, &p.mem, inst, len, &mut lr);
        self.state.lock().lr_value = lr;
        r?;
        Ok(Stepped::Done)
    }
}

/// Byte `i` of the breakpoint instruction of `len` bytes.
fn breakpoint_byte(len: u8, i: usize) -> u8 {
    if len == 2 {
        0x9002u16.to_le_bytes()[i]
    } else {
        0x0010_0073u32.to_le_bytes()[i]
    }
}

/// Read mapped guest memory that is readable or executable (code pages
/// the guest may only execute are still the debugger's to read).
fn read_exec(mem: &GuestMemory, addr: u64, buf: &mut [u8]) -> Result<(), MemFault> {
    if mem.read_bytes(addr, buf).is_ok() {
        return Ok(());
    }
    for (i, b) in buf.iter_mut().enumerate() {
        let a = addr.wrapping_add(i as u64);
        *b = match mem.read_u8(a) {
            Ok(v) => v,
            Err(f) => {
                // An execute-only page: read it as fetches do.
                let parcel = mem.fetch_u16(a & !1).map_err(|_| f)?;
                parcel.to_le_bytes()[(a & 1) as usize]
            }
        };
    }
    Ok(())
}

/// The first watchpoint an instruction that reads `load` and writes
/// `store` (each (address, length)) triggers: its kind and the first
/// watched address accessed. Write watchpoints are looked at first, then
/// access, then read ones (an AMO both reads and writes).
fn watch_hit(
    watches: &[(u64, u64, WatchKind)],
    load: Option<(u64, u64)>,
    store: Option<(u64, u64)>,
) -> Option<(WatchKind, u64)> {
    let overlap = |(s, l): (u64, u64), a: u64, n: u64| {
        (s < a.saturating_add(n) && a < s.saturating_add(l)).then_some(s.max(a))
    };
    for kind in [WatchKind::Write, WatchKind::Access, WatchKind::Read] {
        for &(a, n, k) in watches {
            if k != kind {
                continue;
            }
            let reads = matches!(k, WatchKind::Read | WatchKind::Access);
            let writes = matches!(k, WatchKind::Write | WatchKind::Access);
            let at = store
                .filter(|_| writes)
                .and_then(|r| overlap(r, a, n))
                .or_else(|| load.filter(|_| reads).and_then(|r| overlap(r, a, n)));
            if let Some(at) = at {
                return Some((k, at));
            }
        }
    }
    None
}

/// The bytes a load, AMO or `lr` reads: (address, length).
fn load_range(cpu: &Cpu, inst: &Inst) -> Option<(u64, u64)> {
    use Inst::*;
    let at = |rs1: u8, imm: i32| cpu.x[rs1 as usize].wrapping_add(imm as i64 as u64);
    Some(match *inst {
        Lb(i) | Lbu(i) => (at(i.rs1, i.imm), 1),
        Lh(i) | Lhu(i) => (at(i.rs1, i.imm), 2),
        Lw(i) | Lwu(i) | Flw(i) => (at(i.rs1, i.imm), 4),
        Ld(i) | Fld(i) => (at(i.rs1, i.imm), 8),
        LrW(a) | AmoswapW(a) | AmoaddW(a) | AmoxorW(a) | AmoandW(a) | AmoorW(a) | AmominW(a)
        | AmomaxW(a) | AmominuW(a) | AmomaxuW(a) => (cpu.x[a.rs1 as usize], 4),
        LrD(a) | AmoswapD(a) | AmoaddD(a) | AmoxorD(a) | AmoandD(a) | AmoorD(a) | AmominD(a)
        | AmomaxD(a) | AmominuD(a) | AmomaxuD(a) => (cpu.x[a.rs1 as usize], 8),
        _ => return None,
    })
}

/// The bytes a store, AMO or `sc` writes: (address, length).
fn store_range(cpu: &Cpu, inst: &Inst) -> Option<(u64, u64)> {
    use Inst::*;
    let at = |rs1: u8, imm: i32| cpu.x[rs1 as usize].wrapping_add(imm as i64 as u64);
    Some(match *inst {
        Sb(s) => (at(s.rs1, s.imm), 1),
        Sh(s) => (at(s.rs1, s.imm), 2),
        Sw(s) | Fsw(s) => (at(s.rs1, s.imm), 4),
        Sd(s) | Fsd(s) => (at(s.rs1, s.imm), 8),
        ScW(a) | AmoswapW(a) | AmoaddW(a) | AmoxorW(a) | AmoandW(a) | AmoorW(a) | AmominW(a)
        | AmomaxW(a) | AmominuW(a) | AmomaxuW(a) => (cpu.x[a.rs1 as usize], 4),
        ScD(a) | AmoswapD(a) | AmoaddD(a) | AmoxorD(a) | AmoandD(a) | AmoorD(a) | AmominD(a)
        | AmomaxD(a) | AmominuD(a) | AmomaxuD(a) => (cpu.x[a.rs1 as usize], 8),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::Perm;
    use crate::process::Options;
    use crate::signal::{SIGALRM, SIGINT, SIGUSR1, SIGUSR2, SigAction, SigInfo, deliver_pending};
    use crate::testhost::TestHost;
    use alloc::sync::Arc;
    extern crate std;
    use std::sync::Mutex;

    const HANDLER: u64 = 0x3000;

    /// A client that answers each stop from a script, records the stops,
    /// passes SIGALRM without a stop and asks for one interrupt when told.
    #[derive(Default)]
    struct Script {
        answers: Mutex<Vec<Resume>>,
        stops: Mutex<Vec<Stop>>,
        interrupt: core::sync::atomic::AtomicBool,
    }

    struct Client(Arc<Script>);

    impl DebugHook for Client {
        fn stopped(&self, _: &Process, _: &mut Thread, why: Stop) -> Resume {
            self.0.stops.lock().unwrap().push(why);
            self.0.answers.lock().unwrap().remove(0)
        }
        fn interrupt_requested(&self) -> bool {
            self.0
                .interrupt
                .swap(false, core::sync::atomic::Ordering::Relaxed)
        }
        fn passes_signal(&self, signo: i32) -> bool {
            signo == SIGALRM
        }
    }

    fn setup() -> (Arc<Process>, Thread, Arc<Script>) {
        let host = TestHost::leak();
        let mem = GuestMemory::new(host, 1 << 24).unwrap();
        mem.map(0x10_0000, 0x1_0000, Perm::READ | Perm::WRITE, true)
            .unwrap();
        {
            let mut m = mem.maps.lock();
            m.mmap_top = 0x80_0000;
            m.mmap_min = 0x40_0000;
        }
        let p = Process::new(host, mem, Vec::new(), Options::default());
        let script = Arc::new(Script::default());
        p.attach_debugger(Debugger::new(Box::new(Client(script.clone()))));
        let mut t = Thread {
            tid: 7,
            ..Default::default()
        };
        t.cpu.x[2] = 0x10_f000;
        t.cpu.pc = 0x2000;
        p.register(&mut t);
        for s in [SIGUSR1, SIGALRM] {
            p.signals.lock().actions[(s - 1) as usize] = SigAction {
                handler: HANDLER,
                flags: 0,
                mask: 0,
            };
        }
        (p, t, script)
    }

    fn usr(s: i32) -> SigInfo {
        SigInfo::kill(s, crate::signal::SI_USER, 1, 0)
    }

    #[test]
    fn watchpoints_fire_on_their_kind_of_access_only() {
        use WatchKind::*;
        let w = [(0x100, 8, Write), (0x200, 4, Read), (0x300, 2, Access)];
        // A load of the written-watched word: no stop; a store: stop.
        assert_eq!(watch_hit(&w, Some((0x100, 8)), None), None);
        assert_eq!(watch_hit(&w, None, Some((0x104, 1))), Some((Write, 0x104)));
        // Read watchpoint: loads only, overlapping at either end.
        assert_eq!(watch_hit(&w, None, Some((0x200, 4))), None);
        assert_eq!(watch_hit(&w, Some((0x1fc, 8)), None), Some((Read, 0x200)));
        assert_eq!(watch_hit(&w, Some((0x1f8, 8)), None), None);
        assert_eq!(watch_hit(&w, Some((0x204, 4)), None), None);
        // Access: both.
        assert_eq!(watch_hit(&w, Some((0x301, 1)), None), Some((Access, 0x301)));
        assert_eq!(
            watch_hit(&w, None, Some((0x2f8, 16))),
            Some((Access, 0x300))
        );
        // An AMO on a word both read- and write-watched: the write one.
        let both = [(0x200, 4, Read), (0x200, 4, Write)];
        assert_eq!(
            watch_hit(&both, Some((0x200, 4)), Some((0x200, 4))),
            Some((Write, 0x200))
        );
    }

    #[test]
    fn loads_amos_and_lr_read_what_they_read() {
        let mut cpu = Cpu::default();
        cpu.x[10] = 0x1000;
        let lw = decode::decode(0x0085_2583).0; // lw a1, 8(a0)
        assert_eq!(load_range(&cpu, &lw), Some((0x1008, 4)));
        assert_eq!(store_range(&cpu, &lw), None);
        let cld = decode::decode(0x6510).0; // c.ld a2, 8(a0)
        assert_eq!(load_range(&cpu, &cld), Some((0x1008, 8)));
        let amo = decode::decode(0x00b5_302f).0; // amoadd.d zero, a1, (a0)
        assert_eq!(load_range(&cpu, &amo), Some((0x1000, 8)));
        assert_eq!(store_range(&cpu, &amo), Some((0x1000, 8)));
        let lr = decode::decode(0x1005_252f).0; // lr.w a0, (a0)
        assert_eq!(load_range(&cpu, &lr), Some((0x1000, 4)));
        assert_eq!(store_range(&cpu, &lr), None);
        let sd = decode::decode(0x00b5_3823).0; // sd a1, 16(a0)
        assert_eq!(load_range(&cpu, &sd), None);
        assert_eq!(store_range(&cpu, &sd), Some((0x1010, 8)));
    }

    #[test]
    fn signals_stop_before_delivery_and_the_client_decides() {
        let (p, mut t, script) = setup();
        script.answers.lock().unwrap().extend([
            Resume::Continue(None),
            Resume::Continue(Some(SIGUSR1)),
            Resume::Continue(None),
            Resume::Continue(Some(SIGUSR1)),
        ]);
        // Discarded: no handler runs.
        t.pending.add(usr(SIGUSR1));
        assert_eq!(deliver_pending(&p, &mut t, 0x2000), None);
        assert_eq!(t.cpu.pc, 0x2000);
        // Passed on: the handler runs.
        t.pending.add(usr(SIGUSR1));
        assert_eq!(deliver_pending(&p, &mut t, 0x2000), None);
        assert_eq!(t.cpu.pc, HANDLER);
        // A fatal one discarded: the process lives.
        t.cpu.pc = 0x2000;
        t.pending.add(usr(SIGUSR2));
        assert_eq!(deliver_pending(&p, &mut t, 0x2000), None);
        // Replaced by another signal, blocked (the handler runs with
        // SIGUSR1 blocked): it waits, already chosen.
        assert_ne!(t.sigmask & crate::signal::bit(SIGUSR1), 0);
        t.pending.add(usr(SIGUSR2));
        assert_eq!(deliver_pending(&p, &mut t, 0x2000), None);
        assert_eq!(t.cpu.pc, 0x2000);
        assert_eq!(t.pending.set(), crate::signal::bit(SIGUSR1));
        // Unblocked: delivered without another stop.
        t.sigmask = 0;
        assert_eq!(deliver_pending(&p, &mut t, 0x2000), None);
        assert_eq!((t.cpu.pc, t.cpu.x[10]), (HANDLER, SIGUSR1 as u64));
        // Passed without a stop.
        t.cpu.pc = 0x2000;
        t.pending.add(usr(SIGALRM));
        assert_eq!(deliver_pending(&p, &mut t, 0x2000), None);
        assert_eq!((t.cpu.pc, t.cpu.x[10]), (HANDLER, SIGALRM as u64));
        assert_eq!(
            *script.stops.lock().unwrap(),
            [
                Stop::Signal(SIGUSR1),
                Stop::Signal(SIGUSR1),
                Stop::Signal(SIGUSR2),
                Stop::Signal(SIGUSR2)
            ]
        );
        // A vfork child (no thread entry) is not reported.
        t.shared = None;
        t.cpu.pc = 0x2000;
        t.sigmask = 0;
        t.pending.add(usr(SIGUSR1));
        assert_eq!(deliver_pending(&p, &mut t, 0x2000), None);
        assert_eq!(t.cpu.pc, HANDLER);
        assert_eq!(script.stops.lock().unwrap().len(), 4);
    }

    #[test]
    fn an_interrupted_call_stops_then_restarts_or_takes_the_clients_signal() {
        let (p, mut t, script) = setup();
        script
            .answers
            .lock()
            .unwrap()
            .extend([Resume::Continue(None), Resume::Continue(Some(SIGINT))]);
        // Not the client's interrupt: no stop, the call runs again.
        assert!(crate::signal::restart_interrupted(&p, &mut t, true));
        assert!(script.stops.lock().unwrap().is_empty());
        // The client's: a stop, then the call runs again.
        script
            .interrupt
            .store(true, core::sync::atomic::Ordering::Relaxed);
        assert!(crate::signal::restart_interrupted(&p, &mut t, true));
        // The client sends SIGINT: the call fails (EINTR) and SIGINT,
        // chosen already, kills without another stop.
        script
            .interrupt
            .store(true, core::sync::atomic::Ordering::Relaxed);
        assert!(!crate::signal::restart_interrupted(&p, &mut t, true));
        let r = deliver_pending(&p, &mut t, 0x2000).unwrap();
        assert_eq!(r.signo, SIGINT);
        assert_eq!(
            *script.stops.lock().unwrap(),
            [Stop::Interrupt, Stop::Interrupt]
        );
    }
}
