// The emulator's -E and -U options (qemu-riscv64 and pvm share them):
// set one variable, override another, remove a third.
//@ env: PVM_KEEP=kept
//@ env: PVM_DROP=dropped
//@ vmargs: -E PVM_ADDED=added -E PVM_KEEP=overridden -U PVM_DROP -U LANG
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void) {
    int n = 0;
    while (environ[n]) n++;
    qsort(environ, n, sizeof *environ, cmp);
    for (int i = 0; i < n; i++) printf("%s\n", environ[i]);
    return 0;
}
