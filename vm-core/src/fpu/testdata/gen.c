/* Reference-vector generator for vm-core's fpu module.
 *
 * Runs RISC-V F/D instructions (build: riscv64-linux-gnu-gcc -static -O2
 * gen.c -o gen; run: qemu-riscv64 ./gen vectors.bin) over pools of
 * interesting operands in every rounding mode, and records result bits and
 * fflags. The committed vectors.bin was made under qemu-riscv64, so its
 * results are QEMU's softfloat's, not a hardware recording;
 * softfloat_gen.py checks them against Berkeley SoftFloat and adds
 * softfloat.bin. File format (little-endian):
 *   "RVFPVEC1"
 *   u32 n, n x u32   single-precision operand pool
 *   u32 n, n x u64   double-precision operand pool
 *   u32 n, n x u64   integer operand pool
 *   sections until EOF: u8 op, u8 rm, u8 arity, u8 width, u32 count, then
 *   count records: arity x u16 pool index, width-byte result, u8 fflags.
 * The op numbers are mirrored by vm-core/src/fpu/tests.rs.
 * The committed vectors.bin is `gen vectors.bin`; `gen OUT SEED SCALE` makes
 * a different, SCALE times larger random set for a one-off soak test (point
 * PVM_FPU_VECTORS at it and run the fpu tests).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x243f6a8885a308d3ull;
static uint64_t rnd(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static uint64_t rndn(uint64_t n) { return rnd() % n; }

typedef uint64_t (*opfn)(uint64_t, uint64_t, uint64_t, unsigned *);

#define ASM_BODY(MVIN, INSN, MVOUT)                                              \
    uint64_t r;                                                                  \
    unsigned long f;                                                             \
    __asm__ volatile(MVIN " ft0, %[a]\n\t" MVIN " ft1, %[b]\n\t" MVIN " ft3, %[c]\n\t" \
                     "fsflags zero\n\t" INSN "\n\t"                              \
                     "frflags %[f]\n\t" MVOUT                                    \
                     : [r] "=&r"(r), [f] "=&r"(f)                                \
                     : [a] "r"(a), [b] "r"(b), [c] "r"(c)                        \
                     : "ft0", "ft1", "ft2", "ft3", "memory");                    \
    *fl = (unsigned)f;                                                           \
    return r;

#define DEF1(NAME, MVIN, INSN, MVOUT)                                            \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c, unsigned *fl) {     \
        ASM_BODY(MVIN, INSN, MVOUT)                                              \
    }                                                                            \
    static opfn NAME##_t[5] = {NAME, 0, 0, 0, 0};

#define DEFRM(NAME, RM, MVIN, INSN, MVOUT)                                       \
    static uint64_t NAME##_##RM(uint64_t a, uint64_t b, uint64_t c, unsigned *fl) { \
        ASM_BODY(MVIN, INSN ", " #RM, MVOUT)                                     \
    }
#define DEF5(NAME, MVIN, INSN, MVOUT)                                            \
    DEFRM(NAME, rne, MVIN, INSN, MVOUT)                                          \
    DEFRM(NAME, rtz, MVIN, INSN, MVOUT)                                          \
    DEFRM(NAME, rdn, MVIN, INSN, MVOUT)                                          \
    DEFRM(NAME, rup, MVIN, INSN, MVOUT)                                          \
    DEFRM(NAME, rmm, MVIN, INSN, MVOUT)                                          \
    static opfn NAME##_t[5] = {NAME##_rne, NAME##_rtz, NAME##_rdn, NAME##_rup, NAME##_rmm};

#define S "fmv.w.x"
#define D "fmv.d.x"
#define OS "fmv.x.w %[r], ft2"
#define OD "fmv.x.d %[r], ft2"

DEF5(fadd_s, S, "fadd.s ft2, ft0, ft1", OS)
DEF5(fsub_s, S, "fsub.s ft2, ft0, ft1", OS)
DEF5(fmul_s, S, "fmul.s ft2, ft0, ft1", OS)
DEF5(fdiv_s, S, "fdiv.s ft2, ft0, ft1", OS)
DEF5(fsqrt_s, S, "fsqrt.s ft2, ft0", OS)
DEF5(fmadd_s, S, "fmadd.s ft2, ft0, ft1, ft3", OS)
DEF5(fmsub_s, S, "fmsub.s ft2, ft0, ft1, ft3", OS)
DEF5(fnmsub_s, S, "fnmsub.s ft2, ft0, ft1, ft3", OS)
DEF5(fnmadd_s, S, "fnmadd.s ft2, ft0, ft1, ft3", OS)
DEF1(fmin_s, S, "fmin.s ft2, ft0, ft1", OS)
DEF1(fmax_s, S, "fmax.s ft2, ft0, ft1", OS)
DEF1(feq_s, S, "feq.s %[r], ft0, ft1", "")
DEF1(flt_s, S, "flt.s %[r], ft0, ft1", "")
DEF1(fle_s, S, "fle.s %[r], ft0, ft1", "")
DEF1(fclass_s, S, "fclass.s %[r], ft0", "")
DEF5(fcvt_w_s, S, "fcvt.w.s %[r], ft0", "")
DEF5(fcvt_wu_s, S, "fcvt.wu.s %[r], ft0", "")
DEF5(fcvt_l_s, S, "fcvt.l.s %[r], ft0", "")
DEF5(fcvt_lu_s, S, "fcvt.lu.s %[r], ft0", "")
DEF5(fcvt_s_w, S, "fcvt.s.w ft2, %[a]", OS)
DEF5(fcvt_s_wu, S, "fcvt.s.wu ft2, %[a]", OS)
DEF5(fcvt_s_l, S, "fcvt.s.l ft2, %[a]", OS)
DEF5(fcvt_s_lu, S, "fcvt.s.lu ft2, %[a]", OS)
DEF1(fcvt_d_s, S, "fcvt.d.s ft2, ft0", OD)

DEF5(fadd_d, D, "fadd.d ft2, ft0, ft1", OD)
DEF5(fsub_d, D, "fsub.d ft2, ft0, ft1", OD)
DEF5(fmul_d, D, "fmul.d ft2, ft0, ft1", OD)
DEF5(fdiv_d, D, "fdiv.d ft2, ft0, ft1", OD)
DEF5(fsqrt_d, D, "fsqrt.d ft2, ft0", OD)
DEF5(fmadd_d, D, "fmadd.d ft2, ft0, ft1, ft3", OD)
DEF5(fmsub_d, D, "fmsub.d ft2, ft0, ft1, ft3", OD)
DEF5(fnmsub_d, D, "fnmsub.d ft2, ft0, ft1, ft3", OD)
DEF5(fnmadd_d, D, "fnmadd.d ft2, ft0, ft1, ft3", OD)
DEF1(fmin_d, D, "fmin.d ft2, ft0, ft1", OD)
DEF1(fmax_d, D, "fmax.d ft2, ft0, ft1", OD)
DEF1(feq_d, D, "feq.d %[r], ft0, ft1", "")
DEF1(flt_d, D, "flt.d %[r], ft0, ft1", "")
DEF1(fle_d, D, "fle.d %[r], ft0, ft1", "")
DEF1(fclass_d, D, "fclass.d %[r], ft0", "")
DEF5(fcvt_w_d, D, "fcvt.w.d %[r], ft0", "")
DEF5(fcvt_wu_d, D, "fcvt.wu.d %[r], ft0", "")
DEF5(fcvt_l_d, D, "fcvt.l.d %[r], ft0", "")
DEF5(fcvt_lu_d, D, "fcvt.lu.d %[r], ft0", "")
DEF1(fcvt_d_w, D, "fcvt.d.w ft2, %[a]", OD)
DEF1(fcvt_d_wu, D, "fcvt.d.wu ft2, %[a]", OD)
DEF5(fcvt_d_l, D, "fcvt.d.l ft2, %[a]", OD)
DEF5(fcvt_d_lu, D, "fcvt.d.lu ft2, %[a]", OD)
DEF5(fcvt_s_d, D, "fcvt.s.d ft2, ft0", OS)

enum pool { P32, P64, PINT };
enum shape { UNARY, BINARY, TERNARY };
struct op {
    int id;
    opfn *fns; /* 5 rounding modes, or one (rm 0) */
    int nrm;
    int arity;
    int width;
    enum pool pool;
};
/* Op ids: singles 0.., doubles 32.. (mirrored in tests.rs). */
static const struct op ops[] = {
    {0, fadd_s_t, 5, 2, 4, P32},     {1, fsub_s_t, 5, 2, 4, P32},
    {2, fmul_s_t, 5, 2, 4, P32},     {3, fdiv_s_t, 5, 2, 4, P32},
    {4, fsqrt_s_t, 5, 1, 4, P32},    {5, fmadd_s_t, 5, 3, 4, P32},
    {6, fmin_s_t, 1, 2, 4, P32},     {7, fmax_s_t, 1, 2, 4, P32},
    {8, feq_s_t, 1, 2, 1, P32},      {9, flt_s_t, 1, 2, 1, P32},
    {10, fle_s_t, 1, 2, 1, P32},     {11, fclass_s_t, 1, 1, 2, P32},
    {12, fcvt_w_s_t, 5, 1, 4, P32},  {13, fcvt_wu_s_t, 5, 1, 4, P32},
    {14, fcvt_l_s_t, 5, 1, 8, P32},  {15, fcvt_lu_s_t, 5, 1, 8, P32},
    {16, fcvt_s_w_t, 5, 1, 4, PINT}, {17, fcvt_s_wu_t, 5, 1, 4, PINT},
    {18, fcvt_s_l_t, 5, 1, 4, PINT}, {19, fcvt_s_lu_t, 5, 1, 4, PINT},
    {20, fcvt_d_s_t, 1, 1, 8, P32},
    {21, fmsub_s_t, 5, 3, 4, P32},   {22, fnmsub_s_t, 5, 3, 4, P32},
    {23, fnmadd_s_t, 5, 3, 4, P32},
    {32, fadd_d_t, 5, 2, 8, P64},    {33, fsub_d_t, 5, 2, 8, P64},
    {34, fmul_d_t, 5, 2, 8, P64},    {35, fdiv_d_t, 5, 2, 8, P64},
    {36, fsqrt_d_t, 5, 1, 8, P64},   {37, fmadd_d_t, 5, 3, 8, P64},
    {38, fmin_d_t, 1, 2, 8, P64},    {39, fmax_d_t, 1, 2, 8, P64},
    {40, feq_d_t, 1, 2, 1, P64},     {41, flt_d_t, 1, 2, 1, P64},
    {42, fle_d_t, 1, 2, 1, P64},     {43, fclass_d_t, 1, 1, 2, P64},
    {44, fcvt_w_d_t, 5, 1, 4, P64},  {45, fcvt_wu_d_t, 5, 1, 4, P64},
    {46, fcvt_l_d_t, 5, 1, 8, P64},  {47, fcvt_lu_d_t, 5, 1, 8, P64},
    {48, fcvt_d_w_t, 1, 1, 8, PINT}, {49, fcvt_d_wu_t, 1, 1, 8, PINT},
    {50, fcvt_d_l_t, 5, 1, 8, PINT}, {51, fcvt_d_lu_t, 5, 1, 8, PINT},
    {52, fcvt_s_d_t, 5, 1, 4, P64},
    {53, fmsub_d_t, 5, 3, 8, P64},   {54, fnmsub_d_t, 5, 3, 8, P64},
    {55, fnmadd_d_t, 5, 3, 8, P64},
};

