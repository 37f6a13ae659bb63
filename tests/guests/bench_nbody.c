// The nbody benchmark (tests/bench/nbody.c) at a small size, so that its
// checksum is checked under every engine by the guest suite.
//@ args: 20000
//@ cflags: -lm -ffp-contract=off
#include "../bench/nbody.c"
