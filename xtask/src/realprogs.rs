//! Real programs no one here wrote: Debian 13's riscv64 `busybox`,
//! coreutils, `bash`, `make`, `grep`, `sed`, `findutils` and Python 3.13
//! (from the sysroot `sysroot.rs` builds), esbuild's riscv64 build from
//! the npm registry (`esbuild.rs`), and ruff's and uv's from PyPI
//! (`pypi.rs`), each run under pvm and compared with an oracle: stdout and
//! exit status must be equal.
//!
//! The oracle of a case is one of
//! - `qemu-riscv64 -L SYSROOT` on the same program (the default);
//! - a host command ([`Oracle::Host`]) where qemu cannot be one: qemu-user
//!   cannot `execve` a RISC-V child on a host without binfmt_misc, so a
//!   case whose program runs other programs is compared with the same
//!   command run by the host's own tools (host `bash`, `sh`, `make`,
//!   `python3`);
//! - the x86-64 build of the same esbuild, ruff or uv version
//!   ([`Oracle::X64Build`]).
//!
//! The oracle must itself give the case's expected status, so a broken
//! oracle fails the case instead of agreeing with a broken pvm.
//!
//! Every case runs in a fresh scratch directory holding a copy of its
//! fixture (`tests/realprogs/files/` or `tests/realprogs/js/`), with a
//! small fixed environment.
//!
//! Cases marked [`Needs::Processes`] or [`Needs::Threads`] need what pvm
//! does not have yet (issues 9 and 8). They run and report all the same;
//! [`EXPECTED_FAIL`] lists, with the reason, the cases that fail today. A
//! case there that passes is an error (so the list is kept honest), and so
//! is a case not there that fails.

use crate::esbuild::{self, Esbuild};
use crate::pypi::{self, Wheels};
use crate::suite::{Outcome, engine_args, pvm_binary};
use crate::sysroot::{self, FetchError};
use crate::util::{Captured, first_diff, root, run_captured, show};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// What a case needs from pvm beyond running one single-threaded process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Nothing,
    /// fork, execve, wait (issue 9).
    Processes,
    /// clone of threads, futex (issue 8).
    Threads,
    /// Other system calls pvm lacks today (issues 8 and 9 list them).
    Syscalls,
}

impl Needs {
    fn label(self) -> &'static str {
        match self {
            Needs::Nothing => "-",
            Needs::Processes => "processes",
            Needs::Threads => "threads",
            Needs::Syscalls => "syscalls",
        }
    }
}

/// The program a case runs under pvm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prog {
    /// A path inside the sysroot, as the guest would see it (`/usr/bin/bash`).
    Sysroot(&'static str),
    /// esbuild's riscv64 build.
    Esbuild,
    /// ruff's riscv64 build (PyPI), dynamically linked: it runs with the
    /// sysroot.
    Ruff,
    /// uv's riscv64 build (PyPI), as `Ruff`.
    Uv,
}

/// What pvm's run is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Oracle {
    /// The same program and arguments under `qemu-riscv64 -L SYSROOT`.
    Qemu,
    /// A host command (program and all its arguments).
    Host(Vec<String>),
    /// The x86-64 build of the same program (esbuild, ruff, uv) with the
    /// same arguments.
    X64Build,
}

#[derive(Debug, Clone)]
pub struct RealCase {
    pub name: &'static str,
    pub prog: Prog,
    pub args: Vec<String>,
    pub stdin: Vec<u8>,
    /// The status the oracle must give (and so pvm).
    pub status: i32,
    /// The stdout the oracle must give, where the case knows it.
    pub want: Option<Vec<u8>>,
    pub needs: Needs,
    pub oracle: Oracle,
    /// The directory under `tests/realprogs/` copied in as the working
    /// directory.
    pub fixture: &'static str,
    pub timeout: Duration,
    /// Also run on the bare-metal host (`baremetal:E` engines, see
    /// [`test_step`]).
    pub baremetal: bool,
}

/// Cases that fail under pvm today, with the reason. The test step fails
/// when one of these passes (remove it here) or when any other case fails.
pub const EXPECTED_FAIL: &[(&str, &str)] = &[
    // Empty: every case passes with threads and processes in. A case that
    // fails for a known, accepted reason goes here with that reason.
];

fn expected_fail(name: &str) -> Option<&'static str> {
    EXPECTED_FAIL
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, why)| *why)
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A case with the defaults: qemu oracle, status 0, no stdin, the `files`
/// fixture.
fn case(name: &'static str, prog: &'static str, args: &[&str]) -> RealCase {
    RealCase {
        name,
        prog: Prog::Sysroot(prog),
        args: strings(args),
        stdin: Vec::new(),
        status: 0,
        want: None,
        needs: Needs::Nothing,
        oracle: Oracle::Qemu,
        fixture: "files",
        timeout: Duration::from_secs(120),
        baremetal: false,
    }
}

impl RealCase {
    fn stdin(mut self, s: impl Into<Vec<u8>>) -> Self {
        self.stdin = s.into();
        self
    }
    fn status(mut self, s: i32) -> Self {
        self.status = s;
        self
    }
    /// Needs system calls pvm lacks today.
    fn syscalls(mut self) -> Self {
        self.needs = Needs::Syscalls;
        self
    }
    /// Needs fork but never execs a RISC-V program: qemu is still the oracle.
    fn forks(mut self) -> Self {
        self.needs = Needs::Processes;
        self.timeout = Duration::from_secs(60);
        self
    }
    /// Needs fork and exec, and qemu is still the oracle: the programs the
    /// case runs are ones the host has too (`sh`, `sort`, `diff`), and
    /// qemu-user runs a child `execve` as the host's own program. For a
    /// program the host lacks (gawk), where the host command cannot be the
    /// oracle.
    fn host_children(mut self) -> Self {
        self = self.forks();
        self.timeout = Duration::from_secs(120);
        self
    }
    /// Needs fork and exec: the host command `argv` is the oracle.
    fn execs(mut self, argv: &[&str]) -> Self {
        self = self.forks();
        self.oracle = Oracle::Host(strings(argv));
        self
    }
    /// A multi-threaded program (the Go runtime's threads, thread pools).
    fn threads(mut self) -> Self {
        self.needs = Needs::Threads;
        self
    }
    /// Runs on the bare-metal host too (its ramdisk holds the program
    /// alone: nothing from the fixture, and no other program than itself).
    fn baremetal(mut self) -> Self {
        self.baremetal = true;
        self
    }
}

/// `seq 1 N` as bytes, for stdin.
fn seq(n: u32) -> Vec<u8> {
    (1..=n).map(|i| format!("{i}\n")).collect::<String>().into()
}

const BB: &str = "/usr/bin/busybox";
const BASH: &str = "/usr/bin/bash";
const PY: &str = "/usr/bin/python3.13";
const MAKE: &str = "/usr/bin/make";
const PERL: &str = "/usr/bin/perl";
const GAWK: &str = "/usr/bin/gawk";
const DIFF: &str = "/usr/bin/diff";
const SQLITE: &str = "/usr/bin/sqlite3";
const SHFMT: &str = "/usr/bin/shfmt";
const FZF: &str = "/usr/bin/fzf";
const AGE: &str = "/usr/bin/age";
const NODE: &str = "/usr/bin/node";
const RUBY: &str = "/usr/bin/ruby3.3";
const JAVA: &str = "/usr/lib/jvm/java-21-openjdk-riscv64/bin/java";
/// GCC 14's compiler proper, and the options its driver gives it for this
/// target (`gcc -###`); also `cargo xtask bench`'s cc1 start-up row.
pub const CC1: &str = "/usr/libexec/gcc/riscv64-linux-gnu/14/cc1";
pub const CC1_TARGET: &[&str] = &[
    "-quiet",
    "-imultilib",
    ".",
    "-imultiarch",
    "riscv64-linux-gnu",
    "-march=rv64imafdc_zicsr_zifencei",
    "-mabi=lp64d",
    "-misa-spec=20191213",
];
/// GNU tar's options for an archive that is the same bytes on every run
/// (the fixture's copies have the time of the copy).
const TAR_FIXED: &[&str] = &[
    "--sort=name",
    "--mtime=@0",
    "--owner=0",
    "--group=0",
    "--numeric-owner",
];

/// A `bash SCRIPT` case (a script of `tests/realprogs/files/scripts/`)
/// run by the host's bash, and so the host's own tools, as the oracle.
fn bash_script(name: &'static str, script: &'static str) -> RealCase {
    let mut c = case(name, BASH, &[script]).execs(&["bash", script]);
    c.timeout = Duration::from_secs(300);
    c
}

/// bash with builtins only: no child process, but bash's start-up calls
/// getpgrp (getpgid), which pvm lacks today.
fn bash_builtins(name: &'static str, args: &[&str]) -> RealCase {
    case(name, BASH, args).syscalls()
}

