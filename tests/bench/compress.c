// Compression: LZ77 with hash chains and a canonical Huffman stage over the
// tokens, then decompression, which must give back the input.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIN 32768
#define MINM 3
#define MAXM 258
#define HBITS 15

// Input: text-like data from a small vocabulary, so there is something to find.
static void gen(uint8_t *p, size_t n, uint32_t seed) {
    static const char *words[] = {"the ", "quick ", "brown ", "fox ", "jumps ", "over ", "lazy ",
                                  "dog ", "and ", "then ", "some ", "more ", "text ", "\n",
                                  "pvm ", "risc ", "five ", "x86 "};
    size_t i = 0;
    while (i < n) {
        seed = seed * 1103515245u + 12345u;
        const char *w = words[(seed >> 16) % 18];
        if ((seed >> 8) % 13 == 0) p[i++] = 'A' + (seed >> 3) % 26;
        while (*w && i < n) p[i++] = *w++;
    }
}

// Tokens: literal (len 0) or match (len >= MINM, dist).
typedef struct { uint16_t len, dist; uint8_t lit; } Tok;

static size_t lz(const uint8_t *in, size_t n, Tok *out) {
    static int32_t head[1 << HBITS], prev[WIN];
    memset(head, -1, sizeof head);
    size_t nt = 0, i = 0;
    while (i < n) {
        size_t best = 0, bd = 0;
        if (i + MINM <= n) {
            uint32_t h = ((in[i] << 10) ^ (in[i + 1] << 5) ^ in[i + 2]) & ((1 << HBITS) - 1);
            int32_t c = head[h];
            int chain = 96;
            while (c >= 0 && i - c <= WIN - 1 && chain--) {
                size_t l = 0, lim = n - i < MAXM ? n - i : MAXM;
                while (l < lim && in[c + l] == in[i + l]) l++;
                if (l > best) { best = l; bd = i - c; if (l == lim) break; }
                c = prev[c % WIN];
            }
            prev[i % WIN] = head[h];
            head[h] = i;
        }
        if (best >= MINM) {
            out[nt++] = (Tok){(uint16_t)best, (uint16_t)bd, 0};
            for (size_t k = 1; k < best; k++) {
                size_t j = i + k;
                if (j + MINM <= n) {
                    uint32_t h = ((in[j] << 10) ^ (in[j + 1] << 5) ^ in[j + 2]) & ((1 << HBITS) - 1);
                    prev[j % WIN] = head[h];
                    head[h] = j;
                }
            }
            i += best;
        } else {
            out[nt++] = (Tok){0, 0, in[i]};
            i++;
        }
    }
    return nt;
}

// Huffman over 256 literals + 256 length codes (len - MINM, clamped: the
// rest goes raw) + an end symbol. Code lengths by package-free heap merge.
#define NSYM 513
static uint8_t codelen[NSYM];
static uint32_t code[NSYM];

static void huff_lengths(const uint64_t *freq) {
    int parent[2 * NSYM], n = 0;
    uint64_t w[2 * NSYM];
    int heap[2 * NSYM], hn = 0;
    for (int s = 0; s < NSYM; s++) {
        w[s] = freq[s] ? freq[s] : 0;
        if (freq[s]) heap[hn++] = s;
    }
    n = NSYM;
    // Simple O(n^2) selection: NSYM is small.
    while (hn > 1) {
        int a = 0, b = 1;
        if (w[heap[b]] < w[heap[a]]) { a = 1; b = 0; }
        for (int k = 2; k < hn; k++) {
            if (w[heap[k]] < w[heap[a]]) { b = a; a = k; }
            else if (w[heap[k]] < w[heap[b]]) b = k;
        }
        int x = heap[a], y = heap[b];
        w[n] = w[x] + w[y];
        parent[x] = parent[y] = n;
        if (a > b) { int t = a; a = b; b = t; }
        heap[a] = n++;
        heap[b] = heap[--hn];
    }
    int root = heap[0];
    for (int s = 0; s < NSYM; s++) {
        if (!freq[s]) { codelen[s] = 0; continue; }
        int d = 0;
        for (int x = s; x != root; x = parent[x]) d++;
        codelen[s] = d ? d : 1;
    }
    // Canonical codes.
    uint32_t next = 0;
    for (int l = 1; l < 64; l++) {
        for (int s = 0; s < NSYM; s++)
            if (codelen[s] == l) code[s] = next++;
        next <<= 1;
    }
}

typedef struct { uint8_t *p; size_t bit; } Bits;
static void put(Bits *b, uint32_t v, int n) {
    for (int i = n - 1; i >= 0; i--, b->bit++)
        if ((v >> i) & 1) b->p[b->bit >> 3] |= 0x80 >> (b->bit & 7);
}
static uint32_t get1(Bits *b) { uint32_t v = (b->p[b->bit >> 3] >> (7 - (b->bit & 7))) & 1; b->bit++; return v; }
static uint32_t getn(Bits *b, int n) { uint32_t v = 0; while (n--) v = v << 1 | get1(b); return v; }

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 12000000;
    uint8_t *in = malloc(n), *back = malloc(n), *packed = calloc(n * 3 + 16, 1);
    Tok *toks = malloc(n * sizeof *toks);
    gen(in, n, 7);
    size_t nt = lz(in, n, toks);
    uint64_t freq[NSYM] = {0};
    for (size_t t = 0; t < nt; t++)
        freq[toks[t].len ? 256 + (toks[t].len - MINM) : toks[t].lit]++;
    freq[512] = 1;
    huff_lengths(freq);
    Bits w = {packed, 0};
    for (size_t t = 0; t < nt; t++) {
        if (toks[t].len) {
            int s = 256 + toks[t].len - MINM;
            put(&w, code[s], codelen[s]);
            put(&w, toks[t].dist, 15);
        } else {
            put(&w, code[toks[t].lit], codelen[toks[t].lit]);
        }
    }
    put(&w, code[512], codelen[512]);
    // Decode: walk the canonical code one bit at a time with first/count tables.
    int count[64] = {0}, sym_sorted[NSYM], ns = 0;
    for (int l = 1; l < 64; l++)
        for (int s = 0; s < NSYM; s++)
            if (codelen[s] == l) { sym_sorted[ns++] = s; count[l]++; }
    Bits r = {packed, 0};
    size_t o = 0;
    for (;;) {
        uint32_t c = 0;
        int idx = 0, l = 1;
        for (;; l++) {
            c = c << 1 | get1(&r);
            // canonical: codes of length l start at code[sym_sorted[idx]]
            if (count[l] && c - code[sym_sorted[idx]] < (uint32_t)count[l]) break;
            idx += count[l];
        }
        int s = sym_sorted[idx + (c - code[sym_sorted[idx]])];
        if (s == 512) break;
        if (s < 256) back[o++] = s;
        else {
            size_t len = s - 256 + MINM, dist = getn(&r, 15);
            for (size_t k = 0; k < len; k++, o++) back[o] = back[o - dist];
        }
    }
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i++) sum = sum * 31 + in[i];
    printf("in %zu tokens %zu packed %zu bytes roundtrip %s sum %u\n", n, nt, (w.bit + 7) / 8,
           o == n && memcmp(in, back, n) == 0 ? "ok" : "BAD", sum);
    return 0;
}
