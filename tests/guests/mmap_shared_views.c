// Two MAP_SHARED views of one file (a memfd, and a file on disk) are one
// set of pages, as on Linux: a store through one is seen at once through
// the other and by read(); write() is seen through both views; a view at
// another offset shows the same bytes there; a child's store (through an
// inherited view, and through a view it maps itself) is seen by the
// parent; a private view sees their stores until it writes a page; a
// view moved by mremap is still one; and mapping, touching and unmapping
// views many times keeps it so.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

static void views(const char *what, int fd) {
    if (ftruncate(fd, 3 * PAGE) != 0) {
        printf("%s: ftruncate failed\n", what);
        return;
    }
    char *a = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *b = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    // A third view of the file's second and third pages only.
    char *c = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, fd, PAGE);
    if (a == MAP_FAILED || b == MAP_FAILED || c == MAP_FAILED) {
        printf("%s: mmap failed\n", what);
        return;
    }
    // Store through a, read through b (no file call in between).
    strcpy(a + 10, "through a");
    printf("%s: b sees a's store: '%s'\n", what, b + 10);
    strcpy(b + PAGE + 5, "through b");
    printf("%s: a sees b's store: '%s', c sees it: '%s'\n", what, a + PAGE + 5, c + 5);
    // A page first touched through b after a store through a.
    a[2 * PAGE + 100] = 'Z';
    printf("%s: b's untouched page: '%c'\n", what, b[2 * PAGE + 100]);
    // read() sees the stores.
    char buf[16] = {0};
    pread(fd, buf, 9, PAGE + 5);
    printf("%s: pread sees the store: '%s'\n", what, buf);
    // write() is seen through every view.
    pwrite(fd, "written", 7, 2 * PAGE + 200);
    printf("%s: views see pwrite: '%.7s' '%.7s' '%.7s'\n", what, a + 2 * PAGE + 200,
           b + 2 * PAGE + 200, c + PAGE + 200);
    // write() and read() at the descriptor's position.
    lseek(fd, 900, SEEK_SET);
    write(fd, "sequential", 10);
    a[910] = '+';
    memset(buf, 0, sizeof buf);
    read(fd, buf, 1);
    printf("%s: write() seen: '%.10s', read() sees a store: '%s'\n", what, b + 900, buf);
    // A store, then write() over part of it, then another store.
    strcpy(a + 300, "abcdef");
    pwrite(fd, "XY", 2, 302);
    b[305] = '!';
    printf("%s: mixed: '%s' '%s'\n", what, a + 300, b + 300);
    // Across fork: the child stores through an inherited view and through
    // a view of its own; the parent sees both through its other view.
    pid_t pid = fork();
    if (pid == 0) {
        strcpy(a + 500, "child via a");
        char *own = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 2 * PAGE);
        if (own == MAP_FAILED) _exit(1);
        strcpy(own + 600, "child's own view");
        _exit(strcmp(b + 2 * PAGE + 200, "written") == 0 ? 0 : 2);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    printf("%s: child status %d; parent sees '%s' '%s' '%s'\n", what, WEXITSTATUS(st), b + 500,
           b + 2 * PAGE + 600, c + PAGE + 600);
    memset(buf, 0, sizeof buf);
    pread(fd, buf, 11, 500);
    printf("%s: pread after fork: '%s'\n", what, buf);
    // A private view sees the shared views' stores in pages it has not
    // written; its own stores stay its own.
    char *priv = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    priv[PAGE + 50] = 'P';
    strcpy(a + 800, "shared store");
    strcpy(a + PAGE + 60, "not seen");
    printf("%s: private view sees '%s', keeps '%c', file has '%c'\n", what, priv + 800,
           priv[PAGE + 50], b[PAGE + 50] ? b[PAGE + 50] : '0');
    printf("%s: private page written: '%s'\n", what, priv[PAGE + 60] ? priv + PAGE + 60 : "");
    munmap(priv, 2 * PAGE);
    // A view moved by mremap stays a view of the file.
    char *hold = mmap(NULL, 8 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *v = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    v[1000] = 'v';
    char *moved = mremap(v, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, hold + 4 * PAGE);
    if (moved == MAP_FAILED) {
        printf("%s: mremap failed\n", what);
    } else {
        moved[1001] = 'w';
        b[1002] = 'x';
        printf("%s: moved view: '%.3s' '%.3s'\n", what, moved + 1000, b + 1000);
    }
    munmap(hold, 8 * PAGE);
    munmap(a, 3 * PAGE);
    // The other views live on after one is unmapped.
    strcpy(b + 700, "after munmap");
    memset(buf, 0, sizeof buf);
    pread(fd, buf, 12, 700);
    printf("%s: after munmap of a: '%s'\n", what, buf);
    munmap(b, 3 * PAGE);
    munmap(c, 2 * PAGE);
    // A new view shows what the old ones left.
    char *d = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
    printf("%s: new view: '%s' '%s'\n", what, d + 10, d + 700);
    munmap(d, PAGE);
}

static void churn(int fd) {
    int bad = 0;
    for (int i = 0; i < 500; i++) {
        char *a = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        char *b = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (a == MAP_FAILED || b == MAP_FAILED) {
            bad++;
            break;
        }
        for (int p = 0; p < 4; p++) a[p * PAGE + (i % 64)] = (char)i;
        for (int p = 0; p < 4; p++) bad += b[p * PAGE + (i % 64)] != (char)i;
        munmap(a, 4 * PAGE);
        munmap(b, 4 * PAGE);
    }
    printf("churn: %d mismatches\n", bad);
}

// A System V segment's attachment moved by mremap stays attached (and
// shared): its count of attachments follows the move.
static void shm_moved(void) {
    int id = shmget(IPC_PRIVATE, 2 * PAGE, IPC_CREAT | 0600);
    char *s = shmat(id, NULL, 0);
    char *t = shmat(id, NULL, 0);
    char *hold = mmap(NULL, 8 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *moved = mremap(s, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, hold + 2 * PAGE);
    struct shmid_ds ds;
    shmctl(id, IPC_STAT, &ds);
    moved[5] = 'm';
    printf("shm: moved %d, attached %d, other attachment sees '%c'\n", moved == hold + 2 * PAGE,
           (int)ds.shm_nattch, t[5]);
    munmap(hold, 8 * PAGE);
    shmctl(id, IPC_STAT, &ds);
    printf("shm: after unmapping it, attached %d\n", (int)ds.shm_nattch);
    shmdt(t);
    shmctl(id, IPC_RMID, NULL);
}

int main(void) {
    int m = memfd_create("views", 0);
    views("memfd", m);
    char path[] = "mmap_shared_views.tmp";
    int f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    views("file", f);
    // The same file opened again: another descriptor, the same pages.
    int g = open(path, O_RDWR);
    char *x = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
    char *y = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, g, 0);
    strcpy(x + 40, "via f");
    printf("file: view of another open sees: '%s'\n", y + 40);
    munmap(x, PAGE);
    munmap(y, PAGE);
    ftruncate(m, 4 * PAGE);
    churn(m);
    close(g);
    close(f);
    unlink(path);
    close(m);
    shm_moved();
    return 0;
}
