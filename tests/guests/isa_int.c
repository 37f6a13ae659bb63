// Per-instruction test of RV64I and M: every register-register,
// register-immediate, load, store, branch and jump instruction over a table
// of edge inputs (division by zero, overflow, shifts by 31/63/64, W-form
// sign extension), results printed in hex.
//@ variants: static
//@ cflags: -march=rv64g
#include "isa.h"
#include <string.h>

#define RR(op)                                                                           \
    do {                                                                                 \
        for (unsigned i = 0; i < N(IV); i++) {                                           \
            printf("%-6s %016llx:", op, (unsigned long long)IV[i]);                     \
            for (unsigned j = 0; j < N(IV); j++) {                                       \
                uint64_t r;                                                              \
                __asm__ volatile(op " %0, %1, %2" : "=r"(r) : "r"(IV[i]), "r"(IV[j]));   \
                hex64(r);                                                                \
            }                                                                            \
            printf("\n");                                                                \
        }                                                                                \
    } while (0)

#define RI(op, imm)                                                                       \
    do {                                                                                  \
        printf("%-6s %5d:", op, (int)(imm));                                              \
        for (unsigned i = 0; i < N(IV); i++) {                                            \
            uint64_t r;                                                                   \
            __asm__ volatile(op " %0, %1, %2" : "=r"(r) : "r"(IV[i]), "i"(imm));          \
            hex64(r);                                                                     \
        }                                                                                 \
        printf("\n");                                                                     \
    } while (0)

#define RI_ARITH(op) RI(op, 0); RI(op, 1); RI(op, -1); RI(op, 2047); RI(op, -2048); RI(op, 0x555)
#define RI_SH64(op) RI(op, 0); RI(op, 1); RI(op, 31); RI(op, 32); RI(op, 63)
#define RI_SH32(op) RI(op, 0); RI(op, 1); RI(op, 16); RI(op, 31)

#define BR(op)                                                                              \
    do {                                                                                    \
        for (unsigned i = 0; i < N(IV); i++) {                                              \
            printf("%-6s %016llx: ", op, (unsigned long long)IV[i]);                       \
            for (unsigned j = 0; j < N(IV); j++) {                                          \
                uint64_t t;                                                                 \
                __asm__ volatile("li %0, 1\n\t" op " %1, %2, 1f\n\tli %0, 0\n1:"            \
                                 : "=&r"(t) : "r"(IV[i]), "r"(IV[j]));                      \
                printf("%d", (int)t);                                                       \
            }                                                                               \
            printf("\n");                                                                   \
        }                                                                                   \
    } while (0)

static unsigned char mem[64] __attribute__((aligned(16)));

static void fill(void) {
    for (int i = 0; i < 64; i++) mem[i] = (unsigned char)(0x71 + i * 0x13);
}

#define LD(op, off)                                                                  \
    do {                                                                             \
        uint64_t r;                                                                  \
        __asm__ volatile(op " %0, %2(%1)" : "=r"(r) : "r"(mem + 32), "i"(off) : "memory"); \
        printf("%-4s %4d:", op, off);                                                \
        hex64(r);                                                                    \
        printf("\n");                                                                \
    } while (0)
#define LDS(op) LD(op, 0); LD(op, 1); LD(op, 2); LD(op, 3); LD(op, 4); LD(op, 5); LD(op, 7); LD(op, -32); LD(op, 24)

#define ST(op, off)                                                                             \
    do {                                                                                        \
        memset(mem, 0xee, sizeof mem);                                                          \
        __asm__ volatile(op " %0, %2(%1)" ::"r"(0x8182838485868788ull), "r"(mem + 32), "i"(off) \
                         : "memory");                                                           \
        printf("%-4s %4d:", op, off);                                                           \
        for (int k = 16; k < 48; k++) printf("%02x", mem[k]);                                   \
        printf("\n");                                                                           \
    } while (0)
#define STS(op) ST(op, 0); ST(op, 1); ST(op, 3); ST(op, 5); ST(op, -16); ST(op, 8)

