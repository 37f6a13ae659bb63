// munmap with hostile ranges: unaligned, zero length, lengths that wrap,
// ranges past the address space; none of it unmaps anything of the
// program's or the VM's, and the program keeps running.
//@ no-qemu: qemu-riscv64 7.2 aborts on a wrapping range (page_set_flags assertion)
#include "esc.h"

int main(void) {
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    res("unaligned", munmap(p + 1, 4096));
    res("zero length", munmap(p, 0));
    res("length wraps", munmap(p, -4096ul));
    res("all of memory", munmap((void *)0, -4096ul));
    res("top page", munmap((void *)0xfffffffffffff000ul, 4096));
    res("kernel half", munmap((void *)0xffffffff80000000ul, 1 << 20));
    res("non-canonical", munmap((void *)0x800000000000ul, 1 << 20));
    p[0] = 'x';
    printf("mapping intact: %s\n", p[0] == 'x' ? "yes" : "no");
    res("own mapping", munmap(p, 8192));
    printf("still running: yes\n");
    return 0;
}
