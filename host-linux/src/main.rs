//! `pvm`: run a RISC-V 64 Linux program on an x86-64 Linux host.
//!
//! The flow: parse the command line ([`cli`]), reserve the guest address
//! space on the [`host::LinuxHost`], load the program (and its dynamic
//! linker) with `vm_core::loader`, run it with the chosen engine through
//! `vm_core::process`, then leave with the guest's exit status (or
//! 128 + signal number, after a one-line report, when a signal killed it;
//! a pvm whose parent is a guest dies of that signal instead, see
//! `host_linux::proc`).
//!
//! The host itself (`LinuxHost`, its fault handler, processes and
//! signals) is the `host_linux` library (`src/lib.rs`), which the fuzz
//! targets and tests use too.
//!
//! pvm's own failures exit with [`EXIT_INTERNAL`] after one line on stderr;
//! that includes a panic anywhere (see [`install_panic_hook`]).

mod cli;

use clap::Parser;
use cli::{Cli, EngineKind};
use host_linux::host::{LinuxHost, lossy};
use host_linux::{proc, report_signal, sandbox, signals, tree};
use std::os::unix::ffi::OsStrExt;
use std::time::Instant;
use vm_core::host::ProcessEnd;
use vm_core::loader::{self, LoadConfig};
use vm_core::memory::GuestMemory;
use vm_core::process::{Engine, ExitStatus, Options, Process, Thread};
use vm_core::signal;

/// The one host of this process.
static HOST: LinuxHost = LinuxHost::new();

/// Exit status for pvm's own failures (not the guest's).
const EXIT_INTERNAL: i32 = 125;

/// A panic is a pvm bug: say so in one line and exit with a defined status
/// instead of a backtrace (release builds abort on panic; the hook runs
/// first and exits cleanly).
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let msg = msg.replace('\n', " ");
        eprintln!("pvm: internal error: {msg}{at}");
        tree::leave();
        if proc::is_child() {
            // No exit handlers: a vfork child shares the parent's memory.
            proc::end_process(ProcessEnd::Exit(EXIT_INTERNAL));
        }
        std::process::exit(EXIT_INTERNAL);
    }));
}

fn main() {
    install_panic_hook();
    let cli = Cli::parse();
    match run(&cli) {
        ProcessEnd::Exit(code) if !proc::is_child() => {
            tree::leave();
            std::process::exit(code)
        }
        end => proc::end_process(end),
    }
}

/// Run the guest; how pvm must end. A pvm whose parent is a guest
/// ([`proc::is_child`]) dies of the signal that killed its guest; the
/// outermost one reports it and exits with 128 + signal, as a shell would.
fn run(cli: &Cli) -> ProcessEnd {
    if cli.guest_child {
        proc::mark_child();
    }
    proc::set_relaunch(cli.relaunch_options());
    let tree = match cli.limit_tree {
        Some(id) => tree::join(id),
        None if cli.needs_tree() => tree::create(tree::Config {
            max_processes: cli.process_limit(),
            timeout: cli.timeout,
        })
        .map(drop),
        None => Ok(()),
    };
    if let Err(e) = tree {
        eprintln!("pvm: {e}");
        return ProcessEnd::Exit(EXIT_INTERNAL);
    }
    let code = run_guest(cli);
    // A limit the tree hit decides how every process of it ends.
    if let Some(status) = tree::hit_status() {
        return ProcessEnd::Exit(status);
    }
    match code {
        Err(code) => ProcessEnd::Exit(code),
        Ok(end) => end,
    }
}

/// `--sandbox`: the places the guest may reach (see `sandbox`).
fn sandbox_places(cli: &cli::Cli, sysroot: Option<&std::path::Path>) -> Vec<sandbox::Allow> {
    let allow = |p: &std::path::Path, write: bool, optional: bool| sandbox::Allow {
        path: p.to_path_buf(),
        write,
        optional,
    };
    let mut v: Vec<sandbox::Allow> = Vec::new();
    v.extend(cli.allow_read.iter().map(|d| allow(d, false, false)));
    v.extend(cli.allow_write.iter().map(|d| allow(d, true, false)));
    if let Some(s) = sysroot {
        v.push(allow(s, false, true));
    }
    let program = HOST.map(cli.program().as_encoded_bytes()).into_owned();
    v.push(allow(
        std::path::Path::new(std::ffi::OsStr::from_bytes(&program)),
        false,
        true,
    ));
    for d in ["/dev/null", "/dev/zero", "/dev/full"] {
        v.push(allow(d.as_ref(), true, true));
    }
    for d in ["/dev/random", "/dev/urandom"] {
        v.push(allow(d.as_ref(), false, true));
    }
    v
}

