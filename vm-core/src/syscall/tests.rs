//! Unit tests of the OS-call emulator against [`crate::testhost::TestHost`].

use super::nr::*;
use super::*;
use crate::memory::{PAGE_SIZE, Perm};
use crate::process::Options;
use crate::testhost::TestHost;
use alloc::vec;
use alloc::vec::Vec;
extern crate std;

const TOP: u64 = 0x380_0000;

fn process(strace: bool) -> (alloc::sync::Arc<Process>, &'static TestHost) {
    let host = TestHost::leak();
    let mem = GuestMemory::new(host, 1 << 26).unwrap();
    // What the loader leaves: a data page ending in the break, a stack.
    mem.map(0x10000, 0x1000, Perm::READ | Perm::WRITE, true)
        .unwrap();
    {
        let mut m = mem.maps.lock();
        m.brk_start = 0x10800;
        m.brk = 0x10800;
        m.mmap_top = TOP;
        m.mmap_min = 0x100_0000;
    }
    let p = Process::new(
        host,
        mem,
        b"/bin/guest".to_vec(),
        Options {
            strace,
            ..Default::default()
        },
    );
    (p, host)
}

fn thread() -> Thread {
    Thread {
        tid: 1000,
        ..Default::default()
    }
}

fn sys(p: &Process, t: &mut Thread, nr: u64, args: &[u64]) -> i64 {
    t.cpu.x[17] = nr;
    for i in 0..6 {
        t.cpu.x[10 + i] = args.get(i).copied().unwrap_or(0);
    }
    let pc = t.cpu.pc;
    assert_eq!(dispatch(p, t), Flow::Continue);
    assert_eq!(t.cpu.pc, pc + 4);
    t.cpu.x[10] as i64
}

const RW: u64 = 3;
const PRIV_ANON: u64 = 0x22;
const EFAULT: i64 = -14;
const EINVAL: i64 = -22;
const ENOMEM: i64 = -12;

#[test]
fn brk_grows_and_shrinks() {
    let (p, _) = process(false);
    let mut t = thread();
    assert_eq!(sys(&p, &mut t, BRK, &[0]), 0x10800);
    assert_eq!(sys(&p, &mut t, BRK, &[0x13000]), 0x13000);
    p.mem.write_u64(0x12ff8, 7).unwrap();
    assert_eq!(sys(&p, &mut t, BRK, &[0x11001]), 0x11001);
    assert!(
        p.mem.read_u8(0x11000).is_ok(),
        "page holding the break stays"
    );
    assert!(p.mem.read_u8(0x12000).is_err(), "pages above it go");
    // Regrown pages are fresh zeroes.
    assert_eq!(sys(&p, &mut t, BRK, &[0x13000]), 0x13000);
    assert_eq!(p.mem.read_u64(0x12ff8).unwrap(), 0);
    // Below the start, or into another mapping: the break stays.
    assert_eq!(sys(&p, &mut t, BRK, &[0x1000]), 0x13000);
    p.mem.map(0x20000, 0x1000, Perm::READ, true).unwrap();
    assert_eq!(sys(&p, &mut t, BRK, &[0x30000]), 0x13000);
}

#[test]
fn mmap_placement_and_flags() {
    let (p, _) = process(false);
    let mut t = thread();
    let a = sys(&p, &mut t, MMAP, &[0, 8192, RW, PRIV_ANON, u64::MAX, 0]);
    assert_eq!(a as u64, TOP - 8192, "top-down below mmap_top");
    let b = sys(&p, &mut t, MMAP, &[0, 100, 1, PRIV_ANON, u64::MAX, 0]);
    assert_eq!(b as u64, TOP - 8192 - PAGE_SIZE);
    assert!(p.mem.write_u8(b as u64, 1).is_err(), "PROT_READ only");
    // A free hint is taken (rounded up to a page); a busy one is not.
    let h = sys(
        &p,
        &mut t,
        MMAP,
        &[0x200_0001, 4096, RW, PRIV_ANON, u64::MAX, 0],
    );
    assert_eq!(h, 0x200_1000);
    let h2 = sys(
        &p,
        &mut t,
        MMAP,
        &[0x200_1000, 4096, RW, PRIV_ANON, u64::MAX, 0],
    );
    assert_ne!(h2, 0x200_1000);
    // MAP_FIXED replaces, MAP_FIXED_NOREPLACE refuses.
    p.mem.write_u8(0x200_1000, 9).unwrap();
    let f = sys(
        &p,
        &mut t,
        MMAP,
        &[0x200_1000, 4096, RW, PRIV_ANON | 0x10, u64::MAX, 0],
    );
    assert_eq!(f, 0x200_1000);
    assert_eq!(p.mem.read_u8(0x200_1000).unwrap(), 0);
    let nr = sys(
        &p,
        &mut t,
        MMAP,
        &[0x200_1000, 4096, RW, PRIV_ANON | 0x10_0000, u64::MAX, 0],
    );
    assert_eq!(nr, -17);
    // Bad arguments.
    assert_eq!(
        sys(&p, &mut t, MMAP, &[0, 0, RW, PRIV_ANON, u64::MAX, 0]),
        EINVAL
    );
    assert_eq!(
        sys(&p, &mut t, MMAP, &[0, 4096, RW, 0x20, u64::MAX, 0]),
        EINVAL
    );
    assert_eq!(
        sys(
            &p,
            &mut t,
            MMAP,
            &[0x123, 4096, RW, PRIV_ANON | 0x10, u64::MAX, 0]
        ),
        EINVAL
    );
    assert_eq!(
        sys(&p, &mut t, MMAP, &[0, 1 << 50, RW, PRIV_ANON, u64::MAX, 0]),
        ENOMEM
    );
}

