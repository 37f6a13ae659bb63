// More pointer-taking calls given hostile pointers: getdents64, readlink's
// buffer, clone3's arguments, prctl(PR_SET_NAME and
// PR_GET_NAME), set_robust_list/get_robust_list, riscv_hwprobe,
// getsockopt lengths, getxattr values: EFAULT, never a VM fault.
//@ no-qemu: qemu-riscv64 7.2 has no clone3, get_robust_list or riscv_hwprobe (ENOSYS) and checks getxattr's buffer before looking for the attribute
#include "esc.h"
#include <sys/prctl.h>
#include <sys/wait.h>
#define T(name, call) printf(" " name " %s", (call) < 0 ? en(errno) : "ok")

int main(void) {
    int d = open(".", O_RDONLY | O_DIRECTORY);
    pid_t c = fork();
    if (c == 0)
        _exit(3);
    for (unsigned i = 1; i < NHOSTILE; i++) {
        void *p = (void *)HOSTILE[i];
        printf("%#lx:", HOSTILE[i]);
        lseek(d, 0, SEEK_SET);
        T("getdents64", syscall(SYS_getdents64, d, p, 4096));
        T("readlink buf", syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", p, 64));
        T("clone3 args", syscall(SYS_clone3, p, 88));
        T("PR_SET_NAME", prctl(PR_SET_NAME, p));
        T("PR_GET_NAME", prctl(PR_GET_NAME, p));
        T("get_robust_list", syscall(SYS_get_robust_list, 0, p, p));
        T("hwprobe", syscall(258, p, 1, 0, NULL, 0));
        T("getxattr", syscall(SYS_getxattr, ".", "user.x", p, 64));
        printf("\n");
    }
    int st;
    waitpid(c, &st, 0);
    printf("child status: %d\n", WEXITSTATUS(st));
    return 0;
}
