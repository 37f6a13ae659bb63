// Zicsr: fflags/frm/fcsr through every CSR instruction form, and the
// counters (only their properties: they are running).
//@ variants: static
//@ cflags: -march=rv64g
#include "isa.h"

int main(void) {
    uint64_t a, b, c;
    __asm__ volatile("csrw fcsr, zero");
    __asm__ volatile("csrrw %0, fcsr, %1" : "=r"(a) : "r"(0xffull));
    __asm__ volatile("csrr %0, fcsr" : "=r"(b));
    printf("csrrw fcsr old %llx new %llx\n", (unsigned long long)a, (unsigned long long)b);
    __asm__ volatile("csrrw %0, fcsr, %1" : "=r"(a) : "r"(0xfffffull));
    __asm__ volatile("csrr %0, fcsr" : "=r"(b));
    printf("fcsr keeps 8 bits: %llx\n", (unsigned long long)b);
    __asm__ volatile("csrr %0, fflags\n\tcsrr %1, frm" : "=r"(a), "=r"(b));
    printf("fflags %llx frm %llx\n", (unsigned long long)a, (unsigned long long)b);
    __asm__ volatile("csrrc %0, fflags, %1" : "=r"(a) : "r"(0x5ull));
    __asm__ volatile("csrr %0, fflags" : "=r"(b));
    printf("csrrc fflags old %llx new %llx\n", (unsigned long long)a, (unsigned long long)b);
    __asm__ volatile("csrrs %0, fflags, %1" : "=r"(a) : "r"(0x1ull));
    __asm__ volatile("csrr %0, fflags" : "=r"(b));
    printf("csrrs fflags old %llx new %llx\n", (unsigned long long)a, (unsigned long long)b);
    __asm__ volatile("csrrwi %0, frm, 2" : "=r"(a));
    __asm__ volatile("csrr %0, frm\n\tcsrr %1, fcsr" : "=r"(b), "=r"(c));
    printf("csrrwi frm old %llx new %llx fcsr %llx\n", (unsigned long long)a, (unsigned long long)b,
           (unsigned long long)c);
    __asm__ volatile("csrrsi %0, frm, 1" : "=r"(a));
    __asm__ volatile("csrr %0, frm" : "=r"(b));
    printf("csrrsi frm old %llx new %llx\n", (unsigned long long)a, (unsigned long long)b);
    __asm__ volatile("csrrci %0, frm, 2" : "=r"(a));
    __asm__ volatile("csrr %0, frm" : "=r"(b));
    printf("csrrci frm old %llx new %llx\n", (unsigned long long)a, (unsigned long long)b);
    __asm__ volatile("csrrwi %0, fflags, 0x1f" : "=r"(a));
    __asm__ volatile("csrrci %0, fflags, 0x3" : "=r"(a));
    __asm__ volatile("csrrsi %0, fflags, 0" : "=r"(b));
    printf("csrrci fflags old %llx, csrrsi 0 reads %llx\n", (unsigned long long)a, (unsigned long long)b);
    __asm__ volatile("csrwi frm, 7\n\tcsrr %0, frm" : "=r"(a));
    printf("frm accepts 7 (invalid only when used): %llx\n", (unsigned long long)a);
    __asm__ volatile("fsrm %0, %1" : "=r"(a) : "r"(0ull));
    __asm__ volatile("fsflags %0, %1" : "=r"(a) : "r"(0x10ull));
    __asm__ volatile("frcsr %0" : "=r"(b));
    printf("fsrm/fsflags/frcsr: old flags %llx fcsr %llx\n", (unsigned long long)a, (unsigned long long)b);
    __asm__ volatile("fscsr %0, %1" : "=r"(a) : "r"(0x21ull));
    __asm__ volatile("frrm %0\n\tfrflags %1" : "=r"(b), "=r"(c));
    printf("fscsr: old %llx frm %llx fflags %llx\n", (unsigned long long)a, (unsigned long long)b,
           (unsigned long long)c);
    __asm__ volatile("csrw fcsr, zero");
    // Counters: read twice around some work.
    uint64_t c0, c1, t0, t1, i0, i1;
    __asm__ volatile("rdcycle %0\n\trdtime %1\n\trdinstret %2" : "=r"(c0), "=r"(t0), "=r"(i0));
    volatile uint64_t x = 0;
    for (int i = 0; i < 100000; i++) x += i;
    __asm__ volatile("rdcycle %0\n\trdtime %1\n\trdinstret %2" : "=r"(c1), "=r"(t1), "=r"(i1));
    printf("cycle advances: %s\n", c1 > c0 ? "yes" : "no");
    printf("time advances: %s\n", t1 > t0 ? "yes" : "no");
    printf("instret advances: %s\n", i1 > i0 ? "yes" : "no");
    __asm__ volatile("csrr %0, cycle\n\tcsrr %1, time\n\tcsrr %2, instret" : "=r"(c0), "=r"(t0), "=r"(i0));
    printf("csrr counters nonzero: %s\n", c0 && t0 && i0 ? "yes" : "no");
    return 0;
}
