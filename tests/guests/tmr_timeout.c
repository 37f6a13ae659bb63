// POSIX timers across processes, the way coreutils' `timeout` uses them: a
// CLOCK_REALTIME timer sends SIGALRM to the parent blocked in waitpid (its
// handler has no SA_RESTART, so waitpid fails with EINTR) and the handler
// kills the command with SIGTERM. A forked child does not inherit the
// parent's timers but may make its own. (execve: tmr_exec.)
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t child;
static volatile sig_atomic_t alarms;

static void cleanup(int sig) {
    (void)sig;
    alarms++;
    kill(child, SIGTERM);
}

static const char *err(int r) {
    if (r != -1)
        return "ok";
    return errno == EINVAL ? "EINVAL" : errno == EINTR ? "EINTR" : strerror(errno);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct itimerspec cur;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = cleanup;
    sigaction(SIGALRM, &sa, NULL);
    timer_t t;
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGALRM;
    printf("timer_create: %s\n", err(timer_create(CLOCK_REALTIME, &ev, &t)));
    int ready[2];
    pipe(ready);
    child = fork();
    if (child == 0) {
        printf("child: gettime of the parent's timer: %s\n", err(timer_gettime(t, &cur)));
        timer_t mine;
        printf("child: timer_create: %s\n", err(timer_create(CLOCK_MONOTONIC, NULL, &mine)));
        struct itimerspec v = {.it_value = {30, 0}};
        printf("child: settime: %s\n", err(timer_settime(mine, 0, &v, NULL)));
        write(ready[1], "r", 1);
        for (;;)
            pause();
    }
    char c;
    read(ready[0], &c, 1);
    struct itimerspec v = {.it_value = {0, 50 * 1000000}};
    timer_settime(t, 0, &v, NULL);
    int status;
    int r = waitpid(child, &status, 0);
    printf("waitpid: %s, SIGALRM handled: %d\n", err(r), alarms);
    if (r == -1)
        r = waitpid(child, &status, 0);
    printf("child killed by SIGTERM: %s\n",
           r == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM ? "yes" : "no");
    return 0;
}
