import CDlibFace
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Which matrix kernels OpenBLAS runs the face embedding on, and the fix for the CPUs its Debian 12 version
/// does not know.
///
/// OpenBLAS picks kernels for the CPU it finds when it loads. Version 0.3.21 (Debian 12's `libopenblas0-pthread`)
/// falls back to its oldest x86-64 kernels, Prescott's (SSE3), on an Intel CPU newer than it knows, whatever the
/// CPU supports: OpenBLAS issue 4267, fixed in 0.3.25. The development machine's Xeon (family 6, model 207,
/// AVX-512) is one. The ResNet embedding is mostly matrix products, so measured there (2026-12-01,
/// `facecluster ingest --jobs 2`, three runs each): lfw10's 100 photos 4.4–4.6 s → 3.5–3.7 s (7.4–7.8 → 5.6–6.0 s
/// of CPU), labeled's 61 photos 2.75–2.80 s → 2.21–2.29 s. OpenBLAS's documented remedy is the environment
/// variable `OPENBLAS_CORETYPE`, read only when the library loads, before any code of ours runs: hence
/// ``restartWithTheCPUsKernelsIfNeeded()``. Results move in the last bits only (another summation order).
public enum BLASKernels {
    /// The kernels OpenBLAS runs in this process ("SkylakeX", "Haswell", "Prescott", …); `nil` when the BLAS
    /// behind `libblas.so.3` is another one.
    public static var running: String? { dlib_face_blas_kernels().map { String(cString: $0) } }

    /// The best kernels this CPU and its OS support: "SkylakeX" (AVX-512), "Haswell" (AVX2 and FMA), `nil`
    /// for neither.
    public static var bestForThisCPU: String? { dlib_face_cpu_blas_kernels().map { String(cString: $0) } }

    /// The kernels to ask OpenBLAS for: the CPU's best when OpenBLAS fell back to Prescott's on a CPU that has
    /// better, unless the user chose (`chosen`: `OPENBLAS_CORETYPE`'s value); `nil` when nothing is to change.
    static func override(running: String?, best: String?, chosen: String?) -> String? {
        guard chosen?.isEmpty ?? true, running == "Prescott", let best else { return nil }
        return best
    }

    /// For a program's start, before it starts threads or work: when ``override(running:best:chosen:)`` names
    /// kernels, executes the program again in the same process (same id, arguments, open files) with
    /// `OPENBLAS_CORETYPE` set to them. Returns, changing nothing, when there is nothing to change or the
    /// restart fails. Costs one more program load (milliseconds); the `facecluster` CLI calls it first.
    public static func restartWithTheCPUsKernelsIfNeeded() {
        #if os(Linux)
        guard let kernels = override(running: running, best: bestForThisCPU, chosen: ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]) else { return }
        setenv("OPENBLAS_CORETYPE", kernels, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv("OPENBLAS_CORETYPE")  // not restarted (no /proc): go on with what OpenBLAS chose
        #endif
    }
}
