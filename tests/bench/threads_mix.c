// Threads, a mixed job: work items of the single-threaded suite's kinds
// (an integer hash table, a double-precision n-body run, a malloc'd
// binary tree built, walked and freed, a merge sort of 64-bit keys), each
// a pure function of its index, dealt to N threads (argv[1], default 1)
// by an atomic counter, so a thread that finishes early takes the next.
// The checksum is a sum over the items (the order does not matter), the
// same for any N and on every runner. argv[2] scales the work (default
// 100: about 0.8 s of CPU natively).
//@ threads: 1 2
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#define ITEMS 64
#define MAXT 64

static long scale;
static int next_item; /* the next item to take (atomic) */

static uint64_t mix(uint64_t x) {
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ull;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dull;
    return x ^ (x >> 33);
}

/* Integer hash: an open-addressing table of 64-bit keys (linear probing),
 * filled, probed for keys present and absent, half deleted by marking. */
static uint64_t hash_item(uint64_t seed) {
    const uint32_t cap = 1u << 15, n = 20000;
    uint64_t *keys = calloc(cap, sizeof *keys);
    uint32_t *vals = calloc(cap, sizeof *vals);
    uint64_t acc = 0;
    for (long round = 0; round < scale / 4; round++) {
        memset(keys, 0, cap * sizeof *keys);
        for (uint32_t i = 0; i < n; i++) {
            uint64_t k = mix(seed + round * 1000003 + i) | 1;
            uint32_t h = (uint32_t)k & (cap - 1);
            while (keys[h] != 0 && keys[h] != k) h = (h + 1) & (cap - 1);
            keys[h] = k;
            vals[h] = i;
        }
        for (uint32_t i = 0; i < 2 * n; i++) {
            uint64_t k = mix(seed + round * 1000003 + i) | 1;
            uint32_t h = (uint32_t)k & (cap - 1);
            while (keys[h] != 0 && keys[h] != k) h = (h + 1) & (cap - 1);
            acc += keys[h] ? vals[h] + 1 : 7;
        }
    }
    free(keys);
    free(vals);
    return acc;
}

/* Double precision: five bodies whose start depends on the seed, stepped
 * with the benchmarks game's advance(); the energy's bits at the end. */
typedef struct { double x, y, z, vx, vy, vz, m; } Body;

