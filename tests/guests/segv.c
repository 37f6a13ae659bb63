// A store to an unmapped address: killed by SIGSEGV (status 139).
//@ status: 139
#include <stdio.h>

int main(void) {
    printf("before the fault\n");
    fflush(stdout);
    volatile int *p = (volatile int *)16;
    *p = 1;
    printf("not reached\n");
    return 0;
}