#[test]
fn munmap_mprotect_madvise() {
    let (p, _) = process(false);
    let mut t = thread();
    let a = sys(&p, &mut t, MMAP, &[0, 3 * 4096, RW, PRIV_ANON, u64::MAX, 0]) as u64;
    p.mem.write_u8(a + 4096, 5).unwrap();
    assert_eq!(sys(&p, &mut t, MADVISE, &[a, 8192, abi::MADV_DONTNEED]), 0);
    assert_eq!(p.mem.read_u8(a + 4096).unwrap(), 0);
    assert_eq!(sys(&p, &mut t, MPROTECT, &[a, 4096, 1]), 0);
    assert!(p.mem.write_u8(a, 1).is_err());
    assert!(p.mem.write_u8(a + 4096, 1).is_ok());
    assert_eq!(sys(&p, &mut t, MUNMAP, &[a + 4096, 1]), 0);
    assert!(p.mem.read_u8(a + 4096).is_err());
    assert_eq!(sys(&p, &mut t, MPROTECT, &[a, 3 * 4096, RW]), ENOMEM);
    assert_eq!(sys(&p, &mut t, MADVISE, &[a, 3 * 4096, 0]), ENOMEM);
    assert_eq!(sys(&p, &mut t, MUNMAP, &[a + 1, 4096]), EINVAL);
    assert_eq!(sys(&p, &mut t, MUNMAP, &[a, 0]), EINVAL);
    assert_eq!(sys(&p, &mut t, MPROTECT, &[a, 4096, 8]), EINVAL);
}

#[test]
fn mremap_grow_shrink_move() {
    let (p, _) = process(false);
    let mut t = thread();
    let a = sys(&p, &mut t, MMAP, &[0, 4096, RW, PRIV_ANON, u64::MAX, 0]) as u64;
    // Top-down: nothing above `a` below TOP, so it can grow in place.
    let b = sys(
        &p,
        &mut t,
        MMAP,
        &[a - 4096, 4096, RW, PRIV_ANON | 0x10, u64::MAX, 0],
    ) as u64;
    assert_eq!(b, a - 4096);
    p.mem.write_u64(b, 0xdead_beef).unwrap();
    // b cannot grow in place (a is above it) without MAYMOVE.
    assert_eq!(sys(&p, &mut t, MREMAP, &[b, 4096, 8192, 0]), ENOMEM);
    let m = sys(&p, &mut t, MREMAP, &[b, 4096, 3 * 4096, 1]) as u64;
    assert_ne!(m, b);
    assert_eq!(p.mem.read_u64(m).unwrap(), 0xdead_beef);
    assert_eq!(p.mem.read_u64(m + 8192).unwrap(), 0);
    assert!(p.mem.read_u8(b).is_err(), "old range unmapped");
    // Shrink in place.
    assert_eq!(sys(&p, &mut t, MREMAP, &[m, 3 * 4096, 4096, 0]) as u64, m);
    assert!(p.mem.read_u8(m + 4096).is_err());
    // Grow in place into the free page above it.
    assert_eq!(sys(&p, &mut t, MREMAP, &[m, 4096, 8192, 0]) as u64, m);
    assert!(p.mem.write_u8(m + 4096, 1).is_ok());
    // A fixed move.
    let f = sys(&p, &mut t, MREMAP, &[m, 8192, 8192, 3, 0x280_0000]);
    assert_eq!(f, 0x280_0000);
    assert_eq!(p.mem.read_u64(0x280_0000).unwrap(), 0xdead_beef);
    // Unmapped source, bad flags.
    assert_eq!(
        sys(&p, &mut t, MREMAP, &[0x2f0_0000, 4096, 8192, 1]),
        EFAULT
    );
    assert_eq!(
        sys(&p, &mut t, MREMAP, &[0x280_0000, 4096, 8192, 2, 0]),
        EINVAL
    );
}

