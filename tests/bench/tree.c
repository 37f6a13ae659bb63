// Calls: recursive binary trees built, walked and freed many times (many
// small functions, deep recursion, malloc/free), as in the benchmarks game.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct Node {
    struct Node *left, *right;
    uint32_t value;
} Node;

static Node *make(int depth, uint32_t seed) {
    Node *n = malloc(sizeof *n);
    n->value = seed;
    if (depth > 0) {
        n->left = make(depth - 1, seed * 2 + 1);
        n->right = make(depth - 1, seed * 2 + 2);
    } else {
        n->left = n->right = NULL;
    }
    return n;
}

static int is_leaf(const Node *n) { return n->left == NULL; }

static uint64_t check(const Node *n) {
    if (is_leaf(n)) return n->value & 0xff;
    return 1 + (n->value & 7) + check(n->left) + check(n->right);
}

static unsigned height(const Node *n) {
    if (is_leaf(n)) return 0;
    unsigned l = height(n->left), r = height(n->right);
    return 1 + (l > r ? l : r);
}

static uint64_t sum_path(const Node *n, uint32_t bits) {
    uint64_t s = 0;
    while (n) {
        s += n->value;
        n = (bits & 1) ? n->right : n->left;
        bits >>= 1;
    }
    return s;
}

static void drop(Node *n) {
    if (!n) return;
    drop(n->left);
    drop(n->right);
    free(n);
}

int main(int argc, char **argv) {
    int max_depth = argc > 1 ? atoi(argv[1]) : 18;
    uint64_t total = 0;
    Node *long_lived = make(max_depth, 1);
    for (int d = 4; d <= max_depth; d += 2) {
        long iters = 1L << (max_depth - d + 4);
        uint64_t c = 0;
        for (long i = 0; i < iters; i++) {
            Node *t = make(d, (uint32_t)i);
            c += check(t) + height(t);
            drop(t);
        }
        printf("depth %d: %ld trees, check %llu\n", d, iters, (unsigned long long)c);
        total += c;
    }
    for (uint32_t b = 0; b < 100000; b++) total += sum_path(long_lived, b * 2654435761u);
    printf("long lived: check %llu height %u total %llu\n",
           (unsigned long long)check(long_lived), height(long_lived), (unsigned long long)total);
    drop(long_lived);
    return 0;
}
