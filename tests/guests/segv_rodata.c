// A store into read-only data (a string literal): SIGSEGV (status 139).
//@ status: 139
#include <stdio.h>

int main(void) {
    /* volatile: the store to a literal is UB, so without it GCC drops it */
    volatile char *volatile s = (volatile char *)"read-only";
    printf("first char %c\n", s[0]);
    fflush(stdout);
    s[0] = 'R';
    printf("not reached\n");
    return 0;
}