#[test]
fn bad_pointers_are_efault() {
    let (p, host) = process(false);
    let mut t = thread();
    assert_eq!(sys(&p, &mut t, WRITE, &[1, 0x9999_0000, 5]), EFAULT);
    assert_eq!(sys(&p, &mut t, UNAME, &[0xdead_0000]), EFAULT);
    assert_eq!(sys(&p, &mut t, CLOCK_GETTIME, &[1, u64::MAX - 3]), EFAULT);
    assert_eq!(sys(&p, &mut t, OPENAT, &[(-100i64) as u64, 0]), EFAULT);
    // A write whose buffer runs off the mapping writes the readable part.
    p.mem.write_bytes(0x10ffe, b"ok").unwrap();
    assert_eq!(sys(&p, &mut t, WRITE, &[1, 0x10ffe, 10]), 2);
    assert_eq!(&host.out.lock().unwrap()[..], b"ok");
}

#[test]
fn writev_gathers_into_one_write() {
    let (p, host) = process(false);
    let mut t = thread();
    p.mem.write_bytes(0x10000, b"hello, world\n").unwrap();
    let mut iov = vec![0u8; 32];
    iov[0..8].copy_from_slice(&0x10000u64.to_le_bytes());
    iov[8..16].copy_from_slice(&7u64.to_le_bytes());
    iov[16..24].copy_from_slice(&0x10007u64.to_le_bytes());
    iov[24..32].copy_from_slice(&6u64.to_le_bytes());
    p.mem.write_bytes(0x10100, &iov).unwrap();
    assert_eq!(sys(&p, &mut t, WRITEV, &[1, 0x10100, 2]), 13);
    assert_eq!(&host.out.lock().unwrap()[..], b"hello, world\n");
    assert_eq!(sys(&p, &mut t, WRITEV, &[1, 0x10100, 5000]), EINVAL);
}

#[test]
fn identity_and_machine() {
    let (p, _) = process(false);
    let mut t = thread();
    assert_eq!(sys(&p, &mut t, UNAME, &[0x10000]), 0);
    let mut machine = [0u8; 8];
    p.mem.read_bytes(0x10000 + 4 * 65, &mut machine).unwrap();
    assert_eq!(&machine, b"riscv64\0");
    assert_eq!(sys(&p, &mut t, GETPID, &[]), 1000);
    assert_eq!(sys(&p, &mut t, GETPPID, &[]), 999);
    assert_eq!(sys(&p, &mut t, SET_TID_ADDRESS, &[0x10010]), 1000);
    assert_eq!(t.clear_child_tid, 0x10010);
    assert_eq!(sys(&p, &mut t, RSEQ, &[0x10000, 32, 0, 0]), -38);
    // ppoll's own checks come before the host's poll.
    assert_eq!(sys(&p, &mut t, PPOLL, &[0x10000, 1 << 40, 0, 0, 8]), EINVAL);
    assert_eq!(sys(&p, &mut t, PPOLL, &[0x10000, 1, 0, 0x10000, 4]), EINVAL);
    assert_eq!(sys(&p, &mut t, PPOLL, &[0x9999_0000, 1, 0, 0, 8]), EFAULT);
    assert_eq!(sys(&p, &mut t, 0x1ff, &[]), -38);
    assert_eq!(sys(&p, &mut t, GETRANDOM, &[0x10000, 16, 1]), 16);
    assert_eq!(sys(&p, &mut t, GETRANDOM, &[0x10000, 16, 8]), EINVAL);
    // prlimit: 8 MiB stack, refusing untracked changes.
    assert_eq!(sys(&p, &mut t, PRLIMIT64, &[0, 3, 0, 0x10000]), 0);
    assert_eq!(p.mem.read_u64(0x10000).unwrap(), 8 << 20);
    assert_eq!(p.mem.read_u64(0x10008).unwrap(), u64::MAX);
    assert_eq!(sys(&p, &mut t, SCHED_GETAFFINITY, &[0, 128, 0x10000]), 8);
    assert_eq!(p.mem.read_u64(0x10000).unwrap(), 1);
    assert_eq!(sys(&p, &mut t, SCHED_GETAFFINITY, &[0, 4, 0x10000]), EINVAL);
}