/// A `bash -c SCRIPT` case run by the host's bash as the oracle.
fn bash_exec(name: &'static str, script: &str) -> RealCase {
    case(name, BASH, &["-c", script]).execs(&["bash", "-c", script])
}

/// A `busybox sh -c SCRIPT` case run by the host's `sh` as the oracle.
fn bb_sh_exec(name: &'static str, script: &str) -> RealCase {
    case(name, BB, &["sh", "-c", script]).execs(&["sh", "-c", script])
}

/// A `python3 -c CODE` case run by the host's python3 as the oracle.
fn py_exec(name: &'static str, code: &str) -> RealCase {
    case(name, PY, &["-c", code]).execs(&["python3", "-c", code])
}

/// Every case, in report order.
pub fn cases() -> Vec<RealCase> {
    let words = fs::read(root().join("tests/realprogs/files/words.txt")).unwrap_or_default();
    let mut v = vec![
        // busybox applets, one process each.
        case("bb.echo", BB, &["echo", "hello", "from", "busybox"]),
        case("bb.sort", BB, &["sort"]).stdin(words.clone()),
        case("bb.sort-nru", BB, &["sort", "-n", "-r", "-u"]).stdin(
            "10\n9\n100\n9\n-3\n2.5\n"
        ),
        case("bb.sha256sum", BB, &["sha256sum", "data.txt", "words.txt"]),
        case("bb.md5sum-stdin", BB, &["md5sum"]).stdin(seq(1000)),
        case("bb.wc", BB, &["wc", "data.txt"]),
        case("bb.wc-stdin", BB, &["wc", "-l"]).stdin(seq(1000)),
        case(
            "bb.sed",
            BB,
            &["sed", "-e", "s/o/0/g", "-e", "2d", "-e", "/^root/s/:.*//", "data.txt"],
        ),
        case(
            "bb.awk",
            BB,
            &["awk", "{ n += length($0); w += NF } END { print NR, w, n }", "data.txt"],
        ),
        case(
            "bb.awk-fields",
            BB,
            &["awk", "-F:", "NF > 3 { printf \"%s uid=%d shell=%s\\n\", $1, $3, $7 }", "data.txt"],
        ),
        case(
            "bb.awk-math",
            BB,
            &["awk", "BEGIN { for (i = 1; i <= 5; i++) printf \"%d %d %s %s %s\\n\", i, i * i * i % 7, substr(\"abcdef\", i, 2), toupper(sprintf(\"%x\", i * 255)), 7 / 2 }"],
        ),
        case("bb.tr", BB, &["tr", "a-z", "A-Z"]).stdin("hello, riscv world\n"),
        case("bb.uniq", BB, &["uniq", "-c"]).stdin("a\na\nb\nc\nc\nc\n"),
        case("bb.cut", BB, &["cut", "-d:", "-f1,6", "data.txt"]),
        case("bb.base64", BB, &["base64", "data.txt"]),
        case("bb.od", BB, &["od", "-A", "x", "-t", "x1", "-c", "words.txt"]),
        case("bb.expr", BB, &["expr", "12345", "*", "6789"]),
        case("bb.false", BB, &["false"]).status(1),
        case(
            "bb.sh-builtins",
            BB,
            &["sh", "-c", "i=0; s=; while [ $i -lt 10 ]; do s=\"$s$i\"; i=$((i + 1)); done; echo \"$s\" ${#s}; set -- a b c; echo $# \"$2\"; exit 4"],
        )
        .status(4),
        // coreutils, grep, sed, findutils, one process each.
        case("coreutils.ls", "/usr/bin/ls", &["tree", "tree/sub"]),
        case("coreutils.ls-laF", "/usr/bin/ls", &["-1aF", "tree"]),
        case("coreutils.ls-R", "/usr/bin/ls", &["-R", "tree"]),
        case("coreutils.sort", "/usr/bin/sort", &["words.txt"]),
        case("coreutils.sort-keys", "/usr/bin/sort", &["-t:", "-k3,3n", "-k1,1r", "data.txt"]),
        case("coreutils.sort-stdin", "/usr/bin/sort", &["-rn"]).stdin(seq(1000)),
        case("coreutils.sha256sum", "/usr/bin/sha256sum", &["data.txt", "words.txt"]),
        case("coreutils.sha512sum-stdin", "/usr/bin/sha512sum", &["-"]).stdin(seq(1000)),
        case("coreutils.md5sum", "/usr/bin/md5sum", &["data.txt"]),
        case("coreutils.cat", "/usr/bin/cat", &["-n", "-A", "data.txt"]),
        case("coreutils.tr", "/usr/bin/tr", &["-s", "a-z", "A-Z"]).stdin("aabbcc hello\n"),
        case("coreutils.tail-stdin", "/usr/bin/tail", &["-n", "3"]).stdin(seq(1000)),
        case("coreutils.wc-stdin", "/usr/bin/wc", &[]).stdin(seq(1000)),
        case("coreutils.seq", "/usr/bin/seq", &["-s", ",", "-w", "1", "7", "100"]),
        case("coreutils.factor", "/usr/bin/factor", &["1234567890", "600851475143", "97"]),
        case("coreutils.printf", "/usr/bin/printf", &["%05d|%-6s|%x|%.3e\\n", "42", "ab", "255", "12345.678"]),
        case("coreutils.date", "/usr/bin/date", &["-u", "-d", "@1234567890", "+%Y-%m-%d %H:%M:%S %j %A"]),
        case("coreutils.numfmt", "/usr/bin/numfmt", &["--to=iec", "1024", "1048576", "123456789"]),
        case("coreutils.base64-d", "/usr/bin/base64", &["-d"]).stdin("aGVsbG8gcGF0aCBvZiBsZWFzdCByZXNpc3RhbmNlCg==\n"),
        case("coreutils.stat", "/usr/bin/stat", &["-c", "%n %s %F %a", "data.txt", "tree", "tree/run.sh"]),
        case("coreutils.cmp-missing", "/usr/bin/cat", &["no-such-file"]).status(1),
        case("grep.n", "/usr/bin/grep", &["-n", "qu", "data.txt"]),
        case("grep.E-c", "/usr/bin/grep", &["-E", "-c", "^[A-Z][a-z]+ ", "data.txt"]),
        case("grep.P", "/usr/bin/grep", &["-oP", "\\d+(?= [a-z]+)", "data.txt"]),
        case("grep.r", "/usr/bin/grep", &["-r", "-l", "--include=*.txt", "a", "tree"]),
        case("grep.none", "/usr/bin/grep", &["zzz", "data.txt"]).status(1),
        case("sed.E", "/usr/bin/sed", &["-E", "-n", "s/^([a-z]+):x:([0-9]+).*/\\2 \\1/p", "data.txt"]),
        case("find.name", "/usr/bin/find", &["tree", "-name", "*.txt", "-type", "f"]),
        case("find.printf", "/usr/bin/find", &["tree", "-mindepth", "1", "-printf", "%d %y %P\\n"]),
        // bash with builtins only: no child process.
        bash_builtins("bash.loops",
            &["-c", "for ((i = 0; i < 12; i++)); do printf '%d ' $((i * i)); done; echo; n=0; while ((n < 1000)); do ((n += 37)); done; echo $n"],
        ),
        bash_builtins("bash.arith",
            &["-c", "echo $((2**40)) $((-7 / 2)) $((-7 % 2)) $((0x7f ^ 0x0f)) $((1 << 62)) $((~5)) $(( (3 > 2) ? 10 : 20 ))"],
        ),
        bash_builtins("bash.strings",
            &["-c", "s='Hello, RISC-V World'; echo \"${s,,}|${s^^}|${#s}|${s/World/pvm}|${s:7:6}|${s#*, }|${s%% *}\"; a=(one two three); a+=(four); echo ${#a[@]} \"${a[*]:1:2}\" \"${a[@]/o/0}\"; declare -A m=([x]=1 [y]=2); echo ${m[y]}${m[x]}"],
        ),
        bash_builtins("bash.herestring",
            &["-c", "read -r a b c <<< 'one two three'; echo \"$c $b $a\"; while IFS=: read -r user _ uid _; do echo \"$user=$uid\"; done <<< $'root:x:0:0\\ndaemon:x:1:1'"],
        ),
        bash_builtins("bash.heredoc-builtins",
            &["-c", "x=42\nwhile read -r line; do echo \"<$line>\"; done <<EOF\nfirst $x\nsecond $((x + 1))\nEOF\n"],
        ),
        bash_builtins("bash.functions",
            &["-c", "fib() { local n=$1 a=0 b=1 i t; for ((i = 0; i < n; i++)); do ((t = a + b, a = b, b = t)); done; REPLY=$a; }; fib 50; echo $REPLY; fact() { if (($1 <= 1)); then REPLY=1; else fact $(($1 - 1)); REPLY=$((REPLY * $1)); fi; }; fact 20; echo $REPLY; f() { return 3; }; f; echo \"status $?\"; g() { echo \"args: $# $*\"; shift; echo \"$1\"; }; g a b c; exit 5"],
        )
        .status(5),
        bash_builtins("bash.patterns",
            &["-c", "for f in report.txt image.png notes.md; do case $f in *.txt|*.md) echo \"text $f\";; *) echo \"other $f\";; esac; done; if [[ 'v1.22.3' =~ ^v([0-9]+)\\.([0-9]+)\\.([0-9]+)$ ]]; then echo \"${BASH_REMATCH[@]}\"; fi; shopt -s extglob; x=aaab; echo ${x//+(a)/A}"],
        ),
        bash_builtins("bash.printf-files",
            &["-c", "printf '%s\\n' tree/*.txt; printf -v v '%08.3f' 3.14159; echo $v; [[ -x tree/run.sh ]] && echo exec; read -r first < data.txt; echo \"$first\"; echo written > out.txt; echo $(< out.txt)"],
        ),
        bash_builtins("bash.exit", &["-c", "exit 42"]).status(42),
        // Python 3.13 with its standard library.
        case(
            "python.arith",
            PY,
            &["-c", "import math; print(2**200, 10/3, divmod(-7, 2), 0.1 + 0.2, math.factorial(30)); print(math.sqrt(2), math.sin(1.0), math.log(10), math.gcd(462, 1071), 1e308 * 10, -0.0); print(round(2.675, 2), int('ff', 16), (1 << 100) // 3, 7 ** 0.5, float.fromhex('0x1.8p1'))"],
        ),
        case(
            "python.json",
            PY,
            &["-c", "import json; d = {'b': [1, 2.5, None, True], 'a': {'x': 'é\\u2603'}, 'n': -3}; s = json.dumps(d, sort_keys=True); print(s); print(json.loads(s) == d, json.dumps(d, indent=2, ensure_ascii=False))"],
        ),
        case(
            "python.re",
            PY,
            &["-c", "import re; t = open('data.txt', encoding='utf-8').read(); print(re.findall(r'\\b\\w{6,}\\b', t)); print(re.sub(r'(\\w+):x:(\\d+)', r'\\2<-\\1', t.splitlines()[4])); print([m.span() for m in re.finditer('qu', t)])"],
        ),
        case(
            "python.hashlib",
            PY,
            &["-c", "import hashlib, zlib, binascii; b = open('data.txt', 'rb').read(); print(hashlib.sha256(b).hexdigest(), hashlib.md5(b).hexdigest(), hashlib.sha1(b).hexdigest()); print(hashlib.sha3_256(b).hexdigest(), hashlib.blake2b(b, digest_size=16).hexdigest()); print(zlib.crc32(b), binascii.hexlify(zlib.compress(b, 9)[:16]))"],
        ),
        case(
            "python.class",
            PY,
            &["-c", "from dataclasses import dataclass, field\nimport functools\n@functools.total_ordering\nclass Money:\n    def __init__(self, cents): self.cents = cents\n    def __add__(self, o): return Money(self.cents + o.cents)\n    def __eq__(self, o): return self.cents == o.cents\n    def __lt__(self, o): return self.cents < o.cents\n    def __repr__(self): return f'Money({self.cents // 100}.{self.cents % 100:02d})'\n@dataclass(order=True)\nclass Item:\n    price: Money\n    name: str = field(compare=False)\nitems = sorted([Item(Money(250), 'tea'), Item(Money(99), 'gum'), Item(Money(1250), 'book')])\nprint(items, sum((i.price for i in items), Money(0)), max(items).name)"],
        ),
        case(
            "python.unicode",
            PY,
            &["-c", "s = 'Grüße aus Zürich: naïve café ☃ 𝄞'; print(s.upper(), s.casefold(), len(s), len(s.encode()), s.encode('utf-8').hex()[:40]); print(sorted(set(s.lower()) - set(' :'))); print(ascii(s), s[::-1], 'ß'.upper(), '\\N{GREEK SMALL LETTER ALPHA}')"],
        ),
        case("python.platform", PY, &["-c", "import sys; print(sys.platform, sys.byteorder, sys.maxsize, sys.version_info[:2], sys.implementation.name)"]),
        case(
            "python.stdlib",
            PY,
            &["-c", "import random, collections, itertools, struct, datetime, fractions, decimal, textwrap, base64; random.seed(7); print(random.random(), random.randint(1, 10**9), random.sample(range(100), 5)); print(collections.Counter('mississippi').most_common(3), list(itertools.permutations('abc', 2))[:4]); print(struct.pack('<dIh', 1.5, 7, -2).hex(), datetime.datetime.fromtimestamp(1234567890, datetime.timezone.utc).isoformat()); print(fractions.Fraction(3, 7) + fractions.Fraction(1, 3), decimal.Decimal('1.1') + decimal.Decimal('2.2'), base64.b85encode(b'pvm')); print(textwrap.fill('The quick brown fox jumps over the lazy dog ' * 3, 30))"],
        ),
        case(
            "python.compress",
            PY,
            &["-c", "import bz2, lzma, zlib; b = open('data.txt', 'rb').read() * 50; print([(len(m.compress(b)) > 0, m.decompress(m.compress(b)) == b) for m in (bz2, lzma, zlib)])"],
        ),
        case(
            "python.files",
            PY,
            &["-c", "import os, pathlib, tempfile; p = pathlib.Path('tree'); print(sorted(str(q) for q in p.rglob('*'))); os.makedirs('made/deep', exist_ok=True); pathlib.Path('made/deep/f.txt').write_text('x' * 10); print(os.path.getsize('made/deep/f.txt'), sorted(os.listdir('made'))); os.rename('made/deep/f.txt', 'made/g.txt'); print(os.path.exists('made/g.txt'), oct(os.stat('tree/run.sh').st_mode & 0o777))"],
        ),
        case("python.exit", PY, &["-c", "import sys; print('bye'); sys.exit(3)"]).status(3),
        case("python.exception", PY, &["-c", "print('before'); raise ValueError('boom')"]).status(1),
        case(
            "python.sqlite3",
            PY,
            &["-c", "import sqlite3; c = sqlite3.connect(':memory:'); c.execute('create table t(x integer, s text)'); c.executemany('insert into t values (?, ?)', [(i, str(i) * 2) for i in range(100)]); print(c.execute('select sum(x), count(*), max(s) from t where x % 3 = 0').fetchone(), sqlite3.sqlite_version)"],
        ),
        case(
            "python.ctypes-ssl",
            PY,
            &["-c", "import ctypes, ssl; libc = ctypes.CDLL(None); print(libc.strlen(b'hello'), ctypes.sizeof(ctypes.c_long), ssl.OPENSSL_VERSION_INFO[:2]); buf = ctypes.create_string_buffer(16); libc.snprintf(buf, 16, b'%d-%s', 42, b'x'); print(buf.value)"],
        ),
        case(
            "python.mmap-signal",
            PY,
            &["-c", "import mmap, signal, time\nwith open('data.txt', 'rb') as f:\n    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)\n    print(m[:9], m.find(b'zebras'), len(m))\nhits = []\nsignal.signal(signal.SIGALRM, lambda *a: hits.append(1))\nsignal.setitimer(signal.ITIMER_REAL, 0.02)\ntime.sleep(0.5)\nprint('alarm', hits)"],
        ),
        // Single-process Python that reaches calls pvm lacks today.
        case(
            "python.asyncio",
            PY,
            &["-c", "import asyncio\nasync def f(i):\n    await asyncio.sleep(0.01 * i)\n    return i * i\nasync def main():\n    return await asyncio.gather(*(f(i) for i in range(5)))\nprint(asyncio.run(main()))"],
        )
        .syscalls(),
        case("python.select", PY, &["-c", "import select, sys; print(select.select([sys.stdin], [], [], 5)[0] == [sys.stdin], sys.stdin.readline().strip())"])
            .stdin("line\n")
            .syscalls(),
        case(
            "python.set-blocking",
            PY,
            &["-c", "import os\nr, w = os.pipe()\nos.set_blocking(r, False)\nprint(os.get_blocking(r))\ntry:\n    os.read(r, 1)\nexcept BlockingIOError:\n    print('would block')"],
        )
        .syscalls(),
        case(
            "python.copy2",
            PY,
            &["-c", "import os, shutil; shutil.copy2('data.txt', 'copy.txt'); a, b = os.stat('data.txt'), os.stat('copy.txt'); print(open('copy.txt').read() == open('data.txt').read(), a.st_mtime_ns == b.st_mtime_ns, oct(b.st_mode))"],
        )
        .syscalls(),
        case("python.stdin", PY, &["-c", "import sys; xs = [int(l) for l in sys.stdin]; print(len(xs), sum(xs), sum(x * x for x in xs) % 1000003)"]).stdin(seq(1000)),
        // make without running a recipe.
        case("make.n", MAKE, &["-n", "-f", "build.mk"]),
        case("make.functions", MAKE, &["-s", "-f", "info.mk"]),
        case("make.missing-rule", MAKE, &["-f", "build.mk", "no-such-target"]).status(2),
        // Processes: fork only (qemu can still be the oracle) ...
        case("bash.subshell", BASH, &["-c", "(exit 3); echo \"sub $?\"; x=$(echo inner; exit 4); echo \"$x $?\"; (echo nested; (echo deeper)) "]).forks(),
        case("bash.pipe-builtins", BASH, &["-c", "echo 'a b c' | { read -r x y z; echo \"$z $y $x\"; }; printf '%s\\n' 3 1 2 | while read -r n; do echo $((n * 10)); done"]).forks(),
        case("busybox.subshell", BB, &["sh", "-c", "(exit 3); echo \"sub $?\"; x=$(echo inner); echo \"[$x]\""]).forks(),
        case("python.fork", PY, &["-c", "import os, sys\nsys.stdout.flush()\npid = os.fork()\nif pid == 0:\n    print('child', flush=True)\n    os._exit(7)\n_, st = os.waitpid(pid, 0)\nprint('parent', os.WIFEXITED(st), os.WEXITSTATUS(st))"]).forks(),
        // System V IPC through ctypes, as sysv_ipc-style users reach it: a
        // segment a forked child writes, a message queue (issue 9).
        case("python.sysv-ipc", PY, &["-c", "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nlibc.shmat.restype = ctypes.c_void_p\nshm = libc.shmget(0, 8192, 0o1600)\np = libc.shmat(shm, None, 0)\nbuf = (ctypes.c_char * 8192).from_address(p)\npid = os.fork()\nif pid == 0:\n    buf[0:5] = b'hello'\n    os._exit(0)\nos.waitpid(pid, 0)\nprint('parent reads', bytes(buf[0:5]))\nclass M(ctypes.Structure):\n    _fields_ = [('t', ctypes.c_long), ('x', ctypes.c_char * 16)]\nq = libc.msgget(0, 0o1600)\nprint('msgsnd', libc.msgsnd(q, ctypes.byref(M(3, b'via msg')), 8, 0))\nr = M()\nprint('msgrcv', libc.msgrcv(q, ctypes.byref(r), 16, 0, 0), r.t, r.x)\nprint('rmid', libc.msgctl(q, 0, None), libc.shmdt(ctypes.c_void_p(p)), libc.shmctl(shm, 0, None))"]).forks(),
        // ... and fork with exec of other programs (the host's tools are the oracle).
        bb_sh_exec("busybox.pipeline", "printf 'b a c\\n' | tr ' ' '\\n' | sort | head -n 2"),
        bb_sh_exec("busybox.cmdsubst", "x=$(echo hi | tr a-z A-Z); echo \"[$x]\" $(seq 3 | wc -l)"),
        // Under -L, /proc and /tmp are the host's, not the sysroot's
        // empty directories of those names: a child is listed in /proc, a
        // file made in /tmp is listed there.
        bb_sh_exec(
            "busybox.proc-tmp-listing",
            "sleep 5 & p=$!; ls /proc | grep -qx \"$p\" && echo child listed; \
             f=$(mktemp); ls /tmp | grep -qx \"${f##*/}\" && echo tmp file listed; rm \"$f\"; \
             kill $p; wait $p; echo \"status $?\"",
        ),
        bb_sh_exec("busybox.xargs", "printf 'one two\\nthree four five\\n' | xargs -n 2 echo item"),
        // The bare-metal host's guest shell pipeline (issue 9): pipes
        // between processes, command substitution and a subshell, each
        // applet an exec of busybox itself (/proc/self/exe).
        bb_sh_exec(
            "busybox.pipeline-baremetal",
            "x=$(echo a b c | tr ' ' '\\n' | sort -r | head -2 | tr '\\n' ' '); \
             (echo \"got: $x\"; cd /; echo \"sub $(pwd)\") | sort; echo \"status $?\"",
        )
        .baremetal(),
        bb_sh_exec("busybox.find-exec", "find tree -name '*.txt' -exec cat {} +; find tree -type f -name '*.log' -exec wc -c {} \\;"),
        bash_exec("bash.pipeline", "seq 1 100 | sort -rn | head -n 3; echo \"${PIPESTATUS[@]}\""),
        bash_exec("bash.cmdsubst", "echo \"$(echo inner | tr a-z A-Z)\" $(( $(seq 1 10 | wc -l) * 2 ))"),
        // coreutils' timeout: a POSIX timer (timer_create) ends the command.
        bash_exec("bash.timeout", "timeout 0.2 sleep 5; echo $?; timeout 5 true; echo $?; timeout -s INT 0.1 sleep 5; echo $?"),
        bash_exec("bash.heredoc-cat", "cat <<EOF\nhello $((1 + 2))\n  indented\nEOF\nsort <<'EOF'\nb\n$x\na\nEOF"),
        case(MAKE_BUILD, MAKE, &["-s", "-f", "build.mk"]).execs(&["make", "-s", "-f", "build.mk"]),
        py_exec("python.subprocess", "import subprocess; r = subprocess.run(['sort'], input=b'b\\na\\nc\\n', capture_output=True); print(r.returncode, r.stdout); print(subprocess.run(['sh', '-c', 'exit 5']).returncode, subprocess.check_output('echo $((6 * 7))', shell=True))"),
        py_exec("python.system", "import os; print(os.system('exit 3') >> 8, flush=True); os.system('echo from-sh')"),
    ];
    v.extend(wide_cases());
    v.extend(go_cases(&words));
    v.extend(jit_cases());
    v.extend(gcc_cases());
    // esbuild: a static Go program (threads from before main).
    let esb = |name, args: &[&str]| RealCase {
        name,
        prog: Prog::Esbuild,
        args: strings(args),
        stdin: Vec::new(),
        status: 0,
        want: None,
        needs: Needs::Threads,
        oracle: Oracle::X64Build,
        fixture: "js",
        timeout: Duration::from_secs(30),
        baremetal: false,
    };
    let mut version = esb("esbuild.version", &["--version"]);
    version.want = Some(format!("{}\n", esbuild::VERSION).into_bytes());
    v.push(version);
    v.push(esb(
        "esbuild.bundle-minify",
        &[
            "src/main.js",
            "--bundle",
            "--minify",
            "--format=iife",
            "--target=es2020",
        ],
    ));
    v.push(esb(
        "esbuild.bundle-esm",
        &[
            "src/main.js",
            "--bundle",
            "--format=esm",
            "--platform=node",
            "--sourcemap=inline",
        ],
    ));
    // ruff and uv: Rust programs on thread pools, dynamically linked.
    let wheel = |name, prog, args: &[&str], status| RealCase {
        name,
        prog,
        args: strings(args),
        stdin: Vec::new(),
        status,
        want: None,
        needs: Needs::Threads,
        oracle: Oracle::X64Build,
        fixture: "files",
        timeout: Duration::from_secs(120),
        baremetal: false,
    };
    let mut version = wheel("ruff.version", Prog::Ruff, &["--version"], 0);
    version.want = Some(format!("ruff {}\n", pypi::RUFF_VERSION).into_bytes());
    v.push(version);
    // Every rule on CPython's own email, json and http packages (code no
    // one here wrote), one file per worker thread.
    let py_dirs = [
        "@SYSROOT@/usr/lib/python3.13/email",
        "@SYSROOT@/usr/lib/python3.13/json",
        "@SYSROOT@/usr/lib/python3.13/http",
    ];
    let mut check = vec![
        "check",
        "--no-cache",
        "--select",
        "ALL",
        "--output-format",
        "concise",
    ];
    check.extend(py_dirs);
    v.push(wheel("ruff.check-all", Prog::Ruff, &check, 1));
    let mut stats = vec!["check", "--no-cache", "--select", "ALL", "--statistics"];
    stats.extend(py_dirs);
    v.push(wheel("ruff.statistics", Prog::Ruff, &stats, 1));
    let mut format = vec!["format", "--no-cache", "--diff"];
    format.extend(py_dirs);
    v.push(wheel("ruff.format-diff", Prog::Ruff, &format, 1));
    // uv's resolver, offline, over the downloaded wheels; it looks for a
    // Python interpreter too (under pvm, the sysroot's riscv64 python3,
    // which it runs as a child).
    let mut compile = wheel(
        "uv.pip-compile",
        Prog::Uv,
        &[
            "pip",
            "compile",
            "--offline",
            "--no-index",
            "--find-links",
            "@WHEELS@",
            "--python-version",
            "3.12",
            "--python-platform",
            "x86_64-manylinux_2_31",
            "--no-cache",
            "--no-header",
            "-",
        ],
        0,
    );
    compile.stdin = format!("ruff>=0.5\nuv=={}\n", pypi::UV_VERSION).into_bytes();
    compile.needs = Needs::Processes;
    v.push(compile);
    v
}

