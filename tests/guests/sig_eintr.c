// A host signal cuts blocking calls short as Linux decides: without
// SA_RESTART nanosleep, pause and read fail with EINTR (nanosleep reports
// the time left); with SA_RESTART the read runs again and gets the byte the
// handler wrote; nanosleep is never restarted after a handler.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int fds[2];
static volatile sig_atomic_t ran;

static void on_alarm(int sig) {
    (void)sig;
    ran++;
    char c = 'x';
    if (write(fds[1], &c, 1) != 1)
        _exit(3);
}

static void arm(int usec) {
    struct itimerval it = {{0, 0}, {0, usec}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static void handler(int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = flags;
    sigaction(SIGALRM, &sa, NULL);
}

int main(void) {
    if (pipe(fds) != 0)
        return 1;
    char c;
    handler(0);

    arm(100000);
    struct timespec req = {5, 0}, rem = {0, 0};
    int r = nanosleep(&req, &rem);
    printf("nanosleep: %d %s rem in (0,5): %s ran=%d\n", r, strerror(errno),
           rem.tv_sec < 5 && (rem.tv_sec > 0 || rem.tv_nsec > 0) ? "yes" : "no", ran);
    read(fds[0], &c, 1);

    arm(100000);
    errno = 0;
    r = pause();
    printf("pause: %d %s ran=%d\n", r, strerror(errno), ran);
    read(fds[0], &c, 1);

    // No SA_RESTART: the read of an empty pipe fails, the byte the handler
    // wrote is still there afterwards.
    arm(100000);
    errno = 0;
    r = read(fds[0], &c, 1);
    printf("read: %d %s ran=%d\n", r, strerror(errno), ran);
    r = read(fds[0], &c, 1);
    printf("then read: %d %c\n", r, c);

    // SA_RESTART: the read goes on and returns the handler's byte.
    handler(SA_RESTART);
    arm(100000);
    errno = 0;
    c = 0;
    r = read(fds[0], &c, 1);
    printf("restarted read: %d %c errno=%d ran=%d\n", r, c, errno, ran);

    // ... but nanosleep still fails.
    arm(100000);
    r = nanosleep(&req, NULL);
    printf("nanosleep with SA_RESTART: %d %s ran=%d\n", r, strerror(errno), ran);
    return 0;
}
