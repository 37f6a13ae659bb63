// Waits across threads: a thread blocked in epoll_wait is woken by an
// eventfd write from another, a timerfd fires into a waiting thread, a
// thread blocked in ppoll on a pipe wakes when another writes, and a
// thread reading a signalfd gets a signal another thread sends it.
//@ cflags: -pthread
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static int ep, efd, tfd, pipefd[2], sfd;
static volatile pid_t reader_tid;

static void nap(long ms) {
    struct timespec t = {0, ms * 1000000};
    nanosleep(&t, NULL);
}

static void *waiter(void *arg) {
    (void)arg;
    struct epoll_event out[2];
    int n = epoll_wait(ep, out, 2, 5000);
    uint64_t v = 0;
    read(efd, &v, 8);
    printf("epoll waiter: %d event(s), data %llu, value %llu\n", n,
           (unsigned long long)out[0].data.u64, (unsigned long long)v);
    n = epoll_wait(ep, out, 2, 5000);
    read(tfd, &v, 8);
    printf("timer waiter: %d event(s), data %llu, expirations %llu\n", n,
           (unsigned long long)out[0].data.u64, (unsigned long long)v);
    return NULL;
}

static void *poller(void *arg) {
    (void)arg;
    struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
    int n = ppoll(&p, 1, NULL, NULL);
    char c = 0;
    read(pipefd[0], &c, 1);
    printf("ppoll waiter: %d revents %d byte %c\n", n, p.revents, c);
    return NULL;
}

static void *sigreader(void *arg) {
    (void)arg;
    reader_tid = gettid();
    struct signalfd_siginfo si;
    ssize_t n = read(sfd, &si, sizeof si);
    printf("signalfd reader: %zd bytes, SIGUSR1 %d, from this process %d\n", n,
           si.ssi_signo == SIGUSR1, si.ssi_pid == (uint32_t)getpid());
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    ep = epoll_create1(0);
    efd = eventfd(0, EFD_NONBLOCK);
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1};
    epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
    ev.data.u64 = 2;
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
    pthread_t t;
    pthread_create(&t, NULL, waiter, NULL);
    nap(30);
    uint64_t one = 7;
    write(efd, &one, 8);
    nap(30);
    struct itimerspec its = {.it_value = {0, 20 * 1000 * 1000}};
    timerfd_settime(tfd, 0, &its, NULL);
    pthread_join(t, NULL);

    pipe(pipefd);
    pthread_create(&t, NULL, poller, NULL);
    nap(30);
    write(pipefd[1], "x", 1);
    pthread_join(t, NULL);

    // Every thread blocks SIGUSR1 (the mask is inherited); the reader
    // thread takes it from its signalfd.
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &m, NULL);
    sfd = signalfd(-1, &m, 0);
    pthread_create(&t, NULL, sigreader, NULL);
    while (!reader_tid) nap(1);
    nap(30);
    syscall(SYS_tgkill, getpid(), reader_tid, SIGUSR1);
    pthread_join(t, NULL);
    return 0;
}
