//! Guest memory accesses that survive a host fault. `GuestMemory` checks
//! every access against the guest's page table first, so the host faults
//! on one only where the guest's view and the host's differ: a page of a
//! file mapping whose file was truncated under it (the host raises
//! `SIGBUS`, as Linux does for the guest), or a page another guest thread
//! unmapped between the check and the access (`SIGSEGV`). Each access here
//! is one x86-64 instruction of a fixed encoding followed by [`MARKER`], a
//! no-op no compiler emits; a host fault handler that finds the faulting
//! instruction so followed ([`resume_after`]) puts the signal number in
//! `rdx` and the faulting address in `r8` and resumes after the marker, so
//! the access returns [`Faulted`] instead of crashing pvm (the kernel's
//! exception tables, without a table). The atomics ([`cas32`], [`swap32`],
//! [`add32`] and their 64-bit forms) are guarded the same way, so the
//! interpreter's AMOs and LR/SC get the guest's `SIGBUS` too.

/// `nop dword ptr [rax + 0x50564d00]`: 7 bytes ending in "\0MVP".
pub const MARKER: [u8; 7] = [0x0f, 0x1f, 0x80, 0x00, 0x4d, 0x56, 0x50];

/// The encodings of the guarded instructions (pointer in `rsi`, value in
/// `rax` or its low part, `rep movsb` from `rsi` to `rdi`; `cmpxchg`'s new
/// value in `rcx` or `ecx`).
const GUARDED: [&[u8]; 15] = [
    &[0x0f, 0xb6, 0x06],             // movzx eax, byte ptr [rsi]
    &[0x0f, 0xb7, 0x06],             // movzx eax, word ptr [rsi]
    &[0x8b, 0x06],                   // mov eax, dword ptr [rsi]
    &[0x48, 0x8b, 0x06],             // mov rax, qword ptr [rsi]
    &[0x88, 0x06],                   // mov byte ptr [rsi], al
    &[0x66, 0x89, 0x06],             // mov word ptr [rsi], ax
    &[0x89, 0x06],                   // mov dword ptr [rsi], eax
    &[0x48, 0x89, 0x06],             // mov qword ptr [rsi], rax
    &[0xf3, 0xa4],                   // rep movsb
    &[0xf0, 0x0f, 0xb1, 0x0e],       // lock cmpxchg dword ptr [rsi], ecx
    &[0xf0, 0x48, 0x0f, 0xb1, 0x0e], // lock cmpxchg qword ptr [rsi], rcx
    &[0x87, 0x06],                   // xchg dword ptr [rsi], eax
    &[0x48, 0x87, 0x06],             // xchg qword ptr [rsi], rax
    &[0xf0, 0x0f, 0xc1, 0x06],       // lock xadd dword ptr [rsi], eax
    &[0xf0, 0x48, 0x0f, 0xc1, 0x06], // lock xadd qword ptr [rsi], rax
];

/// A guarded access the host faulted on: the host signal and the host
/// address of the fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Faulted {
    pub signo: i32,
    pub addr: u64,
}

/// Bytes a host handler must pass to [`resume_after`]: the longest
/// guarded instruction and its marker.
pub const MAX_LEN: usize = 5 + MARKER.len();

/// Where to resume after a fault at instruction `code` (the first bytes
/// there), if it is a guarded access: the offset past its marker.
pub fn resume_after(code: &[u8]) -> Option<usize> {
    GUARDED.iter().find_map(|g| {
        let n = g.len();
        (code.len() >= n + MARKER.len() && code[..n] == **g && code[n..n + MARKER.len()] == MARKER)
            .then_some(n + MARKER.len())
    })
}

macro_rules! load {
    ($name:ident, $ty:ty, $insn:literal) => {
        /// Load from host address `p` (see the module documentation).
        ///
        /// # Safety
        /// `p` must point into memory the guest's page table allows to be
        /// read (a fault there is reported, not undefined behaviour).
        #[inline(always)]
        pub unsafe fn $name(p: *const u8) -> Result<$ty, Faulted> {
            let v: u64;
            let (sig, at): (u64, u64);
            // SAFETY: the caller's promise; a fault is turned into a
            // return by the host's handler (module documentation).
            unsafe {
                core::arch::asm!(
                    $insn,
                    ".byte 0x0f, 0x1f, 0x80, 0x00, 0x4d, 0x56, 0x50",
                    in("rsi") p,
                    out("rax") v,
                    inout("rdx") 0u64 => sig,
                    inout("r8") 0u64 => at,
                    options(nostack, preserves_flags, readonly),
                );
            }
            if sig != 0 {
                return Err(Faulted { signo: sig as i32, addr: at });
            }
            Ok(v as $ty)
        }
    };
}

