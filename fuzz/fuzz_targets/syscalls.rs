//! Fuzz target: the system call layer. The input becomes a guest that
//! issues up to 48 system calls, each a random number (mostly below 512,
//! where Linux's riscv64 calls are, sometimes any 64-bit value) with
//! random and hostile arguments: small integers and descriptors, -1, all
//! bits, pointers to strings (paths inside and outside the sandbox,
//! `/proc/self/...`, unterminated at the end of a mapping), into writable
//! buffers, into a read-only page, at unmapped addresses, at the very end
//! of the address space and past it, wrapping sizes. The guest stores each
//! result; then the harness checks that every call's result is a valid
//! Linux return (success, or -1..-133: a real errno) and the run loop
//! ended as a process ends (exit status or a killing signal). A panic,
//! a host fault or a hang fails.
//!
//! It runs on vm-core's test host confined to a temporary directory (see
//! `pvm_fuzz`'s comment for why not the Linux host), under the
//! interpreter or the translator, with or without `--strace` formatting
//! of every call. The calls that reach the host only through the guest
//! reservation (the memory-management calls: `brk`, `mmap` of anonymous
//! memory, `munmap`, `mremap`, `mprotect`, `madvise`, `msync`, `mlock`
//! and friends) and harmless queries run a second time on pvm's Linux
//! host, where a bad address in the core would be a real host fault.
#![no_main]

use host_linux::host::LinuxHost;
use libfuzzer_sys::fuzz_target;
use pvm_fuzz::*;
use vm_core::memory::GuestMemory;
use vm_core::process::ExitStatus;

static LINUX: LinuxHost = LinuxHost::new();

/// Calls per guest at most.
const MAX_CALLS: usize = 48;
/// A result slot the guest has not written.
const UNSET: u64 = 0x5eed_5eed_5eed_5eed;
/// Bytes of one call in the table: number, six arguments, result.
const SLOT: u64 = 64;

/// Paths (NUL-terminated) written at [`STRINGS`]; arguments point at them.
const PATHS: &[&[u8]] = &[
    b"a\0",
    b"d\0",
    b"d/x\0",
    b"/a\0",
    b"/\0",
    b".\0",
    b"..\0",
    b"../../etc/passwd\0",
    b"/etc/passwd\0",
    b"/proc/self/maps\0",
    b"/proc/self/mem\0",
    b"/proc/self/exe\0",
    b"/proc/self/fd/0\0",
    b"/dev/null\0",
    b"new\0",
    b"d/new\0",
    b"\0",
];

/// Memory-management calls and queries that also run on the Linux host
/// (riscv64 numbers): nothing there reaches the fuzzing process's
/// descriptors, signals or children.
const LINUX_SAFE: &[u64] = &[
    214, // brk
    215, // munmap
    216, // mremap
    222, // mmap (the descriptor forced to -1)
    226, // mprotect
    227, // msync
    228, // mlock
    229, // munlock
    232, // mincore
    233, // madvise
    284, // mlock2
    172, // getpid
    178, // gettid
    160, // uname
    113, // clock_gettime
    278, // getrandom
    124, // sched_yield
    179, // sysinfo
];

struct Call {
    nr: u64,
    args: [u64; 6],
}

fn string_addrs() -> Vec<u64> {
    let mut at = STRINGS;
    let mut v = Vec::new();
    for p in PATHS {
        v.push(at);
        at += p.len() as u64;
    }
    v
}

fn argument(r: &mut Reader, strings: &[u64]) -> u64 {
    let k = r.u8();
    let v = match k % 16 {
        0 | 1 => (r.u8() % 8) as u64,
        2 => r.u8() as u64,
        3 => u64::MAX,
        4 => strings[r.u8() as usize % strings.len()],
        5 | 6 => BUF + (r.u16() as u64 % BUF_LEN),
        // Unterminated: the last bytes of the strings page are not NUL
        // and the page after it is not mapped.
        7 => STRINGS + 0x1000 - 1 - (r.u8() % 4) as u64,
        8 => RO + r.u8() as u64,
        9 => 0x200_0000 + r.u16() as u64 * 8,
        10 => SPACE - (r.u8() as u64 + 1),
        11 => [SPACE, 1 << 47, u64::MAX - 0xfff, 1 << 63][r.u8() as usize % 4],
        12 => 1 << (r.u8() % 64),
        13 => (-(r.u8() as i64 % 64)) as u64,
        14 => r.u32() as u64,
        _ => r.u64(),
    };
    // Keep the harness's own code and table out of reach (results stay
    // readable); a guest that remaps them itself is fine.
    if (CODE..TABLE + TABLE_LEN).contains(&v) {
        v - CODE + BUF
    } else {
        v
    }
}

fn calls(r: &mut Reader) -> Vec<Call> {
    let strings = string_addrs();
    let mut v = Vec::new();
    while !r.is_empty() && v.len() < MAX_CALLS {
        let n = r.u16();
        let nr = if n & 0x8000 != 0 && n & 0x4000 != 0 {
            r.u64()
        } else {
            (n % 512) as u64
        };
        let mut args = [0u64; 6];
        for a in &mut args {
            *a = argument(r, &strings);
        }
        v.push(Call { nr, args });
    }
    if v.is_empty() {
        // The guest's loop runs at least once.
        v.push(Call {
            nr: 172,
            args: [0; 6],
        });
    }
    v
}

