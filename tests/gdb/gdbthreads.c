// The GDB stub test's threaded guest (xtask/src/gdbtest.rs): a breakpoint
// in a second thread, both threads listed, the exit status at the end.
#include <pthread.h>
#include <stdio.h>

volatile int flag;

void *thread_fn(void *arg) {
    flag = 1;
    return arg;
}

int main(void) {
    pthread_t t;
    pthread_create(&t, 0, thread_fn, 0);
    pthread_join(t, 0);
    printf("flag=%d\n", flag);
    return 4;
}
