// Sorting a large array: a hand-written merge sort of 64-bit keys, qsort
// with a comparison function (an indirect call per comparison) of
// records; both orders are checked.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void merge_sort(uint64_t *a, uint64_t *tmp, size_t n) {
    if (n < 24) {
        for (size_t i = 1; i < n; i++) {
            uint64_t v = a[i];
            size_t j = i;
            while (j > 0 && a[j - 1] > v) { a[j] = a[j - 1]; j--; }
            a[j] = v;
        }
        return;
    }
    size_t h = n / 2;
    merge_sort(a, tmp, h);
    merge_sort(a + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
    while (i < h) tmp[k++] = a[i++];
    while (j < n) tmp[k++] = a[j++];
    memcpy(a, tmp, n * sizeof *a);
}

typedef struct { uint32_t key; uint32_t id; char name[8]; } Rec;

static int cmp_rec(const void *x, const void *y) {
    const Rec *a = x, *b = y;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 6000000;
    uint64_t *a = malloc(n * sizeof *a), *tmp = malloc(n * sizeof *a);
    uint64_t x = 0x9E3779B97F4A7C15ull, xor_in = 0;
    for (size_t i = 0; i < n; i++) {
        x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
        a[i] = x * 2685821657736338717ull;
        xor_in ^= a[i];
    }
    merge_sort(a, tmp, n);
    uint64_t xor_out = 0, weighted = 0;
    int sorted = 1;
    for (size_t i = 0; i < n; i++) {
        xor_out ^= a[i];
        weighted += a[i] * (i + 1);
        if (i && a[i - 1] > a[i]) sorted = 0;
    }
    size_t m = n / 4;
    Rec *r = malloc(m * sizeof *r);
    for (size_t i = 0; i < m; i++) {
        r[i].key = (uint32_t)(a[(i * 7919) % n] >> 45); // many equal keys
        r[i].id = (uint32_t)i;
        memcpy(r[i].name, "record", 7);
    }
    qsort(r, m, sizeof *r, cmp_rec);
    uint64_t rmix = 0;
    for (size_t i = 0; i < m; i++) {
        rmix = rmix * 1000003 + r[i].key * 31 + r[i].id;
        if (i && cmp_rec(&r[i - 1], &r[i]) > 0) sorted = 0;
    }
    printf("n %zu sorted %s xor %s weighted %llu records %llu\n", n, sorted ? "yes" : "NO",
           xor_in == xor_out ? "kept" : "LOST", (unsigned long long)weighted, (unsigned long long)rmix);
    return 0;
}
