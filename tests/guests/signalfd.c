// signalfd: reading pending signals as records, readiness for poll and
// epoll, a new mask, dup, and a blocking read woken by a timer signal.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

static int readable(int fd) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

int main(void) {
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    sigaddset(&m, SIGUSR2);
    sigaddset(&m, SIGRTMIN);
    sigaddset(&m, SIGALRM);
    sigprocmask(SIG_BLOCK, &m, NULL);
    int sfd = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
    printf("signalfd: %d\n", sfd >= 0);
    struct signalfd_siginfo si[4];
    printf("empty read: %zd EAGAIN %d readable %d\n", read(sfd, si, sizeof si), errno == EAGAIN,
           readable(sfd));
    printf("short buffer: %zd EINVAL %d\n", read(sfd, si, 100), errno == EINVAL);
    printf("write: %zd EINVAL %d\n", write(sfd, si, sizeof si[0]), errno == EINVAL);

    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 99};
    epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
    struct epoll_event out;
    printf("epoll before: %d\n", epoll_wait(ep, &out, 1, 0));
    kill(getpid(), SIGUSR1);
    printf("readable after kill: %d\n", readable(sfd));
    printf("epoll after: %d data %u\n", epoll_wait(ep, &out, 1, 1000), out.data.u32);
    union sigval v = {.sival_int = 42};
    sigqueue(getpid(), SIGRTMIN, v);
    v.sival_int = 43;
    sigqueue(getpid(), SIGRTMIN, v);
    memset(si, 0, sizeof si);
    ssize_t n = read(sfd, si, sizeof si);
    printf("read %zd bytes = %zd records\n", n, n / (ssize_t)sizeof si[0]);
    for (int i = 0; i < n / (ssize_t)sizeof si[0]; i++)
        printf("  signo %s code %d pid ok %d uid ok %d int %d\n",
               si[i].ssi_signo == SIGUSR1 ? "SIGUSR1" : si[i].ssi_signo == (unsigned)SIGRTMIN ? "SIGRTMIN" : "?",
               si[i].ssi_code, si[i].ssi_pid == (unsigned)getpid(), si[i].ssi_uid == getuid(),
               si[i].ssi_int);
    printf("drained: readable %d epoll %d\n", readable(sfd), epoll_wait(ep, &out, 1, 0));

    // A new mask: SIGUSR1 stays pending, unread.
    sigset_t only2;
    sigemptyset(&only2);
    sigaddset(&only2, SIGUSR2);
    printf("new mask: %d\n", signalfd(sfd, &only2, 0) == sfd);
    raise(SIGUSR1);
    printf("other signal: readable %d read %zd EAGAIN %d\n", readable(sfd), read(sfd, si, sizeof si),
           errno == EAGAIN);
    sigset_t pend;
    sigpending(&pend);
    printf("SIGUSR1 pending: %d\n", sigismember(&pend, SIGUSR1));
    raise(SIGUSR2);
    int d = dup(sfd);
    close(sfd);
    n = read(d, si, sizeof si);
    printf("through dup: %zd signo SIGUSR2 %d code SI_TKILL %d\n", n, si[0].ssi_signo == SIGUSR2,
           si[0].ssi_code == SI_TKILL);
    raise(SIGUSR2);
    char half1[64], half2[64];
    struct iovec iv[2] = {{half1, 64}, {half2, 64}};
    n = readv(d, iv, 2);
    struct signalfd_siginfo whole;
    memcpy(&whole, half1, 64);
    memcpy((char *)&whole + 64, half2, 64);
    printf("readv: %zd signo SIGUSR2 %d\n", n, whole.ssi_signo == SIGUSR2);
    printf("not a signalfd: %d EINVAL %d\n", signalfd(ep, &only2, 0), errno == EINVAL);
    printf("bad flags: %d EINVAL %d\n", signalfd(-1, &only2, 0x1234), errno == EINVAL);

    // Blocking read: a timer's SIGALRM arrives from the host.
    int bfd = signalfd(-1, &m, 0);
    sigset_t clear;
    sigemptyset(&clear);
    sigaddset(&clear, SIGUSR1);
    struct timespec zero = {0, 0};
    sigtimedwait(&clear, NULL, &zero);
    struct itimerval it = {.it_value = {0, 20000}};
    setitimer(ITIMER_REAL, &it, NULL);
    n = read(bfd, si, sizeof si);
    printf("blocking read: %zd signo SIGALRM %d code SI_KERNEL %d\n", n, si[0].ssi_signo == SIGALRM,
           si[0].ssi_code == SI_KERNEL);
    // poll wakes for a timer signal too.
    setitimer(ITIMER_REAL, &it, NULL);
    struct pollfd p = {.fd = bfd, .events = POLLIN};
    printf("poll woken: %d revents %d\n", poll(&p, 1, 5000), p.revents);
    n = read(bfd, si, sizeof si);
    printf("then read: %zd SIGALRM %d\n", n, si[0].ssi_signo == SIGALRM);
    return 0;
}
