// Code patched through /proc/self/mem runs: a function that returned 1 is
// rewritten (li a0,1 -> li a0,2) after it ran, and returns 2 once the
// instruction cache is flushed, under the interpreter and the translator.
//@ no-qemu: qemu-user does not see writes that /proc/self/mem makes behind its translated code and keeps running the old instructions
#include "esc.h"

__attribute__((noinline, aligned(16))) int one(void) {
    int r;
    __asm__ volatile(".option push\n.option norvc\naddi %0, zero, 1\n.option pop" : "=r"(r));
    return r;
}

int main(void) {
    int fd = open("/proc/self/mem", O_RDWR);
    int sum = 0;
    for (int i = 0; i < 200; i++)
        sum += one();
    printf("before: %d\n", sum);
    unsigned int ins, *at = (unsigned int *)one;
    int k;
    for (k = 0; k < 16; k++) {
        if (pread(fd, &ins, 4, (off_t)(uintptr_t)(at + k)) == 4 && (ins & 0xfff0707f) == 0x00100013)
            break;
    }
    printf("found li 1: %s\n", k < 16 ? "yes" : "no");
    ins = (ins & ~0xfff00000u) | (2u << 20);
    resn("pwrite code", pwrite(fd, &ins, 4, (off_t)(uintptr_t)(at + k)));
    __builtin___clear_cache((char *)one, (char *)one + 64);
    sum = 0;
    for (int i = 0; i < 200; i++)
        sum += one();
    printf("after: %d\n", sum);
    return 0;
}
