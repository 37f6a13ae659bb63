//! What the fuzz targets in `fuzz_targets/` share: a reader of the fuzz
//! input, a few RISC-V instruction encoders, and a guest process on
//! vm-core's test host confined to a temporary directory
//! ([`TestHost::confined`]), run by the real run loop
//! (`Process::run`) under the interpreter or the translator.
//!
//! Why the test host and not pvm's Linux host for guests that make
//! arbitrary system calls: on the Linux host, guest descriptors are the
//! fuzzing process's own descriptors (a random `close` or `dup3` would
//! take libFuzzer's), and `kill`, `exit`, `fork`, `execve`, `rt_sigaction`
//! act on the fuzzing process itself. The test host answers every call
//! (file calls with real files below the temporary directory, the rest as
//! a host without that facility: `ESRCH`, `ENOSYS`), so every number and
//! argument goes through the whole system call layer (decoding, pointer
//! checks, memory management, signals, strace formatting) with nothing
//! outside the directory touched. The memory-management calls, which
//! reach the host only through the reservation, also run on the Linux
//! host (see `fuzz_targets/syscalls.rs`).

use std::path::PathBuf;
use std::sync::OnceLock;
use vm_core::host::HostOs;
use vm_core::memory::{GuestMemory, Perm};
use vm_core::process::{ExitStatus, Options, Process, Thread};
use vm_testkit::testhost::TestHost;

/// Reads choices from the fuzz input; zeroes once it runs out.
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data }
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    pub fn u64(&mut self) -> u64 {
        self.u32() as u64 | (self.u32() as u64) << 32
    }
}

// ---- RISC-V encoders (the few instructions the harness guests use) -----

