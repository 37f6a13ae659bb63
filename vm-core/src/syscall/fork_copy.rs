//! `fork` on a host that cannot duplicate itself (the bare-metal host,
//! [`HostOs::builds_children`]): the core builds the child itself, a
//! new [`Process`] with a copy of the address space
//! ([`crate::memory::GuestMemory::copy_for_fork`]), the signal table
//! without pending signals, and the forking thread alone (`a0 = 0`), and
//! the host runs it as a new process beside this one
//! ([`HostOs::spawn_process`]), with a descriptor table that shares this
//! one's open files. Pids, parentage and exit statuses are the host's.
//!
//! [`HostOs::builds_children`]: crate::host::HostOs::builds_children
//! [`HostOs::spawn_process`]: crate::host::HostOs::spawn_process

use super::Ctx;
use crate::host::{Errno, ProcessEnd, SysResult};
use crate::process::{ExitStatus, Process, Thread};
use crate::signal::{self, Pending};
use alloc::boxed::Box;

/// The child of `fork` (`child`: the forking thread's copy, its `a0`,
/// stack and TLS already set as `clone` asked). Returns its pid.
pub(super) fn fork(
    cx: &mut Ctx<'_>,
    child: Thread,
    exit_signal: i32,
    wait_exec: bool,
    settid: Option<u64>,
) -> SysResult<i32> {
    let p = cx.p;
    let host = p.host;
    let mut child = Some(child);
    host.spawn_process(exit_signal, wait_exec, &mut |pid| {
        let mem = p.mem.copy_for_fork(host)?;
        let np = Process::new(host, mem, p.exe_path.clone(), p.options.clone());
        // The start Linux recorded in the mm (argv, environment, auxv)
        // and the personality are the parent's: the child's run must not
        // take them from its stack pointer, which is mid-program.
        *np.procfs.info.lock() = p.procfs.info.lock().clone();
        np.procfs.personality.store(
            p.procfs
                .personality
                .load(core::sync::atomic::Ordering::Relaxed),
            core::sync::atomic::Ordering::Relaxed,
        );
        {
            let mut t = np.signals.lock();
            *t = p.signals.lock().clone();
            t.shared = Pending::default();
        }
        for signo in 1..=signal::NSIG {
            signal::sync_host(&np, signo);
        }
        let mut t = child.take().ok_or(Errno::EAGAIN)?;
        t.tid = pid;
        t.shared = None;
        t.block = None;
        t.poll_deadline = None;
        if let Some(ctid) = settid {
            let _ = np.mem.write_u32(ctid, pid as u32);
        }
        let mut engine = np.engine().map_err(|e| match e {
            Errno::ENOMEM => Errno::ENOMEM,
            _ => Errno::EAGAIN,
        })?;
        Ok(Box::new(move || {
            let status = np.run(&mut t, engine.as_mut());
            drop(engine);
            // The host reports the end (strace's `+++` line) as it does
            // for every process it runs.
            match status {
                ExitStatus::Exited(code) => ProcessEnd::Exit(code),
                ExitStatus::Signaled(r) => ProcessEnd::Signal(r.signo),
            }
        }))
    })
}
