// setjmp/longjmp and sigsetjmp/siglongjmp, including across frames.
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>

static jmp_buf env;
static sigjmp_buf senv;

static void deep(int n) {
    if (n == 0) longjmp(env, 99);
    deep(n - 1);
}

int main(void) {
    volatile int count = 0;
    int r = setjmp(env);
    printf("setjmp returned %d (count %d)\n", r, count);
    if (count++ < 3) longjmp(env, count);
    if ((r = setjmp(env)) == 0) deep(100);
    printf("from deep: %d\n", r);
    if ((r = setjmp(env)) == 0) longjmp(env, 0);
    printf("longjmp(0) gives %d\n", r);
    volatile double f = 1.5;
    if ((r = sigsetjmp(senv, 1)) == 0) {
        f = 2.5;
        siglongjmp(senv, 5);
    }
    printf("sigsetjmp %d f %.1f\n", r, f);
    return 0;
}
