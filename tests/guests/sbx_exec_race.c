// --sandbox: the program an execve runs is the file pvm checked. pvm checks
// the program (readable under the rules, a RISC-V program) and then starts
// a new pvm for it; that pvm used to be given the path only, open it again
// and make whatever it named then its program's allowed place. Here a
// child process swaps "x" between a copy of this program and a link to
// /bin/true (outside the allowed directory, not a RISC-V program) with
// renameat2(RENAME_EXCHANGE) in a tight loop, while the probe runs "x"
// again and again: each run either is this program (status 7) or is
// refused by the execve (EACCES: status 8). Anything else is a new pvm
// that got a file the check did not see (it loaded /bin/true, or failed
// to: 126). Bounded: 0.8 s once both outcomes came by, 8 s at most.
//@ variants: static
//@ pvm-args: --sandbox --allow-write {dir}
//@ no-qemu: qemu-riscv64 has no sandbox: the expectation is Linux's answer under pvm's rules
#include "race.h"

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "child"))
        return 7;
    // x: a copy of this program; y: a link out.
    size_t n;
    char *me = slurp("/proc/self/exe", &n);
    if (!me || spit("x", me, n)) {
        printf("cannot copy the program\n");
        return 1;
    }
    symlink("/bin/true", "y");
    struct runs r = exec_race("x", "y", EACCES);
    printf("ran: %s, refused: %s, a file the check did not see: %ld\n", r.ran ? "yes" : "no",
           r.refused ? "yes" : "no", r.other);
    return 0;
}
