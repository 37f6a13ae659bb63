// The smallest static program: raw write and exit, no libc.
//@ status: 7
//@ variants: static static-pie
#include "rvasm.h"
    .globl _start
    .text
_start:
    SAY "hello from assembly\n"
    li s0, 0x123456789abcdef0
    SHOW "a register: ", s0
    EXIT 7
