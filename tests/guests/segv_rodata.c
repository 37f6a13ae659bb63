// A store into read-only data (a string literal): SIGSEGV (status 139).
//@ status: 139
//@ no-qemu: qemu-riscv64 7.2 lets this store into a read-only segment succeed; Linux raises SIGSEGV
#include <stdio.h>

int main(void) {
    char *volatile s = "read-only";
    printf("first char %c\n", s[0]);
    fflush(stdout);
    s[0] = 'R';
    printf("not reached\n");
    return 0;
}
