//! Time: the TSC, calibrated once against the PIT, counts from boot; the
//! CMOS real-time clock read at boot anchors `CLOCK_REALTIME`.
//!
//! QEMU's TSC under TCG follows the host's, and its PIT runs on the
//! virtual clock, so a 20 ms PIT countdown gives the TSC rate to well under
//! a percent.
//!
//! Waiting idles the CPU: PIT channel 0 ticks at [`TICK_HZ`] (IRQ 0, see
//! [`crate::interrupts`]) and a wait ([`wait_until`]) halts from tick to
//! tick, looking at its condition after each, spinning on the TSC only for
//! its last part shorter than a tick. Time spent halted is not the guest's
//! CPU time ([`cpu_ns`]).

use core::sync::atomic::{AtomicU64, Ordering};
use vm_core::host::{Errno, SysResult, Timespec};
use x86_64::instructions::port::Port;

const PIT_HZ: u64 = 1_193_182;
/// Used when the PIT never answers (no such device): QEMU's usual rate
/// would be a guess, so pick 1 GHz and say so in the log.
const FALLBACK_TSC_HZ: u64 = 1_000_000_000;

static TSC_HZ: AtomicU64 = AtomicU64::new(FALLBACK_TSC_HZ);
static TSC_BOOT: AtomicU64 = AtomicU64::new(0);
static EPOCH_AT_BOOT: AtomicU64 = AtomicU64::new(0);

fn rdtsc() -> u64 {
    // SAFETY: RDTSC has no side effects and is available on every x86-64.
    unsafe { core::arch::x86_64::_rdtsc() }
}

fn outb(port: u16, v: u8) {
    // SAFETY: PIT, speaker-control and CMOS ports; no memory effects.
    unsafe { Port::new(port).write(v) }
}

fn inb(port: u16) -> u8 {
    // SAFETY: as in `outb`.
    unsafe { Port::new(port).read() }
}

/// Count TSC ticks over a PIT channel 2 one-shot countdown.
fn calibrate() -> Option<u64> {
    const COUNT: u64 = PIT_HZ / 50; // 20 ms
    // Gate channel 2 on, speaker off.
    let ctl = inb(0x61);
    outb(0x61, (ctl & !0x02) | 0x01);
    // Channel 2, lobyte/hibyte, mode 0 (interrupt on terminal count).
    outb(0x43, 0b1011_0000);
    outb(0x42, (COUNT & 0xff) as u8);
    outb(0x42, (COUNT >> 8) as u8);
    let start = rdtsc();
    // OUT2 (bit 5 of port 0x61) rises when the count reaches zero.
    let mut spins: u64 = 0;
    while inb(0x61) & 0x20 == 0 {
        spins += 1;
        if spins > 200_000_000 {
            return None;
        }
    }
    let ticks = rdtsc() - start;
    outb(0x61, ctl);
    (ticks > 0).then(|| ticks * PIT_HZ / COUNT)
}

fn cmos(reg: u8) -> u8 {
    outb(0x70, reg);
    inb(0x71)
}

/// Seconds since the epoch from the RTC (QEMU's RTC runs in UTC).
fn read_rtc() -> u64 {
    // Wait out an update in progress, then read until two reads agree.
    let read = || {
        while cmos(0x0a) & 0x80 != 0 {
            core::hint::spin_loop();
        }
        [
            cmos(0x00),
            cmos(0x02),
            cmos(0x04),
            cmos(0x07),
            cmos(0x08),
            cmos(0x09),
        ]
    };
    let mut v = read();
    loop {
        let w = read();
        if w == v {
            break;
        }
        v = w;
    }
    let status_b = cmos(0x0b);
    let bcd = |x: u8| {
        if status_b & 0x04 == 0 {
            (x & 0x0f) + (x >> 4) * 10
        } else {
            x
        }
    };
    let [sec, min, hour_raw, day, month, year] = v;
    let mut hour = bcd(hour_raw & 0x7f);
    if status_b & 0x02 == 0 && hour_raw & 0x80 != 0 {
        hour = (hour % 12) + 12; // 12-hour mode, PM
    }
    let year = 2000 + u64::from(bcd(year));
    days_from_civil(year, u64::from(bcd(month)), u64::from(bcd(day))) * 86400
        + u64::from(hour) * 3600
        + u64::from(bcd(min)) * 60
        + u64::from(bcd(sec))
}

/// Days since 1970-01-01 of a Gregorian date (valid for years >= 1970).
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Calibrate the TSC and read the wall clock. Returns false when the PIT
/// did not answer and the fallback rate is in use.
pub fn init() -> bool {
    let calibrated = calibrate();
    if let Some(hz) = calibrated {
        TSC_HZ.store(hz, Ordering::Relaxed);
    }
    EPOCH_AT_BOOT.store(read_rtc(), Ordering::Relaxed);
    TSC_BOOT.store(rdtsc(), Ordering::Relaxed);
    calibrated.is_some()
}

