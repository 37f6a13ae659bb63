/* A small program that gcc builds and then runs, under pvm and natively
 * (gcc.build-run): arithmetic, libm, qsort, strings, a struct return. */
#include "stats.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long collatz_steps(long n) {
    long steps = 0;
    while (n != 1) {
        n = n % 2 ? 3 * n + 1 : n / 2;
        steps++;
    }
    return steps;
}

int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 3;
    size_t n = (size_t)scale * 1000;
    long *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = collatz_steps((long)i + 1);
    struct summary s = summarize(v, n);
    printf("collatz 1..%zu: mean %.4f stddev %.4f median %.1f min %ld max %ld\n", n, s.mean,
           s.stddev, s.median, s.min, s.max);
    char words[256] = "";
    for (int i = 0; i < 12; i++) {
        char w[16];
        snprintf(w, sizeof w, "%s%lx", i ? "-" : "", (unsigned long)v[i * 7] * 2654435761ul % 4096);
        strcat(words, w);
    }
    printf("words %s checksum %016lx\n", words, checksum(words));
    free(v);
    return 0;
}
