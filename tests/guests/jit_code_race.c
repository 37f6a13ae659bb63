// Data and code in one RWX page, as a JIT's code heap keeps them (HotSpot
// writes an nmethod's header fields beside its code): one thread keeps
// generating a function into the page, flushing and calling it until it
// is hot (so the translator translates it and write-protects the page),
// while two other threads keep storing into counters in the same page.
// Every store must land and none may fault: a store the host refuses
// while another thread is midway through protecting or lifting the page
// is made again, never given to the guest as SIGSEGV or SIGBUS (HotSpot
// died of such a SIGBUS in nmethod::mark_as_maybe_on_stack).
//@ cflags: -pthread
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096
#define ROUNDS 300
#define STORES 200000

typedef long (*fn)(long);
static char *page;
static atomic_int done;

static void flush(void *start, void *end) { syscall(259, start, end, 0); }

// addi a0, a0, imm ; ret
static void emit_addi(uint32_t *code, int imm) {
    code[0] = ((uint32_t)(imm & 0xfff) << 20) | (10 << 15) | (10 << 7) | 0x13;
    code[1] = 0x00008067;
}

// Plain stores (and one atomic add) into the code page, each counted.
static void *storer(void *arg) {
    volatile long *slot = (volatile long *)(page + 2048 + 64 * (long)(intptr_t)arg);
    _Atomic long *shared = (_Atomic long *)(page + 3072);
    long n = 0;
    while (!atomic_load(&done) || n < STORES) {
        *slot = *slot + 1;
        atomic_fetch_add(shared, 1);
        n++;
    }
    return (void *)n;
}

int main(void) {
    page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return 1;
    pthread_t t[2];
    for (long i = 0; i < 2; i++) pthread_create(&t[i], NULL, storer, (void *)i);
    int bad = 0;
    for (int r = 0; r < ROUNDS; r++) {
        // Two functions, alternating, so one is always being rewritten
        // while the other may still be translated.
        uint32_t *code = (uint32_t *)(page + 256 * (r % 2));
        emit_addi(code, r);
        flush(code, code + 2);
        fn f = (fn)code;
        long got = 0;
        for (int i = 0; i < 200; i++) got = f(1000);
        if (got != 1000 + r && bad++ < 5) printf("round %d: got %ld\n", r, got);
    }
    atomic_store(&done, 1);
    long total = 0;
    for (int i = 0; i < 2; i++) {
        void *n;
        pthread_join(t[i], &n);
        long want = (long)n;
        long got = *(volatile long *)(page + 2048 + 64 * i);
        if (got != want) printf("storer %d: counter %ld, stores %ld\n", i, got, want);
        total += want;
    }
    long shared = atomic_load((_Atomic long *)(page + 3072));
    if (shared != total) printf("shared counter %ld, adds %ld\n", shared, total);
    printf("%s: %d rounds of code, every store landed\n", bad ? "FAIL" : "ok", ROUNDS);
    return bad != 0;
}
