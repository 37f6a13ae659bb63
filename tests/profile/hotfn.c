// The `--profile` check's guest (xtask/src/profile.rs): one function,
// `spin_hot`, takes nearly all the time; `warm_up` and `main` little.
// The report must name `spin_hot` as the hottest function.
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static unsigned long warm_up(unsigned long n) {
    unsigned long s = 0;
    for (unsigned long i = 0; i < n; i++)
        s += i * i;
    return s;
}

__attribute__((noinline)) unsigned long spin_hot(unsigned long n, unsigned long seed) {
    unsigned long x = seed;
    for (unsigned long i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x += i;
    }
    return x;
}

int main(int argc, char **argv) {
    unsigned long n = argc > 1 ? strtoul(argv[1], 0, 10) : 100000000UL;
    unsigned long s = warm_up(n / 100);
    s += spin_hot(n, 88172645463325252UL);
    printf("%lu\n", s);
    return 0;
}
