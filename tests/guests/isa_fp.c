// Per-instruction test of F and D: every arithmetic, compare, sign
// injection, classify, move, load/store and conversion instruction over a
// table of edge inputs (signed zeros, subnormals, infinities, quiet and
// signalling NaNs, extremes), each result printed in hex with the fflags
// it raised. Covers static rounding modes, dynamic rounding through frm,
// NaN boxing of single values, the canonical NaN and saturating fcvt.
//@ variants: static
//@ cflags: -march=rv64g
#include "isa.h"

static const uint64_t DV[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
    0x3ff8000000000000ull, 0x4008000000000000ull, 0x3fb999999999999aull, 0x3fd5555555555555ull,
    0x7fefffffffffffffull, 0x0010000000000000ull, 0x0000000000000001ull, 0x7ff0000000000000ull,
    0xfff0000000000000ull, 0x7ff8000000000000ull, 0x7ff0000000000001ull, 0xfff8000000000123ull,
    0x43e0000000000000ull, 0xc004000000000000ull,
};
static const uint64_t FV[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3fc00000, 0x40400000, 0x3dcccccd, 0x3eaaaaab, 0x7f7fffff,
    0x00800000, 0x00000001, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffc00123, 0x5f000000, 0xc0200000,
};
// Smaller sets for the three-operand instructions.
static const uint64_t D3[] = {0x0ull, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbfd5555555555555ull,
                              0x7fefffffffffffffull, 0x0000000000000001ull, 0x7ff0000000000000ull,
                              0x7ff8000000000000ull, 0x7ff0000000000001ull};
static const uint64_t F3[] = {0x0, 0x80000000, 0x3f800000, 0xbeaaaaab, 0x7f7fffff, 0x00000001, 0x7f800000,
                              0x7fc00000, 0x7f800001};
// Pairs whose results need rounding: quotients, sums, overflow, underflow,
// exact ties.
static const uint64_t RD[][2] = {
    {0x3ff0000000000000ull, 0x4008000000000000ull}, {0xbff0000000000000ull, 0x4008000000000000ull},
    {0x3fb999999999999aull, 0x3fc999999999999aull}, {0x7fefffffffffffffull, 0x7fefffffffffffffull},
    {0xffefffffffffffffull, 0x7fefffffffffffffull}, {0x0000000000000003ull, 0x3fe0000000000000ull},
    {0x3ff8000000000000ull, 0x3ca0000000000000ull}, {0xbff8000000000000ull, 0xbca0000000000000ull},
    {0x3ff0000000000001ull, 0x3ff0000000000001ull},
};
static const uint64_t RF[][2] = {
    {0x3f800000, 0x40400000}, {0xbf800000, 0x40400000}, {0x3dcccccd, 0x3e4ccccd}, {0x7f7fffff, 0x7f7fffff},
    {0xff7fffff, 0x7f7fffff}, {0x00000003, 0x3f000000}, {0x3fc00000, 0x33800000}, {0xbfc00000, 0xb3800000},
    {0x3f800001, 0x3f800001},
};
// Values converted to integers: halves for each rounding mode, limits.
static const uint64_t CD[] = {
    0x3fe0000000000000ull, 0x3ff8000000000000ull, 0x4004000000000000ull, 0xbfe0000000000000ull,
    0xbff8000000000000ull, 0xc004000000000000ull, 0x4003ffffffffffffull, 0xbf1a36e2eb1c432dull,
    0x4415af1d78b58c40ull, 0xc415af1d78b58c40ull, 0x7ff8000000000000ull, 0x7ff0000000000000ull,
    0xfff0000000000000ull, 0x41efffffffff0000ull, 0xc1e0000000133333ull, 0x43e0000000000000ull,
    0xc3e0000000000000ull, 0x41dfffffffc00000ull, 0x8000000000000000ull, 0x0000000000000001ull,
};
static const uint64_t CF[] = {
    0x3f000000, 0x3fc00000, 0x40200000, 0xbf000000, 0xbfc00000, 0xc0200000, 0x401fffff, 0xb8d1b717, 0x60ad78ec,
    0xe0ad78ec, 0x7fc00000, 0x7f800000, 0xff800000, 0x4f800000, 0xcf000001, 0x5f000000, 0xdf000000, 0x4effffff,
    0x80000000, 0x00000001,
};

