//! `option=selftest`: a boot-time check of the machine-facing parts of the
//! kernel through the same `HostOs` calls the guest path uses: demand
//! paging (contents survive `PROT_NONE`, `discard` gives zeroes), the
//! clock, entropy and the file system, and the SSE/AVX state the
//! translator's code needs (see [`crate::cpu`]). It prints one line per check on
//! stdout (COM1), a note on stderr (COM2), and exits with the status given
//! by `option=selftest-status=N` when everything passed, 1 otherwise.
//! `cargo xtask qemu --selftest` runs it; xtask's tests check its output.
//! With `option=selftest-fault` it then touches unmapped memory, to show
//! that a kernel fault is reported and ends QEMU with the failure status;
//! with `option=selftest-idle` it polls a pipe with no timeout, which must
//! wait for good with the CPU halted.

use crate::host::BareMetal;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write as _;
use host_baremetal::bootcfg::BootConfig;
use vm_core::host::{AT_FDCWD, HostOs, HostProt, Timespec};

struct Report {
    failures: u32,
}

impl Report {
    fn check(&mut self, name: &str, ok: bool) {
        let mut out = crate::serial::COM1.lock();
        let _ = writeln!(out, "selftest {name}: {}", if ok { "ok" } else { "FAILED" });
        if !ok {
            self.failures += 1;
        }
    }
}

fn paging(host: &BareMetal, r: &mut Report) {
    let Ok(base) = host.reserve(1 << 32) else {
        r.check("reserve", false);
        return;
    };
    let page = 4096usize;
    // SAFETY (all blocks below): the pointers stay inside the reservation,
    // and each access happens only while the pages are accessible.
    let at = |i: usize| unsafe { base.add(0x1234_5000 + i) };
    let rw = HostProt::READ | HostProt::WRITE;
    let ok = host.protect(at(0), 3 * page, rw).is_ok();
    r.check("protect read-write", ok);
    let fresh_zero = (0..3 * page).step_by(512).all(|i| unsafe { *at(i) } == 0);
    r.check("fresh pages read as zero", fresh_zero);
    for i in 0..3 * page {
        unsafe { *at(i) = (i % 251) as u8 };
    }
    let hidden = host.protect(at(0), 3 * page, HostProt::empty()).is_ok()
        && host.protect(at(0), 3 * page, HostProt::READ).is_ok();
    let kept = (0..3 * page).all(|i| unsafe { *at(i) } == (i % 251) as u8);
    r.check("contents survive PROT_NONE", hidden && kept);
    let discarded =
        host.discard(at(page), page).is_ok() && host.protect(at(0), 3 * page, rw).is_ok();
    let zeroed = (page..2 * page).all(|i| unsafe { *at(i) } == 0);
    let others = (0..page).all(|i| unsafe { *at(i) } == (i % 251) as u8);
    r.check(
        "discard gives zeroes, neighbours kept",
        discarded && zeroed && others,
    );
    // Touch pages far apart: each needs its own page tables.
    let far = [0usize, 1 << 21, 1 << 30, (1 << 32) - page];
    let spread = far.iter().all(|&off| {
        let p = unsafe { base.add(off) };
        host.protect(p, page, rw).is_ok() && {
            unsafe { *p = 0xa5 };
            unsafe { *p == 0xa5 }
        }
    });
    r.check("pages across the reservation", spread);
    let bad = host.protect(base.wrapping_add(1), page, rw).is_err();
    r.check("unaligned protect refused", bad);
}

fn clock(host: &BareMetal, r: &mut Report) {
    let ticks0 = crate::interrupts::TICKS.load(core::sync::atomic::Ordering::Relaxed);
    let idle0 = crate::clock::idle_ns();
    let t0 = host.clock_gettime(1).unwrap_or_default();
    let slept = host
        .sleep(Timespec {
            sec: 0,
            nsec: 20_000_000,
        })
        .is_ok();
    let t1 = host.clock_gettime(1).unwrap_or_default();
    let ns = (t1.sec - t0.sec) * 1_000_000_000 + (t1.nsec - t0.nsec);
    r.check(
        "nanosleep 20ms",
        slept && (20_000_000..2_000_000_000).contains(&ns),
    );
    // The sleep halted between timer ticks instead of spinning: most of
    // it was spent halted, and ticks woke it. (Ticks are not counted
    // against the 20 ms: when the host is loaded QEMU delivers the PIT's
    // ticks late and merged, so a few may stand for many.)
    let ticks = crate::interrupts::TICKS.load(core::sync::atomic::Ordering::Relaxed) - ticks0;
    let idle = crate::clock::idle_ns() - idle0;
    r.check(
        "sleep halts between timer ticks",
        ticks >= 1 && idle >= 10_000_000,
    );
    let wall = host.clock_gettime(0).unwrap_or_default();
    // After 2020 and before 2100: the RTC was read and converted.
    r.check(
        "wall clock",
        (1_577_836_800..4_102_444_800).contains(&wall.sec),
    );
    r.check("bad clock id refused", host.clock_gettime(99).is_err());
}

