//! pvm's GDB stub against a real client: Debian's `gdb-multiarch` in batch
//! mode, on `tests/gdb/gdbprog.c` built static and dynamic with debug
//! information, under the interpreter and the translator.
//!
//! The session breaks at the program's first instruction of `work` and
//! steps over it (a compressed instruction: the pc must move by 2), breaks
//! inside `work` (`info registers`, `print` of an argument, `bt`) and at a
//! later line (`print` of a local), sets a watchpoint on a global (gdb must
//! report the old and new value, stopped right after the store's line), breaks in libc's `puts` (in `libc.so.6`
//! for the dynamic build, found through the auxv and `_r_debug`; the
//! library list of `qXfer:libraries-svr4` and `info sharedlibrary`), lists the
//! threads, and continues to the exit status (3). The guest's own output
//! and exit status must be unchanged.
//!
//! More sessions, each on a guest of `tests/gdb/`: `gdbthreads` (a
//! breakpoint in a second thread, `info threads`, each thread's own
//! registers, `stepi` of a thread other than the one that stopped),
//! `gdbsignals` (signals stop before delivery; gdb delivers or discards
//! them, passes those it does not stop for), `gdbintr` (gdb's Ctrl-C
//! while the guest blocks in a system call; the call resumes unchanged),
//! `gdbexec` (gdb follows the exec of a RISC-V program and lets go at a
//! host program's), `gdbsched` (scheduler locking holds the other
//! threads; a thread stepped alone through its exit stops before it is
//! gone, then is reported gone, and gdb 13 goes on).
//!
//! `gdb-multiarch` is installed by `cargo xtask test`'s set-up step; with
//! `--no-setup` and no gdb-multiarch the cases are skipped with a message.

use crate::guests::CC;
use crate::suite::{Outcome, pvm_binary};
use crate::util::{root, run_captured, show, which};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ENGINES: [&str; 2] = ["interp", "jit"];

/// Run the cases (those whose name contains `filter`, when given);
/// `setup_ran` says whether gdb-multiarch should be there.
pub fn run(setup_ran: bool, filter: Option<&str>) -> Vec<Outcome> {
    let wanted = |case: &str| filter.is_none_or(|f| case.contains(f));
    let mut out = Vec::new();
    let outcome = |case: String, result| Outcome {
        runner: "gdb".into(),
        case,
        result,
    };
    if which("gdb-multiarch").is_none() {
        let r = if setup_ran {
            Err("gdb-multiarch is missing although set-up ran".into())
        } else {
            Ok(Some("gdb-multiarch not installed (--no-setup)".into()))
        };
        if let Err(e) = &r {
            eprintln!("FAIL gdb [gdb]\n      {e}");
        }
        out.push(outcome("all".into(), r));
        return out;
    }
    let src = root().join("tests/gdb/gdbprog.c");
    let dir = root().join("tests/build/gdb");
    let _ = std::fs::create_dir_all(&dir);
    for link in ["static", "dynamic"] {
        let bin = dir.join(format!("gdbprog.{link}"));
        let built = build(&src, &bin, link == "static");
        if link == "static" && wanted("badclient") {
            let case = "badclient".to_string();
            let r = match &built {
                Err(e) => Err(e.clone()),
                Ok(()) => bad_client(&bin).map(|_| None),
            };
            match &r {
                Err(e) => eprintln!("FAIL {case} [gdb]\n      {e}"),
                Ok(_) => println!("ok   {case} [gdb]"),
            }
            out.push(outcome(case, r));
        }
        for engine in ENGINES {
            let case = format!("gdbprog.{link}.{engine}");
            if !wanted(&case) {
                continue;
            }
            let r = match &built {
                Err(e) => Err(e.clone()),
                Ok(()) => session(&src, &bin, engine).map(|_| None),
            };
            match &r {
                Err(e) => eprintln!("FAIL {case} [gdb]\n      {e}"),
                Ok(_) => println!("ok   {case} [gdb]"),
            }
            out.push(outcome(case, r));
        }
    }
    // (guest, what the case name adds, engines, the session)
    type Case = fn(&Path, &str) -> Result<(), String>;
    let more: [(&str, &str, &[&str], Case); 10] = [
        ("gdbthreads", "", &ENGINES, threads),
        ("gdbthreads", ".watch", &ENGINES, watch_threads),
        ("gdbsignals", "", &ENGINES, signals),
        // Its interrupts wait for the guest to block: one engine is enough
        // (the stop is made in the run loop, not by the engine).
        ("gdbintr", "", &["jit"], interrupts),
        ("gdbexec", "", &["jit"], exec),
        // Which threads run is the run loop's business, not the engine's.
        ("gdbsched", "", &["jit"], sched),
        // The descriptors are the host's business, not the engine's.
        ("gdbfds", "", &["jit"], fds),
        // The escape probe of the link walk's race: only the stub holds
        // descriptors of pvm's own without `--sandbox`; both engines, as
        // the engine decides how fast the racing threads run.
        ("esc_fd_linkrace", "", &ENGINES, linkrace),
        // The same race for `execve`, `execveat` and `openat2` with
        // `RESOLVE_*` flags, and the names an exec looks up itself.
        ("esc_fd_execrace", "", &ENGINES, execrace),
        // The same race where the host kernel looked a name up again
        // after the walk: a path given twice, a slash after a name, the
        // host program an `execve` runs natively.
        ("esc_fd_walkrace", "", &ENGINES, walkrace),
    ];
    for (name, tag, engines, session) in more {
        if !engines
            .iter()
            .any(|e| wanted(&format!("{name}{tag}.dynamic.{e}")))
        {
            continue;
        }
        let src = if name.starts_with("esc_") {
            root().join(format!("tests/guests/{name}.c"))
        } else {
            root().join(format!("tests/gdb/{name}.c"))
        };
        let bin = dir.join(format!("{name}.dynamic"));
        let built = build(&src, &bin, false);
        for &engine in engines {
            let case = format!("{name}{tag}.dynamic.{engine}");
            if !wanted(&case) {
                continue;
            }
            let r = match &built {
                Err(e) => Err(e.clone()),
                Ok(()) => session(&bin, engine).map(|_| None),
            };
            match &r {
                Err(e) => eprintln!("FAIL {case} [gdb]\n      {e}"),
                Ok(_) => println!("ok   {case} [gdb]"),
            }
            out.push(outcome(case, r));
        }
    }
    out
}

