//! The one launch path both hosts take: reserve the guest address space,
//! load the program (and its dynamic linker), build the [`Process`] and
//! its first [`Thread`], make the engine [`Options::engine`] names, run
//! the process to its end, and report that end as pvm does (strace's
//! `+++` line, the one-line "guest terminated by signal" report, the exit
//! status a shell would see).
//!
//! What differs between hosts comes in as data ([`Launch`]: the program's
//! `/proc/self/exe` path, the signals ignored and blocked at start) or as
//! the `ready` hook, which runs once the process exists and before it
//! runs (the Linux host unblocks its own signals there).

use crate::host::{Errno, HostOs};
use crate::loader::{self, LoadConfig, LoadError};
use crate::process::{Engine, EngineKind, ExitStatus, Options, Process, Thread};
use crate::signal::{self, Report};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

/// Exit status for failures of pvm itself (not the guest's), on both hosts.
pub const EXIT_INTERNAL: i32 = 125;

/// What to run and how.
#[derive(Clone, Debug)]
pub struct Launch<'a> {
    /// The program as the user named it.
    pub program: &'a [u8],
    /// Where the program is loaded from, when not from `program` (a host
    /// that holds the file already, as the descriptor an `execve` checked).
    pub load_from: Option<&'a [u8]>,
    /// Where its interpreter (`PT_INTERP`) is loaded from, when not from
    /// the name the program gives (the descriptor an `execve` checked).
    pub interp_from: Option<&'a [u8]>,
    /// The guest's `argv` (`argv[0]` included) and environment.
    pub argv: &'a [&'a [u8]],
    pub envp: &'a [&'a [u8]],
    /// Root for the dynamic linker and its libraries.
    pub sysroot: Option<&'a [u8]>,
    /// Absolute path of the program (`/proc/self/exe`).
    pub exe_path: Vec<u8>,
    pub options: Options,
    /// Signals ignored at start (what `execve` keeps), bit `n-1` for `n`.
    pub ignored: u64,
    /// The first thread's signal mask.
    pub sigmask: u64,
}

/// Why a launch failed before the guest ran.
#[derive(Debug)]
pub enum LaunchError {
    /// The guest address space could not be reserved.
    Reserve(Errno),
    /// The program could not be loaded (the program's name, the error).
    Load(String, LoadError),
    /// The engine could not be made (a translator's code cache of this
    /// many bytes, or the interpreter).
    Engine(Errno, Option<usize>),
}

impl LaunchError {
    /// pvm's exit status for this failure: 127 or 126 for a program that
    /// is missing or not runnable, as a shell reports them;
    /// [`EXIT_INTERNAL`] for pvm's own failures.
    pub fn exit_code(&self) -> i32 {
        match self {
            LaunchError::Load(_, e) => e.exit_code(),
            LaunchError::Reserve(_) | LaunchError::Engine(..) => EXIT_INTERNAL,
        }
    }
}

impl fmt::Display for LaunchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LaunchError::Reserve(e) => write!(f, "cannot reserve the guest address space: {e}"),
            LaunchError::Load(program, e) => write!(f, "{program}: {e}"),
            LaunchError::Engine(e, Some(size)) => write!(
                f,
                "cannot start the translator with a {size}-byte code cache: {e}"
            ),
            LaunchError::Engine(e, None) => write!(f, "cannot start the engine: {e}"),
        }
    }
}

/// A process that ran to its end.
pub struct Ended {
    pub process: Arc<Process>,
    /// The first thread, as it was when the process ended.
    pub thread: Thread,
    /// The first thread's engine (for `--stats`).
    pub engine: Box<dyn Engine + Send>,
    pub status: ExitStatus,
    /// Monotonic nanoseconds from the start of the guest to its end.
    pub wall_ns: u64,
}

impl fmt::Debug for Ended {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ended")
            .field("status", &self.status)
            .field("wall_ns", &self.wall_ns)
            .finish_non_exhaustive()
    }
}

/// The host's monotonic clock in nanoseconds (0 where the host has none).
pub(crate) fn monotonic_ns(host: &dyn HostOs) -> u64 {
    host.clock_gettime(1)
        .map(|t| (t.sec as u64).wrapping_mul(1_000_000_000) + t.nsec as u64)
        .unwrap_or(0)
}

