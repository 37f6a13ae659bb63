// brk games: asking for absurd breaks (the whole address space, wrapping
// values, below the start, onto mapped memory) leaves the break where it
// was, as Linux does; a sane break works and its memory is usable.
#include "esc.h"

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    unsigned long b0 = syscall(SYS_brk, 0);
    unsigned long r;
    r = syscall(SYS_brk, -1ul);
    printf("brk(-1) keeps the break: %s\n", r == b0 ? "yes" : "no");
    r = syscall(SYS_brk, 1ul << 62);
    printf("brk(2^62) keeps the break: %s\n", r == b0 ? "yes" : "no");
    r = syscall(SYS_brk, 0x7ffffffff000ul);
    printf("brk(47-bit top) keeps the break: %s\n", r == b0 ? "yes" : "no");
    r = syscall(SYS_brk, 4096);
    printf("brk(below start) keeps the break: %s\n", r == b0 ? "yes" : "no");
    char *m = mmap((void *)((b0 + 0x200000) & ~4095ul), 4096, PROT_READ,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    r = syscall(SYS_brk, b0 + 0x400000);
    printf("brk over a mapping keeps the break: %s\n", m != MAP_FAILED && r == b0 ? "yes" : "no");
    r = syscall(SYS_brk, b0 + 65536);
    printf("brk(+64K) moves: %s\n", r == b0 + 65536 ? "yes" : "no");
    memset((void *)b0, 7, 65536);
    printf("new heap usable: yes\n");
    r = syscall(SYS_brk, b0);
    printf("shrink back: %s\n", r == b0 ? "yes" : "no");
    return 0;
}