/// Does `log` hold each of `wants`, in order? The error names the first
/// missing one.
fn in_order(log: &str, wants: &[&str]) -> Result<(), String> {
    let mut at = 0;
    for want in wants {
        match log[at..].find(want) {
            Some(k) => at += k + want.len(),
            None => {
                return Err(format!(
                    "gdb did not print {want:?} (in order); it printed {log:?}"
                ));
            }
        }
    }
    Ok(())
}

/// Guest signals stop the guest before delivery and gdb decides: SIGUSR1
/// is delivered (by a `stepi`, which gdb makes run the handler), SIGUSR2
/// discarded (`signal 0`), a bad store's SIGSEGV reaches the guest's
/// handler, SIGALRM (gdb's `nostop pass`, sent as `QPassSignals`) is
/// delivered without a stop, and `abort`'s SIGABRT ends the program with
/// gdb told so.
fn signals(bin: &Path, engine: &str) -> Result<(), String> {
    let cmds = [
        "continue",
        "stepi",
        "print usr1",
        "continue",
        "signal 0",
        "continue",
        "continue",
    ];
    let want = Want {
        gdb: &[
            "received signal SIGUSR1",
            "$1 = 1",
            "received signal SIGUSR2",
            "received signal SIGSEGV",
            "gdbsignals.c:",
            "received signal SIGABRT",
            "terminated with signal SIGABRT",
        ],
        stdout: "usr1=1 usr2=0 segv=1 alrm=1\n",
        status: 134,
    };
    expect(bin, engine, "signals", &cmds, &want).map(drop)
}

