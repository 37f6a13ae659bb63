//! CPU tables and exception handling: the GDT (with a TSS whose IST gives
//! double faults, NMIs and machine checks a known-good stack) and an IDT
//! with a handler for every one of the 32 x86 exception vectors.
//!
//! The x86-interrupt calling convention is nightly-only, so each vector has
//! a tiny assembly stub (16 bytes apart) that pushes a uniform frame and
//! calls [`pvm_trap`] in Rust with all general registers saved. A page
//! fault inside a guest reservation is handed to [`crate::memory`], which
//! backs the page on demand and returns to the faulting instruction; one it
//! does not resolve at a guarded guest access of vm-core's (a page of a file
//! mapping gone past the file's end) resumes that access with the guest's
//! signal ([`guarded_fault`]); every other exception in the kernel prints a
//! report on COM2 and exits QEMU with the failure status.
//!
//! Device interrupts: the legacy PICs are remapped to vectors 32-47 with
//! only IRQ 0, the PIT's periodic tick (see [`crate::clock`]), unmasked.
//! Interrupts stay disabled everywhere except inside [`wait`] (`sti; hlt`),
//! so the tick only ever wakes an idle CPU; its handler counts
//! ([`TICKS`]) and acknowledges it. Spurious IRQ 7 and 15 are ignored.

use core::fmt::Write as _;
use x86_64::VirtAddr;
use x86_64::instructions::segmentation::{CS, SS, Segment};
use x86_64::instructions::tables::{lidt, load_tss};
use x86_64::registers::control::Cr2;
use x86_64::structures::DescriptorTablePointer;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::tss::TaskStateSegment;

/// Registers saved by the stubs, lowest address first.
#[derive(Debug)]
#[repr(C)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

core::arch::global_asm!(
    ".section .text.pvm_isr, \"ax\"",
    ".balign 16",
    ".global pvm_isr_stubs",
    "pvm_isr_stubs:",
    "    .balign 16",
    "    push 0",
    "    push 0",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 0",
    "    push 1",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 0",
    "    push 2",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 0",
    "    push 3",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 0",
    "    push 4",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 0",
    "    push 5",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 0",
    "    push 6",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 0",
    "    push 7",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 8",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 0",
    "    push 9",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 10",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 11",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 12",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 13",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 14",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 0",
    "    push 15",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 0",
    "    push 16",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 17",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 0",
    "    push 18",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 0",
    "    push 19",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 0",
    "    push 20",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 21",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 0",
    "    push 22",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 0",
    "    push 23",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 0",
    "    push 24",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 0",
    "    push 25",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 0",
    "    push 26",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 0",
    "    push 27",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 0",
    "    push 28",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 29",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 30",
    "    jmp pvm_isr_common",
    "    .balign 16",
    "    push 0",
    "    push 31",
    "    jmp pvm_isr_common",
    // IRQ 0: count the tick, acknowledge it at the master PIC.
    ".global pvm_irq_timer",
    ".global pvm_irq_spurious_master",
    ".global pvm_irq_spurious_slave",
    "pvm_irq_timer:",
    "    lock inc qword ptr [rip + {ticks}]",
    "    push rax",
    "    mov al, 0x20",
    "    out 0x20, al",
    "    pop rax",
    "    iretq",
    // Spurious IRQ 7 (master): no acknowledgement.
    "pvm_irq_spurious_master:",
    "    iretq",
    // Spurious IRQ 15 (slave): only the master saw a real request.
    "pvm_irq_spurious_slave:",
    "    push rax",
    "    mov al, 0x20",
    "    out 0x20, al",
    "    pop rax",
    "    iretq",
    "pvm_isr_common:",
    "    push rax",
    "    push rbx",
    "    push rcx",
    "    push rdx",
    "    push rsi",
    "    push rdi",
    "    push rbp",
    "    push r8",
    "    push r9",
    "    push r10",
    "    push r11",
    "    push r12",
    "    push r13",
    "    push r14",
    "    push r15",
    // The CPU aligned rsp to 16 before its 5-word frame; with the 2 words
    // of the stub and 15 registers, rsp is 16-aligned here, as calls need.
    "    mov rdi, rsp",
    "    cld",
    "    call {trap}",
    "    pop r15",
    "    pop r14",
    "    pop r13",
    "    pop r12",
    "    pop r11",
    "    pop r10",
    "    pop r9",
    "    pop r8",
    "    pop rbp",
    "    pop rdi",
    "    pop rsi",
    "    pop rdx",
    "    pop rcx",
    "    pop rbx",
    "    pop rax",
    "    add rsp, 16",
    "    iretq",
    ".text",
    trap = sym pvm_trap,
    ticks = sym TICKS,
);

unsafe extern "C" {
    fn pvm_isr_stubs();
    fn pvm_irq_timer();
    fn pvm_irq_spurious_master();
    fn pvm_irq_spurious_slave();
}

