// Per-instruction test of the C extension (RV64): every compressed
// instruction, written with its explicit c.* mnemonic so the assembler
// cannot choose, with edge-case immediates. Results are printed in hex.
#include "rvasm.h"
    .globl _start
    .text
_start:
    .option rvc
    // Stack slots for the sp-relative forms.
    addi sp, sp, -64
    li t0, 0x8877665544332211
    sd t0, 0(sp)
    li t0, 0xfedcba9876543210
    sd t0, 8(sp)
    li t0, 0x400921fb54442d18      // pi
    sd t0, 16(sp)
    li t0, 0xa5a5a5a5a5a5a5a5
    sd t0, 24(sp)
    sd t0, 32(sp)
    sd t0, 40(sp)
    sd t0, 48(sp)
    sd t0, 56(sp)

    c.addi4spn s0, sp, 16
    sub s0, s0, sp
    SHOW "c.addi4spn sp+16: ", s0
    c.addi4spn s0, sp, 1020
    sub s0, s0, sp
    SHOW "c.addi4spn sp+1020: ", s0

    mv s1, sp
    c.lw s0, 0(s1)
    SHOW "c.lw 0: ", s0
    c.lw s0, 4(s1)
    SHOW "c.lw 4 (sign-extends): ", s0
    c.ld s0, 8(s1)
    SHOW "c.ld 8: ", s0
    c.fld fs0, 16(s1)
    fmv.x.d s0, fs0
    SHOW "c.fld 16: ", s0
    li s0, 0x0102030405060708
    c.sw s0, 24(s1)
    c.sd s0, 32(s1)
    c.fsd fs0, 40(s1)
    ld s0, 24(sp)
    SHOW "c.sw 24 (low word; rest of slot): ", s0
    ld s0, 32(sp)
    SHOW "c.sd 32: ", s0
    ld s0, 40(sp)
    SHOW "c.fsd 40: ", s0

    c.lwsp s0, 4(sp)
    SHOW "c.lwsp 4: ", s0
    c.ldsp s0, 8(sp)
    SHOW "c.ldsp 8: ", s0
    c.fldsp fs1, 16(sp)
    fmv.x.d s0, fs1
    SHOW "c.fldsp 16: ", s0
    li s0, -2
    c.swsp s0, 48(sp)
    c.sdsp s0, 56(sp)
    ld s0, 48(sp)
    SHOW "c.swsp 48: ", s0
    ld s0, 56(sp)
    SHOW "c.sdsp 56: ", s0
    li s0, 0
    fmv.d.x fs1, s0
    c.fsdsp fs1, 0(sp)
    ld s0, 0(sp)
    SHOW "c.fsdsp 0: ", s0

    c.nop
    li s0, 100
    c.addi s0, -32
    SHOW "c.addi 100-32: ", s0
    c.addi s0, 31
    SHOW "c.addi +31: ", s0
    li s0, 0x7fffffff
    c.addiw s0, 1
    SHOW "c.addiw 0x7fffffff+1: ", s0
    li s0, 0x1234567800000005
    c.addiw s0, 0
    SHOW "c.addiw 0 (sext.w): ", s0
    c.li s0, -32
    SHOW "c.li -32: ", s0
    c.li s0, 31
    SHOW "c.li 31: ", s0
    mv s1, sp
    c.addi16sp sp, -64
    sub s0, s1, sp
    SHOW "c.addi16sp -64: ", s0
    c.addi16sp sp, 496
    sub s0, sp, s1
    SHOW "c.addi16sp +496: ", s0
    c.addi16sp sp, -432
    sub s0, sp, s1
    SHOW "c.addi16sp -432 (back to start): ", s0
    c.lui s0, 1
    SHOW "c.lui 1: ", s0
    c.lui s0, 0x1f
    SHOW "c.lui 0x1f: ", s0
    c.lui s0, 0xfffe0
    SHOW "c.lui 0xfffe0: ", s0
    c.lui s0, 0xfffff
    SHOW "c.lui 0xfffff: ", s0

    li s0, 0x8000000000000001
    c.srli s0, 63
    SHOW "c.srli 63: ", s0
    li s0, 0x8000000000000001
    c.srli s0, 1
    SHOW "c.srli 1: ", s0
    li s0, 0x8000000000000001
    c.srai s0, 63
    SHOW "c.srai 63: ", s0
    li s0, 0x8000000000000001
    c.srai s0, 32
    SHOW "c.srai 32: ", s0
    li s0, 0x8000000000000001
    c.slli s0, 63
    SHOW "c.slli 63: ", s0
    li s0, 0x00000000ffffffff
    c.slli s0, 32
    SHOW "c.slli 32: ", s0
    li s0, 0x123456789abcdef0
    c.andi s0, -1
    SHOW "c.andi -1: ", s0
    c.andi s0, 0x1f
    SHOW "c.andi 0x1f: ", s0
    li s0, 0xff
    c.andi s0, -32
    SHOW "c.andi -32: ", s0

    li s0, 0x7fffffff
    li s1, 1
    c.addw s0, s1
    SHOW "c.addw 0x7fffffff+1: ", s0
    li s0, 0
    li s1, 0x80000000
    c.subw s0, s1
    SHOW "c.subw 0-0x80000000: ", s0
    li s0, 5
    li s1, 7
    c.sub s0, s1
    SHOW "c.sub 5-7: ", s0
    li s0, 0xff00ff00ff00ff00
    li s1, 0x0ff00ff00ff00ff0
    mv a3, s0
    c.xor s0, s1
    SHOW "c.xor: ", s0
    mv s0, a3
    c.or s0, s1
    SHOW "c.or: ", s0
    mv s0, a3
    c.and s0, s1
    SHOW "c.and: ", s0
    li s0, 0x7fffffffffffffff
    li s1, 1
    c.add s0, s1
    SHOW "c.add overflow: ", s0
    li s1, 0x55
    c.mv s0, s1
    SHOW "c.mv: ", s0

    li s0, 0
    c.j 1f
    li s0, 1
