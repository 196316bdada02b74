// Keeps the Lambda bootstrap within what AWS Lambda's provided.al2023 image has: glibc 2.34 and libstdc++
// up to GLIBCXX_3.4.29. Built on Debian 12 (glibc 2.36, GCC 12), the binary would otherwise need
// hypotf@GLIBC_2.35 and hypot@GLIBC_2.35 (Swift's Glibc overlay, async-http-client) and
// std::condition_variable::wait@GLIBCXX_3.4.30 (the static Swift runtime), and would not start there.
// These replacements are linked into the bootstrap only, with `-Xlinker --wrap=<symbol>` (Package.swift).
#ifndef LAMBDA_COMPAT_H
#define LAMBDA_COMPAT_H
float __wrap_hypotf(float x, float y);
double __wrap_hypot(double x, double y);
void __wrap__ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE(void *condition, void *lock);
#endif
