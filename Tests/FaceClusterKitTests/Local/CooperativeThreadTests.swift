import FaceClusterKit
import FaceClusterLocal
import Foundation
import Testing

/// Face analysis and JPEG work run on threads of their own (``BlockingWork``), so a server, a timer or the
/// Lambda Runtime API loop in the same process keeps answering while photos are analysed. Swift's cooperative
/// pool has one thread per core: before this, as many analyses as cores held every one of them.
@Suite("Blocking work leaves Swift's cooperative threads free", .enabled(if: LabeledSet.available, "needs scripts/fetch-test-data.sh"))
struct CooperativeThreadTests {
    @Test("while more analyses than cores run, a task started meanwhile finishes before any analysis does")
    func analysesDoNotHoldCooperativeThreads() async throws {
        let engine = try LocalFaceEngine(database: try LocalDatabase.inMemory())
        let photo = try #require(try LabeledSet.photos().first { $0.url.lastPathComponent == "obama3.jpg" })
        let data = try Data(contentsOf: photo.url)
        _ = try await engine.detectFaces(in: ImageInput(data: data))  // load the models first

        let events = Locked<[String]>([])
        let analyses = ProcessInfo.processInfo.activeProcessorCount * 2
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<analyses {
                group.addTask {
                    _ = try await engine.indexFaces(in: ImageInput(data: data), externalImageID: "x", options: IndexOptions())
                    events.withLock { $0.append("analysis") }
                }
            }
            // Give the analyses time to start (and, were they on the cooperative threads, to occupy them all).
            try await Task.sleep(for: .milliseconds(30))
            await Task.detached { events.withLock { $0.append("probe") } }.value
            try await group.waitForAll()
        }
        let order = events.value
        #expect(order.count == analyses + 1)
        #expect(order.first == "probe", "a task had to wait for an analysis to finish: \(order)")
    }
}
