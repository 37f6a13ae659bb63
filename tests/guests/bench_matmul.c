// The matmul benchmark (tests/bench/matmul.c) at a small size, so that its
// checksum is checked under every engine by the guest suite.
//@ args: 100
//@ cflags: -ffp-contract=off
#include "../bench/matmul.c"
