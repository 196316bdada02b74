// responsiveness-benchmark: how an API server, a Lambda-style Runtime API loop and a timer in the same process
// answer while the local engine (dlib) analyses photos. Run by scripts/bench-responsiveness.sh, twice: with
// blocking work on threads of its own (BlockingWork, the default) and inline on Swift's cooperative threads
// (FACECLUSTER_BLOCKING_WORK=inline, as before).
//
// usage: responsiveness-benchmark PHOTO_FOLDER [seconds per phase]
import FaceClusterDoubles
import FaceClusterKit
import FaceClusterLocal
import Foundation
import Hummingbird

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: responsiveness-benchmark PHOTO_FOLDER [seconds per phase]\n".utf8))
    exit(2)
}
let folder = URL(fileURLWithPath: arguments[1])
let phaseSeconds = arguments.count > 2 ? Double(arguments[2]) ?? 8 : 8

let store = FileManager.default.temporaryDirectory.appendingPathComponent("fck-responsiveness-\(UUID().uuidString)")
let library = try LocalLibrary(directory: store)
let photos = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
    .filter { $0.pathExtension.lowercased() == "jpg" }.sorted { $0.path < $1.path }
let references = photos.compactMap { library.reference(forFile: $0) }

/// Latencies in milliseconds → "p50 / p95 / max".
func summary(_ values: [Double]) -> String {
    guard !values.isEmpty else { return "-" }
    let sorted = values.sorted()
    func at(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))] }
    return String(format: "%.1f / %.1f / %.1f", at(0.5), at(0.95), sorted.last!)
}

// 1. The API: GET /people from the library, as `facecluster serve` will answer it.
let router = Router()
router.get("/people") { _, _ -> Response in
    let people = try await library.gallery.people(page: PageRequest(limit: 50))
    let body = people.items.map { "{\"id\":\"\($0.id.rawValue)\",\"photoCount\":\($0.photoCount)}" }.joined(separator: ",")
    return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"people\":[\(body)]}")))
}
let apiPort = await serve(router)

/// wrk from outside the process: 4 connections for the phase; its own latency percentiles.
func apiLatency(seconds: Double) async throws -> String {
    let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first { FileManager.default.isExecutableFile(atPath: $0) }
    guard let wrk else { return "(wrk not installed)" }
    let result = try await Task.detached { () throws -> String in
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        process.arguments = ["-t1", "-c4", "-d\(Int(seconds))s", "--latency", "http://127.0.0.1:\(apiPort)/people"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return output
    }.value
    func percentile(_ label: String) -> String {
        result.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label) }?
            .split(separator: " ").last.map(String.init) ?? "?"
    }
    let max = result.split(separator: "\n").first { $0.contains("Latency") && !$0.contains("Distribution") }?
        .split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).first.map(String.init) ?? "?"
    return "\(percentile("50%")) / \(percentile("90%")) / \(percentile("99%")) (max \(max))"
}

// 2. A Runtime API loop as bootstrap runs it: `next` (long poll) → answer, over HTTP, against the double; an
// event every 20 ms; latency from the event's push to its answer being accepted.
let runtime = try await RuntimeAPIDouble.start()
let transport = AsyncHTTPClientTransport()
let base = URL(string: "http://\(runtime.address)/2018-06-01/runtime/invocation")!
let runtimeLoop = Task {
    while !Task.isCancelled {
        guard let response = try? await transport.send(FaceClusterKit.HTTPRequest(method: "GET", url: base.appendingPathComponent("next"), timeout: .seconds(3600))),
              response.status == 200,
              let id = response.headers.first(where: { $0.name.lowercased() == "lambda-runtime-aws-request-id" })?.value
        else { return }
        _ = try? await transport.send(FaceClusterKit.HTTPRequest(
            method: "POST", url: base.appendingPathComponent("\(id)/response"), body: response.body, timeout: .seconds(10)))
    }
}

func runtimeLatency(seconds: Double) async throws -> String {
    let start = ContinuousClock.now
    var latencies: [Double] = []
    var number = 0
    while ContinuousClock.now - start < .seconds(seconds) {
        number += 1
        let id = "bench-\(UUID().uuidString)"
        let pushed = ContinuousClock.now
        await runtime.state.push(.init(requestID: id, body: Data("{}".utf8)))
        while await !runtime.state.posted.contains(where: { $0.requestID == id }) {
            try await Task.sleep(for: .milliseconds(1))
            if ContinuousClock.now - pushed > .seconds(30) { break }
        }
        latencies.append((ContinuousClock.now - pushed).milliseconds)
        try await Task.sleep(for: .milliseconds(20))
    }
    return summary(latencies)
}

// 3. A timer: how late a 5 ms sleep wakes up.
func timerLateness(seconds: Double) async throws -> String {
    let start = ContinuousClock.now
    var lateness: [Double] = []
    while ContinuousClock.now - start < .seconds(seconds) {
        let before = ContinuousClock.now
        try await Task.sleep(for: .milliseconds(5))
        lateness.append(((ContinuousClock.now - before) - .milliseconds(5)).milliseconds)
    }
    return summary(lateness)
}

func measure(_ label: String, seconds: Double) async throws -> [String] {
    async let api = apiLatency(seconds: seconds)
    async let loop = runtimeLatency(seconds: seconds)
    async let timer = timerLateness(seconds: seconds)
    return [label, try await api, try await loop, try await timer]
}

extension Duration {
    var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}

// Warm up: models loaded, a first photo through the pipeline.
if let first = references.first { _ = await library.pipeline.ingest(first) }

var rows: [[String]] = []
rows.append(try await measure("idle", seconds: phaseSeconds))

// Ingest the photos, 2 at a time, again and again (a fresh store each round) for the whole phase.
let ingesting = Task {
    var round = 0
    while !Task.isCancelled {
        round += 1
        let roundStore = FileManager.default.temporaryDirectory.appendingPathComponent("fck-responsiveness-\(UUID().uuidString)")
        guard let roundLibrary = try? LocalLibrary(directory: roundStore) else { return 0 }
        let roundReferences = photos.compactMap { roundLibrary.reference(forFile: $0) }
        _ = await roundLibrary.pipeline.ingest(roundReferences, maxConcurrency: 2)
        try? FileManager.default.removeItem(at: roundStore)
    }
    return round
}
try await Task.sleep(for: .milliseconds(500))
rows.append(try await measure("ingesting (\(photos.count) photos, 2 at a time)", seconds: phaseSeconds))
ingesting.cancel()
_ = await ingesting.value
runtimeLoop.cancel()
await runtime.state.close()

let mode = BlockingWork.runsInline ? "inline on the cooperative threads (FACECLUSTER_BLOCKING_WORK=inline)" : "on BlockingWork's threads (default)"
print("blocking work \(mode); \(ProcessInfo.processInfo.activeProcessorCount) cores; \(Int(phaseSeconds)) s a phase")
print("| while | API GET /people ms p50 / p90 / p99 (wrk, 4 connections) | Runtime API loop ms p50 / p95 / max | 5 ms timer late by ms p50 / p95 / max |")
print("| --- | --- | --- | --- |")
for row in rows { print("| " + row.joined(separator: " | ") + " |") }
try? FileManager.default.removeItem(at: store)
exit(0)
