// qsort, bsearch and the string library.
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void) {
    int v[1000];
    unsigned s = 12345;
    for (int i = 0; i < 1000; i++) {
        s = s * 1103515245 + 12345;
        v[i] = (int)(s >> 8) % 100000 - 50000;
    }
    qsort(v, 1000, sizeof *v, cmp_int);
    long long sum = 0;
    for (int i = 0; i < 1000; i++) sum += (long long)v[i] * (i + 1);
    printf("sorted: first %d last %d weighted %lld\n", v[0], v[999], sum);
    int key = v[500];
    int *f = bsearch(&key, v, 1000, sizeof *v, cmp_int);
    printf("bsearch found %d\n", f ? *f : -1);
    const char *words[] = {"pear", "apple", "fig", "banana", "cherry", "apple pie", "Zebra", "", "date"};
    const char *w[9];
    memcpy(w, words, sizeof w);
    qsort(w, 9, sizeof *w, cmp_str);
    for (int i = 0; i < 9; i++) printf("%d:'%s' ", i, w[i]);
    printf("\n");
    char buf[256] = "The quick brown fox jumps over the lazy dog";
    printf("strlen %zu strchr %s strrchr %s\n", strlen(buf), strchr(buf, 'q'), strrchr(buf, 'o'));
    printf("strstr '%s' strpbrk '%s' strspn %zu strcspn %zu\n", strstr(buf, "fox"), strpbrk(buf, "xyz"),
           strspn(buf, "The "), strcspn(buf, "q"));
    printf("strcmp %d %d %d strncmp %d strcasecmp %d\n", strcmp("a", "b") < 0, strcmp("b", "a") > 0,
           strcmp("x", "x"), strncmp("abcd", "abce", 3), strcasecmp("HeLLo", "hello"));
    char copy[256];
    strcpy(copy, buf);
    strcat(copy, "!");
    strncat(copy, "???", 1);
    printf("%s\n", copy);
    memmove(copy + 4, copy, 10);
    printf("memmove: %.20s\n", copy);
    memset(copy, '-', 5);
    printf("memset: %.20s memcmp %d\n", copy, memcmp("abc", "abd", 3) < 0);
    char *tok, *save, line[] = "a,b,,c;d e";
    for (tok = strtok_r(line, ",; ", &save); tok; tok = strtok_r(NULL, ",; ", &save)) printf("[%s]", tok);
    printf("\n");
    char *end;
    printf("strtol %ld %ld %ld strtoul %lu\n", strtol("  -12345xyz", &end, 10), strtol("ff", 0, 16),
           strtol("0777", 0, 0), strtoul("18446744073709551615", 0, 10));
    printf("rest '%s' atoi %d atol %ld\n", end, atoi("42abc"), atol("-9999999999"));
    printf("strtod %.17g %.17g %.17g\n", strtod("3.14159", 0), strtod("1e-310", 0), strtod("0x1.8p3", 0));
    char *d = strdup("duplicate");
    char *nd = strndup("duplicate", 3);
    printf("%s %s\n", d, nd);
    free(d);
    free(nd);
    int up = 0;
    for (const char *p = buf; *p; p++) up += isupper((unsigned char)*p) + 2 * !!isspace((unsigned char)*p);
    printf("ctype %d toupper %c tolower %c\n", up, toupper('q'), tolower('Q'));
    char big[100000];
    for (int i = 0; i < 99999; i++) big[i] = 'a' + i % 26;
    big[99999] = 0;
    printf("big strlen %zu memchr at %ld\n", strlen(big), (long)((char *)memchr(big, 'z', sizeof big) - big));
    return 0;
}
