// A store to a page that holds code the guest has run (translated code,
// under pvm's translator) raises SIGBUS with si_code BUS_ADRERR and
// si_addr the address stored to, as Linux does, when the page is gone
// because the file of its (private) mapping was truncated under it; a store to code
// on the page still inside the file works and the new code runs. Writes
// through /proc/self/mem into the gone code (made read-only and
// executable first, so they are forced past the protection as a debugger's
// are) and reads of it (also made PROT_NONE) fail with EIO, while the kept
// page is written and read. Without a handler the process dies of SIGBUS. (An x86-64 build of this file
// gives the same output natively, with x86-64 code.)
//@ status: 135
//@ no-qemu: qemu-riscv64 keeps running its old translation of code rewritten through /proc/self/mem (the kernel's write bypasses qemu's write protection of translated pages), so it prints "it runs: 11"; the expectation is the x86-64 build's native output
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sig_bus.h"

typedef long (*fn)(void);

// Code that returns `v` (at most 2047), at p.
static void emit(unsigned char *p, int v) {
#ifdef __riscv
    uint32_t c[2] = {((uint32_t)v << 20) | (10 << 7) | 0x13, 0x00008067}; // li a0, v; ret
    memcpy(p, c, sizeof c);
    __builtin___clear_cache((char *)p, (char *)p + sizeof c);
#else
    unsigned char c[6] = {0xb8, (unsigned char)v, (unsigned char)(v >> 8), 0, 0, 0xc3};
    memcpy(p, c, sizeof c);
#endif
}

int main(void) {
    long page = sysconf(_SC_PAGESIZE);
    int fd = open("sigbus_smc.bin", O_RDWR | O_CREAT | O_TRUNC, 0700);
    if (fd < 0 || ftruncate(fd, 3 * page))
        return 1;
    unsigned char *m =
        mmap(NULL, 3 * page, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED)
        return 2;
    unlink("sigbus_smc.bin");
    unsigned char *gone = m + 2 * page, *kept = m;
    emit(gone, 7);
    emit(kept, 9);
    long sum = 0;
    for (int i = 0; i < 500; i++)
        sum += ((fn)gone)() + ((fn)kept)();
    printf("ran both: %ld\n", sum);
    if (ftruncate(fd, page))
        return 3;
    catch_bus();
    for (int i = 0; i < 2; i++) {
        clear_bus();
        if (!sigsetjmp(back, 1)) {
            ((volatile unsigned char *)gone)[1 + i] = 0;
            printf("store into the gone code: no signal\n");
        } else {
            report_bus("store into the gone code", gone + 1 + i, "the address stored to");
        }
    }
    emit(kept, 11);
    long k = 0;
    for (int i = 0; i < 100; i++)
        k += ((fn)kept)();
    printf("rewritten code inside the file: %ld\n", k);
    int mfd = open("/proc/self/mem", O_RDWR);
    if (mfd < 0 || mprotect(m, 3 * page, PROT_READ | PROT_EXEC))
        return 4;
    unsigned char b[8] = {0};
    long r = pwrite(mfd, b, 4, (off_t)(uintptr_t)(gone + 1));
    printf("/proc/self/mem write into the gone code: %ld %s\n", r, r < 0 ? strerrorname_np(errno) : "");
    r = pread(mfd, b, 4, (off_t)(uintptr_t)gone);
    printf("/proc/self/mem read of the gone code: %ld %s\n", r, r < 0 ? strerrorname_np(errno) : "");
    emit(b, 13);
    r = pwrite(mfd, b, 8, (off_t)(uintptr_t)kept);
    printf("/proc/self/mem write into the kept code: %ld %s\n", r, r < 0 ? strerrorname_np(errno) : "");
    __builtin___clear_cache((char *)kept, (char *)kept + 8);
    if (r == 8)
        printf("it runs: %ld\n", ((fn)kept)());
    mprotect(gone, page, PROT_NONE);
    r = pread(mfd, b, 4, (off_t)(uintptr_t)gone);
    printf("/proc/self/mem read of the gone page, PROT_NONE: %ld %s\n", r, r < 0 ? strerrorname_np(errno) : "");
    r = pread(mfd, b, 4, (off_t)(uintptr_t)(m + page - 2));
    printf("/proc/self/mem read across the end of the file: %ld %s\n", r, r < 0 ? strerrorname_np(errno) : "");
    mprotect(gone, page, PROT_READ | PROT_WRITE);
    signal(SIGBUS, SIG_DFL);
    fflush(stdout);
    ((volatile unsigned char *)gone)[4] = 1;
    printf("not reached\n");
    return 0;
}