/// Reserve, load, build the process, make its engine and run it to its
/// end. `ready` runs once the process exists (its signal dispositions told
/// to the host), just before the guest's first instruction.
pub fn launch(
    host: &'static dyn HostOs,
    l: Launch<'_>,
    ready: impl FnOnce(&Process),
) -> Result<Ended, LaunchError> {
    let size = l
        .options
        .address_space
        .unwrap_or(loader::ADDRESS_SPACE_SIZE);
    let mem = crate::memory::GuestMemory::new(host, size).map_err(LaunchError::Reserve)?;
    let cfg = LoadConfig {
        path: l.load_from.unwrap_or(l.program),
        argv: l.argv,
        envp: l.envp,
        sysroot: l.sysroot,
        execfn: l.program,
        interp_from: l.interp_from,
    };
    let loaded = loader::load(&mem, &cfg)
        .map_err(|e| LaunchError::Load(String::from_utf8_lossy(l.program).into_owned(), e))?;
    let cache_size = match l.options.engine {
        EngineKind::Jit { cache_size } => Some(cache_size),
        EngineKind::Interp => None,
    };
    let process = Process::new(host, mem, l.exe_path, l.options);
    for signo in 1..=signal::NSIG {
        if l.ignored & signal::bit(signo) != 0 && signal::UNBLOCKABLE & signal::bit(signo) == 0 {
            process.signals.lock().actions[(signo - 1) as usize].handler = signal::SIG_IGN;
            signal::sync_host(&process, signo);
        }
    }
    let mut thread = Thread {
        tid: host.gettid(),
        sigmask: l.sigmask & !signal::UNBLOCKABLE,
        ..Default::default()
    };
    thread.cpu.pc = loaded.entry;
    thread.cpu.x[2] = loaded.sp;
    // Every guest thread gets an engine of this kind (the translator's
    // share one code cache).
    let mut engine = process
        .engine()
        .map_err(|e| LaunchError::Engine(e, cache_size))?;
    ready(&process);
    // No thread of this image waits in a parked `semop`, and it has no
    // POSIX timer (a program this process ran before may have had some):
    // the counts the other processes see start from this image's.
    host.publish_sem_waits(&[]);
    signal::publish_total(&process, &thread);
    let start = monotonic_ns(host);
    let status = process.run(&mut thread, engine.as_mut());
    let wall_ns = monotonic_ns(host).saturating_sub(start);
    Ok(Ended {
        process,
        thread,
        engine,
        status,
        wall_ns,
    })
}

/// The one-line report of a guest killed by a signal.
pub fn signal_line(program: &[u8], r: &Report) -> String {
    let mut line = alloc::format!(
        "pvm: {}: guest terminated by signal {} ({}) at pc {:#x}",
        String::from_utf8_lossy(program),
        signal::name(r.signo).unwrap_or("SIG?"),
        signal::description(r.signo),
        r.pc
    );
    if let Some(a) = r.addr {
        line.push_str(&alloc::format!(" fault address {a:#x}"));
    }
    line
}

impl Ended {
    /// Report the end on the host's log as pvm does: with `--strace`,
    /// strace's `+++ exited with N +++` or `+++ killed by SIG +++`; for a
    /// guest a crash killed (a signal whose default dumps core:
    /// `SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGABRT`...), the [`signal_line`]
    /// unless `quiet` (the parent, a guest, sees the signal itself). A
    /// guest that `SIGPIPE`, `SIGTERM`, `SIGINT` or another terminating
    /// signal ended gets no line, as a native process (`yes | head` says
    /// nothing). Returns the status a shell would report (the exit code,
    /// or 128 + signal).
    pub fn report(&self, program: &[u8], quiet: bool) -> i32 {
        let host = self.process.host;
        if self.process.options.strace {
            match &self.status {
                ExitStatus::Signaled(r) => host.log(format_args!(
                    "+++ killed by {} +++",
                    signal::name(r.signo).unwrap_or("SIG?")
                )),
                ExitStatus::Exited(_) => {
                    host.log(format_args!("+++ exited with {} +++", self.status.code()))
                }
            }
        }
        if let ExitStatus::Signaled(r) = &self.status
            && !quiet
            && signal::dumps_core(r.signo)
        {
            host.log(format_args!("{}", signal_line(program, r)));
        }
        self.status.code()
    }
}
