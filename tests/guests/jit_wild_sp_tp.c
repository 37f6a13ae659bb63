// Wild values in sp and tp. pvm's translator leaves out the bounds compare
// of an access through sp or tp at the start of a block, on the promise
// that both hold a value near the guest space at every way into
// translated code (vm-core/src/translate/x86_64/codegen/bounds.rs): a
// block that leaves one of them wild must not go on to translated code
// as if it were not, nor must the dispatcher enter translated code with
// it wild. Each probe below runs 300 times on a tame value (the
// translator compiles it), then on wild ones: far above the space, 1 MiB
// past the end of the stack (the top of pvm's space; under qemu the
// first hole past its own mappings there), below 0 by 1 MiB
// and by 8 bytes. An access through the wild register must be the guest's
// SIGSEGV (SEGV_MAPERR) at the exact address, as Linux gives, never an
// access to host memory; arithmetic on it with no access (loops, calls,
// system calls while it is wild) must run as it does natively.
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

// Every probe saves sp in t6 and tp in t5 first and changes no
// callee-saved register; a fault in it returns to its caller (ra) with
// a0 = FAULTED and sp, tp put back from t6, t5 (see on_segv).
#define FAULTED 0xfa17edul

// a0: the value put in sp (tp); the access is at the start of a block.
unsigned long sp_jump(unsigned long v);
unsigned long tp_jump(unsigned long v);
// a0: value, a1: trips. The loop's head reads through the register and
// moves it by 8 each trip.
unsigned long sp_loop(unsigned long v, unsigned long n);
unsigned long tp_loop(unsigned long v, unsigned long n);
// a0: start, a1: trips, a2: step. The register moves by a register
// amount each trip with no access; read after the loop.
unsigned long sp_walk(unsigned long v, unsigned long n, unsigned long step);
unsigned long tp_walk(unsigned long v, unsigned long n, unsigned long step);
// a0: value; a system call while it is wild, then the access.
unsigned long sp_ecall(unsigned long v);
unsigned long tp_ecall(unsigned long v);
// a0: value, a1: trips. Arithmetic, branches and calls while it is wild,
// no access; returns the trips counted plus (register - value), which
// must be 0.
unsigned long sp_arith(unsigned long v, unsigned long n);
unsigned long tp_arith(unsigned long v, unsigned long n);

#define SAVE "mv t6, sp\n\tmv t5, tp\n\t"
#define BACK "mv sp, t6\n\tmv tp, t5\n\tret\n\t"
#define FN(name, body) \
    ".globl " #name "\n\t.type " #name ", @function\n" #name ":\n\t" SAVE body BACK

asm(".text\n\t.p2align 2\n\t"
    FN(sp_jump, "mv sp, a0\n\tj 1f\n1:\n\tld a0, 8(sp)\n\t")
    FN(tp_jump, "mv tp, a0\n\tj 1f\n1:\n\tld a0, -1888(tp)\n\t")
    FN(sp_loop, "mv sp, a0\n\tli a0, 0\n"
                "1:\n\tld t0, 0(sp)\n\tadd a0, a0, t0\n\taddi sp, sp, 8\n\t"
                "addi a1, a1, -1\n\tbnez a1, 1b\n\t")
    FN(tp_loop, "mv tp, a0\n\tli a0, 0\n"
                "1:\n\tld t0, 32(tp)\n\tadd a0, a0, t0\n\taddi tp, tp, 8\n\t"
                "addi a1, a1, -1\n\tbnez a1, 1b\n\t")
    FN(sp_walk, "mv sp, a0\n"
                "1:\n\tadd sp, sp, a2\n\taddi a1, a1, -1\n\tbnez a1, 1b\n\t"
                "ld a0, 16(sp)\n\t")
    FN(tp_walk, "mv tp, a0\n"
                "1:\n\tadd tp, tp, a2\n\taddi a1, a1, -1\n\tbnez a1, 1b\n\t"
                "ld a0, 16(tp)\n\t")
    FN(sp_ecall, "mv t4, a0\n\tmv sp, a0\n\tli a7, 172\n\tecall\n\tld a0, 8(sp)\n\t")
    FN(tp_ecall, "mv t4, a0\n\tmv tp, a0\n\tli a7, 172\n\tecall\n\tld a0, 8(tp)\n\t")
    FN(sp_arith, "mv t3, ra\n\tmv t4, a0\n\tmv sp, a0\n\tli a0, 0\n"
                 "1:\n\taddi sp, sp, -48\n\tjal ra, 2f\n\taddi sp, sp, 48\n\t"
                 "li t0, 4096\n\tadd sp, sp, t0\n\tsub sp, sp, t0\n\t"
                 "addi a1, a1, -1\n\tbnez a1, 1b\n\t"
                 "sub t0, sp, t4\n\tadd a0, a0, t0\n\tmv ra, t3\n\t")
    FN(tp_arith, "mv t3, ra\n\tmv t4, a0\n\tmv tp, a0\n\tli a0, 0\n"
                 "1:\n\taddi tp, tp, -48\n\tjal ra, 2f\n\taddi tp, tp, 48\n\t"
                 "li t0, 4096\n\tadd tp, tp, t0\n\tsub tp, tp, t0\n\t"
                 "addi a1, a1, -1\n\tbnez a1, 1b\n\t"
                 "sub t0, tp, t4\n\tadd a0, a0, t0\n\tmv ra, t3\n\t")
    // The callee of the arith probes: counts a call.
    "2:\n\taddi a0, a0, 1\n\tret\n");

