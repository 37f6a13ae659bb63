// A periodic timer's handler (no SA_RESTART) fires every 20 us (longer on
// a slow host: sig_period.h) while the program makes calls that could
// sleep but find what they wait for ready: epoll_wait on a ready eventfd,
// flock and fcntl(F_SETLKW) locks nobody else holds, and a futex wait
// whose word has already changed. Linux answers each without sleeping (the
// events, the lock, EAGAIN), so never with EINTR, however often the signal
// comes.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sig_period.h"

static volatile long hits;
static void on_alarm(int s) { (void)s; hits++; }

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; // no SA_RESTART
    sigaction(SIGALRM, &sa, NULL);
    timer_t t;
    if (timer_create(CLOCK_MONOTONIC, NULL, &t))
        return 1;
    int f = open("sig_timer_nosleep.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    int ev = eventfd(1, 0);
    int ep = epoll_create1(0);
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = 7};
    if (f < 0 || ev < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e))
        return 2;
    unlink("sig_timer_nosleep.tmp");
    unsigned word = 1;
    long period = sig_timer_period_ns(SIGALRM);
    hits = 0;
    struct itimerspec v = {{0, period}, {0, period}};
    timer_settime(t, 0, &v, NULL);
    long eintr[5] = {0}, wrong = 0;
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        struct epoll_event out;
        int r = epoll_wait(ep, &out, 1, -1);
        if (r < 0 && errno == EINTR)
            eintr[0]++;
        else if (r != 1 || out.data.u64 != 7)
            wrong++;
        r = flock(f, LOCK_EX);
        if (r < 0 && errno == EINTR)
            eintr[1]++;
        else if (r != 0 || flock(f, LOCK_UN) != 0)
            wrong++;
        struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
        r = fcntl(f, F_SETLKW, &l);
        if (r < 0 && errno == EINTR)
            eintr[2]++;
        else if (r != 0)
            wrong++;
        l.l_type = F_UNLCK;
        fcntl(f, F_SETLK, &l);
        struct flock o = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 4, .l_len = 1};
        r = fcntl(f, F_OFD_SETLKW, &o);
        if (r < 0 && errno == EINTR)
            eintr[3]++;
        else if (r != 0)
            wrong++;
        o.l_type = F_UNLCK;
        fcntl(f, F_OFD_SETLK, &o);
        // The word is 1, the wait is for 0: EAGAIN before any sleep.
        r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
        if (r < 0 && errno == EINTR)
            eintr[4]++;
        else if (!(r < 0 && errno == EAGAIN))
            wrong++;
    }
    struct itimerspec off = {{0, 0}, {0, 0}};
    timer_settime(t, 0, &off, NULL);
    printf("EINTR: epoll_wait %ld, flock %ld, F_SETLKW %ld, F_OFD_SETLKW %ld, futex %ld; wrong %ld\n",
           eintr[0], eintr[1], eintr[2], eintr[3], eintr[4], wrong);
    printf("the timer fired: %s\n", hits > 0 ? "yes" : "no");
    return 0;
}