/// The guest: for each slot of the table, load a7 and a0..a5, `ecall`,
/// store a0; then `exit_group(0)`.
fn program(n: usize) -> Vec<u32> {
    const S1: u32 = 9;
    const S2: u32 = 18;
    let mut c = Vec::new();
    c.extend(li(S1, TABLE as u32));
    c.extend(li(S2, n as u32));
    let top = c.len();
    c.push(ld(17, S1, 0));
    for i in 0..6 {
        c.push(ld(10 + i, S1, 8 + 8 * i as i32));
    }
    c.push(ECALL);
    c.push(sd(10, S1, 56));
    c.push(addi(S1, S1, SLOT as i32));
    c.push(addi(S2, S2, -1));
    let back = (top as i32 - c.len() as i32) * 4;
    c.push(bne(S2, 0, back));
    c.extend(li(10, 0));
    c.extend(li(17, 94));
    c.push(ECALL);
    c
}

fn setup(mem: &GuestMemory, calls: &[Call], fill: u8) {
    put_code(mem, &program(calls.len()));
    let mut at = STRINGS;
    for p in PATHS {
        mem.write_bytes(at, p).unwrap();
        at += p.len() as u64;
    }
    mem.write_bytes(STRINGS + 0x1000 - 8, b"unended/").unwrap();
    mem.write_bytes(BUF, &vec![fill; BUF_LEN as usize]).unwrap();
    for (i, c) in calls.iter().enumerate() {
        let s = TABLE + i as u64 * SLOT;
        mem.write_u64(s, c.nr).unwrap();
        for (j, a) in c.args.iter().enumerate() {
            mem.write_u64(s + 8 + 8 * j as u64, *a).unwrap();
        }
        mem.write_u64(s + 56, UNSET).unwrap();
    }
}

/// Every call that ran left a valid Linux return.
fn check(mem: &GuestMemory, calls: &[Call], status: ExitStatus, host: &str) {
    match status {
        ExitStatus::Exited(c) => assert!((0..256).contains(&c), "{host}: exit status {c}"),
        ExitStatus::Signaled(r) => assert!((1..=64).contains(&r.signo), "{host}: {r:?}"),
    }
    for (i, c) in calls.iter().enumerate() {
        let s = TABLE + i as u64 * SLOT;
        // The table may be gone (a guest's MAP_FIXED or munmap over it).
        let Ok(nr) = mem.read_u64(s) else { return };
        let args: Vec<u64> = (0..6)
            .map(|j| mem.read_u64(s + 8 + 8 * j).unwrap_or(!0))
            .collect();
        if nr != c.nr || args != c.args {
            return;
        }
        let v = mem.read_u64(s + 56).unwrap_or(UNSET);
        if v == UNSET {
            return;
        }
        let r = v as i64;
        assert!(
            r >= 0 || (-133..=-1).contains(&r),
            "{host}: call {i}: syscall {} ({:#x?}) returned {r} ({v:#x}): not a Linux return",
            c.nr,
            c.args
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let mode = r.u8();
    let calls = calls(&mut r);
    let jit = mode & 1 != 0;
    let strace = mode & 2 != 0;
    let fill = mode & 0xf0;

    let host = test_host();
    host.reset();
    reset_sandbox();
    let mem = guest_memory(host);
    setup(&mem, &calls, fill);
    run_guest(host, mem, jit, strace, |p, status| {
        check(&p.mem, &calls, status, "test host")
    });

    // The same guest's memory-management calls and queries on the Linux
    // host (others become getpid; no descriptor reaches a mapping).
    let linux: Vec<Call> = calls
        .iter()
        .map(|c| {
            let mut args = c.args;
            let nr = if LINUX_SAFE.contains(&c.nr) {
                if c.nr == 222 {
                    args[4] = u64::MAX;
                }
                c.nr
            } else {
                172
            };
            Call { nr, args }
        })
        .collect();
    let mem = guest_memory(&LINUX);
    setup(&mem, &linux, fill);
    // A process on the Linux host takes over the host's signal actions
    // (it catches what kills by default); libFuzzer's own (SIGALRM for
    // its timeout, SIGINT) come back afterwards.
    let saved = save_signal_actions();
    run_guest(&LINUX, mem, jit, false, |p, status| {
        check(&p.mem, &linux, status, "Linux host")
    });
    restore_signal_actions(&saved);
});

fn save_signal_actions() -> Vec<(i32, libc::sigaction)> {
    (1..65)
        .filter_map(|s| {
            // SAFETY: sigaction with a null new action only reads the old
            // one into a zeroed, valid struct.
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                (libc::sigaction(s, std::ptr::null(), &mut old) == 0).then_some((s, old))
            }
        })
        .collect()
}

fn restore_signal_actions(saved: &[(i32, libc::sigaction)]) {
    for (s, a) in saved {
        if *s == libc::SIGSEGV || *s == libc::SIGBUS {
            // pvm's fault handler for translated code (installed once,
            // it passes other faults on to the sanitizer's).
            continue;
        }
        // SAFETY: puts back an action the kernel gave for this signal.
        unsafe {
            libc::sigaction(*s, a, std::ptr::null_mut());
        }
    }
}
