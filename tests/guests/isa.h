// Shared helpers for the per-instruction tests (C with inline assembly):
// tables of edge-case inputs and hex printing.
#ifndef PVM_ISA_H
#define PVM_ISA_H
#include <stdint.h>
#include <stdio.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

// Integer edge inputs: zero, ones, extremes of 32 and 64 bits, shift
// amounts at and past their limits, and mixed bit patterns.
static const uint64_t IV[] = {
    0, 1, 2, 0xffffffffffffffffull, 0xfffffffffffffffeull, 0x7fffffffffffffffull, 0x8000000000000000ull,
    0x7fffffffull, 0x80000000ull, 0xffffffffull, 0xffffffff80000000ull, 0x100000000ull, 31, 63, 64,
    0x123456789abcdef0ull, 0xfedcba9876543210ull,
};

__attribute__((unused)) static void hex64(uint64_t v) { printf(" %016llx", (unsigned long long)v); }
#endif
