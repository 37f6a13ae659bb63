//! The `pvm` command line: `pvm [OPTIONS] PROGRAM [ARGS]...`.
//!
//! Option parsing stops at PROGRAM, so everything after it (`-l`, `--help`)
//! belongs to the guest.
//!
//! As for qemu-user, a binfmt_misc launch gets no options, so the options
//! that matter there have environment equivalents (`PVM_SYSROOT`,
//! `PVM_ENGINE`, `PVM_STRACE`, `PVM_LOG`, `PVM_LOG_FILE`, `PVM_GDB`,
//! `PVM_CPU`, `PVM_CODE_CACHE_SIZE`, `PVM_CODE_CACHE_POLICY`,
//! `PVM_THREADS`, `PVM_STATS`, `PVM_PROFILE`, `PVM_SET_ENV` and
//! `PVM_UNSET_ENV` for `-E`/`-U`, `PVM_SANDBOX`, `PVM_ALLOW_NET` and the
//! limits `PVM_MAX_MEMORY`, `PVM_MAX_INSTRUCTIONS`, `PVM_TIMEOUT`,
//! `PVM_MAX_OPEN_FILES`, `PVM_MAX_PROCESSES`, `PVM_MAX_OUTPUT`); the
//! command line wins. Not `-0` (every program the guest execs would get
//! that argv[0]) nor the `--allow-read`/`--allow-write` lists.
//! qemu's single-dash spellings `-cpu`, `-strace`, `-version` and `-help`
//! are taken before PROGRAM too ([`qemu_spellings`]).

use clap::{ArgAction, Parser, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;

/// Run a RISC-V 64 Linux program on this machine.
#[derive(Debug, Parser)]
#[command(
    name = "pvm",
    version,
    about,
    disable_help_flag = true,
    after_help = "Also: `pvm completions bash|zsh|fish` (shell completions) and \
                  `pvm binfmt --print|--install|--uninstall` (binfmt_misc); those words are \
                  pvm's own only as the first argument (run a program of that name as ./NAME). \
Exit status: the guest's; 128+N when signal N killed it; 125 pvm's own \
failure; 126/127 a program that cannot run. A limit that ends the guest: 201 \
--max-memory, 202 --max-instructions, 203 --timeout, 204 --max-output (one line on \
stderr says which). --max-processes and --max-open-files make the guest's fork/clone \
fail with EAGAIN and its open/dup/socket... with EMFILE, as RLIMIT_NPROC and \
RLIMIT_NOFILE do. --sandbox: see README \"Sandbox mode and limits\"."
)]
pub struct Cli {
    /// Print this help (one line per option).
    #[arg(short = 'h', long = "help", action = ArgAction::HelpShort)]
    pub help: Option<bool>,

    /// Root of the guest's dynamic linker and libraries (default: $PVM_SYSROOT, else /usr/riscv64-linux-gnu).
    #[arg(short = 'L', long = "sysroot", value_name = "DIR")]
    pub sysroot: Option<PathBuf>,

    /// Set VAR=VAL in the guest's environment (repeatable).
    #[arg(short = 'E', value_name = "VAR=VAL")]
    pub set_env: Vec<OsString>,

    /// Remove VAR from the guest's environment (repeatable).
    #[arg(short = 'U', value_name = "VAR")]
    pub unset_env: Vec<OsString>,

    /// Log each guest system call to stderr, strace-style.
    #[arg(long, env = "PVM_STRACE", action = ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub strace: bool,

    /// Log what the engines do: in_asm,out_asm,exec,cache,page,strace,unimp or all (qemu's -d).
    #[arg(short = 'd', long = "log", value_name = "ITEMS", env = "PVM_LOG", value_parser = parse_log)]
    pub log: Option<u32>,