const MAKE_BUILD: &str = "make.build";

/// Debian's Go programs, static: the Go runtime starts its threads before
/// `main`, preempts goroutines with SIGURG and waits in epoll and futexes.
/// shfmt (a shell formatter: its output, and its diff with status 1), fzf
/// (its non-interactive filter; matching a large input runs on several
/// goroutines) and age (a public key from a secret one, and decryption of
/// an armored file made for that key). Two run on the bare-metal host too,
/// reading their input from stdin.
fn go_cases(words: &[u8]) -> Vec<RealCase> {
    let messy = fs::read(root().join("tests/realprogs/files/go/messy.sh")).unwrap_or_default();
    vec![
        case("go.shfmt", SHFMT, &["-i", "2", "-ci", "go/messy.sh"]).threads(),
        case("go.shfmt-diff", SHFMT, &["-d", "go/messy.sh"])
            .status(1)
            .threads(),
        case("go.shfmt-stdin", SHFMT, &["-s", "-bn"])
            .stdin(messy)
            .threads()
            .baremetal(),
        case("go.fzf-filter", FZF, &["--filter", "a"])
            .stdin(words.to_vec())
            .threads(),
        case("go.fzf-filter-big", FZF, &["--filter", "12", "-e"])
            .stdin(seq(300_000))
            .threads()
            .baremetal(),
        case(
            "go.age-keygen-y",
            "/usr/bin/age-keygen",
            &["-y", "go/age-key.txt"],
        )
        .threads(),
        case(
            "go.age-decrypt",
            AGE,
            &["-d", "-i", "go/age-key.txt", "go/msg.age"],
        )
        .threads(),
    ]
}