/// Timer interrupts taken since boot (IRQ 0).
pub static TICKS: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Where the PICs deliver IRQ 0-7 and 8-15.
pub const IRQ_BASE_MASTER: u8 = 32;
pub const IRQ_BASE_SLAVE: u8 = 40;

/// Halt until the next interrupt (the timer tick, once
/// [`crate::clock::start_tick`] started it), then disable interrupts again.
pub fn wait() {
    // SAFETY (both): RDTSC has no side effects.
    let start = unsafe { core::arch::x86_64::_rdtsc() };
    // `sti` takes effect after the next instruction, so no interrupt can
    // slip in between it and `hlt` and leave the CPU halted past it.
    x86_64::instructions::interrupts::enable_and_hlt();
    x86_64::instructions::interrupts::disable();
    let end = unsafe { core::arch::x86_64::_rdtsc() };
    IDLE_TSC.fetch_add(
        end.wrapping_sub(start),
        core::sync::atomic::Ordering::Relaxed,
    );
}

/// TSC ticks spent halted in [`wait`] since boot.
pub static IDLE_TSC: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Stub `n` starts `16 * n` bytes after `pvm_isr_stubs`.
const STUB_SPACING: u64 = 16;
/// IST slot (1-based in the TSS, 0-based in the array) for the fatal
/// exceptions that may come with a broken stack.
const IST_FATAL: u16 = 0;
const IST_STACK_SIZE: usize = 64 * 1024;

#[repr(align(16))]
#[allow(dead_code)] // only its address is used, by the CPU
struct IstStack([u8; IST_STACK_SIZE]);
static mut IST_STACK: IstStack = IstStack([0; IST_STACK_SIZE]);

static TSS: spin::Once<TaskStateSegment> = spin::Once::new();
static GDT: spin::Once<(GlobalDescriptorTable, SegmentSelector, SegmentSelector)> =
    spin::Once::new();

/// The 256 16-byte gate descriptors.
#[repr(C, align(16))]
struct Idt([[u64; 2]; 256]);
static IDT: spin::Once<Idt> = spin::Once::new();

const EXCEPTION_NAMES: [&str; 32] = [
    "divide error",
    "debug",
    "non-maskable interrupt",
    "breakpoint",
    "overflow",
    "bound range exceeded",
    "invalid opcode",
    "device not available",
    "double fault",
    "coprocessor segment overrun",
    "invalid TSS",
    "segment not present",
    "stack-segment fault",
    "general protection fault",
    "page fault",
    "reserved (15)",
    "x87 floating-point exception",
    "alignment check",
    "machine check",
    "SIMD floating-point exception",
    "virtualization exception",
    "control protection exception",
    "reserved (22)",
    "reserved (23)",
    "reserved (24)",
    "reserved (25)",
    "reserved (26)",
    "reserved (27)",
    "hypervisor injection exception",
    "VMM communication exception",
    "security exception",
    "reserved (31)",
];

/// An interrupt gate (interrupts stay off in handlers) for ring 0.
fn gate(handler: u64, selector: u16, ist: u16) -> [u64; 2] {
    let low = (handler & 0xffff)
        | (u64::from(selector) << 16)
        | (u64::from(ist) << 32)
        | (0x8e << 40)
        | (((handler >> 16) & 0xffff) << 48);
    [low, handler >> 32]
}

/// Load the GDT, TSS and IDT. Call once, first thing after the serial ports.
pub fn init() {
    let tss = TSS.call_once(|| {
        let mut tss = TaskStateSegment::new();
        // Only the address of the static is taken, never a reference.
        let base = core::ptr::addr_of!(IST_STACK) as u64;
        tss.interrupt_stack_table[IST_FATAL as usize] = VirtAddr::new(base + IST_STACK_SIZE as u64);
        tss
    });
    let (gdt, code, tss_sel) = GDT.call_once(|| {
        let mut gdt = GlobalDescriptorTable::new();
        let code = gdt.append(Descriptor::kernel_code_segment());
        let tss_sel = gdt.append(Descriptor::tss_segment(tss));
        (gdt, code, tss_sel)
    });
    gdt.load();
    // SAFETY: `code` and `tss_sel` index the GDT just loaded; a null SS is
    // valid in 64-bit ring 0.
    unsafe {
        CS::set_reg(*code);
        SS::set_reg(SegmentSelector(0));
        load_tss(*tss_sel);
    }
    let stubs = pvm_isr_stubs as *const () as u64;
    let idt = IDT.call_once(|| {
        let mut idt = Idt([[0; 2]; 256]);
        for (n, entry) in idt.0.iter_mut().enumerate().take(32) {
            // Vectors that can arrive on a broken stack get the IST stack.
            let ist = match n {
                2 | 8 | 18 => IST_FATAL + 1,
                _ => 0,
            };
            *entry = gate(stubs + STUB_SPACING * n as u64, code.0, ist);
        }
        idt.0[IRQ_BASE_MASTER as usize] = gate(pvm_irq_timer as *const () as u64, code.0, 0);
        idt.0[IRQ_BASE_MASTER as usize + 7] =
            gate(pvm_irq_spurious_master as *const () as u64, code.0, 0);
        idt.0[IRQ_BASE_SLAVE as usize + 7] =
            gate(pvm_irq_spurious_slave as *const () as u64, code.0, 0);
        idt
    });
    let ptr = DescriptorTablePointer {
        limit: (core::mem::size_of_val(&idt.0) - 1) as u16,
        base: VirtAddr::new(idt as *const Idt as u64),
    };
    // SAFETY: the IDT is a 'static with valid gates pointing at the stubs.
    unsafe { lidt(&ptr) };
}

