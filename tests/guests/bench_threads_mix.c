// The threads_mix benchmark (tests/bench/threads_mix.c) at a small size
// with 2 threads, so that its checksum (the same for any number of
// threads) is checked under every engine by the guest suite.
//@ args: 2 5
//@ cflags: -lm -ffp-contract=off
#include "../bench/threads_mix.c"