int main(void) {
    RR("add");  RR("sub");  RR("sll");  RR("slt");  RR("sltu"); RR("xor");
    RR("srl");  RR("sra");  RR("or");   RR("and");
    RR("addw"); RR("subw"); RR("sllw"); RR("srlw"); RR("sraw");
    RR("mul");  RR("mulh"); RR("mulhsu"); RR("mulhu");
    RR("div");  RR("divu"); RR("rem");  RR("remu");
    RR("mulw"); RR("divw"); RR("divuw"); RR("remw"); RR("remuw");

    RI_ARITH("addi"); RI_ARITH("slti"); RI_ARITH("sltiu"); RI_ARITH("xori"); RI_ARITH("ori");
    RI_ARITH("andi"); RI_ARITH("addiw");
    RI_SH64("slli"); RI_SH64("srli"); RI_SH64("srai");
    RI_SH32("slliw"); RI_SH32("srliw"); RI_SH32("sraiw");

    uint64_t r;
#define LUI(imm) __asm__ volatile("lui %0, %1" : "=r"(r) : "i"(imm)); printf("lui %#x:", imm); hex64(r); printf("\n")
    LUI(0); LUI(1); LUI(0x7ffff); LUI(0x80000); LUI(0xfffff); LUI(0x12345);
    uint64_t pc1, pc2;
    __asm__ volatile("1: auipc %0, 0\n\tla %1, 1b" : "=r"(pc1), "=r"(pc2));
    printf("auipc 0 equals its own address: %d\n", pc1 == pc2);
    __asm__ volatile("1: auipc %0, 0x80000\n\tla %1, 1b" : "=r"(pc1), "=r"(pc2));
    printf("auipc 0x80000 offset: %016llx\n", (unsigned long long)(pc1 - pc2));
    __asm__ volatile("1: auipc %0, 1\n\tla %1, 1b" : "=r"(pc1), "=r"(pc2));
    printf("auipc 1 offset: %016llx\n", (unsigned long long)(pc1 - pc2));

    BR("beq"); BR("bne"); BR("blt"); BR("bge"); BR("bltu"); BR("bgeu");

    uint64_t ra, target;
    __asm__ volatile(".option push\n\t.option norvc\n\tjal %0, 1f\n2: nop\n1: la %1, 2b\n\t.option pop"
                     : "=r"(ra), "=r"(target));
    printf("jal link is next instruction: %d\n", ra == target);
    __asm__ volatile(".option push\n\t.option norvc\n\tla t0, 1f\n\taddi t0, t0, 1\n\tjalr %0, 0(t0)\n"
                     "2: li %1, 0\n\tj 3f\n1: la %1, 2b\n3:\n\t.option pop"
                     : "=&r"(ra), "=&r"(target) : : "t0");
    printf("jalr to odd address clears bit 0, link correct: %d\n", ra == target && target != 0);
    __asm__ volatile(".option push\n\t.option norvc\n\tla t0, 1f\n\taddi t0, t0, -8\n\tjalr %0, 8(t0)\n"
                     "2: li %1, 0\n\tj 3f\n1: la %1, 2b\n3:\n\t.option pop"
                     : "=&r"(ra), "=&r"(target) : : "t0");
    printf("jalr with offset: %d\n", ra == target && target != 0);
    __asm__ volatile(".option push\n\t.option norvc\n\tla t0, 1f\n\tjalr t0, 0(t0)\n"
                     "2: li %1, 0\n\tj 3f\n1: la %1, 2b\n\tmv %0, t0\n3:\n\t.option pop"
                     : "=&r"(ra), "=&r"(target) : : "t0");
    printf("jalr rd == rs1 uses old rs1: %d\n", ra == target && target != 0);
    __asm__ volatile("li t0, 5\n\taddi zero, t0, 7\n\tadd zero, t0, t0\n\tmv %0, zero" : "=r"(r) : : "t0");
    printf("writes to x0 are discarded: %llu\n", (unsigned long long)r);

    fill();
    LDS("lb"); LDS("lbu"); LDS("lh"); LDS("lhu"); LDS("lw"); LDS("lwu"); LDS("ld");
    STS("sb"); STS("sh"); STS("sw"); STS("sd");

    __asm__ volatile("fence\n\tfence rw, rw\n\tfence r, r\n\tfence w, w\n\tfence.tso\n\tfence iorw, iorw" ::: "memory");
    printf("fences ok\n");
    __asm__ volatile("fence.i" ::: "memory");
    printf("fence.i ok\n");
    return 0;
}
