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

mod binfmt;
mod cli;
mod gdb;

use clap::Parser;
use cli::{Cli, EngineKind};
use host_linux::host::LinuxHost;
use host_linux::{proc, profile_file, profiler, sandbox, signals, tree};
use std::os::unix::ffi::OsStrExt;
use vm_core::host::ProcessEnd;
use vm_core::launch::{Ended, Launch};
use vm_core::process::{ExitStatus, Options};

/// The one host of this process.
static HOST: LinuxHost = LinuxHost::new();

/// Exit status for pvm's own failures (not the guest's).
const EXIT_INTERNAL: i32 = vm_core::launch::EXIT_INTERNAL;

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
    // SAFETY: getauxval only reads the auxv the kernel gave this process.
    let at_flags = unsafe { libc::getauxval(libc::AT_FLAGS) };
    // Started by binfmt_misc with `P`: `pvm PATH ARGV0 ARGS...`.
    let args = binfmt::launch_args(at_flags, std::env::args_os().collect());
    // pvm's own commands: only as the first word, exactly (a program of
    // that name runs as ./NAME).
    match args.get(1).and_then(|a| a.to_str()) {
        Some("completions") => std::process::exit(completions(&args[2..])),
        Some("binfmt") => std::process::exit(binfmt::main(&args[2..])),
        Some("report") => std::process::exit(report(&args[2..])),
        _ => {}
    }
    let args = cli::qemu_spellings(args);
    if cli::wants_cpu_help(&args) {
        println!("{}", cli::cpu_help());
        return;
    }
    let cli = Cli::parse_from(args);
    match run(&cli) {
        ProcessEnd::Exit(code) if !proc::is_child() => {
            tree::leave();
            std::process::exit(code)
        }
        end => proc::end_process(end),
    }
}

/// `pvm completions bash|zsh|fish`: the shell's completion script for
/// pvm's options, on stdout.
fn completions(args: &[std::ffi::OsString]) -> i32 {
    use clap::CommandFactory;
    use clap_complete::Shell;
    let shell = match args.iter().map(|a| a.to_str()).collect::<Vec<_>>()[..] {
        [Some("bash")] => Shell::Bash,
        [Some("zsh")] => Shell::Zsh,
        [Some("fish")] => Shell::Fish,
        _ => {
            eprintln!("usage: pvm completions bash|zsh|fish");
            return 2;
        }
    };
    clap_complete::generate(shell, &mut Cli::command(), "pvm", &mut std::io::stdout());
    0
}

/// `pvm report FILE [--top N]`: print a `--profile` file as tables.
/// Exit status 0, 1 when the file cannot be read or is not a profile
/// (after one line on stderr), 2 for a usage error.
fn report(args: &[std::ffi::OsString]) -> i32 {
    const USAGE: &str = "usage: pvm report FILE [--top N] [--block ADDR]";
    let mut file = None;
    let mut top = 20;
    let mut block = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.to_str() {
            Some("--top") => match it.next().and_then(|n| n.to_str()?.parse().ok()) {
                Some(n) => top = n,
                None => {
                    eprintln!("{USAGE}");
                    return 2;
                }
            },
            Some("--block") => {
                let addr = it.next().and_then(|a| {
                    let a = a.to_str()?;
                    let hex = a.strip_prefix("0x").or_else(|| a.strip_prefix("0X"))?;
                    u64::from_str_radix(hex, 16).ok()
                });
                match addr {
                    Some(a) => block = Some(a),
                    None => {
                        eprintln!("{USAGE} (ADDR in hex, 0x...)");
                        return 2;
                    }
                }
            }
            Some("-h" | "--help") => {
                println!("{USAGE}");
                return 0;
            }
            _ if file.is_none() => file = Some(std::path::PathBuf::from(a)),
            _ => {
                eprintln!("{USAGE}");
                return 2;
            }
        }
    }
    let Some(file) = file else {
        eprintln!("{USAGE}");
        return 2;
    };
    let text = match std::fs::read(&file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("pvm: report: {}: {e}", file.display());
            return 1;
        }
    };
    let profile = std::str::from_utf8(&text)
        .map_err(|_| "not a pvm profile (not UTF-8 text)".to_string())
        .and_then(profile_file::Profile::from_json);
    match profile {
        Ok(p) => match block.map(|a| profile_file::render_block(&p, a)) {
            None => {
                print!("{}", profile_file::render(&p, top));
                0
            }
            Some(Ok(text)) => {
                print!("{text}");
                0
            }
            Some(Err(e)) => {
                eprintln!("pvm: report: {e}");
                1
            }
        },
        Err(e) => {
            eprintln!("pvm: report: {}: {e}", file.display());
            1
        }
    }
}

