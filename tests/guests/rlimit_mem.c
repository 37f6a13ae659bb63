// RLIMIT_AS, RLIMIT_DATA and RLIMIT_STACK as Linux keeps them: getrlimit
// returns what setrlimit/prlimit set, and the AS and DATA limits bound
// mmap, mremap, mprotect and brk (ENOMEM, or an unmoved break).
//
// The expectation is written by hand from Linux's mm/mmap.c
// (may_expand_vm, check_data_rlimit): qemu-riscv64 accepts these limits
// and forgets them (it would otherwise apply them to itself). The limits
// leave a wide margin over what the program maps, so the answers do not
// depend on how big the C library or the initial stack is.
//@ no-qemu: qemu-riscv64 accepts RLIMIT_AS/DATA/STACK and forgets them
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define MIB (1024UL * 1024)

static const char *err(void *p) {
    return p == MAP_FAILED ? (errno == ENOMEM ? "ENOMEM" : "other error") : "ok";
}

static void show(const char *name, int res) {
    struct rlimit r;
    getrlimit(res, &r);
    printf("%s: cur %lu MiB max %s\n", name, (unsigned long)(r.rlim_cur / MIB),
           r.rlim_max == RLIM_INFINITY ? "unlimited" : "limited");
}

int main(void) {
    struct rlimit r, old;

    // Remembered: what was set comes back, through both interfaces.
    getrlimit(RLIMIT_STACK, &old);
    r.rlim_cur = 4 * MIB;
    r.rlim_max = old.rlim_max;
    printf("setrlimit stack: %d\n", setrlimit(RLIMIT_STACK, &r));
    show("stack", RLIMIT_STACK);
    struct rlimit got;
    r.rlim_cur = 6 * MIB;
    printf("prlimit stack: %d", prlimit(0, RLIMIT_STACK, &r, &got));
    printf(" old cur %lu MiB\n", (unsigned long)(got.rlim_cur / MIB));
    show("stack", RLIMIT_STACK);
    r.rlim_cur = 8 * MIB;
    r.rlim_max = 4 * MIB;
    printf("soft above hard: %d %s\n", setrlimit(RLIMIT_STACK, &r), errno == EINVAL ? "EINVAL" : "?");

    // RLIMIT_AS: 256 MiB in all.
    r.rlim_cur = 256 * MIB;
    r.rlim_max = RLIM_INFINITY;
    printf("setrlimit as: %d\n", setrlimit(RLIMIT_AS, &r));
    show("as", RLIMIT_AS);
    void *big = mmap(NULL, 512 * MIB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap 512 MiB under AS 256 MiB: %s\n", err(big));
    void *small = mmap(NULL, 16 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap 16 MiB: %s\n", err(small));
    void *grown = mremap(small, 16 * MIB, 400 * MIB, MREMAP_MAYMOVE);
    printf("mremap to 400 MiB: %s\n", err(grown));
    grown = mremap(small, 16 * MIB, 32 * MIB, MREMAP_MAYMOVE);
    printf("mremap to 32 MiB: %s\n", err(grown));
    if (grown != MAP_FAILED) small = grown;
    void *brk0 = sbrk(0);
    printf("sbrk 512 MiB: %s\n", sbrk(512 * MIB) == (void *)-1 && errno == ENOMEM ? "ENOMEM" : "grew");
    printf("break unmoved: %d\n", sbrk(0) == brk0);
    printf("malloc 512 MiB: %s\n", malloc(512 * MIB) == NULL ? "NULL" : "memory");
    // Unmapping gives room back.
    munmap(small, 32 * MIB);
    r.rlim_cur = RLIM_INFINITY;
    printf("setrlimit as unlimited: %d\n", setrlimit(RLIMIT_AS, &r));
    big = mmap(NULL, 512 * MIB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap 512 MiB unlimited: %s\n", err(big));
    munmap(big, 512 * MIB);

    // RLIMIT_DATA: 64 MiB of private writable memory.
    r.rlim_cur = 64 * MIB;
    r.rlim_max = RLIM_INFINITY;
    printf("setrlimit data: %d\n", setrlimit(RLIMIT_DATA, &r));
    show("data", RLIMIT_DATA);
    void *p = mmap(NULL, 128 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("private writable 128 MiB: %s\n", err(p));
    void *ro = mmap(NULL, 128 * MIB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("private read-only 128 MiB: %s\n", err(ro));
    if (ro != MAP_FAILED) {
        printf("mprotect it writable: %d %s\n", mprotect(ro, 128 * MIB, PROT_READ | PROT_WRITE),
               errno == ENOMEM ? "ENOMEM" : "?");
        errno = 0;
        printf("mprotect 1 MiB of it writable: %d\n", mprotect(ro, 1 * MIB, PROT_READ | PROT_WRITE));
        munmap(ro, 128 * MIB);
    }
    void *sh = mmap(NULL, 128 * MIB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    printf("shared writable 128 MiB: %s\n", err(sh));
    if (sh != MAP_FAILED) munmap(sh, 128 * MIB);
    brk0 = sbrk(0);
    printf("sbrk 128 MiB: %s\n", sbrk(128 * MIB) == (void *)-1 && errno == ENOMEM ? "ENOMEM" : "grew");
    printf("break unmoved: %d\n", sbrk(0) == brk0);
    void *ok = sbrk(1 * MIB);
    printf("sbrk 1 MiB: %s\n", ok == (void *)-1 ? "failed" : "grew");
    void *m = malloc(100 * MIB);
    printf("malloc 100 MiB: %s\n", m == NULL ? "NULL" : "memory");
    m = malloc(8 * MIB);
    printf("malloc 8 MiB: %s\n", m == NULL ? "NULL" : "memory");

    // Lowering the hard limit is always allowed, and it is remembered.
    r.rlim_cur = 32 * MIB;
    r.rlim_max = 48 * MIB;
    printf("lower data hard limit: %d\n", setrlimit(RLIMIT_DATA, &r));
    show("data", RLIMIT_DATA);
    return 0;
}
