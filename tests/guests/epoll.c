// epoll, eventfd and timerfd; the signal mask argument of epoll_pwait,
// ppoll and pselect.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static volatile int got;
static void on_usr1(int s) { (void)s; got++; }

static int blocked_usr1(void) {
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    return sigismember(&cur, SIGUSR1);
}

int main(void) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    printf("created: %d %d\n", ep >= 0, efd >= 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1122334455667788ull};
    printf("add: %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
    printf("add again: %d EEXIST %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev), errno == EEXIST);
    struct epoll_event out[4];
    memset(out, 0xab, sizeof out);
    printf("nothing ready: %d\n", epoll_wait(ep, out, 4, 0));
    uint64_t v = 3;
    printf("eventfd write: %zd\n", write(efd, &v, 8));
    int n = epoll_wait(ep, out, 4, 1000);
    printf("ready: %d events %#x data %#llx\n", n, out[0].events,
           (unsigned long long)out[0].data.u64);
    v = 0;
    printf("eventfd read: %zd value %llu\n", read(efd, &v, 8), (unsigned long long)v);
    printf("again: %zd EAGAIN %d\n", read(efd, &v, 8), errno == EAGAIN);
    v = UINT64_MAX;
    printf("write max: %zd EINVAL %d\n", write(efd, &v, 8), errno == EINVAL);
    v = UINT64_MAX - 1;
    write(efd, &v, 8);
    v = 1;
    printf("overflow: %zd EAGAIN %d\n", write(efd, &v, 8), errno == EAGAIN);
    read(efd, &v, 8);

    int sem = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
    uint64_t a = 0, b = 0, c = 0;
    read(sem, &a, 8);
    read(sem, &b, 8);
    printf("semaphore: %llu %llu then %zd\n", (unsigned long long)a, (unsigned long long)b,
           read(sem, &c, 8));

    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct itimerspec its = {.it_value = {0, 20 * 1000 * 1000}};
    printf("settime: %d\n", timerfd_settime(tfd, 0, &its, NULL));
    struct itimerspec cur;
    timerfd_gettime(tfd, &cur);
    printf("gettime: armed %d within 20ms %d interval 0 %d\n",
           cur.it_value.tv_sec || cur.it_value.tv_nsec,
           cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec <= 20 * 1000 * 1000,
           cur.it_interval.tv_sec == 0 && cur.it_interval.tv_nsec == 0);
    ev.events = EPOLLIN;
    ev.data.fd = tfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
    ev.events = EPOLLIN | EPOLLET;
    ev.data.u64 = 77;
    printf("mod: %d\n", epoll_ctl(ep, EPOLL_CTL_MOD, efd, &ev));
    n = epoll_wait(ep, out, 4, 2000);
    printf("timer fired: %d fd matches %d\n", n, n == 1 && out[0].data.fd == tfd);
    uint64_t exp = 0;
    printf("expirations: %zd %llu\n", read(tfd, &exp, 8), (unsigned long long)exp);
    printf("disarmed read: %zd EAGAIN %d\n", read(tfd, &exp, 8), errno == EAGAIN);
    its.it_value.tv_nsec = its.it_interval.tv_nsec = 5 * 1000 * 1000;
    timerfd_settime(tfd, 0, &its, NULL);
    struct timespec nap = {0, 40 * 1000 * 1000};
    nanosleep(&nap, NULL);
    read(tfd, &exp, 8);
    printf("periodic: at least 4 %d\n", exp >= 4);
    struct itimerspec old;
    memset(&its, 0, sizeof its);
    timerfd_settime(tfd, 0, &its, &old);
    printf("old interval 5ms: %d\n", old.it_interval.tv_nsec == 5 * 1000 * 1000);
    printf("del: %d\n", epoll_ctl(ep, EPOLL_CTL_DEL, tfd, NULL));
    printf("del again: %d ENOENT %d\n", epoll_ctl(ep, EPOLL_CTL_DEL, tfd, NULL), errno == ENOENT);
    printf("maxevents 0: %d EINVAL %d\n", epoll_wait(ep, out, 0, 0), errno == EINVAL);
    printf("bad fd: %d EBADF %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, 999, &ev), errno == EBADF);
    printf("timerfd bad clock: %d EINVAL %d\n", timerfd_create(12345, 0), errno == EINVAL);

    // The mask argument: SIGUSR1 is blocked and pending; each wait with
    // an empty mask ends at once with EINTR after its handler ran, and
    // the old mask is back afterwards.
    signal(SIGUSR1, on_usr1);
    sigset_t block, empty;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigemptyset(&empty);
    sigprocmask(SIG_BLOCK, &block, NULL);
    raise(SIGUSR1);
    n = epoll_pwait(ep, out, 4, 5000, &empty);
    printf("epoll_pwait: %d EINTR %d handled %d still blocked %d\n", n, errno == EINTR, got,
           blocked_usr1());
    raise(SIGUSR1);
    struct timespec ts = {5, 0};
    n = ppoll(NULL, 0, &ts, &empty);
    printf("ppoll: %d EINTR %d handled %d still blocked %d\n", n, errno == EINTR, got,
           blocked_usr1());
    raise(SIGUSR1);
    n = pselect(0, NULL, NULL, NULL, &ts, &empty);
    printf("pselect: %d EINTR %d handled %d still blocked %d\n", n, errno == EINTR, got,
           blocked_usr1());
    // A ready descriptor wins over the pending signal; it stays pending.
    raise(SIGUSR1);
    v = 1;
    write(efd, &v, 8);
    ev.events = EPOLLIN;
    ev.data.u64 = 5;
    epoll_ctl(ep, EPOLL_CTL_MOD, efd, &ev);
    n = epoll_pwait(ep, out, 4, 5000, &empty);
    printf("ready wins: %d handled %d\n", n, got);
    // Without a mask argument the blocked signal does not interrupt.
    n = epoll_pwait(ep, out, 4, 0, NULL);
    printf("no mask: %d handled %d\n", n, got);
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    printf("after unblock: handled %d\n", got);

    // select on the eventfd: readable and writable.
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(efd, &r);
    FD_SET(efd, &w);
    struct timeval tv = {1, 0};
    n = select(efd + 1, &r, &w, NULL, &tv);
    printf("select: %d r %d w %d\n", n, FD_ISSET(efd, &r) != 0, FD_ISSET(efd, &w) != 0);
    read(efd, &v, 8);
    FD_ZERO(&r);
    FD_SET(efd, &r);
    tv.tv_sec = 0;
    tv.tv_usec = 10000;
    n = select(efd + 1, &r, NULL, NULL, &tv);
    printf("select timeout: %d r %d left %ld\n", n, FD_ISSET(efd, &r) != 0, (long)tv.tv_usec);
    FD_ZERO(&r);
    FD_SET(40, &r);
    tv.tv_usec = 0;
    printf("select bad fd: %d EBADF %d\n", select(41, &r, NULL, NULL, &tv),
           errno == EBADF);
    return 0;
}
