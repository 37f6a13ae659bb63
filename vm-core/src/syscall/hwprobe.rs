//! `riscv_hwprobe` (syscall 258): the key/value pairs Linux answers, and
//! its `RISCV_HWPROBE_WHICH_CPUS` mode, for the machine pvm emulates.
//!
//! The answers are those of Linux's `arch/riscv/kernel/sys_hwprobe.c` with
//! keys 0 to 14 (`RISCV_HWPROBE_MAX_KEY` 14, as in Linux 6.16) on an RV64GC
//! machine described by a device tree whose `riscv,isa` string is
//! `rv64imafdc`, with identical harts:
//! - `mvendorid`, `marchid`, `mimpid` 0 (not implemented, as on QEMU's
//!   `virt` machine);
//! - base behaviour IMA; in `IMA_EXT_0` the extensions the kernel derives
//!   from that string: F and D, C and its parts Zca and Zcd (Zcf is RV32
//!   only), A's parts Zaamo and Zalrsc, and Zicntr and Zihpm (which a
//!   DT `riscv,isa` with `i` implies). No V, no B, no Zicbo*;
//! - misaligned scalar accesses: fast (pvm does them in one host access,
//!   which is what the kernel's boot-time probe would measure); misaligned
//!   vector accesses: unsupported (no V);
//! - `time` counts at 10 MHz (the interpreter's `time` CSR);
//! - the highest user virtual address is the top of the guest's space.
//!
//! Unknown keys get key -1 and value 0, as in Linux.

use super::{Ctx, R, get, put};
use crate::host::{Errno, SysResult};

/// The keys (`RISCV_HWPROBE_KEY_*`).
pub mod key {
    pub const MVENDORID: i64 = 0;
    pub const MARCHID: i64 = 1;
    pub const MIMPID: i64 = 2;
    pub const BASE_BEHAVIOR: i64 = 3;
    pub const IMA_EXT_0: i64 = 4;
    pub const CPUPERF_0: i64 = 5;
    pub const ZICBOZ_BLOCK_SIZE: i64 = 6;
    pub const HIGHEST_VIRT_ADDRESS: i64 = 7;
    pub const TIME_CSR_FREQ: i64 = 8;
    pub const MISALIGNED_SCALAR_PERF: i64 = 9;
    pub const MISALIGNED_VECTOR_PERF: i64 = 10;
    pub const VENDOR_EXT_THEAD_0: i64 = 11;
    pub const ZICBOM_BLOCK_SIZE: i64 = 12;
    pub const VENDOR_EXT_SIFIVE_0: i64 = 13;
    pub const VENDOR_EXT_MIPS_0: i64 = 14;
    /// The highest key known (`RISCV_HWPROBE_MAX_KEY`).
    pub const MAX: i64 = VENDOR_EXT_MIPS_0;
}

/// `RISCV_HWPROBE_BASE_BEHAVIOR_IMA`.
pub const BASE_BEHAVIOR_IMA: u64 = 1;

/// Bits of `IMA_EXT_0` (`RISCV_HWPROBE_IMA_*`, `RISCV_HWPROBE_EXT_*`).
pub mod ext {
    pub const IMA_FD: u64 = 1 << 0;
    pub const IMA_C: u64 = 1 << 1;
    pub const ZCA: u64 = 1 << 43;
    pub const ZCD: u64 = 1 << 45;
    pub const ZICNTR: u64 = 1 << 50;
    pub const ZIHPM: u64 = 1 << 51;
    pub const ZAAMO: u64 = 1 << 56;
    pub const ZALRSC: u64 = 1 << 57;
}

/// `RISCV_HWPROBE_MISALIGNED_SCALAR_FAST`.
pub const MISALIGNED_SCALAR_FAST: u64 = 3;
/// `RISCV_HWPROBE_MISALIGNED_VECTOR_UNSUPPORTED`.
pub const MISALIGNED_VECTOR_UNSUPPORTED: u64 = 4;
/// `RISCV_HWPROBE_WHICH_CPUS`.
pub const WHICH_CPUS: u64 = 1;

