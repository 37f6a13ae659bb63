// Unbounded recursion runs off the end of the stack: SIGSEGV (status 139).
//@ status: 139
#include <stdio.h>

static int down(volatile int *p) {
    volatile int local[8];
    local[0] = *p + 1;
    return down(local) + local[0];
}

int main(void) {
    printf("recursing\n");
    fflush(stdout);
    int start = 0;
    return down(&start);
}
