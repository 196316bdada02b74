import FaceClusterKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The functions' structured output: one JSON log line per photo and per API request (through swift-log's
/// ``JSONLogHandler``, queryable with CloudWatch Logs Insights), and counts as CloudWatch embedded-metric-
/// format lines (CloudWatch turns them into metrics in the `FaceCluster` namespace; no API call, no cost per
/// call). Presigned URLs and credentials are never logged.
enum Metrics {
    static let namespace = "FaceCluster"

    static func photo(_ report: IngestionReport, rekognitionCalls: Int, logger: Logger) {
        var metadata: Logger.Metadata = [
            "event": "photo", "photoId": "\(report.photoID)", "bucket": "\(report.reference.store)", "key": "\(report.reference.key)",
            "outcome": "\(outcomeName(report.outcome))", "faces": "\(report.faceCount)", "skippedFaces": "\(report.skippedFaceCount)",
            "peopleCreated": "\(report.newPeople.count)", "peopleMatched": "\(report.matchedPeople.count)",
            "rekognitionCalls": "\(rekognitionCalls)", "durationMs": "\(milliseconds(report.duration))",
        ]
        if case .failed(let failure) = report.outcome {
            metadata["failureCode"] = "\(failure.code.rawValue)"
            metadata["failureMessage"] = "\(failure.message)"
            metadata["retryable"] = "\(failure.retryable)"
        }
        report.outcome.isFailure ? logger.warning("photo", metadata: metadata) : logger.info("photo", metadata: metadata)
    }

    /// The batch's counts as one embedded-metric-format line.
    static func ingestion(_ reports: [IngestionReport], failedMessages: Int, logger: Logger, duration: Duration) {
        emit(function: "ingest", values: [
            ("Photos", Double(reports.count), "Count"),
            ("Faces", Double(reports.map(\.faceCount).reduce(0, +)), "Count"),
            ("NewPeople", Double(reports.map(\.newPeople.count).reduce(0, +)), "Count"),
            ("FailedPhotos", Double(reports.filter(\.outcome.isFailure).count), "Count"),
            ("FailedMessages", Double(failedMessages), "Count"),
            ("BatchDuration", Double(milliseconds(duration)), "Milliseconds"),
        ])
    }

    static func request(method: String, route: String, status: Int, duration: Duration, logger: Logger) {
        logger.info("request", metadata: [
            "event": "request", "method": "\(method)", "route": "\(route)", "status": "\(status)", "durationMs": "\(milliseconds(duration))",
        ])
        emit(function: "api", values: [("Requests", 1, "Count"), ("ServerErrors", status >= 500 ? 1 : 0, "Count"), ("Latency", Double(milliseconds(duration)), "Milliseconds")])
    }

    /// Writes `{"_aws": {…}, "Function": …, "<metric>": value, …}` on a line of its own.
    static func emit(function: String, values: [(name: String, value: Double, unit: String)]) {
        JSONLogHandler.write(embeddedMetricLine(function: function, values: values))
    }

    /// The embedded-metric-format record for `values`, dimensioned by function.
    static func embeddedMetricLine(function: String, values: [(name: String, value: Double, unit: String)]) -> Data {
        struct Line: Encodable {
            var _aws: AWS
            var values: [String: Double]
            var function: String

            struct AWS: Encodable {
                struct Directive: Encodable {
                    var Namespace: String
                    var Dimensions: [[String]]
                    var Metrics: [[String: String]]
                }
                var Timestamp: Int64
                var CloudWatchMetrics: [Directive]
            }

            struct Key: CodingKey {
                var stringValue: String
                var intValue: Int? { nil }
                init(stringValue: String) { self.stringValue = stringValue }
                init?(intValue: Int) { nil }
            }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Key.self)
                try container.encode(_aws, forKey: Key(stringValue: "_aws"))
                try container.encode(function, forKey: Key(stringValue: "Function"))
                for (name, value) in values { try container.encode(value, forKey: Key(stringValue: name)) }
            }
        }
        let line = Line(
            _aws: .init(
                Timestamp: Int64(Date().timeIntervalSince1970 * 1000),
                CloudWatchMetrics: [.init(Namespace: namespace, Dimensions: [["Function"]], Metrics: values.map { ["Name": $0.name, "Unit": $0.unit] })]),
            values: Dictionary(values.map { ($0.name, $0.value) }, uniquingKeysWith: +), function: function)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(line)) ?? Data()
    }

    static func outcomeName(_ outcome: IngestionReport.Outcome) -> String {
        switch outcome {
        case .indexed: "indexed"
        case .noFaces: "no_faces"
        case .skipped(let reason): "skipped_\(reason.rawValue)"
        case .failed: "failed"
        case .inProgressElsewhere: "in_progress_elsewhere"
        case .interrupted: "interrupted"
        }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}

extension IngestionReport.Outcome {
    var isFailure: Bool { if case .failed = self { true } else { false } }
}

/// swift-log output as one JSON object a line on standard output: `timestamp`, `level`, `message`, and the
/// metadata (the Lambda request id among it), which is what CloudWatch Logs Insights parses.
struct JSONLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    let label: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        Self.write(self.line(level: level, message: message, metadata: explicit))
    }

    /// One log record as a JSON object: `timestamp`, `level`, `message`, `logger` and the metadata.
    func line(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?) -> Data {
        var fields: [String: String] = ["level": level.rawValue, "message": message.description, "logger": label,
                                        "timestamp": Date().formatted(.iso8601)]
        for (key, value) in metadata.merging(explicit ?? [:], uniquingKeysWith: { $1 }) { fields[key] = "\(value)" }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(fields)) ?? Data()
    }

    private static let output = Mutex(())

    /// One line, written whole (concurrent photos must not interleave).
    static func write(_ line: Data) {
        output.withLock { _ in
            var bytes = Array(line)
            bytes.append(UInt8(ascii: "\n"))
            var written = 0
            while written < bytes.count {
                let result = bytes[written...].withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
                guard result > 0 else { break }
                written += result
            }
        }
    }
}