/// Node.js 20 (Debian's `nodejs`) and OpenJDK 21: V8's RISC-V JIT writes machine code,
/// flushes the instruction cache with `riscv_flush_icache` and runs it,
/// over and over, in the main thread and in workers (HotSpot does as much
/// with its own JIT and runs on its SIGSEGV handler), so these cases test
/// pvm's handling of code the guest changes (invalidation, threads) on a
/// program nobody here wrote, and its event loop over epoll, sockets,
/// signals, timers and child processes.
fn jit_cases() -> Vec<RealCase> {
    vec![
        // Tiered compilation, deoptimization, BigInt, zlib and OpenSSL.
        case("node.jit", NODE, &["node/jit.js"]).threads(),
        // worker_threads: SharedArrayBuffer, Atomics.wait/notify, ports.
        case("node.workers", NODE, &["node/worker.js"]).threads(),
        // Files, loopback TCP and HTTP, signals, timers; `/bin/sh`
        // children, which qemu-user runs as the host's own `sh`.
        case("node.io", NODE, &["node/io.js"]).host_children(),
        // OpenJDK 21's HotSpot (see `java/Main.java`): JIT-compiled code,
        // faults turned into NullPointerException and StackOverflowError,
        // a thread pool, monitors and interrupts.
        case("java.main", JAVA, &["-cp", "java", "Main"]).threads(),
        // Ruby 3.3 (no JIT of its own here): threads under its GVL, fork,
        // sockets, fibers, signals and `sh` children (see `ruby/main.rb`).
        case("ruby.main", RUBY, &["ruby/main.rb"]).host_children(),
    ]
}

