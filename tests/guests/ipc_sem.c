// System V semaphores: SETALL/GETALL, SETVAL/GETVAL, semop on several
// semaphores at once, IPC_NOWAIT and semtimedop's timeout, GETPID and
// GETNCNT, SEM_UNDO undone when a child holding a semaphore is killed and
// when one exits, a blocking semop cut short by a signal, IPC_STAT, and
// hostile arguments (bad ids, counts, pointers outside the guest: EFAULT).
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "ipc.h"

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

static int op(int s, unsigned short num, short delta, short flg) {
    struct sembuf b = {num, delta, flg};
    return semop(s, &b, 1);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int s = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
    if (s < 0) {
        printf("semget: %s\n", en(errno));
        return 1;
    }
    unsigned short v[3] = {1, 2, 0};
    union semun u = {.array = v};
    res("setall", semctl(s, 0, SETALL, u));
    unsigned short g[3] = {9, 9, 9};
    u.array = g;
    res("getall", semctl(s, 0, GETALL, u));
    printf("values %d %d %d\n", g[0], g[1], g[2]);
    struct semid_ds ds;
    u.buf = &ds;
    res("stat", semctl(s, 0, IPC_STAT, u));
    printf("nsems %lu mode %o otime %d\n", (unsigned long)ds.sem_nsems, ds.sem_perm.mode & 0777,
           ds.sem_otime != 0);

    struct sembuf two[2] = {{0, -1, 0}, {1, -2, 0}};
    res("take two", semop(s, two, 2));
    res("val 0", semctl(s, 0, GETVAL));
    res("val 1", semctl(s, 1, GETVAL));
    res("pid is mine", semctl(s, 1, GETPID) == getpid());
    res("nowait", op(s, 0, -1, IPC_NOWAIT));
    struct timespec t = {0, 50 * 1000 * 1000};
    struct sembuf one = {2, -1, 0};
    res("timed", semtimedop(s, &one, 1, &t));
    two[0].sem_op = 1;
    two[1].sem_op = 2;
    res("give back", semop(s, two, 2));
    res("stat after op", semctl(s, 0, IPC_STAT, u));
    printf("otime %d\n", ds.sem_otime != 0);

    // A child takes semaphore 0 with SEM_UNDO and is killed holding it:
    // the kernel undoes its take.
    int p[2];
    pipe(p);
    pid_t c = fork();
    if (c == 0) {
        close(p[0]);
        if (op(s, 0, -1, SEM_UNDO) != 0)
            _exit(2);
        write(p[1], "t", 1);
        for (;;)
            pause();
    }
    close(p[1]);
    char ch;
    read(p[0], &ch, 1);
    close(p[0]);
    res("held by child", semctl(s, 0, GETVAL));
    res("child's pid", semctl(s, 0, GETPID) == c);
    kill(c, SIGKILL);
    int st;
    waitpid(c, &st, 0);
    printf("child killed by %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
    res("after kill", semctl(s, 0, GETVAL));

    // One that exits normally after SEM_UNDO adds is undone too; one
    // without SEM_UNDO is not.
    c = fork();
    if (c == 0) {
        op(s, 2, 3, SEM_UNDO);
        op(s, 1, 1, 0);
        _exit(0);
    }
    waitpid(c, &st, 0);
    res("undo on exit", semctl(s, 2, GETVAL));
    res("no undo", semctl(s, 1, GETVAL));

    // A waiter in the child: GETNCNT sees it; our post wakes it.
    pipe(p);
    c = fork();
    if (c == 0) {
        close(p[0]);
        write(p[1], "w", 1);
        _exit(op(s, 2, -1, 0) == 0 ? 5 : 6);
    }
    close(p[1]);
    read(p[0], &ch, 1);
    for (int i = 0; i < 200 && semctl(s, 2, GETNCNT) != 1; i++)
        usleep(10000);
    res("ncnt", semctl(s, 2, GETNCNT));
    res("post", op(s, 2, 1, 0));
    waitpid(c, &st, 0);
    printf("waiter: %d\n", WEXITSTATUS(st));

    // A blocking semop cut short by SIGALRM (no SA_RESTART).
    alarm_in(100000);
    res("interrupted", op(s, 2, -1, 0));

    // Hostile arguments.
    void *bad = (void *)0x7ff0000000000000UL;
    res("bad id", semctl(-1, 0, GETVAL));
    res("bad num", semctl(s, 7, GETVAL));
    res("bad cmd", semctl(s, 0, 4321));
    res("setval range", semctl(s, 0, SETVAL, 40000));
    u.buf = bad;
    res("stat bad ptr", semctl(s, 0, IPC_STAT, u));
    u.array = bad;
    res("setall bad ptr", semctl(s, 0, SETALL, u));
    res("getall bad ptr", semctl(s, 0, GETALL, u));
    res("semop bad ptr", semop(s, bad, 1));
    res("semop too many", semop(s, two, 100000));
    res("semop zero", semop(s, two, 0));
    struct sembuf far = {9, 1, 0};
    res("semop bad num", semop(s, &far, 1));
    res("timed bad ptr", semtimedop(s, &one, 1, bad));
    struct timespec neg = {0, -1};
    res("timed bad ns", semtimedop(s, &one, 1, &neg));
    res("nsems too many", semget(IPC_PRIVATE, 1 << 20, IPC_CREAT | 0600));
    res("rmid", semctl(s, 0, IPC_RMID));
    res("after rmid", semctl(s, 0, GETVAL));
    return 0;
}