    /// Write the -d log (and --strace) to FILE instead of stderr (qemu's -D).
    #[arg(
        short = 'D',
        long = "log-file",
        value_name = "FILE",
        env = "PVM_LOG_FILE"
    )]
    pub log_file: Option<PathBuf>,

    /// CPU model: rv64 (RV64GC, as riscv_hwprobe reports it); `help` lists it with its extensions.
    #[arg(long = "cpu", value_name = "MODEL", env = "PVM_CPU", value_parser = parse_cpu)]
    pub cpu: Option<String>,

    /// Print instructions, time, MIPS and system calls to stderr at exit.
    #[arg(long, env = "PVM_STATS", action = ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub stats: bool,

    /// Sample where the guest's time goes and write the profile to FILE at exit (`-`: print the report on stderr instead); read it with `pvm report FILE`.
    #[arg(long, value_name = "FILE", env = "PVM_PROFILE")]
    pub profile: Option<PathBuf>,

    /// Execution engine: jit (the binary translator, default) or interp (the interpreter).
    #[arg(long, value_enum, default_value_t = EngineKind::Jit, env = "PVM_ENGINE")]
    pub engine: EngineKind,

    /// Size of the translator's code cache, in bytes (K, M, G suffixes).
    #[arg(long, value_name = "SIZE", default_value = "32M", value_parser = parse_size, env = "PVM_CODE_CACHE_SIZE")]
    pub code_cache_size: usize,

    /// How a full code cache makes room: fifo (evict the oldest of 8 units, keeping the rest) or flush (drop everything, the old policy).
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = CachePolicy::Fifo, env = "PVM_CODE_CACHE_POLICY")]
    pub code_cache_policy: CachePolicy,

    /// Guest threads each on a host thread (host) or all in turn on one (one).
    #[arg(long, value_enum, default_value_t = Threads::Host, env = "PVM_THREADS")]
    pub threads: Threads,

    /// The guest's argv[0] (default: PROGRAM as given).
    #[arg(
        short = '0',
        long = "argv0",
        value_name = "ARGV0",
        allow_hyphen_values = true
    )]
    pub argv0: Option<OsString>,

    /// Wait for gdb before the first instruction: PORT (127.0.0.1), HOST:PORT or unix:PATH.
    #[arg(
        short = 'g',
        long = "gdb",
        value_name = "PORT|unix:PATH",
        env = "PVM_GDB"
    )]
    pub gdb: Option<String>,
    /// Sandbox mode for untrusted programs: files only below --allow-read
    /// and --allow-write directories (and the sysroot, the program,
    /// /dev/null and friends), no sockets without --allow-net, no host
    /// programs, no signals outside the guest's own processes, and
    /// --max-processes 64 unless given.
    #[arg(long, env = "PVM_SANDBOX", action = ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub sandbox: bool,

    /// With --sandbox: the guest may read below DIR (repeatable).
    #[arg(long = "allow-read", value_name = "DIR")]
    pub allow_read: Vec<PathBuf>,

    /// With --sandbox: the guest may read and write below DIR (repeatable).
    #[arg(long = "allow-write", value_name = "DIR")]
    pub allow_write: Vec<PathBuf>,

    /// With --sandbox: the guest may create sockets (any family). Without
    /// it, only descriptors pvm inherited and socketpair() are sockets.
    #[arg(long = "allow-net", env = "PVM_ALLOW_NET", action = ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub allow_net: bool,

    /// Most guest memory one process may map (brk, mmap; K/M/G suffixes);
    /// more ends the guest (status 201).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, env = "PVM_MAX_MEMORY")]
    pub max_memory: Option<usize>,

    /// Size of the guest's address space (K/M/G suffixes; default 64G, at
    /// least 16M, a multiple of 4K): smaller lets pvm run under valgrind or
    /// a low `ulimit -v`, like qemu-user's -R.
    #[arg(long, value_name = "SIZE", value_parser = parse_space, env = "PVM_ADDRESS_SPACE")]
    pub address_space: Option<u64>,

    /// Most guest instructions all the guest's processes together may
    /// run (checked every few million); more ends the guest (status 202).
    #[arg(long, value_name = "N", env = "PVM_MAX_INSTRUCTIONS")]
    pub max_instructions: Option<u64>,

    /// Wall-clock seconds the guest (all its processes) may run; then it
    /// ends (status 203).
    #[arg(long, value_name = "SECS", value_parser = parse_secs, env = "PVM_TIMEOUT")]
    pub timeout: Option<std::time::Duration>,

    /// Most descriptors a guest process may have open (RLIMIT_NOFILE,
    /// which the guest cannot raise): past it, calls fail with EMFILE.
    #[arg(long, value_name = "N", env = "PVM_MAX_OPEN_FILES")]
    pub max_open_files: Option<u32>,

    /// Most processes the guest may have at once, counting all of its
    /// tree (a fork bomb's limit; 64 under --sandbox unless given): past
    /// it, fork/clone fail with EAGAIN. At most 4096.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096),
          env = "PVM_MAX_PROCESSES")]
    pub max_processes: Option<u32>,

    /// Most bytes the guest (all its processes) may write to pvm's
    /// standard output and error (K/M/G suffixes); more ends the guest
    /// (status 204).
    #[arg(long, value_name = "BYTES", value_parser = parse_size, env = "PVM_MAX_OUTPUT")]
    pub max_output: Option<usize>,

    /// Internal (pvm's own execve): join the limits of the process tree
    /// whose shared state is this System V segment.
    #[arg(long, hide = true, value_name = "ID")]
    pub limit_tree: Option<i32>,

    /// Internal (pvm's own execve): this pvm's parent is a guest, so it
    /// dies of the signal that kills its guest.
    #[arg(long, hide = true)]
    pub guest_child: bool,

    /// Internal (pvm's own execve): signals the guest ignores, as a mask
    /// (bit n-1 for signal n); they stay ignored across execve.
    #[arg(long, hide = true, value_name = "MASK", value_parser = parse_mask)]
    pub ignored_signals: Option<u64>,

    /// Internal (pvm's own execve): the guest's signal mask (bit n-1 for
    /// signal n), which execve keeps. The exec'ing pvm blocks every host
    /// signal first, so that one arriving during the exec stays pending in
    /// the kernel for this pvm instead of reaching the old image's handler.
    #[arg(long, hide = true, value_name = "MASK", value_parser = parse_mask)]
    pub signal_mask: Option<u64>,

    /// Internal (pvm's own execve): which of descriptors 0, 1 and 2 the
    /// guest had closed (bit n for descriptor n). The Rust runtime opens
    /// /dev/null on a closed standard descriptor before pvm's `main`; pvm
    /// closes it again so that the new guest sees it closed, as after a
    /// native execve.
    #[arg(long, hide = true, value_name = "MASK", value_parser = parse_mask)]
    pub closed_fds: Option<u64>,

    /// Internal (pvm's own execve under --sandbox): the program, open at
    /// this descriptor (the file the exec'ing pvm checked). It is loaded
    /// from there, and it is the program's allowed place, whatever its
    /// name names now.
    #[arg(long, hide = true, value_name = "FD")]
    pub program_fd: Option<i32>,

    /// Internal (pvm's own execve under --sandbox): the program's
    /// dynamic linker, open at this descriptor (the file the exec'ing pvm
    /// checked for its `PT_INTERP`). It is loaded from there, whatever
    /// that name names now, and is an allowed place (read) of its own.
    #[arg(long, hide = true, value_name = "FD")]
    pub interp_fd: Option<i32>,

    /// Internal (pvm's own execve under gdb): the gdb connection the
    /// exec'ing pvm hands on, with its protocol state; this pvm reports
    /// the exec to gdb and goes on debugging the new program.
    #[arg(long, hide = true, value_name = "STATE")]
    pub gdb_handover: Option<String>,

    /// The RISC-V program to run, then its arguments: everything from
    /// PROGRAM on is the guest's, even words that look like pvm's options
    /// (`pvm prog --version` runs `prog --version`).
    #[arg(
        value_name = "PROGRAM [ARGS]",
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<OsString>,
}

