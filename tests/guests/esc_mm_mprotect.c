// mprotect with hostile ranges and flags: unmapped ranges are ENOMEM,
// unaligned starts and unknown bits EINVAL, wrapping lengths ENOMEM;
// rights the guest gives itself apply to its own pages only.
//@ no-qemu: qemu-riscv64 7.2 aborts on a wrapping range (page_set_flags assertion)
#include "esc.h"

int main(void) {
    char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p + 8192, 4096);
    res("unaligned", mprotect(p + 1, 4096, PROT_READ));
    res("unknown bits", mprotect(p, 4096, 0x100));
    res("wraps", mprotect(p, -4096ul, PROT_READ));
    res("top page", mprotect((void *)0xfffffffffffff000ul, 4096, PROT_READ | PROT_WRITE));
    res("kernel half", mprotect((void *)0xffffffff80000000ul, 4096, PROT_READ | PROT_WRITE | PROT_EXEC));
    res("47-bit top", mprotect((void *)0x7ffffffff000ul, 4096, PROT_READ | PROT_WRITE | PROT_EXEC));
    res("hole after mapping", mprotect(p, 3 * 4096, PROT_READ));
    res("own rwx", mprotect(p, 8192, PROT_READ | PROT_WRITE | PROT_EXEC));
    res("zero length anywhere", mprotect((void *)0x7ffffffff000ul, 0, PROT_READ));
    p[0] = 1;
    printf("still running: yes\n");
    return 0;
}
