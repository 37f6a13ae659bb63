//! pvm's GDB remote stub (`-g PORT`, `--gdb PORT`, `--gdb unix:PATH`):
//! the remote serial protocol on top of the core's debugger hooks
//! (`vm_core::debug`), which do the breakpoints, watchpoints and steps.
//!
//! pvm listens before loading runs any guest instruction, takes one
//! client, and reports the first stop when asked (`?`). What it speaks:
//! `qSupported`, the `riscv:rv64` target description (general registers
//! and pc, the 32 FP registers, `fflags`/`frm`/`fcsr`), `g`/`G`/`p`/`P`,
//! `m`/`M`/`X` (guest memory only: anything outside answers `E14`),
//! `Z0`/`Z1` breakpoints of 2 or 4 bytes, `Z2`/`Z3`/`Z4` write, read and
//! access watchpoints (stop replies `watch:`/`rwatch:`/`awatch:`), `c`,
//! `C`, `s`, `S`, `vCont`, the interrupt byte, stop replies with gdb's
//! signal numbers and `thread:`, `W`/`X` at the end, `qXfer` of the auxv,
//! the exec file (so gdb finds the dynamic linker) and the loaded
//! libraries (`libraries-svr4`, from the dynamic linker's `r_debug`:
//! [`svr4`]), `vFile` reads through pvm's sysroot rule
//! (so gdb reads `ld.so` and `libc.so.6` from the sysroot without being
//! told), the guest threads (`qfThreadInfo`, `Hg`/`Hc`, `T`, per-thread
//! `vCont` steps), `QPassSignals`, `exec-events` (an `execve` of a RISC-V
//! program hands the connection to the new pvm, which reports the exec
//! stop and goes on: [`before_exec`], [`Handover`]), and an `O` console
//! line before any other `execve` (the connection then closes with it).
//!
//! All guest threads take turns on one host thread while debugging, so a
//! stop stops them all (gdb's all-stop mode); a continue applies to all, a
//! step to the thread gdb names, and threads a `vCont` gives no action
//! stay stopped (`N` when those allowed to run have all exited). Every
//! signal about to reach the guest is reported first (`T` with gdb's
//! number) unless gdb passes it without a stop; the resume packet's
//! signal decides what is delivered. Bytes from
//! the client interrupt the host thread ([`signal_on_input`]), so the
//! interrupt byte reaches a guest blocked in a system call too.
//!
//! A client that disconnects lets the guest run on without breakpoints; a
//! bad packet gets an error reply (`E01`), an unknown one the empty reply.

mod packet;
mod svr4;

use packet::{Conn, Incoming, Link, from_hex, parse_hex, to_hex, unescape};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::sync::{Arc, Mutex};
use vm_core::cpu::Cpu;
use vm_core::debug::{DebugHook, Resume, Stop, WatchKind};
use vm_core::process::{ExitStatus, Process, Thread};

/// The target description.
const TARGET_XML: &str = include_str!("target.xml");

/// Where to listen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listen {
    /// TCP on this address (`PORT` alone is 127.0.0.1:PORT).
    Tcp(String),
    /// A Unix socket at this path.
    Unix(std::path::PathBuf),
}

impl Listen {
    /// `PORT`, `HOST:PORT` or `unix:PATH`.
    pub fn parse(s: &str) -> Result<Listen, String> {
        if let Some(p) = s.strip_prefix("unix:") {
            if p.is_empty() {
                return Err("unix: needs a path".into());
            }
            return Ok(Listen::Unix(p.into()));
        }
        if s.parse::<u16>().is_ok() {
            return Ok(Listen::Tcp(format!("127.0.0.1:{s}")));
        }
        match s.rsplit_once(':') {
            Some((_, port)) if port.parse::<u16>().is_ok() => Ok(Listen::Tcp(s.into())),
            _ => Err(format!("not a port, HOST:PORT or unix:PATH: {s:?}")),
        }
    }
}

/// Wait for one client on `at` (saying where on stderr).
pub fn accept(at: &Listen) -> io::Result<Conn> {
    match at {
        Listen::Tcp(addr) => {
            let l = std::net::TcpListener::bind(addr)?;
            eprintln!("pvm: waiting for gdb on {}", l.local_addr()?);
            let (s, _) = l.accept()?;
            let _ = s.set_nodelay(true);
            Ok(Conn::Tcp(out_of_the_way(s)))
        }
        Listen::Unix(path) => {
            let _ = std::fs::remove_file(path);
            let l = std::os::unix::net::UnixListener::bind(path)?;
            eprintln!("pvm: waiting for gdb on {}", path.display());
            let (s, _) = l.accept()?;
            let _ = std::fs::remove_file(path);
            Ok(Conn::Unix(out_of_the_way(s)))
        }
    }
}

/// `f` moved to pvm's descriptor range (`host_linux::fdrange`: above the
/// guest's hard `RLIMIT_NOFILE`, close-on-exec), so the stub's files do
/// not take numbers the guest's own `open`s would get (a program under gdb
/// sees the same descriptors as without). Where there is no range (a low
/// hard limit), `f` stays where it is.
/// Either way the descriptor is pvm's own (`host_linux::ownfd`): the guest
/// does not see it, cannot use, close or replace it.
fn out_of_the_way<F: std::os::fd::IntoRawFd + std::os::fd::FromRawFd>(f: F) -> F {
    let fd = f.into_raw_fd();
    let high = host_linux::fdrange::move_high(fd);
    host_linux::ownfd::hold(high);
    // SAFETY: `high` is `fd` or its duplicate (`fd` then closed), which
    // nothing else owns.
    unsafe { F::from_raw_fd(high) }
}

/// gdb's number for Linux signal `s` (the remote protocol speaks gdb's
/// own numbering).
pub fn to_gdb_signal(s: i32) -> u8 {
    match s {
        1..=6 | 8 | 9 | 11 | 13..=15 => s as u8,
        7 => 10,   // SIGBUS
        10 => 30,  // SIGUSR1
        12 => 31,  // SIGUSR2
        16 => 143, // SIGSTKFLT: no gdb name (GDB_SIGNAL_UNKNOWN)
        17 => 20,  // SIGCHLD
        18 => 19,  // SIGCONT
        19 => 17,  // SIGSTOP
        20 => 18,  // SIGTSTP
        21 => 21,
        22 => 22,
        23 => 16, // SIGURG
        24..=28 => s as u8,
        29 => 23, // SIGIO
        30 => 32, // SIGPWR
        31 => 12, // SIGSYS
        32 => 77,
        33..=63 => (s + 12) as u8,
        64 => 78,
        _ => 143,
    }
}

