// ptrace: no tracing of the VM or by the guest into it. PTRACE_TRACEME,
// PEEKDATA/POKEDATA at the guest's own or a host address, ATTACH to the
// parent: all answer ENOSYS (ptrace is not emulated, as under qemu-user).
#include "esc.h"
#include <sys/ptrace.h>

long global = 7;

int main(void) {
    res("PTRACE_TRACEME", syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0));
    res("PEEKDATA self", syscall(SYS_ptrace, PTRACE_PEEKDATA, getpid(), &global, 0));
    res("POKEDATA host", syscall(SYS_ptrace, PTRACE_POKEDATA, getpid(), 0x7ffff7a00000ul, 0));
    res("ATTACH parent", syscall(SYS_ptrace, PTRACE_ATTACH, getppid(), 0, 0));
    res("SEIZE self", syscall(SYS_ptrace, PTRACE_SEIZE, getpid(), 0, 0));
    printf("global: %ld\n", global);
    return 0;
}
