//! Leaving QEMU: a status record on COM3, then the isa-debug-exit device.
//!
//! `-device isa-debug-exit,iobase=0xf4,iosize=0x04` makes QEMU exit with
//! status `(v << 1) | 1` when `v` is written to port 0xf4. QEMU's exit code
//! is 8 bits wide, so statuses 128..=255 would alias 0..=127; the COM3 record
//! (`pvm-exit N` or `pvm-panic`) carries the exact value, and xtask checks
//! the two agree.

use core::fmt::Write as _;
use x86_64::instructions::port::Port;

/// The value written for a kernel failure (QEMU exits with 0xfd = 253).
pub const KERNEL_FAILURE: u32 = 0x7e;

fn debug_exit(v: u32) -> ! {
    // SAFETY: port 0xf4 is QEMU's isa-debug-exit device; writing it ends
    // the virtual machine.
    unsafe { Port::new(0xf4).write(v) };
    // Without the device (a real machine, or QEMU started by hand), stop.
    loop {
        x86_64::instructions::interrupts::disable();
        x86_64::instructions::hlt();
    }
}

/// End the machine with the guest's exit status (0..=255).
pub fn exit_guest(status: i32) -> ! {
    let status = (status & 0xff) as u32;
    {
        let mut com3 = crate::serial::COM3.lock();
        let _ = writeln!(com3, "pvm-exit {status}");
    }
    debug_exit(status)
}

/// The end of one job of a batch boot: `mark` after its output on COM1
/// and COM2 (xtask splits the streams there), its status on COM3.
pub fn job_done(status: i32, mark: &[u8]) {
    crate::serial::COM1.lock().write_bytes(mark);
    crate::serial::COM2.lock().write_bytes(mark);
    let mut com3 = crate::serial::COM3.lock();
    let _ = writeln!(com3, "pvm-exit {}", status & 0xff);
}

/// End the machine after every job of a batch boot ran.
pub fn batch_done() -> ! {
    {
        let mut com3 = crate::serial::COM3.lock();
        let _ = writeln!(com3, "pvm-batch-done");
    }
    debug_exit(0)
}

/// End the machine after a kernel failure (the report is already on COM2).
pub fn exit_failure() -> ! {
    // The lock may be held by the code that failed: write around it.
    let _ = writeln!(crate::serial::emergency_com3(), "pvm-panic");
    debug_exit(KERNEL_FAILURE)
}
