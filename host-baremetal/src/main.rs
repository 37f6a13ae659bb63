//! `pvm-kernel`: pvm as a unikernel. The bootloader hands over a machine
//! with all physical memory mapped and a ramdisk loaded; this kernel sets up
//! the CPU tables, memory, clock and entropy, builds the file system from
//! the ramdisk, and runs one RISC-V guest process on `vm-core` exactly as
//! `host-linux` does. The guest's exit status leaves through QEMU's
//! isa-debug-exit device (see [`exit`]).
//!
//! Boot order matters: the serial ports first (so every later failure can
//! be reported), then the IDT (so faults are reported, not triple faults),
//! then the SSE/AVX state translated code uses ([`cpu`]), then memory (the
//! heap everything after needs).
#![no_std]
#![no_main]
#![warn(missing_debug_implementations, rust_2018_idioms)]

extern crate alloc;

mod clock;
mod cpu;
mod exit;
mod host;
mod hostproc;
mod interrupts;
mod ipc;
mod memory;
mod pagecache;
mod procs;
mod random;
mod selftest;
mod serial;
mod task;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use bootloader_api::config::{BootloaderConfig, Mapping};
use bootloader_api::{BootInfo, entry_point};
use host_baremetal::archive;
use host_baremetal::bootcfg::{BATCH_RECORD, BOOT_RECORD, BootConfig, STDIN_FILE};
use host_baremetal::fs::Fs;
use vm_core::host::{HostOs, ProcessEnd};
use vm_core::launch::{Launch, LaunchError};
use vm_core::process::{EngineKind, Options};
use vm_core::translate;

/// What the bootloader must set up: the physical memory window (page
/// tables are edited through it), its own mappings in the upper half (the
/// lower half is ours), and a roomy stack for the interpreter.
pub static BOOTLOADER_CONFIG: BootloaderConfig = {
    let mut config = BootloaderConfig::new_default();
    config.mappings.physical_memory = Some(Mapping::Dynamic);
    config.mappings.dynamic_range_start = Some(0xffff_8000_0000_0000);
    config.kernel_stack_size = 1 << 20;
    config
};

entry_point!(kernel_main, config = &BOOTLOADER_CONFIG);

fn fail(what: core::fmt::Arguments<'_>) -> ! {
    klog!("fatal: {what}");
    exit::exit_failure()
}

fn kernel_main(boot_info: &'static mut BootInfo) -> ! {
    serial::init();
    interrupts::init();
    // Before any translated code: it uses SSE (and FMA3 when enabled).
    let features = cpu::init();
    if !features.sse {
        klog!("no SSE2 on this CPU: the translator (engine=jit) cannot run");
    }
    if let Err(e) = memory::init(boot_info) {
        fail(format_args!("{e}"));
    }
    if clock::init() {
        clock::start_tick();
    } else {
        klog!("the PIT did not answer: assuming a 1 GHz TSC, times will be off, and sleeps spin");
    }
    if !random::init() {
        klog!(
            "no RDRAND on this CPU: getrandom uses a TSC-seeded xorshift generator, not cryptographic"
        );
    }

    let ramdisk: &'static [u8] = match boot_info.ramdisk_addr.into_option() {
        // SAFETY: the bootloader mapped the ramdisk at this address for
        // `ramdisk_len` bytes and never unmaps it; nothing writes to it.
        Some(addr) => unsafe {
            core::slice::from_raw_parts(addr as *const u8, boot_info.ramdisk_len as usize)
        },
        None => fail(format_args!("no ramdisk: nothing to run")),
    };
    let member = |name: &[u8]| -> Option<&'static [u8]> {
        archive::read(ramdisk)
            .filter_map(Result::ok)
            .find(|e| e.name == name)
            .map(|e| e.data)
    };
    if let Some(mark) = member(BATCH_RECORD) {
        run_batch(ramdisk, mark, member)
    }
    let config = match member(BOOT_RECORD).map(BootConfig::parse) {
        Some(Ok(c)) => c,
        Some(Err(e)) => fail(format_args!("{e}")),
        None => fail(format_args!("the ramdisk has no boot record")),
    };
    let stdin = member(STDIN_FILE).unwrap_or(&[]);
    let host = host::BareMetal::new(new_fs(ramdisk, stdin, &config), run_config(&config)).install();
    if config.has_option(b"selftest") {
        selftest::run(host, &config);
    }
    exit::exit_guest(run_guest(host, &config))
}

/// The ramdisk's file system for one guest: `stdin` its standard input,
/// `config.cwd` its starting directory.
fn new_fs(ramdisk: &'static [u8], stdin: &'static [u8], config: &BootConfig) -> Fs {
    let mut fs = match Fs::new(
        ramdisk,
        stdin,
        &host::SerialConsole,
        clock::realtime,
        random::fill,
    ) {
        Ok(fs) => fs,
        Err(e) => fail(format_args!("ramdisk: {e}")),
    };
    fs.set_monotonic(clock::uptime_ns);
    if let Err(e) = fs.set_initial_cwd(&config.cwd) {
        fail(format_args!("cannot enter the starting directory: {e}"));
    }
    fs
}

