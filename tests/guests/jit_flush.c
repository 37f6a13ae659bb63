// A small JIT: functions generated into executable memory, made hot (so
// the translator has them, and their callers, in its cache), then
// rewritten in place and announced with riscv_flush_icache over just the
// bytes changed (as V8 does), or fence.i, and called again: the new code
// must run, never the old. Covers code rewritten in an RWX page, W^X
// (RW, write, RX), a caller in another page that calls the rewritten leaf
// (the translator may trace the leaf into the caller's region), a caller
// chained by a tail jump, and threads: one rewriting a function while
// another calls it. (`jit_flush_alias` writes code through a second view.)
//@ cflags: -pthread
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef long (*fn)(long);
#define PAGE 4096

static void flush(void *start, void *end) { syscall(259, start, end, 0); }

// addi a0, a0, imm ; ret
static void emit_addi(uint32_t *code, int imm) {
    code[0] = ((uint32_t)(imm & 0xfff) << 20) | (10 << 15) | (10 << 7) | 0x13;
    code[1] = 0x00008067;
}

// jal rd, target (from `at`)
static uint32_t jal(uint32_t *at, void *target, int rd) {
    int32_t off = (int32_t)((char *)target - (char *)at);
    uint32_t imm = ((off >> 20) & 1) << 31 | ((off >> 1) & 0x3ff) << 21 | ((off >> 11) & 1) << 20 |
                   ((off >> 12) & 0xff) << 12;
    return imm | (uint32_t)rd << 7 | 0x6f;
}

// A caller: a0 = leaf(a0) + 1, saving ra on the stack.
static void emit_caller(uint32_t *c, void *leaf) {
    c[0] = 0xff010113; // addi sp, sp, -16
    c[1] = 0x00113423; // sd ra, 8(sp)
    c[2] = jal(&c[2], leaf, 1);
    c[3] = 0x00150513; // addi a0, a0, 1
    c[4] = 0x00813083; // ld ra, 8(sp)
    c[5] = 0x01010113; // addi sp, sp, 16
    c[6] = 0x00008067; // ret
}

static long hot(fn f, long x) {
    long r = 0;
    for (int i = 0; i < 120; i++) r = f(x);
    return r;
}

static int bad;
static void check(const char *what, int round, long got, long want) {
    if (got != want && bad++ < 10) printf("%s round %d: got %ld, want %ld\n", what, round, got, want);
}

// Threads: the writer rewrites `slot` with version v and flushes, then
// publishes v; the caller reads the version, then calls: the result must
// be of that version or a later one.
#define VERSIONS 400
static uint32_t *slot;
static atomic_int version, done, stale;

static void *caller_thread(void *arg) {
    (void)arg;
    while (!atomic_load(&done)) {
        int v = atomic_load(&version);
        long r = ((fn)slot)(0);
        if (r < v) atomic_fetch_add(&stale, 1);
    }
    return NULL;
}

int main(void) {
    // Two adjacent RWX pages: leaves in the first, callers in the second.
    char *rwx = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint32_t *leaf = (uint32_t *)rwx, *leaf2 = (uint32_t *)(rwx + 256);
    uint32_t *caller = (uint32_t *)(rwx + PAGE), *tail = (uint32_t *)(rwx + PAGE + 256);
    uint32_t *other = (uint32_t *)(rwx + PAGE + 512);
    emit_addi(other, 7);
    emit_caller(caller, leaf);
    // tail: addi a0, a0, 2 ; j leaf2
    tail[0] = 0x00250513;
    tail[1] = jal(&tail[1], leaf2, 0);
    flush(rwx, rwx + 2 * PAGE);
    for (int k = 0; k < 60; k++) {
        emit_addi(leaf, k * 3);
        emit_addi(leaf2, k * 5);
        if (k % 4 == 3) {
            __asm__ volatile("fence.i" ::: "memory");
        } else {
            // Only the bytes that changed.
            flush(leaf, leaf + 2);
            flush(leaf2, leaf2 + 2);
        }
        check("leaf", k, hot((fn)leaf, 10), 10 + k * 3);
        check("caller", k, hot((fn)caller, 10), 10 + k * 3 + 1);
        check("tail", k, hot((fn)tail, 10), 10 + 2 + k * 5);
        check("other", k, hot((fn)other, 10), 17);
    }
    printf("rwx: leaves rewritten 60 times, callers in another page\n");

    // W^X: RW while written, RX while run.
    uint32_t *wx = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int k = 0; k < 40; k++) {
        mprotect(wx, PAGE, PROT_READ | PROT_WRITE);
        emit_addi(wx + 16 * (k % 3), 100 + k);
        mprotect(wx, PAGE, PROT_READ | PROT_EXEC);
        flush(wx + 16 * (k % 3), wx + 16 * (k % 3) + 2);
        check("w^x", k, hot((fn)(wx + 16 * (k % 3)), 1), 101 + k);
    }
    printf("w^x: rewritten 40 times\n");

    // One thread rewrites while another calls.
    slot = (uint32_t *)(rwx + 2048);
    emit_addi(slot, 0);
    flush(slot, slot + 2);
    pthread_t t;
    pthread_create(&t, NULL, caller_thread, NULL);
    for (int v = 1; v <= VERSIONS; v++) {
        // One store changes the function (its `ret` stays).
        __atomic_store_n(&slot[0], ((uint32_t)v << 20) | (10 << 15) | (10 << 7) | 0x13, __ATOMIC_RELAXED);
        flush(slot, slot + 1);
        atomic_store(&version, v);
        check("writer", v, hot((fn)slot, 0), v);
        if (v % 50 == 0) sched_yield();
    }
    atomic_store(&done, 1);
    pthread_join(t, NULL);
    printf("threads: %d versions, stale calls %d\n", VERSIONS, atomic_load(&stale));
    printf("mismatches: %d\n", bad);
    return bad != 0 || atomic_load(&stale) != 0;
}
