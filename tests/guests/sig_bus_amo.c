// Atomics (AMO*, and LR/SC through a compare-and-swap) on a page of a
// shared file mapping whose file was truncated under it raise SIGBUS with
// si_code BUS_ADRERR and si_addr the word's address, as Linux does, after
// running often enough on a page inside the file to be translated; the
// word inside the file keeps the atomics' results. Without a handler the
// process dies of SIGBUS. (An x86-64 build of this file gives the same
// output natively: the native atomics stand in for the RISC-V ones.)
//@ status: 135
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sig_bus.h"

static const char *names[] = {"amoadd.w", "amoadd.d", "amoswap.w", "amoswap.d", "amoor.w",
                              "amoand.d", "amoxor.w", "amomax.w", "amominu.d", "cas.w (lr/sc)",
                              "cas.d (lr/sc)"};
#define N (int)(sizeof names / sizeof names[0])

// Atomic number `which` on the word at p; returns the old value.
static __attribute__((noinline)) uint64_t amo(int which, void *p) {
    uint32_t *w = p;
    uint64_t *d = p;
    uint64_t r = 0;
    switch (which) {
    case 0: return __atomic_fetch_add(w, 1, __ATOMIC_SEQ_CST);
    case 1: return __atomic_fetch_add(d, 1, __ATOMIC_SEQ_CST);
    case 2: return __atomic_exchange_n(w, 5, __ATOMIC_SEQ_CST);
    case 3: return __atomic_exchange_n(d, 6, __ATOMIC_SEQ_CST);
    case 4: return __atomic_fetch_or(w, 8, __ATOMIC_SEQ_CST);
    case 5: return __atomic_fetch_and(d, ~(uint64_t)1, __ATOMIC_SEQ_CST);
    case 6: return __atomic_fetch_xor(w, 3, __ATOMIC_SEQ_CST);
#ifdef __riscv
    case 7: __asm__ volatile("amomax.w %0, %2, (%1)" : "=r"(r) : "r"(w), "r"(7) : "memory"); return r;
    case 8: __asm__ volatile("amominu.d %0, %2, (%1)" : "=r"(r) : "r"(d), "r"(9) : "memory"); return r;
#else
    case 7: {
        uint32_t o = __atomic_load_n(w, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n(w, &o, (int32_t)o > 7 ? o : 7, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
            ;
        return o;
    }
    case 8: {
        uint64_t o = __atomic_load_n(d, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n(d, &o, o < 9 ? o : 9, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
            ;
        return o;
    }
#endif
    case 9: {
        uint32_t o = *(volatile uint32_t *)w;
        __atomic_compare_exchange_n(w, &o, o + 2, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
        return o;
    }
    default: {
        uint64_t o = *(volatile uint64_t *)d;
        __atomic_compare_exchange_n(d, &o, o + 2, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
        return o;
    }
    }
    return r;
}

int main(void) {
    long page = sysconf(_SC_PAGESIZE);
    int fd = open("sigbus_amo.bin", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, 3 * page))
        return 1;
    unsigned char *m = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        return 2;
    unlink("sigbus_amo.bin");
    m[2 * page] = 1; // the page is there before the truncation
    if (ftruncate(fd, page))
        return 3;
    catch_bus();
    uint64_t sum = 0;
    for (int i = 0; i < N; i++) {
        // Often on the page inside the file (translated by then), then
        // once on the gone page.
        for (int k = 0; k < 300; k++)
            sum += amo(i, m + 64);
        clear_bus();
        unsigned char *at = m + 2 * page + 8 * i;
        if (!sigsetjmp(back, 1)) {
            amo(i, at);
            printf("%s: no signal\n", names[i]);
            continue;
        }
        report_bus(names[i], at, "the word");
    }
    printf("inside the file: %llu %llu\n", (unsigned long long)sum,
           (unsigned long long)*(uint64_t *)(m + 64));
    signal(SIGBUS, SIG_DFL);
    fflush(stdout);
    __atomic_fetch_add((uint32_t *)(m + 2 * page), 1, __ATOMIC_SEQ_CST);
    printf("not reached\n");
    return 0;
}