/// Called by the assembly stubs with the saved state.
#[unsafe(no_mangle)]
extern "C" fn pvm_trap(frame: &mut TrapFrame) {
    if frame.vector == 14 {
        let addr = Cr2::read_raw();
        if crate::memory::handle_page_fault(addr, frame.error_code) {
            return;
        }
        if guarded_fault(frame, addr) {
            return;
        }
    }
    fatal(frame);
}

/// A page fault the memory code did not resolve, at one of vm-core's
/// guarded guest accesses ([`vm_core::guarded`]: an access of guest
/// memory that survives a fault): resume after its marker with the
/// signal the guest gets in `rdx` and the address in `r8`, as the Linux
/// host's signal handler does: `SIGBUS`, for a page gone past its file's
/// end ([`crate::memory::is_gone`]), the only such fault a guarded access
/// meets here (one CPU: no other thread changes a page between vm-core's
/// check and the access). True when resumed.
fn guarded_fault(frame: &mut TrapFrame, addr: u64) -> bool {
    // Only kernel code runs (guests are interpreted or translated): the
    // instruction bytes are the kernel's own text.
    if frame.cs & 3 != 0 {
        return false;
    }
    // SAFETY: `rip` is the kernel instruction that faulted, in its text,
    // which is mapped; a guarded one is followed by its marker, so the
    // bytes read exist whenever the instruction is one (and the text is
    // followed by more of the kernel image otherwise).
    let code = unsafe {
        core::slice::from_raw_parts(frame.rip as *const u8, vm_core::guarded::MAX_LEN)
    };
    let Some(past) = vm_core::guarded::resume_after(code) else {
        return false;
    };
    // Any other fault there means the page tables and the guest's
    // permissions disagree: a kernel bug, reported as one.
    if !crate::memory::is_gone(addr) {
        return false;
    }
    frame.rdx = vm_core::sigstate::SIGBUS as u64;
    frame.r8 = addr;
    frame.rip += past as u64;
    true
}

/// Report a kernel exception on COM2 and leave QEMU with the failure status.
fn fatal(frame: &TrapFrame) -> ! {
    let mut out = crate::serial::emergency_com2();
    let name = EXCEPTION_NAMES
        .get(frame.vector as usize)
        .copied()
        .unwrap_or("unknown");
    let _ = writeln!(
        out,
        "pvm-kernel: fatal: {name} (vector {}) in kernel code, error code {:#x}",
        frame.vector, frame.error_code
    );
    if frame.vector == 14 {
        let e = frame.error_code;
        let _ = writeln!(
            out,
            "  fault address {:#x}: {} {} access, {}",
            Cr2::read_raw(),
            if e & 2 != 0 { "write" } else { "read" },
            if e & 16 != 0 { "instruction" } else { "data" },
            if e & 1 != 0 {
                "protection violation"
            } else {
                "page not present"
            },
        );
    }
    let _ = writeln!(
        out,
        "  rip {:#018x} cs {:#x} rflags {:#x} rsp {:#018x} ss {:#x}",
        frame.rip, frame.cs, frame.rflags, frame.rsp, frame.ss
    );
    let _ = writeln!(
        out,
        "  rax {:#018x} rbx {:#018x} rcx {:#018x} rdx {:#018x}",
        frame.rax, frame.rbx, frame.rcx, frame.rdx
    );
    let _ = writeln!(
        out,
        "  rsi {:#018x} rdi {:#018x} rbp {:#018x} r8  {:#018x}",
        frame.rsi, frame.rdi, frame.rbp, frame.r8
    );
    let _ = writeln!(
        out,
        "  r9  {:#018x} r10 {:#018x} r11 {:#018x} r12 {:#018x}",
        frame.r9, frame.r10, frame.r11, frame.r12
    );
    let _ = writeln!(
        out,
        "  r13 {:#018x} r14 {:#018x} r15 {:#018x}",
        frame.r13, frame.r14, frame.r15
    );
    crate::exit::exit_failure()
}
