// Exit status from exit() with atexit handlers, flushed stdio.
//@ args: 42
//@ status: 42
#include <stdio.h>
#include <stdlib.h>

static void first(void) { printf("atexit: registered first, runs last\n"); }
static void second(void) { printf("atexit: registered second, runs first\n"); }

int main(int argc, char **argv) {
    atexit(first);
    atexit(second);
    printf("buffered line without flush");
    exit(argc > 1 ? atoi(argv[1]) : 0);
}
