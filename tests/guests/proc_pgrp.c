// Process groups and sessions (setpgid, getpgid, getpgrp, setsid, getsid),
// kill to a whole group and to one process, kill(pid, 0), ESRCH and
// errors, tcgetpgrp on a non-terminal, the parent-death signal, and
// SIGCHLD: a handler with its siginfo, sigsuspend until it comes, and
// SIG_IGN reaping children by itself (SA_NOCLDSTOP: proc_nocldstop.c).
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *what, int st) {
    if (WIFEXITED(st))
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("%s: killed by %s\n", what, strsignal(WTERMSIG(st)));
    else if (WIFSTOPPED(st))
        printf("%s: stopped by %s\n", what, strsignal(WSTOPSIG(st)));
}

static volatile sig_atomic_t chld_count, chld_code, chld_status, chld_pid_ok;
static volatile pid_t expect_pid;

static void on_chld(int s, siginfo_t *si, void *uc) {
    (void)s, (void)uc;
    chld_count++;
    chld_code = si->si_code;
    chld_status = si->si_status;
    chld_pid_ok = si->si_pid == expect_pid;
}

static void on_usr1(int s) {
    (void)s;
    write(1, "  child: got SIGUSR1\n", 21);
    _exit(4);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int st;
    pid_t me = getpid();
    printf("getpgrp is getpgid(0): %s\n", getpgrp() == getpgid(0) ? "yes" : "no");
    printf("getsid(0) is getsid(me): %s\n", getsid(0) == getsid(me) ? "yes" : "no");

    // A group of three sleeping children, killed together.
    pid_t kids[3];
    int ready[2];
    pipe(ready);
    for (int i = 0; i < 3; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            setpgid(0, i == 0 ? 0 : kids[0]);
            write(ready[1], "r", 1);
            for (;;)
                pause();
        }
        // Both sides set the group, as shells do, so neither races.
        setpgid(kids[i], kids[0]);
    }
    char c;
    for (int i = 0; i < 3; i++)
        read(ready[0], &c, 1);
    int same = 1;
    for (int i = 0; i < 3; i++)
        same &= getpgid(kids[i]) == kids[0];
    printf("children share group %s, not ours %s\n", same ? "yes" : "no",
           getpgid(kids[0]) != getpgrp() ? "yes" : "no");
    printf("kill(pid, 0): %d\n", kill(kids[1], 0));
    printf("kill(-pgid, SIGTERM): %d\n", kill(-kids[0], SIGTERM));
    for (int i = 0; i < 3; i++) {
        waitpid(kids[i], &st, 0);
        show("  group member", st);
    }
    int r = kill(kids[0], SIGTERM);
    printf("kill of a reaped child: %d %s\n", r, strerror(errno));
    r = getpgid(kids[0]);
    printf("getpgid of a reaped child: %d %s\n", r, strerror(errno));
    r = setpgid(1, 1);
    printf("setpgid of a stranger: %d %s\n", r, strerror(errno));

    // A signal to one process, handled there.
    pid_t p = fork();
    if (p == 0) {
        signal(SIGUSR1, on_usr1);
        write(ready[1], "r", 1);
        for (;;)
            pause();
    }
    read(ready[0], &c, 1);
    kill(p, SIGUSR1);
    waitpid(p, &st, 0);
    show("handled SIGUSR1", st);

    // A session of its own.
    p = fork();
    if (p == 0) {
        pid_t s = setsid();
        int ok = s == getpid() && getsid(0) == s && getpgrp() == s;
        errno = 0;
        int again = setsid();
        _exit(ok && again == -1 && errno == EPERM ? 0 : 1);
    }
    waitpid(p, &st, 0);
    show("setsid in a child (0: new session, second EPERM)", st);
    if (getpgrp() == me) {
        r = setsid();
        printf("setsid as a group leader: %d %s\n", r, strerror(errno));
    } else {
        printf("setsid as a group leader: not a leader\n");
    }
    r = tcgetpgrp(ready[0]);
    printf("tcgetpgrp of a pipe: %d %s\n", r, strerror(errno));

    // The parent-death signal: a grandchild learns that its parent died.
    // The parent waits until the grandchild has asked for the signal
    // (armed), else under load it could exit first and no signal comes.
    int pipe2fd[2], armed[2];
    pipe(pipe2fd);
    pipe(armed);
    p = fork();
    if (p == 0) {
        pid_t g = fork();
        if (g == 0) {
            signal(SIGUSR2, SIG_DFL);
            prctl(PR_SET_PDEATHSIG, SIGHUP);
            int v = 0;
            prctl(PR_GET_PDEATHSIG, &v);
            char msg[64];
            int n = snprintf(msg, sizeof msg, "  grandchild: pdeathsig %s\n", strsignal(v));
            write(pipe2fd[1], msg, n);
            struct sigaction sa = {0};
            sa.sa_handler = SIG_DFL;
            sigaction(SIGHUP, &sa, NULL);
            write(armed[1], "a", 1);
            for (;;)
                pause();
        }
        read(armed[0], &c, 1);
        _exit(0);
    }
    close(pipe2fd[1]);
    close(armed[0]);
    close(armed[1]);
    char msg[64];
    int n = read(pipe2fd[0], msg, sizeof msg);
    fwrite(msg, 1, n, stdout);
    waitpid(p, &st, 0);
    // The grandchild dies of SIGHUP when its parent exits; its pipe end
    // closes then.
    n = read(pipe2fd[0], msg, sizeof msg);
    printf("grandchild gone after its parent: %s\n", n == 0 ? "yes" : "no");

    // SIGCHLD with a handler.
    struct sigaction sa = {0};
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    sigset_t blk, old;
    sigemptyset(&blk);
    sigaddset(&blk, SIGCHLD);
    sigprocmask(SIG_BLOCK, &blk, &old);
    p = fork();
    if (p == 0)
        _exit(12);
    expect_pid = p;
    while (chld_count == 0)
        sigsuspend(&old);
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("SIGCHLD: count %d code %s status %d pid ok %s\n", chld_count,
           chld_code == CLD_EXITED ? "CLD_EXITED" : "?", chld_status, chld_pid_ok ? "yes" : "no");
    waitpid(p, &st, 0);
    show("  reaped", st);

    // A child killed by a signal.
    chld_count = 0;
    sigprocmask(SIG_BLOCK, &blk, &old);
    p = fork();
    if (p == 0) {
        // A shell starts background jobs with SIGINT ignored, and the
        // child would inherit that: make the default action sure.
        // Only then is the parent told to send it: a SIGINT that came
        // while it was still ignored would be lost, and the wait below
        // would never end.
        signal(SIGINT, SIG_DFL);
        write(ready[1], "r", 1);
        for (;;)
            pause();
    }
    expect_pid = p;
    read(ready[0], &c, 1);
    kill(p, SIGINT);
    while (chld_count == 0)
        sigsuspend(&old);
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("SIGCHLD: code %s status %s\n", chld_code == CLD_KILLED ? "CLD_KILLED" : "?",
           strsignal(chld_status));
    waitpid(p, &st, 0);

    // SIGCHLD ignored: children reap themselves, wait finds none.
    signal(SIGCHLD, SIG_IGN);
    p = fork();
    if (p == 0)
        _exit(0);
    r = waitpid(p, &st, 0);
    printf("wait with SIGCHLD ignored: %d %s\n", r, strerror(errno));
    return 0;
}
