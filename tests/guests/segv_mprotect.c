// A store into a page made read-only with mprotect: SIGSEGV (status 139).
//@ status: 139
#include <stdio.h>
#include <sys/mman.h>

int main(void) {
    volatile char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    p[0] = 1;
    printf("mprotect: %d\n", mprotect((void *)p, 4096, PROT_READ));
    printf("still readable: %d\n", p[0]);
    fflush(stdout);
    p[0] = 2;
    printf("not reached\n");
    return 0;
}
