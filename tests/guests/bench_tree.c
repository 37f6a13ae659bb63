// The tree benchmark (tests/bench/tree.c) at a small size, so that its
// checksum is checked under every engine by the guest suite.
//@ args: 10
#include "../bench/tree.c"
