//! Fuzz target: signal frames. The input becomes a guest that installs
//! one handler for SIGUSR1, SIGSEGV, SIGILL and SIGTRAP (flags and mask
//! from the input: `SA_SIGINFO`, `SA_NODEFER`, `SA_ONSTACK`,
//! `SA_RESETHAND`, maybe an alternate stack), raises a signal (a load from
//! address 0, `ebreak`, an illegal instruction or `tgkill` of itself),
//! and whose handler overwrites parts of its own frame (bytes, halves,
//! words or double words at offsets from the input, anywhere in the
//! `siginfo` and `ucontext`: saved registers, pc, FP state and its
//! reserved words, the signal mask, the alternate-stack record; sometimes
//! it moves `sp` too) before `rt_sigreturn`. Whatever the frame says, the
//! core must resume or kill the guest as Linux would: no panic, no host
//! fault, no hang; and the `fcsr` the guest reads after the return is a
//! valid one (8 bits). A handler entry counter in the guest stops a
//! guest whose return lands in the handler again.
//!
//! Runs on vm-core's test host (confined, as the system call target's),
//! under the interpreter and the translator.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pvm_fuzz::*;
use vm_core::process::ExitStatus;

const T0: u32 = 5;
const T1: u32 = 6;
const T2: u32 = 7;
const A0: u32 = 10;
const A1: u32 = 11;
const A2: u32 = 12;
const A3: u32 = 13;
const A7: u32 = 17;
const SP: u32 = 2;

/// In the table page: the sigaction, the sigaltstack record, the counter,
/// the fcsr read after the return, the corruption values.
const ACT: u64 = TABLE;
const ALTSTACK: u64 = TABLE + 0x40;
const COUNTER: u64 = TABLE + 0x80;
const FCSR_SEEN: u64 = TABLE + 0x88;
const VALUES: u64 = TABLE + 0x100;
/// The alternate stack (in the buffer area).
const ALT: u64 = BUF;
const NOT_SEEN: u64 = 0xdead_0000;
const HANDLER_AT: usize = 0x800; // word index: CODE + 0x2000

fn syscall(c: &mut Vec<u32>, nr: u32, args: &[u64]) {
    for (i, a) in args.iter().enumerate() {
        c.extend(li(A0 + i as u32, *a as u32));
    }
    c.extend(li(A7, nr));
    c.push(ECALL);
}

struct Corruption {
    width: u32,
    offset: u32,
}

