@testable import FaceClusterLocal
import Testing

/// The engine's analyses take turns when their whole-photo decodes would not fit in memory together.
@Suite("Decode memory gate")
struct DecodeMemoryGateTests {
    actor Log {
        var entries: [String] = []
        func add(_ entry: String) { entries.append(entry) }
    }

    @Test("a decode that does not fit beside the one in flight waits for it; a JPEG (0 bytes) never waits; one over the capacity runs alone")
    func turns() async throws {
        let gate = DecodeMemoryGate(capacity: 160)
        let log = Log()
        let (release, releasing) = AsyncStream.makeStream(of: Void.self)
        let first = Task {
            try await gate.withReservation(100) {
                await log.add("first in")
                for await _ in release { break }
                await log.add("first out")
            }
        }
        while await !log.entries.contains("first in") { await Task.yield() }
        let second = Task { try await gate.withReservation(100) { await log.add("second in") } }
        try await gate.withReservation(0) { await log.add("jpeg") }
        try await Task.sleep(for: .milliseconds(100))  // room for the second to enter, were the gate open
        #expect(await log.entries == ["first in", "jpeg"])
        releasing.yield()
        try await first.value
        try await second.value
        #expect(await log.entries == ["first in", "jpeg", "first out", "second in"])
        try await gate.withReservation(500) { await log.add("alone") }
        #expect(await log.entries.last == "alone")
    }
}
