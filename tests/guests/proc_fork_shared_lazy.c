// fork with a huge MAP_SHARED | MAP_ANONYMOUS region (1 GiB) of which only
// a few pages are ever touched: the fork must not need memory for the
// untouched rest, and every page, touched before the fork or first after
// it by either side (a read first, or an mprotect first), is the same
// memory for parent, child and grandchild.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE (1L << 30)
#define SPOTS 64
#define ROUNDS 20000

static long pg;
static char *region;

// Page `i` of group `g`: SPOTS pages spread over the region per group.
static long *spot(int g, int i) {
    long stride = SIZE / pg / SPOTS;
    return (long *)(region + (i * stride + g) * pg);
}

static void recv1(int fd) {
    char c;
    if (read(fd, &c, 1) != 1)
        _exit(99);
}

static void send1(int fd) {
    if (write(fd, "x", 1) != 1)
        _exit(98);
}

static int wait_status(pid_t p) {
    int st;
    if (waitpid(p, &st, 0) != p)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    pg = sysconf(_SC_PAGESIZE);
    region = mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    // Group 0: touched before the fork.
    for (int i = 0; i < SPOTS; i++)
        *spot(0, i) = 1000 + i;
    int to_child[2], to_parent[2];
    if (pipe(to_child) || pipe(to_parent))
        return 1;
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        // Group 0 as the parent left it, then changed by the child.
        int ok0 = 1;
        for (int i = 0; i < SPOTS; i++)
            ok0 = ok0 && *spot(0, i) == 1000 + i;
        for (int i = 0; i < SPOTS; i++)
            *spot(0, i) += 1;
        // Group 1: first touched after the fork, by the child.
        for (int i = 0; i < SPOTS; i++)
            *spot(1, i) = 2000 + i;
        // Group 3: the parent reads it first (zero); the child writes after.
        send1(to_parent[1]);
        recv1(to_child[0]);
        for (int i = 0; i < SPOTS; i++)
            *spot(3, i) = 3000 + i;
        // Group 4: made read-only and writable again before its first touch.
        mprotect(spot(4, 0), pg, PROT_READ);
        mprotect(spot(4, 0), pg, PROT_READ | PROT_WRITE);
        *spot(4, 0) = 4000;
        // Group 2: written by the parent after the fork, seen here.
        int ok2 = 1;
        for (int i = 0; i < SPOTS; i++)
            ok2 = ok2 && *spot(2, i) == 5000 + i;
        // Group 5: a grandchild touches it first.
        pid_t g = fork();
        if (g == 0) {
            for (int i = 0; i < SPOTS; i++)
                *spot(5, i) = 6000 + i;
            _exit(0);
        }
        int gst = wait_status(g);
        // Group 6, page 0: a counter both sides increment at once, first
        // touched by both after the fork.
        send1(to_parent[1]);
        for (int i = 0; i < ROUNDS; i++)
            __atomic_fetch_add(spot(6, 0), 1, __ATOMIC_SEQ_CST);
        _exit(ok0 && ok2 && gst == 0 ? 0 : 1 + !ok0 + 2 * !ok2);
    }
    // Group 2: first touched after the fork, by the parent.
    for (int i = 0; i < SPOTS; i++)
        *spot(2, i) = 5000 + i;
    recv1(to_parent[0]);
    long zero = 0;
    for (int i = 0; i < SPOTS; i++)
        zero |= *spot(3, i);
    send1(to_child[1]);
    recv1(to_parent[0]);
    for (int i = 0; i < ROUNDS; i++)
        __atomic_fetch_add(spot(6, 0), 1, __ATOMIC_SEQ_CST);
    int st = wait_status(pid);
    printf("child: %d\n", st);
    int ok0 = 1, ok1 = 1, ok3 = 1, ok5 = 1;
    for (int i = 0; i < SPOTS; i++) {
        ok0 = ok0 && *spot(0, i) == 1001 + i;
        ok1 = ok1 && *spot(1, i) == 2000 + i;
        ok3 = ok3 && *spot(3, i) == 3000 + i;
        ok5 = ok5 && *spot(5, i) == 6000 + i;
    }
    printf("touched before the fork, changed by the child: %s\n",
           ok0 ? "seen" : "lost");
    printf("first touched by the child: %s\n", ok1 ? "seen" : "lost");
    printf("read by the parent first (%ld), written by the child: %s\n", zero,
           ok3 ? "seen" : "lost");
    printf("mprotect before the first touch: %ld\n", *spot(4, 0));
    printf("first touched by the grandchild: %s\n", ok5 ? "seen" : "lost");
    printf("counter: %ld (want %d)\n", *spot(6, 0), 2 * ROUNDS);
    // Pages nobody touched still read as zero.
    long untouched = 0;
    for (int i = 0; i < SPOTS; i++)
        untouched |= *spot(7, i);
    printf("untouched pages: %ld\n", untouched);
    return 0;
}
