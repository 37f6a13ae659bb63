// mremap moves a file mapping, not its bytes: a MAP_SHARED mapping of a
// file truncated under it, moved by mremap to a fixed address, still
// raises SIGBUS with BUS_ADRERR at the moved pages past the new end of
// the file, and its page inside the file is still the file's (a store
// through it reaches the file, a store to the file shows through it).
// One moved by growing it (an address of the kernel's choosing), then
// shrunk and truncated, behaves the same. A private mapping moved like
// the first keeps the page the guest wrote and faults past the end too.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sig_bus.h"

static long page;

static void shared_case(int fixed) {
    const char *name = fixed ? "shared_fixed.bin" : "shared_move.bin";
    printf("-- shared, %s\n", fixed ? "MREMAP_FIXED" : "MREMAP_MAYMOVE");
    int fd = pages_file(name, 4);
    unsigned char *m = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (fd < 0 || m == MAP_FAILED) {
        printf("setup failed\n");
        return;
    }
    unsigned char *n;
    if (fixed) {
        if (ftruncate(fd, page))
            printf("ftruncate failed\n");
        // A place of our own for the move: four pages, mapped then given up.
        unsigned char *to = mmap(NULL, 4 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        n = mremap(m, 3 * page, 3 * page, MREMAP_MAYMOVE | MREMAP_FIXED, to + page);
        printf("moved to the address asked: %s\n", n == to + page ? "yes" : "no");
    } else {
        // Keep the page after the mapping taken, so it cannot stay put.
        mmap(m + 3 * page, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        // Growing needs a move; then shrink it back and truncate (qemu
        // refuses to grow a mapping of a file already truncated: EFAULT,
        // where Linux moves it).
        n = mremap(m, 3 * page, 4 * page, MREMAP_MAYMOVE);
        printf("moved: %s\n", n != m && n != MAP_FAILED ? "yes" : "no");
        if (n != MAP_FAILED)
            n = mremap(n, 4 * page, 3 * page, 0);
        if (ftruncate(fd, page))
            printf("ftruncate failed\n");
    }
    if (n == MAP_FAILED) {
        printf("mremap: %s\n", strerrorname_np(errno));
        return;
    }
    touch_byte("moved page inside the file", n + 1, 0);
    touch_byte("moved page past the end", n + page + 1, 0);
    touch_byte("moved last page past the end", n + 3 * page - 1, 0);
    n[2] = 42;
    unsigned char c = 0;
    pread(fd, &c, 1, 2);
    printf("a store through the moved page reaches the file: %d\n", c);
    c = 43;
    pwrite(fd, &c, 1, 3);
    printf("a store to the file shows through the moved page: %d\n", n[3]);
    close(fd);
    unlink(name);
}

static void private_case(void) {
    printf("-- private, MREMAP_FIXED\n");
    int fd = pages_file("private.bin", 4);
    unsigned char *m = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (fd < 0 || m == MAP_FAILED) {
        printf("setup failed\n");
        return;
    }
    m[1] = 9; // page 0 becomes the guest's own copy
    if (ftruncate(fd, page))
        printf("ftruncate failed\n");
    unsigned char *to = mmap(NULL, 3 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *n = mremap(m, 3 * page, 3 * page, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    if (n != to) {
        printf("mremap: %s\n", strerrorname_np(errno));
        return;
    }
    touch_byte("moved written page", n + 1, 0);
    touch_byte("moved page past the end", n + 2 * page, 0);
    close(fd);
    unlink("private.bin");
}

int main(void) {
    page = sysconf(_SC_PAGESIZE);
    catch_bus();
    shared_case(1);
    shared_case(0);
    private_case();
    return 0;
}
