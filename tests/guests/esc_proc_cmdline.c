// /proc/self/cmdline is the guest's argv, NUL-separated, read from the
// guest's own memory (so a program that rewrites argv[0] sees it there).
//@ args: one "two words" three
//@ no-qemu: qemu-user's /proc/self/cmdline is a copy made at start; Linux reads the guest's memory
#include "esc.h"

int main(int argc, char **argv) {
    size_t len;
    char *c = slurp("/proc/self/cmdline", &len);
    size_t want = 0;
    for (int i = 0; i < argc; i++)
        want += strlen(argv[i]) + 1;
    int same = c && len == want;
    size_t off = 0;
    for (int i = 0; same && i < argc; i++) {
        same = strcmp(c + off, argv[i]) == 0;
        off += strlen(argv[i]) + 1;
    }
    printf("cmdline is argv: %s\n", same ? "yes" : "no");
    for (size_t i = 0, k = 0; c && i < len; i += strlen(c + i) + 1, k++)
        if (k)
            printf("arg %zu: %s\n", k, c + i);
    argv[1][0] = 'O';
    c = slurp("/proc/self/cmdline", &len);
    printf("after rewriting argv[1]: %s\n", c ? c + strlen(c) + 1 : "?");
    return 0;
}
