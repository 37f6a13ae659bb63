// A floating-point instruction with dynamic rounding while frm holds a
// reserved value (5) is illegal: SIGILL (status 132).
//@ status: 132
#include "rvasm.h"
    .globl _start
    .text
_start:
    li s0, 5
    fsrm s0
    SAY "frm set to 5\n"
    fmv.d.x ft0, zero
    fsgnj.d ft1, ft0, ft0
    SAY "sign injection has no rounding mode: fine\n"
    fadd.d ft1, ft0, ft0, dyn
    SAY "not reached\n"
    EXIT 0
