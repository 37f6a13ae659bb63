//! The process calls of the unikernel's `HostOs` ([`crate::host`]):
//! `fork` (the core builds the child, a task runs it), `vfork` (the child
//! runs on the parent's task, which waits by construction), `execve` (the
//! new image starts once the old one's run loop has ended, on the same
//! task), and the waits. The process table is [`crate::procs`].

use crate::host::BareMetal;
use crate::procs::{self, Want, Which};
use alloc::boxed::Box;
use alloc::vec::Vec;
use vm_core::host::{Errno, ExecKind, ExecRequest, HostOs, ProcessEnd, SysResult, WaitInfo};
use vm_core::launch::{Launch, LaunchError};

/// How a process ended, as a shell reports it (the exit code, or 128 +
/// the signal).
pub fn shell_status(end: ProcessEnd) -> i32 {
    match end {
        ProcessEnd::Exit(c) => c & 0xff,
        ProcessEnd::Signal(s) => 128 + s,
    }
}

impl BareMetal {
    pub(crate) fn fork_child(
        &self,
        exit_signal: i32,
        wait_exec: bool,
        make: &mut dyn FnMut(i32) -> SysResult<Box<dyn FnOnce() -> ProcessEnd + Send>>,
    ) -> SysResult<i32> {
        let parent = self.p();
        let child = procs::new_child(&parent, exit_signal)?;
        let pid = child.pid;
        // What `make` asks of the host (dispositions, memory) is the
        // child's.
        let parent = crate::task::set_current(child.clone());
        let run = make(pid);
        crate::task::set_current(parent);
        let run = match run {
            Ok(run) => run,
            Err(e) => {
                procs::discard(pid);
                return Err(e);
            }
        };
        crate::task::spawn(
            child,
            Box::new(move || {
                let end = run();
                let end = crate::host::global().follow_execs(end, true);
                procs::end(pid, end);
            }),
        );
        if wait_exec {
            let _ = self.block(None, || procs::execed_or_ended(pid));
        }
        Ok(pid)
    }

    pub(crate) fn vfork_child(&self, child: &mut dyn FnMut() -> ProcessEnd) -> SysResult<i32> {
        let parent = self.p();
        let cp = procs::new_child(&parent, procs::SIGCHLD)?;
        let pid = cp.pid;
        // The child runs here, on the parent's task, as its own process;
        // the parent goes on once it has exec'd or ended. Until then its
        // memory is the parent's (`/proc/<pid>/statm` shows it), and its
        // own starts with the image it execs.
        *cp.spaces.lock() = parent.spaces.lock().clone();
        let parent = crate::task::set_current(cp.clone());
        let end = child();
        crate::task::set_current(parent);
        cp.spaces.lock().clear();
        if cp.exec.lock().is_some() {
            crate::task::spawn(
                cp,
                Box::new(move || {
                    let end = crate::host::global().follow_execs(end, true);
                    procs::end(pid, end);
                }),
            );
        } else {
            self.report_end(end, true);
            procs::end(pid, end);
        }
        Ok(pid)
    }

    pub(crate) fn exec_request(&self, req: ExecRequest) -> Errno {
        if req.kind == ExecKind::Native {
            // No programs of the machine's own here: only RISC-V guests
            // from the ramdisk run.
            return Errno::ENOEXEC;
        }
        let p = self.p();
        procs::mark_exec(p.pid);
        *p.exec.lock() = Some(req);
        Errno::REPLACED
    }