/// gdb's Ctrl-C (SIGINT to gdb, which sends the interrupt byte) while the
/// guest blocks in `read` of its stdin, in `nanosleep`, and with its two
/// threads waiting (a futex and a read): each stops the guest (gdb's
/// `bt` shows the call) and `continue` resumes the call unchanged: the
/// read gets the line written later, the sleep lasts its whole time.
fn interrupts(bin: &Path, engine: &str) -> Result<(), String> {
    use std::io::{BufRead, Write};
    use std::sync::mpsc;
    let (mut pvm, sock) = start_pvm_with(bin, engine, "intr", Stdio::piped())?;
    let script_path = sock.with_extension("gdb");
    let script = format!(
        "set pagination off\nset confirm off\ntarget remote {}\n\
         continue\nbt\ncontinue\nbt\ncontinue\ninfo threads\ncontinue\n",
        sock.display()
    );
    std::fs::write(&script_path, &script).map_err(|e| e.to_string())?;
    let mut gdb = Command::new("gdb-multiarch")
        .args(["-nx", "-batch", "-x"])
        .arg(&script_path)
        .arg(bin)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start gdb-multiarch: {e}"))?;
    let mut gdb_out = gdb.stdout.take().expect("piped");
    let gdb_text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let text = gdb_text.clone();
    let gdb_log = std::thread::spawn(move || {
        let mut b = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut gdb_out, &mut b) {
            if n == 0 {
                break;
            }
            if let Ok(mut t) = text.lock() {
                t.push_str(&String::from_utf8_lossy(&b[..n]));
            }
        }
    });
    let (tx, rx) = mpsc::channel();
    let pvm_out = pvm.stdout.take().expect("piped");
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(pvm_out).lines() {
            let Ok(l) = l else { break };
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let mut stdin = pvm.stdin.take();
    let mut lines = Vec::new();
    let gdb_pid = gdb.id();
    let mut drive = || -> Result<(), String> {
        let mut expect = |want: &str| -> Result<(), String> {
            let l = rx
                .recv_timeout(Duration::from_secs(30))
                .map_err(|_| format!("the guest did not print {want:?}; it printed {lines:?}"))?;
            lines.push(l.clone());
            if l.starts_with(want) {
                Ok(())
            } else {
                Err(format!("the guest printed {l:?}, want {want:?}"))
            }
        };
        // Interrupt the `n`th time, once the guest blocks, and see gdb
        // report the stop within `within` (the guest still blocked).
        let interrupt = |n: usize, within: Duration| -> Result<(), String> {
            std::thread::sleep(Duration::from_millis(400));
            let _ = Command::new("kill")
                .args(["-INT", &gdb_pid.to_string()])
                .status();
            let sent = Instant::now();
            loop {
                let seen = gdb_text
                    .lock()
                    .map(|t| t.matches("received signal SIGINT").count())
                    .unwrap_or(0);
                if seen >= n {
                    return Ok(());
                }
                if sent.elapsed() > within {
                    return Err(format!(
                        "interrupt {n}: gdb reported no stop within {within:?} (the guest stayed blocked)"
                    ));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        };
        let mut write = |s: &[u8]| {
            if let Some(w) = stdin.as_mut() {
                let _ = w.write_all(s);
                let _ = w.flush();
            }
        };
        // The reads get their line only after the stop: it must come
        // while they block. The sleep (2.5 s) would end 2.1 s after the
        // interrupt: the stop must come well before.
        expect("reading")?;
        interrupt(1, Duration::from_secs(20))?;
        write(b"hello\n");
        expect("read 6 hello")?;
        expect("sleeping")?;
        interrupt(2, Duration::from_millis(1500))?;
        expect("slept 0 long enough")?;
        expect("waiting")?;
        interrupt(3, Duration::from_secs(20))?;
        write(b"world\n");
        expect("thread read 6 world")?;
        Ok(())
    };
    let r = drive();
    drop(stdin);
    let _ = std::fs::remove_file(&script_path);
    let deadline = Instant::now() + Duration::from_secs(20);
    while gdb.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = gdb.kill();
    let _ = gdb.wait();
    let out = finish_pvm(pvm)?;
    let _ = gdb_log.join();
    let log = gdb_text.lock().map(|t| t.clone()).unwrap_or_default();
    r.map_err(|e| format!("{e}; gdb printed {log:?}"))?;
    in_order(
        &log,
        &[
            "received signal SIGINT",
            "in read ()",
            "in main () at",
            "received signal SIGINT",
            "in nanosleep ()",
            "in main () at",
            "received signal SIGINT",
            "1    Thread ",
            "2    Thread ",
            "in read ()",
            "exited with code 05",
        ],
    )?;
    if crate::util::shell_status(out.status) != 5 {
        return Err(format!(
            "the interrupted guest ended with {} (want 5); pvm stderr: {}",
            crate::util::shell_status(out.status),
            show(&out.stderr, 2000)
        ));
    }
    Ok(())
}

/// Run gdb in batch mode with `commands` against pvm serving `bin`; gdb's
/// stdout and pvm's output.
fn batch(
    bin: &Path,
    engine: &str,
    tag: &str,
    commands: &[String],
) -> Result<(String, std::process::Output), String> {
    let (pvm, sock) = start_pvm(bin, engine, tag)?;
    let script_path = sock.with_extension("gdb");
    let mut script = format!(
        "set pagination off\nset confirm off\ntarget remote {}\n",
        sock.display()
    );
    for c in commands {
        script.push_str(c);
        script.push('\n');
    }
    std::fs::write(&script_path, &script).map_err(|e| e.to_string())?;
    let gdb = run_captured(
        Command::new("gdb-multiarch")
            .args(["-nx", "-batch", "-x"])
            .arg(&script_path)
            .arg(bin),
        b"",
        Duration::from_secs(120),
    );
    let _ = std::fs::remove_file(&script_path);
    let out = finish_pvm(pvm)?;
    let gdb = gdb?;
    // gdb's errors (a closed connection) go to its stderr: after the rest.
    let mut log = String::from_utf8_lossy(&gdb.stdout).into_owned();
    log.push_str(&String::from_utf8_lossy(&gdb.stderr));
    Ok((log, out))
}

/// What one batch session must show: gdb's lines (in order), then the
/// guest's standard output and exit status.
struct Want<'a> {
    gdb: &'a [&'a str],
    stdout: &'a str,
    status: i32,
}

/// The usual session: gdb runs `commands` against pvm serving `bin`, and
/// everything `want` names is there. gdb's log, for more checks.
fn expect(
    bin: &Path,
    engine: &str,
    tag: &str,
    commands: &[&str],
    want: &Want<'_>,
) -> Result<String, String> {
    let commands: Vec<String> = commands.iter().map(|c| c.to_string()).collect();
    let (log, out) = batch(bin, engine, tag, &commands)?;
    in_order(&log, want.gdb)?;
    if out.stdout != want.stdout.as_bytes() || crate::util::shell_status(out.status) != want.status
    {
        return Err(format!(
            "the guest printed {:?} and ended with {} (want {:?} and {}); gdb printed {log:?}",
            show(&out.stdout, 600),
            crate::util::shell_status(out.status),
            want.stdout,
            want.status
        ));
    }
    Ok(log)
}

