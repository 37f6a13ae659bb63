// Reads stdin to EOF: line numbers, word and byte counts.
//@ stdin: first line of input
//@ stdin:   indented   second line
//@ stdin:
//@ stdin: last line
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    char line[256];
    int n = 0, words = 0;
    long bytes = 0;
    printf("stdin is a tty: %d\n", isatty(0));
    while (fgets(line, sizeof line, stdin)) {
        n++;
        bytes += strlen(line);
        int in = 0;
        for (char *p = line; *p; p++) {
            if (!isspace((unsigned char)*p) && !in) words++;
            in = !isspace((unsigned char)*p);
        }
        line[strcspn(line, "\n")] = 0;
        printf("%3d: [%s]\n", n, line);
    }
    printf("lines %d words %d bytes %ld eof %d\n", n, words, bytes, feof(stdin) != 0);
    char c;
    printf("read after eof: %zd\n", read(0, &c, 1));
    return 0;
}
