// The sort benchmark (tests/bench/sort.c) at a small size, so that its
// checksum is checked under every engine by the guest suite.
//@ args: 100000
#include "../bench/sort.c"