/// GCC 14, Debian's native riscv64 compiler: `cc1` alone (a large
/// program whose code mostly runs once, as a compiler's does) against
/// qemu-riscv64, and the `gcc` driver building a two-file program and
/// running it (the driver execs `cc1`, `as`, `collect2` and `ld`, all
/// RISC-V programs of the sysroot), with the host's own gcc building and
/// running the same sources as the oracle.
fn gcc_cases() -> Vec<RealCase> {
    let build = |cc: &str| {
        format!(
            "{cc} -O2 -Wall -c gcc/stats.c -o stats.o && {cc} -O2 -Wall -o prog gcc/prog.c stats.o -lm && ./prog 5"
        )
    };
    let guest = build("gcc-14");
    let host = build("gcc");
    let mut cc1 = CC1_TARGET.to_vec();
    cc1.extend(["-O2", "gcc/prog.c", "-o", "-"]);
    let mut run = case("gcc.build-run", BASH, &["-c", &guest]).execs(&["bash", "-c", &host]);
    run.timeout = Duration::from_secs(300);
    vec![case("gcc.cc1", CC1, &cc1), run]
}

/// More programs real users run, each chosen for what it asks of the OS:
/// perl (fork, pipes, sockets, signals, exec), gawk (with MPFR, and
/// running commands), tar with gzip and threaded xz, diff, cmp, sdiff,
/// diff3 and patch, sqlite3 (a WAL database: a shared mapping and fcntl
/// locks, between processes too) and git.
fn wide_cases() -> Vec<RealCase> {
    let mut tar_create = strings(TAR_FIXED);
    tar_create.extend(strings(&["-cf", "-", "tree"]));
    let tar_create: Vec<&str> = tar_create.iter().map(String::as_str).collect();
    vec![
        case(
            "perl.oneliner",
            PERL,
            &["-e", "my @a = map { $_ * 1.5 } 1..5; printf \"%s %.10g %.2e %x %o %b\\n\", \"@a\", atan2(1,1)*4, 6.02214076e23, 255, 8, 10; my %h = (apple => 3, pear => 7, fig => 1); print join(\",\", map {\"$_=$h{$_}\"} sort { $h{$a} <=> $h{$b} } keys %h), \"\\n\"; my $s = \"The quick brown fox jumps over the lazy dog\"; my @w = ($s =~ /\\b(\\w{5})\\b/g); print \"@w\\n\"; (my $t = $s) =~ s/(\\w+)/\\u\\L$1/g; print \"$t\\n\"; print scalar(reverse \"abc\"), \" \", sprintf(\"%08.3f|%-6s|%+d|%.0f|%.15g\", -3.14159, \"ab\", 42, 2.5, 0.1 + 0.2), \"\\n\"; print join(\" \", sort { $a <=> $b } (10, 9, 100, -3, 2.5)), \"\\n\"; print 2**53 + 1, \" \", 9**20, \" \", int(-7/2), \" \", -7 % 3, \" \", 1e300*1e10, \" \", 0 * -1, \"\\n\";"],
        ),
        case(
            "perl.lines",
            PERL,
            &["-lane", "$n += @F; $w{lc $_}++ for /(\\w+)/g; print \"$.: $F[-1]\" if /qu|[0-9]/; END { print \"$n words, \", scalar(keys %w), \" distinct, top: \", join(\",\", (sort { $w{$b} <=> $w{$a} || $a cmp $b } keys %w)[0..2]) }", "data.txt"],
        ),
        case(
            "perl.subst-pack",
            PERL,
            &["-pe", "s/(\\d+)/$1 * 2/ge; s/^(\\w)/\\U$1/; $_ .= sprintf(\"  [%s]\\n\", join(\",\", unpack(\"C3\", $_))) if $. % 3 == 0", "data.txt"],
        ),
        // fork, pipes, open '-|' with no command, kill and SIGCHLD, alarm,
        // socketpair and loopback TCP: no exec, so qemu is the oracle.
        case("perl.procs", PERL, &["scripts/procs.pl"]).status(3).forks(),
        // open '-|' and '|-' with commands, qx, system, exec, %ENV: the
        // host's perl is the oracle.
        case("perl.exec", PERL, &["scripts/exec.pl"]).execs(&["perl", "scripts/exec.pl"]),
        // ithreads, flock between processes, IO::Select, Storable, ...
        case("perl.modules", PERL, &["scripts/modules.pl"]).forks(),
        // getaddrinfo, UDP and TCP over IPv4 and IPv6 loopback.
        case("perl.net", PERL, &["scripts/net.pl"]).forks(),
        // Signal dispositions, mask and pending signals across exec (the
        // child's /proc/self/status), many children, a process group.
        case("perl.signals-exec", PERL, &["scripts/sigexec.pl"])
            .execs(&["perl", "scripts/sigexec.pl"]),
        case(
            "gawk.builtins",
            GAWK,
            &["BEGIN { srand(42); for (i = 0; i < 3; i++) printf \"%.6f \", rand(); print \"\"; printf \"%d %i %5.2f %e %g %x %o %c %s\\n\", 2^53, -17.9, 3.14159, 1e-10, 123456789, 255, 8, 65, substr(\"hello\", 2, 3); print and(12, 10), or(12, 10), xor(12, 10), lshift(1, 40), (compl(0) > 0); print gensub(/([a-z]+)-([0-9]+)/, \"\\\\2:\\\\1\", \"g\", \"abc-12 def-345\"); print strftime(\"%Y-%m-%d %H:%M:%S\", 1234567890, 1); n = split(\"pear apple fig banana\", a); asort(a); for (i = 1; i <= n; i++) printf \"%s \", a[i]; print \"\"; s = \"Mississippi\"; print toupper(s), gsub(/ss/, \"SS\", s), s, index(s, \"SS\"), length(s); print 10 / 3, 2 ** 0.5, int(-3.7), 1e300 * 1e300, log(-1) }"],
        ),
        case(
            "gawk.fields",
            GAWK,
            &["-F:", "{ users[$7]++; uid += $3 } NR % 2 == 0 { printf \"%-10s %5d\\n\", $1, $3 } END { PROCINFO[\"sorted_in\"] = \"@ind_str_asc\"; for (s in users) print s, users[s]; print \"total uid\", uid, NR }", "data.txt"],
        ),
        // Arbitrary precision: GNU MPFR and GMP.
        case(
            "gawk.mpfr",
            GAWK,
            &["-M", "BEGIN { print 2^200, 3^100 % 1000007; x = 1; for (i = 1; i <= 30; i++) x *= i; print x; PREC = 200; printf \"%.50f\\n\", 1/3 }"],
        ),
        // Commands through sh: getline from a command, print to one,
        // system(). The children are the host's own under qemu.
        case(
            "gawk.commands",
            GAWK,
            &["BEGIN { while ((\"ls tree\" | getline f) > 0) { n++; names = names \" \" f }; close(\"ls tree\"); print n, names; print \"banana\\napple\\ncherry\" | \"sort\"; close(\"sort\"); r = system(\"echo from system; exit 3\"); print \"system\", r; \"date -u -d @0 +%Y\" | getline y; print \"year\", y; printf \"%s\\n\", \"x y z\" | \"tr a-z A-Z\"; close(\"tr a-z A-Z\"); print \"done\" }"],
        )
        .host_children(),
        // Two-way pipes to a command, and one through a pseudo-terminal.
        case(
            "gawk.coprocess",
            GAWK,
            &["BEGIN { cmd = \"sort -n\"; for (i = 5; i > 0; i--) print i * 7 |& cmd; close(cmd, \"to\"); while ((cmd |& getline l) > 0) printf \"%s \", l; close(cmd); print \"\"; c2 = \"tr a-z A-Z\"; PROCINFO[c2, \"pty\"] = 1; print \"through a pty\" |& c2; c2 |& getline x; print x; close(c2); print (PROCINFO[\"pid\"] > 0), (PROCINFO[\"ppid\"] > 0); \"echo $PPID\" | getline pp; print (pp == PROCINFO[\"pid\"]) }"],
        )
        .host_children(),
        // tar, gzip and xz alone, byte for byte against qemu's run.
        case("tar.create", "/usr/bin/tar", &tar_create),
        case("gzip.compress", "/usr/bin/gzip", &["-9", "-n", "-c", "data.txt", "words.txt"]),
        // Two worker threads, a block each 32 KiB of input.
        case("xz.threads", "/usr/bin/xz", &["-T2", "--block-size=32KiB", "-6", "-c"]).stdin(seq(60000)),
        // tar running gzip and xz, extraction, checks.
        bash_script("tar.gzip-xz", "scripts/tar.sh"),
        // A sparse file through tar -S and cp, sort's threads, a FIFO, ...
        bash_script("coreutils.files-script", "scripts/files.sh"),
        case(
            "diff.unified",
            DIFF,
            &["-u", "--label", "a/conf", "--label", "b/conf", "scripts/old.txt", "scripts/new.txt"],
        )
        .status(1),
        case("diff.normal", DIFF, &["scripts/old.txt", "scripts/mine.txt"]).status(1),
        case("diff.side", DIFF, &["-y", "-W", "72", "--suppress-common-lines", "scripts/old.txt", "scripts/new.txt"]).status(1),
        case("diff.recursive", DIFF, &["-r", "-q", "tree", "scripts"]).status(1),
        case("diff.same", DIFF, &["-s", "data.txt", "data.txt"]),
        case("cmp.differ", "/usr/bin/cmp", &["scripts/old.txt", "scripts/new.txt"]).status(1),
        case("cmp.bytes", "/usr/bin/cmp", &["-l", "scripts/old.txt", "scripts/mine.txt"]).status(1),
        // sdiff runs diff: the host's, under qemu.
        case("diff.sdiff", "/usr/bin/sdiff", &["-s", "-w", "60", "scripts/old.txt", "scripts/new.txt"])
            .status(1)
            .host_children(),
        // diff3 runs diff with options newer than some hosts' diff: the
        // host's diff3 is the oracle.
        case("diff.diff3", "/usr/bin/diff3", &["-m", "scripts/mine.txt", "scripts/old.txt", "scripts/new.txt"])
            .execs(&["diff3", "-m", "scripts/mine.txt", "scripts/old.txt", "scripts/new.txt"]),
        bash_script("patch.apply", "scripts/patch.sh"),
        // A WAL database: tables, an index, transactions and savepoints,
        // window functions, JSON, a checkpoint; one failed statement (a
        // foreign key) makes the status 1.
        case("sqlite3.wal", SQLITE, &["-batch", "lib.db", ".read scripts/db.sql"]).status(1),
        case("sqlite3.csv", SQLITE, &["-csv", "-header", ":memory:"]).stdin(
            "create table w(word text, n int);\n\
             insert into w select value, length(value) from json_each('[\"pear\",\"fig\",\"apple\",\"kiwi\"]');\n\
             select word, n, printf('%.4f', n / 3.0) as third from w order by n desc, word;\n\
             select group_concat(word, '+') over (order by word rows between 1 preceding and current row) from w;\n",
        ),
        // The locks between processes: forked readers and writers of a
        // WAL database (qemu is the oracle: fork only).
        case("sqlite3.locks-fork", PY, &["scripts/sqlite_locks.py"]).forks(),
        bash_script("git.workflow", "scripts/git.sh"),
        bash_script("git.history", "scripts/git-history.sh"),
    ]
}

