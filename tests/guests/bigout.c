// Large output: many buffered lines, then single writes bigger than a
// pipe's buffer, which the host may split.
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    for (int i = 0; i < 1500; i++) printf("line %5d %.*s\n", i, i % 60, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
    fflush(stdout);
    static char big[100000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (i % 64 == 63) ? '\n' : 'a' + i % 26;
    size_t done = 0;
    while (done < sizeof big) {
        ssize_t n = write(1, big + done, sizeof big - done);
        if (n <= 0) return 1;
        done += n;
    }
    printf("end\n");
    return 0;
}
