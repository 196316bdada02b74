@testable import FaceClusterKit
@testable import FaceClusterLambda
import Foundation
import Logging
import Testing

@Suite("Lambda logs and metrics")
struct LambdaLoggingTests {
    @Test("a log record is one JSON object with level, message, time and metadata, the request id among it")
    func jsonLine() throws {
        var handler = JSONLogHandler(label: "facecluster")
        handler[metadataKey: "requestId"] = "8476a536-e9f4-11e8-9739-2dfe598c3fcd"
        let line = handler.line(level: .info, message: "photo", metadata: ["faces": "3", "key": "uploads/a b.jpg"])
        #expect(!line.contains(UInt8(ascii: "\n")))
        let object = try #require(try JSONSerialization.jsonObject(with: line) as? [String: String])
        #expect(object["requestId"] == "8476a536-e9f4-11e8-9739-2dfe598c3fcd" && object["faces"] == "3" && object["level"] == "info")
        #expect(object["message"] == "photo" && object["key"] == "uploads/a b.jpg")
        #expect(object["timestamp"].map { (try? Date($0, strategy: .iso8601)) != nil } == true)
    }

    @Test("metrics are CloudWatch embedded-metric-format records: each value declared with its unit, dimensioned by function")
    func embeddedMetrics() throws {
        let line = Metrics.embeddedMetricLine(function: "ingest", values: [("Photos", 3, "Count"), ("BatchDuration", 120, "Milliseconds")])
        let object = try #require(try JSONSerialization.jsonObject(with: line) as? [String: Any])
        let aws = try #require(object["_aws"] as? [String: Any])
        #expect((aws["Timestamp"] as? Int ?? 0) > 1_700_000_000_000)
        let directive = try #require((aws["CloudWatchMetrics"] as? [[String: Any]])?.first)
        #expect(directive["Namespace"] as? String == "FaceCluster" && (directive["Dimensions"] as? [[String]]) == [["Function"]])
        let declared = (directive["Metrics"] as? [[String: String]] ?? []).map { "\($0["Name"]!):\($0["Unit"]!)" }
        #expect(declared == ["Photos:Count", "BatchDuration:Milliseconds"])
        #expect(object["Function"] as? String == "ingest" && object["Photos"] as? Double == 3 && object["BatchDuration"] as? Double == 120)
    }

    @Test("a photo's log line carries what Logs Insights queries, and never a URL")
    func photoLine() throws {
        let report = IngestionReport(
            photoID: PhotoID(rawValue: "ph_x"), reference: PhotoReference(store: "raw", key: "uploads/a.jpg"),
            outcome: .failed(PhotoFailure(code: .notAnImage, message: "not an image", retryable: false)), faceCount: 0)
        let capture = Capture()
        Metrics.photo(report, rekognitionCalls: 1, logger: Logger(label: "t") { _ in capture })
        let fields = try #require(capture.records.first)
        for field in ["photoId", "faces", "peopleCreated", "peopleMatched", "rekognitionCalls", "durationMs", "outcome", "failureCode"] {
            #expect(fields[field] != nil, "\(field)")
        }
        #expect(fields["outcome"] == "failed" && fields["failureCode"] == "not_an_image")
        #expect(!fields.values.contains { $0.contains("http") })
    }

    /// Keeps what is logged.
    final class Capture: LogHandler, @unchecked Sendable {
        var records: [[String: String]] = []
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
            records.append((metadata ?? [:]).mapValues { "\($0)" })
        }
    }
}
