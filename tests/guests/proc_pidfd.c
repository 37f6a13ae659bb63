// pidfd_open, pidfd_send_signal and waitid(P_PIDFD) to a child, on every
// host: the descriptor is close-on-exec, poll says nothing until the
// child ends and POLLIN after, the signal kills it, waitid through the
// pidfd reports that, and a reaped child is ESRCH (signal) and ECHILD
// (waitid); bad pids and flags are refused.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static const char *err(long r) {
    return r < 0 ? strerrorname_np(errno) : "ok";
}

int main(void) {
    pid_t c = fork();
    if (c == 0) {
        for (;;)
            pause();
    }
    int pfd = (int)syscall(SYS_pidfd_open, c, 0);
    printf("pidfd_open: %s\n", err(pfd));
    printf("close-on-exec: %s\n", fcntl(pfd, F_GETFD) & FD_CLOEXEC ? "yes" : "no");
    struct pollfd p = {.fd = pfd, .events = POLLIN};
    printf("poll while it runs: %d\n", poll(&p, 1, 0));
    printf("signal 0: %s\n", err(syscall(SYS_pidfd_send_signal, pfd, 0, NULL, 0)));
    printf("SIGTERM: %s\n", err(syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0)));
    int r = poll(&p, 1, 10000);
    printf("poll after: %d revents POLLIN %s\n", r, p.revents & POLLIN ? "yes" : "no");
    siginfo_t si;
    memset(&si, 0, sizeof si);
    printf("waitid P_PIDFD: %s", err(waitid(P_PIDFD, pfd, &si, WEXITED)));
    printf(" code %s status %d pid ok %s\n", si.si_code == CLD_KILLED ? "CLD_KILLED" : "other",
           si.si_status, si.si_pid == c ? "yes" : "no");
    printf("SIGTERM to the reaped child: %s\n",
           err(syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0)));
    printf("waitid of the reaped child: %s\n", err(waitid(P_PIDFD, pfd, &si, WEXITED)));
    close(pfd);
    printf("pidfd_open(-1): %s\n", err(syscall(SYS_pidfd_open, -1, 0)));
    printf("pidfd_open(no such pid): %s\n", err(syscall(SYS_pidfd_open, c, 0)));
    printf("pidfd_open(bad flags): %s\n", err(syscall(SYS_pidfd_open, getpid(), 1)));
    printf("send on stdin: %s\n", err(syscall(SYS_pidfd_send_signal, 0, 0, NULL, 0)));
    return 0;
}