#[test]
fn hwprobe_and_icache() {
    let (p, _) = process(false);
    let mut t = thread();
    let keys: [i64; 5] = [3, 4, 5, 42, -7];
    for (i, k) in keys.iter().enumerate() {
        p.mem.write_u64(0x10000 + 16 * i as u64, *k as u64).unwrap();
    }
    assert_eq!(sys(&p, &mut t, RISCV_HWPROBE, &[0x10000, 5, 0, 0, 0]), 0);
    let pair = |i: u64| {
        (
            p.mem.read_u64(0x10000 + 16 * i).unwrap() as i64,
            p.mem.read_u64(0x10008 + 16 * i).unwrap(),
        )
    };
    assert_eq!(pair(0), (3, 1));
    assert_eq!(pair(1), (4, super::hwprobe::RV64GC_IMA_EXT_0));
    assert_eq!(pair(2), (5, super::hwprobe::MISALIGNED_SCALAR_FAST));
    assert_eq!(pair(3), (-1, 0));
    assert_eq!(pair(4), (-1, 0));
    // A CPU set naming no online CPU, a set without a pointer, bad flags.
    p.mem.write_u64(0x10100, 0).unwrap();
    assert_eq!(
        sys(&p, &mut t, RISCV_HWPROBE, &[0x10000, 1, 8, 0x10100, 0]),
        EINVAL
    );
    assert_eq!(
        sys(&p, &mut t, RISCV_HWPROBE, &[0x10000, 1, 8, 0, 0]),
        EFAULT
    );
    assert_eq!(
        sys(&p, &mut t, RISCV_HWPROBE, &[0x10000, 1, 0, 0, 2]),
        EINVAL
    );
    // WHICH_CPUS: an empty set means all online CPUs; a pair every hart
    // matches keeps them, one no hart matches empties the set.
    p.mem.write_u64(0x10000, 4).unwrap();
    p.mem.write_u64(0x10008, 3).unwrap();
    assert_eq!(
        sys(&p, &mut t, RISCV_HWPROBE, &[0x10000, 1, 8, 0x10100, 1]),
        0
    );
    assert_ne!(p.mem.read_u64(0x10100).unwrap() & 1, 0);
    p.mem.write_u64(0x10008, 1 << 2).unwrap(); // V
    assert_eq!(
        sys(&p, &mut t, RISCV_HWPROBE, &[0x10000, 1, 8, 0x10100, 1]),
        0
    );
    assert_eq!(p.mem.read_u64(0x10100).unwrap(), 0);
    assert_eq!(
        sys(&p, &mut t, RISCV_HWPROBE, &[0x10000, 1, 0, 0, 1]),
        EINVAL
    );
    let epoch = p.mem.code_epoch();
    assert_eq!(sys(&p, &mut t, RISCV_FLUSH_ICACHE, &[0, 0, 0]), 0);
    assert!(p.mem.code_epoch() > epoch);
    assert_eq!(sys(&p, &mut t, RISCV_FLUSH_ICACHE, &[0, 0, 2]), EINVAL);
}

#[test]
fn signal_state_and_futex() {
    let (p, _) = process(false);
    let mut t = thread();
    // rt_sigaction(SIGINT, {handler 0x1234, flags 4, mask SIGKILL|SIGUSR1}).
    let mut act = [0u8; 24];
    act[0..8].copy_from_slice(&0x1234u64.to_le_bytes());
    act[8..16].copy_from_slice(&4u64.to_le_bytes());
    act[16..24].copy_from_slice(&((1u64 << 8) | (1 << 9)).to_le_bytes());
    p.mem.write_bytes(0x10000, &act).unwrap();
    assert_eq!(sys(&p, &mut t, RT_SIGACTION, &[2, 0x10000, 0, 8]), 0);
    assert_eq!(sys(&p, &mut t, RT_SIGACTION, &[2, 0, 0x10100, 8]), 0);
    assert_eq!(p.mem.read_u64(0x10100).unwrap(), 0x1234);
    assert_eq!(
        p.mem.read_u64(0x10110).unwrap(),
        1 << 9,
        "SIGKILL not maskable"
    );
    assert_eq!(sys(&p, &mut t, RT_SIGACTION, &[9, 0x10000, 0, 8]), EINVAL);
    assert_eq!(sys(&p, &mut t, RT_SIGACTION, &[2, 0, 0, 4]), EINVAL);
    // rt_sigprocmask(SIG_BLOCK, {SIGINT, SIGSTOP}).
    p.mem.write_u64(0x10200, (1 << 1) | (1 << 18)).unwrap();
    assert_eq!(sys(&p, &mut t, RT_SIGPROCMASK, &[0, 0x10200, 0, 8]), 0);
    assert_eq!(t.sigmask, 1 << 1);
    assert_eq!(
        sys(&p, &mut t, RT_SIGPROCMASK, &[1, 0x10200, 0x10208, 8]),
        0
    );
    assert_eq!(t.sigmask, 0);
    assert_eq!(p.mem.read_u64(0x10208).unwrap(), 1 << 1);
    // sigaltstack: disabled at first; a too-small stack is ENOMEM.
    assert_eq!(sys(&p, &mut t, SIGALTSTACK, &[0, 0x10300]), 0);
    assert_eq!(p.mem.read_u32(0x10308).unwrap(), 2);
    p.mem.write_u64(0x10400, 0x5000).unwrap();
    p.mem.write_u64(0x10410, 100).unwrap();
    assert_eq!(sys(&p, &mut t, SIGALTSTACK, &[0x10400, 0]), ENOMEM);
    // futex on one thread.
    p.mem.write_u32(0x10500, 1).unwrap();
    assert_eq!(sys(&p, &mut t, FUTEX, &[0x10500, 128, 0]), -11);
    assert_eq!(sys(&p, &mut t, FUTEX, &[0x10500, 129, 1]), 0);
    assert_eq!(sys(&p, &mut t, FUTEX, &[0x10502, 1, 1]), EINVAL);
    p.mem.write_bytes(0x10600, &encode_ts(0, 1000)).unwrap();
    assert_eq!(sys(&p, &mut t, FUTEX, &[0x10500, 0, 1, 0x10600]), -110);
}

