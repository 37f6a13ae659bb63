// sig_timer_nosleep's periodic 20 us timer (no SA_RESTART; longer on a
// slow host: sig_period.h), now with the socket calls that could sleep but
// find what they wait for ready: an AF_UNIX stream connect to a listener
// with room in its backlog, and accept4 of a connection already queued
// (AF_UNIX and loopback TCP). Linux answers each without sleeping, so
// never with EINTR. A blocking TCP connect does sleep (the handshake ends
// after the call has looked for a signal), so it may fail with EINTR; the
// connection goes on all the same, and the program sees Linux's state
// machine: POLLOUT, SO_ERROR 0, a connect again 0 (at most once), then
// EISCONN.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sig_period.h"

static volatile long hits;
static void on_alarm(int s) { (void)s; hits++; }

// Close without TIME_WAIT (an RST): thousands of rounds must not use up
// the loopback's ports.
static void drop(int s) {
    if (s < 0)
        return;
    struct linger l = {1, 0};
    setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(s);
}

// Wait for `events` on `fd` (a handler may end each poll early), at most
// about 2 s: 1 when they came.
static int await_ready(int fd, short events) {
    struct timespec end, now;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += 2;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events};
        if (poll(&p, 1, 100) > 0)
            return 1;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec > end.tv_nsec))
            return 0;
    }
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; // no SA_RESTART
    sigaction(SIGALRM, &sa, NULL);
    timer_t t;
    if (timer_create(CLOCK_MONOTONIC, NULL, &t))
        return 1;
    // An abstract AF_UNIX name: nothing to clean up.
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path + 1, sizeof un.sun_path - 1, "pvm-nosleep-%d", getpid());
    socklen_t unlen = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(un.sun_path + 1);
    int ul = socket(AF_UNIX, SOCK_STREAM, 0);
    if (ul < 0 || bind(ul, (struct sockaddr *)&un, unlen) || listen(ul, 16))
        return 2;
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t inlen = sizeof in;
    int tl = socket(AF_INET, SOCK_STREAM, 0);
    if (tl < 0 || bind(tl, (struct sockaddr *)&in, sizeof in) || listen(tl, 16) ||
        getsockname(tl, (struct sockaddr *)&in, &inlen))
        return 3;
    long period = sig_timer_period_ns(SIGALRM);
    hits = 0;
    struct itimerspec v = {{0, period}, {0, period}};
    timer_settime(t, 0, &v, NULL);
    long eintr[3] = {0}, wrong = 0, tcp_eintr = 0, tcp_wrong = 0;
    const int n = 1000;
    for (int i = 0; i < n; i++) {
        // AF_UNIX: the connect is queued at once, the accept finds it.
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        int r = connect(c, (struct sockaddr *)&un, unlen);
        if (r < 0 && errno == EINTR) {
            eintr[0]++;
            close(c);
            continue;
        } else if (r != 0)
            wrong++;
        int a = accept4(ul, NULL, NULL, SOCK_CLOEXEC);
        if (a < 0 && errno == EINTR)
            eintr[1]++;
        else if (a < 0)
            wrong++;
        else
            close(a);
        close(c);
        // Loopback TCP: a blocking connect, then the accept of what it
        // queued.
        c = socket(AF_INET, SOCK_STREAM, 0);
        r = connect(c, (struct sockaddr *)&in, sizeof in);
        if (r < 0 && errno == EINTR) {
            // It goes on: wait for it as Linux's connect(2) says.
            tcp_eintr++;
            int err = -1;
            socklen_t el = sizeof err;
            if (!await_ready(c, POLLOUT) || getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el) || err != 0)
                tcp_wrong++;
            // Connected: a connect again is 0 at most once, then EISCONN.
            r = connect(c, (struct sockaddr *)&in, sizeof in);
            if (r == 0)
                r = connect(c, (struct sockaddr *)&in, sizeof in);
            if (!(r < 0 && errno == EISCONN))
                tcp_wrong++;
        } else if (r != 0)
            tcp_wrong++;
        if (!await_ready(tl, POLLIN)) {
            // Nothing was queued (a connect Linux made was not made).
            tcp_wrong++;
            drop(c);
            continue;
        }
        a = accept4(tl, NULL, NULL, SOCK_CLOEXEC);
        if (a < 0 && errno == EINTR)
            eintr[2]++;
        else if (a < 0)
            wrong++;
        else
            drop(a);
        drop(c);
    }
    struct itimerspec off = {{0, 0}, {0, 0}};
    timer_settime(t, 0, &off, NULL);
    printf("EINTR: AF_UNIX connect %ld, AF_UNIX accept4 %ld, TCP accept4 %ld; wrong %ld\n",
           eintr[0], eintr[1], eintr[2], wrong);
    // Whether a TCP connect saw EINTR depends on timing: not printed.
    (void)tcp_eintr;
    printf("TCP connect: 0, or EINTR then Linux's states: %s\n", tcp_wrong == 0 ? "yes" : "no");
    printf("the timer fired: %s\n", hits > 0 ? "yes" : "no");
    return 0;
}
