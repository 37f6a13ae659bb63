// The oop benchmark (tests/bench/oop.cc) at a small size, so that its
// checksum is checked under every engine by the guest suite.
//@ args: 20
#include "../bench/oop.cc"