/* ---- operand pools ---- */
#define MAXPOOL 2400
#define NSPECIAL 44 /* the first NSPECIAL entries of each float pool are crossed exhaustively */
#define NCLASS 11
#define NDERIVED 150
struct fpool {
    uint64_t v[MAXPOOL];
    int n;
    int class_start[NCLASS + 1];
    /* (a, b, c) index triples with c = -(a*b rounded) +- a few ulps: fma
     * results that are the product's rounding error (deep cancellation) */
    int fma_trip[NDERIVED][3];
    /* (a, b) pairs with b = -(a +- a few ulps): cancellation in add */
    int add_pair[NDERIVED][2];
};
static struct fpool pool32, pool64;
static uint64_t poolint[MAXPOOL];
static int nint;

static int FM, FE; /* current format */
static uint64_t mk(int sign, uint64_t bexp, uint64_t frac) {
    return ((uint64_t)sign << (FM + FE)) | (bexp << FM) | (frac & ((1ull << FM) - 1));
}
static uint64_t bias(void) { return (1ull << (FE - 1)) - 1; }
static uint64_t emaxf(void) { return (1ull << FE) - 1; }
static uint64_t fmask(void) { return (1ull << FM) - 1; }
static uint64_t rfrac(void) { return rnd() & fmask(); }

