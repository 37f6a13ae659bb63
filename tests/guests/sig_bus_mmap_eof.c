// A file mapping longer than its file: the pages wholly past the file's
// end when `mmap` is called are not zeroes but gone from the start, as
// Linux has them: a touch (read or write) raises SIGBUS with si_code
// BUS_ADRERR and si_addr the address touched, for MAP_SHARED and
// MAP_PRIVATE alike, for an empty file and for an offset past the end;
// the page the file's last byte lies in reads its bytes then zeroes.
// Once the file grows over them (ftruncate), the pages read as the file
// does (zeroes), with no signal; a store to a shared one reaches the file.
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sig_bus.h"

static long page;

// A file of `n` bytes of 7s, open read-write, unlinked.
static int file_of(const char *name, long n) {
    static char buf[4096];
    memset(buf, 7, sizeof buf);
    int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, buf, n) != n)
        return -1;
    unlink(name);
    return fd;
}

static void one(const char *kind, int flags) {
    printf("-- %s\n", kind);
    int fd = file_of("eof.bin", page);
    unsigned char *m = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, flags, fd, 0);
    if (fd < 0 || m == MAP_FAILED) {
        printf("mmap failed\n");
        return;
    }
    touch_byte("page 0: read", m + 7, 0);
    touch_byte("page 0: write", m + 8, 1);
    touch_byte("page 1: read", m + page, 0);
    touch_byte("page 1: write", m + page + 3, 1);
    touch_byte("page 2: read", m + 3 * page - 1, 0);
    touch_byte("page 2: read again", m + 2 * page + 100, 0);
    if (ftruncate(fd, 2 * page))
        printf("ftruncate failed\n");
    touch_byte("grown: page 1: read", m + page + 3, 0);
    touch_byte("grown: page 1: write", m + page + 4, 1);
    unsigned char c = 0;
    pread(fd, &c, 1, page + 4);
    printf("grown: the file at the store: %d\n", c);
    touch_byte("grown: page 2 still past the end", m + 2 * page + 1, 0);
    munmap(m, 3 * page);
    close(fd);

    // A file whose last page is partly inside it.
    fd = file_of("eof.bin", 100);
    m = mmap(NULL, 2 * page, PROT_READ, flags, fd, 0);
    if (fd < 0 || m == MAP_FAILED) {
        printf("mmap failed\n");
        return;
    }
    touch_byte("short file: last byte", m + 99, 0);
    touch_byte("short file: past the last byte", m + 100, 0);
    touch_byte("short file: the page's end", m + page - 1, 0);
    touch_byte("short file: next page", m + page, 0);
    munmap(m, 2 * page);
    close(fd);

    // An empty file, then an offset past the end.
    fd = file_of("eof.bin", 0);
    m = mmap(NULL, page, PROT_READ, flags, fd, 0);
    if (fd < 0 || m == MAP_FAILED) {
        printf("mmap failed\n");
        return;
    }
    touch_byte("empty file", m, 0);
    munmap(m, page);
    ftruncate(fd, page);
    m = mmap(NULL, page, PROT_READ, flags, fd, 4 * page);
    if (m == MAP_FAILED) {
        printf("mmap failed\n");
        return;
    }
    touch_byte("offset past the end", m + 1, 0);
    ftruncate(fd, 5 * page);
    touch_byte("offset past the end, grown", m + 1, 0);
    munmap(m, page);
    close(fd);
}

int main(void) {
    page = sysconf(_SC_PAGESIZE);
    catch_bus();
    one("shared", MAP_SHARED);
    one("private", MAP_PRIVATE);
    return 0;
}