/// The Linux signal for gdb's number (`None` for gdb's "no signal").
pub fn from_gdb_signal(g: u8) -> Option<i32> {
    if g == 0 {
        return None;
    }
    (1..=64).find(|&s| to_gdb_signal(s) == g)
}

/// The stub: the connection and what the protocol remembers.
#[derive(Debug)]
pub struct Stub {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    link: Option<Link>,
    /// The last stop reply (for `?`).
    last_stop: String,
    /// Thread for register access (`Hg`); 0 is the stopped one.
    reg_thread: i32,
    /// Thread for `c`/`s` (`Hc`); 0 or -1: the stopped one.
    cont_thread: i32,
    /// Signals to deliver without a stop (`QPassSignals`): bit `n-1`
    /// for Linux signal `n`.
    pass: u64,
    /// The client understands `swbreak:` in stop replies.
    swbreak: bool,
    /// The client understands the `N` stop reply (`no-resumed+`).
    no_resumed: bool,
    /// The auxiliary vector, read off the initial stack at the start.
    auxv: Vec<u8>,
    /// Files gdb opened with `vFile:open`.
    files: Vec<Option<std::fs::File>>,
    /// Path of the program (for `qXfer:exec-file`).
    exe: Vec<u8>,
    /// The client follows `execve`s (`exec-events+` in its `qSupported`):
    /// the connection goes on to the pvm that runs the new program.
    exec_events: bool,
    /// This pvm took the connection over from one whose guest exec'd:
    /// the first stop is reported as the exec (`T05exec:PATH;`).
    announce_exec: bool,
    /// The connection is being handed on to an exec'd pvm (see
    /// [`before_exec`]; undone if the exec fails).
    handing_over: bool,
}

impl Stub {
    /// A stub talking on `conn` about the program at `exe`. Bytes from
    /// the client interrupt this host thread (the one that runs every
    /// guest thread under the debugger), so an interrupt reaches a guest
    /// blocked in a system call.
    pub fn new(conn: Conn, exe: Vec<u8>) -> Arc<Stub> {
        signal_on_input(&conn);
        Arc::new(Stub {
            inner: Mutex::new(Inner {
                link: Some(Link::new(conn)),
                last_stop: "S05".into(),
                reg_thread: 0,
                cont_thread: 0,
                pass: 0,
                swbreak: false,
                no_resumed: false,
                auxv: Vec::new(),
                files: Vec::new(),
                exe,
                exec_events: false,
                announce_exec: false,
                handing_over: false,
            }),
        })
    }

    /// The stub of a pvm that took over the connection of the pvm whose
    /// guest exec'd the program at `exe` (`--gdb-handover`): it carries
    /// on with the protocol state the client set, and reports the exec as
    /// the first stop.
    pub fn handed_over(h: Handover, conn: Conn, exe: Vec<u8>) -> Arc<Stub> {
        let stub = Stub::new(conn, exe);
        {
            let mut g = stub.lock();
            if let Some(l) = g.link.as_mut() {
                l.no_ack = h.no_ack;
            }
            g.swbreak = h.swbreak;
            g.no_resumed = h.no_resumed;
            g.exec_events = true;
            g.pass = h.pass;
            g.announce_exec = true;
            for (i, f) in h.files {
                if g.files.len() <= i {
                    g.files.resize_with(i + 1, || None);
                }
                g.files[i] = Some(f);
            }
        }
        stub
    }

    /// Make this the stub [`before_exec`] tells about an `execve`.
    pub fn watch_exec(self: &Arc<Stub>) {
        if ACTIVE.set(self.clone()).is_ok() {
            let _ = host_linux::proc::EXEC_HOOKS.set(host_linux::proc::ExecHooks {
                before: before_exec,
                failed: exec_failed,
            });
        }
    }

    /// The hook to attach to the process.
    pub fn hook(self: &Arc<Stub>) -> Box<dyn DebugHook> {
        Box::new(Hook(self.clone()))
    }

