// System V message queues between a parent and a forked child: messages
// by type (first, exact, lowest up to a bound), IPC_STAT, MSG_NOERROR
// truncation and E2BIG, IPC_NOWAIT, a blocking msgrcv cut short by a
// signal without SA_RESTART, IPC_RMID waking a blocked receiver (EIDRM),
// and hostile arguments: bad ids, commands, sizes and pointers outside
// the guest's memory (EFAULT, never a crash).
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ipc.h"

struct m {
    long type;
    char text[64];
};

static int snd(int q, long type, const char *s) {
    struct m m;
    m.type = type;
    strcpy(m.text, s);
    return msgsnd(q, &m, strlen(s) + 1, 0);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (q < 0) {
        printf("msgget: %s\n", en(errno));
        return 1;
    }
    pid_t c = fork();
    if (c == 0) {
        snd(q, 3, "three");
        snd(q, 1, "one");
        snd(q, 2, "two");
        snd(q, 5, "five");
        snd(q, 4, "a longer message of type four");
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    printf("child: %d\n", WEXITSTATUS(st));

    struct msqid_ds ds;
    res("stat", msgctl(q, IPC_STAT, &ds));
    printf("qnum %lu mode %o cbytes %lu qbytes>0 %d lspid child %d\n",
           (unsigned long)ds.msg_qnum, ds.msg_perm.mode & 0777,
           (unsigned long)ds.__msg_cbytes, ds.msg_qbytes > 0, ds.msg_lspid == c);

    struct m m;
    ssize_t n = msgrcv(q, &m, sizeof m.text, 2, 0);
    printf("type 2: %zd %ld %s\n", n, m.type, m.text);
    n = msgrcv(q, &m, sizeof m.text, -4, 0);
    printf("lowest <= 4: %zd %ld %s\n", n, m.type, m.text);
    n = msgrcv(q, &m, sizeof m.text, 0, 0);
    printf("first: %zd %ld %s\n", n, m.type, m.text);
    n = msgrcv(q, &m, 5, 4, 0);
    printf("too small: %s\n", n < 0 ? en(errno) : "ok");
    memset(m.text, 0, sizeof m.text);
    n = msgrcv(q, &m, 5, 4, MSG_NOERROR);
    printf("noerror: %zd %ld %.5s\n", n, m.type, m.text);
    n = msgrcv(q, &m, sizeof m.text, 0, MSG_EXCEPT | IPC_NOWAIT);
    printf("except 0: %zd %ld %s\n", n, m.type, m.text);
    res("empty nowait", msgrcv(q, &m, sizeof m.text, 0, IPC_NOWAIT));
    res("copy", msgrcv(q, &m, sizeof m.text, 0, MSG_COPY | IPC_NOWAIT));

    // A blocking receive is cut short by SIGALRM (no SA_RESTART).
    alarm_in(100000);
    res("interrupted", msgrcv(q, &m, sizeof m.text, 0, 0));

    // qbytes can be lowered; a message that does not fit then waits.
    res("stat again", msgctl(q, IPC_STAT, &ds));
    ds.msg_qbytes = 16;
    res("set qbytes", msgctl(q, IPC_SET, &ds));
    res("stat after set", msgctl(q, IPC_STAT, &ds));
    printf("qbytes %lu\n", (unsigned long)ds.msg_qbytes);
    m.type = 1;
    memset(m.text, 'x', sizeof m.text);
    res("send over qbytes nowait", msgsnd(q, &m, 32, IPC_NOWAIT));

    // IPC_RMID wakes a receiver blocked in the child with EIDRM.
    int p[2];
    pipe(p);
    c = fork();
    if (c == 0) {
        close(p[0]);
        write(p[1], "r", 1);
        long r = msgrcv(q, &m, sizeof m.text, 0, 0);
        _exit(r < 0 && errno == EIDRM ? 7 : 8);
    }
    close(p[1]);
    char ch;
    read(p[0], &ch, 1);
    usleep(100000);
    res("rmid", msgctl(q, IPC_RMID, NULL));
    waitpid(c, &st, 0);
    printf("blocked child: %d\n", WEXITSTATUS(st));
    res("send removed", msgsnd(q, &m, 4, 0));

    // Hostile arguments.
    int q2 = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    void *bad = (void *)0x7ff0000000000000UL;
    res("bad id", msgsnd(-1, &m, 4, 0));
    res("unused id", msgctl(q2 + 0x7000000, IPC_STAT, &ds));
    res("bad cmd", msgctl(q2, 12345, &ds));
    res("stat to bad ptr", msgctl(q2, IPC_STAT, bad));
    res("set from bad ptr", msgctl(q2, IPC_SET, bad));
    res("send bad ptr", msgsnd(q2, bad, 4, 0));
    res("send negative size", syscall(SYS_msgsnd, q2, &m, -1L, 0));
    m.type = 0;
    res("send type 0", msgsnd(q2, &m, 4, 0));
    m.type = 1;
    res("send", msgsnd(q2, &m, 4, 0));
    res("recv bad ptr", msgrcv(q2, bad, 4, 0, IPC_NOWAIT));
    res("recv negative size", syscall(SYS_msgrcv, q2, &m, -1L, 0, IPC_NOWAIT));
    // IPC_PRIVATE always makes a new queue, even without IPC_CREAT.
    int q3 = msgget(IPC_PRIVATE, 0);
    res("get excl", q3 >= 0 ? 0 : -1);
    msgctl(q3, IPC_RMID, NULL);
    res("rmid 2", msgctl(q2, IPC_RMID, NULL));
    res("rmid again", msgctl(q2, IPC_RMID, NULL));
    return 0;
}
