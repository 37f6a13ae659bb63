// MAP_FIXED at addresses across the whole 64-bit range: inside the
// guest's address space it maps usable memory; past it (the 47-bit host
// user range, the kernel half, values whose end wraps) it fails as Linux
// fails a mapping past TASK_SIZE (ENOMEM) or below mmap_min_addr (EPERM),
// and the program keeps running.
//@ no-qemu: qemu-user's guest address space is the host's 47-bit range; pvm's is 64 GiB (SECURITY.md)
#include "esc.h"

static void try(unsigned long a, unsigned long len, int extra) {
    char *p = mmap((void *)a, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | extra, -1, 0);
    if (p == MAP_FAILED) {
        printf("%#lx+%#lx: %s\n", a, len, en(errno));
        return;
    }
    p[0] = 1;
    p[len - 1] = 2;
    printf("%#lx+%#lx: mapped at %s, usable\n", a, len, (unsigned long)p == a ? "the address" : "elsewhere");
    munmap(p, len);
}

int main(void) {
    try(0, 4096, 0);
    try(0x1000, 4096, 0);
    try(0x10000000, 4096, 0);
    try(0x100000000ul, 1 << 20, 0);
    try(0xfff000000ul, 4096, 0);
    try(0x1000000000ul - 8192, 8192, MAP_FIXED_NOREPLACE);
    for (int b = 36; b < 64; b += 3)
        try(1ul << b, 4096, 0);
    try(0x7ffffffff000ul, 4096, 0);
    try(0xfffffffffffff000ul, 4096, 0);
    try(0xffffffffffffe000ul, 8192, 0);
    try(0x1000000000ul - 4096, 8192, 0);
    printf("still running: yes\n");
    return 0;
}
