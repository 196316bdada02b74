// The Lambda benchmark: cold start (process start → first answer) and warm latency of both handlers, run as
// Lambda runs them — the packaged `bootstrap` as a process, fed by a Runtime API double over HTTP — against
// the local peers (moto's S3 and DynamoDB, the in-process Rekognition double). The reference peer is the same
// API function in Python with boto3 (scripts/bench/python_api_peer.py), measured the same way.
//
//     scripts/bench-lambda.sh      (packages the zip, starts moto, runs this, stops moto)
//     lambda-benchmark BOOTSTRAP ZIP PYTHON_PEER [runs]

import FaceClusterDoubles
import FaceClusterKit
import Foundation

let arguments = CommandLine.arguments
guard arguments.count >= 4 else {
    print("usage: lambda-benchmark BOOTSTRAP ZIP PYTHON_PEER [cold-runs]")
    exit(2)
}
let bootstrap = arguments[1], zip = arguments[2], peer = arguments[3]
let coldRuns = arguments.count > 4 ? Int(arguments[4]) ?? 5 : 5
let environment = ProcessInfo.processInfo.environment
guard let openURL = environment["FCK_MOTO_OPEN_URL"].flatMap(URL.init(string:)), let authURL = environment["FCK_MOTO_AUTH_URL"].flatMap(URL.init(string:)),
      let key = environment["FCK_MOTO_AUTH_ACCESS_KEY"], let secret = environment["FCK_MOTO_AUTH_SECRET"]
else {
    print("needs the moto servers of scripts/moto.sh (run scripts/bench-lambda.sh)")
    exit(2)
}

func client(_ url: URL) -> AWSClient {
    AWSClient(
        configuration: AWSConfiguration(region: "us-east-1", endpoints: ["s3": url, "dynamodb": url]),
        credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: key, secretAccessKey: secret)), transport: AsyncHTTPClientTransport())
}

func milliseconds(_ duration: Duration) -> Double { Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15 }
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
func percentile(_ values: [Double], _ p: Double) -> Double { values.sorted()[min(values.count - 1, Int(Double(values.count) * p))] }

// MARK: The stack

let suffix = UUID().uuidString.lowercased().prefix(8)
let raw = S3PhotoStore(bucket: "bench-raw-\(suffix)", client: client(openURL))
let processed = S3PhotoStore(bucket: "bench-processed-\(suffix)", client: client(openURL))
try await raw.createBucket()
try await processed.createBucket()
let tablePrefix = "bench-\(suffix)"
let metadata = DynamoDBMetadataStore(client: client(authURL), tablePrefix: tablePrefix)
try await metadata.createTables()
let rekognition = try await RekognitionDouble.start()
await rekognition.state.register(raw, as: raw.location)
let collection = "bench-\(suffix)"
try await RekognitionFaceIndex(rekognition: rekognition.client(), collectionID: collection).createCollection()

/// A 1600×1200 JPEG of these people (faces the Rekognition double reads from its comment segment).
func photo(_ people: [Int], variant: Int) throws -> Data {
    let width = 1600, height = 1200
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for index in stride(from: 0, to: pixels.count, by: 3) {
        let x = (index / 3) % width, y = (index / 3) / width
        pixels[index] = UInt8((x * 7 + y * 3) % 256); pixels[index + 1] = UInt8((x + y) % 200); pixels[index + 2] = 120
    }
    let slots = max(people.count, 2)
    let scene = SyntheticPhoto(width: width, height: height, faces: people.enumerated().map { slot, person in
        var embedding = [Float](repeating: 0, count: 64)
        embedding[person] = 1
        embedding[32 + (person + variant) % 32] = Float(variant % 7) * 0.01
        return SyntheticPhoto.Face(
            box: BoundingBox(left: 0.1 + Double(slot) * 0.8 / Double(slots), top: 0.3, width: 0.8 / Double(slots) * 0.8, height: 0.3), embedding: embedding)
    })
    return try JPEGEncoding.inserting(comment: scene.encoded(), into: JPEGEncoding.encode(rgb: pixels, width: width, height: height))
}

func functionEnvironment(_ runtime: RuntimeAPIDouble, handler: String) -> [String: String] {
    [
        "AWS_LAMBDA_RUNTIME_API": runtime.address, "_HANDLER": handler, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_ENDPOINT_URL_S3": openURL.absoluteString, "AWS_ENDPOINT_URL_DYNAMODB": authURL.absoluteString,
        "AWS_ENDPOINT_URL_REKOGNITION": rekognition.endpoint.absoluteString,
        "RAW_BUCKET": raw.location, "PROCESSED_BUCKET": processed.location, "TABLE_PREFIX": tablePrefix, "COLLECTION_ID": collection,
        "PATH": environment["PATH"] ?? "/usr/bin:/bin", "HOME": environment["HOME"] ?? "/tmp",
    ]
}

func sqsEvent(for key: String) throws -> Data {
    let s3 = ["Records": [["eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": ["bucket": ["name": raw.location], "object": ["key": key]]]]]
    let body = String(decoding: try JSONSerialization.data(withJSONObject: s3), as: UTF8.self)
    return try JSONSerialization.data(withJSONObject: ["Records": [["messageId": UUID().uuidString, "body": body, "eventSource": "aws:sqs"]]])
}

let listPeople = try JSONSerialization.data(withJSONObject: [
    "version": "2.0", "rawPath": "/people", "rawQueryString": "",
    "requestContext": ["requestId": "bench", "http": ["method": "GET", "path": "/people"]],
])