/// What an RV64GC hart offers in `IMA_EXT_0`.
pub const RV64GC_IMA_EXT_0: u64 = ext::IMA_FD
    | ext::IMA_C
    | ext::ZCA
    | ext::ZCD
    | ext::ZICNTR
    | ext::ZIHPM
    | ext::ZAAMO
    | ext::ZALRSC;

/// The ISA string of an RV64GC hart as Linux prints it in
/// `/proc/cpuinfo` (`isa`, `hart isa`): the single-letter extensions,
/// then the multi-letter ones in the kernel's order, each named once
/// from the same bits `IMA_EXT_0` reports (plus Zicsr and Zifencei,
/// which hwprobe has no bits for), so the two cannot disagree.
pub fn isa_string() -> alloc::string::String {
    let mut s = alloc::string::String::from("rv64ima");
    if RV64GC_IMA_EXT_0 & ext::IMA_FD != 0 {
        s.push_str("fd");
    }
    if RV64GC_IMA_EXT_0 & ext::IMA_C != 0 {
        s.push('c');
    }
    let multi: [(u64, &str); 8] = [
        (ext::ZICNTR, "zicntr"),
        (0, "zicsr"),
        (0, "zifencei"),
        (ext::ZIHPM, "zihpm"),
        (ext::ZAAMO, "zaamo"),
        (ext::ZALRSC, "zalrsc"),
        (ext::ZCA, "zca"),
        (ext::ZCD, "zcd"),
    ];
    for (bit, name) in multi {
        if bit == 0 || RV64GC_IMA_EXT_0 & bit != 0 {
            s.push('_');
            s.push_str(name);
        }
    }
    s
}

/// Bytes of a kernel CPU mask (`cpumask_size()` with NR_CPUS 512): the
/// most the call reads from or writes to the guest's set.
const CPUMASK_BYTES: usize = 64;

/// Linux's answer for `key` on one hart of the emulated machine, or
/// `None` for a key Linux does not know. `top` is the highest user address.
pub fn value(key: i64, top: u64) -> Option<u64> {
    Some(match key {
        key::MVENDORID | key::MARCHID | key::MIMPID => 0,
        key::BASE_BEHAVIOR => BASE_BEHAVIOR_IMA,
        key::IMA_EXT_0 => RV64GC_IMA_EXT_0,
        key::CPUPERF_0 | key::MISALIGNED_SCALAR_PERF => MISALIGNED_SCALAR_FAST,
        key::MISALIGNED_VECTOR_PERF => MISALIGNED_VECTOR_UNSUPPORTED,
        key::HIGHEST_VIRT_ADDRESS => top,
        key::TIME_CSR_FREQ => crate::interp::TIME_CSR_HZ,
        // No Zicboz/Zicbom: block sizes 0; no vendor extensions.
        key::ZICBOZ_BLOCK_SIZE
        | key::ZICBOM_BLOCK_SIZE
        | key::VENDOR_EXT_THEAD_0
        | key::VENDOR_EXT_SIFIVE_0
        | key::VENDOR_EXT_MIPS_0 => 0,
        _ => return None,
    })
}

/// Does a hart with `have` for `key` match the asked `want`
/// (`riscv_hwprobe_pair_cmp`): all asked bits for bitmask keys, equality
/// for value keys.
fn matches(key: i64, have: u64, want: u64) -> bool {
    match key {
        key::BASE_BEHAVIOR
        | key::IMA_EXT_0
        | key::CPUPERF_0
        | key::VENDOR_EXT_THEAD_0
        | key::VENDOR_EXT_SIFIVE_0
        | key::VENDOR_EXT_MIPS_0 => have & want == want,
        _ => have == want,
    }
}

