// Per-instruction test of the A extension: every AMO in W and D width
// (with each ordering variant on one of them), LR/SC success and failure.
// For each (memory value, operand) pair it prints the value returned in rd
// and the memory afterwards; W forms must sign-extend and leave the
// neighbouring word untouched.
//@ variants: static
//@ cflags: -latomic -march=rv64g
#include "isa.h"

static const uint64_t AV[] = {0, 1, 0xffffffffffffffffull, 0x7fffffffffffffffull, 0x8000000000000000ull,
                              0x7fffffffull, 0x80000000ull, 0xffffffffull, 0x123456789abcdef0ull};

static volatile uint64_t cell[2] __attribute__((aligned(16)));

#define AMO_D(op)                                                                        \
    do {                                                                                 \
        for (unsigned i = 0; i < N(AV); i++) {                                           \
            printf("%-14s %016llx:", op, (unsigned long long)AV[i]);                    \
            for (unsigned j = 0; j < N(AV); j++) {                                       \
                uint64_t rd;                                                             \
                cell[0] = AV[i];                                                         \
                __asm__ volatile(op " %0, %1, (%2)" : "=&r"(rd) : "r"(AV[j]), "r"(&cell[0]) : "memory"); \
                hex64(rd);                                                               \
                printf("/%016llx", (unsigned long long)cell[0]);                        \
            }                                                                            \
            printf("\n");                                                                \
        }                                                                                \
    } while (0)

// W forms act on the low word of cell[0] (little endian); the high word
// holds a sentinel that must survive.
#define AMO_W(op)                                                                        \
    do {                                                                                 \
        for (unsigned i = 0; i < N(AV); i++) {                                           \
            printf("%-14s %016llx:", op, (unsigned long long)AV[i]);                    \
            for (unsigned j = 0; j < N(AV); j++) {                                       \
                uint64_t rd;                                                             \
                cell[0] = (0x5a5a5a5aull << 32) | (uint32_t)AV[i];                        \
                __asm__ volatile(op " %0, %1, (%2)" : "=&r"(rd) : "r"(AV[j]), "r"(&cell[0]) : "memory"); \
                hex64(rd);                                                               \
                printf("/%016llx", (unsigned long long)cell[0]);                        \
            }                                                                            \
            printf("\n");                                                                \
        }                                                                                \
    } while (0)

int main(void) {
    AMO_D("amoswap.d"); AMO_D("amoadd.d"); AMO_D("amoxor.d"); AMO_D("amoand.d"); AMO_D("amoor.d");
    AMO_D("amomin.d"); AMO_D("amomax.d"); AMO_D("amominu.d"); AMO_D("amomaxu.d");
    AMO_W("amoswap.w"); AMO_W("amoadd.w"); AMO_W("amoxor.w"); AMO_W("amoand.w"); AMO_W("amoor.w");
    AMO_W("amomin.w"); AMO_W("amomax.w"); AMO_W("amominu.w"); AMO_W("amomaxu.w");
    AMO_D("amoadd.d.aq"); AMO_D("amoadd.d.rl"); AMO_D("amoadd.d.aqrl");
    AMO_W("amoswap.w.aq"); AMO_W("amoswap.w.rl"); AMO_W("amoswap.w.aqrl");

    uint64_t v, sc, sc2;
    cell[0] = 0x1111111122222222ull;
    __asm__ volatile("lr.d %0, (%3)\n\tsc.d %1, %4, (%3)\n\tsc.d %2, %4, (%3)"
                     : "=&r"(v), "=&r"(sc), "=&r"(sc2) : "r"(&cell[0]), "r"(0xabcdull) : "memory");
    printf("lr.d %016llx sc.d ok=%d second sc.d fails=%d mem %016llx\n", (unsigned long long)v, sc == 0, sc2 != 0,
           (unsigned long long)cell[0]);
    cell[0] = 0x00000000f0000001ull | (0x77777777ull << 32);
    __asm__ volatile("lr.w %0, (%2)\n\tsc.w %1, %3, (%2)" : "=&r"(v), "=&r"(sc) : "r"(&cell[0]), "r"(0x12345678deadbeefull) : "memory");
    printf("lr.w sign-extends %016llx sc.w ok=%d mem %016llx\n", (unsigned long long)v, sc == 0,
           (unsigned long long)cell[0]);
    __asm__ volatile("lr.w.aq %0, (%2)\n\tsc.w.rl %1, %3, (%2)" : "=&r"(v), "=&r"(sc) : "r"(&cell[0]), "r"(5) : "memory");
    printf("lr.w.aq/sc.w.rl ok=%d mem %016llx\n", sc == 0, (unsigned long long)cell[0]);
    __asm__ volatile("lr.d.aqrl %0, (%2)\n\tsc.d.aqrl %1, %3, (%2)" : "=&r"(v), "=&r"(sc) : "r"(&cell[0]), "r"(6) : "memory");
    printf("lr.d.aqrl/sc.d.aqrl ok=%d mem %016llx\n", sc == 0, (unsigned long long)cell[0]);
    cell[0] = 1;
    cell[1] = 2;
    __asm__ volatile("lr.d %0, (%2)\n\tsc.d %1, %3, (%4)" : "=&r"(v), "=&r"(sc) : "r"(&cell[0]), "r"(9), "r"(&cell[1]) : "memory");
    printf("sc.d to another address fails=%d mem %llu %llu\n", sc != 0, (unsigned long long)cell[0],
           (unsigned long long)cell[1]);
    __asm__ volatile("sc.w %0, %1, (%2)" : "=&r"(sc) : "r"(3), "r"(&cell[0]) : "memory");
    printf("sc.w without reservation fails=%d mem %llu\n", sc != 0, (unsigned long long)cell[0]);
    // A CAS loop as compilers emit it.
    uint64_t counter = 0;
    for (int i = 0; i < 1000; i++) __atomic_fetch_add(&counter, 3, __ATOMIC_SEQ_CST);
    uint64_t expected = 3000;
    int ok = __atomic_compare_exchange_n(&counter, &expected, 7, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    printf("atomic counter: cas ok=%d value %llu\n", ok, (unsigned long long)counter);
    unsigned char byte = 5;
    __atomic_fetch_or(&byte, 0x80, __ATOMIC_SEQ_CST);
    unsigned short half = 0xffff;
    __atomic_fetch_add(&half, 1, __ATOMIC_SEQ_CST);
    printf("subword atomics: %#x %#x\n", byte, half);
    return 0;
}
