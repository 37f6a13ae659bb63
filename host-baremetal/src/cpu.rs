//! The x86 floating-point and vector state the translator's code uses.
//!
//! The kernel itself is built for `x86_64-unknown-none`, which compiles
//! Rust code without SSE, so nothing in the kernel needs the SSE unit and
//! the bootloader leaves it off (CR4.OSFXSR clear). The translator's
//! generated code does use it: the entry code loads MXCSR (`ldmxcsr`), and
//! the F and D extensions are translated to scalar SSE2 instructions and,
//! where the host has FMA3 and the OS enabled the AVX state, to VEX-encoded
//! fused multiply-adds. With OSFXSR clear each of those raises #UD.
//!
//! [`init`] turns them on the way an OS does: CR0.EM off and CR0.MP on (the
//! FPU is present), CR4.OSFXSR and CR4.OSXMMEXCPT on (SSE, with unmasked SIMD
//! exceptions as #XM rather than #UD; translated code masks them all), and,
//! when the CPU has XSAVE and AVX, CR4.OSXSAVE with XCR0 = x87 | SSE | AVX
//! so that the translator's back end sees the state enabled
//! (`translate::host_features` reports `fma3` usable).
//!
//! Saving the vector state is not needed: there is one guest thread and
//! no task switch, and the kernel's own code (interrupt handlers included)
//! never touches the x87, SSE or AVX registers.

use x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};
use x86_64::registers::xcontrol::{XCr0, XCr0Flags};

/// What [`init`] enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    /// SSE and SSE2 (every x86-64 processor has them).
    pub sse: bool,
    /// The AVX register state (XSAVE present and enabled).
    pub avx: bool,
}

/// MXCSR with every exception masked and round to nearest (its reset
/// value, and what Rust and the translator assume).
const MXCSR_DEFAULT: u32 = 0x1f80;

/// Enable SSE (and the AVX state if the CPU has it). Call once, early.
pub fn init() -> Features {
    let c1 = core::arch::x86_64::__cpuid(1);
    let sse = c1.edx & (1 << 25) != 0 && c1.edx & (1 << 26) != 0;
    if !sse {
        return Features { sse, avx: false };
    }
    // SAFETY: the FPU is present on every x86-64 processor (EM off, MP on
    // is the documented setting for it), and the CPU reports SSE/SSE2, so
    // enabling FXSAVE/SSE and #XM reporting is valid. No code of the
    // kernel holds x87/SSE state that these writes could disturb.
    unsafe {
        Cr0::update(|f| {
            f.remove(Cr0Flags::EMULATE_COPROCESSOR);
            f.insert(Cr0Flags::MONITOR_COPROCESSOR);
        });
        Cr4::update(|f| {
            f.insert(Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE);
        });
        core::arch::asm!("fninit", options(nomem, nostack));
        let m = MXCSR_DEFAULT;
        core::arch::asm!("ldmxcsr [{}]", in(reg) &m, options(nostack, readonly));
    }
    let (xsave, avx) = (1 << 26, 1 << 28);
    let avx = c1.ecx & (xsave | avx) == xsave | avx;
    if avx {
        // SAFETY: CPUID reports XSAVE (so CR4.OSXSAVE and XSETBV exist)
        // and AVX (so XCR0's AVX bit is supported); x87 and SSE are set
        // with it as the architecture requires.
        unsafe {
            Cr4::update(|f| f.insert(Cr4Flags::OSXSAVE));
            XCr0::write(XCr0Flags::X87 | XCr0Flags::SSE | XCr0Flags::AVX);
        }
    }
    Features { sse, avx }
}
