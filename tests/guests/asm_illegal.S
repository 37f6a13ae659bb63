// An illegal instruction kills the process with SIGILL (status 132).
//@ status: 132
#include "rvasm.h"
    .globl _start
    .text
_start:
    SAY "before the illegal instruction\n"
    .word 0x00000000
    SAY "not reached\n"
    EXIT 0