/// `execve` under gdb: gdb follows the exec of a RISC-V program (the
/// exec stop, the new program's symbols, the breakpoint on `main` hit
/// again in the new program with its arguments; the files open through
/// the stub stay open across it); the exec of a host
/// program is told on gdb's console, the connection closes and that
/// program runs to its end.
fn exec(bin: &Path, engine: &str) -> Result<(), String> {
    // A file opened through the stub before the exec (`vFile:open`, by
    // hand) is still open, under the same number, after it.
    let file = std::env::temp_dir().join(format!("pvm-gdbtest-{}-vfile.txt", std::process::id()));
    std::fs::write(&file, "handover-ok").map_err(|e| e.to_string())?;
    let hex: String = file
        .to_string_lossy()
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    let open = format!(
        "python vf = int(gdb.execute('maint packet vFile:open:{hex},0,0', \
         to_string=True).split('\"F')[1].split('\"')[0], 16)"
    );
    let read = "python print('after exec: ' + gdb.execute('maint packet vFile:pread:%x,b,0' % vf, \
                to_string=True).split('received: ')[1].strip())";
    let close = "python print('closed: ' + gdb.execute('maint packet vFile:close:%x' % vf, \
                 to_string=True).split('received: ')[1].strip())";
    let cmds = [
        "break main",
        "continue",
        &open,
        "continue",
        "print argv[1]",
        read,
        close,
        "info threads",
        "continue",
    ];
    let want = Want {
        gdb: &[
            "Breakpoint 1, main (argc=1",
            "is executing new program: ",
            "gdbexec.dynamic",
            "Breakpoint 1, main (argc=2",
            "= 0x",
            "\"x\"",
            "after exec: \"Fb;handover-ok\"",
            "closed: \"F0\"",
            "* 1    Thread ",
            "pvm: the program execs /bin/sh",
            "Remote connection closed",
        ],
        stdout: "before exec\nafter exec x\nhost sh\n",
        status: 6,
    };
    let r = expect(bin, engine, "exec", &cmds, &want);
    let _ = std::fs::remove_file(&file);
    r.map(drop)
}

/// `set scheduler-locking on`: gdb resumes one thread alone (`vCont;c:1`,
/// `vCont;s:2`) and the other stays stopped (the spinner's counter does
/// not move while the main thread yields 20 times). Then the spinner,
/// alone, steps from a breakpoint on its `exit` system call: gdb steps
/// over the breakpoint (a software single step: a breakpoint on the next
/// instruction, `vCont;c:TID`), and the thread stops there before it is
/// gone (Linux's exit stop), so gdb 13 finishes its step over. The next
/// step ends the thread and leaves nothing to run, which gdb is told
/// (`N`: "No unwaited-for children left.", as from gdbserver) instead
/// of waiting for ever; gdb goes on from thread 1 to the program's end.
fn sched(bin: &Path, engine: &str) -> Result<(), String> {
    let cmds = [
        "break here",
        "continue",
        "break there",
        "set scheduler-locking on",
        "print spins",
        "continue",
        "print spins",
        "break *exit_ecall",
        "set scheduler-locking off",
        "continue",
        "set scheduler-locking on",
        "stepi",
        "print $pc - exit_ecall",
        "info threads",
        "stepi",
        "thread 1",
        "set scheduler-locking off",
        "continue",
    ];
    let want = Want {
        gdb: &[
            "Thread 1 hit Breakpoint 1, here (",
            "$1 = ",
            "Thread 1 hit Breakpoint 2, there (",
            "$2 = ",
            "Thread 2 hit Breakpoint 3, spinner (",
            "$3 = 4",
            "* 2    Thread ",
            "No unwaited-for children left.",
            "[Switching to thread 1 ",
            "exited with code 07",
        ],
        stdout: "joined\n",
        status: 7,
    };
    let log = expect(bin, engine, "sched", &cmds, &want)?;
    let value = |n: &str| {
        log.lines()
            .find_map(|l| l.strip_prefix(&format!("${n} = ")))
            .map(str::to_owned)
    };
    if value("1").is_none() || value("1") != value("2") {
        return Err(format!(
            "the held spinner ran while thread 1 ran alone ({:?} then {:?}); gdb printed {log:?}",
            value("1"),
            value("2")
        ));
    }
    Ok(())
}

/// The stub's own descriptors are not the guest's (`tests/gdb/gdbfds.c`):
/// the guest finds none open, listed, usable or named in /proc, and after
/// it dup2s over every number and closes everything, gdb's breakpoint
/// still stops it (the connection is intact) and the exit is reported.
fn fds(bin: &Path, engine: &str) -> Result<(), String> {
    let want = Want {
        gdb: &["Breakpoint 1, done (x=3)", "$1 = 3", "exited with code 05"],
        stdout: "open at 900 and above (past the hard limit too): 0\n\
                 new descriptors: consecutive, EMFILE at 1100\nfd lists the open ones: yes\n\
                 fdinfo lists the open ones: yes\nthread-self fd lists them: yes\n\
                 closed numbers that answered otherwise: 0\n\
                 a pipe of its own opens through a link to /dev/fd: yes\n\
                 calls that answered otherwise: 0\n\
                 a descriptor of its own passes: yes\n\
                 dup2 failures other than EBADF: 0\ndone: 5\n",
        status: 5,
    };
    let cmds = ["break done", "continue", "print x", "continue"];
    expect(bin, engine, "fds", &cmds, &want).map(drop)
}

