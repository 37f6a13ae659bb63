// Translated loads and stores at the edge of the guest's address space:
// the stack ends at its top (64 GiB under pvm), so an access within
// +-2047 of a stack pointer lands past it. Each probe is a fixed
// instruction sequence (inline asm), first run 40 times on a buffer so
// the translator has compiled it, then on the edge: the first access of
// a base register validates it and a later one through the same,
// unchanged register with another offset needs no compare on pvm, where
// guard pages around the reservation catch it (vm-core/src/translate/
// x86_64/codegen/bounds.rs). Every access past the top must be the
// guest's SIGSEGV (SEGV_MAPERR) at the exact address, as Linux gives,
// never a read or write of host memory; so must accesses through a base
// that a load, an add or a join of paths changed after it was checked.
//@ no-qemu: the address space ends at the stack's top only under pvm (qemu's stack has mappings of its own above it)
#include "esc.h"
#include <setjmp.h>
#include <signal.h>

static sigjmp_buf jb;
static volatile unsigned long fault_addr;
static volatile int fault_code;
static unsigned long top;

static void on_segv(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)uc;
    fault_addr = (unsigned long)si->si_addr;
    fault_code = si->si_code;
    siglongjmp(jb, 1);
}

// A buffer the probes warm up on: +-2047 (and +-4095 after an addi) from
// its middle stays inside it.
static char buf[16384] __attribute__((aligned(4096)));
// A cell holding a wild pointer, loaded into a base register.
static unsigned long wild_cell[2];

typedef long (*probe_fn)(char *b, long x);

// Two accesses through one base: the first checks it, the second reuses it.
#define PAIR(name, first, second)                                                   \
    static long name(char *b, long x) {                                             \
        long v = 0;                                                                 \
        (void)x;                                                                    \
        asm volatile(first "\n\t" second : "+&r"(v), "+&r"(b) : : "memory", "ft0"); \
        return v;                                                                   \
    }

PAIR(ld_ld, "ld %0, 0(%1)", "ld %0, 2040(%1)")
PAIR(ld_lbu, "ld %0, 0(%1)", "lbu %0, 2047(%1)")
PAIR(lbu_lh, "lbu %0, 0(%1)", "lh %0, 2046(%1)")
PAIR(lw_lwu, "lw %0, 0(%1)", "lwu %0, 2044(%1)")
PAIR(ld_sd, "ld %0, 0(%1)", "sd zero, 2040(%1)")
PAIR(ld_sb, "ld %0, 0(%1)", "sb zero, 2047(%1)")
PAIR(ld_sw, "ld %0, 0(%1)", "sw zero, 2044(%1)")
PAIR(ld_fld, "ld %0, 0(%1)", "fld ft0, 2040(%1)")
PAIR(ld_flw, "ld %0, 0(%1)", "flw ft0, 2044(%1)")
PAIR(ld_fsd, "ld %0, 0(%1)", "fsd ft0, 2040(%1)")
PAIR(ld_fsw, "ld %0, 0(%1)", "fsw ft0, 2044(%1)")
PAIR(ld_straddle, "ld %0, 0(%1)", "ld %0, 4(%1)")
PAIR(ld_neg, "ld %0, 0(%1)", "ld %0, -2048(%1)")
// The base moved after its check: addi (twice, past one guard's width).
PAIR(ld_addi, "ld %0, 0(%1)\n\taddi %1, %1, 2040\n\taddi %1, %1, 2040", "ld %0, 2040(%1)")
// The base loaded over itself (from the cell it points at).
PAIR(neg, "", "ld %0, -2048(%1)")
PAIR(ld_self, "ld %1, 0(%1)", "ld %0, 8(%1)")
// One checked access, its offset reaching past a base inside the space
// (pvm compares the base and leaves the offset to the guards), or back
// into the space from a base past it.
PAIR(first_ld, "", "ld %0, 2040(%1)")
PAIR(first_sb, "", "sb zero, 2047(%1)")
PAIR(first_back, "", "ld %0, -24(%1)")
PAIR(first_wrap, "", "ld %0, 16(%1)")

// The base moved by a register amount after its check.
static long ld_add(char *b, long x) {
    long v;
    asm volatile("ld %0, 0(%1)\n\tadd %1, %1, %2\n\tld %0, 0(%1)"
                 : "=&r"(v), "+&r"(b)
                 : "r"(x)
                 : "memory");
    return v;
}

// The base checked on one path only; the paths join before its use.
static long join(char *b, long x) {
    long v = 0;
    asm volatile("beqz %2, 1f\n\t"
                 "ld %0, 0(%1)\n"
                 "1:\n\t"
                 "ld %0, 2040(%1)"
                 : "+&r"(v)
                 : "r"(b), "r"(x)
                 : "memory");
    return v;
}

// Many accesses through one base in a loop (the base is checked once per
// iteration); the last iteration reaches past the top.
static long loop(char *b, long n) {
    long v = 0, t;
    asm volatile("1:\n\t"
                 "ld %1, 0(%2)\n\t"
                 "add %0, %0, %1\n\t"
                 "ld %1, 1024(%2)\n\t"
                 "add %0, %0, %1\n\t"
                 "ld %1, 2040(%2)\n\t"
                 "add %0, %0, %1\n\t"
                 "addi %2, %2, 8\n\t"
                 "addi %3, %3, -1\n\t"
                 "bnez %3, 1b"
                 : "+&r"(v), "=&r"(t), "+&r"(b), "+&r"(n)
                 :
                 : "memory");
    return v;
}