#define OUT(r, f) printf(" %016llx/%02llx", (unsigned long long)(r), (unsigned long long)(f))

// rd = op(rs1, rs2) in FP registers; inputs moved in with `mv`
// (fmv.d.x / fmv.w.x), result shown as the whole 64-bit register.
#define FBIN(op, mv, a, b, rm)                                                                   \
    do {                                                                                         \
        uint64_t r_, f_;                                                                         \
        __asm__ volatile(mv " ft0, %2\n\t" mv " ft1, %3\n\tfsflags zero\n\t" op " ft2, ft0, ft1" rm \
                         "\n\tfrflags %1\n\tfmv.x.d %0, ft2"                                     \
                         : "=r"(r_), "=r"(f_) : "r"(a), "r"(b) : "ft0", "ft1", "ft2");           \
        OUT(r_, f_);                                                                             \
    } while (0)
#define FUN(op, mv, a, rm)                                                                       \
    do {                                                                                         \
        uint64_t r_, f_;                                                                         \
        __asm__ volatile(mv " ft0, %2\n\tfsflags zero\n\t" op " ft2, ft0" rm                     \
                         "\n\tfrflags %1\n\tfmv.x.d %0, ft2"                                     \
                         : "=r"(r_), "=r"(f_) : "r"(a) : "ft0", "ft2");                          \
        OUT(r_, f_);                                                                             \
    } while (0)
#define FTER(op, mv, a, b, c, rm)                                                                \
    do {                                                                                         \
        uint64_t r_, f_;                                                                         \
        __asm__ volatile(mv " ft0, %2\n\t" mv " ft1, %3\n\t" mv " ft3, %4\n\tfsflags zero\n\t" op \
                         " ft2, ft0, ft1, ft3" rm "\n\tfrflags %1\n\tfmv.x.d %0, ft2"            \
                         : "=r"(r_), "=r"(f_) : "r"(a), "r"(b), "r"(c) : "ft0", "ft1", "ft2", "ft3"); \
        OUT(r_, f_);                                                                             \
    } while (0)
// Integer result from FP inputs (compare, classify, fcvt to int, fmv.x.*).
#define FCMP(op, mv, a, b)                                                                       \
    do {                                                                                         \
        uint64_t r_, f_;                                                                         \
        __asm__ volatile(mv " ft0, %2\n\t" mv " ft1, %3\n\tfsflags zero\n\t" op " %0, ft0, ft1\n\tfrflags %1" \
                         : "=&r"(r_), "=&r"(f_) : "r"(a), "r"(b) : "ft0", "ft1");                 \
        OUT(r_, f_);                                                                             \
    } while (0)
#define FTOI(op, mv, a, rm)                                                                      \
    do {                                                                                         \
        uint64_t r_, f_;                                                                         \
        __asm__ volatile(mv " ft0, %2\n\tfsflags zero\n\t" op " %0, ft0" rm "\n\tfrflags %1"    \
                         : "=&r"(r_), "=&r"(f_) : "r"(a) : "ft0");                               \
        OUT(r_, f_);                                                                             \
    } while (0)
#define ITOF(op, a, rm)                                                                          \
    do {                                                                                         \
        uint64_t r_, f_;                                                                         \
        __asm__ volatile("fsflags zero\n\t" op " ft2, %2" rm "\n\tfrflags %1\n\tfmv.x.d %0, ft2" \
                         : "=&r"(r_), "=&r"(f_) : "r"(a) : "ft2");                               \
        OUT(r_, f_);                                                                             \
    } while (0)

