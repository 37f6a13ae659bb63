// --sandbox: openat2's own RESOLVE_* flags hold as Linux's, relative to
// the guest's directory descriptor, on top of the sandbox's rules: the
// cases of openat2_cases.h in the allowed directory give what the kernel
// gives without a sandbox (esc_openat2_resolve, against qemu-riscv64).
// pvm took RESOLVE_BENEATH and RESOLVE_IN_ROOT lexically against the
// directory and resolved from the allowed root: a link leaving the
// directory but not the root was followed (RESOLVE_BENEATH "up" opened
// ../f0), and RESOLVE_IN_ROOT's absolute links were EACCES. The lines
// that differ from Linux without a sandbox are those of a path leaving
// the allowed directory without RESOLVE_BENEATH or RESOLVE_IN_ROOT
// ("/f", "../../f", "abs": EACCES, the sandbox's rule). (Before the
// sandbox walked paths component by component, "no_symlinks sub/dot/.."
// was ok too: ".." was taken lexically, so the link before it was never
// looked at.)
//@ variants: static
//@ pvm-args: --sandbox --allow-write {dir}
//@ no-qemu: qemu-riscv64 has no sandbox: the expectation is the kernel's answer without one (esc_openat2_resolve)
#include "openat2_cases.h"

int main(void) {
    cases();
    return 0;
}
