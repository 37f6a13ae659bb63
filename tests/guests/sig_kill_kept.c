// Signals another process sends with kill, to one process, to a group and
// with kill(0), and with tgkill, sigqueue and pidfd_send_signal, for the
// signals pvm keeps on the host for itself (SIGPIPE, which it ignores
// there, and the fault signals, which its fault handler owns): the
// receiver's handler must see them with the sender's siginfo (si_code
// SI_USER, SI_TKILL or SI_QUEUE, si_pid, si_value), as on Linux.
//@ no-qemu: qemu-user loses the fault signals another process sends (its children see none)
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t seen[65], code[65], from[65], value[65];

static void on_sig(int s, siginfo_t *si, void *uc) {
    (void)uc;
    seen[s]++;
    code[s] = si->si_code;
    from[s] = si->si_pid;
    value[s] = si->si_code == SI_QUEUE ? si->si_value.sival_int : -1;
}

static const int sigs[] = {SIGPIPE, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS};
#define NSIGS (int)(sizeof sigs / sizeof sigs[0])

static const char *code_name(int c) {
    switch (c) {
    case SI_USER:
        return "SI_USER";
    case SI_TKILL:
        return "SI_TKILL";
    case SI_QUEUE:
        return "SI_QUEUE";
    default:
        return "other";
    }
}

// What this process saw since the last report, one line, then forget it.
static void describe(char *out, size_t n, pid_t sender) {
    size_t at = 0;
    out[0] = 0;
    for (int i = 0; i < NSIGS; i++) {
        int s = sigs[i];
        if (!seen[s])
            continue;
        at += snprintf(out + at, n - at, " %s x%d %s from %s", sigabbrev_np(s), (int)seen[s],
                       code_name(code[s]), from[s] == sender ? "sender" : "someone else");
        if (value[s] >= 0)
            at += snprintf(out + at, n - at, " value %d", (int)value[s]);
        seen[s] = 0;
    }
    if (!at)
        snprintf(out, n, " nothing");
}

struct kid {
    pid_t pid;
    int cmd, rep;
};

// A child that waits for commands: each byte asks for a report of what
// it saw (the signals sent before the byte are there by then).
static struct kid spawn(int own_group) {
    int c[2], r[2];
    pipe(c);
    pipe(r);
    pid_t p = fork();
    if (p == 0) {
        if (own_group)
            setpgid(0, 0);
        close(c[1]);
        close(r[0]);
        pid_t parent = getppid();
        write(r[1], "r", 1);
        char b;
        while (read(c[0], &b, 1) == 1 && b == '?') {
            char line[512];
            describe(line, sizeof line, parent);
            write(r[1], line, strlen(line) + 1);
        }
        _exit(0);
    }
    if (own_group)
        setpgid(p, p);
    close(c[0]);
    close(r[1]);
    char b;
    read(r[0], &b, 1);
    return (struct kid){p, c[1], r[0]};
}

static void report(const char *what, struct kid k) {
    char line[512];
    write(k.cmd, "?", 1);
    size_t n = 0;
    while (n < sizeof line && read(k.rep, line + n, 1) == 1 && line[n])
        n++;
    line[n < sizeof line ? n : sizeof line - 1] = 0;
    printf("%s:%s\n", what, line);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    // A group of our own: kill(0) must reach this tree only.
    if (getpgrp() != getpid())
        setpgid(0, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    for (int i = 0; i < NSIGS; i++)
        sigaction(sigs[i], &sa, NULL);

    struct kid a = spawn(0), g = spawn(1);
    for (int i = 0; i < NSIGS; i++)
        printf("kill(child, %s): %d\n", sigabbrev_np(sigs[i]), kill(a.pid, sigs[i]));
    report("  child saw", a);
    report("  other child saw", g);

    printf("kill(-pgid, SIGSEGV), kill(-pgid, SIGPIPE): %d %d\n", kill(-g.pid, SIGSEGV),
           kill(-g.pid, SIGPIPE));
    report("  group member saw", g);
    report("  child outside the group saw", a);

    printf("kill(0, SIGBUS), kill(0, SIGPIPE): %d %d\n", kill(0, SIGBUS), kill(0, SIGPIPE));
    report("  child in our group saw", a);
    report("  child in its own group saw", g);
    char line[512];
    describe(line, sizeof line, getpid());
    printf("  we saw:%s\n", line);

    printf("tgkill(child, child, SIGSEGV): %d\n", (int)syscall(SYS_tgkill, a.pid, a.pid, SIGSEGV));
    union sigval v = {.sival_int = 42};
    printf("sigqueue(child, SIGBUS, 42): %d\n", sigqueue(a.pid, SIGBUS, v));
    int fd = (int)syscall(SYS_pidfd_open, a.pid, 0);
    printf("pidfd_send_signal(child, SIGPIPE): %d\n",
           (int)syscall(SYS_pidfd_send_signal, fd, SIGPIPE, NULL, 0));
    close(fd);
    report("  child saw", a);

    for (int i = 0; i < 2; i++) {
        struct kid k = i ? g : a;
        write(k.cmd, "q", 1);
        int st;
        waitpid(k.pid, &st, 0);
        printf("child %d: exited %d\n", i, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    return 0;
}
