/* Statistics over an array of doubles, compiled on its own (gcc.build-run). */
#ifndef STATS_H
#define STATS_H
#include <stddef.h>

struct summary {
    double mean, stddev, median;
    long min, max;
};

struct summary summarize(const long *v, size_t n);
unsigned long checksum(const char *s);
#endif