/// The guest's CPU set (its first `min(setsize, CPUMASK_BYTES)` bytes).
fn read_mask(cx: &Ctx<'_>, addr: u64, setsize: u64) -> SysResult<[u8; CPUMASK_BYTES]> {
    let n = (setsize as usize).min(CPUMASK_BYTES);
    let mut m = [0u8; CPUMASK_BYTES];
    if n > 0 {
        cx.mem()
            .read_bytes(addr, &mut m[..n])
            .map_err(|_| Errno::EFAULT)?;
    }
    Ok(m)
}

/// Keep only the online CPUs (`0..online`) in `m`.
fn and_online(m: &mut [u8; CPUMASK_BYTES], online: usize) {
    for (i, b) in m.iter_mut().enumerate() {
        let first = i * 8;
        *b &= match online.saturating_sub(first) {
            0 => 0,
            n if n >= 8 => 0xff,
            n => (1u8 << n) - 1,
        };
    }
}

pub(super) fn riscv_hwprobe(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (pairs, count, setsize, cpus, flags) = (a[0], a[1], a[2], a[3], a[4] as u32 as u64);
    let online = cx.p.host.cpu_count().clamp(1, CPUMASK_BYTES * 8);
    if flags & WHICH_CPUS != 0 {
        return which_cpus(cx, pairs, count, setsize, cpus, flags, online);
    }
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    if setsize != 0 || cpus != 0 {
        // At least one online CPU must be named.
        let mut m = read_mask(cx, cpus, setsize)?;
        and_online(&mut m, online);
        if m.iter().all(|&b| b == 0) {
            return Err(Errno::EINVAL);
        }
    }
    let top = cx.mem().size() - 1;
    for i in 0..count {
        let at = pairs.wrapping_add(i.wrapping_mul(16));
        let k = u64::from_le_bytes(get(cx.mem(), at)?) as i64;
        let (k, v) = match value(k, top) {
            Some(v) => (k, v),
            None => (-1, 0),
        };
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&k.to_le_bytes());
        b[8..].copy_from_slice(&v.to_le_bytes());
        put(cx.mem(), at, &b)?;
    }
    Ok(0)
}

/// `RISCV_HWPROBE_WHICH_CPUS`: reduce the guest's CPU set to the CPUs
/// whose values match every pair (an empty set means all online CPUs).
/// Any unknown key empties the set and is answered with key -1.
fn which_cpus(
    cx: &mut Ctx<'_>,
    pairs: u64,
    count: u64,
    setsize: u64,
    cpus: u64,
    flags: u64,
    online: usize,
) -> R {
    if flags != WHICH_CPUS || setsize == 0 || cpus == 0 {
        return Err(Errno::EINVAL);
    }
    let mut m = read_mask(cx, cpus, setsize)?;
    if m.iter().all(|&b| b == 0) {
        m = [0xff; CPUMASK_BYTES];
    }
    and_online(&mut m, online);
    let top = cx.mem().size() - 1;
    let mut clear_all = false;
    for i in 0..count {
        let at = pairs.wrapping_add(i.wrapping_mul(16));
        let b: [u8; 16] = get(cx.mem(), at)?;
        let k = i64::from_le_bytes(b[..8].try_into().unwrap_or_default());
        let want = u64::from_le_bytes(b[8..].try_into().unwrap_or_default());
        let known = (0..=key::MAX).contains(&k);
        if !known {
            clear_all = true;
            let mut out = [0u8; 16];
            out[..8].copy_from_slice(&(-1i64).to_le_bytes());
            put(cx.mem(), at, &out)?;
        }
        if clear_all {
            continue;
        }
        // Every hart answers the same: all stay or all go.
        if value(k, top).is_none_or(|have| !matches(k, have, want)) {
            m = [0; CPUMASK_BYTES];
        }
    }
    if clear_all {
        m = [0; CPUMASK_BYTES];
    }
    let n = (setsize as usize).min(CPUMASK_BYTES);
    put(cx.mem(), cpus, &m[..n])?;
    Ok(0)
}
