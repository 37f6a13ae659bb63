// _exit skips stdio flushing and atexit; the status is truncated to 8 bits.
//@ status: 44
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void never(void) { printf("never printed\n"); }

int main(void) {
    atexit(never);
    printf("flushed line\n");
    fflush(stdout);
    printf("unflushed, lost");
    _exit(300);
}
