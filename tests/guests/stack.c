// Deep recursion and large stack frames: the stack must grow as on Linux
// (8 MiB by default), and alloca/VLAs must work.
#include <alloca.h>
#include <stdio.h>
#include <string.h>

static long depth(long n, volatile char *prev) {
    volatile char frame[64];
    frame[0] = (char)n;
    frame[63] = prev ? prev[0] : 0;
    if (n == 0) return frame[0];
    return depth(n - 1, frame) + frame[63];
}

static unsigned long big_frame(int n) {
    char buf[1 << 20];
    memset(buf, n, sizeof buf);
    unsigned long s = 0;
    for (size_t i = 0; i < sizeof buf; i += 4096) s += (unsigned char)buf[i];
    return n ? s + big_frame(n - 1) : s;
}

int main(void) {
    printf("recursion 30000 deep: %ld\n", depth(30000, 0));
    printf("1 MiB frames, 4 deep: %lu\n", big_frame(3));
    int n = 100000;
    char *a = alloca(n);
    memset(a, 7, n);
    char vla[n];
    memcpy(vla, a, n);
    long s = 0;
    for (int i = 0; i < n; i++) s += vla[i];
    printf("alloca + VLA sum: %ld\n", s);
    return 0;
}
