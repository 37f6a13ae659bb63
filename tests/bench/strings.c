// Strings: formatting, parsing, searching, sorting and hashing text.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
    long rounds = argc > 1 ? atol(argv[1]) : 68;
    enum { W = 20000 };
    char **words = malloc(W * sizeof *words);
    char *pool = malloc(W * 32);
    unsigned long h = 5381, found = 0;
    for (long r = 0; r < rounds; r++) {
        for (int i = 0; i < W; i++) {
            words[i] = pool + i * 32;
            snprintf(words[i], 32, "w%ld-%x-%d", (i * 7919L + r) % 10007, i * 31 + (int)r, i % 97);
        }
        qsort(words, W, sizeof *words, cmp);
        for (int i = 0; i < W; i++) {
            for (const char *p = words[i]; *p; p++) h = h * 33 + (unsigned char)*p;
            if (strstr(words[i], "-1f")) found++;
            found += strtol(words[i] + 1, NULL, 10) & 1;
        }
        char line[256];
        for (int i = 0; i < 2000; i++) {
            strcpy(line, words[i]);
            strcat(line, " and ");
            strncat(line, words[W - 1 - i], 20);
            found += strlen(line) + (strchr(line, 'f') != NULL);
            memmove(line + 1, line, strlen(line) + 1);
            found += memcmp(line, words[i], 4) == 0;
        }
    }
    printf("%lu %lu %s\n", h, found, words[W / 2]);
    return 0;
}
