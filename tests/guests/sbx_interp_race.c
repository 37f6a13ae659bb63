// --sandbox: the dynamic linker an execve's new pvm loads is the file the
// exec'ing pvm checked. The probe runs "x", a copy of itself whose
// PT_INTERP is patched to "./././ld" (relative: the file "ld" in the
// current directory), while a child process swaps "ld" between a copy of the real
// dynamic linker and a file of garbage with renameat2(RENAME_EXCHANGE) in
// a tight loop. Each run either is this program (status 7) or is refused
// by the execve (ELIBBAD, the interpreter it checked being the garbage:
// status 8). Anything else is a new pvm that loaded an interpreter the
// check had not seen (it failed to: 126). pvm used to pass the program
// by descriptor but let the new pvm look PT_INTERP up again by name.
// Bounded: 0.8 s once both outcomes came by, 8 s at most.
//@ variants: dynamic
//@ pvm-args: --sandbox --allow-write {dir}
//@ no-qemu: qemu-riscv64 has no sandbox: the expectation is Linux's answer under pvm's rules
#include "race.h"
#include <elf.h>

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "child"))
        return 7;
    size_t n, ln;
    char *me;
    char *interp = self_interp(&me, &n);
    if (!interp) {
        printf("no PT_INTERP\n");
        return 1;
    }
    char *ld = slurp(interp, &ln);
    if (!ld) {
        printf("cannot read %s\n", interp);
        return 1;
    }
    // Same length (the loader wants one NUL, at the end): "././.../ld".
    size_t il = strlen(interp), k = 0;
    if ((il - 2) % 2)
        memcpy(interp, ".//", 3), k = 3;
    for (; k < il - 2; k += 2)
        memcpy(interp + k, "./", 2);
    memcpy(interp + k, "ld", 3);
    spit("x", me, n);
    spit("ld", ld, ln);
    spit("bad", "garbage, not an ELF file at all..........................", 57);
    struct runs r = exec_race("ld", "bad", 0);
    printf("ran: %s, refused: %s, an interpreter the check did not see: %ld\n",
           r.ran ? "yes" : "no", r.refused ? "yes" : "no", r.other);
    return 0;
}
