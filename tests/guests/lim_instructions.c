// --max-instructions: a guest that never ends is stopped once it has run
// the instructions allowed: status 202.
//@ variants: static
//@ pvm-args: --max-instructions 50000000
//@ status: 202
//@ no-qemu: qemu-riscv64 has no instruction limit
#include <stdio.h>

int main(void) {
    printf("spinning\n");
    fflush(stdout);
    volatile unsigned long n = 0;
    for (;;)
        n++;
}
