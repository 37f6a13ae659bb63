// Run-time loading through the dynamic linker: dlopen, dlsym, dlerror.
//@ variants: dynamic
//@ cflags: -ldl
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    void *m = dlopen("libm.so.6", RTLD_NOW);
    printf("dlopen libm: %s\n", m ? "ok" : dlerror());
    double (*cosp)(double) = (double (*)(double))dlsym(m, "cos");
    double (*powp)(double, double) = (double (*)(double, double))dlsym(m, "pow");
    printf("cos(1) = %.17g pow(2, 0.5) = %.17g\n", cosp(1.0), powp(2.0, 0.5));
    printf("missing symbol: %s\n", dlsym(m, "no_such_symbol") == NULL ? "NULL" : "found");
    printf("dlclose: %d\n", dlclose(m));
    void *bad = dlopen("libdoes-not-exist.so", RTLD_NOW);
    const char *err = dlerror();
    printf("missing library: %s, error mentions it: %s\n", bad ? "loaded?!" : "NULL",
           err && strstr(err, "libdoes-not-exist.so") ? "yes" : "no");
    void *self = dlopen(NULL, RTLD_NOW);
    printf("dlopen(NULL) finds printf: %s\n", dlsym(self, "printf") ? "yes" : "no");
    return 0;
}
