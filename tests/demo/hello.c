// The demo guest for `cargo xtask demo`: a RISC-V program that greets,
// echoes its arguments, and does a little real work (primes, a Mandelbrot
// set in ASCII) so you can see pvm running compiled code.
#include <stdio.h>
#include <sys/utsname.h>

int main(int argc, char **argv) {
    struct utsname u;
    uname(&u);
    printf("Hello from a RISC-V program (machine: %s)!\n", u.machine);
    printf("arguments:");
    for (int i = 1; i < argc; i++) printf(" [%s]", argv[i]);
    printf("\n");
    int count = 0, last = 0;
    for (int n = 2; n < 100000; n++) {
        int prime = 1;
        for (int d = 2; d * d <= n; d++)
            if (n % d == 0) {
                prime = 0;
                break;
            }
        if (prime) count++, last = n;
    }
    printf("%d primes below 100000, the largest is %d\n", count, last);
    for (int y = -10; y <= 10; y++) {
        for (int x = -39; x <= 20; x++) {
            double cr = x / 20.0, ci = y / 10.0, zr = 0, zi = 0;
            int it = 0;
            while (it < 50 && zr * zr + zi * zi < 4) {
                double t = zr * zr - zi * zi + cr;
                zi = 2 * zr * zi + ci;
                zr = t;
                it++;
            }
            putchar(it == 50 ? '#' : " .,:;+*%"[it < 8 ? it : 7]);
        }
        putchar('\n');
    }
    return 0;
}