static void add(struct fpool *p, uint64_t v) {
    if (p->n >= MAXPOOL) {
        fprintf(stderr, "pool overflow\n");
        exit(1);
    }
    p->v[p->n++] = v;
}

static void build_pool(struct fpool *p, int m, int e) {
    FM = m;
    FE = e;
    uint64_t B = bias(), EM = emaxf(), FMK = fmask();
    p->n = 0;
    /* specials (crossed exhaustively) */
    uint64_t sp[] = {
        mk(0, 0, 0), mk(1, 0, 0), mk(0, 0, 1), mk(1, 0, 1), mk(0, 0, FMK), mk(1, 0, FMK),
        mk(0, 1, 0), mk(1, 1, 0), mk(0, EM - 1, FMK), mk(1, EM - 1, FMK), mk(0, EM, 0),
        mk(1, EM, 0), mk(0, EM, 1ull << (FM - 1)), mk(1, EM, (1ull << (FM - 1)) | 5),
        mk(0, EM, 1), mk(1, EM, FMK >> 1), mk(0, B, 0), mk(1, B, 0), mk(0, B, 1ull << (FM - 1)),
        mk(1, B, 1ull << (FM - 1)), mk(0, B + 1, 0), mk(0, B + 1, 1ull << (FM - 1)),
        mk(1, B + 1, 1ull << (FM - 1)), mk(0, B - 1, 0), mk(1, B - 1, 0), mk(0, B, 1),
        mk(0, B - 1, FMK), mk(1, B, FMK), mk(0, B + FM, 0), mk(0, B + FM + 1, 1),
        mk(0, 1, 1), mk(1, 0, 1ull << (FM - 1)), mk(0, 2, 0), mk(0, EM - 1, 0),
        mk(1, EM - 2, FMK), mk(0, B + 1, 1ull << (FM - 2)), mk(1, B + 2, 0),
        mk(0, B - 2, 1ull << (FM - 1)), mk(0, B - FM - 1, 0), mk(1, 1, FMK),
        mk(0, B + 30, 0), mk(1, B + 31, 0), mk(0, B + 63, FMK), mk(1, B + 62, 0),
    };
    _Static_assert(sizeof(sp) / sizeof(sp[0]) == NSPECIAL, "NSPECIAL");
    int c = 0;
    p->class_start[c++] = 0;
    for (unsigned i = 0; i < NSPECIAL; i++) add(p, sp[i]);
    /* 1: random bits */
    p->class_start[c++] = p->n;
    for (int i = 0; i < 250; i++) add(p, rnd() & ((FM + FE == 31) ? 0xffffffffull : ~0ull));
    /* 2: exponents near 1.0, random fraction (add/sub ties and cancellation) */
    p->class_start[c++] = p->n;
    for (int i = 0; i < 250; i++) add(p, mk(rnd() & 1, B - 3 + rndn(7), rfrac()));
    /* 3: short or sparse fractions (exact products, ties) */
    p->class_start[c++] = p->n;
    for (int i = 0; i < 250; i++) {
        uint64_t f;
        int k = 1 + rndn(10);
        switch (rndn(3)) {
        case 0: f = (rnd() & ((1ull << k) - 1)) << (FM - k); break;  /* top k bits */
        case 1: f = ((rnd() & 7) << (FM - 3)) | (rnd() & 7); break;    /* top and bottom bits */
        default: f = (1ull << rndn(FM)) | (1ull << rndn(FM)); break;  /* two bits */
        }
        add(p, mk(rnd() & 1, B - 4 + rndn(9), f));
    }
    /* 4: near overflow: huge exponents, and around emax/2 (products, sqrt) */
    p->class_start[c++] = p->n;
    for (int i = 0; i < 150; i++) {
        uint64_t f = (rnd() & 1) ? rfrac() : ((rnd() & 1) ? FMK - rndn(4) : rndn(4));
        uint64_t ex = (rnd() & 1) ? EM - 1 - rndn(3) : B + B / 2 - 2 + rndn(5);
        add(p, mk(rnd() & 1, ex, f));
    }
    /* 5: near underflow: subnormals, tiny normals, and around emin/2 */
    p->class_start[c++] = p->n;
    for (int i = 0; i < 250; i++) {
        uint64_t f = (rnd() & 1) ? rfrac() : ((rnd() & 1) ? FMK - rndn(4) : rndn(4));
        uint64_t ex;
        switch (rndn(3)) {
        case 0: ex = 0; break;
        case 1: ex = 1 + rndn(3); break;
        default: ex = B / 2 - 3 + rndn(7); break;
        }
        if (ex == 0 && rnd() & 1) f >>= rndn(FM);
        add(p, mk(rnd() & 1, ex, f));
    }
    /* 6: integer-conversion boundaries: small (half-)integers, 2^31, 2^32, 2^63, 2^64 */
    p->class_start[c++] = p->n;
    for (int i = 0; i < 250; i++) {
        int s = rnd() & 1;
        if (rnd() & 1) {
            /* k + j/4 for small k */
            int k = rndn(12), j = rndn(4);
            uint64_t val4 = 4 * (uint64_t)k + j;
            if (val4 == 0) { add(p, mk(s, 0, 0)); continue; }
            int msb = 63 - __builtin_clzll(val4);
            uint64_t frac = (val4 << (FM - msb)) & FMK;
            add(p, mk(s, B + msb - 2, frac));
        } else {
            static const int ex[] = {30, 31, 32, 62, 63, 64, 22, 23, 52, 53};
            uint64_t e2 = ex[rndn(10)];
            uint64_t f = rndn(3) == 0 ? FMK - rndn(3) : rndn(3);
            add(p, mk(s, B + e2, f));
        }
    }
    /* 7: all-ones / one-ulp-off fractions near 1 and 2 */
    p->class_start[c++] = p->n;
    for (int i = 0; i < 100; i++) {
        uint64_t f = (rnd() & 1) ? FMK - rndn(8) : rndn(8);
        add(p, mk(rnd() & 1, B - 2 + rndn(5), f));
    }
    /* 8: integer-conversion boundaries: K + j/4 around 2^31, 2^32, 2^63, 2^64 */
    p->class_start[c++] = p->n;
    {
        static const double ks[] = {2147483647.0, 2147483648.0, 4294967295.0, 4294967296.0,
                                    -2147483648.0, -2147483649.0, 9223372036854775808.0,
                                    18446744073709551616.0, 1.0, 0.0, 16777216.0,
                                    9007199254740992.0};
        static const double js[] = {0, 0.25, 0.5, 0.75, -0.25, -0.5, -0.75, 1.5, -1.5};
        for (unsigned i = 0; i < sizeof ks / sizeof ks[0]; i++)
            for (unsigned j = 0; j < sizeof js / sizeof js[0]; j++) {
                double d = ks[i] + js[j];
                uint64_t bits;
                if (FM == 23) {
                    float f = (float)d;
                    uint32_t b32;
                    memcpy(&b32, &f, 4);
                    bits = b32;
                } else {
                    memcpy(&bits, &d, 8);
                }
                add(p, bits);
            }
    }
    /* 9: (doubles) ties and near-ties for narrowing to single precision,
     * across the single-precision normal, subnormal and overflow ranges */
    p->class_start[c++] = p->n;
    if (FM == 52) {
        for (int i = 0; i < 120; i++) {
            uint64_t low;
            switch (rndn(4)) {
            case 0: low = 1ull << 28; break;
            case 1: low = (1ull << 28) + 1; break;
            case 2: low = (1ull << 28) - 1; break;
            default: low = rnd() & ((1ull << 29) - 1); break;
            }
            int64_t ex;
            switch (rndn(3)) {
            case 0: ex = -126 - rndn(26); break; /* single subnormal range */
            case 1: ex = 126 + rndn(3); break;   /* near single overflow */
            default: ex = (int64_t)rndn(60) - 30; break;
            }
            add(p, mk(rnd() & 1, B + ex, ((rnd() << 29) | low)));
        }
    }
    /* 10: derived operands for cancellation (filled below) */
    p->class_start[c++] = p->n;
    {
        opfn mul = FM == 23 ? fmul_s_t[0] : fmul_d_t[0];
        int lo = p->class_start[2], hi = p->class_start[4]; /* near 1, short */
        for (int i = 0; i < NDERIVED; i++) {
            int ia = lo + rndn(hi - lo), ib = lo + rndn(hi - lo);
            unsigned fl;
            uint64_t prod = mul(p->v[ia], p->v[ib], 0, &fl);
            uint64_t cc = (prod ^ (1ull << (FM + FE))) + (int64_t)rndn(5) - 2;
            p->fma_trip[i][0] = ia;
            p->fma_trip[i][1] = ib;
            p->fma_trip[i][2] = p->n;
            add(p, cc);
            int ja = lo + rndn(hi - lo);
            p->add_pair[i][0] = ja;
            p->add_pair[i][1] = p->n;
            add(p, (p->v[ja] ^ (1ull << (FM + FE))) + (int64_t)rndn(9) - 4);
        }
    }
    p->class_start[c++] = p->n;
    while (c <= NCLASS) p->class_start[c++] = p->n;
}

