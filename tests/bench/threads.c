// Threads: a segmented sieve of Eratosthenes up to LIMIT, its segments
// dealt round-robin to N threads (argv[1], default 1); every prime found
// is also hashed. Each thread keeps its own totals (on its own cache line)
// and the main thread adds them up, so the printed checksum is the same
// for any N. argv[2] overrides LIMIT.
//@ threads: 1 2
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEG 32768 /* numbers per segment (one byte each: fits L1) */
#define MAXT 64

static uint64_t limit;
static uint32_t *base; /* odd primes up to sqrt(limit) */
static long nbase;
static int nthreads;

struct result {
    uint64_t count, sum, hash;
    char pad[64 - 3 * sizeof(uint64_t)];
};
static struct result results[MAXT];

static uint64_t mix(uint64_t x) {
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ull;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dull;
    return x ^ (x >> 33);
}

static void *worker(void *arg) {
    long t = (long)arg;
    unsigned char *seg = malloc(SEG);
    uint64_t count = 0, sum = 0, hash = 0;
    uint64_t nseg = (limit + SEG - 1) / SEG;
    for (uint64_t s = (uint64_t)t; s < nseg; s += (uint64_t)nthreads) {
        uint64_t lo = s * SEG, hi = lo + SEG < limit ? lo + SEG : limit;
        memset(seg, 1, SEG);
        for (long i = 0; i < nbase; i++) {
            uint64_t p = base[i];
            if (p * p >= hi) break;
            uint64_t start = p * p > lo ? p * p : (lo + p - 1) / p * p;
            if ((start & 1) == 0) start += p; /* odd multiples only */
            for (uint64_t m = start; m < hi; m += 2 * p) seg[m - lo] = 0;
        }
        for (uint64_t n = lo | 1; n < hi; n += 2) {
            if (seg[n - lo] && n > 1) {
                count++;
                sum += n;
                hash += mix(n); /* a sum: the order does not matter */
            }
        }
    }
    /* 2 is the one even prime: counted by whoever holds segment 0. */
    if (t == 0 && limit > 2) {
        count++;
        sum += 2;
    }
    results[t] = (struct result){count, sum, hash, {0}};
    free(seg);
    return NULL;
}

int main(int argc, char **argv) {
    nthreads = argc > 1 ? atoi(argv[1]) : 1;
    limit = argc > 2 ? strtoull(argv[2], NULL, 10) : 400000000ull;
    if (nthreads < 1 || nthreads > MAXT) {
        fprintf(stderr, "threads: 1..%d\n", MAXT);
        return 2;
    }
    uint64_t r = 1;
    while ((r + 1) * (r + 1) <= limit) r++;
    unsigned char *small = calloc(r + 1, 1);
    base = malloc((r / 2 + 1) * sizeof *base);
    for (uint64_t i = 3; i <= r; i += 2) {
        if (small[i]) continue;
        base[nbase++] = (uint32_t)i;
        for (uint64_t m = i * i; m <= r; m += 2 * i) small[m] = 1;
    }
    pthread_t tid[MAXT];
    for (long t = 1; t < nthreads; t++)
        if (pthread_create(&tid[t], NULL, worker, (void *)t) != 0) {
            perror("pthread_create");
            return 1;
        }
    worker((void *)0);
    for (long t = 1; t < nthreads; t++) pthread_join(tid[t], NULL);
    uint64_t count = 0, sum = 0, hash = 0;
    for (int t = 0; t < nthreads; t++) {
        count += results[t].count;
        sum += results[t].sum;
        hash += results[t].hash;
    }
    printf("primes below %llu: %llu, sum %llu, hash %016llx\n",
           (unsigned long long)limit, (unsigned long long)count,
           (unsigned long long)sum, (unsigned long long)hash);
    return 0;
}
