// A JIT that writes code through one view of a memfd and runs it through
// another (as JITs keeping W^X with double mapping do): the store hits a
// page that holds no code, so only riscv_flush_icache over the executable
// view, after each rewrite, says that the code changed; the new code must
// run. (Among the functions, one in another page stays hot and valid.)
//@ no-qemu: qemu-riscv64 ignores riscv_flush_icache and notices code changes only through writes to the page it translated, so it runs the first version every time
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef long (*fn)(long);
#define PAGE 4096

// addi a0, a0, imm ; ret
static void emit_addi(uint32_t *code, int imm) {
    code[0] = ((uint32_t)(imm & 0xfff) << 20) | (10 << 15) | (10 << 7) | 0x13;
    code[1] = 0x00008067;
}

static long hot(fn f, long x) {
    long r = 0;
    for (int i = 0; i < 120; i++) r = f(x);
    return r;
}

int main(void) {
    int fd = memfd_create("jit", 0);
    if (fd < 0 || ftruncate(fd, 2 * PAGE) != 0) return 2;
    uint32_t *w = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    uint32_t *x = mmap(NULL, 2 * PAGE, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    if (w == MAP_FAILED || x == MAP_FAILED) return 3;
    emit_addi(w + PAGE / 4, 7);
    syscall(259, x + PAGE / 4, x + PAGE / 4 + 2, 0);
    int bad = 0;
    for (int k = 0; k < 40; k++) {
        emit_addi(w + 4 * (k % 2), 200 + k);
        syscall(259, x + 4 * (k % 2), x + 4 * (k % 2) + 2, 0);
        long r = hot((fn)(x + 4 * (k % 2)), 1), s = hot((fn)(x + PAGE / 4), 1);
        if ((r != 201 + k || s != 8) && bad++ < 10) printf("round %d: got %ld and %ld\n", k, r, s);
    }
    printf("rewritten 40 times through another view, mismatches %d\n", bad);
    return bad != 0;
}
