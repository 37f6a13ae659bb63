// abort() with a SIGABRT handler: a handler that siglongjmps out of
// abort() resumes the program; one that returns lets abort() kill the
// process with SIGABRT anyway (status 134).
//@ status: 134
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static sigjmp_buf jb;
static volatile int calls;

static void jump_out(int sig) {
    calls++;
    siglongjmp(jb, sig);
}

static void just_return(int sig) {
    (void)sig;
    calls++;
    static const char msg[] = "handler returns\n";
    write(1, msg, sizeof msg - 1);
}

int main(void) {
    signal(SIGABRT, jump_out);
    int r = sigsetjmp(jb, 1);
    if (r == 0) {
        abort();
    }
    printf("back from abort via siglongjmp: sig %d, calls %d\n", r, calls);
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("SIGABRT blocked after the jump: %d\n", sigismember(&cur, SIGABRT));
    signal(SIGABRT, just_return);
    printf("aborting for real\n");
    fflush(stdout);
    abort();
}