macro_rules! store {
    ($name:ident, $ty:ty, $insn:literal) => {
        /// Store `v` at host address `p` (see the module documentation).
        ///
        /// # Safety
        /// `p` must point into memory the guest's page table allows to be
        /// written (a fault there is reported, not undefined behaviour).
        #[inline(always)]
        pub unsafe fn $name(p: *mut u8, v: $ty) -> Result<(), Faulted> {
            let (sig, at): (u64, u64);
            // SAFETY: as for the loads.
            unsafe {
                core::arch::asm!(
                    $insn,
                    ".byte 0x0f, 0x1f, 0x80, 0x00, 0x4d, 0x56, 0x50",
                    in("rsi") p,
                    in("rax") v as u64,
                    inout("rdx") 0u64 => sig,
                    inout("r8") 0u64 => at,
                    options(nostack, preserves_flags),
                );
            }
            if sig != 0 {
                return Err(Faulted { signo: sig as i32, addr: at });
            }
            Ok(())
        }
    };
}

load!(load8, u8, "movzx eax, byte ptr [rsi]");
load!(load16, u16, "movzx eax, word ptr [rsi]");
load!(load32, u32, "mov eax, dword ptr [rsi]");
load!(load64, u64, "mov rax, qword ptr [rsi]");
store!(store8, u8, "mov byte ptr [rsi], al");
store!(store16, u16, "mov word ptr [rsi], ax");
store!(store32, u32, "mov dword ptr [rsi], eax");
store!(store64, u64, "mov qword ptr [rsi], rax");

macro_rules! rmw {
    ($name:ident, $ty:ty, $insn:literal, $what:literal) => {
        #[doc = concat!("Atomically ", $what, " at host address `p`, returning the old value")]
        /// (sequentially consistent; see the module documentation).
        ///
        /// # Safety
        /// `p` must be aligned and point into memory the guest's page table
        /// allows to be read and written (a fault there is reported, not
        /// undefined behaviour).
        #[inline(always)]
        pub unsafe fn $name(p: *mut u8, v: $ty) -> Result<$ty, Faulted> {
            let old: u64;
            let (sig, at): (u64, u64);
            // SAFETY: the caller's promise; as for the loads.
            unsafe {
                core::arch::asm!(
                    $insn,
                    ".byte 0x0f, 0x1f, 0x80, 0x00, 0x4d, 0x56, 0x50",
                    in("rsi") p,
                    inout("rax") v as u64 => old,
                    inout("rdx") 0u64 => sig,
                    inout("r8") 0u64 => at,
                    options(nostack),
                );
            }
            if sig != 0 {
                return Err(Faulted { signo: sig as i32, addr: at });
            }
            Ok(old as $ty)
        }
    };
}

rmw!(swap32, u32, "xchg dword ptr [rsi], eax", "swap in `v`");
rmw!(swap64, u64, "xchg qword ptr [rsi], rax", "swap in `v`");
rmw!(add32, u32, "lock xadd dword ptr [rsi], eax", "add `v`");
rmw!(add64, u64, "lock xadd qword ptr [rsi], rax", "add `v`");

macro_rules! cas {
    ($name:ident, $ty:ty, $insn:literal) => {
        /// Compare-and-swap at host address `p`: store `new` if it holds
        /// `expected`; returns the value it held (equal to `expected`
        /// exactly when the store happened). Sequentially consistent; see
        /// the module documentation.
        ///
        /// # Safety
        /// As for [`swap32`].
        #[inline(always)]
        pub unsafe fn $name(p: *mut u8, expected: $ty, new: $ty) -> Result<$ty, Faulted> {
            let old: u64;
            let (sig, at): (u64, u64);
            // SAFETY: the caller's promise; as for the loads.
            unsafe {
                core::arch::asm!(
                    $insn,
                    ".byte 0x0f, 0x1f, 0x80, 0x00, 0x4d, 0x56, 0x50",
                    in("rsi") p,
                    in("rcx") new as u64,
                    inout("rax") expected as u64 => old,
                    inout("rdx") 0u64 => sig,
                    inout("r8") 0u64 => at,
                    options(nostack),
                );
            }
            if sig != 0 {
                return Err(Faulted { signo: sig as i32, addr: at });
            }
            Ok(old as $ty)
        }
    };
}

cas!(cas32, u32, "lock cmpxchg dword ptr [rsi], ecx");
cas!(cas64, u64, "lock cmpxchg qword ptr [rsi], rcx");

/// The guarded atomics of one width, so that a caller (the interpreter's
/// AMOs and store-conditionals) is written once for both.
pub trait Atomic: Scalar + Copy + Eq {
    /// # Safety
    /// As for [`swap32`].
    unsafe fn swap(p: *mut u8, v: Self) -> Result<Self, Faulted>;
    /// # Safety
    /// As for [`add32`].
    unsafe fn add(p: *mut u8, v: Self) -> Result<Self, Faulted>;
    /// # Safety
    /// As for [`cas32`].
    unsafe fn cas(p: *mut u8, expected: Self, new: Self) -> Result<Self, Faulted>;
}

