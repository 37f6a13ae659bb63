// A file mapping grown by `mremap` past the file's end: the pages the
// growth adds map the file's next pages, as Linux's do, so those wholly
// past its end are gone (a touch raises SIGBUS, BUS_ADRERR, si_addr the
// address touched) and those the file reaches into show its bytes. For
// MAP_SHARED and MAP_PRIVATE, grown in place (no flag), moved
// (MREMAP_MAYMOVE with the pages after it taken) and moved to a place of
// the caller's (MREMAP_FIXED). Once the file grows over them
// (ftruncate), the pages read as the file does (a byte written with
// `pwrite` shows through both kinds), with no signal; a store to a
// shared one reaches the file.
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sig_bus.h"

static long page;

// A file of `n` pages, page i holding bytes i+1, open read-write,
// unlinked.
static int file_of(const char *name, int n) {
    static char buf[65536];
    int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        memset(buf, i + 1, page);
        if (pwrite(fd, buf, page, i * page) != page)
            return -1;
    }
    unlink(name);
    return fd;
}

enum how { IN_PLACE, MAYMOVE, FIXED };
static const char *how_name[] = {"in place", "maymove", "fixed"};

// Map `pages` pages of a file of `file_pages` pages from page `first`,
// then grow the mapping to `pages + 2` pages `how`.
static void one(const char *kind, int flags, enum how how, int file_pages, int first, int pages) {
    printf("-- %s, %s, file of %d pages, %d mapped from page %d, grown by 2\n", kind,
           how_name[how], file_pages, pages, first);
    int fd = file_of("mremap_eof.bin", file_pages);
    // Room: a reservation of `pages + 2` pages (and 2 more after it for
    // the obstacle) that the mapping replaces at its start.
    int total = pages + 2;
    unsigned char *room = mmap(NULL, (total + 2) * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (fd < 0 || room == MAP_FAILED) {
        printf("set-up failed\n");
        return;
    }
    munmap(room, (total + 2) * page);
    unsigned char *m =
        mmap(room, pages * page, PROT_READ | PROT_WRITE, flags | MAP_FIXED, fd, first * page);
    if (m == MAP_FAILED) {
        printf("mmap failed\n");
        return;
    }
    // A store before the growth stays (a private page's own copy moves
    // with it).
    m[pages * page - 20] = 6;
    unsigned char *obstacle = NULL;
    if (how == MAYMOVE) {
        // Take the page after the mapping: it cannot grow in place.
        obstacle = mmap(m + pages * page, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (obstacle == MAP_FAILED) {
            printf("obstacle failed\n");
            return;
        }
    }
    unsigned char *g;
    if (how == FIXED) {
        unsigned char *to = mmap(NULL, total * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        g = mremap(m, pages * page, total * page, MREMAP_MAYMOVE | MREMAP_FIXED, to);
        printf("moved where asked: %s\n", g == to ? "yes" : "no");
    } else {
        g = mremap(m, pages * page, total * page, how == MAYMOVE ? MREMAP_MAYMOVE : 0);
        if (g != MAP_FAILED)
            printf("moved: %s\n", g == m ? "no" : "yes");
    }
    if (g == MAP_FAILED) {
        perror("mremap");
        return;
    }
    printf("the store before: %d\n", g[pages * page - 20]);
    char what[64];
    for (int i = 0; i < total; i++) {
        snprintf(what, sizeof what, "page %d: read", i);
        touch_byte(what, g + i * page + 9, 0);
    }
    snprintf(what, sizeof what, "page %d: write", total - 1);
    touch_byte(what, g + (total - 1) * page + 10, 1);

    // Grow the file over the whole mapping, then write a byte into its
    // last page through the file.
    int end = first + total;
    if (ftruncate(fd, end * page))
        printf("ftruncate failed\n");
    unsigned char nine = 9;
    if (pwrite(fd, &nine, 1, (end - 1) * page + 11) != 1)
        printf("pwrite failed\n");
    for (int i = 0; i < total; i++) {
        snprintf(what, sizeof what, "grown file: page %d: read", i);
        touch_byte(what, g + i * page + 11, 0);
    }
    touch_byte("grown file: a store to the last page", g + (total - 1) * page + 12, 1);
    unsigned char c = 0;
    if (pread(fd, &c, 1, (end - 1) * page + 12) != 1)
        printf("pread failed\n");
    printf("grown file: the file at the store: %d\n", c);
    munmap(g, total * page);
    if (obstacle)
        munmap(obstacle, page);
    close(fd);
}

int main(void) {
    page = sysconf(_SC_PAGESIZE);
    catch_bus();
    static const struct {
        const char *name;
        int flags;
    } kinds[] = {{"shared", MAP_SHARED}, {"private", MAP_PRIVATE}};
    for (int k = 0; k < 2; k++) {
        for (int h = IN_PLACE; h <= FIXED; h++)
            one(kinds[k].name, kinds[k].flags, h, 1, 0, 1);
        // The file reaches into the first added page; a mapping from
        // an offset.
        one(kinds[k].name, kinds[k].flags, IN_PLACE, 3, 1, 1);
        one(kinds[k].name, kinds[k].flags, MAYMOVE, 4, 1, 2);
    }
    return 0;
}