#define TABLE2(op, mv, V, M)                                                   \
    for (unsigned i = 0; i < N(V); i++) {                                      \
        printf("%-9s %016llx:", op, (unsigned long long)V[i]);               \
        for (unsigned j = 0; j < N(V); j++) M(op, mv, V[i], V[j], "");         \
        printf("\n");                                                          \
    }
#define CMP2(op, mv, a, b, rm) FCMP(op, mv, a, b)
#define TABLE1(op, mv, V, M)                                                   \
    do {                                                                       \
        printf("%-9s:", op);                                                   \
        for (unsigned i = 0; i < N(V); i++) M(op, mv, V[i], "");               \
        printf("\n");                                                          \
    } while (0)
#define TABLE3(op, mv, V)                                                      \
    for (unsigned i = 0; i < N(V); i++)                                        \
        for (unsigned j = 0; j < N(V); j++) {                                  \
            printf("%-9s %016llx %016llx:", op, (unsigned long long)V[i], (unsigned long long)V[j]); \
            for (unsigned k = 0; k < N(V); k++) FTER(op, mv, V[i], V[j], V[k], ""); \
            printf("\n");                                                      \
        }

// The five static rounding modes, then dyn under each frm value.
#define ALLRM(line)                                          \
    do {                                                     \
        line(", rne"); line(", rtz"); line(", rdn");         \
        line(", rup"); line(", rmm");                         \
        for (int m = 0; m < 5; m++) {                        \
            __asm__ volatile("fsrm %0" ::"r"(m));            \
            line(", dyn");                                   \
        }                                                    \
        __asm__ volatile("fsrm zero");                       \
    } while (0)

static const char *cur_rm(const char *txt) {
    static char buf[16];
    if (txt[2] != 'd') return txt + 2;
    uint64_t m;
    __asm__ volatile("frrm %0" : "=r"(m));
    snprintf(buf, sizeof buf, "dyn%llu", (unsigned long long)m);
    return buf;
}

