// Shared code cache stress: worker threads run hot loops (and a generated
// function that never changes) while a writer thread rewrites another
// generated function 300 times; in lock step, every reader synchronises
// with the writer, runs fence.i and calls the new code, which must give
// the new result (RISC-V's rule for cross-hart code modification). Rounds
// meet at a barrier (blocking, so the busy workers get the CPUs between).
//@ cflags: -pthread
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

#define READERS 3
#define ROUNDS 200

typedef long (*fn)(long);
static uint32_t *shared_code, *stable_code;
static pthread_barrier_t round_start, round_end;
static atomic_int mismatches;
static atomic_int stop_workers;
static long worker_sums[2];

// addi a0, a0, imm ; ret
static void emit_addi(uint32_t *code, int imm) {
    code[0] = ((uint32_t)(imm & 0xfff) << 20) | (10 << 15) | (10 << 7) | 0x13;
    code[1] = 0x00008067;
}

static void *reader(void *arg) {
    (void)arg;
    for (int k = 1; k <= ROUNDS; k++) {
        pthread_barrier_wait(&round_start);
        __asm__ volatile("fence.i" ::: "memory");
        long r = ((fn)shared_code)(1000);
        if (r != 1000 + k % 2000) atomic_fetch_add(&mismatches, 1);
        pthread_barrier_wait(&round_end);
    }
    return NULL;
}

static void *worker(void *arg) {
    long id = (long)arg, s = 0;
    for (long i = 0; !atomic_load_explicit(&stop_workers, memory_order_relaxed); i++) {
        s = s * 31 + (i ^ id);
        s += ((fn)stable_code)(i & 7);
        // Hot, but not hogging one CPU's turn (the bare-metal host runs
        // every thread on one CPU, 4M instructions a turn).
        if (i % 20000 == 0) sched_yield();
    }
    worker_sums[id] = s;
    return NULL;
}

int main(void) {
    shared_code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    stable_code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    emit_addi(stable_code, 5);
    emit_addi(shared_code, 0);
    __asm__ volatile("fence.i" ::: "memory");
    pthread_barrier_init(&round_start, NULL, READERS + 1);
    pthread_barrier_init(&round_end, NULL, READERS + 1);
    pthread_t r[READERS], w[2];
    for (long i = 0; i < 2; i++) pthread_create(&w[i], NULL, worker, (void *)i);
    for (int i = 0; i < READERS; i++) pthread_create(&r[i], NULL, reader, NULL);
    for (int k = 1; k <= ROUNDS; k++) {
        emit_addi(shared_code, k % 2000);
        __asm__ volatile("fence.i" ::: "memory");
        if (((fn)shared_code)(1000) != 1000 + k % 2000) atomic_fetch_add(&mismatches, 1);
        pthread_barrier_wait(&round_start);
        pthread_barrier_wait(&round_end);
    }
    for (int i = 0; i < READERS; i++) pthread_join(r[i], NULL);
    atomic_store(&stop_workers, 1);
    for (int i = 0; i < 2; i++) pthread_join(w[i], NULL);
    printf("rounds %d, readers %d, mismatches %d\n", ROUNDS, READERS, atomic_load(&mismatches));
    printf("workers finished: %s\n", worker_sums[0] != 0 || worker_sums[1] != 0 ? "yes" : "no");
    return 0;
}
