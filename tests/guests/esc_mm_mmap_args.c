// mmap with hostile lengths, offsets, flags and hints: zero or wrapping
// lengths, unaligned or overflowing offsets, unknown map types, hints past
// the address space (honoured only as hints), and a file mapping whose
// offset plus length wraps.
#include "esc.h"

static void show(const char *what, void *p) {
    if (p == MAP_FAILED)
        printf("%s: %s\n", what, en(errno));
    else
        printf("%s: ok\n", what);
}

int main(void) {
    int fd = open("/proc/self/exe", O_RDONLY);
    const int a = MAP_PRIVATE | MAP_ANONYMOUS;
    show("zero length", mmap(NULL, 0, PROT_READ, a, -1, 0));
    show("wrapping length", mmap(NULL, -4096ul, PROT_READ, a, -1, 0));
    show("2^63 length", mmap(NULL, 1ul << 63, PROT_READ, a, -1, 0));
    show("no map type", mmap(NULL, 4096, PROT_READ, MAP_ANONYMOUS, -1, 0));
    show("unaligned offset", mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 1));
    show("offset wraps", mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, (off_t)-4096));
    show("bad fd", mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 9999, 0));
    char *h = mmap((void *)0x7ffffffff000ul, 4096, PROT_READ | PROT_WRITE, a, -1, 0);
    show("hint past the space", h);
    if (h != MAP_FAILED) {
        h[0] = 1;
        printf("hint honoured: %s\n", (unsigned long)h == 0x7ffffffff000ul ? "yes" : "no");
    }
    char *k = mmap((void *)0xffffffff80000000ul, 4096, PROT_READ, a, -1, 0);
    show("kernel-half hint", k);
    if (k != MAP_FAILED)
        printf("kernel hint honoured: %s\n", (unsigned long)k == 0xffffffff80000000ul ? "yes" : "no");
    printf("still running: yes\n");
    return 0;
}
