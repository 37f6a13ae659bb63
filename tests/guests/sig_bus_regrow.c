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

// Read (or, when `w`, write 5 to) p[0]: what happened.
static void touch(const char *what, unsigned char *p, int w) {
    clear_bus();
    int v = -1;
    if (!sigsetjmp(back, 1)) {
        if (w)
            *(volatile unsigned char *)p = 5;
        else
            v = *(volatile unsigned char *)p;
        printf("%s: no signal (%d)\n", what, v);
        return;
    }
    if (sig == SIGSEGV)
        printf("%s: SIGSEGV\n", what);
    else
        report_bus(what, p, "the address touched");
}

static void on_segv(int s, siginfo_t *si, void *uc) {
    (void)si;
    (void)uc;
    sig = s;
    siglongjmp(back, 1);
}

// A file of three pages of 7s, open read-write.
static int three_pages(const char *name) {
    static char buf[3 * 4096];
    memset(buf, 7, sizeof buf);
    int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, buf, 3 * page) != 3 * page)
        return -1;
    unlink(name);
    return fd;
}

int main(void) {
    page = sysconf(_SC_PAGESIZE);
    catch_bus();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);

    printf("-- shared\n");
    int fd = three_pages("regrow_shared.bin");
    unsigned char *m = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (fd < 0 || m == MAP_FAILED)
        return 1;
    m[2 * page] = 8;
    ftruncate(fd, page);
    touch("short: read past the end", m + 2 * page, 0);
    ftruncate(fd, 3 * page);
    touch("grown: read", m + 2 * page, 0);
    touch("grown: write", m + 2 * page + 1, 1);
    unsigned char c = 0;
    pread(fd, &c, 1, 2 * page + 1);
    printf("the store reached the file: %d\n", c);
    ftruncate(fd, page);
    touch("short again: read", m + 2 * page, 0);
    c = 6;
    pwrite(fd, &c, 1, 2 * page + 3); // grows the file by a write
    touch("grown by a write: read", m + 2 * page + 3, 0);
    touch("grown by a write: the hole", m + 2 * page + 2, 0);
    close(fd);

    printf("-- private\n");
    fd = three_pages("regrow_private.bin");
    m = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (fd < 0 || m == MAP_FAILED)
        return 2;
    m[2 * page] = 9; // the guest's own copy
    m[page] = 9;
    ftruncate(fd, page);
    touch("short: read of the written page", m + 2 * page, 0);
    mprotect(m + page, page, PROT_READ);
    ftruncate(fd, 3 * page);
    touch("grown: read of the page written before", m + 2 * page, 0);
    c = 4;
    pwrite(fd, &c, 1, 2 * page);
    touch("a write to the file shows", m + 2 * page, 0);
    touch("a store makes a copy", m + 2 * page, 1);
    pread(fd, &c, 1, 2 * page);
    printf("the file keeps: %d\n", c);
    touch("made read-only while gone: read", m + page, 0);
    touch("made read-only while gone: write", m + page, 1);
    close(fd);
    return 0;
}