1:  SHOW "c.j skipped (0): ", s0
    li s1, 0
    li s0, 0
    c.beqz s1, 1f
    li s0, 1
1:  SHOW "c.beqz taken (0): ", s0
    li s1, 3
    li s0, 0
    c.beqz s1, 1f
    li s0, 1
1:  SHOW "c.beqz not taken (1): ", s0
    li s0, 0
    c.bnez s1, 1f
    li s0, 1
1:  SHOW "c.bnez taken (0): ", s0
    li s1, 0
    li s0, 0
    c.bnez s1, 1f
    li s0, 1
1:  SHOW "c.bnez not taken (1): ", s0
    // c.beqz backwards: count down from 3.
    li s1, 3
    li s0, 0
2:  addi s0, s0, 1
    addi s1, s1, -1
    c.bnez s1, 2b
    SHOW "c.bnez backwards loop count: ", s0

    la s1, 1f
    li s0, 0
    c.jr s1
    li s0, 1
1:  SHOW "c.jr (0): ", s0
    la s1, 1f
    c.jalr s1
2:  j 3f
1:  la s0, 2b
    sub s0, ra, s0
    mv s2, ra
    SHOW "c.jalr link is pc+2 (0): ", s0
    jr s2
3:  li s0, 1
    SHOW "c.jalr returned: ", s0
    la a4, 4f
    li s0, 0x1111
    c.jr a4
    li s0, 0x2222
4:  SHOW "c.jr through a4: ", s0
    // Compressed and 32-bit instructions mix at 2-byte alignment.
    c.nop
    addi s0, zero, 77
    SHOW "32-bit at 2-byte alignment: ", s0
    addi sp, sp, 64
    EXIT 0
