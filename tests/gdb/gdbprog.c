// The guest of the GDB stub test (xtask/src/gdbtest.rs): a function to
// break in, a local to print, a global to watch, a call into libc.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

volatile long counter;

__attribute__((noinline)) long work(long n) {
    long local_sum = 0;
    for (long i = 1; i <= n; i++) local_sum += i;
    counter = local_sum;
    return local_sum;
}

int main(int argc, char **argv) {
    char buf[64];
    long r = work(10);
    snprintf(buf, sizeof buf, "sum=%ld", r);
    puts(buf);
    counter += strlen(buf);
    return (int)(counter & 0x7f) == 61 ? 3 : 1;
}
