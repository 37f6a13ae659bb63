// The GDB stub test's exec guest (xtask/src/gdbtest.rs): execve under
// gdb. The exec of a RISC-V program is followed (gdb goes on debugging the
// new program in the same connection); the exec of a host program lets gdb
// go, and that program runs on. Never a hang.
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc > 1) {
        printf("after exec %s\n", argv[1]);
        fflush(stdout);
        // A host program: pvm cannot follow it.
        execl("/bin/sh", "sh", "-c", "echo host sh; exit 6", (char *)0);
        return 1;
    }
    printf("before exec\n");
    fflush(stdout);
    execl(argv[0], argv[0], "x", (char *)0);
    return 1;
}
