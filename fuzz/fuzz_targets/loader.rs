//! Fuzz target: the ELF loader. The input is the program file, byte for
//! byte: arbitrary bytes, and (from the seeds in `seeds/loader/`, small
//! real guests: static, dynamic, PIE) mutations of real binaries. It is
//! loaded as `/prog` on vm-core's test host confined to a temporary
//! directory that holds the sysroot's dynamic linker as
//! `/lib/ld-linux-riscv64-lp64d.so.1` (when the RISC-V sysroot is
//! installed), so a dynamic program loads its interpreter too and a
//! mutated `PT_INTERP` can name no file outside the directory.
//!
//! It must either load, with its stack (and `argc` on it) inside the
//! guest address space, or be refused with an error whose exit status is
//! 126 or 127 (what pvm prints and returns); never panic or fault.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;
use vm_core::loader::{self, LoadConfig};
use vm_core::memory::GuestMemory;
use vm_testkit::testhost::TestHost;

const SPACE: u64 = 1 << 30;
const INTERP: &str = "lib/ld-linux-riscv64-lp64d.so.1";

fn root() -> &'static PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("pvm-fuzz-loader-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("lib")).expect("temp dir");
        let ld = std::path::Path::new("/usr/riscv64-linux-gnu").join(INTERP);
        // Executable: the loader checks (an overwrite keeps the mode).
        std::fs::write(d.join("prog"), b"").expect("temp file");
        let exec = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        std::fs::set_permissions(d.join("prog"), exec).expect("chmod");
        if std::fs::copy(&ld, d.join(INTERP)).is_err() {
            eprintln!(
                "loader fuzz: no {} (dynamic programs fail to find it)",
                ld.display()
            );
        }
        d
    })
}

fn host() -> &'static TestHost {
    static HOST: OnceLock<&'static TestHost> = OnceLock::new();
    HOST.get_or_init(|| TestHost::confined(root()))
}

fuzz_target!(|data: &[u8]| {
    let host = host();
    host.reset();
    std::fs::write(root().join("prog"), data).expect("write the program");
    // 1 GiB, not pvm's 64 GiB: the test host's memory is a heap block,
    // and libFuzzer refuses allocations above its 2 GB limit (the layout
    // scales with the size; see `loader::Layout::for_size`).
    let mem = GuestMemory::new(host, SPACE).expect("guest memory");
    let argv: [&[u8]; 2] = [b"/prog", b"arg"];
    let envp: [&[u8]; 1] = [b"X=1"];
    let cfg = LoadConfig {
        path: b"/prog",
        argv: &argv,
        envp: &envp,
        sysroot: None,
        execfn: b"/prog",
        interp_from: None,
    };
    let r = loader::load(&mem, &cfg);
    if std::env::var_os("PVM_FUZZ_DEBUG").is_some() {
        eprintln!("loader fuzz: {:?}", r.as_ref().map(|l| l.entry));
    }
    match r {
        Ok(l) => {
            let size = mem.size();
            // The entry point may lie anywhere: a program whose entry is not
            // mapped dies of SIGSEGV at its first instruction (as under
            // qemu-riscv64 and Linux, up to the kernel's TASK_SIZE).
            assert!(l.sp < size && l.sp % 16 == 0, "stack pointer {:#x}", l.sp);
            // argc is where the stack pointer points.
            assert_eq!(mem.read_u64(l.sp).ok(), Some(2), "argc at {:#x}", l.sp);
        }
        Err(e) => {
            let code = e.exit_code();
            assert!(code == 126 || code == 127, "{e}: exit status {code}");
            // Every refusal is one printable line.
            let msg = e.to_string();
            assert!(!msg.is_empty() && !msg.contains('\n'), "{msg:?}");
        }
    }
});
