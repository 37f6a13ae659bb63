// An AMO on a misaligned address is not emulated by Linux: the process
// gets SIGBUS (status 135).
//@ status: 135
#include "rvasm.h"
    .globl _start
    .text
_start:
    addi sp, sp, -32
    SAY "aligned amoadd.d works\n"
    li t0, 5
    amoadd.d s0, t0, (sp)
    SAY "misaligned amoadd.w\n"
    addi s1, sp, 2
    amoadd.w s0, t0, (s1)
    SAY "not reached\n"
    EXIT 0