/// A thread that swaps a directory of a path with a symbolic link races
/// pvm's decision whether the path reaches the stub's descriptors' `/proc`
/// entries (`tests/guests/esc_fd_linkrace.c`): under the stub, where those
/// descriptors exist, nothing reaches them (the suite runs the same guest
/// without the stub, against qemu-riscv64).
fn linkrace(bin: &Path, engine: &str) -> Result<(), String> {
    let want = Want {
        gdb: &["exited normally"],
        stdout: "a directory in the middle: both states seen: yes, reached: 0\n\
                 the last component: both states seen: yes, reached: 0\n\
                 a link then ..: both states seen: yes, reached: 0\n\
                 cleaned up: yes\n",
        status: 0,
    };
    expect(bin, engine, "linkrace", &["continue"], &want).map(drop)
}

/// `execve`, `execveat` and `openat2(RESOLVE_NO_MAGICLINKS)` racing a
/// thread that swaps a directory of their path with a symbolic link,
/// `openat2` creating a name another process makes a link meanwhile, and
/// a `#!` interpreter and a `PT_INTERP` naming a descriptor's entry
/// (`tests/guests/esc_fd_execrace.c`): under the stub nothing reaches
/// its descriptors (before the fix, an exec ran the `libc.so.6` gdb had
/// opened through the stub).
fn execrace(bin: &Path, engine: &str) -> Result<(), String> {
    let want = Want {
        gdb: &["exited normally"],
        stdout: "a directory in the middle: both states seen: yes, reached: 0\n\
                 the last component: both states seen: yes, reached: 0\n\
                 an fdinfo directory in the middle: both states seen: yes, reached: 0\n\
                 a name openat2 creates: both states seen: yes, reached: 0\n\
                 a script's interpreter: reached: 0\n\
                 a program's PT_INTERP: reached: 0\n\
                 cleaned up: yes\n",
        status: 0,
    };
    expect(bin, engine, "execrace", &["continue"], &want).map(drop)
}

/// Names with a slash or `/.` after them, as Linux answers them; then a
/// path given twice to `linkat` from two directories, a name with a
/// slash after it, and the host program an `execve` runs natively, each
/// racing a process that swaps a directory of the path with a symbolic
/// link into `/proc` (`tests/guests/esc_fd_walkrace.c`): under the stub
/// nothing reaches its descriptors (before the fix, the host kernel's
/// second lookup of each reached them).
fn walkrace(bin: &Path, engine: &str) -> Result<(), String> {
    // Linux's answers (the x86-64 build run natively), as the suite
    // compares them without the stub.
    let file = root().join("tests/expected/esc_fd_walkrace.out");
    let stdout = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let want = Want {
        gdb: &["exited normally"],
        stdout: &stdout,
        status: 0,
    };
    expect(bin, engine, "walkrace", &["continue"], &want).map(drop)
}

/// Watchpoints apply to every thread: an access watchpoint set while
/// thread 1 is stopped in `main` stops thread 2 (created later) before
/// its store (old and new value), then a read watchpoint stops thread 1
/// before its load after the join (the value). The stop replies name the
/// kind, as the protocol says (`awatch:ADDR`, `rwatch:ADDR`).
fn watch_threads(bin: &Path, engine: &str) -> Result<(), String> {
    let cmds = [
        "break main",
        "continue",
        "awatch flag",
        "set debug remote 1",
        "continue",
        "delete",
        "rwatch flag",
        "continue",
        "set debug remote 0",
        "delete",
        "continue",
    ];
    let want = Want {
        gdb: &[
            "Breakpoint 1, main (",
            "Thread 2 ",
            "hit Hardware access (read/write) watchpoint 2: flag",
            "Old value = 0",
            "New value = 1",
            "thread_fn (",
            "Thread 1 ",
            "hit Hardware read watchpoint 3: flag",
            "Value = 1",
            "main (",
            "exited with code 04",
        ],
        stdout: "flag=1\n",
        status: 4,
    };
    let log = expect(bin, engine, "watchthreads", &cmds, &want)?;
    // gdb's remote log (its stderr, after the rest): the stop replies.
    in_order(&log, &[";awatch:", ";rwatch:"])
}

