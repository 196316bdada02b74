import FaceClusterKit
import Foundation
import Testing

@Suite("Instrumentation")
struct InstrumentationTests {
    @Test("the counter counts calls per operation across stacked ports")
    func counting() async throws {
        let counter = CallCounter()
        let store = InMemoryPhotoStore().intercepted(by: counter)
        try await store.put(Data([1]), at: "a", contentType: "image/jpeg")
        _ = try await store.get("a")
        _ = try? await store.get("missing")
        #expect(counter.count(of: "PhotoStore.get") == 2)
        #expect(counter.count(of: "PhotoStore.put") == 1)
        #expect(counter.count(ofPort: "PhotoStore") == 3)
        #expect(counter.total == 3)
    }

    @Test("failCall fails exactly call N; crashAt fails N and everything after")
    func numberedFaults() async throws {
        let once = InMemoryPhotoStore().intercepted(by: FaultInjector(rules: [.failCall(2)]))
        let results = await (1...4).asyncMap { _ in (try? await once.list(prefix: "", continuationToken: nil, limit: 1)) != nil }
        #expect(results == [true, false, true, true])
        let crash = InMemoryPhotoStore().intercepted(by: FaultInjector(rules: [.crashAt(2)]))
        let crashed = await (1...4).asyncMap { _ in (try? await crash.list(prefix: "", continuationToken: nil, limit: 1)) != nil }
        #expect(crashed == [true, false, false, false])
    }

    @Test("random faults replay exactly with the same seed")
    func seeded() async throws {
        func run(seed: UInt64) async -> [Bool] {
            let store = InMemoryPhotoStore().intercepted(by: FaultInjector(seed: seed, rules: [.failRandomly(probability: 0.3)]))
            return await (0..<200).asyncMap { _ in (try? await store.list(prefix: "", continuationToken: nil, limit: 1)) != nil }
        }
        let first = await run(seed: 42)
        #expect(await run(seed: 42) == first)
        #expect(await run(seed: 43) != first)
        let failures = first.filter { !$0 }.count
        #expect((40...80).contains(failures), "about 30% of 200: \(failures)")
    }

    @Test("an operation can be failed a given number of times, then recovers")
    func operationFaults() async throws {
        let injector = FaultInjector(rules: [.failOperation("PhotoStore.head", times: 2)])
        let store = InMemoryPhotoStore().intercepted(by: injector)
        try await store.put(Data([1]), at: "a", contentType: "image/jpeg")
        let results = await (1...3).asyncMap { _ in (try? await store.head("a")) != nil }
        #expect(results == [false, false, true])
        #expect(injector.injectedCount == 2)
        await #expect(throws: InjectedFault.self) {
            try await InMemoryPhotoStore().intercepted(by: FaultInjector(rules: [.failCall(1)])).head("a")
        }
    }

    @Test("a delay holds the call back")
    func delay() async throws {
        let store = InMemoryPhotoStore().intercepted(by: FaultInjector(rules: [.delay(.milliseconds(30))]))
        let started = ContinuousClock.now
        _ = try await store.list(prefix: "", continuationToken: nil, limit: 1)
        #expect(ContinuousClock.now - started >= .milliseconds(30))
    }
}
