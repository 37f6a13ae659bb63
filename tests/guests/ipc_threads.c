// IPC waits in a threaded guest: one thread blocks in msgrcv, semop and
// mq_receive while another thread of the same process sends, posts and
// queues after a pause; each wait must let the other thread run (also
// where guest threads take turns on one host thread, jit-1cpu and the
// bare-metal host), and a semtimedop's timeout still ends it.
//@ cflags: -pthread
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <time.h>
#include <unistd.h>

static int q, s;
static mqd_t mq;

struct m {
    long type;
    char text[16];
};

static void *sender(void *arg) {
    (void)arg;
    usleep(100000);
    struct m m = {5, "late"};
    msgsnd(q, &m, 5, 0);
    usleep(50000);
    struct sembuf up = {0, 1, 0};
    semop(s, &up, 1);
    usleep(50000);
    mq_send(mq, "queued", 7, 2);
    return NULL;
}

int main(void) {
    q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    s = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    char name[64];
    snprintf(name, sizeof name, "/pvm-ipc-thr-%d", getpid());
    struct mq_attr at = {0, 4, 16, 0, {0}};
    mq = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &at);
    if (q < 0 || s < 0 || mq < 0) {
        printf("setup: %s\n", strerror(errno));
        return 1;
    }
    pthread_t t;
    pthread_create(&t, NULL, sender, NULL);
    struct m m;
    long n = msgrcv(q, &m, sizeof m.text, 0, 0);
    printf("msgrcv: %ld %ld %s\n", n, m.type, m.text);
    struct sembuf down = {0, -1, 0};
    printf("semop: %d\n", semop(s, &down, 1));
    char buf[16];
    unsigned prio;
    n = mq_receive(mq, buf, sizeof buf, &prio);
    printf("mq_receive: %ld %s %u\n", n, buf, prio);
    pthread_join(t, NULL);
    struct timespec ts = {0, 100000000};
    int r = semtimedop(s, &down, 1, &ts);
    printf("semtimedop: %d %s\n", r, r < 0 ? strerrorname_np(errno) : "");
    msgctl(q, IPC_RMID, NULL);
    semctl(s, 0, IPC_RMID);
    mq_close(mq);
    mq_unlink(name);
    return 0;
}