/// A batch boot (the ramdisk has [`BATCH_RECORD`], whose bytes are the
/// mark): jobs `.pvm/boot.K` with stdin `.pvm/stdin.K`, K = 0, 1, ...,
/// run one after the other, each on a fresh file system and host state,
/// each followed by the mark on COM1 and COM2 and its status on COM3.
/// Booting costs seconds under QEMU (the BIOS loads kernel and ramdisk
/// slowly), so `cargo xtask test` boots once per batch, not per guest;
/// a job that ends the machine (a kernel fault, memory exhausted) ends
/// the batch, and xtask runs the rest in a new one.
fn run_batch(
    ramdisk: &'static [u8],
    mark: &'static [u8],
    member: impl Fn(&[u8]) -> Option<&'static [u8]>,
) -> ! {
    let mut host: Option<&'static host::BareMetal> = None;
    for k in 0usize.. {
        let Some(record) = member(format!(".pvm/boot.{k}").as_bytes()) else {
            break;
        };
        let config = match BootConfig::parse(record) {
            Ok(c) => c,
            Err(e) => fail(format_args!("job {k}: {e}")),
        };
        let stdin = member(format!(".pvm/stdin.{k}").as_bytes()).unwrap_or(&[]);
        let fs = new_fs(ramdisk, stdin, &config);
        let h = match host {
            Some(h) => {
                h.reset(fs, run_config(&config));
                h
            }
            None => host::BareMetal::new(fs, run_config(&config)).install(),
        };
        host = Some(h);
        let status = run_guest(h, &config);
        exit::job_done(status, mark);
    }
    exit::batch_done()
}

/// Exit status for failures of pvm itself, as `host-linux` uses.
const EXIT_INTERNAL: i32 = vm_core::launch::EXIT_INTERNAL;

/// Run the guest process to its end and return its status, through the
/// launch path `host-linux` takes too (`vm_core::launch`).
fn run_guest(host: &'static host::BareMetal, config: &BootConfig) -> i32 {
    let program = &config.program[..];
    let argv: Vec<&[u8]> = config.argv.iter().map(|a| &a[..]).collect();
    let envp: Vec<&[u8]> = config.env.iter().map(|e| &e[..]).collect();
    // /proc/self/exe: the absolute path (the ramdisk holds the program at
    // its absolute build-machine path, and the runner gives that cwd).
    let exe_path = if program.first() == Some(&b'/') {
        program.to_vec()
    } else {
        let mut p = config.cwd.clone();
        if p.last() != Some(&b'/') {
            p.push(b'/');
        }
        p.extend_from_slice(program.strip_prefix(b"./").unwrap_or(program));
        p
    };
    host.p().set_image(&exe_path, &argv);
    let Some(run) = host.run().engine_ok() else {
        return EXIT_INTERNAL;
    };
    let launch = Launch {
        program,
        load_from: None,
        interp_from: None,
        argv: &argv,
        envp: &envp,
        sysroot: config.sysroot.as_deref(),
        exe_path,
        options: run.options.clone(),
        ignored: 0,
        sigmask: 0,
    };
    // Guest threads take turns on this CPU (vm_core::sched), and so do
    // the processes it forks (crate::task).
    let end = match vm_core::launch::launch(host, launch, |_| {}) {
        Ok(ended) if host.p().exec.lock().is_some() => {
            // It exec'd: the new image runs below.
            drop(ended);
            ProcessEnd::Exit(0)
        }
        Ok(ended) => return ended.report(program, false),
        Err(e @ LaunchError::Load(..)) => {
            host.log(format_args!("pvm: {e}"));
            return e.exit_code();
        }
        Err(e) => {
            klog!("{e}");
            return e.exit_code();
        }
    };
    hostproc::shell_status(host.follow_execs(end, false))
}

/// How a job's programs run: its sysroot, `strace` and engine options (an
/// unknown engine is reported when the job starts).
fn run_config(config: &BootConfig) -> host::RunConfig {
    let engine = match config.option_value(b"engine") {
        None | Some(b"interp") => Some(EngineKind::Interp),
        Some(b"jit") => Some(EngineKind::Jit {
            cache_size: translate::DEFAULT_CACHE_SIZE,
        }),
        Some(other) => {
            klog!("unknown engine {:?}", String::from_utf8_lossy(other));
            None
        }
    };
    host::RunConfig {
        sysroot: config.sysroot.clone(),
        options: Options {
            strace: config.has_option(b"strace"),
            engine: engine.unwrap_or_default(),
            ..Default::default()
        },
        engine_ok: engine.is_some(),
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    use core::fmt::Write as _;
    let _ = writeln!(serial::emergency_com2(), "pvm-kernel: panic: {info}");
    exit::exit_failure()
}
