// /proc/self/mem writes through read-only mappings (the kernel's
// FOLL_FORCE): a read-only page takes the write, a fresh private mapping
// of a file changes only in memory.
#include "esc.h"

static const char ro[] = "read-only string";

int main(void) {
    int fd = open("/proc/self/mem", O_RDWR);
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    strcpy(p, "before");
    mprotect(p, 4096, PROT_READ);
    resn("pwrite read-only page", pwrite(fd, "after!", 6, (off_t)(uintptr_t)p));
    printf("page now: %s\n", p);
    resn("pwrite .rodata", pwrite(fd, "READ", 4, (off_t)(uintptr_t)ro));
    printf("rodata now: %s\n", ro);
    mprotect(p, 4096, PROT_READ | PROT_WRITE);
    printf("page writable again: %s\n", (p[0] = 'A') == 'A' ? "yes" : "no");
    return 0;
}