/// Where a case's run happens: under pvm with an engine, or the oracle.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Side {
    Oracle,
    Pvm(String),
}

impl Side {
    fn label(&self) -> String {
        match self {
            Side::Oracle => "oracle".into(),
            Side::Pvm(e) => format!("pvm-{e}"),
        }
    }
}

/// What the cases need: the sysroot and, for esbuild's, ruff's and uv's
/// cases, their builds.
pub struct Inputs {
    pub sysroot: Result<PathBuf, FetchError>,
    pub esbuild: Result<Esbuild, FetchError>,
    pub wheels: Result<Wheels, FetchError>,
}

impl Inputs {
    /// Fetches what `cases` use (nothing when they use nothing).
    pub fn fetch(cases: &[RealCase]) -> Inputs {
        let unused = "not fetched: no selected case needs it";
        let needs_sysroot = cases
            .iter()
            .any(|c| matches!(c.prog, Prog::Sysroot(_) | Prog::Ruff | Prog::Uv));
        let needs_esbuild = cases.iter().any(|c| c.prog == Prog::Esbuild);
        let needs_wheels = cases
            .iter()
            .any(|c| matches!(c.prog, Prog::Ruff | Prog::Uv));
        Inputs {
            sysroot: if needs_sysroot {
                sysroot::ensure()
            } else {
                Err(FetchError::Failed(unused.into()))
            },
            esbuild: if needs_esbuild {
                esbuild::ensure()
            } else {
                Err(FetchError::Failed(unused.into()))
            },
            wheels: if needs_wheels {
                pypi::ensure()
            } else {
                Err(FetchError::Failed(unused.into()))
            },
        }
    }

    /// The input a case needs, or why it is missing.
    fn missing(&self, c: &RealCase) -> Option<&FetchError> {
        match c.prog {
            Prog::Sysroot(_) => self.sysroot.as_ref().err(),
            // Static, and its oracle is the x86-64 build: no sysroot.
            Prog::Esbuild => self.esbuild.as_ref().err(),
            Prog::Ruff | Prog::Uv => self.wheels.as_ref().err().or(self.sysroot.as_ref().err()),
        }
    }
}

/// The fixed environment of every run (pvm, qemu and host oracles alike).
fn environment() -> Vec<(&'static str, &'static str)> {
    vec![
        ("PATH", "/usr/bin:/bin"),
        ("LANG", "C"),
        ("LC_ALL", "C"),
        ("TZ", "UTC"),
        ("HOME", "/nonexistent"),
        // Debian's Python ships no .pyc files: never write them into the
        // sysroot.
        ("PYTHONDONTWRITEBYTECODE", "1"),
        ("PYTHONHASHSEED", "0"),
        ("PYTHONNOUSERSITE", "1"),
    ]
}

