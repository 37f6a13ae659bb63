// A file truncated under its mappings and then grown again: the pages
// past the short end raise SIGBUS (BUS_ADRERR) while it is short, and
// once the file reaches over them again they show the file's bytes again
// (zeroes where it grew, what is written there after), with no signal, as
// Linux maps the file's page on the next touch. A shared mapping's page
// is the file's (a store through it reaches the file); a private one's
// copy the guest wrote before the truncation is gone with it, and the
// page shows the file again until written. A page made read-only while
// gone keeps that protection when it comes back (a store is SIGSEGV).
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sig_bus.h"

static long page;

// A file of three pages of 7s, open read-write, its name gone.
static int three_pages(const char *name) {
    int fd = pages_file(name, 3);
    unlink(name);
    return fd;
}

int main(void) {
    page = sysconf(_SC_PAGESIZE);
    catch_bus();
    catch_signal(SIGSEGV);

    printf("-- shared\n");
    int fd = three_pages("regrow_shared.bin");
    unsigned char *m = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (fd < 0 || m == MAP_FAILED)
        return 1;
    m[2 * page] = 8;
    ftruncate(fd, page);
    touch_byte("short: read past the end", m + 2 * page, 0);
    ftruncate(fd, 3 * page);
    touch_byte("grown: read", m + 2 * page, 0);
    touch_byte("grown: write", m + 2 * page + 1, 1);
    unsigned char c = 0;
    pread(fd, &c, 1, 2 * page + 1);
    printf("the store reached the file: %d\n", c);
    ftruncate(fd, page);
    touch_byte("short again: read", m + 2 * page, 0);
    c = 6;
    pwrite(fd, &c, 1, 2 * page + 3); // grows the file by a write
    touch_byte("grown by a write: read", m + 2 * page + 3, 0);
    touch_byte("grown by a write: the hole", m + 2 * page + 2, 0);
    close(fd);

    printf("-- private\n");
    fd = three_pages("regrow_private.bin");
    m = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (fd < 0 || m == MAP_FAILED)
        return 2;
    m[2 * page] = 9; // the guest's own copy
    m[page] = 9;
    ftruncate(fd, page);
    touch_byte("short: read of the written page", m + 2 * page, 0);
    mprotect(m + page, page, PROT_READ);
    ftruncate(fd, 3 * page);
    touch_byte("grown: read of the page written before", m + 2 * page, 0);
    c = 4;
    pwrite(fd, &c, 1, 2 * page);
    touch_byte("a write to the file shows", m + 2 * page, 0);
    touch_byte("a store makes a copy", m + 2 * page, 1);
    pread(fd, &c, 1, 2 * page);
    printf("the file keeps: %d\n", c);
    touch_byte("made read-only while gone: read", m + page, 0);
    touch_byte("made read-only while gone: write", m + page, 1);
    close(fd);
    return 0;
}
