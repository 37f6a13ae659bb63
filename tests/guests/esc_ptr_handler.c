// A signal handler at a host-looking address is only an address to the
// guest: delivering the signal makes the guest jump there and die of
// SIGSEGV, as on Linux, without running host code.
//@ status: 139
//@ no-qemu: qemu-riscv64 7.2 itself crashes with a host SIGSEGV here
#include "esc.h"
#include <signal.h>

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = (void (*)(int))0x7ffff7a00000ul;
    res("sigaction", sigaction(SIGUSR1, &sa, NULL));
    fflush(stdout);
    raise(SIGUSR1);
    printf("not reached\n");
    return 0;
}
