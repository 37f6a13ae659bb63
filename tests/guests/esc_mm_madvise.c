// madvise with hostile ranges and advice: unmapped ranges ENOMEM, bad
// alignment and unknown advice EINVAL, privileged advice (MADV_HWPOISON)
// EPERM; MADV_DONTNEED on the guest's own page zeroes only that page.
//@ no-qemu: qemu-user ignores madvise (0 for any advice and range)
#include "esc.h"

int main(void) {
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    p[0] = 1;
    p[4096] = 2;
    res("unaligned", madvise(p + 1, 4096, MADV_DONTNEED));
    res("unknown advice", madvise(p, 4096, 12345));
    res("wraps", madvise(p, -4096ul, MADV_DONTNEED));
    res("top page", madvise((void *)0xfffffffffffff000ul, 4096, MADV_DONTNEED));
    res("47-bit top", madvise((void *)0x7ffffffff000ul, 4096, MADV_DONTNEED));
    res("kernel half", madvise((void *)0xffffffff80000000ul, 4096, MADV_DONTNEED));
    res("hwpoison", madvise(p, 4096, MADV_HWPOISON));
    res("own page", madvise(p, 4096, MADV_DONTNEED));
    printf("own page zeroed: %d, next kept: %d\n", p[0], p[4096]);
    return 0;
}
