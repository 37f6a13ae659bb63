// io_uring would let the kernel read and write memory the VM does not
// check: io_uring_setup, io_uring_enter and io_uring_register answer
// ENOSYS, as qemu-user answers them.
#include "esc.h"

int main(void) {
    char params[120] = {0};
    res("io_uring_setup", syscall(425, 8, params));
    res("io_uring_setup hostile", syscall(425, 8, 0xffffffff80000000ul));
    res("io_uring_enter", syscall(426, 3, 1, 0, 0, NULL, 0));
    res("io_uring_register", syscall(427, 3, 0, NULL, 0));
    return 0;
}