static void build_int_pool(void) {
    static const uint64_t sp[] = {
        0, 1, ~0ull, 2, 3, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
        0xffffffff80000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
        0xffffff, 0x1000001, 0xffffffffffffffffull - 0x1000000, 0x1fffffffffffffull,
        0x20000000000001ull, 0x7ffffffffffffdffull, 0xffffffffffffff7full, 12345,
    };
    nint = 0;
    for (unsigned i = 0; i < sizeof sp / sizeof sp[0]; i++) poolint[nint++] = sp[i];
    /* ties and near-ties for rounding to 24 and 53 bits */
    for (int i = 0; i < 120; i++) {
        int prec = (i & 1) ? 24 : 53;
        uint64_t v = (rnd() & ((1ull << prec) - 1)) | (1ull << prec); /* prec+1 bits */
        v = (v << 1) | 1;                                             /* a tie at prec bits */
        v += (int64_t)rndn(3) - 1;
        int room = 63 - (prec + 1);
        v <<= rndn(room + 1);
        if (rnd() & 1) v = -v;
        poolint[nint++] = v;
    }
    while (nint < 1100) {
        int len = 1 + rndn(64);
        uint64_t v = rnd() & (len == 64 ? ~0ull : ((1ull << len) - 1));
        switch (rndn(4)) {
        case 0: v = -v; break;
        case 1: v |= 1ull << (len - 1); /* exact bit length */
            v &= ~((1ull << (rndn(len) )) - 1) | 1; break;
        default: break;
        }
        if (rndn(8) == 0) v = (uint64_t)(uint32_t)v | ((rnd() & 1) ? 0xffffffff00000000ull : 0);
        poolint[nint++] = v;
    }
}