/// `--max-processes` under `--sandbox` when not given.
pub const DEFAULT_SANDBOX_PROCESSES: u32 = 64;

/// How a full code cache makes room (`--code-cache-policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CachePolicy {
    Fifo,
    Flush,
}

/// How guest threads run (`--threads`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Threads {
    Host,
    One,
}

/// The engines pvm offers: the interpreter, or the binary translator
/// (RISC-V to x86-64) with its code cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EngineKind {
    Interp,
    Jit,
}

/// `64M`, `512K`, `1G` or a plain byte count.
fn parse_size(s: &str) -> Result<usize, String> {
    let (digits, mult) = match s.as_bytes().last() {
        Some(b'k' | b'K') => (&s[..s.len() - 1], 1usize << 10),
        Some(b'm' | b'M') => (&s[..s.len() - 1], 1 << 20),
        Some(b'g' | b'G') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("not a size: {s:?} (use e.g. 65536, 512K or 64M)"))
}

/// `--address-space SIZE`: what `GuestMemory::new` accepts.
fn parse_space(s: &str) -> Result<u64, String> {
    let n = parse_size(s)? as u64;
    if n < vm_core::memory::MIN_SIZE || !n.is_multiple_of(4096) || n > 1 << 47 {
        return Err(format!(
            "address space of {s} bytes: give a multiple of 4K from 16M to 128T"
        ));
    }
    Ok(n)
}

