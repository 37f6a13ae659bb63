// sigaltstack: a stack overflow's SIGSEGV can only be handled on an
// alternate stack. The handler checks it runs there (SS_ONSTACK, its
// locals inside the stack, sigaltstack refused with EPERM) and siglongjmps
// back; without SA_ONSTACK the same overflow would be fatal.
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sigjmp_buf jb;
static char *alt;
static size_t alt_size = 64 * 1024;
static volatile int on_alt, onstack_flag, eperm, code_ok;

static void on_segv(int sig, siginfo_t *si, void *ctx) {
    (void)sig;
    (void)ctx;
    char local;
    on_alt = &local >= alt && &local < alt + alt_size;
    stack_t cur;
    sigaltstack(NULL, &cur);
    onstack_flag = (cur.ss_flags & SS_ONSTACK) != 0;
    stack_t other = {.ss_sp = alt, .ss_size = alt_size, .ss_flags = 0};
    eperm = sigaltstack(&other, NULL) == -1 && errno == EPERM;
    code_ok = si->si_code == SEGV_MAPERR || si->si_code == SEGV_ACCERR;
    siglongjmp(jb, 1);
}

static int down(volatile char *p) {
    volatile char buf[512];
    buf[0] = *p + 1;
    return down(buf) + buf[0];
}

int main(void) {
    alt = malloc(alt_size);
    stack_t ss = {.ss_sp = alt, .ss_size = alt_size, .ss_flags = 0};
    stack_t old;
    if (sigaltstack(&ss, &old) != 0) {
        perror("sigaltstack");
        return 1;
    }
    printf("old stack disabled: %d\n", (old.ss_flags & SS_DISABLE) != 0);
    stack_t small = {.ss_sp = alt, .ss_size = 16, .ss_flags = 0};
    printf("tiny stack refused: %d\n", sigaltstack(&small, NULL) == -1 && errno == ENOMEM);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);
    char start = 0;
    if (sigsetjmp(jb, 1) == 0) {
        down(&start);
        printf("not reached\n");
    }
    printf("recovered from stack overflow\n");
    printf("handler on the alternate stack: %d, SS_ONSTACK: %d, EPERM: %d, code: %d\n", on_alt,
           onstack_flag, eperm, code_ok);
    stack_t cur;
    sigaltstack(NULL, &cur);
    printf("after: on stack %d, size %d\n", (cur.ss_flags & SS_ONSTACK) != 0,
           cur.ss_size == alt_size);
    // A second overflow works the same way.
    on_alt = 0;
    if (sigsetjmp(jb, 1) == 0) down(&start);
    printf("second overflow handled on the alternate stack: %d\n", on_alt);
    return 0;
}
