// Self-modifying code: instructions written into an RWX page, and into a
// RW page then made RX with mprotect, run after fence.i; then rewritten.
//@ variants: static dynamic
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef long (*fn)(long);

// addi a0, a0, imm ; ret
static void emit_addi(uint32_t *code, int imm) {
    code[0] = ((uint32_t)(imm & 0xfff) << 20) | (10 << 15) | (10 << 7) | 0x13;
    code[1] = 0x00008067;
}

int main(void) {
    uint32_t *rwx = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (rwx == MAP_FAILED) return 1;
    long acc = 0;
    for (int round = 0; round < 50; round++) {
        emit_addi(rwx, round * 3 - 7);
        __asm__ volatile("fence.i" ::: "memory");
        acc += ((fn)rwx)(round);
    }
    printf("rwx rewritten 50 times, sum %ld\n", acc);
    // Patch only the immediate of a function that has already run.
    emit_addi(rwx, 1);
    __asm__ volatile("fence.i" ::: "memory");
    long a = ((fn)rwx)(100);
    rwx[0] = (rwx[0] & 0xfffff) | (500u << 20);
    __builtin___clear_cache((char *)rwx, (char *)rwx + 8);
    long b = ((fn)rwx)(100);
    printf("patched: %ld -> %ld\n", a, b);

    uint32_t *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    emit_addi(w, 11);
    mprotect(w, 4096, PROT_READ | PROT_EXEC);
    __asm__ volatile("fence.i" ::: "memory");
    long c = ((fn)w)(1);
    mprotect(w, 4096, PROT_READ | PROT_WRITE);
    emit_addi(w, 22);
    mprotect(w, 4096, PROT_READ | PROT_EXEC);
    __asm__ volatile("fence.i" ::: "memory");
    long d = ((fn)w)(1);
    printf("mprotect W^X: %ld then %ld\n", c, d);
    // Compressed code: c.addi a0, 5 ; c.jr ra (as two 16-bit parcels).
    uint16_t *cc = (uint16_t *)rwx;
    cc[0] = 0x0515;
    cc[1] = 0x8082;
    __asm__ volatile("fence.i" ::: "memory");
    printf("compressed generated code: %ld\n", ((fn)rwx)(37));
    return 0;
}