int main(void) {
    // Two-operand arithmetic, min/max, sign injection: full tables.
#define FB(op, mv, a, b, rm) FBIN(op, mv, a, b, rm)
    TABLE2("fadd.d", "fmv.d.x", DV, FB) TABLE2("fsub.d", "fmv.d.x", DV, FB) TABLE2("fmul.d", "fmv.d.x", DV, FB)
    TABLE2("fdiv.d", "fmv.d.x", DV, FB) TABLE2("fmin.d", "fmv.d.x", DV, FB) TABLE2("fmax.d", "fmv.d.x", DV, FB)
    TABLE2("fsgnj.d", "fmv.d.x", DV, FB) TABLE2("fsgnjn.d", "fmv.d.x", DV, FB)
    TABLE2("fsgnjx.d", "fmv.d.x", DV, FB)
    TABLE2("fadd.s", "fmv.w.x", FV, FB) TABLE2("fsub.s", "fmv.w.x", FV, FB) TABLE2("fmul.s", "fmv.w.x", FV, FB)
    TABLE2("fdiv.s", "fmv.w.x", FV, FB) TABLE2("fmin.s", "fmv.w.x", FV, FB) TABLE2("fmax.s", "fmv.w.x", FV, FB)
    TABLE2("fsgnj.s", "fmv.w.x", FV, FB) TABLE2("fsgnjn.s", "fmv.w.x", FV, FB)
    TABLE2("fsgnjx.s", "fmv.w.x", FV, FB)
    // Comparisons (quiet feq, signalling flt/fle).
    TABLE2("feq.d", "fmv.d.x", DV, CMP2) TABLE2("flt.d", "fmv.d.x", DV, CMP2) TABLE2("fle.d", "fmv.d.x", DV, CMP2)
    TABLE2("feq.s", "fmv.w.x", FV, CMP2) TABLE2("flt.s", "fmv.w.x", FV, CMP2) TABLE2("fle.s", "fmv.w.x", FV, CMP2)
    // One-operand.
    TABLE1("fsqrt.d", "fmv.d.x", DV, FUN);
    TABLE1("fsqrt.s", "fmv.w.x", FV, FUN);
    TABLE1("fclass.d", "fmv.d.x", DV, FTOI);
    TABLE1("fclass.s", "fmv.w.x", FV, FTOI);
    TABLE1("fcvt.s.d", "fmv.d.x", DV, FUN);
    TABLE1("fcvt.d.s", "fmv.w.x", FV, FUN);
    TABLE1("fmv.x.d", "fmv.d.x", DV, FTOI);
    TABLE1("fmv.x.w", "fmv.w.x", FV, FTOI);
    TABLE1("fmv.x.w", "fmv.d.x", DV, FTOI);
    // Fused multiply-add family.
    TABLE3("fmadd.d", "fmv.d.x", D3) TABLE3("fmsub.d", "fmv.d.x", D3)
    TABLE3("fnmadd.d", "fmv.d.x", D3) TABLE3("fnmsub.d", "fmv.d.x", D3)
    TABLE3("fmadd.s", "fmv.w.x", F3) TABLE3("fmsub.s", "fmv.w.x", F3)
    TABLE3("fnmadd.s", "fmv.w.x", F3) TABLE3("fnmsub.s", "fmv.w.x", F3)

    // Rounding modes: static and dynamic on inexact operations.
#define RBD(op, rmt) do { printf(" %s", cur_rm(rmt)); FBIN(op, "fmv.d.x", RD[i][0], RD[i][1], rmt); } while (0)
#define RBS(op, rmt) do { printf(" %s", cur_rm(rmt)); FBIN(op, "fmv.w.x", RF[i][0], RF[i][1], rmt); } while (0)
#define ROUNDED(op, L)                                                                            \
    for (unsigned i = 0; i < N(RD); i++) {                                                        \
        printf("%-9s %u:", op, i);                                                                \
        ALLRM(L);                                                                                 \
        printf("\n");                                                                             \
    }
#define L_ADDD(r) RBD("fadd.d", r)
#define L_SUBD(r) RBD("fsub.d", r)
#define L_MULD(r) RBD("fmul.d", r)
#define L_DIVD(r) RBD("fdiv.d", r)
#define L_ADDS(r) RBS("fadd.s", r)
#define L_SUBS(r) RBS("fsub.s", r)
#define L_MULS(r) RBS("fmul.s", r)
#define L_DIVS(r) RBS("fdiv.s", r)
#define L_SQRTD(r) do { printf(" %s", cur_rm(r)); FUN("fsqrt.d", "fmv.d.x", RD[i][0], r); } while (0)
#define L_SQRTS(r) do { printf(" %s", cur_rm(r)); FUN("fsqrt.s", "fmv.w.x", RF[i][0], r); } while (0)
#define L_FMAD(r) do { printf(" %s", cur_rm(r)); FTER("fmadd.d", "fmv.d.x", RD[i][0], RD[i][1], RD[i][0], r); } while (0)
#define L_FNMSD(r) do { printf(" %s", cur_rm(r)); FTER("fnmsub.d", "fmv.d.x", RD[i][0], RD[i][1], RD[i][1], r); } while (0)
#define L_FMSS(r) do { printf(" %s", cur_rm(r)); FTER("fmsub.s", "fmv.w.x", RF[i][0], RF[i][1], RF[i][0], r); } while (0)
#define L_FNMAS(r) do { printf(" %s", cur_rm(r)); FTER("fnmadd.s", "fmv.w.x", RF[i][0], RF[i][1], RF[i][1], r); } while (0)
#define L_SD(r) do { printf(" %s", cur_rm(r)); FUN("fcvt.s.d", "fmv.d.x", RD[i][0], r); FUN("fcvt.s.d", "fmv.d.x", RD[i][1], r); } while (0)
    ROUNDED("fadd.d", L_ADDD) ROUNDED("fsub.d", L_SUBD) ROUNDED("fmul.d", L_MULD) ROUNDED("fdiv.d", L_DIVD)
    ROUNDED("fadd.s", L_ADDS) ROUNDED("fsub.s", L_SUBS) ROUNDED("fmul.s", L_MULS) ROUNDED("fdiv.s", L_DIVS)
    ROUNDED("fsqrt.d", L_SQRTD) ROUNDED("fsqrt.s", L_SQRTS) ROUNDED("fmadd.d", L_FMAD)
    ROUNDED("fnmsub.d", L_FNMSD) ROUNDED("fmsub.s", L_FMSS) ROUNDED("fnmadd.s", L_FNMAS)
    ROUNDED("fcvt.s.d", L_SD)

    // Float to integer, every rounding mode: saturation and invalid/inexact.
#define L_W_D(r) do { printf(" %s", cur_rm(r)); FTOI("fcvt.w.d", "fmv.d.x", CD[i], r); } while (0)
#define L_WU_D(r) do { printf(" %s", cur_rm(r)); FTOI("fcvt.wu.d", "fmv.d.x", CD[i], r); } while (0)
#define L_L_D(r) do { printf(" %s", cur_rm(r)); FTOI("fcvt.l.d", "fmv.d.x", CD[i], r); } while (0)
#define L_LU_D(r) do { printf(" %s", cur_rm(r)); FTOI("fcvt.lu.d", "fmv.d.x", CD[i], r); } while (0)
#define L_W_S(r) do { printf(" %s", cur_rm(r)); FTOI("fcvt.w.s", "fmv.w.x", CF[i], r); } while (0)
#define L_WU_S(r) do { printf(" %s", cur_rm(r)); FTOI("fcvt.wu.s", "fmv.w.x", CF[i], r); } while (0)
#define L_L_S(r) do { printf(" %s", cur_rm(r)); FTOI("fcvt.l.s", "fmv.w.x", CF[i], r); } while (0)
#define L_LU_S(r) do { printf(" %s", cur_rm(r)); FTOI("fcvt.lu.s", "fmv.w.x", CF[i], r); } while (0)
#define TOI(op, V, L)                                                                            \
    for (unsigned i = 0; i < N(V); i++) {                                                        \
        printf("%-10s %016llx:", op, (unsigned long long)V[i]);                                \
        ALLRM(L);                                                                                \
        printf("\n");                                                                            \
    }
    TOI("fcvt.w.d", CD, L_W_D) TOI("fcvt.wu.d", CD, L_WU_D) TOI("fcvt.l.d", CD, L_L_D)
    TOI("fcvt.lu.d", CD, L_LU_D) TOI("fcvt.w.s", CF, L_W_S) TOI("fcvt.wu.s", CF, L_WU_S)
    TOI("fcvt.l.s", CF, L_L_S) TOI("fcvt.lu.s", CF, L_LU_S)

    // Integer to float (W forms read only the low 32 bits).
#define L_D_L(r) do { printf(" %s", cur_rm(r)); ITOF("fcvt.d.l", IV[i], r); } while (0)
#define L_D_LU(r) do { printf(" %s", cur_rm(r)); ITOF("fcvt.d.lu", IV[i], r); } while (0)
#define L_S_W(r) do { printf(" %s", cur_rm(r)); ITOF("fcvt.s.w", IV[i], r); } while (0)
#define L_S_WU(r) do { printf(" %s", cur_rm(r)); ITOF("fcvt.s.wu", IV[i], r); } while (0)
#define L_S_L(r) do { printf(" %s", cur_rm(r)); ITOF("fcvt.s.l", IV[i], r); } while (0)
#define L_S_LU(r) do { printf(" %s", cur_rm(r)); ITOF("fcvt.s.lu", IV[i], r); } while (0)
    // fcvt.d.w and fcvt.d.wu are exact: the assembler takes no rounding mode.
    printf("fcvt.d.w  :");
    for (unsigned i = 0; i < N(IV); i++) ITOF("fcvt.d.w", IV[i], "");
    printf("\nfcvt.d.wu :");
    for (unsigned i = 0; i < N(IV); i++) ITOF("fcvt.d.wu", IV[i], "");
    printf("\n");
    TOI("fcvt.d.l", IV, L_D_L)
    TOI("fcvt.d.lu", IV, L_D_LU) TOI("fcvt.s.w", IV, L_S_W) TOI("fcvt.s.wu", IV, L_S_WU)
    TOI("fcvt.s.l", IV, L_S_L) TOI("fcvt.s.lu", IV, L_S_LU)

    // Moves into FP registers: fmv.w.x boxes, fmv.d.x is raw.
    printf("fmv.w.x  :");
    for (unsigned i = 0; i < N(IV); i++) ITOF("fmv.w.x", IV[i], "");
    printf("\nfmv.d.x  :");
    for (unsigned i = 0; i < N(IV); i++) ITOF("fmv.d.x", IV[i], "");
    printf("\n");

    // Loads and stores never touch the bits (no canonicalisation).
    static uint64_t mem[4] __attribute__((aligned(16)));
    for (unsigned i = 0; i < N(DV); i++) {
        uint64_t r1, r2, r3;
        mem[0] = DV[i];
        mem[1] = 0xa5a5a5a5a5a5a5a5ull;
        mem[2] = 0xa5a5a5a5a5a5a5a5ull;
        __asm__ volatile("fld ft0, 0(%3)\n\tfsd ft0, 8(%3)\n\tflw ft1, 0(%3)\n\tfsw ft1, 16(%3)\n\tflw ft2, 4(%3)\n\t"
                         "fmv.x.d %0, ft1\n\tfmv.x.d %1, ft2\n\tfsw ft0, 20(%3)\n\tld %2, 16(%3)"
                         : "=&r"(r1), "=&r"(r2), "=&r"(r3) : "r"(mem) : "ft0", "ft1", "ft2", "memory");
        printf("fld/fsd/flw/fsw %016llx: %016llx %016llx %016llx %016llx\n", (unsigned long long)DV[i],
               (unsigned long long)mem[1], (unsigned long long)r1, (unsigned long long)r2, (unsigned long long)r3);
    }

    // NaN boxing: a single operand that is not properly boxed is the
    // canonical NaN to every single-precision instruction except moves and
    // stores.
    static const uint64_t unboxed[] = {0x000000003f800000ull, 0xfffffffe3f800000ull, 0x7ff0000040000000ull,
                                       0xffffffff3f800000ull};
    for (unsigned i = 0; i < N(unboxed); i++) {
        uint64_t u = unboxed[i];
        printf("boxing %016llx:", (unsigned long long)u);
        FBIN("fadd.s", "fmv.d.x", u, u, "");
        FBIN("fsgnj.s", "fmv.d.x", u, u, "");
        FBIN("fsgnjn.s", "fmv.d.x", u, 0xffffffff3f800000ull, "");
        FBIN("fmin.s", "fmv.d.x", u, 0xffffffff3f800000ull, "");
        FUN("fcvt.d.s", "fmv.d.x", u, "");
        FUN("fsqrt.s", "fmv.d.x", u, "");
        FTOI("fclass.s", "fmv.d.x", u, "");
        FTOI("fmv.x.w", "fmv.d.x", u, "");
        FTOI("fcvt.w.s", "fmv.d.x", u, ", rtz");
        FCMP("feq.s", "fmv.d.x", u, u);
        FCMP("flt.s", "fmv.d.x", u, 0xffffffff3f800000ull);
        uint32_t st;
        __asm__ volatile("fmv.d.x ft0, %1\n\tfsw ft0, 0(%2)\n\tlwu %0, 0(%2)" : "=&r"(st) : "r"(u), "r"(mem) : "ft0", "memory");
        printf(" fsw:%08x\n", st);
    }
    return 0;
}
