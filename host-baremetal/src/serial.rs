//! The 16550 UART serial ports: the kernel's only I/O devices.
//!
//! COM1 carries the guest's stdout, COM2 its stderr and the kernel log, COM3
//! a one-line status record for `cargo xtask qemu` (the exit status in full:
//! the isa-debug-exit device can only pass 7 bits through QEMU's own 8-bit
//! exit code). Each port sits behind its own lock so that lines written by
//! the log and by the guest do not interleave mid-write.

use core::fmt;
use x86_64::instructions::port::Port;

/// One 16550 UART at an I/O port base.
#[derive(Debug)]
pub struct Uart {
    base: u16,
}

impl Uart {
    const fn new(base: u16) -> Uart {
        Uart { base }
    }

    fn out(&self, offset: u16, value: u8) {
        // SAFETY: the port range base..base+8 belongs to this UART; writing
        // its registers has no effect on memory.
        unsafe { Port::new(self.base + offset).write(value) }
    }

    fn inb(&self, offset: u16) -> u8 {
        // SAFETY: as in `out`; reading a UART register has no memory effect.
        unsafe { Port::new(self.base + offset).read() }
    }

    /// 115200 baud, 8N1, FIFOs on, interrupts off (the kernel polls).
    fn init(&self) {
        self.out(1, 0x00);
        self.out(3, 0x80);
        self.out(0, 0x01);
        self.out(1, 0x00);
        self.out(3, 0x03);
        self.out(2, 0xc7);
        self.out(4, 0x03);
    }

    /// Write raw bytes (no newline translation: the guest's bytes travel
    /// unchanged).
    pub fn write_bytes(&self, bytes: &[u8]) {
        for &b in bytes {
            // Wait for the transmit holding register to empty; QEMU's UART
            // is always ready, so this loop does not spin there.
            while self.inb(5) & 0x20 == 0 {
                core::hint::spin_loop();
            }
            self.out(0, b);
        }
    }
}

impl fmt::Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}

/// Guest stdout.
pub static COM1: spin::Mutex<Uart> = spin::Mutex::new(Uart::new(0x3f8));
/// Guest stderr and the kernel log.
pub static COM2: spin::Mutex<Uart> = spin::Mutex::new(Uart::new(0x2f8));
/// Status record for the host-side runner.
pub static COM3: spin::Mutex<Uart> = spin::Mutex::new(Uart::new(0x3e8));

/// Program the three UARTs.
pub fn init() {
    COM1.lock().init();
    COM2.lock().init();
    COM3.lock().init();
}

/// A UART for fatal reports, usable even when the normal lock is held by
/// the code that faulted (we never return from such a report).
pub fn emergency_com2() -> Uart {
    Uart::new(0x2f8)
}

/// Write a kernel log line to COM2: `pvm-kernel: ...`.
#[macro_export]
macro_rules! klog {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let mut port = $crate::serial::COM2.lock();
        let _ = write!(port, "pvm-kernel: ");
        let _ = writeln!(port, $($arg)*);
    }};
}

/// COM3 for the failure record, bypassing its lock (see `emergency_com2`).
pub fn emergency_com3() -> Uart {
    Uart::new(0x3e8)
}