/// `-d ITEMS`.
fn parse_log(s: &str) -> Result<u32, String> {
    vm_core::log::parse(s)
}

/// The one CPU model: RV64GC. `rv64gc` is a synonym; `help` is kept for
/// the caller to list the model.
fn parse_cpu(s: &str) -> Result<String, String> {
    match s {
        "rv64" | "rv64gc" | "help" => Ok(s.to_string()),
        _ => Err(format!(
            "unknown CPU model {s:?} (pvm emulates rv64: see -cpu help)"
        )),
    }
}

/// The extensions of the `rv64` model, named as `riscv_hwprobe`'s
/// `IMA_EXT_0` bits that pvm's hwprobe answers (the same table, so the two
/// cannot disagree).
pub fn cpu_extensions() -> Vec<&'static str> {
    use vm_core::syscall::hwprobe::{RV64GC_IMA_EXT_0, ext};
    let names: [(u64, &str); 8] = [
        (ext::IMA_FD, "F and D"),
        (ext::IMA_C, "C"),
        (ext::ZCA, "Zca"),
        (ext::ZCD, "Zcd"),
        (ext::ZICNTR, "Zicntr"),
        (ext::ZIHPM, "Zihpm"),
        (ext::ZAAMO, "Zaamo"),
        (ext::ZALRSC, "Zalrsc"),
    ];
    let mut v = vec!["I", "M", "A"];
    v.extend(
        names
            .iter()
            .filter(|(b, _)| RV64GC_IMA_EXT_0 & b != 0)
            .map(|(_, n)| *n),
    );
    v.extend(["Zicsr", "Zifencei"]);
    v
}

/// The `-cpu help` text.
pub fn cpu_help() -> String {
    format!(
        "Available CPUs:\n  rv64    RV64GC ({}): {}",
        vm_core::syscall::hwprobe::isa_string(),
        cpu_extensions().join(", ")
    )
}

/// pvm's options that take a value (the next word), from the option
/// definitions themselves (so a new option cannot be missed), and qemu's
/// `-cpu`.
fn with_value() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        use clap::CommandFactory;
        let mut v = vec!["-cpu".to_string()];
        for a in Cli::command().get_arguments() {
            if a.is_positional() || !a.get_action().takes_values() {
                continue;
            }
            v.extend(a.get_short().map(|c| format!("-{c}")));
            v.extend(a.get_long().map(|l| format!("--{l}")));
        }
        v
    })
}

fn takes_value(word: &str) -> bool {
    with_value().iter().any(|w| w == word)
}

/// Index of PROGRAM in `args` (`args.len()` if there is none).
fn program_index(args: &[OsString]) -> usize {
    let mut i = 1;
    while i < args.len() {
        let s = args[i].to_str().unwrap_or("");
        if s == "--" {
            return i + 1;
        }
        if !s.starts_with('-') || s == "-" {
            return i;
        }
        i += if takes_value(s) { 2 } else { 1 };
    }
    args.len()
}

/// qemu-user's single-dash spellings before PROGRAM (`-cpu rv64`,
/// `-strace`, `-version`, `-help`) as pvm's (`--cpu`, ...); everything
/// from PROGRAM on is left alone.
pub fn qemu_spellings(mut args: Vec<OsString>) -> Vec<OsString> {
    let end = program_index(&args).min(args.len());
    let mut i = 1;
    while i < end {
        let s = args[i].to_str().unwrap_or("").to_string();
        if matches!(&s[..], "-cpu" | "-strace" | "-version" | "-help") {
            args[i] = format!("-{s}").into();
        }
        i += if takes_value(&s) { 2 } else { 1 };
    }
    args
}

/// Does the command line (after [`qemu_spellings`]) ask for `--cpu help`
/// before PROGRAM?
pub fn wants_cpu_help(args: &[OsString]) -> bool {
    let end = program_index(args).min(args.len());
    let words: Vec<&str> = args[1..end]
        .iter()
        .map(|a| a.to_str().unwrap_or(""))
        .collect();
    words.windows(2).any(|w| w[0] == "--cpu" && w[1] == "help") || words.contains(&"--cpu=help")
}

/// The sysroot in a config file: a `sysroot = DIR` line in
/// `$XDG_CONFIG_HOME/pvm/config` (or `~/.config/pvm/config`), else in
/// `/etc/pvm.conf`. For binfmt_misc launches, which get no options.
pub fn config_sysroot() -> Option<PathBuf> {
    let user = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|d| d.join("pvm/config"));
    let files = user.into_iter().chain([PathBuf::from("/etc/pvm.conf")]);
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        for line in text.lines() {
            let line = line.trim();
            if let Some((k, v)) = line.split_once('=')
                && k.trim() == "sysroot"
                && !v.trim().is_empty()
            {
                return Some(PathBuf::from(v.trim()));
            }
        }
    }
    None
}