/// TSC ticks per second.
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// Nanoseconds since boot.
pub fn uptime_ns() -> u64 {
    let ticks = rdtsc().saturating_sub(TSC_BOOT.load(Ordering::Relaxed));
    (u128::from(ticks) * 1_000_000_000 / u128::from(tsc_hz())) as u64
}

fn from_ns(ns: u64) -> Timespec {
    Timespec {
        sec: (ns / 1_000_000_000) as i64,
        nsec: (ns % 1_000_000_000) as i64,
    }
}

/// `CLOCK_REALTIME` now.
pub fn realtime() -> Timespec {
    let mut t = from_ns(uptime_ns());
    t.sec += EPOCH_AT_BOOT.load(Ordering::Relaxed) as i64;
    t
}

/// `clock_gettime` for the Linux clock ids.
pub fn gettime(clock: i32) -> SysResult<Timespec> {
    match clock {
        // REALTIME, REALTIME_COARSE, TAI (no leap seconds known here).
        0 | 5 | 11 => Ok(realtime()),
        // MONOTONIC, MONOTONIC_RAW, MONOTONIC_COARSE, BOOTTIME.
        1 | 4 | 6 | 7 => Ok(from_ns(uptime_ns())),
        // PROCESS/THREAD_CPUTIME: the guest is all that runs, when the
        // CPU is not halted.
        2 | 3 => Ok(from_ns(cpu_ns())),
        _ => Err(Errno::EINVAL),
    }
}

/// `clock_getres`: one TSC tick, rounded up to a nanosecond.
pub fn getres(clock: i32) -> SysResult<Timespec> {
    gettime(clock)?;
    Ok(Timespec {
        sec: 0,
        nsec: (1_000_000_000 / tsc_hz()).max(1) as i64,
    })
}

/// Timer interrupts per second while waiting.
pub const TICK_HZ: u64 = 1000;

static TICKING: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Remap the PICs (IRQ 0-15 to vectors 32-47, all masked but IRQ 0) and
/// start PIT channel 0 as a [`TICK_HZ`] rate generator. Call after
/// [`crate::interrupts::init`] and [`init`], with interrupts disabled.
pub fn start_tick() {
    use crate::interrupts::{IRQ_BASE_MASTER, IRQ_BASE_SLAVE};
    // ICW1: initialise, ICW4 follows; ICW2: vector base; ICW3: slave on
    // IRQ 2; ICW4: 8086 mode. Then the masks (OCW1).
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, IRQ_BASE_MASTER);
    outb(0xa1, IRQ_BASE_SLAVE);
    outb(0x21, 0x04);
    outb(0xa1, 0x02);
    outb(0x21, 0x01);
    outb(0xa1, 0x01);
    outb(0x21, 0xfe);
    outb(0xa1, 0xff);
    // Channel 0, lobyte/hibyte, mode 2 (rate generator).
    let divisor = (PIT_HZ / TICK_HZ) as u16;
    outb(0x43, 0b0011_0100);
    outb(0x40, (divisor & 0xff) as u8);
    outb(0x40, (divisor >> 8) as u8);
    TICKING.store(true, Ordering::Relaxed);
}

/// Nanoseconds the CPU spent halted since boot.
pub fn idle_ns() -> u64 {
    let ticks = crate::interrupts::IDLE_TSC.load(Ordering::Relaxed);
    (u128::from(ticks) * 1_000_000_000 / u128::from(tsc_hz())) as u64
}

/// The guest's CPU time: time since boot not spent halted.
pub fn cpu_ns() -> u64 {
    uptime_ns().saturating_sub(idle_ns())
}

/// Wait until `done()` (looked at after every timer tick, and whenever
/// this task gets the CPU back) or until `deadline` (ns since boot;
/// `None`: no deadline): let the other tasks run ([`crate::task`]); once
/// none has anything to do, halt between ticks, spin only for the last
/// part shorter than two ticks. True when `done()` ended it.
pub fn wait_until(deadline: Option<u64>, mut done: impl FnMut() -> bool) -> bool {
    // A tick comes at most this long after a halt starts (with margin).
    let tick_ns = 2 * 1_000_000_000 / TICK_HZ;
    let ticking = TICKING.load(Ordering::Relaxed);
    loop {
        if done() {
            crate::task::busy();
            return true;
        }
        let now = uptime_ns();
        if deadline.is_some_and(|d| now >= d) {
            crate::task::busy();
            return false;
        }
        if crate::task::idle_turn() {
            continue;
        }
        if ticking && deadline.is_none_or(|d| d - now > tick_ns) {
            crate::interrupts::wait();
        } else {
            core::hint::spin_loop();
        }
    }
}

/// The deadline `d` from now (ns since boot), or `EINVAL` for a bad
/// duration.
pub fn deadline_after(d: Timespec) -> SysResult<u64> {
    if d.sec < 0 || !(0..1_000_000_000).contains(&d.nsec) {
        return Err(Errno::EINVAL);
    }
    let ns = (d.sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(d.nsec as u64);
    Ok(uptime_ns().saturating_add(ns))
}
