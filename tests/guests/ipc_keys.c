// System V IPC by key and between processes, where the other ipc_*
// guests use IPC_PRIVATE or one process: a key's object found again,
// IPC_CREAT|IPC_EXCL (EEXIST), a missing key (ENOENT), asking more of an
// existing set or segment than it has (EINVAL), a removed segment that
// is still attached losing its key; a msgsnd blocked on a full queue in
// a child until the parent receives; a semop waiting for zero (GETZCNT)
// in a child until the parent takes the value down; SETVAL clearing a
// child's SEM_UNDO adjustment; a segment keeping its bytes with nobody
// attached; a child's attachment outliving the parent's shmdt; and a
// POSIX message queue descriptor inherited by a child, opened
// O_NONBLOCK, and polled (POLLIN once the child sends).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ipc.h"

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

struct m {
    long type;
    char text[32];
};

static int op(int s, unsigned short num, short delta, short flg) {
    struct sembuf b = {num, delta, flg};
    return semop(s, &b, 1);
}

static int wait_child(pid_t c) {
    int st;
    waitpid(c, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    // Keys of this process alone: other programs of the machine may use
    // the same namespace.
    key_t k = 0x5e000000 | (getpid() & 0xffffff);

    // Keys.
    int q = msgget(k, IPC_CREAT | 0600);
    res("msgget key", q >= 0 ? 0 : -1);
    res("same key", msgget(k, 0) == q);
    res("excl", msgget(k, IPC_CREAT | IPC_EXCL | 0600));
    // (Keys of another prefix are never made: runs in parallel use
    // 0x5e000000 plus their own pid.)
    res("missing key", msgget(k ^ 0x01000000, 0600));
    int s = semget(k, 2, IPC_CREAT | 0600);
    res("semget key", s >= 0 ? 0 : -1);
    res("fewer sems", semget(k, 1, 0) == s);
    res("more sems", semget(k, 3, 0));
    long pg = sysconf(_SC_PAGESIZE);
    int h = shmget(k, pg, IPC_CREAT | 0600);
    res("shmget key", h >= 0 ? 0 : -1);
    res("bigger segment", shmget(k, 2 * pg, 0));

    // A sender blocked on a full queue goes on once the parent receives.
    struct msqid_ds ds;
    msgctl(q, IPC_STAT, &ds);
    ds.msg_qbytes = 40;
    res("qbytes 40", msgctl(q, IPC_SET, &ds));
    struct m m = {1, "first message, thirty bytes.."};
    res("fill", msgsnd(q, &m, 30, 0));
    int p[2];
    pipe(p);
    pid_t c = fork();
    if (c == 0) {
        struct m n = {2, "second message, also 30 bytes"};
        write(p[1], "s", 1);
        _exit(msgsnd(q, &n, 30, 0) == 0 ? 0 : 1);
    }
    char ch;
    read(p[0], &ch, 1);
    usleep(100000);
    msgctl(q, IPC_STAT, &ds);
    printf("while blocked: qnum %lu\n", (unsigned long)ds.msg_qnum);
    long n = msgrcv(q, &m, sizeof m.text, 0, 0);
    printf("received %ld type %ld\n", n, m.type);
    printf("sender: %d\n", wait_child(c));
    n = msgrcv(q, &m, sizeof m.text, 0, IPC_NOWAIT);
    printf("then %ld type %ld\n", n, m.type);

    // Waiting for zero.
    res("setval 1", semctl(s, 0, SETVAL, 1));
    c = fork();
    if (c == 0) {
        write(p[1], "z", 1);
        _exit(op(s, 0, 0, 0) == 0 ? 0 : 1);
    }
    read(p[0], &ch, 1);
    for (int i = 0; i < 200 && semctl(s, 0, GETZCNT) != 1; i++)
        usleep(10000);
    res("zcnt", semctl(s, 0, GETZCNT));
    res("take", op(s, 0, -1, 0));
    printf("zero waiter: %d\n", wait_child(c));
    res("zcnt after", semctl(s, 0, GETZCNT));

    // SETVAL clears the adjustment a child's SEM_UNDO left.
    int back[2];
    pipe(back);
    c = fork();
    if (c == 0) {
        op(s, 1, 2, SEM_UNDO);
        write(p[1], "u", 1);
        read(back[0], &ch, 1);
        _exit(0);
    }
    read(p[0], &ch, 1);
    res("after undo op", semctl(s, 1, GETVAL));
    res("setval 5", semctl(s, 1, SETVAL, 5));
    write(back[1], "x", 1);
    printf("undo child: %d\n", wait_child(c));
    res("kept", semctl(s, 1, GETVAL));

    // A segment keeps its bytes with nobody attached; a child's
    // attachment outlives the parent's detach.
    char *a = shmat(h, NULL, 0);
    strcpy(a, "kept between attachments");
    res("detach", shmdt(a));
    a = shmat(h, NULL, 0);
    printf("again: %s\n", a);
    c = fork();
    if (c == 0) {
        read(back[0], &ch, 1);
        strcpy(a, "child wrote after the detach");
        _exit(0);
    }
    res("parent detach", shmdt(a));
    struct shmid_ds sd;
    shmctl(h, IPC_STAT, &sd);
    printf("nattch child only: %lu\n", (unsigned long)sd.shm_nattch);
    write(back[1], "w", 1);
    printf("writer: %d\n", wait_child(c));
    a = shmat(h, NULL, SHM_RDONLY);
    printf("reads: %s\n", a);
    // Removed while attached: the key is free again.
    res("rmid attached", shmctl(h, IPC_RMID, NULL));
    res("key gone", shmget(k, pg, 0));
    int h2 = shmget(k, pg, IPC_CREAT | IPC_EXCL | 0600);
    res("new under key", h2 >= 0 && h2 != h ? 0 : -1);
    shmdt(a);
    res("old gone", shmctl(h, IPC_STAT, &sd));
    shmctl(h2, IPC_RMID, NULL);
    msgctl(q, IPC_RMID, NULL);
    semctl(s, 0, IPC_RMID);

    // A message queue descriptor across fork, O_NONBLOCK, poll.
    char name[64];
    snprintf(name, sizeof name, "/pvm-ipc-keys-%d", getpid());
    struct mq_attr at = {0, 2, 16, 0, {0}};
    mqd_t mq = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_NONBLOCK, 0600, &at);
    res("mq_open", mq >= 0 ? 0 : -1);
    struct mq_attr got;
    mq_getattr(mq, &got);
    printf("nonblock flag %d\n", (got.mq_flags & O_NONBLOCK) != 0);
    char buf[16];
    res("empty", mq_receive(mq, buf, sizeof buf, NULL));
    struct pollfd pf = {mq, POLLIN | POLLOUT, 0};
    res("poll empty", poll(&pf, 1, 0));
    printf("revents in %d out %d\n", (pf.revents & POLLIN) != 0, (pf.revents & POLLOUT) != 0);
    c = fork();
    if (c == 0) {
        usleep(100000);
        _exit(mq_send(mq, "inherited", 10, 4) == 0 ? 0 : 1);
    }
    pf.events = POLLIN;
    pf.revents = 0;
    res("poll wait", poll(&pf, 1, 5000));
    printf("revents in %d\n", (pf.revents & POLLIN) != 0);
    unsigned prio;
    n = mq_receive(mq, buf, sizeof buf, &prio);
    printf("got %ld '%s' prio %u\n", n, n > 0 ? buf : "", prio);
    printf("sender: %d\n", wait_child(c));
    mq_close(mq);
    res("unlink", mq_unlink(name));
    return 0;
}
