// Executing from a readable, writable but not executable page (the stack):
// SIGSEGV (status 139).
//@ status: 139
#include "rvasm.h"
    .globl _start
    .text
_start:
    SAY "executing from the stack\n"
    addi sp, sp, -16
    li t0, 0x00008067          // ret
    sw t0, 0(sp)
    fence.i
    jalr sp
    SAY "not reached\n"
    EXIT 0
