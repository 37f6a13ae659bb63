// The GDB stub test's scheduler-locking guest (xtask/src/gdbtest.rs): with
// `set scheduler-locking on` gdb resumes one thread alone (`vCont;c:TID`,
// `vCont;s:TID`) and the others must stay stopped; a thread stepped alone
// through its exit system call leaves nothing to run, which gdb is told.
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

volatile long spins;
volatile int stop, ready;

void *spinner(void *arg) {
    ready = 1;
    while (!stop)
        spins++;
    // The thread ends with an exit system call of its own, at a label
    // gdb breaks at and steps over.
    register long a0 asm("a0") = 0;
    register long a7 asm("a7") = 93; // SYS_exit
    asm volatile(".globl exit_ecall\nexit_ecall: ecall" : : "r"(a0), "r"(a7) : "memory");
    return arg;
}

void here(void) {}
void there(void) {}

int main(void) {
    pthread_t t;
    pthread_create(&t, 0, spinner, 0);
    while (!ready)
        sched_yield();
    here();
    // The spinner gets the CPU at each yield, unless gdb holds it.
    for (int i = 0; i < 20; i++)
        sched_yield();
    there();
    stop = 1;
    pthread_join(t, 0);
    printf("joined\n");
    return 7;
}