/// Starts `command` against a fresh Runtime API double with `first` queued, then sends `warm` one at a time.
/// Returns the cold start (process start → first answer posted) and each warm event's latency (queued → posted).
func measure(_ command: [String], handler: String, first: Data, warm: [Data]) async throws -> (cold: Double, warm: [Double], failures: Int) {
    let runtime = try await RuntimeAPIDouble.start()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: command[0])
    process.arguments = Array(command.dropFirst())
    process.environment = functionEnvironment(runtime, handler: handler)
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    await runtime.state.push(.init(requestID: "cold", body: first))
    let started = ContinuousClock.now
    try process.run()
    /// Waits for the `count`th answer, looking every 100 µs (so the figures carry up to 0.1 ms of it); gives
    /// up when the process has died.
    func answered(_ count: Int) async -> Bool {
        while await runtime.state.posted.count < count {
            guard process.isRunning else { return false }
            try? await Task.sleep(for: .microseconds(100))
        }
        return true
    }
    guard await answered(1) else {
        print("\(command.joined(separator: " ")) exited with status \(process.terminationStatus) before answering")
        exit(1)
    }
    let cold = milliseconds(ContinuousClock.now - started)
    var latencies: [Double] = []
    for (number, event) in warm.enumerated() {
        let queued = ContinuousClock.now
        await runtime.state.push(.init(requestID: "warm-\(number)", body: event))
        guard await answered(number + 2) else { break }
        latencies.append(milliseconds(ContinuousClock.now - queued))
    }
    let failures = await runtime.state.posted.filter { $0.kind != .response }.count
    await runtime.state.close()
    process.terminate()
    process.waitUntilExit()
    return (cold, latencies, failures)
}

// MARK: Ingest

var uploads = 0
@MainActor func upload(_ people: [Int]) async throws -> String {
    uploads += 1
    let key = "uploads/photo-\(uploads).jpg"
    try await raw.put(try photo(people, variant: uploads), at: key, contentType: "image/jpeg")
    return key
}
var ingestCold: [Double] = [], ingestWarm: [Double] = [], ingestFailures = 0
for run in 0..<coldRuns {
    let first = try sqsEvent(for: try await upload([run % 4, (run + 1) % 4, 4 + run]))
    var warm: [Data] = []
    for number in 0..<(run == 0 ? 20 : 0) { warm.append(try sqsEvent(for: try await upload([number % 6, (number + 2) % 6]))) }
    let result = try await measure([bootstrap], handler: "ingest", first: first, warm: warm)
    ingestCold.append(result.cold)
    ingestWarm += result.warm
    ingestFailures += result.failures
}
let people = try await Page.all { try await metadata.people(page: $0) }.count

// MARK: API

var storeTimes: [Double] = []
for _ in 0..<50 {
    let started = ContinuousClock.now
    _ = try await metadata.people(page: PageRequest(limit: 20))
    storeTimes.append(milliseconds(ContinuousClock.now - started))
}
var apiCold: [Double] = [], apiWarm: [Double] = [], peerCold: [Double] = [], peerWarm: [Double] = [], apiFailures = 0
for run in 0..<coldRuns {
    let ours = try await measure([bootstrap], handler: "api", first: listPeople, warm: Array(repeating: listPeople, count: run == 0 ? 100 : 0))
    apiCold.append(ours.cold)
    apiWarm += ours.warm
    apiFailures += ours.failures
    let python = try await measure(["/usr/bin/env", "python3", peer], handler: "api", first: listPeople, warm: Array(repeating: listPeople, count: run == 0 ? 100 : 0))
    peerCold.append(python.cold)
    peerWarm += python.warm
}

let zipBytes = (try FileManager.default.attributesOfItem(atPath: zip)[.size] as? Int) ?? 0
print("Lambda benchmark: bootstrap as a process against a Runtime API double; moto S3 + DynamoDB; Rekognition double (no latency)")
print("Library: \(uploads) photos ingested (1600×1200 JPEG, 2–3 faces), \(people) people; median of \(coldRuns) cold starts; warm = queued → answered")
print("")
print("                               cold start ms (median, min–max)   warm ms (median, p95)   failures")
func row(_ name: String, _ cold: [Double], _ warm: [Double], _ failures: Int) {
    print(name.padding(toLength: 31, withPad: " ", startingAt: 0)
        + String(format: "%8.1f  (%.1f–%.1f)", median(cold), cold.min() ?? 0, cold.max() ?? 0).padding(toLength: 34, withPad: " ", startingAt: 0)
        + (warm.isEmpty ? "-" : String(format: "%6.2f  %6.2f", median(warm), percentile(warm, 0.95))).padding(toLength: 24, withPad: " ", startingAt: 0)
        + "\(failures)")
}
row("ingest (Swift), 1 photo", ingestCold, ingestWarm, ingestFailures)
row("api GET /people (Swift)", apiCold, apiWarm, apiFailures)
row("api GET /people (Python peer)", peerCold, peerWarm, 0)
print("")
print(String(format: "Store time (DynamoDB query on moto, in process): median %.2f ms → Swift warm GET /people minus store: %.2f ms", median(storeTimes), median(apiWarm) - median(storeTimes)))
print(String(format: "Zip: %.1f MB (%d bytes)", Double(zipBytes) / 1_048_576, zipBytes))
print(String(format: "Cold start vs the Python peer: %.1f× faster; warm: %.1f× faster", median(peerCold) / median(apiCold), median(peerWarm) / median(apiWarm)))
exit(0)