fn entropy(host: &BareMetal, r: &mut Report) {
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    let ok = host.random(&mut a).is_ok() && host.random(&mut b).is_ok();
    r.check("getrandom", ok && a != b && a != [0; 32]);
}

fn files(host: &BareMetal, config: &BootConfig, r: &mut Report) {
    let Ok(fd) = host.openat(
        AT_FDCWD,
        b"/tmp/selftest",
        0o102, /* O_RDWR|O_CREAT */
        0o644,
    ) else {
        r.check("create in /tmp", false);
        return;
    };
    let wrote = host.write(fd, b"written in /tmp\n") == Ok(16);
    let mut buf = [0u8; 64];
    let read = host.pread(fd, &mut buf, 0);
    r.check(
        "/tmp write and read back",
        wrote && read == Ok(16) && &buf[..16] == b"written in /tmp\n",
    );
    let _ = host.close(fd);
    let ro = host.openat(AT_FDCWD, b"/.pvm/boot", 1 /* O_WRONLY */, 0);
    r.check(
        "ramdisk is read-only",
        ro == Err(vm_core::host::Errno::EROFS),
    );
    // List the ramdisk root through getdents64.
    let mut names: Vec<Vec<u8>> = Vec::new();
    if let Ok(dir) = host.openat(AT_FDCWD, b"/", 0o200000, 0) {
        let mut buf = vec![0u8; 4096];
        while let Ok(n) = host.getdents64(dir, &mut buf) {
            if n == 0 {
                break;
            }
            let mut at = 0;
            while at < n {
                let reclen = u16::from_le_bytes([buf[at + 16], buf[at + 17]]) as usize;
                let name = &buf[at + 19..at + reclen];
                let len = name.iter().position(|&c| c == 0).unwrap_or(name.len());
                names.push(name[..len].to_vec());
                at += reclen;
            }
        }
        let _ = host.close(dir);
    }
    let mut out = crate::serial::COM1.lock();
    let _ = write!(out, "selftest root:");
    for n in &names {
        let _ = write!(out, " {}", core::str::from_utf8(n).unwrap_or("?"));
    }
    let _ = writeln!(out);
    drop(out);
    r.check(
        "root lists /tmp and /.pvm",
        names.iter().any(|n| n == b"tmp") && names.iter().any(|n| n == b".pvm"),
    );
    let mut cwd = [0u8; 256];
    let cwd_ok = host
        .getcwd(&mut cwd)
        .is_ok_and(|n| cwd[..n] == config.cwd[..]);
    r.check("starting directory", cwd_ok);
}

/// Shared file mappings: two views of one file are one set of frames
/// (the file's page cache, [`crate::pagecache`]), seen by `pread` and
/// showing `pwrite`; and mapping, touching and unmapping views again and
/// again gives every frame back (none leaks, none is freed twice: the
/// free count comes back exactly) and ends the cache with the last view,
/// its bytes written back to the file.
fn page_cache(host: &BareMetal, r: &mut Report) {
    const PAGE: usize = 4096;
    let rw = HostProt::READ | HostProt::WRITE;
    let fd = host.openat(AT_FDCWD, b"/tmp/selftest-map", 0o1102, 0o644);
    let base = host.reserve(1 << 24);
    let (Ok(fd), Ok(base)) = (fd, base) else {
        r.check("page cache: file and reservation", false);
        return;
    };
    let (a, b) = (base, base.wrapping_add(1 << 20));
    let map = |at: *mut u8, len: usize| host.map_file(at, len, fd, 0, rw, true).is_ok();
    // SAFETY (all accesses below): inside views just mapped read-write,
    // each of 2 pages, until they are discarded.
    let get = |p: *mut u8, i: usize| unsafe { core::ptr::read_volatile(p.add(i)) };
    let set = |p: *mut u8, i: usize, v: u8| unsafe { core::ptr::write_volatile(p.add(i), v) };
    let mapped =
        host.ftruncate(fd, 2 * PAGE as i64).is_ok() && map(a, 2 * PAGE) && map(b, 2 * PAGE);
    r.check("page cache: two views of a file", mapped);
    if !mapped {
        return;
    }
    set(a, 100, 7);
    set(b, PAGE + 1, 9);
    let mut buf = [0u8; 2];
    let seen = get(b, 100) == 7
        && get(a, PAGE + 1) == 9
        && host.pread(fd, &mut buf, PAGE as i64) == Ok(2)
        && buf == [0, 9];
    r.check(
        "page cache: a store is seen through the other view and by pread",
        seen,
    );
    let shown = host.pwrite(fd, b"xy", PAGE as i64 + 10) == Ok(2)
        && get(a, PAGE + 10) == b'x'
        && get(b, PAGE + 11) == b'y';
    r.check("page cache: pwrite is seen through both views", shown);
    let gone = |h: &BareMetal| h.discard(a, 2 * PAGE).is_ok() && h.discard(b, 2 * PAGE).is_ok();
    let first = gone(host) && crate::pagecache::count() == 0;
    // The page tables of the views stay: count frames from here.
    let free = crate::memory::frames_free();
    let mut churn = first;
    for i in 0..200u8 {
        churn &= map(a, 2 * PAGE) && map(b, 2 * PAGE);
        if !churn {
            break;
        }
        set(a, i as usize, i);
        set(b, PAGE + i as usize, i);
        churn &= get(b, i as usize) == i && get(a, PAGE + i as usize) == i && gone(host);
    }
    r.check(
        "page cache: 200 rounds of map, touch, unmap free every frame",
        churn && crate::pagecache::count() == 0 && crate::memory::frames_free() == free,
    );
    let kept = host.pread(fd, &mut buf, 199) == Ok(2) && buf == [199, 0];
    r.check("page cache: the last view's bytes reach the file", kept);
    let _ = host.close(fd);
    host.release(base, 1 << 24);
}

