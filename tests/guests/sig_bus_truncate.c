// A private file mapping whose file is truncated under it: a page past
// the new end that the guest has not written is gone, and touching it
// (read or write) raises SIGBUS with si_code BUS_ADRERR and si_addr the
// address touched, as Linux does; the handler runs and siglongjmps out,
// more than once. A page past the end that the guest wrote (its private
// copy) is gone too (Linux unmaps copies past the end as well); the page
// still inside the file stays. A system call given an address in a gone
// page fails with EFAULT. Without a handler, the process dies of SIGBUS.
//@ status: 135
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sig_bus.h"

static unsigned char *m;
static long page;

// Touch m[off] (a write when `w`): what happened.
static void touch(const char *what, long off, int w) {
    clear_bus();
    int v = -1;
    if (!sigsetjmp(back, 1)) {
        if (w)
            ((volatile unsigned char *)m)[off] = 5;
        else
            v = ((volatile unsigned char *)m)[off];
        printf("%s: no signal (%d)\n", what, v);
        return;
    }
    report_bus(what, m + off, "the address touched");
}

int main(void) {
    page = sysconf(_SC_PAGESIZE);
    int fd = open("sigbus.bin", O_RDWR | O_CREAT | O_TRUNC, 0600);
    static char buf[3 * 4096];
    memset(buf, 7, sizeof buf);
    if (fd < 0 || write(fd, buf, 3 * page) != 3 * page)
        return 1;
    m = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED)
        return 2;
    printf("before: %d %d %d\n", m[0], m[page], m[2 * page]);
    m[page + 1] = 9; // page 1 becomes the guest's own copy
    if (ftruncate(fd, page))
        return 3;
    catch_bus();
    touch("read past the end", 2 * page + 5, 0);
    touch("write past the end", 2 * page + 9, 1);
    touch("read past the end again", 3 * page - 1, 0);
    touch("read inside the file", 7, 0);
    touch("read of the written page", page + 1, 0);
    int p[2];
    pipe(p);
    errno = 0;
    long r = write(p[1], m + 2 * page, 1);
    printf("write(2) from the gone page: %ld %s\n", r, r < 0 ? strerrorname_np(errno) : "");
    // Without a handler: the process dies of SIGBUS.
    signal(SIGBUS, SIG_DFL);
    fflush(stdout);
    unlink("sigbus.bin");
    m[2 * page] = 1;
    printf("not reached\n");
    return 0;
}
