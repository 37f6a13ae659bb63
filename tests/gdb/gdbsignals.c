// The GDB stub test's signal guest (xtask/src/gdbtest.rs): signals gdb
// must see before delivery, and the client's choice (deliver, discard).
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile int usr1, usr2, segv, alrm;
static sigjmp_buf jb;

static void on_usr1(int s) { usr1++; }
static void on_usr2(int s) { usr2++; }
static void on_alrm(int s) { alrm++; }
static void on_segv(int s) {
    segv++;
    siglongjmp(jb, 1);
}

int main(void) {
    signal(SIGUSR1, on_usr1);
    signal(SIGUSR2, on_usr2);
    signal(SIGALRM, on_alrm);
    signal(SIGSEGV, on_segv);
    raise(SIGUSR1);  // gdb stops; continuing delivers it
    raise(SIGUSR2);  // gdb stops; `signal 0` discards it
    if (!sigsetjmp(jb, 1)) *(volatile int *)16 = 1;  // SIGSEGV, delivered
    raise(SIGALRM);  // gdb passes it without a stop (QPassSignals)
    printf("usr1=%d usr2=%d segv=%d alrm=%d\n", usr1, usr2, segv, alrm);
    fflush(stdout);
    abort();  // SIGABRT, delivered: the program dies of it
}
