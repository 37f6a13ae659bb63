// /proc/self/pagemap is indexed by guest page: a touched page of the
// guest is present, a hole is not, and no physical frame number shows
// (an unprivileged process sees 0).
//@ no-qemu: as root, Linux and qemu-user show frame numbers and open pagemap for writing; pvm answers as to an unprivileged process (SECURITY.md)
#include "esc.h"

char global[8192];

static uint64_t entry(int fd, unsigned long addr) {
    uint64_t e = ~0ull;
    if (pread(fd, &e, 8, (off_t)(addr / 4096 * 8)) != 8)
        return ~0ull;
    return e;
}

int main(void) {
    int fd = open("/proc/self/pagemap", O_RDONLY);
    res("open", fd);
    global[0] = 1;
    uint64_t g = entry(fd, (unsigned long)global);
    printf("touched page present: %d\n", (int)(g >> 63 & 1));
    printf("pfn shown: %s\n", (g & ((1ull << 55) - 1)) ? "yes" : "no");
    // A mapped page is present only once touched, as Linux shows it.
    char *q = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    q[4096] = 1;
    printf("untouched page present: %d\n", (int)(entry(fd, (unsigned long)q) >> 63 & 1));
    printf("written page present: %d\n", (int)(entry(fd, (unsigned long)q + 4096) >> 63 & 1));
    printf("written page exclusive: %d\n", (int)(entry(fd, (unsigned long)q + 4096) >> 56 & 1));
    munmap(q, 2 * 4096);
    char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p, 4096);
    printf("unmapped page present: %d\n", (int)(entry(fd, (unsigned long)p) >> 63 & 1));
    resn("open for writing", open("/proc/self/pagemap", O_WRONLY));
    return 0;
}
