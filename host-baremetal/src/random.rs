//! Entropy for `getrandom` and `AT_RANDOM`: RDRAND when the CPU has it
//! (QEMU's `-cpu max` does), otherwise a xorshift generator seeded from the
//! TSC and the wall clock, which is not cryptographic: the log says so.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

static HAVE_RDRAND: AtomicBool = AtomicBool::new(false);
static STATE: AtomicU64 = AtomicU64::new(0);

/// Probe for RDRAND and seed the fallback. Returns whether RDRAND is used.
pub fn init() -> bool {
    let ecx = core::arch::x86_64::__cpuid(1).ecx;
    let have = ecx & (1 << 30) != 0 && rdrand().is_some();
    HAVE_RDRAND.store(have, Ordering::Relaxed);
    // SAFETY: RDTSC has no side effects.
    let tsc = unsafe { core::arch::x86_64::_rdtsc() };
    let seed = tsc ^ (crate::clock::realtime().sec as u64).rotate_left(32) ^ 0x9e37_79b9_7f4a_7c15;
    STATE.store(seed | 1, Ordering::Relaxed);
    have
}

#[target_feature(enable = "rdrand")]
fn rdrand_step() -> Option<u64> {
    let mut v = 0u64;
    // Callers reach this only after CPUID reported RDRAND (see `rdrand`).
    let ok = core::arch::x86_64::_rdrand64_step(&mut v);
    (ok == 1).then_some(v)
}

fn rdrand() -> Option<u64> {
    // RDRAND may transiently fail; Intel recommends 10 retries.
    for _ in 0..10 {
        // SAFETY: callers check CPUID for RDRAND before relying on this.
        if let Some(v) = unsafe { rdrand_step() } {
            return Some(v);
        }
    }
    None
}

fn xorshift() -> u64 {
    let mut x = STATE.load(Ordering::Relaxed);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    x.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// Fill `buf` with random bytes.
pub fn fill(buf: &mut [u8]) {
    let have = HAVE_RDRAND.load(Ordering::Relaxed);
    for chunk in buf.chunks_mut(8) {
        let v = if have {
            rdrand().unwrap_or_else(xorshift)
        } else {
            xorshift()
        };
        chunk.copy_from_slice(&v.to_le_bytes()[..chunk.len()]);
    }
}
