// Branches: data-dependent, hard-to-predict control flow (Collatz steps and
// a branchy state machine over pseudo-random bytes).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1500000;
    uint64_t steps = 0;
    for (long i = 1; i < n; i++) {
        uint64_t x = i;
        while (x != 1) {
            x = (x & 1) ? 3 * x + 1 : x / 2;
            steps++;
        }
    }
    uint32_t s = 12345, state = 0, counts[4] = {0};
    for (long i = 0; i < n * 20; i++) {
        s = s * 1664525 + 1013904223;
        unsigned c = s >> 24;
        switch (state) {
        case 0: state = c < 100 ? 1 : (c < 200 ? 2 : 0); break;
        case 1: state = c & 1 ? 3 : 0; break;
        case 2: state = c > 50 ? 3 : 1; break;
        default: state = c % 3 == 0 ? 0 : 2; break;
        }
        counts[state]++;
    }
    printf("%llu %u %u %u %u\n", (unsigned long long)steps, counts[0], counts[1], counts[2], counts[3]);
    return 0;
}
