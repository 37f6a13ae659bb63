// System V shared memory: a segment written by a forked child is read by
// the parent (the attachment survives fork; the child's exit detaches
// its copy), IPC_STAT's segsz and nattch, SHM_RDONLY (a write kills with
// SIGSEGV), attaching at a chosen address and SHM_RND, IPC_RMID while
// attached (the memory stays until the last detach), shmdt, and hostile
// addresses and arguments: misaligned, wrapping, past the address space,
// over a mapping, bad ids and pointers outside the guest's memory.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ipc.h"

static void resp(const char *what, void *p) {
    if (p == (void *)-1)
        printf("%s: %s\n", what, en(errno));
    else
        printf("%s: ok\n", what);
}

static long nattch(int id) {
    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) != 0)
        return -1;
    return (long)ds.shm_nattch;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    long pg = sysconf(_SC_PAGESIZE);
    int id = shmget(IPC_PRIVATE, 3 * pg, IPC_CREAT | 0600);
    if (id < 0) {
        printf("shmget: %s\n", en(errno));
        return 1;
    }
    char *a = shmat(id, NULL, 0);
    resp("attach", a);
    printf("zeroed: %d\n", a[0] == 0 && a[3 * pg - 1] == 0);
    strcpy(a, "from the parent");
    res("nattch", nattch(id));
    pid_t c = fork();
    if (c == 0) {
        printf("child sees: %s\n", a);
        printf("child nattch: %ld\n", nattch(id));
        strcpy(a + 2 * pg, "written by the child");
        a[0] = 'F';
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    printf("parent reads: %s / %s\n", a, a + 2 * pg);
    res("nattch after child", nattch(id));
    struct shmid_ds ds;
    res("stat", shmctl(id, IPC_STAT, &ds));
    printf("segsz %lu mode %o cpid mine %d lpid child %d\n", (unsigned long)ds.shm_segsz,
           ds.shm_perm.mode & 0777, ds.shm_cpid == getpid(), ds.shm_lpid == c);

    // A second attachment shows the same memory; read-only attachments
    // cannot be written.
    char *b = shmat(id, NULL, SHM_RDONLY);
    resp("attach read-only", b);
    printf("same memory: %d\n", b != a && strcmp(b + 2 * pg, "written by the child") == 0);
    res("nattch 2", nattch(id));
    c = fork();
    if (c == 0) {
        b[0] = 'x';
        _exit(0);
    }
    waitpid(c, &st, 0);
    printf("write to read-only: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit",
           WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    res("detach read-only", shmdt(b));
    res("detach again", shmdt(b));

    // At a chosen address (a hole we made), and rounded with SHM_RND.
    char *hole = mmap(NULL, 16 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(hole, 16 * pg);
    char *at = shmat(id, hole + 4 * pg, 0);
    printf("at chosen: %d %s\n", at == hole + 4 * pg, at == (void *)-1 ? "" : at);
    resp("over a mapping", shmat(id, hole + 5 * pg, 0));
    char *r = shmat(id, hole + 8 * pg + 100, SHM_RND);
    printf("rounded: %d\n", r == hole + 8 * pg);
    resp("remap over", shmat(id, hole + 5 * pg, SHM_REMAP));
    res("nattch 4", nattch(id));

    // Removed while attached: the memory stays until the last detach.
    res("rmid", shmctl(id, IPC_RMID, NULL));
    res("stat removed", shmctl(id, IPC_STAT, &ds));
    printf("dest flag %d, still there: %s\n", (ds.shm_perm.mode & SHM_DEST) != 0, a + 2 * pg);
    strcpy(a + 100, "still writable");
    printf("through the other: %s\n", at + 100);
    res("detach 1", shmdt(a));
    res("detach 2", shmdt(at));
    res("detach 3", shmdt(r));
    res("detach 4", shmdt(hole + 5 * pg));
    res("gone", shmctl(id, IPC_STAT, &ds));

    // Hostile arguments.
    int id2 = shmget(IPC_PRIVATE, pg, IPC_CREAT | 0600);
    void *bad = (void *)0x7ff0000000000000UL;
    resp("misaligned", shmat(id2, hole + 100, 0));
    resp("wrapping", shmat(id2, (void *)(UINTPTR_MAX & ~(pg - 1)), 0));
    resp("past the end", shmat(id2, (void *)0xffff000000000000UL, 0));
    resp("over the stack", shmat(id2, (void *)((uintptr_t)&id2 & ~(pg - 1)), 0));
    resp("bad id", shmat(-1, NULL, 0));
    resp("unused id", shmat(id2 + 0x7000000, NULL, 0));
    res("shmdt not attached", shmdt(hole));
    res("shmdt misaligned", shmdt(hole + 1));
    res("shmdt bad", shmdt(bad));
    res("stat bad ptr", shmctl(id2, IPC_STAT, bad));
    res("set bad ptr", shmctl(id2, IPC_SET, bad));
    res("bad cmd", shmctl(id2, 999, &ds));
    res("size 0 new", shmget(IPC_PRIVATE, 0, IPC_CREAT | 0600));
    res("rmid 2", shmctl(id2, IPC_RMID, NULL));
    return 0;
}
