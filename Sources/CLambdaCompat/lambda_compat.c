#define _GNU_SOURCE
#include "lambda_compat.h"
#include <dlfcn.h>
#include <math.h>
#include <stdlib.h>

// In double, a float hypotenuse can neither overflow nor lose precision.
float __wrap_hypotf(float x, float y) {
    double a = x, b = y;
    return (float)sqrt(a * a + b * b);
}

// hypotl has been in glibc since 2.2.5 (x86_64) and 2.17 (aarch64): the extended precision avoids overflow.
double __wrap_hypot(double x, double y) {
    return (double)hypotl((long double)x, (long double)y);
}

// GCC 12's libstdc++ gives std::condition_variable::wait(unique_lock<mutex>&) a new default version,
// GLIBCXX_3.4.30; Amazon Linux 2023's libstdc++ stops at 3.4.29. The wrapper (`--wrap` on the Lambda link)
// calls the same function under its older version, GLIBCXX_3.4.11, which both libraries have, looked up once
// at run time (a link-time `.symver` reference would itself be caught by `--wrap`).
#if defined(__linux__)
typedef void (*fck_wait_function)(void *condition, void *lock);

void __wrap__ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE(void *condition, void *lock) {
    static fck_wait_function original;
    fck_wait_function function = __atomic_load_n(&original, __ATOMIC_ACQUIRE);
    if (function == NULL) {
        function = (fck_wait_function)dlvsym(RTLD_DEFAULT, "_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE", "GLIBCXX_3.4.11");
        if (function == NULL) abort();
        __atomic_store_n(&original, function, __ATOMIC_RELEASE);
    }
    function(condition, lock);
}
#endif
