// The compress benchmark (tests/bench/compress.c) at a small size, so that its
// checksum is checked under every engine by the guest suite.
//@ args: 200000
#include "../bench/compress.c"
