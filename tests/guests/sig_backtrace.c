// backtrace() from a signal handler unwinds through the signal frame
// into the interrupted code: libgcc recognises the sigreturn trampoline
// (`li a7, 139; ecall`) and reads the registers from its ucontext.
//@ variants: static
//@ cflags: -fasynchronous-unwind-tables
#include <execinfo.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static int n;
static void *frames[64];
static void h(int sig) { (void)sig; n = backtrace(frames, 64); }
__attribute__((noinline)) static void inner(void) { raise(SIGUSR1); __asm__ volatile("" ::: "memory"); }
__attribute__((noinline)) void outer(void) { inner(); __asm__ volatile("" ::: "memory"); }
int main(void) {
    signal(SIGUSR1, h);
    outer();
    int found_main = 0;
    for (int i = 0; i < n; i++) if ((char *)frames[i] > (char *)main && (char *)frames[i] < (char *)main + 64) found_main = 1;
    printf("frames %d, main found %d\n", n, found_main);
    return 0;
}
