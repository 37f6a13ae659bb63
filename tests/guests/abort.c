// abort(): rt_sigprocmask + tgkill of SIGABRT, status 134.
//@ status: 134
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    printf("calling abort\n");
    fflush(stdout);
    abort();
}
