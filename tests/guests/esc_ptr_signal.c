// Signal calls with hostile pointers: rt_sigaction's new and old action,
// rt_sigprocmask's sets, sigaltstack, rt_sigpending, rt_sigtimedwait,
// rt_sigqueueinfo all fail with EFAULT; a handler at a hostile address is
// accepted (it is only an address) and running it is the guest's SIGSEGV.
#include "esc.h"
#include <signal.h>
#define T(name, call) printf(" " name " %s", (call) < 0 ? en(errno) : "ok")

int main(void) {
    for (unsigned i = 1; i < NHOSTILE; i++) {
        void *p = (void *)HOSTILE[i];
        printf("%#lx:", HOSTILE[i]);
        T("sigaction new", syscall(SYS_rt_sigaction, SIGUSR1, p, NULL, 8));
        T("sigaction old", syscall(SYS_rt_sigaction, SIGUSR1, NULL, p, 8));
        T("sigprocmask new", syscall(SYS_rt_sigprocmask, SIG_BLOCK, p, NULL, 8));
        T("sigprocmask old", syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, p, 8));
        T("sigaltstack", syscall(SYS_sigaltstack, p, NULL));
        T("sigpending", syscall(SYS_rt_sigpending, p, 8));
        struct timespec z = {0, 0};
        T("sigtimedwait", syscall(SYS_rt_sigtimedwait, p, NULL, &z, 8));
        T("sigqueueinfo", syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, p));
        printf("\n");
    }
    return 0;
}
