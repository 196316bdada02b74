/// Lets the engine's analyses take turns when the photos they decode whole would together hold more than
/// `capacity` bytes: a photo waits until its bytes fit beside those in flight (or nothing is in flight, so one
/// larger than `capacity` still runs, alone). First come, first served.
///
/// Why: ``DecodeBudget`` bounds one decode, and `facecluster ingest --jobs N` runs N photos at once, so a folder
/// of 48 MP HEICs with 2 jobs peaked at 654 MB (two libheif decodes side by side).
actor DecodeMemoryGate {
    private let capacity: Int
    private var inFlight = 0
    private var waiting: [(bytes: Int, resume: CheckedContinuation<Void, Never>)] = []

    init(capacity: Int) { self.capacity = capacity }

    /// Runs `work` once `bytes` fit (at once when `bytes` is 0).
    nonisolated func withReservation<T: Sendable>(_ bytes: Int, _ work: @Sendable () async throws -> T) async throws -> T {
        guard bytes > 0 else { return try await work() }
        await reserve(bytes)
        do {
            let result = try await work()
            await release(bytes)
            return result
        } catch {
            await release(bytes)
            throw error
        }
    }

    private func fits(_ bytes: Int) -> Bool { inFlight == 0 || inFlight + bytes <= capacity }

    private func reserve(_ bytes: Int) async {
        if waiting.isEmpty, fits(bytes) {
            inFlight += bytes
            return
        }
        await withCheckedContinuation { waiting.append((bytes, $0)) }
    }

    private func release(_ bytes: Int) {
        inFlight -= bytes
        while let next = waiting.first, fits(next.bytes) {
            waiting.removeFirst()
            inFlight += next.bytes
            next.resume.resume()
        }
    }
}