/// Guest threads are gdb threads: a breakpoint in the second one stops
/// it (and the first), `info threads` lists both, `thread 1` switches.
fn threads(bin: &Path, engine: &str) -> Result<(), String> {
    let cmds = [
        "break thread_fn",
        "continue",
        "info threads",
        "bt",
        "info registers pc",
        "thread 1",
        "info registers pc",
        "thread 2",
        "info registers pc",
        "thread 1",
        "stepi",
        "info threads",
        "print flag",
        "continue",
    ];
    let want = Want {
        gdb: &[
            "Thread 2 hit Breakpoint 1, thread_fn (",
            "  1    Thread ",
            "* 2    Thread ",
            "#0  thread_fn (",
            // The registers are the selected thread's.
            "<thread_fn+",
            "Switching to thread 1",
            "pc ",
            "Switching to thread 2",
            "<thread_fn+",
            "Switching to thread 1",
            // Thread 1 steps (once its wait for thread 2 ends: thread 2
            // runs meanwhile, to its end); gdb stays on thread 1.
            "* 1    Thread ",
            " = 1",
            "exited with code 04",
        ],
        stdout: "flag=1\n",
        status: 4,
    };
    let log = expect(bin, engine, "threads", &cmds, &want)?;
    // Thread 1's registers are not thread 2's.
    let pcs: Vec<&str> = log.lines().filter(|l| l.starts_with("pc ")).collect();
    if pcs.len() < 3 || pcs[0] == pcs[1] || pcs[0] != pcs[2] {
        return Err(format!(
            "info registers pc showed {pcs:?} for threads 2, 1, 2; gdb printed {log:?}"
        ));
    }
    // The step stopped thread 1, not the program's end.
    let step = log
        .split("Switching to thread 1")
        .nth(2)
        .unwrap_or_default();
    if step
        .split("  Id")
        .next()
        .unwrap_or_default()
        .contains("exited")
    {
        return Err(format!(
            "stepi of thread 1 ran to the end; gdb printed {log:?}"
        ));
    }
    Ok(())
}

fn build(src: &Path, bin: &Path, static_: bool) -> Result<(), String> {
    let mut cmd = Command::new(CC);
    cmd.args(["-O0", "-g", "-Wall", "-o"]).arg(bin).arg(src);
    if static_ {
        cmd.arg("-static");
    }
    let c = run_captured(&mut cmd, b"", Duration::from_secs(120))?;
    if c.status != 0 {
        return Err(format!("{CC} failed: {}", show(&c.stderr, 2000)));
    }
    Ok(())
}

