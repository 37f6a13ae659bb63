// --sandbox holds descriptors of its own (the allowed roots, above the
// hard RLIMIT_NOFILE the guest is shown)
// in the guest's table. For the guest they are not open: every call that
// names one, in any argument, inside a structure or through its
// /proc/self/fd entry, must answer exactly what it answers for a number
// that is not open. For each call this compares the answer for every
// number from 880 to 1023 and from the hard limit up with the answer for
// 880 (never open here).
//@ variants: static
//@ pvm-args: --sandbox --allow-write {dir}
//@ no-qemu: qemu-riscv64 has no sandbox: the expectation is that pvm's descriptors look closed
#define _GNU_SOURCE
#include "ownfd_calls.h"

int main(void) {
    procfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
    int open_n = 0;
    for (int n = FIRST; n <= LAST; n++)
        if (fcntl(n, F_GETFD) >= 0)
            open_n++;
    for (int n = hard_limit(); n < hard_limit() + 128; n++)
        if (fcntl(n, F_GETFD) >= 0)
            open_n++;
    printf("open from %d to %d and past the hard limit: %d\n", FIRST, LAST, open_n);
    printf("new descriptors: %s\n", consecutive());
    for (int w = 0; call(w, FIRST); w++) {
        printf("%s: %s\n", names[w], as_closed(w) ? "as for a closed number" : "differs");
        fflush(stdout);
    }
    return 0;
}
