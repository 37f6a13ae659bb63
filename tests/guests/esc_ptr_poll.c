// ppoll, pselect6, epoll_ctl and epoll_pwait with hostile pointers:
// EFAULT (or, for fd sets nobody looks at, what Linux gives).
#include "esc.h"
#include <poll.h>
#include <sys/epoll.h>
#define T(name, call) printf(" " name " %s", (call) < 0 ? en(errno) : "ok")

int main(void) {
    int ep = epoll_create1(0);
    struct timespec z = {0, 0};
    for (unsigned i = 1; i < NHOSTILE; i++) {
        void *p = (void *)HOSTILE[i];
        printf("%#lx:", HOSTILE[i]);
        T("ppoll fds", syscall(SYS_ppoll, p, 1, &z, NULL, 8));
        T("ppoll timeout", syscall(SYS_ppoll, NULL, 0, p, NULL, 8));
        T("pselect fdset", syscall(SYS_pselect6, 1, p, NULL, NULL, &z, NULL));
        T("epoll_ctl", syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, 0, p));
        T("epoll_pwait", syscall(SYS_epoll_pwait, ep, p, 1, 0, NULL, 8));
        printf("\n");
    }
    return 0;
}
