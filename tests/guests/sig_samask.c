// sa_mask: signals in a handler's sa_mask are blocked while it runs (and
// the mask is back after it returns), as Linux's signal delivery ORs
// sa_mask into the thread's mask.
//@ no-qemu: qemu-riscv64 7.2 does not block sa_mask during the handler (it prints 121, Linux 112)
#include <signal.h>
#include <stdio.h>
#include <string.h>

static char order[16];
static volatile int n;
static volatile int usr2_blocked_inside;

static void on_usr2(int sig) {
    (void)sig;
    order[n++] = '2';
}

static void on_usr1(int sig) {
    (void)sig;
    sigset_t m;
    sigprocmask(SIG_BLOCK, NULL, &m);
    usr2_blocked_inside = sigismember(&m, SIGUSR2);
    order[n++] = '1';
    raise(SIGUSR2);
    order[n++] = '1';
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    sa.sa_handler = on_usr1;
    sigaddset(&sa.sa_mask, SIGUSR2);
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    sigset_t m;
    sigprocmask(SIG_BLOCK, NULL, &m);
    printf("order %s, SIGUSR2 blocked in the handler %d, after %d\n", order,
           usr2_blocked_inside, sigismember(&m, SIGUSR2));
    return 0;
}
