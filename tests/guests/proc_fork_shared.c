// fork and memory: MAP_SHARED mappings (anonymous, memfd, file) stay shared
// between parent, child and grandchild, touched before the fork or not;
// private memory (heap, stack, private anonymous and file mappings) is the
// child's own copy in both directions, also after mprotect.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROUNDS 20000

static int global = 1;

static void wait_ok(const char *what) {
    int st;
    wait(&st);
    printf("%s: child %s %d\n", what, WIFEXITED(st) ? "exited" : "killed",
           WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

// Block until the other side writes one byte.
static void recv1(int fd) {
    char c;
    if (read(fd, &c, 1) != 1)
        _exit(99);
}

static void send1(int fd) {
    if (write(fd, "x", 1) != 1)
        _exit(98);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    long pg = sysconf(_SC_PAGESIZE);

    // Anonymous shared: a counter both increment at once (the first page
    // touched before the fork, the third not).
    long *sh = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    sh[0] = 0;
    long *late = (long *)((char *)sh + 2 * pg);
    pid_t p = fork();
    for (int i = 0; i < ROUNDS; i++)
        __atomic_fetch_add(&sh[0], 1, __ATOMIC_SEQ_CST);
    if (p == 0) {
        late[0] = 1234;
        _exit(0);
    }
    wait_ok("anon counter");
    printf("counter: %ld (want %d)\n", sh[0], 2 * ROUNDS);
    printf("page first touched by the child: %ld\n", late[0]);

    // The parent's writes after the fork reach a living child too.
    int to_child[2], to_parent[2];
    pipe(to_child);
    pipe(to_parent);
    if (fork() == 0) {
        recv1(to_child[0]);
        int ok = sh[1] == 77;
        sh[1] = 88;
        send1(to_parent[1]);
        _exit(ok ? 7 : 1);
    }
    sh[1] = 77;
    send1(to_child[1]);
    recv1(to_parent[0]);
    printf("child saw the parent's write, parent sees the child's: %ld\n",
           sh[1]);
    wait_ok("live sharing");

    // A grandchild shares it as well.
    if (fork() == 0) {
        if (fork() == 0) {
            sh[2] = 3;
            _exit(0);
        }
        wait(NULL);
        sh[2] += 2;
        _exit(0);
    }
    wait_ok("grandchild");
    printf("grandchild and child: %ld\n", sh[2]);

    // memfd mapped shared: the child's stores reach the parent's mapping
    // and the file.
    int mfd = memfd_create("shared", 0);
    ftruncate(mfd, pg);
    char *mm = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    strcpy(mm, "before");
    if (fork() == 0) {
        strcpy(mm, "memfd child");
        _exit(0);
    }
    wait_ok("memfd");
    char buf[32] = {0};
    pread(mfd, buf, sizeof buf - 1, 0);
    printf("memfd map: '%s' file: '%s'\n", mm, buf);
    // The child writes the file; the parent's mapping follows.
    if (fork() == 0) {
        pwrite(mfd, "PWRITE", 6, 0);
        _exit(0);
    }
    wait_ok("memfd pwrite");
    printf("memfd map after the child's pwrite: '%s'\n", mm);

    // A file mapped shared, and the same file mapped private.
    int fd = open("fork_shared.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    char zero[4096] = {0};
    write(fd, zero, sizeof zero);
    char *fm = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *fp = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    strcpy(fp, "private parent");
    if (fork() == 0) {
        strcpy(fm, "file child");
        strcpy(fp, "private child");
        _exit(0);
    }
    wait_ok("file");
    memset(buf, 0, sizeof buf);
    pread(fd, buf, sizeof buf - 1, 0);
    printf("file map: '%s' file: '%s' private: '%s'\n", fm, buf, fp);
    unlink("fork_shared.tmp");

    // Private memory: the child's copy and the parent's go separate ways,
    // whoever writes first.
    size_t big = 64 * pg;
    char *heap = malloc(big);
    memset(heap, 'p', big);
    char *anon = mmap(NULL, big, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(anon, 'a', big);
    char *ro = mmap(NULL, pg, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    strcpy(ro, "ro");
    mprotect(ro, pg, PROT_READ);
    int stackvar = 5;
    if (fork() == 0) {
        int ok = 1;
        recv1(to_child[0]);
        // The parent wrote first: this copy kept the old bytes.
        ok &= heap[0] == 'p' && heap[big - 1] == 'p' && anon[100] == 'a';
        ok &= global == 1 && stackvar == 5;
        memset(heap, 'c', big);
        anon[5 * pg] = 'c';
        global = 2;
        stackvar = 6;
        mprotect(ro, pg, PROT_READ | PROT_WRITE);
        strcpy(ro, "child");
        send1(to_parent[1]);
        _exit(ok ? 7 : 1);
    }
    heap[0] = 'P';
    anon[100] = 'A';
    global = 3;
    stackvar = 8;
    send1(to_child[1]);
    recv1(to_parent[0]);
    wait_ok("private");
    printf("private after the child wrote: heap %c%c anon %c%c global %d "
           "stack %d ro '%s'\n",
           heap[0], heap[big - 1], anon[100], anon[5 * pg], global, stackvar,
           ro);

    // A child that writes first leaves the parent's copy alone too.
    if (fork() == 0) {
        heap[1] = 'x';
        _exit(heap[1] == 'x' ? 7 : 1);
    }
    wait_ok("child first");
    printf("parent's heap[1]: %c\n", heap[1]);
    return 0;
}