static void show(unsigned long a) {
    if (a >= top - (1ul << 20) && a < top + (1ul << 20))
        printf("top%+ld", (long)(a - top));
    else
        printf("%#lx", a);
}

// Run probe `f` 40 times on `warm` (with `x0` and `x1` in turn), then
// once on `edge` with `x`, and say how that ended.
static void run_x(const char *name, probe_fn f, char *warm, long x0, long x1, char *edge, long x) {
    for (int i = 0; i < 40; i++)
        f(warm, (i & 1) ? x1 : x0);
    fault_addr = 0;
    if (sigsetjmp(jb, 1) == 0) {
        f(edge, x);
        printf("%s: no fault\n", name);
    } else {
        printf("%s: SIGSEGV %s at ", name, fault_code == SEGV_MAPERR ? "MAPERR" : "other");
        show(fault_addr);
        printf("\n");
    }
}

static void run(const char *name, probe_fn f, char *warm, long warm_x, char *edge, long x) {
    run_x(name, f, warm, 0, warm_x, edge, x);
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);

    // The top of the address space: the end of the [stack] mapping.
    char *maps = slurp("/proc/self/maps", NULL);
    for (char *l = maps; l && *l; l = strchr(l, '\n') + 1) {
        unsigned long s, e;
        if (strstr(l, "[stack]") && sscanf(l, "%lx-%lx", &s, &e) == 2)
            top = e;
        if (!strchr(l, '\n'))
            break;
    }
    printf("stack found: %s\n", top ? "yes" : "no");
    char *mid = buf + 8192;
    char *t8 = (char *)top - 8;
    run("ld then ld +2040", ld_ld, mid, 0, t8, 0);
    run("ld then lbu +2047", ld_lbu, mid, 0, (char *)top - 1 - 7, 0);
    run("lbu then lh +2046", lbu_lh, mid, 0, (char *)top - 1, 0);
    run("lw then lwu +2044", lw_lwu, mid, 0, (char *)top - 4, 0);
    run("ld then sd +2040", ld_sd, mid, 0, t8, 0);
    run("ld then sb +2047", ld_sb, mid, 0, t8, 0);
    run("ld then sw +2044", ld_sw, mid, 0, t8, 0);
    run("ld then fld +2040", ld_fld, mid, 0, t8, 0);
    run("ld then flw +2044", ld_flw, mid, 0, t8, 0);
    run("ld then fsd +2040", ld_fsd, mid, 0, t8, 0);
    run("ld then fsw +2044", ld_fsw, mid, 0, t8, 0);
    run("ld then ld +4 (straddles the top)", ld_straddle, mid, 0, t8, 0);
    run("ld then ld -2048 (inside)", ld_neg, mid, 0, t8, 0);
    run("ld, addi twice, ld +2040", ld_addi, mid - 4096, 0, t8, 0);
    wild_cell[0] = (unsigned long)buf;
    run("ld base from memory, ld +8 (tame)", ld_self, (char *)wild_cell, 0, (char *)wild_cell, 0);
    for (unsigned long w = 1ul << 36; w; w = w < (1ul << 47) ? w << 4 : 0) {
        // A wild pointer loaded into the checked base.
        char name[64];
        wild_cell[0] = w;
        snprintf(name, sizeof name, "ld base %#lx from memory, ld +8", w);
        wild_cell[1] = (unsigned long)buf;
        run(name, ld_self, (char *)&wild_cell[1], 0, (char *)wild_cell, 0);
    }
    long adds[] = {8, 4096, 1l << 20, 1l << 32, 1l << 40, -(1l << 37)};
    for (unsigned i = 0; i < sizeof adds / sizeof adds[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "ld, add %ld, ld", adds[i]);
        run(name, ld_add, mid, 8, t8, adds[i]);
    }
    run("join of a checked and an unchecked path", join, mid, 1, (char *)(1ul << 44), 0);
    run("join, base past the top", join, mid, 1, (char *)top + 4096, 0);
    run_x("loop walking past the top", loop, mid - 2048, 64, 64, (char *)top - 2040 - 64, 64);
    // Wrapped addresses: a base just below 2^64 and a negative offset from
    // a small base (guest address 0 is never mapped).
    run("ld then ld at -8", ld_ld, mid, 0, (char *)-8l, 0);
    run("ld -2048 from 8", neg, mid, 0, (char *)8, 0);
    run("ld -2048 from 2040", neg, mid, 0, (char *)2040, 0);
    run("one ld +2040 from top-8", first_ld, mid, 0, t8, 0);
    run("one sb +2047 from top-8", first_sb, mid, 0, t8, 0);
    run("one ld -24 from top+16 (inside)", first_back, mid, 0, (char *)top + 16, 0);
    run("one ld -24 from top+4096", first_back, mid, 0, (char *)top + 4096, 0);
    run("one ld +16 from -8 (wraps to 8)", first_wrap, mid, 0, (char *)-8l, 0);
    return 0;
}