/// The line of `needle` in the source (1-based).
fn line_of(src: &str, needle: &str) -> Option<usize> {
    src.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

/// A gdb command printing `prev=` and the instruction that ends at the pc
/// (a 2-byte one if the parcel at pc - 2 is compressed, else the 4-byte
/// one at pc - 4): after a watchpoint stop, the access gdb stepped over.
const PREV_INSN: &str = "python a = gdb.selected_frame().architecture(); \
    pc = int(gdb.parse_and_eval('$pc')); \
    i = [d for d in (a.disassemble(pc - 2)[0], a.disassemble(pc - 4)[0]) \
    if d['addr'] + d['length'] == pc][0]; print('prev=' + i['asm'])";

/// One session: pvm waiting on a Unix socket, gdb driving it.
fn session(src: &Path, bin: &Path, engine: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(src).map_err(|e| format!("{}: {e}", src.display()))?;
    let line = line_of(&text, "counter = local_sum").ok_or("gdbprog.c changed")?;
    let add_line = line_of(&text, "counter += strlen").ok_or("gdbprog.c changed")?;
    let ret_line = line_of(&text, "return (int)(counter").ok_or("gdbprog.c changed")?;
    let at_add = format!("gdbprog.c:{add_line}");
    let at_ret = format!("gdbprog.c:{ret_line}");
    let sock = std::env::temp_dir().join(format!(
        "pvm-gdbtest-{}-{engine}-{}.sock",
        std::process::id(),
        bin.file_name().and_then(|n| n.to_str()).unwrap_or("x")
    ));
    let _ = std::fs::remove_file(&sock);
    // (command, what its output must contain, in order)
    let after_store = format!("gdbprog.c:{}", line + 1);
    let dynamic = bin.to_string_lossy().ends_with("dynamic");
    let steps: Vec<(String, Vec<&str>)> = vec![
        ("set pagination off".into(), vec![]),
        ("set confirm off".into(), vec![]),
        (format!("target remote {}", sock.display()), vec![]),
        ("break *work".into(), vec![]),
        ("break work".into(), vec![]),
        (format!("break gdbprog.c:{line}"), vec![]),
        ("break puts".into(), vec![]),
        ("continue".into(), vec!["Breakpoint 1, work ("]),
        ("set $a = $pc".into(), vec![]),
        ("print (*(unsigned char *)$a & 3) != 3".into(), vec![" = 1"]),
        ("stepi".into(), vec![]),
        ("print $pc - $a".into(), vec![" = 2"]),
        ("continue".into(), vec!["Breakpoint 2, work (n=10)"]),
        (
            "info registers pc sp a0".into(),
            vec!["pc ", "<work+", "sp ", "a0 ", "0xa\t10"],
        ),
        ("print n".into(), vec![" = 10"]),
        // The stub's own descriptors (the connection, the files gdb read)
        // are out of the guest's way: none below 950 (pvm's pid is the
        // main thread's id).
        (
            "python import os; p = gdb.selected_thread().ptid[1]; \
             print('low', [f for f in os.listdir('/proc/%d/fd' % p) if int(f) > 2 and int(f) < 950 \
             and (os.readlink('/proc/%d/fd/%s' % (p, f)).startswith('socket:') \
             or '.so' in os.readlink('/proc/%d/fd/%s' % (p, f)))])"
                .into(),
            vec!["low []"],
        ),
        ("bt".into(), vec!["#0  work (n=10)", "in main (argc=1"]),
        // The library list gdb reads (`qXfer:libraries-svr4`): libc and
        // the dynamic linker once they are loaded, none in a static
        // program.
        (
            "maint packet qXfer:libraries-svr4:read::0,fff".into(),
            if dynamic {
                vec![
                    "main-lm=\"0x",
                    "<library name=\"/lib/libc.so.6\" lm=\"0x",
                    "lmid=",
                    "</library-list-svr4>",
                ]
            } else {
                vec!["received: \"l<library-list-svr4 version=\"1.0\"/>\""]
            },
        ),
        (
            "info sharedlibrary".into(),
            if dynamic {
                vec!["Yes", "/lib/libc.so.6"]
            } else {
                vec!["No shared libraries loaded at this time."]
            },
        ),
        ("continue".into(), vec!["Breakpoint 3, work (n=10)"]),
        ("print local_sum".into(), vec![" = 55"]),
        ("watch counter".into(), vec!["atchpoint 5: counter"]),
        (
            "continue".into(),
            vec!["Old value = 0", "New value = 55", &after_store],
        ),
        ("continue".into(), vec!["Breakpoint 4, ", "in puts ()"]),
        ("bt".into(), vec!["in puts ()", "in main (argc=1"]),
        ("info threads".into(), vec!["* 1    Thread "]),
        ("delete".into(), vec![]),
        // A read watchpoint (`Z3`, stop reply `rwatch:`): the load of
        // `counter += ...` stops the guest before it runs, gdb steps over
        // it and shows the value read; the instruction just before the pc
        // must be that load (the stop was at the exact instruction).
        ("rwatch counter".into(), vec!["atchpoint 6: counter"]),
        (
            "continue".into(),
            vec!["read watchpoint 6: counter", "Value = 55", &at_add],
        ),
        (PREV_INSN.into(), vec!["prev=ld"]),
        ("delete".into(), vec![]),
        // An access watchpoint (`Z4`, `awatch:`): first the store of the
        // sum (old and new value), then the load in the return (the value).
        ("awatch counter".into(), vec!["atchpoint 7: counter"]),
        (
            "continue".into(),
            vec![
                "access (read/write) watchpoint 7: counter",
                "Old value = 55",
                "New value = 61",
                // The store is the last instruction of its line.
                &at_ret,
            ],
        ),
        (PREV_INSN.into(), vec!["prev=sd"]),
        (
            "continue".into(),
            vec![
                "access (read/write) watchpoint 7: counter",
                "Value = 61",
                &at_ret,
            ],
        ),
        (PREV_INSN.into(), vec!["prev=ld"]),
        ("delete".into(), vec![]),
        ("continue".into(), vec!["exited with code 03"]),
    ];
    let mut script = String::new();
    for (i, (cmd, _)) in steps.iter().enumerate() {
        // A marker before each command, to find its output.
        script.push_str(&format!("echo @@step {i}\\n\n{cmd}\n"));
    }
    let script_path = sock.with_extension("gdb");
    std::fs::write(&script_path, &script).map_err(|e| e.to_string())?;
    let mut pvm = Command::new(pvm_binary())
        .args(["--engine", engine, "--gdb"])
        .arg(format!("unix:{}", sock.display()))
        .arg(bin)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start pvm: {e}"))?;
    let start = Instant::now();
    while !sock.exists() {
        if start.elapsed() > Duration::from_secs(20) || pvm.try_wait().ok().flatten().is_some() {
            let _ = pvm.kill();
            let _ = pvm.wait();
            return Err("pvm did not open its gdb socket".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let gdb = run_captured(
        Command::new("gdb-multiarch")
            .args(["-nx", "-batch", "-x"])
            .arg(&script_path)
            .arg(bin),
        b"",
        Duration::from_secs(120),
    );
    let _ = std::fs::remove_file(&script_path);
    // pvm ends with the guest; give it a moment, then stop it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while pvm.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = pvm.kill();
    let pvm_out = pvm.wait_with_output().map_err(|e| e.to_string())?;
    let gdb = gdb?;
    let log = String::from_utf8_lossy(&gdb.stdout).into_owned();
    let mut pieces = log.split("@@step ");
    pieces.next();
    let mut by_step: Vec<&str> = vec![""; steps.len()];
    for p in pieces {
        let (n, rest) = p.split_once('\n').unwrap_or((p, ""));
        if let Ok(n) = n.trim().parse::<usize>()
            && n < steps.len()
        {
            by_step[n] = rest;
        }
    }
    for (i, (cmd, want)) in steps.iter().enumerate() {
        let mut at = 0;
        for w in want {
            match by_step[i][at..].find(w) {
                Some(k) => at += k + w.len(),
                None => {
                    return Err(format!(
                        "after `{cmd}` gdb did not print {w:?}; it printed {:?}\n      gdb stderr: {}",
                        by_step[i],
                        show(&gdb.stderr, 2000)
                    ));
                }
            }
        }
    }
    let gdb_err = String::from_utf8_lossy(&gdb.stderr);
    if gdb_err.contains("library list") {
        return Err(format!("gdb rejected pvm's library list: {gdb_err}"));
    }
    let stdout = String::from_utf8_lossy(&pvm_out.stdout);
    let status = pvm_out.status.code();
    if stdout != "sum=55\n" || status != Some(3) {
        return Err(format!(
            "the guest under gdb printed {stdout:?} and ended with {status:?} (want \"sum=55\\n\" and 3); pvm stderr: {}",
            show(&pvm_out.stderr, 2000)
        ));
    }
    Ok(())
}

/// Start pvm waiting for a client on a fresh Unix socket.
fn start_pvm(
    bin: &Path,
    engine: &str,
    tag: &str,
) -> Result<(std::process::Child, PathBuf), String> {
    start_pvm_with(bin, engine, tag, Stdio::null())
}

/// [`start_pvm`] with the guest's stdin.
fn start_pvm_with(
    bin: &Path,
    engine: &str,
    tag: &str,
    stdin: Stdio,
) -> Result<(std::process::Child, PathBuf), String> {
    let sock = std::env::temp_dir().join(format!(
        "pvm-gdbtest-{}-{engine}-{tag}.sock",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&sock);
    let mut pvm = Command::new(pvm_binary())
        .args(["--engine", engine, "--gdb"])
        .arg(format!("unix:{}", sock.display()))
        .arg(bin)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start pvm: {e}"))?;
    let start = Instant::now();
    while !sock.exists() {
        if start.elapsed() > Duration::from_secs(20) || pvm.try_wait().ok().flatten().is_some() {
            let _ = pvm.kill();
            let _ = pvm.wait();
            return Err("pvm did not open its gdb socket".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((pvm, sock))
}

/// Wait for pvm to end (killing it after 20 s).
fn finish_pvm(mut pvm: std::process::Child) -> Result<std::process::Output, String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while pvm.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = pvm.kill();
    pvm.wait_with_output().map_err(|e| e.to_string())
}

/// A packet with its checksum.
fn frame(data: &[u8]) -> Vec<u8> {
    let sum = data.iter().fold(0u8, |s, &c| s.wrapping_add(c));
    let mut v = b"$".to_vec();
    v.extend_from_slice(data);
    v.extend_from_slice(format!("#{sum:02x}").as_bytes());
    v
}

/// A client that sends garbage, a bad checksum, an oversize packet,
/// reads outside the guest, then hangs up: each gets a protocol answer,
/// and once it is gone the guest runs to its normal end.
fn bad_client(bin: &Path) -> Result<(), String> {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    let (pvm, sock) = start_pvm(bin, "jit", "bad")?;
    let talk = || -> Result<(), String> {
        let mut s = UnixStream::connect(&sock).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        let reply = |s: &mut UnixStream, send: &[u8]| -> Result<String, String> {
            s.write_all(send).map_err(|e| e.to_string())?;
            let mut got = Vec::new();
            let mut b = [0u8; 1];
            // Up to the end of one reply packet ('#' and two digits).
            loop {
                s.read_exact(&mut b)
                    .map_err(|e| format!("no reply to {:?}: {e}", show(send, 80)))?;
                got.push(b[0]);
                if got.len() >= 3 && got[got.len() - 3] == b'#' && got.contains(&b'$') {
                    break;
                }
            }
            s.write_all(b"+").map_err(|e| e.to_string())?;
            Ok(String::from_utf8_lossy(&got).into_owned())
        };
        let mut big = b"m".to_vec();
        big.extend(std::iter::repeat_n(b'0', 100_000));
        let mut bad_sum = frame(b"g");
        let n = bad_sum.len();
        bad_sum[n - 1] ^= 1;
        let mut garbage = b"\x00\xffnot a packet".to_vec();
        garbage.extend(frame(b"?"));
        bad_sum.extend(frame(b"?"));
        let checks: Vec<(Vec<u8>, &str)> = vec![
            (garbage, "$T05thread:"),
            (bad_sum, "-"),
            (frame(&big), "$E01#"),
            (frame(b"mffffffffffff0000,10"), "$E14#"),
            (frame(b"m0,8"), "$E14#"),
            (frame(b"Mffffffffffff0000,1:00"), "$E14#"),
            (frame(b"Z0,10,3"), "$E01#"),
            (frame(b"Hgffff"), "$E01#"),
            (frame(b"p1234"), "$E01#"),
            (frame(b"qXfer:features:read:target.xml:0,zz"), "$E01#"),
            (frame(b"vFile:open:2f6e6f2f73756368,0,0"), "$F-1,2#"),
            (frame(b"xyzzy"), "$#00"),
        ];
        for (send, want) in checks {
            let got = reply(&mut s, &send)?;
            if !got.contains(want) {
                return Err(format!(
                    "sent {:?}: got {got:?}, want {want:?}",
                    show(&send, 60)
                ));
            }
        }
        Ok(())
    };
    let r = talk();
    let out = finish_pvm(pvm)?;
    r?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if stdout != "sum=55\n" || out.status.code() != Some(3) {
        return Err(format!(
            "after the client hung up the guest printed {stdout:?} and ended with {:?}; pvm stderr: {}",
            out.status.code(),
            show(&out.stderr, 2000)
        ));
    }
    Ok(())
}
