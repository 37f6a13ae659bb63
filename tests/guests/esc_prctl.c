// prctl options that would reach the VM itself (its memory map, its
// seccomp state, W^X, syscall dispatch, x86 or MIPS modes, speculation,
// tagged addresses, the vector unit) are refused; the guest's own
// settings (name, dumpable, no_new_privs) keep working.
//@ no-qemu: qemu-user forwards several of these to the host kernel, where they would act on qemu itself
#include "esc.h"
#include <sys/prctl.h>

int main(void) {
    res("PR_SET_MM start_brk", prctl(PR_SET_MM, PR_SET_MM_START_BRK, 0x1000, 0, 0));
    res("PR_SET_MM exe_file", prctl(PR_SET_MM, PR_SET_MM_EXE_FILE, 0, 0, 0));
    res("PR_SET_SECCOMP strict", prctl(PR_SET_SECCOMP, 1, 0, 0, 0));
    res("PR_SET_MDWE", prctl(65, 1, 0, 0, 0));
    res("PR_SET_SYSCALL_USER_DISPATCH", prctl(59, 1, 0, 0, 0));
    res("PR_SET_TSC", prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0));
    res("PR_SET_FP_MODE", prctl(45, 1, 0, 0, 0));
    res("PR_SET_SPECULATION_CTRL", prctl(53, 0, 4, 0, 0));
    res("PR_SET_TAGGED_ADDR_CTRL", prctl(55, 1, 0, 0, 0));
    res("PR_RISCV_V_SET_CONTROL", prctl(69, 0, 0, 0, 0));
    res("PR_SET_SHADOW_STACK_STATUS", prctl(75, 1, 0, 0, 0));
    res("PR_SET_NAME", prctl(PR_SET_NAME, "guest", 0, 0, 0));
    res("PR_SET_DUMPABLE 0", prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
    resn("PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
    res("PR_SET_NO_NEW_PRIVS", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    printf("still running: yes\n");
    return 0;
}
