// MAP_FIXED_NOREPLACE tried every 256 MiB from 0 to 2^47 (half a million
// addresses): only free guest addresses map, occupied ones say EEXIST,
// the rest ENOMEM or EPERM; nothing of the VM is ever replaced.
//@ no-qemu: qemu-user's guest address space is the host's; pvm's is 64 GiB (SECURITY.md)
#include "esc.h"

int main(void) {
    long ok = 0, eexist = 0, enomem = 0, eperm = 0, other = 0;
    for (unsigned long a = 0; a < (1ul << 47); a += 1ul << 28) {
        void *p = mmap((void *)a, 4096, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (p != MAP_FAILED) {
            ((volatile char *)p)[0] = 1;
            munmap(p, 4096);
            ok++;
        } else if (errno == EEXIST) {
            eexist++;
        } else if (errno == ENOMEM) {
            enomem++;
        } else if (errno == EPERM) {
            eperm++;
        } else {
            other++;
        }
    }
    printf("inside the guest's 64 GiB (mapped or EEXIST): %ld\n", ok + eexist);
    printf("past it: ENOMEM %ld, EPERM %ld, other %ld\n", enomem, eperm, other);
    return 0;
}