/// The vector unit translated code uses: SSE2 arithmetic runs (no #UD)
/// under the default MXCSR, and where the CPU has FMA3 the translator
/// sees the AVX state enabled (so fused multiply-adds are inline).
fn simd(r: &mut Report) {
    let (a, b) = (1.5f64.to_bits(), 2.25f64.to_bits());
    let sum: u64;
    let mut mxcsr = 0u32;
    // SAFETY: plain register arithmetic and a 4-byte store to a local;
    // `cpu::init` enabled SSE (a #UD here would be reported as a kernel
    // fault, failing the run).
    unsafe {
        core::arch::asm!(
            "movq xmm0, {a}",
            "movq xmm1, {b}",
            "addsd xmm0, xmm1",
            "movq {a}, xmm0",
            "stmxcsr [{m}]",
            a = inout(reg) a => sum,
            b = in(reg) b,
            m = in(reg) &mut mxcsr,
            out("xmm0") _,
            out("xmm1") _,
            options(nostack),
        );
    }
    r.check(
        "sse2 arithmetic, default mxcsr",
        sum == 3.75f64.to_bits() && mxcsr & !0x3f == 0x1f80,
    );
    let c1 = core::arch::x86_64::__cpuid(1);
    let (fma, avx) = (1 << 12, 1 << 28);
    if c1.ecx & (fma | avx) == fma | avx {
        r.check(
            "avx state enabled: fma3 inline in translated code",
            vm_core::translate::host_features().contains(&("fma3", true)),
        );
    }
}

/// Run every check and exit.
pub fn run(host: &'static BareMetal, config: &BootConfig) -> ! {
    let mut r = Report { failures: 0 };
    paging(host, &mut r);
    clock(host, &mut r);
    entropy(host, &mut r);
    files(host, config, &mut r);
    page_cache(host, &mut r);
    simd(&mut r);
    let _ = host.write(2, b"selftest: this line is on stderr\n");
    if config.has_option(b"selftest-idle") {
        // Wait for a pipe nothing will ever write: Linux would block for
        // good, and so must this machine, halted rather than spinning
        // (xtask measures QEMU's CPU time while it waits).
        crate::klog!("selftest-idle: polling a pipe with no timeout");
        if let Ok([rd, _wr]) = host.pipe2(0) {
            let mut fds = [vm_core::host::PollFd {
                fd: rd,
                events: 1, // POLLIN
                revents: 0,
            }];
            let r = host.poll(&mut fds, None);
            crate::klog!("selftest-idle: poll returned {r:?}");
        }
    }
    if config.has_option(b"selftest-fault") {
        // Prove the kernel-fault path: touch an address nothing maps. The
        // page-fault handler must report it and exit with the failure code.
        let p = crate::memory::UNMAPPED_PROBE as *const u8;
        // SAFETY: deliberately faulting; the handler never returns here.
        let v = unsafe { core::ptr::read_volatile(p) };
        crate::klog!("selftest-fault: read {v} from an unmapped address");
    }
    let status = config
        .option_value(b"selftest-status")
        .and_then(|v| core::str::from_utf8(v).ok())
        .and_then(|v| v.parse::<i32>().ok())
        .unwrap_or(0);
    crate::klog!(
        "selftest done: {} failure(s), TSC {} MHz",
        r.failures,
        crate::clock::tsc_hz() / 1_000_000
    );
    crate::exit::exit_guest(if r.failures == 0 { status } else { 1 })
}
