// getrandom and /dev/urandom: only properties are printed.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <unistd.h>

int main(void) {
    unsigned char a[64], b[64];
    printf("getrandom: %zd\n", getrandom(a, sizeof a, 0));
    printf("getrandom nonblock: %zd\n", getrandom(b, sizeof b, GRND_NONBLOCK));
    printf("two draws differ: %s\n", memcmp(a, b, sizeof a) ? "yes" : "no");
    int zeros = 0;
    for (int i = 0; i < 64; i++) zeros += a[i] == 0;
    printf("not all zero: %s\n", zeros < 64 ? "yes" : "no");
    int fd = open("/dev/urandom", O_RDONLY);
    printf("urandom opens: %s\n", fd >= 0 ? "yes" : "no");
    printf("urandom read: %zd\n", read(fd, a, 32));
    close(fd);
    unsigned char *at = (unsigned char *)getauxval(AT_RANDOM);
    printf("AT_RANDOM present: %s\n", at ? "yes" : "no");
    srand(1);
    int r1 = rand();
    srand(1);
    printf("srand reproducible: %s\n", rand() == r1 ? "yes" : "no");
    srandom(42);
    long s = 0;
    for (int i = 0; i < 100; i++) s += random() % 1000;
    printf("random() sum with seed 42: %ld\n", s);
    return 0;
}