/// Seconds, possibly fractional (`2`, `0.5`).
fn parse_secs(s: &str) -> Result<std::time::Duration, String> {
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0 && *v < 1e9)
        .map(std::time::Duration::from_secs_f64)
        .ok_or_else(|| format!("not a number of seconds: {s:?}"))
}

/// A signal mask in hexadecimal (`0x1000`).
fn parse_mask(s: &str) -> Result<u64, String> {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).map_err(|_| format!("not a mask: {s:?}"))
}

impl Cli {
    /// The program to run.
    pub fn program(&self) -> &OsString {
        &self.command[0]
    }

    /// Its arguments (argv[1..]).
    pub fn args(&self) -> &[OsString] {
        &self.command[1..]
    }

    /// The options a pvm that this one starts for a guest's `execve`
    /// gets: the same sysroot, engine, code cache size and `--strace`.
    pub fn relaunch_options(&self) -> Vec<OsString> {
        let mut o: Vec<OsString> = Vec::new();
        if let Some(s) = self.sysroot() {
            o.push("-L".into());
            o.push(std::path::absolute(&s).unwrap_or(s).into_os_string());
        }
        o.push("--engine".into());
        o.push(
            match self.engine {
                EngineKind::Jit => "jit",
                EngineKind::Interp => "interp",
            }
            .into(),
        );
        o.push("--code-cache-size".into());
        o.push(self.code_cache_size.to_string().into());
        o.push("--code-cache-policy".into());
        o.push(
            match self.code_cache_policy {
                CachePolicy::Fifo => "fifo",
                CachePolicy::Flush => "flush",
            }
            .into(),
        );
        if self.strace {
            o.push("--strace".into());
        }
        if let Some(m) = self.log {
            let items: Vec<&str> = vm_core::log::ITEMS
                .iter()
                .filter(|i| m & i.1 != 0)
                .map(|i| i.0)
                .collect();
            o.push("-d".into());
            o.push(items.join(",").into());
        }
        if let Some(f) = &self.log_file {
            o.push("-D".into());
            o.push(f.clone().into_os_string());
        }
        if self.threads == Threads::One {
            o.push("--threads".into());
            o.push("one".into());
        }
        // The limits and the sandbox go on (the tree's counters and
        // deadline are shared: see `tree`).
        if self.sandbox {
            o.push("--sandbox".into());
        }
        // Absolute: the guest may chdir before it execs.
        let abs = |d: &PathBuf| std::path::absolute(d).unwrap_or_else(|_| d.clone());
        for d in &self.allow_read {
            o.push("--allow-read".into());
            o.push(abs(d).into_os_string());
        }
        for d in &self.allow_write {
            o.push("--allow-write".into());
            o.push(abs(d).into_os_string());
        }
        if self.allow_net {
            o.push("--allow-net".into());
        }
        let mut num = |name: &str, v: Option<String>| {
            if let Some(v) = v {
                o.push(name.into());
                o.push(v.into());
            }
        };
        num("--max-memory", self.max_memory.map(|v| v.to_string()));
        num("--address-space", self.address_space.map(|v| v.to_string()));
        num(
            "--max-instructions",
            self.max_instructions.map(|v| v.to_string()),
        );
        num(
            "--timeout",
            self.timeout.map(|v| v.as_secs_f64().to_string()),
        );
        num(
            "--max-open-files",
            self.max_open_files.map(|v| v.to_string()),
        );
        num("--max-processes", self.max_processes.map(|v| v.to_string()));
        num("--max-output", self.max_output.map(|v| v.to_string()));
        o
    }

    /// The process limit in force: the option, else 64 under --sandbox.
    pub fn process_limit(&self) -> Option<u32> {
        self.max_processes
            .or(self.sandbox.then_some(DEFAULT_SANDBOX_PROCESSES))
    }

    /// Does this pvm need a tree state (limits shared by its processes)?
    pub fn needs_tree(&self) -> bool {
        self.sandbox
            || self.max_memory.is_some()
            || self.max_instructions.is_some()
            || self.timeout.is_some()
            || self.max_processes.is_some()
            || self.max_output.is_some()
    }

