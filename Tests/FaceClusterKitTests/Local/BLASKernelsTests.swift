@testable import FaceClusterLocal
import Foundation
import Testing

@Suite("OpenBLAS runs the kernels the CPU supports")
struct BLASKernelsTests {
    @Test("only a fallback to Prescott's kernels on a better CPU is overridden, and never the user's choice")
    func override() {
        #expect(BLASKernels.override(running: "Prescott", best: "SkylakeX", chosen: nil) == "SkylakeX")
        #expect(BLASKernels.override(running: "Prescott", best: "Haswell", chosen: "") == "Haswell")
        #expect(BLASKernels.override(running: "Prescott", best: nil, chosen: nil) == nil, "an old CPU keeps Prescott's")
        #expect(BLASKernels.override(running: "Haswell", best: "SkylakeX", chosen: nil) == nil, "a CPU OpenBLAS knows keeps its choice")
        #expect(BLASKernels.override(running: "Prescott", best: "SkylakeX", chosen: "Sandybridge") == nil)
        #expect(BLASKernels.override(running: nil, best: "SkylakeX", chosen: nil) == nil, "another BLAS")
    }

    /// OpenBLAS says which kernels it loaded when `OPENBLAS_VERBOSE` is 2 ("Core: Haswell"); the last such line
    /// is the program that did the work.
    @Test("facecluster runs the CPU's best kernels where OpenBLAS would fall back to Prescott's", .enabled(if: BLASKernels.running != nil, "the BLAS is not OpenBLAS"))
    func commandLine() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_VERBOSE"] = "2"
        environment["OPENBLAS_CORETYPE"] = nil
        let folder = Scratch.url("fck-blas-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try await Subprocess.run(CommandLineTests.binary, ["status", "--store", folder.path], environment: environment)
        let cores = String(decoding: result.errors, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("Core: ") }
        let last = try #require(cores.last, "OpenBLAS named no kernels: \(String(decoding: result.errors, as: UTF8.self))")
        let running = try #require(BLASKernels.running)
        let expected = BLASKernels.override(running: running, best: BLASKernels.bestForThisCPU, chosen: nil) ?? running
        #expect(last == "Core: \(expected)", "this test process runs \(running); the CPU's best is \(BLASKernels.bestForThisCPU ?? "none")")
    }
}