/* ---- output ---- */
static FILE *out;
static void w8(unsigned v) { fputc(v & 0xff, out); }
static void w16(unsigned v) { w8(v); w8(v >> 8); }
static void w32(uint32_t v) { w16(v); w16(v >> 16); }
static void w64(uint64_t v) { w32(v); w32(v >> 32); }

static uint64_t pool_val(enum pool pl, int idx) {
    return pl == P32 ? pool32.v[idx] : pl == P64 ? pool64.v[idx] : poolint[idx];
}
static int pool_size(enum pool pl) { return pl == P32 ? pool32.n : pl == P64 ? pool64.n : nint; }
static struct fpool *fpool_of(enum pool pl) { return pl == P32 ? &pool32 : &pool64; }

/* a random pool index; half the time from class `like`'s class */
static int pick(enum pool pl, int like) {
    int n = pool_size(pl);
    if (pl == PINT || like < 0 || rnd() & 1) return rndn(n);
    struct fpool *p = fpool_of(pl);
    int c = 0;
    while (c < NCLASS && p->class_start[c + 1] <= like) c++;
    int lo = p->class_start[c], hi = p->class_start[c + 1];
    if (hi <= lo) return rndn(n);
    return lo + rndn(hi - lo);
}

static int (*recidx)[3];
static int scale = 1;

