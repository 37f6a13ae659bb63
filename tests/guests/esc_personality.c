// personality is the guest's own setting: querying gives PER_LINUX, a
// flag the guest sets is what it reads back, and nothing of it changes
// how the VM runs (the program keeps running after READ_IMPLIES_EXEC
// and ADDR_NO_RANDOMIZE).
#include "esc.h"
#include <sys/personality.h>

int main(void) {
    printf("query: %#x\n", personality(0xffffffff));
    printf("set ADDR_NO_RANDOMIZE, old: %#x\n", personality(PER_LINUX | ADDR_NO_RANDOMIZE));
    printf("query: %#x\n", personality(0xffffffff));
    printf("set back, old: %#x\n", personality(PER_LINUX));
    printf("query: %#x\n", personality(0xffffffff));
    char *p = malloc(100000);
    memset(p, 1, 100000);
    printf("still running: yes\n");
    return 0;
}
