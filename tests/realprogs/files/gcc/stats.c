#include "stats.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

struct summary summarize(const long *v, size_t n) {
    struct summary s = {0};
    long *sorted = malloc(n * sizeof *sorted);
    memcpy(sorted, v, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_long);
    double sum = 0, sq = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)sorted[i];
    s.mean = sum / (double)n;
    for (size_t i = 0; i < n; i++)
        sq += ((double)sorted[i] - s.mean) * ((double)sorted[i] - s.mean);
    s.stddev = sqrt(sq / (double)n);
    s.median = n % 2 ? (double)sorted[n / 2] : ((double)sorted[n / 2 - 1] + (double)sorted[n / 2]) / 2;
    s.min = sorted[0];
    s.max = sorted[n - 1];
    free(sorted);
    return s;
}

unsigned long checksum(const char *s) {
    unsigned long h = 1469598103934665603ul;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ul;
    return h;
}
