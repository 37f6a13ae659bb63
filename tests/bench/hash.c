// Hash tables: an open-addressing table of string keys (insert, look up,
// delete with tombstones, grow), the work of symbol tables and caches.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char key[24];
    uint32_t hash; // 0: empty, 1: deleted
    uint64_t value;
} Slot;

static Slot *slots;
static size_t cap, used, live;

static uint32_t hash_str(const char *s) {
    uint32_t h = 2166136261u;
    while (*s) h = (h ^ (uint8_t)*s++) * 16777619u;
    return h < 2 ? h + 2 : h;
}

static Slot *find(const char *k, uint32_t h) {
    size_t i = h & (cap - 1);
    for (;;) {
        Slot *s = &slots[i];
        if (s->hash == 0) return s;
        if (s->hash == h && strcmp(s->key, k) == 0) return s;
        i = (i + 1) & (cap - 1);
    }
}

static void grow(void) {
    Slot *old = slots;
    size_t oldcap = cap;
    cap = cap ? cap * 2 : 1024;
    slots = calloc(cap, sizeof *slots);
    used = live = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].hash > 1) {
            Slot *s = find(old[i].key, old[i].hash);
            *s = old[i];
            used++;
            live++;
        }
    free(old);
}

static void put(const char *k, uint64_t v) {
    if ((used + 1) * 4 > cap * 3) grow();
    uint32_t h = hash_str(k);
    Slot *s = find(k, h);
    if (s->hash == 0) {
        strcpy(s->key, k);
        s->hash = h;
        s->value = 0;
        used++;
        live++;
    }
    s->value += v;
}

static uint64_t *get(const char *k) {
    Slot *s = find(k, hash_str(k));
    return s->hash ? &s->value : NULL;
}

static int del(const char *k) {
    Slot *s = find(k, hash_str(k));
    if (!s->hash) return 0;
    s->hash = 1; // tombstone: probes go on past it
    s->key[0] = 0;
    live--;
    return 1;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 3000000;
    char k[24];
    uint64_t x = 88172645463325252ull, sum = 0, hits = 0, dels = 0;
    for (long i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        snprintf(k, sizeof k, "k%lu", (unsigned long)(x % (n / 2 + 1)));
        switch (x >> 61) {
        case 0: dels += del(k); break;
        case 1: case 2: { uint64_t *v = get(k); if (v) { hits++; sum += *v; } break; }
        default: put(k, i); break;
        }
    }
    uint64_t mix = 0;
    for (size_t i = 0; i < cap; i++)
        if (slots[i].hash > 1) mix += slots[i].value * slots[i].hash;
    printf("live %zu used %zu cap %zu hits %llu dels %llu sum %llu mix %llu\n", live, used, cap,
           (unsigned long long)hits, (unsigned long long)dels, (unsigned long long)sum,
           (unsigned long long)mix);
    return 0;
}
