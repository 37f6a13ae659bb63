// execve with hostile argv and envp arrays (the array itself, or one of
// its string pointers, at a hostile address) fails with EFAULT and the
// caller keeps running.
#include "esc.h"

int main(void) {
    char exe[4096] = {0};
    readlink("/proc/self/exe", exe, sizeof exe - 1);
    for (unsigned i = 1; i < NHOSTILE; i++) {
        char *p = (char *)HOSTILE[i];
        char *argv[] = {"x", p, NULL};
        char *envp[] = {p, NULL};
        char *ok[] = {NULL};
        printf("%#lx:", HOSTILE[i]);
        printf(" argv array %s", execve(exe, (char **)p, ok) < 0 ? en(errno) : "ok");
        printf(" argv string %s", execve(exe, argv, ok) < 0 ? en(errno) : "ok");
        printf(" envp array %s", execve(exe, ok, (char **)p) < 0 ? en(errno) : "ok");
        printf(" envp string %s\n", execve(exe, ok, envp) < 0 ? en(errno) : "ok");
    }
    return 0;
}
