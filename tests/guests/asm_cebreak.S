// The compressed c.ebreak raises SIGTRAP too (status 133).
//@ status: 133
#include "rvasm.h"
    .globl _start
    .text
_start:
    SAY "before c.ebreak\n"
    c.ebreak
    SAY "not reached\n"
    EXIT 0
