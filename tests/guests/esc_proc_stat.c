// /proc/self/stat is the guest's: its pid and parent, its name, one
// thread, and the address fields (start_code, end_code, start_stack,
// arg_start..env_end, start_brk) at guest addresses around the guest's
// code, stack, argv and environment.
//@ no-qemu: qemu-user fills most /proc/self/stat fields with 0
#include "esc.h"

extern char **environ;

int main(int argc, char **argv) {
    (void)argc;
    char *s = slurp("/proc/self/stat", NULL);
    if (!s)
        return 1;
    char *rp = strrchr(s, ')');
    char comm[64] = {0};
    char *lp = strchr(s, '(');
    memcpy(comm, lp + 1, rp - lp - 1 < 63 ? rp - lp - 1 : 63);
    unsigned long f[64] = {0};
    char state = 0;
    int n = 3;
    char *q = rp + 2;
    state = *q;
    q += 2;
    while (*q && n < 60) {
        f[++n] = strtoul(q, &q, 10);
        while (*q == ' ')
            q++;
    }
    printf("pid: %s\n", strtol(s, NULL, 10) == getpid() ? "mine" : "other");
    const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    printf("comm is the program's name: %s\n", strncmp(comm, base, 15) == 0 ? "yes" : "no");
    printf("state: %c\n", state);
    printf("ppid: %s\n", (pid_t)f[4] == getppid() ? "mine" : "other");
    printf("fields: %d\n", n);
    printf("num_threads: %lu\n", f[20]);
    int local;
    printf("start_code <= main < end_code: %s\n",
           f[26] <= (unsigned long)&main && (unsigned long)&main < f[27] ? "yes" : "no");
    printf("start_stack above locals: %s\n", f[28] > (unsigned long)&local ? "yes" : "no");
    if (n >= 51) {
        printf("arg_start is argv[0]: %s\n", f[48] == (unsigned long)argv[0] ? "yes" : "no");
        printf("env_start is environ[0]: %s\n",
               environ[0] && f[50] == (unsigned long)environ[0] ? "yes" : "no");
        printf("start_brk <= sbrk(0): %s\n", f[47] && f[47] <= (unsigned long)sbrk(0) ? "yes" : "no");
    }
    return 0;
}
