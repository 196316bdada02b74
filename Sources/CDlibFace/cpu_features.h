// Which vector instructions this CPU runs, checked once at run time: the package is compiled for AVX at most
// (Package.swift), and the loops that need more are compiled for it alone (`__attribute__((target(...)))`).
#ifndef FACECLUSTER_CPU_FEATURES_H
#define FACECLUSTER_CPU_FEATURES_H

namespace facecluster {

/// Whether this CPU has AVX2 and FMA and the OS saves their registers (`__builtin_cpu_supports` checks XCR0 too):
/// every x86-64 CPU since 2013–2015. Always false elsewhere.
inline bool cpu_has_avx2_fma() {
#if defined(__x86_64__)
    static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return has;
#else
    return false;
#endif
}

}  // namespace facecluster

#endif