fn build(r: &mut Reader) -> (Vec<u32>, Vec<u64>, [u64; 3]) {
    let mode = r.u8();
    let flags_bits = r.u8();
    let mut flags = 0u64;
    for (bit, f) in [
        (1, 4u64),
        (2, 0x4000_0000),
        (4, 0x0800_0000),
        (8, 0x8000_0000),
    ] {
        if flags_bits & bit != 0 {
            flags |= f;
        }
    }
    let mask = if flags_bits & 0x10 != 0 { r.u64() } else { 0 };
    let handler = CODE + HANDLER_AT as u64 * 4;
    let act = [handler, flags, mask];

    let mut main = Vec::new();
    for sig in [10u64, 11, 4, 5] {
        syscall(&mut main, 134, &[sig, ACT, 0, 8]);
    }
    if flags_bits & 0x20 != 0 {
        syscall(&mut main, 132, &[ALTSTACK, 0]);
    }
    // Something to restore: distinctive FP state.
    main.extend(li(A0, 0x65));
    main.push(i_type(0x73, 1, 0, A0, 0x003)); // csrw fcsr, a0
    match mode % 4 {
        0 => main.push(ld(T0, 0, 0)),
        1 => main.push(EBREAK),
        2 => main.push(0),
        _ => {
            syscall(&mut main, 172, &[]);
            main.push(addi(A3, A0, 0));
            syscall(&mut main, 178, &[]);
            main.push(addi(A1, A0, 0));
            main.push(addi(A0, A3, 0));
            main.extend(li(A2, 10));
            main.extend(li(A7, 131));
            main.push(ECALL);
        }
    }
    // Where an intact return lands (after the faulting instruction the
    // handler's pc stays on it; the counter ends that loop).
    main.push(csrr(T0, 0x003));
    main.extend(li(T1, FCSR_SEEN as u32));
    main.push(sd(T0, T1, 0));
    syscall(&mut main, 94, &[0]);
    assert!(main.len() < HANDLER_AT);

    // The handler: count, stop after 8 entries, corrupt, return.
    let mut h = Vec::new();
    h.extend(li(T1, COUNTER as u32));
    h.push(ld(T0, T1, 0));
    h.push(addi(T0, T0, 1));
    h.push(sd(T0, T1, 0));
    h.extend(li(T2, 9));
    // Skip the exit below (five instructions) while under the limit.
    h.push(bne(T0, T2, 6 * 4));
    h.extend(li(A0, 3));
    h.extend(li(A7, 94));
    h.push(ECALL);
    let mut values = Vec::new();
    let n = r.u8() % 24;
    for i in 0..n {
        let k = r.u8();
        let c = Corruption {
            width: (k & 3) as u32,
            offset: r.u16() as u32 % 1280,
        };
        let v = match (k >> 2) % 8 {
            0 => 0,
            1 => u64::MAX,
            2 => r.u8() as u64,
            3 => CODE + r.u16() as u64,
            4 => 1 << (r.u8() % 64),
            5 => STACK_TOP - r.u16() as u64,
            _ => r.u64(),
        };
        values.push(v);
        h.extend(li(T1, (VALUES + 8 * i as u64) as u32));
        h.push(ld(T0, T1, 0));
        h.extend(li(T2, c.offset));
        h.push(add(T2, T2, SP));
        h.push(store(c.width, T0, T2, 0));
    }
    if mode & 0x80 != 0 {
        // Move the stack pointer: rt_sigreturn reads a frame elsewhere.
        h.extend(li(T2, r.u16() as u32));
        h.push(add(SP, SP, T2));
    }
    h.extend(li(A7, 139));
    h.push(ECALL);
    let mut code = main;
    code.resize(HANDLER_AT, 0);
    code.extend(h);
    (code, values, act)
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let (code, values, act) = build(&mut r);
    for jit in [false, true] {
        let host = test_host();
        host.reset();
        let mem = guest_memory(host);
        put_code(&mem, &code);
        for (i, a) in act.iter().enumerate() {
            mem.write_u64(ACT + 8 * i as u64, *a).unwrap();
        }
        mem.write_u64(ALTSTACK, ALT).unwrap();
        mem.write_u64(ALTSTACK + 8, 0).unwrap();
        mem.write_u64(ALTSTACK + 16, 0x4000).unwrap();
        mem.write_u64(FCSR_SEEN, NOT_SEEN).unwrap();
        for (i, v) in values.iter().enumerate() {
            mem.write_u64(VALUES + 8 * i as u64, *v).unwrap();
        }
        run_guest(host, mem, jit, false, |p, status| {
            match status {
                ExitStatus::Exited(c) => assert!((0..256).contains(&c), "exit status {c}"),
                ExitStatus::Signaled(r) => assert!((1..=64).contains(&r.signo), "{r:?}"),
            }
            if std::env::var_os("PVM_FUZZ_DEBUG").is_some() {
                eprintln!(
                    "sigframe: jit {jit}: {status:?}, handler entered {:?} times, fcsr {:#x?}",
                    p.mem.read_u64(COUNTER),
                    p.mem.read_u64(FCSR_SEEN)
                );
            }
            if let Ok(f) = p.mem.read_u64(FCSR_SEEN)
                && f != NOT_SEEN
            {
                assert!(f <= 0xff, "fcsr after rt_sigreturn: {f:#x}");
            }
        });
    }
});
