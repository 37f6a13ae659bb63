// madvise(MADV_DONTNEED) on shared mappings drops only the local copy of
// the pages: a MAP_SHARED file mapping afterwards reads the file's
// contents (including what was written through the mapping), and later
// writes still reach the file; shared anonymous memory keeps its contents.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
    long page = sysconf(_SC_PAGESIZE);
    const char *path = "madvise_shared.tmp";
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    char buf[2 * 4096];
    memset(buf, 'f', sizeof buf);
    memcpy(buf, "file contents", 13);
    printf("write: %zd\n", write(fd, buf, 2 * page));
    char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("mmap shared: %d\n", m != MAP_FAILED);
    memcpy(m + page, "through the map", 15);
    printf("madvise dontneed: %d\n", madvise(m, 2 * page, MADV_DONTNEED));
    printf("page 0 after: %.13s\n", m);
    printf("page 1 after: %.15s\n", m + page);
    // The file changes under the mapping: the mapping shows it.
    printf("pwrite: %zd\n", pwrite(fd, "FILE", 4, 0));
    printf("page 0 now: %.13s\n", m);
    memcpy(m + 100, "later write", 11);
    char back[16] = {0};
    printf("pread: %zd %.11s\n", pread(fd, back, 11, 100), back);
    munmap(m, 2 * page);
    close(fd);
    unlink(path);

    // Shared anonymous memory keeps its contents too.
    char *a = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    strcpy(a, "shared anonymous");
    printf("madvise shared anon: %d\n", madvise(a, page, MADV_DONTNEED));
    printf("shared anon after: %s\n", a);
    munmap(a, page);
    return 0;
}