/// `--profile`: write what the run learned to `path` (`-`: the report on
/// stderr). Only the process that started profiling writes.
fn write_profile(cli: &Cli, ended: &Ended, path: &std::path::Path) {
    if !profiler::is_owner() {
        return;
    }
    profiler::disarm_thread();
    let engine = match cli.engine {
        EngineKind::Jit => "jit",
        EngineKind::Interp => "interp",
    };
    let host_path = |p: &[u8]| {
        std::path::PathBuf::from(std::ffi::OsStr::from_bytes(&HOST.map(p)).to_os_string())
    };
    let program = cli.program().to_string_lossy();
    let p = profile_file::collect(ended, &program, engine, &host_path);
    if path.as_os_str() == "-" {
        eprint!("{}", profile_file::render(&p, 10));
    } else if let Err(e) = std::fs::write(path, p.to_json()) {
        eprintln!("pvm: --profile {}: {e}", path.display());
    }
}

/// Run the guest; how pvm must end. A pvm whose parent is a guest
/// ([`proc::is_child`]) dies of the signal that killed its guest; the
/// outermost one reports it and exits with 128 + signal, as a shell would.
fn run(cli: &Cli) -> ProcessEnd {
    if cli.guest_child {
        proc::mark_child();
    }
    if let Some(f) = &cli.log_file
        && let Err(e) = host_linux::logging::set_file(f, cli.guest_child)
    {
        eprintln!("pvm: -D {}: {e}", f.display());
        return ProcessEnd::Exit(EXIT_INTERNAL);
    }
    if let Some(items) = cli.log {
        vm_core::log::enable(items);
    }
    proc::set_relaunch(cli.relaunch_options());
    let tree = match cli.limit_tree {
        // A guest that became another user before its execve (setresuid,
        // as Python's subprocess `user=` does) cannot attach the segment,
        // which is its first user's (mode 0600). A tree without limits
        // goes on without it, as when it cannot be made (below); a tree
        // with limits must keep them, so there it stays an error.
        Some(id) => match tree::join(id) {
            Err(_) if !cli.needs_tree() => Ok(()),
            r => r,
        },
        // Every tree has its shared table: for its limits, for the guest
        // threads that take turns on one host thread, and for the
        // requests its processes make for each other's /proc files
        // (`peer`). Without limits a tree can do without it (those
        // files are then the host's, or refused).
        None => match tree::create(tree::Config {
            max_processes: cli.process_limit(),
            timeout: cli.timeout,
            limited: cli.needs_tree(),
        }) {
            Err(_) if !cli.needs_tree() => Ok(()),
            r => r.map(drop),
        },
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
fn sandbox_places(
    cli: &cli::Cli,
    sysroot: Option<&std::path::Path>,
    held: Option<i32>,
    held_interp: Option<i32>,
) -> Vec<sandbox::Allow> {
    let allow = |p: &std::path::Path, write: bool, optional: bool| sandbox::Allow {
        path: p.to_path_buf(),
        write,
        optional,
        held: None,
    };
    let mut v: Vec<sandbox::Allow> = Vec::new();
    v.extend(cli.allow_read.iter().map(|d| allow(d, false, false)));
    v.extend(cli.allow_write.iter().map(|d| allow(d, true, false)));
    if let Some(s) = sysroot {
        v.push(allow(s, false, true));
    }
    match held {
        // The file the exec'ing pvm checked (`--program-fd`), whatever its
        // name names now.
        // It is reached by the name the guest gave too.
        Some(fd) => v.push(sandbox::Allow {
            path: std::path::Path::new(std::ffi::OsStr::from_bytes(
                &HOST.map(cli.program().as_encoded_bytes()),
            ))
            .to_path_buf(),
            write: false,
            optional: false,
            held: Some(fd),
        }),
        None => {
            let program = HOST.map(cli.program().as_encoded_bytes()).into_owned();
            v.push(allow(
                std::path::Path::new(std::ffi::OsStr::from_bytes(&program)),
                false,
                true,
            ));
        }
    }
    if let Some(fd) = held_interp {
        // The dynamic linker the exec'ing pvm checked (`--interp-fd`).
        v.push(sandbox::Allow {
            path: format!("/proc/self/fd/{fd}").into(),
            write: false,
            optional: false,
            held: Some(fd),
        });
    }
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

/// Load and run the guest (`vm_core::launch`): `Err` with pvm's exit
/// status when it cannot.
fn run_guest(cli: &Cli) -> Result<ProcessEnd, i32> {
    let program = cli.program().as_encoded_bytes();
    let argv0 = cli.argv0.as_ref().map_or(program, |a| a.as_encoded_bytes());
    let mut argv: Vec<&[u8]> = vec![argv0];
    argv.extend(cli.args().iter().map(|a| a.as_encoded_bytes()));
    // PVM_GDB is for this pvm only: a program the guest execs must not
    // wait for a debugger too.
    let env = cli.environment(
        std::env::vars_os()
            .filter(|(k, _)| k != "PVM_GDB")
            .map(|(k, v)| {
                let mut e = k.into_encoded_bytes();
                e.push(b'=');
                e.extend_from_slice(v.as_encoded_bytes());
                e
            }),
    );
    let envp: Vec<&[u8]> = env.iter().map(|e| &e[..]).collect();
    let sysroot = cli.sysroot();
    if let Some(s) = &sysroot {
        HOST.set_sysroot(s.as_os_str().as_encoded_bytes());
    }
    // `--program-fd` (the program) and `--interp-fd` (its dynamic linker),
    // open: moved out of the guest's way, loaded from, and kept only
    // under --sandbox (else closed once loaded, below).
    let hold = |fd: Option<i32>| {
        fd.and_then(|fd| {
            let high = host_linux::fdrange::move_high(fd);
            if high != fd || !cli.sandbox {
                return Some(high);
            }
            // SAFETY: the descriptor was handed to this pvm for the
            // program or its interpreter, and nothing else uses it.
            unsafe { libc::close(high) };
            None
        })
    };
    let held = hold(cli.program_fd);
    let held_path = held.map(|fd| format!("/proc/self/fd/{fd}").into_bytes());
    let held_interp = hold(cli.interp_fd);
    let interp_path = held_interp.map(|fd| format!("/proc/self/fd/{fd}").into_bytes());
    if cli.sandbox {
        let places = sandbox_places(cli, sysroot.as_deref(), held, held_interp);
        if let Err(e) = sandbox::install(&places, cli.allow_net) {
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
    // /proc/self/exe: the program's absolute path, symlinks resolved, as
    // the kernel reports it (of the file loaded: the sysroot's, if there).
    let loaded_path = match &held_path {
        Some(p) => std::ffi::OsStr::from_bytes(p).to_os_string(),
        None => std::ffi::OsStr::from_bytes(&HOST.map(program)).to_os_string(),
    };
    let exe_path = std::fs::canonicalize(loaded_path)
        .map(|p| p.into_os_string().into_encoded_bytes())
        .unwrap_or_else(|_| program.to_vec());
    // `jit_indirect_hits` costs a memory increment at every hit.
    vm_core::translate::set_count_indirect(cli.stats);
    vm_core::cache::set_default_policy(match cli.code_cache_policy {
        cli::CachePolicy::Fifo => vm_core::cache::CachePolicy::Fifo,
        cli::CachePolicy::Flush => vm_core::cache::CachePolicy::Flush,
    });
    let engine = match cli.engine {
        EngineKind::Interp => vm_core::process::EngineKind::Interp,
        EngineKind::Jit => vm_core::process::EngineKind::Jit {
            cache_size: cli.code_cache_size,
        },
    };
    signals::install_kick();
    signals::install_host_kept();
    if cli.profile.is_some()
        && let Err(e) = profiler::enable()
    {
        eprintln!("pvm: --profile: {e}");
        return Err(EXIT_INTERNAL);
    }
    let gdb_at = match cli.gdb.as_deref().map(gdb::Listen::parse).transpose() {
        Ok(g) => g,
        Err(e) => {
            eprintln!("pvm: --gdb: {e}");
            return Err(EXIT_INTERNAL);
        }
    };
    // A guest under gdb exec'd this pvm: it takes the connection over.
    let handover = match cli
        .gdb_handover
        .as_deref()
        .map(gdb::Handover::take)
        .transpose()
    {
        Ok(h) => h,
        Err(e) => {
            eprintln!("pvm: --gdb-handover: {e}");
            return Err(EXIT_INTERNAL);
        }
    };
    if cli.threads == cli::Threads::One || gdb_at.is_some() || handover.is_some() {
        // Under a debugger every guest thread takes turns on this one, so
        // a stop stops them all.
        HOST.set_one_thread();
    }
    // pvm waits for the debugger before the guest's first instruction.
    let conn = match &gdb_at {
        None => None,
        Some(at) => match gdb::accept(at) {
            Ok(conn) => Some(conn),
            Err(e) => {
                eprintln!("pvm: gdb: {e}");
                return Err(EXIT_INTERNAL);
            }
        },
    };
    let stub = match (conn, handover) {
        (Some(c), _) => Some(gdb::Stub::new(c, exe_path.clone())),
        (None, Some((h, c))) => Some(gdb::Stub::handed_over(h, c, exe_path.clone())),
        (None, None) => None,
    };
    if let Some(s) = &stub {
        s.watch_exec();
    }
    let launch = Launch {
        program,
        load_from: held_path.as_deref(),
        interp_from: interp_path.as_deref(),
        argv: &argv,
        envp: &envp,
        sysroot: sysroot.as_ref().map(|s| s.as_os_str().as_encoded_bytes()),
        exe_path,
        options: Options {
            strace: cli.strace || vm_core::log::on(vm_core::log::STRACE),
            engine,
            limits: vm_core::limits::Limits {
                max_memory: cli.max_memory.map(|v| v as u64),
                max_instructions: cli.max_instructions,
                max_output: cli.max_output.map(|v| v as u64),
            },
            policy: vm_core::limits::Policy {
                sandbox: cli.sandbox,
                allow_net: cli.allow_net,
            },
            address_space: cli.address_space,
        },
        // What execve keeps: ignored signals stay ignored (those pvm
        // inherited as ignored, and those a guest that exec'd this pvm
        // ignored), and the mask is the guest's: the one a pvm that exec'd
        // this one names, or else the one pvm started with.
        ignored: signals::inherited_ignored() | cli.ignored_signals.unwrap_or(0),
        sigmask: cli.signal_mask.unwrap_or_else(signals::initial_mask),
    };
    // Only once the process exists, with pvm's handlers in place, may the
    // host deliver signals that were blocked.
    let ended = vm_core::launch::launch(&HOST, launch, |process| {
        if let Some(stub) = &stub {
            process.attach_debugger(vm_core::debug::Debugger::new(stub.hook()));
        }
        // Loaded, and before the first guest instruction: the host's own
        // defences, then the limits' watchdog.
        if cli.sandbox {
            harden(cli);
        } else {
            // The files loaded from `--program-fd` and `--interp-fd`
            // (handed over by a pvm with descriptors of its own, a GDB
            // stub's): not the guest's, and no longer needed.
            for fd in held.into_iter().chain(held_interp) {
                // SAFETY: the descriptor was handed to this pvm for
                // loading, which is over; nothing else uses it.
                unsafe { libc::close(fd) };
            }
        }
        tree::start_watchdog(Some(program));
        host_linux::peer::start_server(Some(process));
        // After the first thread pvm makes (the server's, if any), which
        // installs the C library's handlers that these keep.
        signals::install_libc_kept();
        signals::unblock_all();
        // The standard descriptors the guest that exec'd this pvm had
        // closed: closed again (the Rust runtime put /dev/null there),
        // now that pvm's own files are open.
        for fd in 0..3 {
            if cli.closed_fds.unwrap_or(0) & 1 << fd != 0 {
                // SAFETY: closing a descriptor pvm does not use itself.
                unsafe { libc::close(fd) };
            }
        }
    })
    .map_err(|e| {
        eprintln!("pvm: {e}");
        // gdb waits for a stop (an exec'd program that cannot load): the
        // end, with pvm's status.
        if let Some(stub) = &stub {
            stub.exited(&ExitStatus::Exited(e.exit_code()));
        }
        e.exit_code()
    })?;
    if let Some(stub) = &stub {
        stub.exited(&ended.status);
    }
    // A pvm whose parent is a guest dies of its guest's signal, silently:
    // the parent (a shell) reports it, as for a native process. The first
    // pvm of a tree reports a crash in one line first.
    let code = ended.report(program, proc::is_child());
    if cli.stats {
        print_stats(&ended);
    }
    if let Some(path) = &cli.profile {
        write_profile(cli, &ended, path);
    }
    // Every pvm ends as its guest did: killed by a signal, it dies of that
    // signal (core dumps off), so that its parent's `wait` sees
    // `WIFSIGNALED` as for the native program (a shell's `$?` is 128 +
    // signal either way; Python's `returncode` is minus the signal).
    let end = match ended.status {
        ExitStatus::Signaled(r) => ProcessEnd::Signal(r.signo),
        _ => ProcessEnd::Exit(code),
    };
    // pvm exits next (`main`): the guest's memory, the code cache and the
    // engine's tables go with the process. Dropping them first unmapped
    // each (with the server thread alive, each unmapping also flushes its
    // CPU's TLB), which was about a twentieth of a static hello world's
    // time; their drops have no effect outside this process.
    std::mem::forget(ended);
    Ok(end)
}

fn print_stats(ended: &Ended) {
    let insts = ended.thread.cpu.instret;
    let secs = ended.wall_ns as f64 / 1e9;
    let mips = if secs > 0.0 {
        insts as f64 / secs / 1e6
    } else {
        0.0
    };
    let syscalls = ended
        .process
        .stats
        .syscalls
        .load(std::sync::atomic::Ordering::Relaxed);
    eprintln!("pvm: instructions retired: {insts}");
    eprintln!("pvm: wall time: {secs:.3} s");
    eprintln!("pvm: MIPS: {mips:.1}");
    eprintln!("pvm: syscalls: {syscalls}");
    for (name, value) in ended.engine.stats() {
        eprintln!("pvm: {name}: {value}");
    }
}