static void section(const struct op *o, int rm, int nrec) {
    w8(o->id);
    w8(rm);
    w8(o->arity);
    w8(o->width);
    w32(nrec);
    for (int i = 0; i < nrec; i++) {
        uint64_t x[3] = {0, 0, 0};
        for (int k = 0; k < o->arity; k++) {
            w16(recidx[i][k]);
            x[k] = pool_val(o->pool, recidx[i][k]);
        }
        unsigned fl;
        uint64_t r = o->fns[rm](x[0], x[1], x[2], &fl);
        for (int k = 0; k < o->width; k++) w8(r >> (8 * k));
        w8(fl);
    }
}

int main(int argc, char **argv) {
    if (argc != 2 && argc != 4) {
        fprintf(stderr, "usage: gen OUT [SEED SCALE]\n");
        return 2;
    }
    if (argc == 4) {
        rng_state = strtoull(argv[2], 0, 0);
        scale = atoi(argv[3]);
    }
    recidx = malloc(sizeof(*recidx) * (NSPECIAL * NSPECIAL + NDERIVED + 3000 * (size_t)scale));
    if (!recidx) return 1;
    out = fopen(argv[1], "wb");
    if (!out) return 1;
    build_pool(&pool32, 23, 8);
    build_pool(&pool64, 52, 11);
    build_int_pool();
    fwrite("RVFPVEC1", 1, 8, out);
    w32(pool32.n);
    for (int i = 0; i < pool32.n; i++) w32(pool32.v[i]);
    w32(pool64.n);
    for (int i = 0; i < pool64.n; i++) w64(pool64.v[i]);
    w32(nint);
    for (int i = 0; i < nint; i++) w64(poolint[i]);

    for (unsigned oi = 0; oi < sizeof ops / sizeof ops[0]; oi++) {
        const struct op *o = &ops[oi];
        int n = 0;
        int psz = pool_size(o->pool);
        if (o->arity == 1) {
            for (int i = 0; i < psz; i++) recidx[n++][0] = i;
        } else if (o->arity == 2) {
            for (int i = 0; i < NSPECIAL; i++)
                for (int j = 0; j < NSPECIAL; j++) {
                    recidx[n][0] = i;
                    recidx[n++][1] = j;
                }
            if (o->pool != PINT && (o->id == 0 || o->id == 1 || o->id == 32 || o->id == 33)) {
                struct fpool *fp = fpool_of(o->pool);
                for (int i = 0; i < NDERIVED; i++) {
                    recidx[n][0] = fp->add_pair[i][0];
                    recidx[n++][1] = fp->add_pair[i][1];
                }
            }
            int nrand = (o->nrm == 5 ? 2000 : 3000) * scale;
            for (int i = 0; i < nrand; i++) {
                int a = pick(o->pool, -1);
                recidx[n][0] = a;
                recidx[n++][1] = pick(o->pool, a);
            }
        } else {
            /* fma: specials crossed with a few addends, then random triples;
             * the sign variants (fmsub, fnmsub, fnmadd) get fewer */
            int variant = o->id != 5 && o->id != 37;
            for (int i = 0; i < NSPECIAL; i += 1 + 3 * variant)
                for (int j = 0; j < NSPECIAL; j += 3) {
                    recidx[n][0] = i;
                    recidx[n][1] = j;
                    recidx[n++][2] = rndn(NSPECIAL);
                }
            struct fpool *fp = fpool_of(o->pool);
            for (int i = 0; i < NDERIVED; i++) {
                recidx[n][0] = fp->fma_trip[i][0];
                recidx[n][1] = fp->fma_trip[i][1];
                recidx[n++][2] = fp->fma_trip[i][2];
            }
            for (int i = 0; i < (variant ? 500 : 3000) * scale; i++) {
                int a = pick(o->pool, -1);
                recidx[n][0] = a;
                recidx[n][1] = pick(o->pool, a);
                recidx[n++][2] = pick(o->pool, a);
            }
        }
        for (int rm = 0; rm < o->nrm; rm++) section(o, rm, n);
    }
    fclose(out);
    return 0;
}
