// Integer arithmetic: a mix of multiply, divide, shifts and xor (a hash
// and a modular exponentiation loop). Prints a checksum.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t powmod(uint64_t b, uint64_t e, uint64_t m) {
    uint64_t r = 1;
    b %= m;
    while (e) {
        if (e & 1) r = (unsigned __int128)r * b % m;
        b = (unsigned __int128)b * b % m;
        e >>= 1;
    }
    return r;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 75000000;
    uint64_t h = 1469598103934665603ull, acc = 0;
    for (long i = 0; i < n; i++) {
        h ^= (uint64_t)i;
        h *= 1099511628211ull;
        h ^= h >> 29;
        uint32_t a = (uint32_t)h, b = (uint32_t)(h >> 32) | 1;
        acc += a / b + a % b + (uint64_t)(int32_t)(a * 7 - b) / 3;
        if ((i & 63) == 0) acc += powmod(h, i, 1000000007ull);
    }
    printf("%llu %llu\n", (unsigned long long)h, (unsigned long long)acc);
    return 0;
}
