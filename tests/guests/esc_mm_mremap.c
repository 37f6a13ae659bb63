// mremap with hostile sizes and destinations: growing without bound,
// moving onto addresses past the address space or overlapping the source,
// unaligned or wrapping values; the source stays as it was when the call
// fails.
//@ no-qemu: qemu-user checks a fixed destination past its space later than Linux (ENOMEM, Linux says EINVAL)
#include "esc.h"

int main(void) {
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    strcpy(p, "source");
    void *r;
    r = mremap(p, 8192, 1ul << 62, MREMAP_MAYMOVE);
    printf("grow to 2^62: %s\n", r == MAP_FAILED ? en(errno) : "ok");
    r = mremap(p, 8192, -4096ul, MREMAP_MAYMOVE);
    printf("grow to wrap: %s\n", r == MAP_FAILED ? en(errno) : "ok");
    r = mremap(p, 8192, 8192, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)0xfffffffffffff000ul);
    printf("move to top page: %s\n", r == MAP_FAILED ? en(errno) : "ok");
    r = mremap(p, 8192, 8192, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)0x7fffffffe000ul);
    printf("move to 47-bit top: %s\n", r == MAP_FAILED ? en(errno) : "ok");
    r = mremap(p, 8192, 8192, MREMAP_MAYMOVE | MREMAP_FIXED, p + 4096);
    printf("move onto itself: %s\n", r == MAP_FAILED ? en(errno) : "ok");
    r = mremap(p + 1, 4096, 8192, MREMAP_MAYMOVE);
    printf("unaligned: %s\n", r == MAP_FAILED ? en(errno) : "ok");
    r = mremap((void *)0xffffffff80000000ul, 4096, 8192, MREMAP_MAYMOVE);
    printf("kernel half source: %s\n", r == MAP_FAILED ? en(errno) : "ok");
    r = mremap(p, 8192, 4096, 0xff);
    printf("unknown flags: %s\n", r == MAP_FAILED ? en(errno) : "ok");
    printf("source intact: %s\n", strcmp(p, "source") == 0 ? "yes" : "no");
    r = mremap(p, 8192, 1 << 20, MREMAP_MAYMOVE);
    printf("grow to 1 MiB: %s, data kept: %s\n", r == MAP_FAILED ? en(errno) : "ok",
           r != MAP_FAILED && strcmp(r, "source") == 0 ? "yes" : "no");
    return 0;
}