    /// After an image's run loop ended as `end`: while it ended by
    /// `execve`, run the new image in its place. `quiet`: no one-line
    /// report of a death by a signal (the parent, a guest, sees it).
    /// Returns how the last image ended.
    pub fn follow_execs(&'static self, mut end: ProcessEnd, quiet: bool) -> ProcessEnd {
        let mut reported = false;
        loop {
            let p = self.p();
            let Some(req) = p.exec.lock().take() else {
                break;
            };
            p.fs.lock().close_on_exec();
            // Its other threads ended with the old image.
            p.threads.lock().clear();
            // An exec is a point where the other tasks get their turn:
            // an image that execs before its instruction budget runs out
            // (a chain of execs) would otherwise keep the one CPU to
            // itself, and a signal for it could never be sent in time.
            // What arrives meanwhile stays pending for the new image.
            crate::task::yield_now();
            reported = true;
            end = self.run_image(&req, quiet);
        }
        if !reported {
            self.report_end(end, quiet);
        }
        end
    }

    /// strace's `+++` line for an image the core built (a forked child).
    fn report_end(&self, end: ProcessEnd, _quiet: bool) {
        if !self.run().options.strace || self.p().exec.lock().is_some() {
            return;
        }
        match end {
            ProcessEnd::Exit(c) => self.log(format_args!("+++ exited with {} +++", c & 0xff)),
            ProcessEnd::Signal(s) => self.log(format_args!(
                "+++ killed by {} +++",
                vm_core::signal::name(s).unwrap_or("SIG?")
            )),
        }
    }

    /// Load and run `req`'s program as this process's new image.
    fn run_image(&'static self, req: &ExecRequest, quiet: bool) -> ProcessEnd {
        let argv: Vec<&[u8]> = req.argv.iter().map(|a| &a[..]).collect();
        let envp: Vec<&[u8]> = req.envp.iter().map(|e| &e[..]).collect();
        let mut exe_path = req.path.clone();
        if exe_path.first() != Some(&b'/') {
            let mut cwd = alloc::vec![0u8; 4096];
            if let Ok(n) = self.getcwd(&mut cwd) {
                cwd.truncate(n);
                if cwd.last() != Some(&b'/') {
                    cwd.push(b'/');
                }
                cwd.extend_from_slice(exe_path.strip_prefix(b"./").unwrap_or(&exe_path));
                exe_path = cwd;
            }
        }
        self.p().set_image(&exe_path, &argv);
        let run = self.run();
        let launch = Launch {
            program: &req.path,
            load_from: None,
            interp_from: None,
            argv: &argv,
            envp: &envp,
            sysroot: run.sysroot.as_deref(),
            exe_path,
            options: run.options.clone(),
            ignored: req.ignored,
            sigmask: req.sigmask,
        };
        let pending = req.pending;
        let host: &'static dyn HostOs = self;
        let r = vm_core::launch::launch(host, launch, |_| {
            // Pending signals survive execve.
            let p = self.p();
            let mut s = p.signals.lock();
            for signo in 1..=64 {
                if pending & (1u64 << (signo - 1)) != 0 {
                    s.raise(signo);
                }
            }
        });
        match r {
            Ok(ended) => {
                if self.p().exec.lock().is_some() {
                    // It exec'd again: the next image reports.
                    return ProcessEnd::Exit(0);
                }
                ended.report(&req.path, quiet);
                match ended.status {
                    vm_core::process::ExitStatus::Exited(c) => ProcessEnd::Exit(c),
                    vm_core::process::ExitStatus::Signaled(r) => ProcessEnd::Signal(r.signo),
                }
            }
            Err(e @ LaunchError::Load(..)) => {
                self.log(format_args!("pvm: {e}"));
                ProcessEnd::Exit(e.exit_code())
            }
            Err(e) => {
                self.log(format_args!("pvm: {e}"));
                ProcessEnd::Exit(e.exit_code())
            }
        }
    }

    pub(crate) fn wait_child(
        &self,
        which: Which,
        want: Want,
        nohang: bool,
    ) -> SysResult<Option<WaitInfo>> {
        let me = self.p().pid;
        loop {
            let seen = procs::changes();
            if let Some(w) = procs::try_wait(me, which, want)? {
                return Ok(Some(w));
            }
            if nohang {
                return Ok(None);
            }
            self.block(None, || procs::changes() != seen)?;
        }
    }
}
