// seccomp filters would run on the VM's own system calls: seccomp()
// answers ENOSYS (as under qemu-user), so the guest cannot filter or kill
// the VM's calls; the program keeps running and can still open files.
#include "esc.h"
#include <linux/filter.h>
#include <linux/seccomp.h>

int main(void) {
    struct sock_filter kill = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    struct sock_fprog prog = {1, &kill};
    res("SET_MODE_FILTER", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog));
    res("SET_MODE_STRICT", syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL));
    res("GET_ACTION_AVAIL", syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &(int){0}));
    res("open after", open("/proc/self/exe", O_RDONLY));
    return 0;
}
