// --max-memory: a guest that keeps allocating (and touching) memory is
// ended when its mappings would pass the limit: status 201, one line on
// stderr, nothing more on stdout.
//@ variants: static
//@ pvm-args: --max-memory 64M
//@ status: 201
//@ no-qemu: qemu-riscv64 has no memory limit of its own
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    printf("allocating\n");
    fflush(stdout);
    for (int i = 0; i < 1000; i++) {
        char *p = malloc(1 << 20);
        if (!p) {
            printf("malloc failed at %d MiB (the guest should have been ended)\n", i);
            return 1;
        }
        memset(p, i, 1 << 20);
    }
    printf("allocated 1000 MiB (the limit did not hold)\n");
    return 1;
}
