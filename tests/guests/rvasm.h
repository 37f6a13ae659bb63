// A tiny runtime for the -nostdlib assembly tests: output and exit
// through raw Linux system calls. Include it once, at the top of a .S file
// (it emits code). The print routines clobber only a0-a2, a7 and t0-t2, so
// tests keep their operands in s-registers.
#ifndef PVM_RVASM_H
#define PVM_RVASM_H

// No linker relaxation: it would turn `lla` into gp-relative addressing,
// and nothing sets gp up in a program without libc.
    .option norelax

#define SYS_write 64
#define SYS_exit 93

// Prints a string literal.
.macro SAY text
    .pushsection .rodata
.Lsay_str\@: .asciz "\text"
    .popsection
    lla a0, .Lsay_str\@
    call print_cstr
.endm

// Prints a label, then a register in hex, then a newline.
.macro SHOW text, reg
    mv t2, \reg
    SAY "\text"
    mv a0, t2
    call print_hex
    call print_nl
.endm

.macro EXIT code
    li a0, \code
    li a7, SYS_exit
    ecall
.endm

    .text
    .balign 4
// print_cstr(a0 = NUL-terminated string)
print_cstr:
    mv a1, a0
1:  lbu t0, 0(a1)
    beqz t0, 2f
    addi a1, a1, 1
    j 1b
2:  sub a1, a1, a0
    // fall through
// print_str(a0 = address, a1 = length)
print_str:
    mv a2, a1
    mv a1, a0
    li a0, 1
    li a7, SYS_write
    ecall
    ret

print_nl:
    lla a1, .Lnl
    li a0, 1
    li a2, 1
    li a7, SYS_write
    ecall
    ret

// print_hex(a0): 16 lower-case hex digits.
print_hex:
    lla a1, .Lhexbuf
    li t0, 60
1:  srl t1, a0, t0
    andi t1, t1, 15
    li a2, 10
    blt t1, a2, 2f
    addi t1, t1, 'a' - 10 - '0'
2:  addi t1, t1, '0'
    sb t1, 0(a1)
    addi a1, a1, 1
    addi t0, t0, -4
    bgez t0, 1b
    lla a1, .Lhexbuf
    li a0, 1
    li a2, 16
    li a7, SYS_write
    ecall
    ret

    .section .rodata
.Lnl: .byte 10
    .bss
.Lhexbuf: .space 16
    .text
    // A non-executable stack, as compilers mark C objects.
    .section .note.GNU-stack,"",@progbits
    .text
#endif
