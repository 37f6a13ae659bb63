// Wild values in the base registers of loops. pvm's translator lets a
// block assume some base registers near the guest space, so that a loop
// compares its pointers once on the way in rather than on every trip
// (vm-core/src/translate/x86_64/codegen/nearin.rs): every way into such a
// block must compare them, and a wild one must give what the interpreter
// gives. Each probe runs 300 times on tame values (the translator
// compiles it), then on wild ones. An access through a wild base must be
// the guest's SIGSEGV (SEGV_MAPERR) at the exact address, as Linux gives,
// never an access to host memory; a wild value that is never accessed
// through must change nothing. Then the tame runs again.
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

// A fault in a probe returns to its caller (ra) with a0 = FAULTED (see
// on_segv); the probes change no callee-saved register.
#define FAULTED 0xfa17edul

// a0: pointer, a1: trips (at least 1). Sums the words; the loop's head
// reads through a0 and moves it by 8.
unsigned long sum_loop(unsigned long *p, unsigned long n);
// a0: pointer, a1: trips, a2: a displacement added to the pointer at the
// trip a1 == a3 (by a block of its own that jumps back to the head).
unsigned long jump_loop(unsigned long *p, unsigned long n, unsigned long d, unsigned long at);
// a0: pointer, a1: trips (may be 0): the head tests the count before the
// body reads through a0, so a wild pointer with no trips is never read.
unsigned long top_tested(unsigned long *p, unsigned long n);
// a0: a table of n words, each either a pointer to a word or an odd
// number (a tagged integer): adds what the pointers point at and the
// integers, reading through each value only when it is even.
unsigned long tagged(unsigned long *vals, unsigned long n);

#define FN(name, body) ".globl " #name "\n\t.type " #name ", @function\n" #name ":\n\t" body

asm(".text\n\t.p2align 2\n\t"
    FN(sum_loop, "li t1, 0\n"
                 "1:\n\tld t0, 0(a0)\n\tadd t1, t1, t0\n\taddi a0, a0, 8\n\t"
                 "addi a1, a1, -1\n\tbnez a1, 1b\n\tmv a0, t1\n\tret\n\t")
    FN(jump_loop, "li t1, 0\n"
                  "1:\n\tld t0, 0(a0)\n\tadd t1, t1, t0\n\taddi a0, a0, 8\n\t"
                  "addi a1, a1, -1\n\tbeqz a1, 3f\n\tbne a1, a3, 1b\n\t"
                  "add a0, a0, a2\n\tj 1b\n"
                  "3:\n\tmv a0, t1\n\tret\n\t")
    FN(top_tested, "li t1, 0\n"
                   "1:\n\tbeqz a1, 2f\n\tld t0, 0(a0)\n\tadd t1, t1, t0\n\t"
                   "addi a0, a0, 8\n\taddi a1, a1, -1\n\tj 1b\n"
                   "2:\n\tmv a0, t1\n\tret\n\t")
    FN(tagged, "li t1, 0\n"
               "1:\n\tbeqz a1, 3f\n\tld a2, 0(a0)\n\tandi t0, a2, 1\n\t"
               "bnez t0, 2f\n\tld a2, 0(a2)\n"
               "2:\n\tadd t1, t1, a2\n\taddi a0, a0, 8\n\taddi a1, a1, -1\n\tj 1b\n"
               "3:\n\tmv a0, t1\n\tret\n\t"));

static volatile unsigned long fault_addr;
static volatile int fault_code;
static volatile int faults;

static void on_segv(int sig, siginfo_t *si, void *ucv) {
    (void)sig;
    ucontext_t *uc = ucv;
    unsigned long *g = uc->uc_mcontext.__gregs;
    fault_addr = (unsigned long)si->si_addr;
    fault_code = si->si_code;
    faults++;
    g[0] = g[1];  // pc = ra
    g[10] = FAULTED;
}

static unsigned long buf[4096];

// What a probe gave: a value, or a fault at an address shown relative to
// `base`.
static void said(const char *name, unsigned long v, unsigned long base, unsigned long r) {
    printf("%s %#lx: ", name, v);
    if (r == FAULTED)
        printf("SIGSEGV %s at %+ld\n", fault_code == SEGV_MAPERR ? "MAPERR" : "other",
               (long)(fault_addr - base));
    else
        printf("%#lx\n", r);
}

static unsigned long warm(unsigned long *tame, unsigned long *vals) {
    unsigned long sum = 0;
    for (int i = 0; i < 300; i++) {
        sum += sum_loop(tame, 4);
        sum += jump_loop(tame, 6, 16, 3);
        sum += top_tested(tame, 3) + top_tested(tame, 0);
        sum += tagged(vals, 8);
    }
    return sum;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    for (unsigned i = 0; i < 4096; i++)
        buf[i] = i * 3 + 1;
    unsigned long *tame = &buf[2048];
    // Pointers and tagged integers, some of them far outside any space.
    static unsigned long vals[8];
    for (int i = 0; i < 8; i++)
        vals[i] = i % 2 ? (unsigned long)&buf[i * 7] : ((1ul << 40) + 2 * i) | 1;
    printf("warm: %lu, faults %d\n", warm(tame, vals), faults);
    static const unsigned long wilds[] = {1ul << 46, 1ul << 40, -(1ul << 20), -8ul};
    for (int k = 0; k < 4; k++) {
        unsigned long w = wilds[k];
        said("sum_loop", w, w, sum_loop((unsigned long *)w, 4));
        // Wild from the fourth trip on: d takes the pointer there.
        unsigned long at4 = (unsigned long)(tame + 3);
        said("jump_loop", w, w, jump_loop(tame, 6, w - at4, 3));
        said("top_tested(0)", w, w, top_tested((unsigned long *)w, 0));
        said("top_tested(2)", w, w, top_tested((unsigned long *)w, 2));
    }
    // Many wild ways in that are never read through: the loop must keep
    // giving the right sums (and pvm translates it again without the
    // assumption, see nearin.rs).
    unsigned long sum = 0;
    for (int i = 0; i < 200; i++)
        sum += top_tested((unsigned long *)(1ul << 40), 0) + tagged(vals, 8);
    printf("wild, unread: %lu, faults %d\n", sum, faults);
    printf("tame again: %lu, faults %d\n", warm(tame, vals), faults);
    return 0;
}
