// A periodic timer's handler (no SA_RESTART) fires every 20 us (longer on
// a slow host: sig_period.h) while the program writes to a regular file,
// to /dev/null and to a pipe that has room, and reads the pipe back: none
// of these calls would sleep, so Linux never fails them with EINTR,
// however often the signal comes, and nothing written is lost (pvm once
// made such a call fail when the signal came just before it: a printf's
// buffered line went missing).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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
    long period = sig_timer_period_ns(SIGALRM);
    hits = 0;
    struct itimerspec v = {{0, period}, {0, period}};
    int f = open("sig_timer_io.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    int null = open("/dev/null", O_WRONLY);
    int p[2];
    if (f < 0 || null < 0 || pipe(p))
        return 2;
    unlink("sig_timer_io.tmp");
    timer_settime(t, 0, &v, NULL);
    const char line[] = "0123456789abcdef";
    long eintr[4] = {0}, short_io = 0;
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        char back[16];
        long r[4] = {write(f, line, 16), write(null, line, 16), write(p[1], line, 16), 0};
        for (int k = 0; k < 3; k++)
            if (r[k] < 0 && errno == EINTR)
                eintr[k]++;
        r[3] = read(p[0], back, 16);
        if (r[3] < 0 && errno == EINTR)
            eintr[3]++;
        for (int k = 0; k < 4; k++)
            if (r[k] >= 0 && r[k] != 16)
                short_io++;
    }
    struct itimerspec off = {{0, 0}, {0, 0}};
    timer_settime(t, 0, &off, NULL);
    struct stat st;
    fstat(f, &st);
    printf("EINTR: file %ld, /dev/null %ld, pipe write %ld, pipe read %ld; short %ld\n", eintr[0],
           eintr[1], eintr[2], eintr[3], short_io);
    printf("file size right: %s; the timer fired: %s\n", st.st_size == 16L * n ? "yes" : "no",
           hits > 0 ? "yes" : "no");
    return 0;
}
