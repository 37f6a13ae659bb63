// Memory management calls: mmap, munmap, mprotect, mremap, brk, madvise,
// file mappings.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
    long page = sysconf(_SC_PAGESIZE);
    printf("page size %ld\n", page);
    unsigned char *p = mmap(NULL, 16 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap ok: %d aligned: %d\n", p != MAP_FAILED, ((uintptr_t)p % page) == 0);
    int zero = 1;
    for (long i = 0; i < 16 * page; i++) zero &= p[i] == 0;
    printf("anonymous memory zeroed: %d\n", zero);
    memset(p, 0xab, 16 * page);
    printf("munmap middle: %d\n", munmap(p + 4 * page, 4 * page));
    printf("mprotect read-only: %d\n", mprotect(p, page, PROT_READ));
    printf("still readable: %x\n", p[10]);
    unsigned char *fixed = mmap(p + 4 * page, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("MAP_FIXED into hole: %d zero %d\n", fixed == p + 4 * page, fixed[0] == 0);
    unsigned char *grown = mremap(p + 8 * page, 8 * page, 32 * page, MREMAP_MAYMOVE);
    printf("mremap ok: %d contents kept: %d\n", grown != MAP_FAILED, grown[8 * page - 1] == 0xab);
    grown[32 * page - 1] = 1;
    printf("madvise: %d\n", madvise(grown, page, MADV_DONTNEED));
    printf("munmap unaligned: %d\n", munmap(grown + 1, page));
    printf("mmap bad prot/flags: %d\n", mmap(NULL, page, PROT_READ, 0, -1, 0) == MAP_FAILED);
    void *b0 = sbrk(0);
    void *b1 = sbrk(100000);
    void *b2 = sbrk(0);
    printf("sbrk grows: %d by %ld\n", b1 == b0, (long)((char *)b2 - (char *)b0));
    memset(b1, 7, 100000);
    printf("brk shrink: %d\n", brk(b0));
    int fd = open("mapped.bin", O_RDWR | O_CREAT | O_TRUNC, 0600);
    for (int i = 0; i < 3 * page; i++) write(fd, &(char){(char)(i % 251)}, 1);
    unsigned char *f = mmap(NULL, 3 * page, PROT_READ, MAP_PRIVATE, fd, 0);
    printf("file map: %d %d %d\n", f[0], f[page + 5], f[3 * page - 1]);
    unsigned char *f2 = mmap(NULL, page, PROT_READ, MAP_PRIVATE, fd, page);
    printf("file map at offset: %d\n", f2[0]);
    unsigned char *sh = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (sh == MAP_FAILED) {
        printf("shared file mapping failed: %s\n", strerror(errno));
    } else {
        sh[0] = 200;
        msync(sh, page, MS_SYNC);
        unsigned char c;
        pread(fd, &c, 1, 0);
        printf("shared mapping writes through: %d\n", c);
    }
    close(fd);
    unlink("mapped.bin");
    munmap(f, 3 * page);
    printf("big reservation: %d\n",
           mmap(NULL, (size_t)1 << 32, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) != MAP_FAILED);
    return 0;
}
