// argv and the environment: getenv, setenv, unsetenv, environ.
//@ args: --flag value "with space" "" -x
//@ env: PVM_TEST_A=alpha
//@ env: PVM_TEST_B=with = sign
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
    printf("argc %d\n", argc);
    for (int i = 1; i < argc; i++) printf("argv[%d] = '%s' (%zu)\n", i, argv[i], strlen(argv[i]));
    printf("argv[argc] is NULL: %s\n", argv[argc] == NULL ? "yes" : "no");
    printf("PVM_TEST_A=%s\n", getenv("PVM_TEST_A"));
    printf("PVM_TEST_B=%s\n", getenv("PVM_TEST_B"));
    printf("missing: %s\n", getenv("PVM_TEST_MISSING") ? "set" : "unset");
    int n = 0;
    for (char **e = environ; *e; e++) n++;
    char **copy = malloc(n * sizeof *copy);
    for (int i = 0; i < n; i++) copy[i] = environ[i];
    qsort(copy, n, sizeof *copy, cmp);
    printf("environment (%d):\n", n);
    for (int i = 0; i < n; i++) printf("  %s\n", copy[i]);
    setenv("PVM_NEW", "1", 0);
    setenv("PVM_TEST_A", "changed", 1);
    unsetenv("PVM_TEST_B");
    printf("after: %s %s %s\n", getenv("PVM_NEW"), getenv("PVM_TEST_A"), getenv("PVM_TEST_B") ? "B set" : "B unset");
    return 0;
}
