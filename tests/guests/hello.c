// The smallest real program: stdio, argv, a normal exit.
//@ args: one "two words" three
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    printf("hello, world\n");
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++) printf("argv[%d]=\"%s\"\n", i, argv[i]);
    printf("argv[0] ends with hello: %s\n", strstr(argv[0], "hello") ? "yes" : "no");
    return 0;
}
