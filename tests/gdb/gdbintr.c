// The GDB stub test's interrupt guest (xtask/src/gdbtest.rs): gdb's
// Ctrl-C while the guest blocks in a system call (a read of stdin, a
// sleep, a futex wait with another thread reading) stops it, and
// continuing resumes the call as if never interrupted.
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char line2[32];
static ssize_t n2;

static void *reader(void *arg) {
    n2 = read(0, line2, sizeof line2);
    return arg;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(void) {
    char buf[32];
    printf("reading\n");
    fflush(stdout);
    ssize_t n = read(0, buf, sizeof buf);  // interrupted by gdb, restarted
    printf("read %zd %.*s\n", n, n > 0 ? (int)n - 1 : 0, buf);
    printf("sleeping\n");
    fflush(stdout);
    double t0 = now();
    struct timespec d = {2, 500000000};
    int r = nanosleep(&d, 0);  // interrupted by gdb, sleeps on to the end
    double dt = now() - t0;
    printf("slept %d %s\n", r, dt >= 2.5 ? "long enough" : "too short");
    printf("waiting\n");
    fflush(stdout);
    pthread_t t;
    pthread_create(&t, 0, reader, 0);
    pthread_join(t, 0);  // both wait when gdb interrupts
    printf("thread read %zd %.*s\n", n2, n2 > 0 ? (int)n2 - 1 : 0, line2);
    return 5;
}
