// Time functions. Output shows only derived, deterministic properties.
//@ env: TZ=UTC
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

static double ts(struct timespec t) { return t.tv_sec + t.tv_nsec / 1e9; }

int main(void) {
    struct timespec a, b, r, m0, m1;
    clock_gettime(CLOCK_REALTIME, &r);
    time_t now = time(NULL);
    printf("realtime after 2020: %s\n", r.tv_sec > 1577836800 ? "yes" : "no");
    // time() reads the coarse clock, which may lag a tick behind: across
    // a second boundary it is one second behind.
    printf("time() matches realtime: %s\n", (now - r.tv_sec) <= 1 && (now - r.tv_sec) >= -1 ? "yes" : "no");
    struct timeval tv;
    gettimeofday(&tv, NULL);
    printf("gettimeofday close: %s\n", tv.tv_sec - r.tv_sec <= 1 ? "yes" : "no");
    clock_gettime(CLOCK_MONOTONIC, &m0);
    clock_gettime(CLOCK_MONOTONIC, &a);
    struct timespec d = {0, 20 * 1000 * 1000};
    printf("nanosleep: %d\n", nanosleep(&d, NULL));
    clock_gettime(CLOCK_MONOTONIC, &b);
    double dt = ts(b) - ts(a);
    printf("slept at least 20ms: %s\n", dt >= 0.0199 ? "yes" : "no");
    printf("slept less than 2s: %s\n", dt < 2 ? "yes" : "no");
    usleep(1000);
    clock_gettime(CLOCK_MONOTONIC, &m1);
    printf("monotonic advances: %s\n", ts(m1) > ts(m0) ? "yes" : "no");
    struct timespec res;
    printf("clock_getres ok: %d nonzero: %s\n", clock_getres(CLOCK_MONOTONIC, &res),
           res.tv_sec == 0 && res.tv_nsec > 0 ? "yes" : "no");
    struct timespec req = {0, 5 * 1000 * 1000};
    clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL);
    clock_gettime(CLOCK_MONOTONIC, &a);
    printf("clock_nanosleep advances: %s\n", ts(a) - ts(b) >= 0.0049 ? "yes" : "no");
    struct timespec cpu0, cpu1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
    volatile double x = 0;
    for (int i = 0; i < 3000000; i++) x += i * 0.5;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
    printf("cpu time advances: %s\n", ts(cpu1) > ts(cpu0) ? "yes" : "no");
    clock_t c = clock();
    printf("clock() nonnegative: %s\n", c >= 0 ? "yes" : "no");
    struct tms t;
    printf("times() ok: %s\n", times(&t) != (clock_t)-1 ? "yes" : "no");
    // Fixed timestamps convert deterministically.
    time_t fixed = 1700000000;
    struct tm g;
    gmtime_r(&fixed, &g);
    char buf[128];
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %A %j", &g);
    printf("gmtime: %s\n", buf);
    struct tm l;
    localtime_r(&fixed, &l);
    strftime(buf, sizeof buf, "%c %Z", &l);
    printf("localtime (TZ=UTC): %s\n", buf);
    struct tm in = {.tm_year = 124, .tm_mon = 1, .tm_mday = 29, .tm_hour = 12};
    printf("mktime 2024-02-29 12:00 UTC: %lld\n", (long long)mktime(&in));
    printf("difftime: %.1f\n", difftime(fixed + 90, fixed));
    printf("sysconf CLK_TCK: %ld\n", sysconf(_SC_CLK_TCK));
    return 0;
}
