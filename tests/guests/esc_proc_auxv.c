// /proc/self/auxv is the guest's auxiliary vector: the values getauxval
// gives (AT_PHDR, AT_ENTRY, AT_RANDOM, AT_HWCAP...), ending with AT_NULL.
#include "esc.h"
#include <sys/auxv.h>

int main(void) {
    size_t len;
    unsigned long *v = (unsigned long *)slurp("/proc/self/auxv", &len);
    if (!v) {
        printf("auxv: %s\n", en(errno));
        return 1;
    }
    size_t n = len / 16;
    printf("ends with AT_NULL: %s\n", n && v[2 * (n - 1)] == AT_NULL ? "yes" : "no");
    static const int keys[] = {AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_ENTRY, AT_UID,
                               AT_EUID, AT_GID, AT_EGID, AT_HWCAP, AT_CLKTCK, AT_RANDOM,
                               AT_SECURE, AT_EXECFN};
    static const char *names[] = {"AT_PHDR", "AT_PHENT", "AT_PHNUM", "AT_PAGESZ", "AT_ENTRY",
                                  "AT_UID", "AT_EUID", "AT_GID", "AT_EGID", "AT_HWCAP",
                                  "AT_CLKTCK", "AT_RANDOM", "AT_SECURE", "AT_EXECFN"};
    for (unsigned k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        int found = 0, same = 0;
        for (size_t i = 0; i + 1 < n; i++)
            if (v[2 * i] == (unsigned long)keys[k]) {
                found = 1;
                same = v[2 * i + 1] == getauxval(keys[k]);
            }
        printf("%s: %s\n", names[k], !found ? "missing" : same ? "same" : "different");
    }
    printf("AT_HWCAP has IMAFDC: %s\n", (getauxval(AT_HWCAP) & 0x112d) == 0x112d ? "yes" : "no");
    return 0;
}