    /// The process ended: tell the client (`W` exit status, or `X` and
    /// the signal), and let it go.
    pub fn exited(&self, status: &ExitStatus) {
        let mut g = self.lock();
        let reply = match status {
            ExitStatus::Exited(c) => format!("W{:02x}", c & 0xff),
            ExitStatus::Signaled(r) => format!("X{:02x}", to_gdb_signal(r.signo)),
        };
        if let Some(link) = g.link.as_mut() {
            let _ = link.send(reply.as_bytes());
        }
        g.link = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Have the kernel send [`crate::signals::KICK`] to this host thread
/// whenever bytes arrive on `conn` (`O_ASYNC` with `F_SETOWN_EX` and
/// `F_SETSIG`): a blocking host call of the guest fails with `EINTR` and
/// the core asks the stub whether it was the interrupt byte. The kick's
/// handler only marks the thread; a kick that arrives while the stub
/// reads a packet makes that read retry.
fn signal_on_input(conn: &Conn) {
    use std::os::fd::AsRawFd;
    // The same numbers on the x86-64 host as in the guest ABI.
    use vm_core::abi::{F_OWNER_TID, F_SETOWN_EX, F_SETSIG};
    #[repr(C)]
    struct FOwnerEx {
        kind: i32,
        pid: i32,
    }
    let fd = conn.as_raw_fd();
    let owner = FOwnerEx {
        kind: F_OWNER_TID,
        // SAFETY: gettid cannot fail.
        pid: unsafe { libc::gettid() },
    };
    // SAFETY: fcntl on a descriptor the connection owns; `owner` is a
    // valid `struct f_owner_ex` for F_SETOWN_EX.
    unsafe {
        libc::fcntl(fd, F_SETSIG, crate::signals::KICK);
        libc::fcntl(fd, F_SETOWN_EX, &owner as *const FOwnerEx);
        let fl = libc::fcntl(fd, libc::F_GETFL);
        if fl >= 0 {
            libc::fcntl(fd, libc::F_SETFL, fl | libc::O_ASYNC);
        }
    }
}

/// The stub of this pvm, for [`before_exec`].
static ACTIVE: std::sync::OnceLock<Arc<Stub>> = std::sync::OnceLock::new();

/// The guest is about to exec `path` (a new pvm if `guest`, else a host
/// program, takes this process's place). A client that follows execs
/// (`exec-events+`) and a guest program: the connection stays open
/// across the exec and the new pvm takes it over (the option returned,
/// `--gdb-handover`), reports the exec as a stop and goes on debugging
/// the new program, as gdbserver does. Otherwise the client is told on
/// its console (an `O` packet: it waits for a stop reply while the guest
/// runs), the connection closes with the exec and the new program runs
/// on without a debugger.
fn before_exec(path: &[u8], guest: bool) -> Option<Vec<u8>> {
    use std::os::fd::AsRawFd;
    let stub = ACTIVE.get()?;
    let mut g = stub.lock();
    let exec_events = g.exec_events;
    let (swbreak, no_resumed, pass) = (g.swbreak, g.no_resumed, g.pass);
    let link = g.link.as_mut()?;
    if guest && exec_events {
        let fd = link.conn.as_raw_fd();
        // SAFETY: fcntl on the descriptor the connection owns. It stays
        // open across the exec (no FD_CLOEXEC), without O_ASYNC: the new
        // pvm has no handler for the kick yet and sets it again itself.
        unsafe {
            libc::fcntl(fd, libc::F_SETFD, 0);
            let fl = libc::fcntl(fd, libc::F_GETFL);
            if fl >= 0 {
                libc::fcntl(fd, libc::F_SETFL, fl & !libc::O_ASYNC);
            }
        }
        let tcp = matches!(link.conn, Conn::Tcp(_));
        let no_ack = link.no_ack;
        // The files gdb opened (`vFile:open`) stay open too, under the
        // same numbers: gdb goes on using (and closing) them, as with
        // gdbserver, whose files do not belong to the inferior.
        let mut files = Vec::new();
        for (i, f) in g.files.iter().enumerate() {
            if let Some(f) = f {
                // SAFETY: fcntl on a descriptor the stub's file owns.
                unsafe { libc::fcntl(f.as_raw_fd(), libc::F_SETFD, 0) };
                files.push((i, f.as_raw_fd()));
            }
        }
        let mut state = Handover {
            fd,
            tcp,
            no_ack,
            swbreak,
            no_resumed,
            pass,
            files: Vec::new(),
        }
        .encode();
        for (i, f) in files {
            state.push_str(&format!(",file={i}:{f}"));
        }
        g.handing_over = true;
        return Some(format!("--gdb-handover={state}").into_bytes());
    }
    let msg = format!(
        "pvm: the program execs {}; it runs on without the debugger\n",
        String::from_utf8_lossy(path)
    );
    let mut packet = b"O".to_vec();
    packet.extend_from_slice(to_hex(msg.as_bytes()).as_bytes());
    let _ = link.send(&packet);
    None
}

/// The exec failed: the connection stays this pvm's (close-on-exec and
/// interrupting this thread again).
fn exec_failed() {
    use std::os::fd::AsRawFd;
    let Some(stub) = ACTIVE.get() else {
        return;
    };
    let mut g = stub.lock();
    if !std::mem::take(&mut g.handing_over) {
        return;
    }
    for f in g.files.iter().flatten() {
        // SAFETY: fcntl on a descriptor the stub's file owns.
        unsafe { libc::fcntl(f.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    if let Some(l) = g.link.as_ref() {
        // SAFETY: fcntl on the descriptor the connection owns.
        unsafe { libc::fcntl(l.conn.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
        signal_on_input(&l.conn);
    }
}

/// What a pvm whose guest execs hands on to the pvm that runs the new
/// program (`--gdb-handover=FD,tcp|unix[,noack][,swbreak][,noresumed][,pass=HEX][,file=N:FD]...`):
/// the client's connection, inherited as descriptor FD, the protocol
/// state the client set (gdb does not send it again), and the files gdb
/// has open (its `vFile` number N, inherited as descriptor FD).
#[derive(Debug)]
pub struct Handover {
    fd: i32,
    tcp: bool,
    no_ack: bool,
    swbreak: bool,
    no_resumed: bool,
    pass: u64,
    /// After [`Handover::take`]: the files, by gdb's number.
    files: Vec<(usize, std::fs::File)>,
}

impl Handover {
    fn encode(&self) -> String {
        let mut s = format!("{},{}", self.fd, if self.tcp { "tcp" } else { "unix" });
        if self.no_ack {
            s.push_str(",noack");
        }
        if self.swbreak {
            s.push_str(",swbreak");
        }
        if self.no_resumed {
            s.push_str(",noresumed");
        }
        s.push_str(&format!(",pass={:x}", self.pass));
        s
    }

    /// The state and the `(number, descriptor)` of each file.
    fn parse_state(s: &str) -> Result<(Handover, Vec<(usize, i32)>), String> {
        let bad = || format!("not a gdb handover: {s:?}");
        let mut it = s.split(',');
        let fd: i32 = it.next().and_then(|f| f.parse().ok()).ok_or_else(bad)?;
        let tcp = match it.next() {
            Some("tcp") => true,
            Some("unix") => false,
            _ => return Err(bad()),
        };
        let mut h = Handover {
            fd,
            tcp,
            no_ack: false,
            swbreak: false,
            no_resumed: false,
            pass: 0,
            files: Vec::new(),
        };
        let mut files = Vec::new();
        for f in it {
            match f {
                "noack" => h.no_ack = true,
                "swbreak" => h.swbreak = true,
                "noresumed" => h.no_resumed = true,
                _ => {
                    if let Some(v) = f.strip_prefix("pass=") {
                        h.pass = u64::from_str_radix(v, 16).map_err(|_| bad())?;
                    } else if let Some((n, fd)) =
                        f.strip_prefix("file=").and_then(|v| v.split_once(':'))
                    {
                        let n: usize = n.parse().ok().filter(|&n| n < MAX_FILES).ok_or_else(bad)?;
                        let fd: i32 = fd.parse().map_err(|_| bad())?;
                        files.push((n, fd));
                    } else {
                        return Err(bad());
                    }
                }
            }
        }
        Ok((h, files))
    }

    /// Take over the connection `--gdb-handover` names: it must be an
    /// open socket inherited from the exec'ing pvm.
    pub fn take(s: &str) -> Result<(Handover, Conn), String> {
        use std::os::fd::{AsRawFd, FromRawFd};
        let (mut h, files) = Handover::parse_state(s)?;
        let mode = |fd: i32| {
            // SAFETY: fstat into a zeroed stat buffer.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            (fd >= 3 && unsafe { libc::fstat(fd, &mut st) } == 0)
                .then_some(st.st_mode & libc::S_IFMT)
        };
        match mode(h.fd) {
            None => return Err(format!("descriptor {} is not open", h.fd)),
            Some(libc::S_IFSOCK) => {}
            Some(_) => return Err(format!("descriptor {} is not a socket", h.fd)),
        }
        for (n, fd) in files {
            // Only a descriptor the exec'ing pvm left open, each once,
            // and not the connection.
            if fd == h.fd || h.files.iter().any(|(m, f)| *m == n || f.as_raw_fd() == fd) {
                return Err(format!("file {n} on descriptor {fd} given twice"));
            }
            if mode(fd).is_none() {
                return Err(format!("descriptor {fd} is not open"));
            }
            // SAFETY: the descriptor is open, was a file of the exec'ing
            // pvm's stub left open for this pvm alone, and is taken once
            // (checked above). Close-on-exec again from here on.
            let file = unsafe {
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
                std::fs::File::from_raw_fd(fd)
            };
            host_linux::ownfd::hold(fd);
            h.files.push((n, file));
        }
        // SAFETY: the descriptor was the exec'ing pvm's connection, left
        // open for this pvm alone (checked to be an open socket); nothing
        // else in this process owns it. Close-on-exec again from here on.
        let conn = unsafe {
            libc::fcntl(h.fd, libc::F_SETFD, libc::FD_CLOEXEC);
            if h.tcp {
                Conn::Tcp(std::net::TcpStream::from_raw_fd(h.fd))
            } else {
                Conn::Unix(std::os::unix::net::UnixStream::from_raw_fd(h.fd))
            }
        };
        host_linux::ownfd::hold(h.fd);
        Ok((h, conn))
    }
}

struct Hook(Arc<Stub>);

impl DebugHook for Hook {
    fn stopped(&self, p: &Process, thread: &mut Thread, why: Stop) -> Resume {
        let mut g = self.0.lock();
        if g.link.is_none() {
            return Resume::Detach;
        }
        if why == Stop::Start {
            g.auxv = read_auxv(p, thread.cpu.x[2]);
        }
        let mut reply = stop_reply(&g, thread.tid, why);
        // The first stop of a program the guest exec'd, for a client that
        // follows it (gdbserver's exec stop).
        let announce = why == Stop::Start && std::mem::take(&mut g.announce_exec);
        if announce {
            reply = format!("T05exec:{};thread:{:x};", to_hex(&g.exe), thread.tid);
        }
        g.last_stop = reply.clone();
        g.reg_thread = 0;
        g.cont_thread = 0;
        if (why != Stop::Start || announce)
            && let Err(e) = g.link.as_mut().map_or(Ok(()), |l| l.send(reply.as_bytes()))
        {
            return gone(&mut g, e);
        }
        loop {
            let incoming = match g.link.as_mut().map(|l| l.receive()) {
                Some(Ok(i)) => i,
                Some(Err(e)) => return gone(&mut g, e),
                None => return Resume::Detach,
            };
            let data = match incoming {
                Incoming::Packet(d) => d,
                Incoming::Interrupt => continue,
                Incoming::TooLong => {
                    if let Err(e) = send(&mut g, b"E01") {
                        return gone(&mut g, e);
                    }
                    continue;
                }
            };
            let (answer, resume) = handle(&mut g, p, thread, &data);
            if let Some(a) = answer
                && let Err(e) = send(&mut g, &a)
            {
                return gone(&mut g, e);
            }
            if let Some(r) = resume {
                return r;
            }
        }
    }

    fn interrupt_requested(&self) -> bool {
        let mut g = self.0.lock();
        match g.link.as_mut().map(|l| l.poll_interrupt()) {
            Some(Ok(i)) => i,
            // Gone: stop, and the stop finds no client and detaches.
            Some(Err(_)) => {
                g.link = None;
                true
            }
            None => false,
        }
    }

    fn forked_child(&self) {
        // The parent keeps talking to the client; the child's copy of the
        // socket closes with the link.
        self.0.lock().link = None;
    }

    fn passes_signal(&self, signo: i32) -> bool {
        (1..=64).contains(&signo) && self.0.lock().pass & 1 << (signo - 1) != 0
    }
}

fn send(g: &mut Inner, data: &[u8]) -> io::Result<()> {
    match g.link.as_mut() {
        Some(l) => l.send(data),
        None => Ok(()),
    }
}

/// The client went away: the guest runs on alone.
fn gone(g: &mut Inner, e: io::Error) -> Resume {
    eprintln!("pvm: gdb connection lost ({e}); the program runs on");
    g.link = None;
    Resume::Detach
}

fn stop_reply(g: &Inner, tid: i32, why: Stop) -> String {
    if why == Stop::NoResumed {
        // gdb's "no resumed threads left"; a client that does not know it
        // sees that thread stopped with no signal.
        return if g.no_resumed {
            "N".into()
        } else {
            format!("T00thread:{tid:x};")
        };
    }
    let (sig, extra) = match why {
        Stop::Start | Stop::Step => (5, String::new()),
        Stop::Breakpoint => (
            5,
            if g.swbreak {
                "swbreak:;".into()
            } else {
                String::new()
            },
        ),
        Stop::Watch(kind, a) => {
            let name = match kind {
                WatchKind::Write => "watch",
                WatchKind::Read => "rwatch",
                WatchKind::Access => "awatch",
            };
            (5, format!("{name}:{a:x};"))
        }
        Stop::Signal(s) => (to_gdb_signal(s), String::new()),
        Stop::Interrupt => (2, String::new()),
        Stop::NoResumed => (0, String::new()),
    };
    format!("T{sig:02x}thread:{tid:x};{extra}")
}

/// The auxv from the initial stack at `sp` (argc, argv, envp, then the
/// pairs up to and with `AT_NULL`).
fn read_auxv(p: &Process, sp: u64) -> Vec<u8> {
    let rd = |a: u64| p.mem.read_u64(a).ok();
    let Some(argc) = rd(sp) else {
        return Vec::new();
    };
    let mut a = sp + 8 * (argc + 2);
    while let Some(v) = rd(a) {
        a += 8;
        if v == 0 {
            break;
        }
    }
    let mut out = Vec::new();
    for _ in 0..64 {
        let (Some(k), Some(v)) = (rd(a), rd(a + 8)) else {
            break;
        };
        out.extend_from_slice(&k.to_le_bytes());
        out.extend_from_slice(&v.to_le_bytes());
        a += 16;
        if k == 0 {
            break;
        }
    }
    out
}

/// The NUL-terminated string at `a` in guest memory (at most 4 KiB).
fn read_c_string(p: &Process, a: u64) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    for i in 0..4096 {
        p.mem.read_bytes(a.checked_add(i)?, &mut b).ok()?;
        if b[0] == 0 {
            return Some(out);
        }
        out.push(b[0]);
    }
    Some(out)
}

/// Apply `f` to the registers of thread `tid` (0: the stopped one).
fn with_cpu<R>(
    p: &Process,
    thread: &mut Thread,
    tid: i32,
    f: impl FnOnce(&mut Cpu) -> R,
) -> Option<R> {
    if tid <= 0 || tid == thread.tid {
        return Some(f(&mut thread.cpu));
    }
    let mut q = p.green.lock();
    q.threads_mut()
        .find(|t| t.tid == tid)
        .map(|t| f(&mut t.cpu))
}

/// Every thread id, the stopped one first.
fn thread_ids(p: &Process, thread: &Thread) -> Vec<i32> {
    let mut ids = vec![thread.tid];
    ids.extend(p.green.lock().threads_mut().map(|t| t.tid));
    ids
}

/// Register `n` of `cpu` as gdb numbers them, little-endian.
fn reg_bytes(cpu: &Cpu, n: u64) -> Option<Vec<u8>> {
    Some(match n {
        0..=31 => cpu.x[n as usize].to_le_bytes().to_vec(),
        32 => cpu.pc.to_le_bytes().to_vec(),
        33..=64 => cpu.f[n as usize - 33].to_le_bytes().to_vec(),
        66 => cpu.fflags.to_le_bytes().to_vec(),
        67 => cpu.frm.to_le_bytes().to_vec(),
        68 => (cpu.frm << 5 | cpu.fflags).to_le_bytes().to_vec(),
        _ => return None,
    })
}

/// Set register `n` from little-endian bytes of its size.
fn set_reg(cpu: &mut Cpu, n: u64, b: &[u8]) -> bool {
    let v64 = || b.try_into().ok().map(u64::from_le_bytes);
    let v32 = || b.try_into().ok().map(u32::from_le_bytes);
    match n {
        0 => v64().is_some(),
        1..=31 => v64().map(|v| cpu.x[n as usize] = v).is_some(),
        32 => v64().map(|v| cpu.pc = v).is_some(),
        33..=64 => v64().map(|v| cpu.f[n as usize - 33] = v).is_some(),
        66 => v32().map(|v| cpu.fflags = v & 0x1f).is_some(),
        67 => v32().map(|v| cpu.frm = v & 7).is_some(),
        68 => v32()
            .map(|v| {
                cpu.fflags = v & 0x1f;
                cpu.frm = (v >> 5) & 7;
            })
            .is_some(),
        _ => false,
    }
}

/// Registers in `g` packet order.
const G_REGS: [u64; 68] = {
    let mut r = [0u64; 68];
    let mut i = 0;
    while i < 65 {
        r[i] = i as u64;
        i += 1;
    }
    r[65] = 66;
    r[66] = 67;
    r[67] = 68;
    r
};

/// A `qXfer` read of `data` at `off,len`.
fn xfer(data: &[u8], args: &[u8]) -> Vec<u8> {
    let Some((off, len)) = split2(args, b',') else {
        return b"E01".to_vec();
    };
    let (Some(off), Some(len)) = (parse_hex(off), parse_hex(len)) else {
        return b"E01".to_vec();
    };
    let len = len.min(packet::MAX_PACKET as u64 / 2);
    if off >= data.len() as u64 {
        return b"l".to_vec();
    }
    let end = (off + len).min(data.len() as u64);
    let mut out = vec![if end == data.len() as u64 { b'l' } else { b'm' }];
    out.extend_from_slice(&data[off as usize..end as usize]);
    out
}

fn split2(s: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let i = s.iter().position(|&c| c == sep)?;
    Some((&s[..i], &s[i + 1..]))
}

/// `addr,len` (and what follows a `:`).
fn addr_len(s: &[u8]) -> Option<(u64, u64, &[u8])> {
    let (head, rest) = match split2(s, b':') {
        Some((h, r)) => (h, r),
        None => (s, &b""[..]),
    };
    let (a, l) = split2(head, b',')?;
    Some((parse_hex(a)?, parse_hex(l)?, rest))
}

/// One packet: the answer (none for a resume) and the resume, if any.
fn handle(
    g: &mut Inner,
    p: &Process,
    thread: &mut Thread,
    data: &[u8],
) -> (Option<Vec<u8>>, Option<Resume>) {
    let ok = || Some(b"OK".to_vec());
    let err = |n: u8| Some(format!("E{n:02x}").into_bytes());
    let Some(&kind) = data.first() else {
        return (Some(Vec::new()), None);
    };
    let body = &data[1..];
    let dbg = p
        .debugger()
        .expect("the stub runs with a debugger attached");
    let answer = match kind {
        b'?' => Some(g.last_stop.clone().into_bytes()),
        b'g' => with_cpu(p, thread, g.reg_thread, |cpu| {
            G_REGS
                .iter()
                .map(|&n| to_hex(&reg_bytes(cpu, n).unwrap_or_default()))
                .collect::<String>()
                .into_bytes()
        })
        .or_else(|| err(1)),
        b'G' => {
            let Some(bytes) = from_hex(body) else {
                return (err(1), None);
            };
            with_cpu(p, thread, g.reg_thread, |cpu| {
                let mut at = 0;
                for &n in &G_REGS {
                    let size = if n >= 66 { 4 } else { 8 };
                    if at + size > bytes.len() {
                        break;
                    }
                    set_reg(cpu, n, &bytes[at..at + size]);
                    at += size;
                }
            })
            .map_or_else(|| err(1), |_| ok())
        }
        b'p' => match parse_hex(body) {
            Some(n) => with_cpu(p, thread, g.reg_thread, |cpu| reg_bytes(cpu, n))
                .flatten()
                .map(|b| to_hex(&b).into_bytes())
                .or_else(|| err(1)),
            None => err(1),
        },
        b'P' => match split2(body, b'=').and_then(|(n, v)| Some((parse_hex(n)?, from_hex(v)?))) {
            Some((n, v)) => match with_cpu(p, thread, g.reg_thread, |cpu| set_reg(cpu, n, &v)) {
                Some(true) => ok(),
                _ => err(1),
            },
            None => err(1),
        },
        b'm' => match addr_len(body) {
            Some((a, l, _)) => {
                let l = l.min(packet::MAX_PACKET as u64 / 2) as usize;
                let mut buf = vec![0u8; l];
                // The readable prefix, else EFAULT.
                let mut n = l;
                while n > 0 && dbg.read_memory(&p.mem, a, &mut buf[..n]).is_err() {
                    n = if n > 8 { n / 2 } else { n - 1 };
                }
                if n == 0 && l > 0 {
                    err(0x14)
                } else {
                    Some(to_hex(&buf[..n]).into_bytes())
                }
            }
            None => err(1),
        },
        b'M' | b'X' => match addr_len(body) {
            Some((a, l, rest)) => {
                let bytes = if kind == b'M' {
                    from_hex(rest)
                } else {
                    Some(unescape(rest))
                };
                match bytes {
                    Some(b) if b.len() as u64 == l => {
                        if b.is_empty() || dbg.write_memory(&p.mem, a, &b).is_ok() {
                            ok()
                        } else {
                            err(0x14)
                        }
                    }
                    _ => err(1),
                }
            }
            None => err(1),
        },
        b'Z' | b'z' => {
            let insert = kind == b'Z';
            let Some((t, rest)) = split2(body, b',') else {
                return (err(1), None);
            };
            let Some((a, l, _)) = addr_len(rest) else {
                return (err(1), None);
            };
            match t {
                b"0" | b"1" if insert => {
                    if l != 2 && l != 4 {
                        err(1)
                    } else if dbg.insert_breakpoint(&p.mem, a, l as u8).is_ok() {
                        ok()
                    } else {
                        err(0x14)
                    }
                }
                b"0" | b"1" => {
                    dbg.remove_breakpoint(&p.mem, a);
                    ok()
                }
                b"2" | b"3" | b"4" if l == 0 || l > 4096 => err(1),
                b"2" | b"3" | b"4" => {
                    let kind = match t {
                        b"2" => WatchKind::Write,
                        b"3" => WatchKind::Read,
                        _ => WatchKind::Access,
                    };
                    if insert {
                        dbg.insert_watchpoint(a, l, kind);
                    } else {
                        dbg.remove_watchpoint(a, l, kind);
                    }
                    ok()
                }
                _ => Some(Vec::new()),
            }
        }
        b'c' | b's' | b'C' | b'S' => {
            let (sig, addr) = if kind == b'C' || kind == b'S' {
                let (s, a) = split2(body, b';').unwrap_or((body, b""));
                (parse_hex(s).and_then(|s| from_gdb_signal(s as u8)), a)
            } else {
                (None, body)
            };
            let other = g.cont_thread > 0 && g.cont_thread != thread.tid;
            if let Some(a) = parse_hex(addr) {
                if other {
                    with_cpu(p, thread, g.cont_thread, |cpu| cpu.pc = a);
                } else {
                    thread.cpu.pc = a;
                }
            }
            let r = match (kind == b'c' || kind == b'C', other) {
                (true, _) => Resume::Continue(sig),
                (false, false) => Resume::Step(sig),
                (false, true) => Resume::StepThread(g.cont_thread, sig),
            };
            return (None, Some(r));
        }
        b'H' => {
            let (op, t) = body.split_first().unwrap_or((&b'g', b""));
            let tid = if t == b"-1" {
                -1
            } else {
                parse_hex(t).map_or(-2, |v| v as i32)
            };
            if tid == -2 || (tid > 0 && !thread_ids(p, thread).contains(&tid)) {
                err(1)
            } else {
                match op {
                    b'g' => g.reg_thread = tid,
                    b'c' => g.cont_thread = tid,
                    _ => {}
                }
                ok()
            }
        }
        b'T' => match parse_hex(body) {
            Some(t) if thread_ids(p, thread).contains(&(t as i32)) => ok(),
            _ => err(1),
        },
        b'k' => kill(g),
        b'D' => {
            let _ = send(g, b"OK");
            g.link = None;
            return (None, Some(Resume::Detach));
        }
        b'q' | b'Q' => query(g, p, thread, data),
        b'v' => return v_packet(g, p, thread, data),
        _ => Some(Vec::new()),
    };
    (answer, None)
}

/// `k`/`vKill`: the guest dies of SIGKILL, as under gdb on Linux.
fn kill(g: &mut Inner) -> ! {
    let _ = send(g, b"OK");
    g.link = None;
    std::process::exit(128 + 9);
}

fn query(g: &mut Inner, p: &Process, thread: &mut Thread, data: &[u8]) -> Option<Vec<u8>> {
    let s = |x: &str| Some(x.as_bytes().to_vec());
    if let Some(features) = data.strip_prefix(b"qSupported") {
        let has = |want: &[u8]| {
            features
                .split(|&c| c == b';' || c == b':')
                .any(|f| f == want)
        };
        g.swbreak = has(b"swbreak+");
        g.exec_events = has(b"exec-events+");
        g.no_resumed = has(b"no-resumed+");
        return s(&format!(
            "PacketSize={:x};QStartNoAckMode+;qXfer:features:read+;qXfer:auxv:read+;\
             qXfer:exec-file:read+;qXfer:libraries-svr4:read+;swbreak+;vContSupported+;QPassSignals+{}",
            packet::MAX_PACKET,
            if g.exec_events { ";exec-events+" } else { "" }
        ));
    }
    if let Some(list) = data.strip_prefix(b"QPassSignals:") {
        // gdb's numbers, hex, separated by `;`: each replaces the set.
        let mut pass = 0u64;
        for n in list.split(|&c| c == b';').filter(|n| !n.is_empty()) {
            match parse_hex(n).filter(|&v| v <= 0xff) {
                Some(v) => {
                    if let Some(s) = from_gdb_signal(v as u8) {
                        pass |= 1 << (s - 1);
                    }
                }
                None => return s("E01"),
            }
        }
        g.pass = pass;
        return s("OK");
    }
    if data == b"QStartNoAckMode" {
        let _ = send(g, b"OK");
        if let Some(l) = g.link.as_mut() {
            l.no_ack = true;
        }
        return None;
    }
    if let Some(rest) = data.strip_prefix(b"qXfer:features:read:") {
        return Some(match split2(rest, b':') {
            Some((b"target.xml", args)) => xfer(TARGET_XML.as_bytes(), args),
            _ => b"E00".to_vec(),
        });
    }
    if let Some(rest) = data.strip_prefix(b"qXfer:auxv:read::") {
        return Some(xfer(&g.auxv, rest));
    }
    if let Some(rest) = data.strip_prefix(b"qXfer:libraries-svr4:read:") {
        // The annex (`start=...;prev=...`) is only sent to stubs that
        // announce `augmented-libraries-svr4-read+`: the whole list.
        let args = split2(rest, b':').map_or(&b""[..], |(_, a)| a);
        let doc = svr4::library_list(&g.auxv, |a| p.mem.read_u64(a).ok(), |a| read_c_string(p, a));
        return Some(xfer(doc.as_bytes(), args));
    }
    if let Some(rest) = data.strip_prefix(b"qXfer:exec-file:read:") {
        let args = split2(rest, b':').map_or(&b""[..], |(_, a)| a);
        return Some(xfer(&g.exe.clone(), args));
    }
    if data == b"qfThreadInfo" {
        let ids: Vec<String> = thread_ids(p, thread)
            .iter()
            .map(|t| format!("{t:x}"))
            .collect();
        return s(&format!("m{}", ids.join(",")));
    }
    if data == b"qsThreadInfo" {
        return s("l");
    }
    if data == b"qC" {
        return s(&format!("QC{:x}", thread.tid));
    }
    if data == b"qAttached" {
        // pvm started the program: gdb kills it when done.
        return s("0");
    }
    if data.starts_with(b"qSymbol") {
        return s("OK");
    }
    if let Some(t) = data.strip_prefix(b"qThreadExtraInfo,") {
        return match parse_hex(t) {
            Some(t) if thread_ids(p, thread).contains(&(t as i32)) => Some(
                to_hex(if t as i32 == thread.tid {
                    b"current"
                } else {
                    b"waiting"
                })
                .into_bytes(),
            ),
            _ => s("E01"),
        };
    }
    Some(Vec::new())
}

/// `vCont;ACTION[:TID];...`: the first action naming a thread (or none)
/// applies to it, and a thread no action applies to stays stopped (gdb's
/// all-stop mode: `vCont;c:TID` alone runs that thread only). A step for
/// some thread steps it while the others with an action continue
/// (`vCont;s:TID;c`); else the stopped thread's action decides. Returns
/// the resume and the threads to keep stopped; `None` for a malformed
/// list. A list that names no thread of the process resumes them all.
fn v_cont(ids: &[i32], me: i32, actions: &[u8]) -> Option<(Resume, Vec<i32>)> {
    let sig = |s: &[u8]| -> Option<Option<i32>> {
        let v = parse_hex(s).filter(|&v| v <= 0xff)?;
        Some(from_gdb_signal(v as u8))
    };
    // (action, signal, thread: None for all)
    let mut parsed = Vec::new();
    for a in actions.split(|&c| c == b';') {
        let (act, t) = match split2(a, b':') {
            Some((act, t)) if t == b"-1" => (act, None),
            Some((act, t)) => (act, Some(parse_hex(t)? as i32)),
            None => (a, None),
        };
        let (&k, rest) = act.split_first()?;
        let s = match k {
            b'c' | b's' if rest.is_empty() => None,
            b'C' | b'S' => sig(rest)?,
            _ => return None,
        };
        parsed.push((k.to_ascii_lowercase(), s, t));
    }
    // The action for thread `tid`: the first naming it, else the first
    // naming none.
    let action_for = |tid: i32| {
        parsed
            .iter()
            .find(|(_, _, t)| *t == Some(tid))
            .or_else(|| parsed.iter().find(|(_, _, t)| t.is_none()))
            .copied()
    };
    let mut held: Vec<i32> = ids
        .iter()
        .copied()
        .filter(|&t| action_for(t).is_none())
        .collect();
    if held.len() == ids.len() {
        held.clear();
    }
    // A thread named to step (other than the stopped one).
    for &(k, s, t) in &parsed {
        if k == b's'
            && let Some(t) = t
            && t != me
            && ids.contains(&t)
            && action_for(t).is_some_and(|(k, ..)| k == b's')
        {
            return Some((Resume::StepThread(t, s), held));
        }
    }
    let r = match action_for(me) {
        Some((b's', s, _)) => Resume::Step(s),
        Some((_, s, _)) => Resume::Continue(s),
        // No action for the stopped thread: it stays stopped (held) while
        // the others named run.
        None if !parsed.is_empty() => Resume::Continue(None),
        None => return None,
    };
    Some((r, held))
}

fn v_packet(
    g: &mut Inner,
    p: &Process,
    thread: &mut Thread,
    data: &[u8],
) -> (Option<Vec<u8>>, Option<Resume>) {
    if data == b"vCont?" {
        return (Some(b"vCont;c;C;s;S".to_vec()), None);
    }
    if let Some(actions) = data.strip_prefix(b"vCont;") {
        return match v_cont(&thread_ids(p, thread), thread.tid, actions) {
            Some((r, held)) => {
                if let Some(d) = p.debugger() {
                    d.hold(p, held);
                }
                (None, Some(r))
            }
            None => (Some(b"E01".to_vec()), None),
        };
    }
    if data.starts_with(b"vKill") {
        kill(g);
    }
    if data == b"vMustReplyEmpty" {
        return (Some(Vec::new()), None);
    }
    if let Some(f) = data.strip_prefix(b"vFile:") {
        return (Some(vfile(g, f)), None);
    }
    (Some(Vec::new()), None)
}

/// Most files gdb may have open at once (`vFile:open`).
const MAX_FILES: usize = 256;

/// Host I/O (`vFile:`), read-only, through pvm's sysroot rule: an
/// absolute path that exists in the sysroot is read from there.
fn vfile(g: &mut Inner, f: &[u8]) -> Vec<u8> {
    use std::io::{Read, Seek, SeekFrom};
    let fail = |errno: i32| format!("F-1,{errno:x}").into_bytes();
    let Some((op, args)) = split2(f, b':') else {
        return Vec::new();
    };
    let args: Vec<&[u8]> = args.split(|&c| c == b',').collect();
    match op {
        b"setfs" => b"F0".to_vec(),
        b"open" => {
            let Some(path) = args.first().and_then(|p| from_hex(p)) else {
                return fail(22);
            };
            let flags = args.get(1).and_then(|f| parse_hex(f)).unwrap_or(0);
            if flags & 3 != 0 {
                // Read-only host I/O (gdb's EACCES).
                return fail(13);
            }
            let mapped = crate::HOST.map(&path).into_owned();
            match std::fs::File::open(std::ffi::OsStr::from_bytes(&mapped)) {
                Ok(file) => {
                    let file = out_of_the_way(file);
                    let fd = match g.files.iter().position(Option::is_none) {
                        Some(i) => {
                            g.files[i] = Some(file);
                            i
                        }
                        None if g.files.len() >= MAX_FILES => return fail(24),
                        None => {
                            g.files.push(Some(file));
                            g.files.len() - 1
                        }
                    };
                    format!("F{fd:x}").into_bytes()
                }
                Err(e) => fail(fileio_errno(&e)),
            }
        }
        b"pread" => {
            let (Some(fd), Some(count), Some(off)) = (
                args.first().and_then(|v| parse_hex(v)),
                args.get(1).and_then(|v| parse_hex(v)),
                args.get(2).and_then(|v| parse_hex(v)),
            ) else {
                return fail(22);
            };
            let Some(Some(file)) = g.files.get_mut(fd as usize) else {
                return fail(9);
            };
            let count = count.min(packet::MAX_PACKET as u64 / 2) as usize;
            let mut buf = vec![0u8; count];
            let n = file
                .seek(SeekFrom::Start(off))
                .and_then(|_| file.read(&mut buf));
            match n {
                Ok(n) => {
                    let mut out = format!("F{n:x};").into_bytes();
                    out.extend_from_slice(&buf[..n]);
                    out
                }
                Err(e) => fail(fileio_errno(&e)),
            }
        }
        b"close" => match args.first().and_then(|v| parse_hex(v)) {
            Some(fd) if g.files.get(fd as usize).is_some_and(Option::is_some) => {
                if let Some(f) = g.files[fd as usize].take() {
                    use std::os::fd::AsRawFd;
                    host_linux::ownfd::release(f.as_raw_fd());
                }
                b"F0".to_vec()
            }
            _ => fail(9),
        },
        b"fstat" => {
            let Some(Some(file)) = args
                .first()
                .and_then(|v| parse_hex(v))
                .and_then(|fd| g.files.get(fd as usize))
            else {
                return fail(9);
            };
            match file.metadata() {
                Ok(m) => {
                    use std::os::unix::fs::MetadataExt;
                    // gdb's fileio stat: big-endian fields.
                    let mut st = Vec::with_capacity(64);
                    for v in [
                        m.dev() as u32,
                        m.ino() as u32,
                        m.mode(),
                        m.nlink() as u32,
                        m.uid(),
                        m.gid(),
                        m.rdev() as u32,
                    ] {
                        st.extend_from_slice(&v.to_be_bytes());
                    }
                    for v in [m.size(), m.blksize(), m.blocks()] {
                        st.extend_from_slice(&v.to_be_bytes());
                    }
                    for v in [m.atime() as u32, m.mtime() as u32, m.ctime() as u32] {
                        st.extend_from_slice(&v.to_be_bytes());
                    }
                    let mut out = format!("F{:x};", st.len()).into_bytes();
                    out.extend_from_slice(&st);
                    out
                }
                Err(e) => fail(fileio_errno(&e)),
            }
        }
        _ => Vec::new(),
    }
}

/// gdb's file-I/O errno for a host error.
fn fileio_errno(e: &io::Error) -> i32 {
    const KNOWN: [i32; 20] = [
        1, 2, 4, 5, 9, 13, 14, 16, 17, 19, 20, 21, 22, 23, 24, 27, 28, 29, 30, 36,
    ];
    e.raw_os_error()
        .filter(|n| KNOWN.contains(n))
        .unwrap_or(9999)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_round_trip() {
        for s in 1..=64 {
            if s != 16 {
                assert_eq!(from_gdb_signal(to_gdb_signal(s)), Some(s), "signal {s}");
            }
        }
        assert_eq!(to_gdb_signal(11), 11);
        assert_eq!(to_gdb_signal(10), 30);
        assert_eq!(from_gdb_signal(0), None);
    }

    #[test]
    fn vcont_actions() {
        let ids = [5, 6];
        let r = |a: &[u8]| v_cont(&ids, 5, a);
        let all = |r: Resume| Some((r, Vec::new()));
        assert_eq!(r(b"c"), all(Resume::Continue(None)));
        assert_eq!(r(b"s:5;c"), all(Resume::Step(None)));
        assert_eq!(r(b"s:6;c"), all(Resume::StepThread(6, None)));
        assert_eq!(r(b"S1e:6;c"), all(Resume::StepThread(6, Some(10))));
        assert_eq!(r(b"C0b:5;c"), all(Resume::Continue(Some(11))));
        assert_eq!(r(b"C00:5;c"), all(Resume::Continue(None)));
        // Threads with no action stay stopped.
        assert_eq!(r(b"s:5"), Some((Resume::Step(None), vec![6])));
        assert_eq!(r(b"c:5"), Some((Resume::Continue(None), vec![6])));
        assert_eq!(r(b"c:6"), Some((Resume::Continue(None), vec![5])));
        assert_eq!(r(b"s:6"), Some((Resume::StepThread(6, None), vec![5])));
        // A thread that is not there: the list names none, all continue.
        assert_eq!(r(b"s:9"), all(Resume::Continue(None)));
        assert_eq!(r(b"s:9;c"), all(Resume::Continue(None)));
        for bad in [&b""[..], b"x", b"C", b"Czz", b"C123", b"s:zz", b"c;;"] {
            assert_eq!(r(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn listen_spellings() {
        assert_eq!(
            Listen::parse("1234"),
            Ok(Listen::Tcp("127.0.0.1:1234".into()))
        );
        assert_eq!(
            Listen::parse("0.0.0.0:99"),
            Ok(Listen::Tcp("0.0.0.0:99".into()))
        );
        assert_eq!(
            Listen::parse("unix:/tmp/s"),
            Ok(Listen::Unix("/tmp/s".into()))
        );
        assert!(Listen::parse("unix:").is_err());
        assert!(Listen::parse("nope").is_err());
    }

    #[test]
    fn handover_state() {
        let h = Handover {
            fd: 5,
            tcp: false,
            no_ack: true,
            swbreak: false,
            no_resumed: true,
            pass: 0x4000,
            files: Vec::new(),
        };
        let enc = format!("{},file=0:7,file=3:9", h.encode());
        let (back, files) = Handover::parse_state(&enc).unwrap();
        assert_eq!(back.encode(), h.encode());
        assert_eq!(files, vec![(0, 7), (3, 9)]);
        for bad in [
            "5,unix,file=1",
            "5,unix,file=x:3",
            "5,unix,file=999999:3",
            "5,unix,bogus",
        ] {
            assert!(Handover::parse_state(bad).is_err(), "{bad}");
        }
        // A descriptor that is not open is refused.
        assert!(Handover::take("999,unix").is_err());
    }

    #[test]
    fn xfer_windows() {
        assert_eq!(xfer(b"abcdef", b"0,4"), b"mabcd");
        assert_eq!(xfer(b"abcdef", b"4,10"), b"lef");
        assert_eq!(xfer(b"abcdef", b"6,10"), b"l");
        assert_eq!(xfer(b"abcdef", b"zz"), b"E01");
        assert!(TARGET_XML.contains("riscv:rv64"));
    }
}