static uint64_t nbody_item(uint64_t seed) {
    enum { N = 5 };
    Body b[N];
    for (int i = 0; i < N; i++) {
        uint64_t r = mix(seed * 8 + i);
        double f = (double)(r & 0xffff) / 65536.0;
        b[i] = (Body){(i + 1) * 3.0 + f, (i & 1 ? -1 : 1) * (1.0 + f), 0.1 * f,
                      (i & 1 ? 0.5 : -0.5) * f, 1.0 / (i + 1), 0.01 * f,
                      i == 0 ? 39.47841760435743 : 0.001 * (i + f)};
    }
    long steps = scale * 1200;
    for (long s = 0; s < steps; s++) {
        for (int i = 0; i < N; i++) {
            for (int j = i + 1; j < N; j++) {
                double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
                double d2 = dx * dx + dy * dy + dz * dz;
                double mag = 0.001 / (d2 * sqrt(d2));
                b[i].vx -= dx * b[j].m * mag;
                b[i].vy -= dy * b[j].m * mag;
                b[i].vz -= dz * b[j].m * mag;
                b[j].vx += dx * b[i].m * mag;
                b[j].vy += dy * b[i].m * mag;
                b[j].vz += dz * b[i].m * mag;
            }
        }
        for (int i = 0; i < N; i++) {
            b[i].x += 0.001 * b[i].vx;
            b[i].y += 0.001 * b[i].vy;
            b[i].z += 0.001 * b[i].vz;
        }
    }
    double e = 0;
    for (int i = 0; i < N; i++) {
        e += 0.5 * b[i].m * (b[i].vx * b[i].vx + b[i].vy * b[i].vy + b[i].vz * b[i].vz);
        for (int j = i + 1; j < N; j++) {
            double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
            e -= b[i].m * b[j].m / sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    uint64_t bits;
    memcpy(&bits, &e, sizeof bits);
    return bits;
}

/* Trees: binary trees of malloc'd nodes built, walked and freed. */
struct node {
    struct node *l, *r;
    uint64_t v;
};

static struct node *build(int depth, uint64_t v) {
    struct node *n = malloc(sizeof *n);
    n->v = v;
    n->l = depth ? build(depth - 1, v * 2 + 1) : NULL;
    n->r = depth ? build(depth - 1, v * 2 + 2) : NULL;
    return n;
}

static uint64_t walk(const struct node *n) {
    return n ? mix(n->v) + walk(n->l) - walk(n->r) : 1;
}

static void drop(struct node *n) {
    if (n) {
        drop(n->l);
        drop(n->r);
        free(n);
    }
}

static uint64_t tree_item(uint64_t seed) {
    uint64_t acc = 0;
    for (long i = 0; i < scale / 5; i++) {
        struct node *t = build(14, seed + i);
        acc += walk(t);
        drop(t);
    }
    return acc;
}

/* Sort: a merge sort of pseudo-random 64-bit keys, checked and hashed. */
static void merge_sort(uint64_t *a, uint64_t *tmp, long n) {
    if (n < 2) return;
    long h = n / 2;
    merge_sort(a, tmp, h);
    merge_sort(a + h, tmp, n - h);
    long i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = a[j] < a[i] ? a[j++] : a[i++];
    while (i < h) tmp[k++] = a[i++];
    while (j < n) tmp[k++] = a[j++];
    memcpy(a, tmp, n * sizeof *a);
}

static uint64_t sort_item(uint64_t seed) {
    long n = scale * 1500;
    uint64_t *a = malloc(n * sizeof *a), *tmp = malloc(n * sizeof *tmp);
    for (long i = 0; i < n; i++) a[i] = mix(seed ^ (uint64_t)i);
    merge_sort(a, tmp, n);
    uint64_t acc = 0;
    for (long i = 0; i < n; i++) {
        if (i && a[i - 1] > a[i]) acc += 1000000007; /* never: unsorted */
        acc = acc * 31 + (a[i] >> 40);
    }
    free(a);
    free(tmp);
    return acc;
}

static uint64_t results[ITEMS];

static void *worker(void *arg) {
    (void)arg;
    for (;;) {
        int i = __atomic_fetch_add(&next_item, 1, __ATOMIC_RELAXED);
        if (i >= ITEMS) break;
        uint64_t seed = mix((uint64_t)i + 1);
        uint64_t r;
        switch (i % 4) {
        case 0: r = hash_item(seed); break;
        case 1: r = nbody_item(seed); break;
        case 2: r = tree_item(seed); break;
        default: r = sort_item(seed); break;
        }
        results[i] = r; /* each item's own slot: written by one thread */
    }
    return NULL;
}

int main(int argc, char **argv) {
    int nthreads = argc > 1 ? atoi(argv[1]) : 1;
    scale = argc > 2 ? atol(argv[2]) : 100;
    if (nthreads < 1 || nthreads > MAXT || scale < 5) {
        fprintf(stderr, "threads_mix: 1..%d threads, scale at least 5\n", MAXT);
        return 2;
    }
    pthread_t tid[MAXT];
    for (int t = 1; t < nthreads; t++)
        if (pthread_create(&tid[t], NULL, worker, NULL) != 0) {
            perror("pthread_create");
            return 1;
        }
    worker(NULL);
    for (int t = 1; t < nthreads; t++) pthread_join(tid[t], NULL);
    uint64_t sum[4] = {0, 0, 0, 0};
    for (int i = 0; i < ITEMS; i++) sum[i % 4] += mix(results[i] + (uint64_t)i);
    printf("items %d, scale %ld: hash %016llx nbody %016llx tree %016llx sort %016llx\n",
           ITEMS, scale, (unsigned long long)sum[0], (unsigned long long)sum[1],
           (unsigned long long)sum[2], (unsigned long long)sum[3]);
    return 0;
}
