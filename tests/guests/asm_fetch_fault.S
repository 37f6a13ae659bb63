// Jumping to an unmapped address: SIGSEGV on the instruction fetch
// (status 139).
//@ status: 139
#include "rvasm.h"
    .globl _start
    .text
_start:
    SAY "jumping to 0x1000\n"
    li t0, 0x1000
    jr t0