    /// The sysroot to use: the option, then `$PVM_SYSROOT`, then a config
    /// file's ([`config_sysroot`]), then Debian's cross sysroot when present.
    pub fn sysroot(&self) -> Option<PathBuf> {
        if let Some(s) = &self.sysroot {
            return Some(s.clone());
        }
        if let Some(s) = std::env::var_os("PVM_SYSROOT").filter(|s| !s.is_empty()) {
            return Some(PathBuf::from(s));
        }
        if let Some(s) = config_sysroot() {
            return Some(s);
        }
        let debian = PathBuf::from("/usr/riscv64-linux-gnu");
        debian.is_dir().then_some(debian)
    }

    /// The guest environment: `host` with the `-U` names removed, then the
    /// `-E` assignments applied (replacing in place, else appended). The
    /// environment equivalents (qemu's `QEMU_UNSET_ENV`/`QEMU_SET_ENV`),
    /// comma-separated lists in `host`'s `PVM_UNSET_ENV` and
    /// `PVM_SET_ENV`, apply first, so the command line has the last word.
    pub fn environment(&self, host: impl IntoIterator<Item = Vec<u8>>) -> Vec<Vec<u8>> {
        let name = |e: &[u8]| -> Vec<u8> {
            let n = e.iter().position(|&c| c == b'=').unwrap_or(e.len());
            e[..n].to_vec()
        };
        let mut env: Vec<Vec<u8>> = host.into_iter().collect();
        let list = |var: &[u8]| -> Vec<Vec<u8>> {
            env.iter()
                .find_map(|e| e.strip_prefix(var)?.strip_prefix(b"="))
                .map(|v| {
                    v.split(|&c| c == b',')
                        .filter(|w| !w.is_empty())
                        .map(<[u8]>::to_vec)
                        .collect()
                })
                .unwrap_or_default()
        };
        let unset = list(b"PVM_UNSET_ENV");
        let set = list(b"PVM_SET_ENV");
        let unset = unset
            .iter()
            .map(|u| &u[..])
            .chain(self.unset_env.iter().map(|u| u.as_encoded_bytes()));
        let set = set
            .iter()
            .map(|u| &u[..])
            .chain(self.set_env.iter().map(|u| u.as_encoded_bytes()));
        for u in unset {
            env.retain(|e| name(e) != u);
        }
        for s in set {
            let s = s.to_vec();
            let n = name(&s);
            match env.iter_mut().find(|e| name(e) == n) {
                Some(e) => *e = s,
                None => env.push(s),
            }
        }
        env
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(args).unwrap()
    }

    #[test]
    fn options_stop_at_program() {
        let c = parse(&[
            "pvm", "--strace", "-E", "A=1", "prog", "-l", "--strace", "x",
        ]);
        assert!(c.strace && !c.stats);
        assert_eq!(c.program(), "prog");
        assert_eq!(c.args(), ["-l", "--strace", "x"]);
        // pvm's own flags right after the program are the guest's too.
        for flag in ["--version", "--help", "--strace", "-L"] {
            let c = parse(&["pvm", "prog", flag, "y"]);
            assert_eq!(
                (c.program().as_os_str(), c.args()),
                ("prog".as_ref(), &[flag.into(), "y".into()][..])
            );
            assert!(!c.strace);
        }
        assert_eq!(c.engine, EngineKind::Jit);
        let c = parse(&["pvm", "-L", "/sr", "--engine", "interp", "p"]);
        assert_eq!(c.sysroot(), Some(PathBuf::from("/sr")));
        assert!(Cli::try_parse_from(["pvm", "--engine", "fast", "p"]).is_err());
        let c = parse(&["pvm", "--engine", "jit", "--code-cache-size", "64K", "p"]);
        assert_eq!((c.engine, c.code_cache_size), (EngineKind::Jit, 65536));
        assert_eq!(c.code_cache_policy, CachePolicy::Fifo);
        let c = parse(&["pvm", "--code-cache-policy", "flush", "p"]);
        assert_eq!(c.code_cache_policy, CachePolicy::Flush);
        assert!(c.relaunch_options().iter().any(|o| o == "flush"));
        assert!(Cli::try_parse_from(["pvm", "--code-cache-size", "12Q", "p"]).is_err());
        let c = parse(&["pvm", "--address-space", "4G", "p"]);
        assert_eq!(c.address_space, Some(4 << 30));
        let o = c.relaunch_options();
        assert!(
            o.windows(2)
                .any(|w| w[0] == "--address-space" && w[1] == "4294967296")
        );
        for bad in ["1M", "16777217", "256T"] {
            assert!(Cli::try_parse_from(["pvm", "--address-space", bad, "p"]).is_err());
        }
        assert!(Cli::try_parse_from(["pvm"]).is_err());
        // pvm's own option names after PROGRAM are the guest's too.
        let c = parse(&[
            "pvm",
            "-E",
            "A=1",
            "sed",
            "-E",
            "s/(a)/x/",
            "--version",
            "-L",
            "x",
        ]);
        assert_eq!(c.program(), "sed");
        assert_eq!(c.args(), ["-E", "s/(a)/x/", "--version", "-L", "x"]);
        assert_eq!(c.set_env, ["A=1"]);
        let c = parse(&["pvm", "esbuild", "--help"]);
        assert_eq!(c.args(), ["--help"]);
        let c = parse(&["pvm", "prog", "--", "x"]);
        assert_eq!(c.args(), ["--", "x"]);
    }

