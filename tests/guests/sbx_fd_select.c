// esc_fd_select under --sandbox, whose roots are descriptors of pvm's own
// above the guest's hard RLIMIT_NOFILE: the host's descriptor table
// reaches past them, the guest's (as select sees it) must not.
//@ variants: static
//@ pvm-args: --sandbox --allow-write {dir}
//@ no-qemu: qemu-riscv64 has no sandbox; the expectation is native Linux's output of esc_fd_select
#include "esc_fd_select.c"