fn encode_ts(sec: i64, nsec: i64) -> [u8; 16] {
    abi::encode_timespec(crate::host::Timespec { sec, nsec })
}

#[test]
fn self_signals_and_exit() {
    let (p, _) = process(false);
    let mut t = thread();
    // A blocked SIGABRT stays pending (rt_sigpending shows it); once
    // unblocked its default action kills, naming the `ecall`.
    t.sigmask = 1 << 5;
    t.cpu.pc = 0x4000;
    assert_eq!(sys(&p, &mut t, TGKILL, &[1000, 1000, 6]), 0);
    assert_eq!(crate::signal::deliver_pending(&p, &mut t, 0x4000), None);
    assert_eq!(sys(&p, &mut t, RT_SIGPENDING, &[0x10000, 8]), 0);
    assert_eq!(p.mem.read_u64(0x10000).unwrap(), 1 << 5);
    assert_eq!(sys(&p, &mut t, RT_SIGPENDING, &[0x10000, 9]), EINVAL);
    assert_eq!(sys(&p, &mut t, KILL, &[1000, 17]), 0, "SIGCHLD is ignored");
    assert_eq!(
        sys(&p, &mut t, KILL, &[4242, 6]),
        -3,
        "others are the host's, and the test host has none: ESRCH"
    );
    assert_eq!(sys(&p, &mut t, KILL, &[1000, 65]), EINVAL);
    assert_eq!(sys(&p, &mut t, KILL, &[1000, 0]), 0);
    t.sigmask = 0;
    let r = crate::signal::deliver_pending(&p, &mut t, 0x4000).unwrap();
    assert_eq!((r.signo, r.pc, r.addr), (6, 0x4000, None));
    // SIGKILL cannot be blocked or caught.
    let mut t = thread();
    t.sigmask = u64::MAX;
    assert_eq!(sys(&p, &mut t, KILL, &[1000, 9]), 0);
    assert_eq!(
        crate::signal::deliver_pending(&p, &mut t, 0).map(|r| r.signo),
        Some(9)
    );
    // rt_sigtimedwait takes a blocked pending signal with its siginfo.
    let mut t = thread();
    t.sigmask = 1 << 9;
    assert_eq!(sys(&p, &mut t, TKILL, &[1000, 10]), 0);
    p.mem.write_u64(0x10000, 1 << 9).unwrap();
    assert_eq!(
        sys(&p, &mut t, RT_SIGTIMEDWAIT, &[0x10000, 0x10100, 0, 8]),
        10
    );
    assert_eq!(p.mem.read_u32(0x10100).unwrap(), 10);
    assert_eq!(p.mem.read_u32(0x10108).unwrap() as i32, -6, "SI_TKILL");
    assert_eq!(p.mem.read_u32(0x10110).unwrap(), 1000, "si_pid");
    assert!(t.pending.is_empty());
    // Nothing pending and a zero timeout: EAGAIN at once.
    p.mem.write_bytes(0x10200, &[0; 16]).unwrap();
    assert_eq!(
        sys(&p, &mut t, RT_SIGTIMEDWAIT, &[0x10000, 0, 0x10200, 8]),
        -11
    );
    // rt_sigsuspend with a pending blocked signal it unblocks: EINTR, the
    // old mask saved for the handler's frame.
    assert_eq!(sys(&p, &mut t, TKILL, &[1000, 10]), 0);
    p.mem.write_u64(0x10000, 0).unwrap();
    assert_eq!(sys(&p, &mut t, RT_SIGSUSPEND, &[0x10000, 8]), -4);
    assert_eq!((t.sigmask, t.saved_mask), (0, Some(1 << 9)));
    // rt_tgsigqueueinfo: the caller's siginfo travels as given.
    let mut t2 = thread();
    let mut si = [0u8; 128];
    si[8..12].copy_from_slice(&(-1i32).to_le_bytes());
    si[24..28].copy_from_slice(&77u32.to_le_bytes());
    p.mem.write_bytes(0x10300, &si).unwrap();
    assert_eq!(
        sys(&p, &mut t2, RT_TGSIGQUEUEINFO, &[1000, 999, 34, 0x10300]),
        -3,
        "ESRCH: no such thread in the process"
    );
    assert_eq!(
        sys(&p, &mut t2, RT_TGSIGQUEUEINFO, &[1000, 1000, 34, 0x10300]),
        0
    );
    let got = t2.pending.take(34).unwrap().to_bytes();
    assert_eq!(&got[..4], &34i32.to_le_bytes());
    assert_eq!(&got[4..], &si[4..]);
    // SIGUSR1 is fatal by default; its delivery ends the process.
    assert_eq!(
        crate::signal::deliver_pending(&p, &mut t, 0).map(|r| r.signo),
        Some(10)
    );
    let mut t = thread();
    t.cpu.x[17] = EXIT_GROUP;
    t.cpu.x[10] = 0x1_2345;
    assert_eq!(dispatch(&p, &mut t), Flow::Exit(0x45));
}