    #[test]
    fn every_option_with_a_value_is_skipped_to_find_program() {
        // qemu's spellings after any option that takes a value (here the
        // limits and --profile, once missed) are still pvm's.
        for opt in [
            "--profile",
            "--max-memory",
            "--timeout",
            "--max-processes",
            "--allow-read",
            "-0",
            "-L",
        ] {
            let args: Vec<OsString> = ["pvm", opt, "1", "-cpu", "rv64", "-strace", "prog", "-cpu"]
                .map(OsString::from)
                .into();
            let got = qemu_spellings(args);
            assert_eq!(got[3], "--cpu", "after {opt}");
            assert_eq!(got[5], "--strace", "after {opt}");
            assert_eq!(got[7], "-cpu", "after {opt}: the guest's");
            assert_eq!(program_index(&got), 6, "after {opt}");
        }
        for flag in ["--stats", "--sandbox", "--allow-net", "--strace"] {
            assert!(!takes_value(flag), "{flag}");
        }
    }

    #[test]
    fn exec_options() {
        let c = parse(&[
            "pvm",
            "--guest-child",
            "--ignored-signals",
            "0x1001",
            "--signal-mask",
            "0x200",
            "--closed-fds",
            "1",
            "--argv0=-sh",
            "--",
            "-prog",
            "x",
        ]);
        assert!(c.guest_child);
        assert_eq!(c.ignored_signals, Some(0x1001));
        assert_eq!(c.signal_mask, Some(0x200));
        assert_eq!(c.closed_fds, Some(1));
        assert_eq!(c.argv0.as_deref(), Some(std::ffi::OsStr::new("-sh")));
        assert_eq!((c.program().to_str(), c.args().len()), (Some("-prog"), 1));
        let c = parse(&["pvm", "-0", "name", "--engine", "interp", "-L", "/s", "p"]);
        assert_eq!(c.argv0.as_deref(), Some(std::ffi::OsStr::new("name")));
        let o = c.relaunch_options();
        let o: Vec<&str> = o.iter().map(|s| s.to_str().unwrap()).collect();
        assert_eq!(
            o,
            [
                "-L",
                "/s",
                "--engine",
                "interp",
                "--code-cache-size",
                "33554432",
                "--code-cache-policy",
                "fifo"
            ]
        );
    }

    #[test]
    fn every_option_after_program_is_the_guests() {
        // Each of pvm's options, spelled as given, after PROGRAM: all of
        // them reach the guest unchanged, and none is taken by pvm.
        let opts = [
            "-L",
            "--sysroot",
            "-E",
            "-U",
            "--strace",
            "--stats",
            "--engine",
            "--code-cache-size",
            "--code-cache-policy",
            "--threads",
            "-0",
            "--argv0",
            "-g",
            "--gdb",
            "-d",
            "--log",
            "-D",
            "--log-file",
            "--cpu",
            "-cpu",
            "-strace",
            "-version",
            "-help",
            "--guest-child",
            "--ignored-signals",
            "-h",
            "--help",
            "-V",
            "--version",
            "completions",
            "binfmt",
        ];
        for o in opts {
            let argv: Vec<OsString> = ["pvm", "prog", o, "1"].map(OsString::from).into();
            let c = Cli::try_parse_from(qemu_spellings(argv)).unwrap();
            assert_eq!(c.program(), "prog");
            assert_eq!(c.args(), [o, "1"], "{o}");
            assert!(!c.strace && c.log.is_none() && c.gdb.is_none() && c.cpu.is_none());
        }
    }

