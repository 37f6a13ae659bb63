// Sleeping and timer calls with hostile pointers: nanosleep,
// clock_nanosleep, setitimer, getitimer, timer_settime's arguments,
// timerfd_settime, futex timeouts: EFAULT, and no sleep.
//@ no-qemu: qemu-riscv64 7.2 does not check nanosleep's request pointer, and its futex reaches host-mapped addresses
#include "esc.h"
#include <linux/futex.h>
#include <sys/time.h>
#include <time.h>
#define T(name, call) printf(" " name " %s", (call) < 0 ? en(errno) : "ok")

int main(void) {
    for (unsigned i = 1; i < NHOSTILE; i++) {
        void *p = (void *)HOSTILE[i];
        printf("%#lx:", HOSTILE[i]);
        T("nanosleep", syscall(SYS_nanosleep, p, NULL));
        T("clock_nanosleep", syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, p, NULL));
        T("setitimer", syscall(SYS_setitimer, ITIMER_REAL, p, NULL));
        T("getitimer", syscall(SYS_getitimer, ITIMER_REAL, p));
        int word = 0;
        T("futex timeout", syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, p, NULL, 0));
        T("futex word", syscall(SYS_futex, p, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
        T("futex wake", syscall(SYS_futex, p, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
        printf("\n");
    }
    return 0;
}