macro_rules! atomic {
    ($t:ty, $swap:ident, $add:ident, $cas:ident) => {
        impl Atomic for $t {
            #[inline(always)]
            unsafe fn swap(p: *mut u8, v: Self) -> Result<Self, Faulted> {
                // SAFETY: the caller's promise.
                unsafe { $swap(p, v) }
            }
            #[inline(always)]
            unsafe fn add(p: *mut u8, v: Self) -> Result<Self, Faulted> {
                // SAFETY: the caller's promise.
                unsafe { $add(p, v) }
            }
            #[inline(always)]
            unsafe fn cas(p: *mut u8, expected: Self, new: Self) -> Result<Self, Faulted> {
                // SAFETY: the caller's promise.
                unsafe { $cas(p, expected, new) }
            }
        }
    };
}

atomic!(u32, swap32, add32, cas32);
atomic!(u64, swap64, add64, cas64);

/// The guarded load and store of one scalar type.
pub trait Scalar: Sized {
    /// # Safety
    /// As for [`load8`].
    unsafe fn load(p: *const u8) -> Result<Self, Faulted>;
    /// # Safety
    /// As for [`store8`].
    unsafe fn store(p: *mut u8, v: Self) -> Result<(), Faulted>;
}

macro_rules! scalar {
    ($t:ty, $l:ident, $s:ident) => {
        impl Scalar for $t {
            #[inline(always)]
            unsafe fn load(p: *const u8) -> Result<Self, Faulted> {
                // SAFETY: the caller's promise.
                unsafe { $l(p) }
            }
            #[inline(always)]
            unsafe fn store(p: *mut u8, v: Self) -> Result<(), Faulted> {
                // SAFETY: the caller's promise.
                unsafe { $s(p, v) }
            }
        }
    };
}

scalar!(u8, load8, store8);
scalar!(u16, load16, store16);
scalar!(u32, load32, store32);
scalar!(u64, load64, store64);

/// Copy `len` bytes from `src` to `dst` (see the module documentation).
///
/// # Safety
/// Both ranges must be valid for the copy as the guest's page table sees
/// them, and must not overlap.
#[inline(always)]
pub unsafe fn copy(dst: *mut u8, src: *const u8, len: usize) -> Result<(), Faulted> {
    let (sig, at): (u64, u64);
    // SAFETY: the caller's promise; as for the loads.
    unsafe {
        core::arch::asm!(
            "rep movsb",
            ".byte 0x0f, 0x1f, 0x80, 0x00, 0x4d, 0x56, 0x50",
            inout("rsi") src => _,
            inout("rdi") dst => _,
            inout("rcx") len => _,
            inout("rdx") 0u64 => sig,
            inout("r8") 0u64 => at,
            options(nostack, preserves_flags),
        );
    }
    if sig != 0 {
        return Err(Faulted {
            signo: sig as i32,
            addr: at,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guarded_accesses_work_and_are_found() {
        let mut b = [0u8; 16];
        // SAFETY: `b` is a live local buffer.
        unsafe {
            store64(b.as_mut_ptr(), 0x1122_3344_5566_7788).unwrap();
            assert_eq!(load64(b.as_ptr()), Ok(0x1122_3344_5566_7788));
            assert_eq!(load8(b.as_ptr()), Ok(0x88));
            assert_eq!(load16(b.as_ptr()), Ok(0x7788));
            assert_eq!(load32(b.as_ptr()), Ok(0x5566_7788));
            store8(b.as_mut_ptr().add(8), 1).unwrap();
            store16(b.as_mut_ptr().add(9), 0x0302).unwrap();
            store32(b.as_mut_ptr().add(11), 0x0706_0504).unwrap();
            let mut c = [0u8; 7];
            copy(c.as_mut_ptr(), b.as_ptr().add(8), 7).unwrap();
            assert_eq!(c, [1, 2, 3, 4, 5, 6, 7]);
        }
        let mut w = [0u64; 2];
        let p = w.as_mut_ptr().cast::<u8>();
        // SAFETY: `w` is a live, aligned local buffer.
        unsafe {
            assert_eq!(swap64(p, 7), Ok(0));
            assert_eq!(add64(p, 5), Ok(7));
            assert_eq!(cas64(p, 11, 1), Ok(12));
            assert_eq!(cas64(p, 12, 1), Ok(12));
            assert_eq!(swap32(p.add(8), 3), Ok(0));
            assert_eq!(add32(p.add(8), u32::MAX), Ok(3));
            assert_eq!(cas32(p.add(8), 2, 9), Ok(2));
            assert_eq!(cas32(p.add(8), 2, 4), Ok(9));
        }
        assert_eq!(w, [1, 9]);
        let mut code = alloc::vec![0x48, 0x8b, 0x06];
        code.extend_from_slice(&MARKER);
        assert_eq!(resume_after(&code), Some(10));
        code[9] = 0;
        assert_eq!(resume_after(&code), None);
        assert_eq!(resume_after(&[0x48, 0x8b, 0x06]), None);
        for g in GUARDED {
            assert!(g.len() + MARKER.len() <= MAX_LEN);
        }
    }
}