/// `--sandbox`, after loading and before the first guest instruction:
/// Landlock and seccomp on pvm itself (once per tree: a pvm started by a
/// guest's `execve` inherits both). Says so when the kernel cannot.
fn harden(cli: &cli::Cli) {
    let mut report = Vec::new();
    if cli.limit_tree.is_none()
        && let Some(sb) = sandbox::get()
    {
        report.push(sandbox::landlock(sb));
    }
    if !sandbox::seccomp_active() {
        report.push(sandbox::seccomp(cli.allow_net));
    }
    for (full, what) in report {
        if !full {
            eprintln!("pvm: --sandbox: {what}; pvm's own checks still apply");
        } else if cli.strace {
            eprintln!("pvm: --sandbox: {what}");
        }
    }
}

/// Load and run the guest: `Err` with pvm's exit status when it cannot.
fn run_guest(cli: &Cli) -> Result<ProcessEnd, i32> {
    let program = cli.program().as_encoded_bytes();
    let shown = lossy(program);
    let mem = match GuestMemory::new(&HOST, loader::ADDRESS_SPACE_SIZE) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("pvm: cannot reserve the guest address space: {e}");
            return Err(EXIT_INTERNAL);
        }
    };
    let argv0 = cli.argv0.as_ref().map_or(program, |a| a.as_encoded_bytes());
    let mut argv: Vec<&[u8]> = vec![argv0];
    argv.extend(cli.args().iter().map(|a| a.as_encoded_bytes()));
    let env = cli.environment(std::env::vars_os().map(|(k, v)| {
        let mut e = k.into_encoded_bytes();
        e.push(b'=');
        e.extend_from_slice(v.as_encoded_bytes());
        e
    }));
    let envp: Vec<&[u8]> = env.iter().map(|e| &e[..]).collect();
    let sysroot = cli.sysroot();
    if let Some(s) = &sysroot {
        HOST.set_sysroot(s.as_os_str().as_encoded_bytes());
    }
    if cli.sandbox {
        if let Err(e) = sandbox::install(&sandbox_places(cli, sysroot.as_deref()), cli.allow_net) {
            eprintln!("pvm: --sandbox: {e}");
            return Err(EXIT_INTERNAL);
        }
        if cli.strace
            && let Some(sb) = sandbox::get()
        {
            for l in sb.describe() {
                eprintln!("pvm: --sandbox: {l}");
            }
        }
    }
    if let Some(n) = cli.max_open_files
        && let Err(e) = HOST.set_nofile_cap(n)
    {
        eprintln!("pvm: --max-open-files {n}: {e}");
        return Err(EXIT_INTERNAL);
    }
    let cfg = LoadConfig {
        path: program,
        argv: &argv,
        envp: &envp,
        sysroot: sysroot.as_ref().map(|s| s.as_os_str().as_encoded_bytes()),
        execfn: program,
    };
    let loaded = match loader::load(&mem, &cfg) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("pvm: {shown}: {e}");
            return Err(e.exit_code());
        }
    };
    // /proc/self/exe: the program's absolute path, symlinks resolved, as
    // the kernel reports it (of the file loaded: the sysroot's, if there).
    let loaded_path = std::ffi::OsStr::from_bytes(&HOST.map(program)).to_os_string();
    let exe_path = std::fs::canonicalize(loaded_path)
        .map(|p| p.into_os_string().into_encoded_bytes())
        .unwrap_or_else(|_| program.to_vec());
    let engine_kind = match cli.engine {
        EngineKind::Interp => vm_core::process::EngineKind::Interp,
        EngineKind::Jit => vm_core::process::EngineKind::Jit {
            cache_size: cli.code_cache_size,
        },
    };
    let options = Options {
        strace: cli.strace,
        engine: engine_kind,
        limits: vm_core::limits::Limits {
            max_memory: cli.max_memory.map(|v| v as u64),
            max_instructions: cli.max_instructions,
            max_output: cli.max_output.map(|v| v as u64),
        },
        policy: vm_core::limits::Policy {
            sandbox: cli.sandbox,
            allow_net: cli.allow_net,
        },
    };
    signals::install_kick();
    if cli.threads == cli::Threads::One {
        HOST.set_one_thread();
    }
    let process = Process::new(&HOST, mem, exe_path, options);
    // What execve keeps: ignored signals stay ignored (those pvm inherited
    // as ignored, and those a guest that exec'd this pvm ignored), and the
    // mask pvm started with is the guest's. Only now, with pvm's handlers
    // in place, may the host deliver signals that were blocked.
    let ignored = signals::inherited_ignored() | cli.ignored_signals.unwrap_or(0);
    for signo in 1..=signal::NSIG {
        if ignored & signal::bit(signo) != 0 && signo != signal::SIGKILL && signo != signal::SIGSTOP
        {
            process.signals.lock().actions[(signo - 1) as usize].handler = signal::SIG_IGN;
            signal::sync_host(&process, signo);
        }
    }
    let mut thread = Thread {
        tid: vm_core::host::HostOs::gettid(&HOST),
        sigmask: signals::initial_mask() & !signal::UNBLOCKABLE,
        ..Default::default()
    };
    if cli.sandbox {
        harden(cli);
    }
    tree::start_watchdog(Some(program));
    signals::unblock_all();
    thread.cpu.pc = loaded.entry;
    thread.cpu.x[2] = loaded.sp;
    let mut engine: Box<dyn Engine + Send> = match process.engine() {
        Ok(e) => e,
        Err(e) => {
            eprintln!(
                "pvm: cannot start the translator with a {}-byte code cache: {e}",
                cli.code_cache_size
            );
            return Err(EXIT_INTERNAL);
        }
    };
    // The standard descriptors the guest that exec'd this pvm had closed:
    // closed again (the Rust runtime put /dev/null there), now that pvm's
    // own files are open.
    for fd in 0..3 {
        if cli.closed_fds.unwrap_or(0) & 1 << fd != 0 {
            // SAFETY: closing a descriptor pvm does not use itself.
            unsafe { libc::close(fd) };
        }
    }
    let start = Instant::now();
    let status = process.run(&mut thread, engine.as_mut());
    let wall = start.elapsed();
    let killed = match status {
        ExitStatus::Signaled(r) => Some(r),
        ExitStatus::Exited(_) => None,
    };
    if cli.strace {
        match &killed {
            Some(r) => eprintln!(
                "+++ killed by {} +++",
                signal::name(r.signo).unwrap_or("SIG?")
            ),
            None => eprintln!("+++ exited with {} +++", status.code()),
        }
    }
    if cli.stats {
        print_stats(&process, &thread, engine.as_ref(), wall);
    }
    Ok(match killed {
        // The parent (a shell) reports it, as for a native process.
        Some(r) if proc::is_child() => ProcessEnd::Signal(r.signo),
        Some(r) => {
            report_signal(&shown, &r);
            ProcessEnd::Exit(128 + r.signo)
        }
        None => ProcessEnd::Exit(status.code()),
    })
}

fn print_stats(process: &Process, thread: &Thread, engine: &dyn Engine, wall: std::time::Duration) {
    let insts = thread.cpu.instret;
    let secs = wall.as_secs_f64();
    let mips = if secs > 0.0 {
        insts as f64 / secs / 1e6
    } else {
        0.0
    };
    let syscalls = process
        .stats
        .syscalls
        .load(std::sync::atomic::Ordering::Relaxed);
    eprintln!("pvm: instructions retired: {insts}");
    eprintln!("pvm: wall time: {secs:.3} s");
    eprintln!("pvm: MIPS: {mips:.1}");
    eprintln!("pvm: syscalls: {syscalls}");
    for (name, value) in engine.stats() {
        eprintln!("pvm: {name}: {value}");
    }
}
