// Memory: sequential sums, strided walks, memcpy of large blocks and a
// pointer chase through a random cycle (cache-missing loads).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    long rounds = argc > 1 ? atol(argv[1]) : 17;
    size_t n = 1 << 22; // 4 Mi entries of 8 bytes = 32 MiB
    uint64_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    uint32_t *next = malloc((n / 8) * sizeof *next);
    for (size_t i = 0; i < n; i++) a[i] = i * 2654435761u;
    uint64_t sum = 0;
    for (long r = 0; r < rounds; r++) {
        for (size_t i = 0; i < n; i++) sum += a[i];
        for (size_t i = 0; i < n; i += 16) sum ^= a[i];
        memcpy(b, a, n * sizeof *a);
        a[r] = b[n - 1 - r];
    }
    // Random single cycle (Sattolo) over n/8 entries.
    size_t m = n / 8;
    for (size_t i = 0; i < m; i++) next[i] = i;
    uint64_t s = 7;
    for (size_t i = m - 1; i > 0; i--) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        size_t j = (s >> 33) % i;
        uint32_t t = next[i];
        next[i] = next[j];
        next[j] = t;
    }
    uint32_t p = 0;
    for (long k = 0; k < rounds * 200000; k++) p = next[p];
    printf("%llu %u\n", (unsigned long long)sum, p);
    free(a);
    free(b);
    free(next);
    return 0;
}