static volatile unsigned long fault_addr;
static volatile int fault_code;
static volatile int faults;

// Runs with sp on the alternate stack and tp perhaps wild: only plain
// stores to globals and the context.
static void on_segv(int sig, siginfo_t *si, void *ucv) {
    (void)sig;
    ucontext_t *uc = ucv;
    unsigned long *g = uc->uc_mcontext.__gregs;
    fault_addr = (unsigned long)si->si_addr;
    fault_code = si->si_code;
    faults++;
    g[0] = g[1];   // pc = ra
    g[2] = g[31];  // sp = t6
    g[4] = g[30];  // tp = t5
    g[10] = FAULTED;
}

static unsigned long buf[4096];
static unsigned long top;
static unsigned long wilds[5];

// What probe `name` on wild value `v` gave: a value, or a fault at an
// address shown relative to `base` (the register's value at the access).
static void said_at(const char *name, unsigned long v, unsigned long base, unsigned long r) {
    printf("%s ", name);
    if (v == wilds[1])
        printf("past-top");
    else
        printf("%#lx", v);
    if (r == FAULTED) {
        printf(": SIGSEGV %s at reg%+ld\n", fault_code == SEGV_MAPERR ? "MAPERR" : "other",
               (long)(fault_addr - base));
    } else {
        printf(": %#lx\n", r);
    }
}

static void said(const char *name, unsigned long v, unsigned long r) {
    said_at(name, v, v, r);
}

int main(void) {
    static char alt[65536];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt};
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);

    // The top of the stack (pvm's space ends there).
    // And the mappings, to find a hole 1 MiB past the top or, where
    // something is mapped there (qemu-riscv64's own pages), past that.
    static unsigned long maps[256][2];
    int nmaps = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        unsigned long s, e;
        if (sscanf(line, "%lx-%lx", &s, &e) != 2 || nmaps == 256)
            continue;
        maps[nmaps][0] = s;
        maps[nmaps++][1] = e;
        if (strstr(line, "[stack]"))
            top = e;
    }
    if (f)
        fclose(f);
    unsigned long past = top + (1ul << 20);
    for (int again = 1; again;) {
        again = 0;
        for (int i = 0; i < nmaps; i++)
            if (past + (1ul << 20) > maps[i][0] && past < maps[i][1] + (1ul << 20)) {
                past = maps[i][1] + (1ul << 20);
                again = 1;
            }
    }
    printf("stack found: %s\n", top ? "yes" : "no");
    for (unsigned i = 0; i < 4096; i++)
        buf[i] = i * 3 + 1;
    unsigned long tame = (unsigned long)&buf[2048];
    // (Far above: below 2^47, where qemu-riscv64 reports the address.)
    wilds[0] = 1ul << 46;
    wilds[1] = past;
    wilds[2] = -(1ul << 20);
    wilds[3] = -8ul;
    wilds[4] = 1ul << 40;

    unsigned long sum = 0;
    for (int i = 0; i < 300; i++) {
        sum += sp_jump(tame) + tp_jump(tame);
        sum += sp_loop(tame, 4) + tp_loop(tame, 4);
        sum += sp_walk(tame, 4, 8) + tp_walk(tame, 4, 8);
        sum += sp_ecall(tame) + tp_ecall(tame);
        sum += sp_arith(tame, 3) + tp_arith(tame, 3);
    }
    printf("warm: %lu, faults %d\n", sum, faults);
    for (int k = 0; k < 5; k++) {
        unsigned long w = wilds[k];
        said("sp_jump", w, sp_jump(w));
        said("tp_jump", w, tp_jump(w));
        said("sp_loop", w, sp_loop(w, 4));
        said("tp_loop", w, tp_loop(w, 4));
        said("sp_ecall", w, sp_ecall(w));
        said("tp_ecall", w, tp_ecall(w));
        said("sp_arith", w, sp_arith(w, 1000));
        said("tp_arith", w, tp_arith(w, 1000));
        // From the tame value, 4 steps of w/4 (with w = -8: -2 each).
        unsigned long end = tame + 4 * ((long)w / 4);
        said_at("sp_walk", w, end, sp_walk(tame, 4, (long)w / 4));
        said_at("tp_walk", w, end, tp_walk(tame, 4, (long)w / 4));
    }
    // Tame again: the translations still run.
    sum = 0;
    for (int i = 0; i < 300; i++)
        sum += sp_jump(tame) + tp_jump(tame) + sp_loop(tame, 4) + tp_loop(tame, 4) +
               sp_arith(tame, 3) + tp_arith(tame, 3);
    printf("tame again: %lu, faults %d\n", sum, faults);
    return 0;
}
