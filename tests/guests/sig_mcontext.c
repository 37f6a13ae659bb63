// Fault handlers that read the interrupted state from uc_mcontext (the pc
// of the faulting instruction, integer and FP registers, si_code, si_addr)
// and resume past the faulting instruction by moving the saved pc, with a
// changed a0/fs0 that rt_sigreturn must bring back: SIGSEGV (unmapped and
// read-only), SIGILL, SIGTRAP (ebreak) and SIGBUS (misaligned AMO).
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

extern char segv_insn[], ill_insn[], brk_insn[], bus_insn[];

static volatile int hits;
static volatile int last_sig, last_code, pc_ok, reg_ok, fp_ok, addr_ok;
static volatile uintptr_t want_addr;
static volatile uintptr_t want_pc;

static void on_fault(int sig, siginfo_t *si, void *ctx) {
    ucontext_t *uc = ctx;
    mcontext_t *mc = &uc->uc_mcontext;
    hits++;
    last_sig = sig;
    last_code = si->si_code;
    pc_ok = mc->__gregs[REG_PC] == want_pc;
    // t1 (x6) holds 0x5a5a at every fault site.
    reg_ok = mc->__gregs[6] == 0x5a5a;
    double fs0;
    memcpy(&fs0, &mc->__fpregs.__d.__f[8], sizeof fs0);
    fp_ok = fs0 == 2.5;
    addr_ok = (uintptr_t)si->si_addr == want_addr;
    // Skip the faulting instruction (4 bytes: the sites are norvc) and
    // hand back new a0 and fs0.
    mc->__gregs[REG_PC] += 4;
    mc->__gregs[REG_A0 + 0] = 42;
    double five = 5.0;
    memcpy(&mc->__fpregs.__d.__f[8], &five, sizeof five);
}

// Each probe sets a0 = 7, t1 = 0x5a5a, fs0 = 2.5, runs one faulting
// instruction at a global label, and returns a0 + (long)fs0.
#define PROBE(name, label, insn)                                        \
    static long name(void *p) {                                         \
        long r;                                                         \
        double two_half = 2.5;                                          \
        __asm__ volatile(".option push\n.option norvc\n"                \
                         "fld fs0, 0(%2)\n"                             \
                         "li a0, 7\n"                                   \
                         "li t1, 0x5a5a\n"                              \
                         ".globl " #label "\n" #label ":\n" insn "\n"   \
                         "fcvt.l.d t2, fs0, rtz\n"                      \
                         "add %0, a0, t2\n"                             \
                         ".option pop\n"                                \
                         : "=r"(r)                                      \
                         : "r"(p), "r"(&two_half)                       \
                         : "a0", "t1", "t2", "fs0", "memory");          \
        return r;                                                       \
    }

PROBE(segv_probe, segv_insn, "sw t1, 0(%1)")
PROBE(ill_probe, ill_insn, ".word 0xffffffff")
PROBE(brk_probe, brk_insn, "ebreak")
PROBE(bus_probe, bus_insn, "amoadd.w zero, t1, (%1)")

static void report(const char *what, long r) {
    printf("%-16s r=%ld hits=%d sig=%d code=%d pc=%d reg=%d fp=%d addr=%d\n", what, r,
           hits, last_sig, last_code, pc_ok, reg_ok, fp_ok, addr_ok);
    hits = 0;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGTRAP, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);

    want_pc = (uintptr_t)segv_insn;
    want_addr = 64;
    report("unmapped store", segv_probe((void *)64));

    char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    want_addr = (uintptr_t)ro + 8;
    report("read-only store", segv_probe(ro + 8));

    want_pc = (uintptr_t)ill_insn;
    want_addr = (uintptr_t)ill_insn;
    report("illegal", ill_probe(NULL));

    want_pc = (uintptr_t)brk_insn;
    want_addr = (uintptr_t)brk_insn;
    report("ebreak", brk_probe(NULL));

    static int words[4];
    want_pc = (uintptr_t)bus_insn;
    want_addr = (uintptr_t)words + 2;
    report("misaligned amo", bus_probe((char *)words + 2));
    printf("word untouched: %d\n", words[0] == 0 && words[1] == 0);
    return 0;
}