#[test]
fn strace_logs_each_call() {
    let (p, host) = process(true);
    let mut t = thread();
    p.mem.write_bytes(0x10000, b"hi\n").unwrap();
    sys(&p, &mut t, WRITE, &[1, 0x10000, 3]);
    sys(&p, &mut t, BRK, &[0]);
    sys(&p, &mut t, CLOSE, &[99]);
    let log = host.log.lock().unwrap().clone();
    assert_eq!(
        log,
        [
            r#"write(1, "hi\n", 3) = 3"#,
            "brk(NULL) = 0x10800",
            "close(99) = -1 EBADF (Bad file descriptor)",
        ]
    );
}

#[test]
fn random_calls_never_panic() {
    random_calls(false);
}

#[test]
fn random_calls_never_panic_strace() {
    random_calls(true);
}

fn random_calls(strace: bool) {
    let (p, _) = process(strace);
    p.mem
        .map(0x20000, 0x4000, Perm::READ | Perm::WRITE, true)
        .unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let arg = |r: u64| match r % 6 {
        0 => 0,
        1 => r >> 60,
        2 => 0x20000 + (r >> 20) % 0x4000,
        3 => u64::MAX,
        4 => (r >> 8) % 0x100_0000,
        _ => r,
    };
    for _ in 0..20_000 {
        let mut t = thread();
        let n = next() % 460;
        if n == EXIT || n == EXIT_GROUP || n == FUTEX {
            continue;
        }
        let args: [u64; 6] = core::array::from_fn(|_| arg(next()));
        t.cpu.x[17] = n;
        t.cpu.x[10..16].copy_from_slice(&args);
        match dispatch(&p, &mut t) {
            Flow::Continue => {
                let r = t.cpu.x[10] as i64;
                assert!(r >= -4095, "call {n} returned {r:#x}");
            }
            Flow::Exit(code) | Flow::ExitThread(code) => assert!(code > 128, "call {n}"),
        }
    }
}

