// /proc/self/environ is the guest's initial environment (what the program
// started with, including variables the VM's -E added), not the VM's.
//@ vmargs: -E ESC_PROBE=only-for-the-guest -U HOME
//@ env: HOME=/nowhere
//@ no-qemu: qemu-user shows its own environment, not the guest's
#include "esc.h"

extern char **environ;

int main(void) {
    size_t len;
    char *e = slurp("/proc/self/environ", &len);
    int n = 0, same = 1, probe = 0, home = 0;
    for (size_t i = 0; e && i < len; i += strlen(e + i) + 1, n++) {
        if (!environ[n] || strcmp(environ[n], e + i))
            same = 0;
        if (!strcmp(e + i, "ESC_PROBE=only-for-the-guest"))
            probe = 1;
        if (!strncmp(e + i, "HOME=", 5))
            home = 1;
    }
    printf("environ is the initial environment: %s\n", e && same && !environ[n] ? "yes" : "no");
    printf("has the -E variable: %s\n", probe ? "yes" : "no");
    printf("has the -U variable: %s\n", home ? "yes" : "no");
    return 0;
}
