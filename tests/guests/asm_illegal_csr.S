// A machine-mode CSR is illegal in user mode: SIGILL (status 132).
//@ status: 132
#include "rvasm.h"
    .globl _start
    .text
_start:
    SAY "reading mstatus\n"
    csrr s0, mstatus
    SAY "not reached\n"
    EXIT 0