    #[test]
    fn qemu_style_options() {
        let argv = [
            "pvm",
            "-cpu",
            "rv64",
            "-strace",
            "-d",
            "in_asm,exec",
            "-D",
            "/tmp/l",
            "-g",
            "1234",
            "p",
            "-cpu",
        ];
        let c = Cli::try_parse_from(qemu_spellings(argv.map(OsString::from).into())).unwrap();
        assert_eq!(c.cpu.as_deref(), Some("rv64"));
        assert!(c.strace);
        assert_eq!(c.log, Some(vm_core::log::IN_ASM | vm_core::log::EXEC));
        assert_eq!(c.log_file, Some(PathBuf::from("/tmp/l")));
        assert_eq!(c.gdb.as_deref(), Some("1234"));
        assert_eq!(c.args(), ["-cpu"]);
        assert!(Cli::try_parse_from(["pvm", "--cpu", "rv32", "p"]).is_err());
        assert!(Cli::try_parse_from(["pvm", "-d", "nope", "p"]).is_err());
        let ext = cpu_extensions();
        for e in ["I", "M", "A", "F and D", "C", "Zicsr", "Zifencei"] {
            assert!(ext.contains(&e), "{e}");
        }
    }

    #[test]
    fn sandbox_and_limits() {
        let c = parse(&[
            "pvm",
            "--sandbox",
            "--allow-read",
            "/a",
            "--allow-write",
            "/b",
            "--max-memory",
            "64M",
            "--max-instructions",
            "1000",
            "--timeout",
            "1.5",
            "--max-output",
            "10K",
            "p",
        ]);
        assert!(c.sandbox && !c.allow_net && c.needs_tree());
        assert_eq!(c.max_memory, Some(64 << 20));
        assert_eq!(c.max_output, Some(10 << 10));
        assert_eq!(c.timeout, Some(std::time::Duration::from_millis(1500)));
        assert_eq!(c.process_limit(), Some(DEFAULT_SANDBOX_PROCESSES));
        let o = c.relaunch_options();
        let o: Vec<&str> = o.iter().map(|s| s.to_str().unwrap()).collect();
        for w in ["--sandbox", "/a", "/b", "67108864", "1000", "1.5", "10240"] {
            assert!(o.contains(&w), "{w} missing from {o:?}");
        }
        // A relaunch parses back to the same limits.
        let mut again = vec!["pvm"];
        again.extend(o.iter().copied());
        again.push("p");
        let d = parse(&again);
        assert_eq!(
            (d.max_memory, d.max_instructions, d.timeout, d.max_output),
            (c.max_memory, c.max_instructions, c.timeout, c.max_output)
        );
        assert_eq!((d.allow_read, d.allow_write), (c.allow_read, c.allow_write));
        assert!(!parse(&["pvm", "p"]).needs_tree());
        assert!(Cli::try_parse_from(["pvm", "--max-processes", "0", "p"]).is_err());
        assert!(Cli::try_parse_from(["pvm", "--timeout", "-1", "p"]).is_err());
        let c = parse(&["pvm", "--max-processes", "3", "--limit-tree=7", "p"]);
        assert_eq!((c.process_limit(), c.limit_tree), (Some(3), Some(7)));
    }

    #[test]
    fn environment_edits() {
        let c = parse(&["pvm", "-U", "B", "-E", "A=9", "-E", "C=3", "-U", "D", "p"]);
        let host = ["A=1", "B=2", "D", "E=5"].map(|s| s.as_bytes().to_vec());
        let env = c.environment(host);
        let env: Vec<&[u8]> = env.iter().map(|e| &e[..]).collect();
        assert_eq!(env, [&b"A=9"[..], b"E=5", b"C=3"]);
        // The environment equivalents, before the command line's.
        let c = parse(&["pvm", "-E", "A=9", "p"]);
        let host = [
            "A=1",
            "B=2",
            "PVM_SET_ENV=A=5,F=6",
            "PVM_UNSET_ENV=B,,E",
            "E=1",
        ]
        .map(|s| s.as_bytes().to_vec());
        let env = c.environment(host);
        let env: Vec<&[u8]> = env.iter().map(|e| &e[..]).collect();
        assert_eq!(
            env,
            [
                &b"A=9"[..],
                b"PVM_SET_ENV=A=5,F=6",
                b"PVM_UNSET_ENV=B,,E",
                b"F=6"
            ]
        );
    }
}
