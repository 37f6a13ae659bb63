// When an mq_notify registration goes: Linux drops it whenever the
// registering process closes any descriptor of the queue (its flush runs
// at every close: a dup's, another mq_open's, one replaced by dup2, at
// the process's end), not only the descriptor it was made through, and
// keeps it when another process (a forked child) closes its copy or when
// the registering process closes something else. Whether a registration
// is there shows as EBUSY from another mq_notify (0: there was none,
// and this one is then removed again).
//@ no-qemu: qemu-riscv64 7.2 has no mq_notify (ENOSYS); the expectation is the x86-64 build's native output
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static mqd_t q;

static int reg(void) {
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_NONE;
    return mq_notify(q, &ev);
}

// Is a registration there? (Probing leaves none.)
static void show(const char *what) {
    int r = reg();
    printf("%s: %s\n", what, r == 0 ? "dropped" : errno == EBUSY ? "kept" : strerrorname_np(errno));
    if (r == 0)
        mq_notify(q, NULL);
}

int main(void) {
    char name[64];
    snprintf(name, sizeof name, "/pvm-notify-close-%d", getpid());
    struct mq_attr a = {.mq_maxmsg = 4, .mq_msgsize = 8};
    q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
    if (q < 0)
        return 1;
    if (reg() != 0)
        return 2;
    show("registered");

    int d = dup(q);
    close(d);
    show("a dup closed");

    reg();
    mqd_t q2 = mq_open(name, O_RDONLY);
    close(q2);
    show("another mq_open's descriptor closed");
    mq_unlink(name);

    reg();
    int p[2];
    pipe(p);
    close(p[0]);
    close(p[1]);
    show("another file closed");

    reg();
    d = dup(q);
    pipe(p);
    dup2(p[0], d);
    show("a dup replaced by dup2");
    close(d);
    close(p[1]);

    reg();
    pid_t c = fork();
    if (c == 0) {
        close(q);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    show("a child closed its copy");

    mq_notify(q, NULL);
    c = fork();
    if (c == 0) {
        // The child registers, then ends (its descriptors close).
        _exit(reg() == 0 ? 0 : 1);
    }
    int st;
    waitpid(c, &st, 0);
    show(WEXITSTATUS(st) == 0 ? "the registering child ended" : "the child could not register");

    mq_close(q);
    return 0;
}
