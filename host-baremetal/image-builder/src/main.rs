//! `pvm-image-builder KERNEL RAMDISK OUT`: wrap the pvm kernel and a ramdisk
//! into a BIOS-bootable disk image with the `bootloader` crate.
//!
//! It lives in its own crate because `bootloader` builds its boot stages with
//! `-Zbuild-std` and needs a recent nightly, while the kernel and the rest of
//! pvm stay on stable. xtask builds this tool once and then runs the binary
//! for every image (cheap: it only writes a FAT partition and an MBR).
//!
//! The bootloader's own logging is switched off: the first serial port is
//! the guest's stdout and must carry nothing else.

use bootloader::{BootConfig, DiskImageBuilder};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [kernel, ramdisk, out] = args.as_slice() else {
        eprintln!("usage: pvm-image-builder KERNEL RAMDISK OUT");
        return ExitCode::from(2);
    };
    let mut config = BootConfig::default();
    config.serial_logging = false;
    config.frame_buffer_logging = false;
    let mut builder = DiskImageBuilder::new(PathBuf::from(kernel));
    builder.set_ramdisk(PathBuf::from(ramdisk));
    builder.set_boot_config(&config);
    match builder.create_bios_image(&PathBuf::from(out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pvm-image-builder: {e:#}");
            ExitCode::FAILURE
        }
    }
}
