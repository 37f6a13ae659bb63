// The GDB stub test's exec guest (xtask/src/gdbtest.rs): execve under
// gdb. gdb is told and let go; the new program runs on, never a hang.
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc > 1) {
        printf("after exec %s\n", argv[1]);
        return 6;
    }
    printf("before exec\n");
    fflush(stdout);
    execl(argv[0], argv[0], "x", (char *)0);
    return 1;
}
