// fork and wait in every status form: exit codes, death by a signal (sent
// by the parent, raised by a fault, abort), stopped and continued
// (WUNTRACED, WCONTINUED), WNOHANG, waitid with its siginfo, wait4's
// rusage, ECHILD; the child's memory is a copy; getppid; a grandchild.
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int global = 1;

static void show(const char *what, int st) {
    if (WIFEXITED(st))
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("%s: killed by %s%s\n", what, strsignal(WTERMSIG(st)),
               WCOREDUMP(st) ? " (core)" : "");
    else if (WIFSTOPPED(st))
        printf("%s: stopped by %s\n", what, strsignal(WSTOPSIG(st)));
    else if (WIFCONTINUED(st))
        printf("%s: continued\n", what);
}

static pid_t spawn_exit(int code) {
    pid_t p = fork();
    if (p == 0)
        _exit(code);
    return p;
}

static void nap(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t me = getpid();
    int st;

    // Exit codes, and the child's memory is its own.
    pid_t p = fork();
    if (p == 0) {
        // The child reports through its exit status (7: all well), so the
        // output does not depend on who runs first.
        global = 42;
        int ok = global == 42 && getppid() == me && getpid() != me;
        // glibc keeps working in the child (its locks, its tid).
        pthread_mutex_t m;
        pthread_mutexattr_t a;
        pthread_mutexattr_init(&a);
        pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
        pthread_mutex_init(&m, &a);
        int r1 = pthread_mutex_lock(&m), r2 = pthread_mutex_lock(&m);
        ok = ok && r1 == 0 && r2 == EDEADLK;
        void *big = malloc(1 << 20);
        exit(ok && big ? 7 : 1);
    }
    printf("fork returned a pid: %s\n", p > 0 && p != me ? "yes" : "no");
    printf("waitpid: same pid %s\n", waitpid(p, &st, 0) == p ? "yes" : "no");
    show("exit 7", st);
    printf("parent: global %d\n", global);

    p = spawn_exit(255);
    waitpid(p, &st, 0);
    show("exit 255", st);
    p = spawn_exit(0);
    wait(&st);
    show("exit 0 (wait)", st);

    // Killed by the parent.
    p = fork();
    if (p == 0) {
        for (;;)
            pause();
    }
    kill(p, SIGTERM);
    waitpid(p, &st, 0);
    show("SIGTERM", st);

    // Killed by its own fault, and by abort().
    p = fork();
    if (p == 0) {
        int *volatile bad = (int *)8;
        *bad = 1;
        _exit(0);
    }
    waitpid(p, &st, 0);
    show("fault", st);
    p = fork();
    if (p == 0)
        abort();
    waitpid(p, &st, 0);
    show("abort", st);

    // Stopped and continued.
    p = fork();
    if (p == 0) {
        for (;;)
            pause();
    }
    kill(p, SIGSTOP);
    printf("stopped: same pid %s\n", waitpid(p, &st, WUNTRACED) == p ? "yes" : "no");
    show("SIGSTOP", st);
    kill(p, SIGCONT);
    waitpid(p, &st, WCONTINUED);
    show("SIGCONT", st);
    kill(p, SIGKILL);
    waitpid(p, &st, 0);
    show("SIGKILL", st);

    // WNOHANG: nothing yet, then the exit.
    int fds[2];
    pipe(fds);
    p = fork();
    if (p == 0) {
        char c;
        read(fds[0], &c, 1);
        _exit(3);
    }
    printf("WNOHANG while running: %d\n", waitpid(p, &st, WNOHANG));
    write(fds[1], "x", 1);
    int r;
    while ((r = waitpid(p, &st, WNOHANG)) == 0)
        nap(5);
    printf("WNOHANG after exit: same pid %s\n", r == p ? "yes" : "no");
    show("exit 3", st);

    // waitid with P_PID and P_ALL, WNOWAIT then the real wait.
    p = spawn_exit(9);
    siginfo_t si;
    memset(&si, 0xff, sizeof si);
    waitid(P_PID, p, &si, WEXITED | WNOWAIT);
    printf("waitid WNOWAIT: signo %d code %s pid ok %s status %d\n", si.si_signo,
           si.si_code == CLD_EXITED ? "CLD_EXITED" : "?", si.si_pid == p ? "yes" : "no",
           si.si_status);
    memset(&si, 0, sizeof si);
    waitid(P_ALL, 0, &si, WEXITED);
    printf("waitid P_ALL: pid ok %s status %d\n", si.si_pid == p ? "yes" : "no", si.si_status);
    p = fork();
    if (p == 0) {
        for (;;)
            pause();
    }
    memset(&si, 0xff, sizeof si);
    printf("waitid WNOHANG: %d", waitid(P_PID, p, &si, WEXITED | WNOHANG));
    printf(" pid %d signo %d\n", si.si_pid, si.si_signo);
    kill(p, SIGUSR1);
    waitid(P_PID, p, &si, WEXITED);
    printf("waitid killed: code %s status %s\n", si.si_code == CLD_KILLED ? "CLD_KILLED" : "?",
           strsignal(si.si_status));

    // wait4 with rusage.
    p = fork();
    if (p == 0) {
        volatile unsigned long x = 0;
        for (unsigned long i = 0; i < 20000000; i++)
            x += i;
        _exit(0);
    }
    struct rusage ru;
    memset(&ru, 0xff, sizeof ru);
    printf("wait4: same pid %s", wait4(p, &st, 0, &ru) == p ? "yes" : "no");
    printf(", rusage sane %s\n",
           ru.ru_utime.tv_usec >= 0 && ru.ru_utime.tv_usec < 1000000 && ru.ru_maxrss > 0 ? "yes"
                                                                                          : "no");

    // The children waited for count in RUSAGE_CHILDREN.
    struct rusage kids;
    getrusage(RUSAGE_CHILDREN, &kids);
    printf("RUSAGE_CHILDREN counts their CPU time: %s\n",
           kids.ru_utime.tv_sec + kids.ru_utime.tv_usec + kids.ru_stime.tv_sec +
                       kids.ru_stime.tv_usec > 0
               ? "yes"
               : "no");

    // A grandchild: its parent is the child.
    p = fork();
    if (p == 0) {
        pid_t child = getpid();
        pid_t g = fork();
        if (g == 0)
            _exit(getppid() == child ? 11 : 12);
        waitpid(g, &st, 0);
        _exit(WEXITSTATUS(st));
    }
    waitpid(p, &st, 0);
    show("grandchild's parent is the child (11)", st);

    // Nothing left.
    errno = 0;
    printf("wait with no child: %d %s\n", wait(&st), errno == ECHILD ? "ECHILD" : "?");
    printf("waitpid bad options: %s\n",
           waitpid(-1, &st, 0x1000) < 0 && errno == EINVAL ? "EINVAL" : "?");
    return 0;
}
