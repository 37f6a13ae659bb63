// Heavy malloc/free/realloc/calloc use, small and large (mmap) blocks.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int main(void) {
    enum { SLOTS = 4096 };
    static unsigned char *p[SLOTS];
    static size_t sz[SLOTS];
    uint64_t check = 0, allocated = 0;
    for (int round = 0; round < 100000; round++) {
        int i = next() % SLOTS;
        if (p[i]) {
            for (size_t k = 0; k < sz[i]; k += 97) check += p[i][k] ^ (unsigned char)(i + k);
            if (next() % 4 == 0) {
                size_t ns = next() % 3000 + 1;
                unsigned char *q = realloc(p[i], ns);
                if (!q) return 1;
                for (size_t k = sz[i]; k < ns; k++) q[k] = (unsigned char)(i + k);
                p[i] = q;
                sz[i] = ns;
                continue;
            }
            free(p[i]);
            p[i] = 0;
        } else {
            size_t s = (next() % 16 == 0) ? next() % 200000 + 1 : next() % 512 + 1;
            p[i] = (next() & 1) ? calloc(1, s) : malloc(s);
            if (!p[i]) return 1;
            sz[i] = s;
            allocated += s;
            for (size_t k = 0; k < s; k++) p[i][k] = (unsigned char)(i + k);
        }
    }
    for (int i = 0; i < SLOTS; i++) free(p[i]);
    printf("corruption checksum %llu, allocated %llu\n", (unsigned long long)check, (unsigned long long)allocated);
    // Large blocks go through mmap; they must be zeroed by calloc.
    for (int r = 0; r < 8; r++) {
        size_t s = (size_t)(r + 1) << 20;
        unsigned char *b = calloc(s, 1);
        if (!b) return 3;
        size_t nz = 0;
        for (size_t k = 0; k < s; k += 4096) nz += b[k] != 0;
        memset(b, r, s);
        unsigned char *c = realloc(b, s * 2);
        if (!c) return 4;
        if (c[s - 1] != (unsigned char)r) return 5;
        free(c);
        printf("block %d MiB: nonzero pages %zu\n", r + 1, nz);
    }
    void *al = aligned_alloc(4096, 8192);
    printf("aligned_alloc page aligned: %s\n", ((uintptr_t)al & 4095) == 0 ? "yes" : "no");
    free(al);
    void *pm;
    printf("posix_memalign: %d\n", posix_memalign(&pm, 256, 1000));
    printf("aligned 256: %s\n", ((uintptr_t)pm & 255) == 0 ? "yes" : "no");
    free(pm);
    printf("malloc(huge) fails: %s\n", malloc((size_t)1 << 62) == NULL ? "yes" : "no");
    return 0;
}