pub fn i_type(op: u32, f3: u32, rd: u32, rs1: u32, imm: i32) -> u32 {
    ((imm as u32 & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op
}
pub fn ld(rd: u32, rs1: u32, off: i32) -> u32 {
    i_type(0x03, 3, rd, rs1, off)
}
pub fn addi(rd: u32, rs1: u32, imm: i32) -> u32 {
    i_type(0x13, 0, rd, rs1, imm)
}
pub fn sd(rs2: u32, rs1: u32, off: i32) -> u32 {
    let imm = off as u32 & 0xfff;
    ((imm >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (3 << 12) | ((imm & 0x1f) << 7) | 0x23
}
pub fn lui(rd: u32, imm20: u32) -> u32 {
    (imm20 << 12) | (rd << 7) | 0x37
}
pub const ECALL: u32 = 0x73;
/// `bne rs1, rs2, off` (off a multiple of 2 within +-4 KiB).
pub fn bne(rs1: u32, rs2: u32, off: i32) -> u32 {
    let o = off as u32;
    (((o >> 12) & 1) << 31)
        | (((o >> 5) & 0x3f) << 25)
        | (rs2 << 20)
        | (rs1 << 15)
        | (1 << 12)
        | (((o >> 1) & 0xf) << 8)
        | (((o >> 11) & 1) << 7)
        | 0x63
}
/// `li rd, value` for a value below 2^31 (lui + addi).
pub fn li(rd: u32, value: u32) -> [u32; 2] {
    let lo = ((value & 0xfff) as i32) << 20 >> 20;
    let hi = value.wrapping_sub(lo as u32) >> 12;
    [lui(rd, hi & 0xfffff), addi(rd, rd, lo)]
}

// ---- the guest process -------------------------------------------------

/// Size of a fuzz guest's address space.
pub const SPACE: u64 = 1 << 26;
/// Code (read + execute).
pub const CODE: u64 = 0x1_0000;
/// Tables the harness writes and the guest reads (read + write).
pub const TABLE: u64 = 0x2_0000;
pub const TABLE_LEN: u64 = 0x1_0000;
/// Strings (paths) and buffers the arguments point at (read + write).
pub const STRINGS: u64 = 0x3_0000;
pub const BUF: u64 = 0x4_0000;
pub const BUF_LEN: u64 = 0x1_0000;
/// A read-only page (pointers the kernel must not write through).
pub const RO: u64 = 0x5_0000;
/// The break starts here.
pub const BRK: u64 = 0x8_0000;
/// The stack.
pub const STACK: u64 = 0x10_0000;
pub const STACK_TOP: u64 = 0x12_0000;

/// The temporary directory the guests' files live in (made once per
/// fuzzing process, removed by nobody: it is below the system's temp
/// directory and holds a few small files).
pub fn sandbox_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("pvm-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("d")).expect("temp dir");
        std::fs::write(d.join("a"), b"contents of a\n").expect("temp file");
        std::fs::write(d.join("d/x"), [0u8; 100]).expect("temp file");
        d
    })
}

/// Put the sandbox directory back as [`sandbox_dir`] made it: remove
/// what a guest created, restore what it changed.
pub fn reset_sandbox() {
    let d = sandbox_dir();
    if let Ok(rd) = std::fs::read_dir(d) {
        for e in rd.flatten() {
            let name = e.file_name();
            if name != "a" && name != "d" {
                let p = e.path();
                let _ = std::fs::remove_dir_all(&p).or_else(|_| std::fs::remove_file(&p));
            }
        }
    }
    if let Ok(rd) = std::fs::read_dir(d.join("d")) {
        for e in rd.flatten() {
            if e.file_name() != "x" {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    if std::fs::metadata(d.join("a")).map(|m| m.len()).ok() != Some(14) {
        let _ = std::fs::write(d.join("a"), b"contents of a\n");
    }
    if std::fs::metadata(d.join("d/x")).map(|m| m.len()).ok() != Some(100) {
        let _ = std::fs::write(d.join("d/x"), [0u8; 100]);
    }
}

/// One confined test host for the fuzzing process (each input starts
/// with [`TestHost::reset`]).
pub fn test_host() -> &'static TestHost {
    static HOST: OnceLock<&'static TestHost> = OnceLock::new();
    HOST.get_or_init(|| TestHost::confined(sandbox_dir()))
}

/// A guest memory with the harness layout: code, tables, strings,
/// buffers, a read-only page, a break and a stack.
pub fn guest_memory(host: &'static dyn HostOs) -> GuestMemory {
    let mem = GuestMemory::new(host, SPACE).expect("guest memory");
    let rw = Perm::READ | Perm::WRITE;
    mem.map(CODE, 0x1_0000, Perm::READ | Perm::EXEC, true)
        .unwrap();
    mem.map(TABLE, TABLE_LEN, rw, true).unwrap();
    mem.map(STRINGS, 0x1000, rw, true).unwrap();
    mem.map(BUF, BUF_LEN, rw, true).unwrap();
    mem.map(RO, 0x1000, Perm::READ, true).unwrap();
    mem.map(BRK, 0x1000, rw, true).unwrap();
    mem.map(STACK, STACK_TOP - STACK, rw, true).unwrap();
    {
        let mut m = mem.maps.lock();
        m.brk_start = BRK + 0x800;
        m.brk = BRK + 0x800;
        m.mmap_top = SPACE - (4 << 20);
        m.mmap_min = 0x100_0000;
    }
    mem
}

/// Write `code` at [`CODE`].
pub fn put_code(mem: &GuestMemory, code: &[u32]) {
    let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    mem.write_bytes_privileged(CODE, &bytes)
        .expect("code fits its mapping");
}

/// Run `mem`'s program from [`CODE`] as a process on `host` to its end
/// (the interpreter, or the translator with a small code cache).
pub fn run_guest(
    host: &'static dyn HostOs,
    mem: GuestMemory,
    jit: bool,
    strace: bool,
    check: impl FnOnce(&Process, ExitStatus),
) {
    let engine = if jit {
        vm_core::process::EngineKind::Jit {
            cache_size: 256 << 10,
        }
    } else {
        vm_core::process::EngineKind::Interp
    };
    let p = Process::new(
        host,
        mem,
        b"/fuzz/guest".to_vec(),
        Options {
            strace,
            engine,
            ..Default::default()
        },
    );
    let mut t = Thread {
        tid: host.gettid(),
        ..Default::default()
    };
    t.cpu.pc = CODE;
    t.cpu.x[2] = STACK_TOP - 0x100;
    let mut e = p.engine().expect("engine");
    let status = p.run(&mut t, e.as_mut());
    check(&p, status);
}

/// `add rd, rs1, rs2`.
pub fn add(rd: u32, rs1: u32, rs2: u32) -> u32 {
    (rs2 << 20) | (rs1 << 15) | (rd << 7) | 0x33
}
/// A store of width `1 << f3` bytes (`sb`, `sh`, `sw`, `sd`).
pub fn store(f3: u32, rs2: u32, rs1: u32, off: i32) -> u32 {
    let imm = off as u32 & 0xfff;
    ((imm >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 0x1f) << 7) | 0x23
}
/// `csrr rd, csr`.
pub fn csrr(rd: u32, csr: u32) -> u32 {
    i_type(0x73, 2, rd, 0, csr as i32)
}
pub const EBREAK: u32 = 0x0010_0073;