/// Copies a fixture tree (files, directories, modes) in name order.
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let mut entries: Vec<PathBuf> = fs::read_dir(from)
        .map_err(|e| format!("{}: {e}", from.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for src in entries {
        let dst = to.join(src.file_name().unwrap());
        if src.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            fs::copy(&src, &dst).map_err(|e| format!("{}: {e}", src.display()))?;
        }
    }
    Ok(())
}

/// Runs one side of a case in a scratch copy of its fixture.
fn run_side(c: &RealCase, side: &Side, inp: &Inputs) -> Result<Captured, String> {
    let prog: PathBuf = match &c.prog {
        Prog::Sysroot(p) => sysroot_path(inp, p)?,
        Prog::Esbuild => match (&inp.esbuild, side) {
            (Ok(e), Side::Pvm(_)) => e.riscv64.clone(),
            (Ok(e), Side::Oracle) => e.x64.clone(),
            (Err(e), _) => return Err(e.to_string()),
        },
        Prog::Ruff | Prog::Uv => {
            let w = inp.wheels.as_ref().map_err(|e| e.to_string())?;
            match (&c.prog, side) {
                (Prog::Ruff, Side::Oracle) => w.ruff_x64.clone(),
                (Prog::Ruff, _) => w.ruff_riscv64.clone(),
                (_, Side::Oracle) => w.uv_x64.clone(),
                _ => w.uv_riscv64.clone(),
            }
        }
    };
    let args = place_args(c, inp);
    if let Side::Pvm(engine) = side
        && let Some(e) = engine.strip_prefix(BAREMETAL)
    {
        return run_baremetal(c, &prog, e);
    }
    let mut cmd = match side {
        Side::Pvm(engine) => {
            let mut cmd = Command::new(pvm_binary());
            cmd.args(engine_args(engine));
            if let Ok(s) = &inp.sysroot {
                cmd.arg("-L").arg(s);
            }
            cmd.arg(&prog).args(&args);
            cmd
        }
        Side::Oracle => match &c.oracle {
            Oracle::Qemu => {
                let mut cmd = Command::new("qemu-riscv64");
                if let Ok(s) = &inp.sysroot {
                    cmd.arg("-L").arg(s);
                }
                cmd.arg(&prog).args(&args);
                cmd
            }
            Oracle::Host(argv) => {
                let mut cmd = Command::new(&argv[0]);
                cmd.args(&argv[1..]);
                cmd
            }
            Oracle::X64Build => {
                let mut cmd = Command::new(&prog);
                cmd.args(&args);
                cmd
            }
        },
    };
    let dir = std::env::temp_dir()
        .join(format!("pvm-realprogs-{}", std::process::id()))
        .join(format!("{}.{}", c.name, side.label()));
    let _ = fs::remove_dir_all(&dir);
    copy_tree(&root().join("tests/realprogs").join(c.fixture), &dir)?;
    cmd.current_dir(&dir).env_clear();
    for (k, v) in environment() {
        cmd.env(k, v);
    }
    let r = run_captured(&mut cmd, &c.stdin, c.timeout);
    let _ = fs::remove_dir_all(&dir);
    r
}

/// A case's arguments with `@SYSROOT@` (the sysroot's host path, for
/// files both sides read from it) and `@WHEELS@` (the directory of the
/// downloaded wheels) put in.
fn place_args(c: &RealCase, inp: &Inputs) -> Vec<String> {
    let sysroot = inp.sysroot.as_ref().map(|p| p.display().to_string());
    let wheels = inp.wheels.as_ref().map(|w| w.dir.display().to_string());
    c.args
        .iter()
        .map(|a| {
            let mut a = a.clone();
            if let Ok(s) = &sysroot {
                a = a.replace("@SYSROOT@", s);
            }
            if let Ok(w) = &wheels {
                a = a.replace("@WHEELS@", w);
            }
            a
        })
        .collect()
}

/// The prefix of an engine that is the bare-metal host's.
const BAREMETAL: &str = "baremetal:";

/// Runs a case on the bare-metal host with its engine `engine`, with the
/// fixed environment (the ramdisk has the program and nothing else).
fn run_baremetal(c: &RealCase, prog: &Path, engine: &str) -> Result<Captured, String> {
    let env: Vec<String> = environment()
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let start = std::time::Instant::now();
    let o = crate::qemu::run_guest(prog, &c.args, &env, &c.stdin, &[], engine)?;
    Ok(Captured {
        stdout: o.stdout,
        stderr: o.stderr,
        status: o.status,
        elapsed: start.elapsed(),
        // Not measured: QEMU's would include the machine's.
        cpu: Duration::ZERO,
        max_rss_kib: 0,
    })
}

fn sysroot_path(inp: &Inputs, guest: &str) -> Result<PathBuf, String> {
    let root = inp.sysroot.as_ref().map_err(|e| e.to_string())?;
    Ok(root.join(guest.trim_start_matches('/')))
}

/// The result of one case on one engine.
#[derive(Debug, Clone)]
pub enum Verdict {
    Pass,
    /// pvm's run differs from the oracle's.
    Fail(String),
    /// The harness could not judge: the oracle failed or an input could not
    /// be fetched. A failure even for a case in [`EXPECTED_FAIL`].
    Broken(String),
    /// Could not run: no registry.
    Skip(String),
}

/// Compares pvm's run with the oracle's.
fn judge(c: &RealCase, oracle: &Captured, got: &Captured) -> Result<(), String> {
    let mut problems = Vec::new();
    let err = String::from_utf8_lossy(&got.stderr);
    if err.contains("pvm: internal error") || err.contains("panicked") {
        problems.push(format!("pvm failed: {}", show(&got.stderr, 300)));
    }
    if got.status != oracle.status {
        problems.push(format!(
            "exit status {} but the oracle gave {}",
            got.status, oracle.status
        ));
    }
    if got.stdout != oracle.stdout {
        problems.push(format!(
            "stdout differs from the oracle's: {}",
            first_diff(&oracle.stdout, &got.stdout)
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    let tail = err.trim_end();
    if !tail.is_empty() {
        let last: Vec<&str> = tail.lines().rev().take(3).collect();
        problems.push(format!(
            "pvm's stderr ends: {}",
            show(
                last.into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join(" | ")
                    .as_bytes(),
                300
            )
        ));
    }
    let _ = c;
    Err(problems.join("; "))
}

/// Checks the oracle's own run: it must give the expected status (and
/// stdout, where the case knows it).
fn oracle_ok(c: &RealCase, o: &Captured) -> Result<(), String> {
    if o.status != c.status {
        return Err(format!(
            "the oracle gave status {} (expected {}): {}",
            o.status,
            c.status,
            show(&o.stderr, 300).trim_end()
        ));
    }
    if let Some(w) = &c.want
        && *w != o.stdout
    {
        return Err(format!(
            "the oracle's stdout is not the expected one: {}",
            first_diff(w, &o.stdout)
        ));
    }
    Ok(())
}

/// One case's results: a verdict per engine, and the wall times.
#[derive(Debug, Clone)]
pub struct CaseRun {
    pub verdicts: Vec<Verdict>,
    pub oracle_secs: Option<f64>,
    pub pvm_secs: Vec<Option<f64>>,
}

/// Runs the cases under each engine, `jobs` cases at a time.
pub fn run(cases: &[RealCase], engines: &[String], inp: &Inputs, jobs: usize) -> Vec<CaseRun> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, CaseRun)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(c) = cases.get(i) else { break };
                    let v = run_case(c, engines, inp);
                    results.lock().unwrap().push((i, v));
                }
            });
        }
    });
    let mut r = results.into_inner().unwrap();
    r.sort_by_key(|(i, _)| *i);
    r.into_iter().map(|(_, v)| v).collect()
}

fn run_case(c: &RealCase, engines: &[String], inp: &Inputs) -> CaseRun {
    let all = |v: Verdict, oracle_secs| CaseRun {
        verdicts: engines.iter().map(|_| v.clone()).collect(),
        oracle_secs,
        pvm_secs: engines.iter().map(|_| None).collect(),
    };
    if let Some(e) = inp.missing(c) {
        return all(
            match e {
                FetchError::NoRegistry(m) => Verdict::Skip(format!("no registry: {m}")),
                FetchError::Failed(m) => Verdict::Broken(m.clone()),
            },
            None,
        );
    }
    let oracle = match run_side(c, &Side::Oracle, inp) {
        Ok(o) => o,
        Err(e) => return all(Verdict::Broken(format!("oracle: {e}")), None),
    };
    let oracle_secs = Some(oracle.elapsed.as_secs_f64());
    if let Err(e) = oracle_ok(c, &oracle) {
        return all(Verdict::Broken(format!("oracle: {e}")), oracle_secs);
    }
    let mut r = CaseRun {
        verdicts: Vec::new(),
        oracle_secs,
        pvm_secs: Vec::new(),
    };
    for e in engines {
        match run_side(c, &Side::Pvm(e.clone()), inp) {
            Ok(g) => {
                r.pvm_secs.push(Some(g.elapsed.as_secs_f64()));
                r.verdicts.push(match judge(c, &oracle, &g) {
                    Ok(()) => Verdict::Pass,
                    Err(m) => Verdict::Fail(m),
                });
            }
            Err(m) => {
                r.pvm_secs.push(None);
                r.verdicts.push(Verdict::Fail(m));
            }
        }
    }
    r
}

