//! The `pvm` command line: `pvm [OPTIONS] PROGRAM [ARGS]...`.
//!
//! Option parsing stops at PROGRAM, so everything after it (`-l`, `--help`)
//! belongs to the guest.

use clap::{Parser, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;

/// Run a RISC-V 64 Linux program on this machine.
#[derive(Debug, Parser)]
#[command(
    name = "pvm",
    version,
    about,
    after_help = "Exit status: the guest's; 128+N when signal N killed it; 125 pvm's own \
failure; 126/127 a program that cannot run. A limit that ends the guest: 201 \
--max-memory, 202 --max-instructions, 203 --timeout, 204 --max-output (one line on \
stderr says which). --max-processes and --max-open-files make the guest's fork/clone \
fail with EAGAIN and its open/dup/socket... with EMFILE, as RLIMIT_NPROC and \
RLIMIT_NOFILE do. --sandbox: see README \"Sandbox mode and limits\"."
)]
pub struct Cli {
    /// Directory holding the guest's dynamic linker and libraries
    /// (default: $PVM_SYSROOT, else /usr/riscv64-linux-gnu if it exists).
    #[arg(short = 'L', long = "sysroot", value_name = "DIR")]
    pub sysroot: Option<PathBuf>,

    /// Set VAR=VAL in the guest's environment (repeatable).
    #[arg(short = 'E', value_name = "VAR=VAL")]
    pub set_env: Vec<OsString>,

    /// Remove VAR from the guest's environment (repeatable).
    #[arg(short = 'U', value_name = "VAR")]
    pub unset_env: Vec<OsString>,

    /// Log each guest system call to stderr, strace-style.
    #[arg(long)]
    pub strace: bool,

    /// Print statistics (instructions, time, MIPS, syscalls) to stderr at exit.
    #[arg(long)]
    pub stats: bool,

    /// Execution engine: the binary translator (default) or the interpreter.
    #[arg(long, value_enum, default_value_t = EngineKind::Jit)]
    pub engine: EngineKind,

    /// Size of the translator's code cache (with `--engine jit`), in bytes;
    /// a `K`, `M` or `G` suffix multiplies by 1024, 1024², 1024³.
    #[arg(long, value_name = "SIZE", default_value = "32M", value_parser = parse_size)]
    pub code_cache_size: usize,

    /// How guest threads run: each on a host thread of its own (`host`,
    /// the default), or all in turn on one host thread (`one`, pvm's own
    /// scheduler, as on the bare-metal host).
    #[arg(long, value_enum, default_value_t = Threads::Host)]
    pub threads: Threads,

    /// The guest's argv[0] (default: PROGRAM as given).
    #[arg(
        short = '0',
        long = "argv0",
        value_name = "ARGV0",
        allow_hyphen_values = true
    )]
    pub argv0: Option<OsString>,

    /// Sandbox mode for untrusted programs: files only below --allow-read
    /// and --allow-write directories (and the sysroot, the program,
    /// /dev/null and friends), no sockets without --allow-net, no host
    /// programs, no signals outside the guest's own processes, and
    /// --max-processes 64 unless given.
    #[arg(long)]
    pub sandbox: bool,

    /// With --sandbox: the guest may read below DIR (repeatable).
    #[arg(long = "allow-read", value_name = "DIR")]
    pub allow_read: Vec<PathBuf>,

    /// With --sandbox: the guest may read and write below DIR (repeatable).
    #[arg(long = "allow-write", value_name = "DIR")]
    pub allow_write: Vec<PathBuf>,

    /// With --sandbox: the guest may create sockets (any family). Without
    /// it, only descriptors pvm inherited and socketpair() are sockets.
    #[arg(long = "allow-net")]
    pub allow_net: bool,

    /// Most guest memory one process may map (brk, mmap; K/M/G suffixes);
    /// more ends the guest (status 201).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<usize>,

    /// Most guest instructions all the guest's processes together may
    /// run (checked every few million); more ends the guest (status 202).
    #[arg(long, value_name = "N")]
    pub max_instructions: Option<u64>,

    /// Wall-clock seconds the guest (all its processes) may run; then it
    /// ends (status 203).
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<std::time::Duration>,

    /// Most descriptors a guest process may have open (RLIMIT_NOFILE,
    /// which the guest cannot raise): past it, calls fail with EMFILE.
    #[arg(long, value_name = "N")]
    pub max_open_files: Option<u32>,

    /// Most processes the guest may have at once, counting all of its
    /// tree (a fork bomb's limit; 64 under --sandbox unless given): past
    /// it, fork/clone fail with EAGAIN. At most 4096.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub max_processes: Option<u32>,

    /// Most bytes the guest (all its processes) may write to pvm's
    /// standard output and error (K/M/G suffixes); more ends the guest
    /// (status 204).
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
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

    /// Internal (pvm's own execve): which of descriptors 0, 1 and 2 the
    /// guest had closed (bit n for descriptor n). The Rust runtime opens
    /// /dev/null on a closed standard descriptor before pvm's `main`; pvm
    /// closes it again so that the new guest sees it closed, as after a
    /// native execve.
    #[arg(long, hide = true, value_name = "MASK", value_parser = parse_mask)]
    pub closed_fds: Option<u64>,

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

/// How guest threads run (`--threads`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Threads {
    Host,
    One,
}

/// The engines pvm offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EngineKind {
    /// The interpreter.
    Interp,
    /// The binary translator (RISC-V to x86-64) with its code cache.
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
        if self.strace {
            o.push("--strace".into());
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

    /// The sysroot to use: the option, then `$PVM_SYSROOT`, then Debian's
    /// cross sysroot when present.
    pub fn sysroot(&self) -> Option<PathBuf> {
        if let Some(s) = &self.sysroot {
            return Some(s.clone());
        }
        if let Some(s) = std::env::var_os("PVM_SYSROOT").filter(|s| !s.is_empty()) {
            return Some(PathBuf::from(s));
        }
        let debian = PathBuf::from("/usr/riscv64-linux-gnu");
        debian.is_dir().then_some(debian)
    }

    /// The guest environment: `host` with the `-U` names removed, then the
    /// `-E` assignments applied (replacing in place, else appended).
    pub fn environment(&self, host: impl IntoIterator<Item = Vec<u8>>) -> Vec<Vec<u8>> {
        let name = |e: &[u8]| -> Vec<u8> {
            let n = e.iter().position(|&c| c == b'=').unwrap_or(e.len());
            e[..n].to_vec()
        };
        let mut env: Vec<Vec<u8>> = host.into_iter().collect();
        for u in &self.unset_env {
            let u = u.as_encoded_bytes();
            env.retain(|e| name(e) != u);
        }
        for s in &self.set_env {
            let s = s.as_encoded_bytes().to_vec();
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
        assert!(Cli::try_parse_from(["pvm", "--code-cache-size", "12Q", "p"]).is_err());
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
    fn exec_options() {
        let c = parse(&[
            "pvm",
            "--guest-child",
            "--ignored-signals",
            "0x1001",
            "--closed-fds",
            "1",
            "--argv0=-sh",
            "--",
            "-prog",
            "x",
        ]);
        assert!(c.guest_child);
        assert_eq!(c.ignored_signals, Some(0x1001));
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
                "33554432"
            ]
        );
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
    }
}
