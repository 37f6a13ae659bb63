// What the IPC guests (ipc_*.c) share: what they print for a call (its
// result, or the name of the errno it failed with), and the SIGALRM that
// cuts a blocking call short.
#ifndef IPC_H
#define IPC_H
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

static const char *en(int e) {
    const char *s = strerrorname_np(e);
    return s ? s : "E?";
}

static void res(const char *what, long r) {
    if (r < 0)
        printf("%s: %s\n", what, en(errno));
    else
        printf("%s: %ld\n", what, r);
}

static void on_alarm(int sig) { (void)sig; }

// SIGALRM in `usec` microseconds, caught by a handler without SA_RESTART:
// a call it interrupts fails with EINTR.
__attribute__((unused)) static void alarm_in(int usec) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, usec}};
    setitimer(ITIMER_REAL, &it, NULL);
}

#endif
