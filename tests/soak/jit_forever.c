// Soak guest: a JIT that never stops writing fresh code. Each round
// writes a small function (li a0, K; a few addi/xori/slli with constants
// that change every round; ret) into an executable buffer, makes it
// visible with fence.i and calls it. Round r writes at slot r % 4096 of
// a 1 MiB buffer, so the translator sees both new addresses (its cache
// fills and is flushed) and old addresses with new code (self-modifying
// code: the old translation must go). Runs for argv[1] seconds (default
// 10), then prints the number of rounds and a checksum of the results
// (checked against a C model of the same functions).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define SLOT 256
#define SLOTS 4096

static uint32_t i_type(uint32_t op, uint32_t f3, uint32_t rd, uint32_t rs1, int32_t imm) {
    return ((uint32_t)(imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    double secs = argc > 1 ? atof(argv[1]) : 10;
    uint32_t *buf = mmap(0, SLOT * SLOTS, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    uint64_t sum = 0, want = 0, rounds = 0;
    uint32_t seed = 12345;
    double end = now() + secs;
    for (;;) {
        if ((rounds & 255) == 0 && now() >= end) break;
        uint32_t *f = buf + (rounds % SLOTS) * (SLOT / 4);
        int n = 0;
        int64_t model = 0;
        seed = seed * 1103515245 + 12345;
        int32_t k = (int32_t)(seed >> 8) & 0x7ff;
        f[n++] = i_type(0x13, 0, 10, 0, k); // addi a0, zero, k
        model = k;
        int ops = 1 + (seed >> 4) % 12;
        for (int i = 0; i < ops; i++) {
            seed = seed * 1103515245 + 12345;
            int32_t imm = (int32_t)((seed >> 12) & 0xfff) - 2048;
            switch ((seed >> 24) % 3) {
            case 0:
                f[n++] = i_type(0x13, 0, 10, 10, imm); // addi a0, a0, imm
                model += imm;
                break;
            case 1:
                f[n++] = i_type(0x13, 4, 10, 10, imm); // xori a0, a0, imm
                model ^= imm;
                break;
            default:
                f[n++] = i_type(0x13, 1, 10, 10, imm & 7); // slli a0, a0, sh
                model = (int64_t)((uint64_t)model << (imm & 7));
                break;
            }
        }
        f[n++] = 0x00008067; // ret
        __asm__ volatile("fence.i" ::: "memory");
        int64_t got = ((int64_t (*)(void))f)();
        sum = sum * 31 + (uint64_t)got;
        want = want * 31 + (uint64_t)model;
        rounds++;
    }
    printf("rounds: %s\n", rounds > 1000 ? "many" : "few");
    printf("results match the model: %s\n", sum == want ? "yes" : "no");
    fprintf(stderr, "jit_forever: %llu rounds\n", (unsigned long long)rounds);
    return sum == want ? 0 : 1;
}