#[test]
fn private_file_mapping_reads_the_file() {
    let (p, host) = process(false);
    let mut t = thread();
    let dir = std::env::temp_dir().join(alloc::format!("pvm-mmap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("data");
    let data: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&file, &data).unwrap();
    let mut path = file.as_os_str().as_encoded_bytes().to_vec();
    path.push(0);
    p.mem.write_bytes(0x10100, &path).unwrap();
    let fd = sys(&p, &mut t, OPENAT, &[(-100i64) as u64, 0x10100, 0, 0]);
    assert!(fd >= 3, "{fd}");
    let fd = fd as u64;
    // Offset 4096: 904 bytes of file, then zeroes to the end of the page.
    let m = sys(&p, &mut t, MMAP, &[0, 4096, 1, 2, fd, 4096]) as u64;
    assert_eq!(p.mem.read_u8(m).unwrap(), data[4096]);
    assert_eq!(p.mem.read_u8(m + 903).unwrap(), data[4999]);
    assert_eq!(p.mem.read_u8(m + 904).unwrap(), 0);
    assert!(p.mem.write_u8(m, 1).is_err(), "PROT_READ");
    // Unaligned offset, write-only fd, shared writable on a read-only fd.
    assert_eq!(sys(&p, &mut t, MMAP, &[0, 4096, 1, 2, fd, 100]), EINVAL);
    assert_eq!(sys(&p, &mut t, MMAP, &[0, 4096, 3, 1, fd, 0]), -13);
    assert_eq!(sys(&p, &mut t, MMAP, &[0, 4096, 1, 2, 99, 0]), -9);
    // TestHost cannot map files: a read-only shared mapping is a copy.
    let s = sys(&p, &mut t, MMAP, &[0, 8192, 1, 1, fd, 0]) as u64;
    assert_eq!(p.mem.read_u8(s + 4096).unwrap(), data[4096]);
    assert_eq!(sys(&p, &mut t, CLOSE, &[fd]), 0);
    assert_eq!(host.open_files(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn readlink_proc_self_exe() {
    let (p, _) = process(false);
    let mut t = thread();
    p.mem.write_bytes(0x10100, b"/proc/self/exe\0").unwrap();
    let n = sys(
        &p,
        &mut t,
        READLINKAT,
        &[(-100i64) as u64, 0x10100, 0x10200, 64],
    );
    assert_eq!(n, 10);
    let mut b = [0u8; 10];
    p.mem.read_bytes(0x10200, &mut b).unwrap();
    assert_eq!(&b, b"/bin/guest");
    // The pid form names the same file.
    p.mem.write_bytes(0x10400, b"/proc/1000/exe\0").unwrap();
    let n = sys(
        &p,
        &mut t,
        READLINKAT,
        &[(-100i64) as u64, 0x10400, 0x10200, 64],
    );
    assert_eq!(n, 10);
    // Truncated to the buffer, no NUL, as readlink does.
    assert_eq!(
        sys(
            &p,
            &mut t,
            READLINKAT,
            &[(-100i64) as u64, 0x10100, 0x10300, 4]
        ),
        4
    );
    assert_eq!(
        sys(
            &p,
            &mut t,
            READLINKAT,
            &[(-100i64) as u64, 0x10100, 0x10300, 0]
        ),
        EINVAL
    );
}

/// The checks the core makes itself before the host is asked, for the
/// event, socket and file calls (the test host has none of them).
#[test]
fn io_calls_check_arguments_first() {
    let (p, _) = process(false);
    let mut t = thread();
    let buf = 0x10000u64;
    const EMSGSIZE: i64 = -90;
    const E2BIG: i64 = -7;
    const ERANGE: i64 = -34;
    // epoll_pwait: maxevents, then the mask size.
    assert_eq!(sys(&p, &mut t, EPOLL_PWAIT, &[3, buf, 0, 0, 0, 8]), EINVAL);
    assert_eq!(
        sys(&p, &mut t, EPOLL_PWAIT, &[3, buf, 1 << 28, 0, 0, 8]),
        EINVAL
    );
    assert_eq!(
        sys(&p, &mut t, EPOLL_PWAIT, &[3, 0x5000_0000, 4, 0, 0, 8]),
        EFAULT
    );
    assert_eq!(
        sys(&p, &mut t, EPOLL_PWAIT, &[3, buf, 4, 0, buf, 4]),
        EINVAL
    );
    assert_eq!(sys(&p, &mut t, EPOLL_CREATE1, &[1]), EINVAL);
    assert_eq!(sys(&p, &mut t, EVENTFD2, &[0, 0x10]), EINVAL);
    assert_eq!(sys(&p, &mut t, TIMERFD_CREATE, &[3, 0]), EINVAL);
    assert_eq!(sys(&p, &mut t, TIMERFD_SETTIME, &[3, 4, buf, 0]), EINVAL);
    // A timespec with nsec out of range.
    p.mem.write_u64(buf + 8, 1_000_000_000).unwrap();
    assert_eq!(sys(&p, &mut t, TIMERFD_SETTIME, &[3, 0, buf, 0]), EINVAL);
    p.mem.write_u64(buf + 8, 0).unwrap();
    // signalfd4: flags, mask size, mask pointer.
    assert_eq!(sys(&p, &mut t, SIGNALFD4, &[u64::MAX, buf, 8, 1]), EINVAL);
    assert_eq!(sys(&p, &mut t, SIGNALFD4, &[u64::MAX, buf, 4, 0]), EINVAL);
    assert_eq!(sys(&p, &mut t, SIGNALFD4, &[u64::MAX, 0, 8, 0]), EFAULT);
    // pselect6: negative nfds; the mask structure's size.
    assert_eq!(
        sys(&p, &mut t, PSELECT6, &[u64::MAX, 0, 0, 0, 0, 0]),
        EINVAL
    );
    p.mem.write_u64(buf + 64, buf).unwrap();
    p.mem.write_u64(buf + 72, 16).unwrap();
    assert_eq!(
        sys(&p, &mut t, PSELECT6, &[0, 0, 0, 0, 0, buf + 64]),
        EINVAL
    );
    // Sockets on a host without them: no family, no socket.
    assert_eq!(sys(&p, &mut t, SOCKET, &[2, 1, 0]), -97);
    assert_eq!(sys(&p, &mut t, LISTEN, &[99, 1]), -9);
    assert_eq!(sys(&p, &mut t, BIND, &[3, buf, 1000]), EINVAL);
    // sendmsg with more iovecs than UIO_MAXIOV.
    p.mem.write_u64(buf + 24, 2000).unwrap();
    assert_eq!(sys(&p, &mut t, SENDMSG, &[3, buf, 0]), EMSGSIZE);
    p.mem.write_u64(buf + 24, 0).unwrap();
    assert_eq!(sys(&p, &mut t, ACCEPT4, &[3, 0, 0, 1]), EINVAL);
    // xattrs: the name, then the value size.
    p.mem.write_bytes(buf + 128, b"/f\0user.x\0\0").unwrap();
    assert_eq!(
        sys(&p, &mut t, GETXATTR, &[buf + 128, buf + 138, buf, 4]),
        ERANGE
    );
    assert_eq!(
        sys(
            &p,
            &mut t,
            SETXATTR,
            &[buf + 128, buf + 131, buf, 1 << 20, 0]
        ),
        E2BIG
    );
    assert_eq!(
        sys(&p, &mut t, SETXATTR, &[buf + 128, buf + 131, buf, 1, 4]),
        EINVAL
    );
    assert_eq!(sys(&p, &mut t, CLOSE_RANGE, &[5, 4, 0]), EINVAL);
    assert_eq!(sys(&p, &mut t, CLOSE_RANGE, &[3, 4, 1]), EINVAL);
    assert_eq!(sys(&p, &mut t, FCHOWNAT, &[3, buf + 128, 0, 0, 1]), EINVAL);
    assert_eq!(
        sys(&p, &mut t, PREADV2, &[3, buf, 0, (-5i64) as u64, 0, 0]),
        EINVAL
    );
    let long = [b'n'; 300];
    p.mem.write_bytes(buf + 512, &long).unwrap();
    p.mem.write_u8(buf + 812, 0).unwrap();
    assert_eq!(sys(&p, &mut t, MEMFD_CREATE, &[buf + 512, 0]), EINVAL);
    // The descriptor ioctls check the descriptor first.
    assert_eq!(sys(&p, &mut t, IOCTL, &[99, 0x5421, buf]), -9);
    assert_eq!(sys(&p, &mut t, GETGROUPS, &[u64::MAX, 0]), EINVAL);
    assert_eq!(sys(&p, &mut t, SETGROUPS, &[1 << 20, 0]), EINVAL);
    // getpriority gives the kernel's 20 - nice; the default host has 0.
    assert_eq!(sys(&p, &mut t, GETPRIORITY, &[0, 0]), 20);
    assert_eq!(sys(&p, &mut t, GETPRIORITY, &[7, 0]), EINVAL);
}

#[test]
fn syscall_table_is_sorted_and_names_are_unique() {
    for w in TABLE.windows(2) {
        assert!(w[0].0 < w[1].0, "{:?} before {:?}", w[0], w[1]);
    }
    let mut names: Vec<&str> = TABLE.iter().map(|&(_, s)| s).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), TABLE.len());
    for &(n, s) in TABLE {
        assert_eq!(name(n), Some(s));
    }
    assert_eq!(name(38), None);
    assert_eq!((READ, OPENAT, CLONE3), (63, 56, 435));
}

#[test]
fn a_call_without_a_handler_is_enosys() {
    let (p, _) = process(false);
    let mut t = thread();
    assert_eq!(sys(&p, &mut t, LOOKUP_DCOOKIE, &[]), -38);
    assert_eq!(sys(&p, &mut t, RSEQ, &[0, 0, 0, 0]), -38);
    assert_eq!(sys(&p, &mut t, 9999, &[]), -38);
}

/// `docs/syscalls.md` lists exactly the calls without a handler, each
/// with a reason.
#[test]
fn enosys_list_is_documented() {
    let doc = include_str!("../../../docs/syscalls.md");
    let mut listed: Vec<&str> = Vec::new();
    for line in doc.lines() {
        if let Some(rest) = line.strip_prefix("| `") {
            let (name, tail) = rest.split_once("` |").expect("a row: | `name` | reason |");
            assert!(
                tail.trim().trim_end_matches('|').trim().len() > 3,
                "{name} needs a reason"
            );
            listed.push(name);
        }
    }
    let missing: Vec<&str> = super::nr::TABLE
        .iter()
        .filter(|(nr, name)| !super::nr::implemented(*nr) && !listed.contains(name))
        .map(|(_, name)| *name)
        .collect();
    assert!(
        missing.is_empty(),
        "ENOSYS calls not in docs/syscalls.md: {missing:?}"
    );
    let stale: Vec<&str> = listed
        .iter()
        .filter(|name| {
            super::nr::TABLE
                .iter()
                .find(|(_, n)| n == *name)
                .is_none_or(|(nr, _)| super::nr::implemented(*nr))
        })
        .copied()
        .collect();
    assert!(
        stale.is_empty(),
        "docs/syscalls.md lists calls that are implemented (or unknown): {stale:?}"
    );
}
