// ebreak raises SIGTRAP (status 133).
//@ status: 133
#include "rvasm.h"
    .globl _start
    .text
_start:
    SAY "before ebreak\n"
    .option push
    .option norvc
    ebreak
    .option pop
    SAY "not reached\n"
    EXIT 0