/// A verdict with the expected failures applied: Ok(label) when it is as
/// it should be, Err(label) when it counts as a failure.
fn classify(c: &RealCase, v: &Verdict) -> Result<String, String> {
    match (v, expected_fail(c.name)) {
        (Verdict::Pass, None) => Ok("PASS".into()),
        (Verdict::Pass, Some(_)) => Err("XPASS".into()),
        (Verdict::Fail(_), None) => Err("FAIL".into()),
        (Verdict::Fail(_), Some(_)) => Ok("XFAIL".into()),
        (Verdict::Broken(_), _) => Err("BROKEN".into()),
        (Verdict::Skip(_), _) => Ok("SKIP".into()),
    }
}

/// Prints the table of cases by engine, then the details of every case
/// that did not pass; returns true when every verdict is as expected.
pub fn report(cases: &[RealCase], engines: &[String], runs: &[CaseRun]) -> bool {
    let secs = |t: Option<f64>| t.map_or("-".to_string(), |t| format!("{t:.2}s"));
    let w = cases.iter().map(|c| c.name.len()).max().unwrap_or(4).max(4);
    print!("\n{:<w$}  {:<9}  {:>8}", "case", "needs", "oracle");
    for e in engines {
        print!("  {:<15}", format!("pvm:{e}"));
    }
    println!();
    let mut ok = true;
    let mut details = Vec::new();
    for (c, r) in cases.iter().zip(runs) {
        print!(
            "{:<w$}  {:<9}  {:>8}",
            c.name,
            c.needs.label(),
            secs(r.oracle_secs)
        );
        for ((e, v), t) in engines.iter().zip(&r.verdicts).zip(&r.pvm_secs) {
            let cl = classify(c, v);
            ok &= cl.is_ok();
            let label = match &cl {
                Ok(l) | Err(l) => l.clone(),
            };
            print!("  {:<15}", format!("{label} {}", secs(*t)));
            let why = match v {
                Verdict::Pass if cl.is_err() => {
                    "passes but is listed in EXPECTED_FAIL (xtask/src/realprogs.rs): remove it"
                        .to_string()
                }
                Verdict::Pass => continue,
                Verdict::Fail(m) | Verdict::Broken(m) | Verdict::Skip(m) => m.clone(),
            };
            details.push(format!("{label} {} [pvm:{e}]\n      {why}", c.name));
        }
        println!();
    }
    if !details.is_empty() {
        println!();
        for d in details {
            println!("{d}");
        }
    }
    let count = |l: &str| {
        cases
            .iter()
            .zip(runs)
            .flat_map(|(c, r)| r.verdicts.iter().map(move |v| classify(c, v)))
            .filter(|r| matches!(r, Ok(x) | Err(x) if x == l))
            .count()
    };
    println!(
        "\nreal programs: {} passed, {} failed, {} expected failures, {} unexpectedly passed, {} skipped",
        count("PASS"),
        count("FAIL") + count("BROKEN"),
        count("XFAIL"),
        count("XPASS"),
        count("SKIP")
    );
    ok
}

/// The cases `filter` selects (all when `None` or when it names this
/// step).
pub fn select(filter: Option<&str>) -> Vec<RealCase> {
    let mut v = cases();
    if let Some(f) = filter
        && !"realprogs".contains(f)
    {
        v.retain(|c| c.name.contains(f));
    }
    v
}

/// The step of `cargo xtask test`: outcomes for the suite's summary, one
/// per case and engine, under the runner label `realprogs:ENGINE`.
/// The cases marked [`RealCase::baremetal`] also run on the bare-metal
/// host with each of `baremetal` (`interp`, `jit`), as
/// `realprogs:baremetal:E`.
pub fn test_step(
    filter: Option<&str>,
    engines: &[String],
    baremetal: &[String],
    jobs: usize,
) -> Vec<Outcome> {
    let cases = select(filter);
    if cases.is_empty() {
        return Vec::new();
    }
    let mut out = step(&cases, engines, jobs);
    let bm: Vec<RealCase> = cases.into_iter().filter(|c| c.baremetal).collect();
    let bm_engines: Vec<String> = baremetal
        .iter()
        .map(|e| format!("{BAREMETAL}{e}"))
        .collect();
    if !bm.is_empty() && !bm_engines.is_empty() {
        out.extend(step(&bm, &bm_engines, jobs));
    }
    out
}

fn step(cases: &[RealCase], engines: &[String], jobs: usize) -> Vec<Outcome> {
    let inp = Inputs::fetch(cases);
    for (what, r) in [
        ("sysroot", inp.sysroot.as_ref().err()),
        ("esbuild", inp.esbuild.as_ref().err()),
    ] {
        if let Some(FetchError::NoRegistry(m)) = r {
            println!("skipping the cases that need the {what}: no package registry ({m})");
        }
    }
    let runs = run(cases, engines, &inp, jobs);
    report(cases, engines, &runs);
    let mut out = Vec::new();
    for (c, r) in cases.iter().zip(&runs) {
        for (e, v) in engines.iter().zip(&r.verdicts) {
            let result = match (classify(c, v), v) {
                (Ok(_), Verdict::Pass) => Ok(None),
                (Ok(_), Verdict::Skip(m)) => Ok(Some(m.clone())),
                (Ok(_), Verdict::Fail(m) | Verdict::Broken(m)) => Ok(Some(format!(
                    "expected failure ({}): {m}",
                    expected_fail(c.name).unwrap_or("")
                ))),
                (Err(l), Verdict::Pass) => Err(format!(
                    "{l}: passes but is listed in EXPECTED_FAIL: remove it"
                )),
                (Err(l), Verdict::Fail(m) | Verdict::Broken(m) | Verdict::Skip(m)) => {
                    Err(format!("{l}: {m}"))
                }
            };
            out.push(Outcome {
                runner: label(e),
                case: format!("real.{}", c.name),
                result,
            });
        }
    }
    out
}

/// The summary row of an engine.
pub fn label(engine: &str) -> String {
    format!("realprogs:{engine}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_expected_failures_exist() {
        let cs = cases();
        let mut names: Vec<&str> = cs.iter().map(|c| c.name).collect();
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len(), "duplicate case names");
        for (name, why) in EXPECTED_FAIL {
            assert!(names.contains(name), "EXPECTED_FAIL names no case: {name}");
            assert!(!why.is_empty(), "{name} needs a reason");
        }
    }

    #[test]
    fn host_oracles_only_for_processes() {
        for c in cases() {
            if matches!(c.oracle, Oracle::Host(_)) {
                assert_eq!(c.needs, Needs::Processes, "{}", c.name);
            }
        }
    }

    fn cap(out: &str, status: i32) -> Captured {
        Captured {
            stdout: out.into(),
            stderr: Vec::new(),
            status,
            ..Default::default()
        }
    }

    #[test]
    fn judging() {
        let c = case("t", BB, &[]);
        assert!(judge(&c, &cap("a\n", 0), &cap("a\n", 0)).is_ok());
        assert!(judge(&c, &cap("a\n", 0), &cap("b\n", 0)).is_err());
        assert!(judge(&c, &cap("a\n", 0), &cap("a\n", 1)).is_err());
        let mut p = cap("a\n", 0);
        p.stderr = b"pvm: internal error: x".to_vec();
        assert!(judge(&c, &cap("a\n", 0), &p).is_err());
        assert!(oracle_ok(&c, &cap("", 0)).is_ok());
        assert!(oracle_ok(&c.clone().status(2), &cap("", 0)).is_err());
    }

    #[test]
    fn classification() {
        let c = case("t", BB, &[]);
        assert_eq!(classify(&c, &Verdict::Pass), Ok("PASS".into()));
        assert_eq!(classify(&c, &Verdict::Fail("x".into())), Err("FAIL".into()));
        assert_eq!(classify(&c, &Verdict::Skip("x".into())), Ok("SKIP".into()));
        assert_eq!(
            classify(&c, &Verdict::Broken("x".into())),
            Err("BROKEN".into())
        );
        if let Some((name, _)) = EXPECTED_FAIL.first() {
            let x = cases().into_iter().find(|c| c.name == *name).unwrap();
            assert_eq!(classify(&x, &Verdict::Pass), Err("XPASS".into()));
            assert_eq!(classify(&x, &Verdict::Fail("x".into())), Ok("XFAIL".into()));
            assert_eq!(
                classify(&x, &Verdict::Broken("x".into())),
                Err("BROKEN".into())
            );
        }
    }
}
