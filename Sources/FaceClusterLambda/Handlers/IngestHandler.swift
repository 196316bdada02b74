import FaceClusterKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging

/// The ingestion function: S3 event notifications, delivered directly or through SQS (the deployment's
/// choice: S3 → SQS → Lambda, with a dead-letter queue). Every photo of a batch is ingested concurrently;
/// one failing photo fails only its own message (SQS partial batch response), and only when a retry can help
/// (a retryable failure, or a photo another invocation holds: it is not done, so it comes back after the
/// visibility timeout rather than being acknowledged and lost).
///
/// Each claim ends with the invocation: its lease expires at the deadline plus ``leaseMargin``. An invocation
/// that dies mid-photo (timeout, out of memory, a crash) therefore frees the photo long before SQS redelivers
/// the message (the template's visibility timeout is 6 × the function timeout, as AWS recommends).
/// Objects outside the raw bucket's prefix — the processed bucket above all — are ignored, so thumbnails can
/// never trigger ingestion.
struct IngestHandler: LambdaHandler {
    var configuration: LambdaConfiguration
    let photos: any PhotoStore
    let thumbnails: any PhotoStore
    let detector: any FaceDetector
    let index: any FaceIndex
    let metadata: any MetadataStore
    let cropper: any ThumbnailCropper
    var clock: any WallClock = SystemWallClock()
    var maxConcurrency = 8
    /// Added to the invocation's deadline to end its leases: the clock skew tolerated between workers.
    var leaseMargin: Duration = Self.defaultLeaseMargin
    static let defaultLeaseMargin: Duration = .seconds(10)

    private struct Envelope: Decodable {
        struct Record: Decodable { var eventSource: String? }
        var Records: [Record]?
    }

    func handle(_ event: Data, invocation: Invocation, logger: Logger) async throws -> Data {
        let envelope = try JSONDecoder().decode(Envelope.self, from: event)
        let started = ContinuousClock.now
        if envelope.Records?.first?.eventSource == "aws:sqs" {
            let batch = try JSONDecoder().decode(SQSEvent.self, from: event)
            let results = try await concurrentMap(batch.Records, limit: maxConcurrency) { message in
                (message.messageId, await ingest(message: message, invocation: invocation, logger: logger))
            }
            let reports = results.flatMap { $0.1.reports }
            await consolidate(reports, logger: logger)
            Metrics.ingestion(reports, failedMessages: results.filter { !$0.1.succeeded }.count, logger: logger, duration: ContinuousClock.now - started)
            return try JSONEncoder().encode(SQSBatchResponse(
                batchItemFailures: results.filter { !$0.1.succeeded }.map { .init(itemIdentifier: $0.0) }))
        }
        let s3 = try JSONDecoder().decode(S3Event.self, from: event)
        let outcome = await ingest(s3, invocation: invocation, logger: logger)
        await consolidate(outcome.reports, logger: logger)
        Metrics.ingestion(outcome.reports, failedMessages: outcome.succeeded ? 0 : 1, logger: logger, duration: ContinuousClock.now - started)
        // Invoked by S3 directly: an error makes Lambda retry the event (twice), so fail only when that can help.
        guard outcome.succeeded else {
            throw RuntimeFailure(type: "FaceCluster.RetryableFailure", message: "some photos failed and can be retried")
        }
        return Data(#"{"status":"ok"}"#.utf8)
    }

    /// Re-derives the people of the components this batch's faces belong to, from the face graph stored in
    /// DynamoDB (no Rekognition call): what arrival order got wrong is fixed before the next batch. A failure
    /// is logged, not returned: the photos are done, and the next batch touching them consolidates again.
    func consolidate(_ reports: [IngestionReport], logger: Logger) async {
        let faces = reports.flatMap(\.faceIDs)
        guard configuration.consolidatesAfterBatch, !faces.isEmpty else { return }
        let consolidation = Consolidation(
            metadata: metadata, source: StoredFaceGraph(metadata: metadata), policy: IngestionPipeline.Configuration().policy, clock: clock)
        do {
            let report = try await consolidation.run(touching: faces)
            logger.info("consolidated", metadata: [
                "faces": "\(report.faces)", "merged": "\(report.merges.count)", "moved": "\(report.moves.count)", "newPeople": "\(report.newPeople.count)",
            ])
        } catch {
            logger.warning("consolidation failed; the next batch tries again", metadata: ["error": "\(error)"])
        }
    }

    struct Outcome: Sendable {
        var reports: [IngestionReport]
        var succeeded: Bool
    }

    /// One SQS message: S3's test event succeeds; a body that is not an S3 event fails (it ends in the
    /// dead-letter queue, where someone can look at it).
    private func ingest(message: SQSEvent.Message, invocation: Invocation, logger: Logger) async -> Outcome {
        let body = Data(message.body.utf8)
        if let test = try? JSONDecoder().decode(S3Event.TestEvent.self, from: body), test.Event == "s3:TestEvent" {
            logger.info("skipped S3's test event", metadata: ["messageId": "\(message.messageId)"])
            return Outcome(reports: [], succeeded: true)
        }
        guard let event = try? JSONDecoder().decode(S3Event.self, from: body) else {
            logger.error("message is not an S3 event notification", metadata: ["messageId": "\(message.messageId)"])
            return Outcome(reports: [], succeeded: false)
        }
        return await ingest(event, invocation: invocation, logger: logger)
    }

    private func ingest(_ event: S3Event, invocation: Invocation, logger: Logger) async -> Outcome {
        var references: [PhotoReference] = []
        for record in event.Records {
            guard let key = record.s3.object.decodedKey else {
                logger.warning("ignored an object key with malformed escapes", metadata: ["key": "\(record.s3.object.key)"])
                continue
            }
            // A "folder" made in the S3 console is an empty object whose key ends in "/": nothing to say about it.
            if key.hasSuffix("/") { continue }
            guard record.s3.bucket.name == configuration.rawBucket, key.hasPrefix(configuration.rawPrefix) else {
                logger.info("ignored an object outside the raw prefix", metadata: ["bucket": "\(record.s3.bucket.name)", "key": "\(key)"])
                continue
            }
            guard record.eventName?.hasPrefix("ObjectCreated") ?? true else { continue }
            references.append(PhotoReference(store: record.s3.bucket.name, key: key, versionID: record.s3.object.versionId))
        }
        let reports = (try? await concurrentMap(references, limit: maxConcurrency) { reference in
            await ingest(reference, invocation: invocation, logger: logger)
        }) ?? []
        return Outcome(reports: reports, succeeded: !reports.contains { $0.shouldRetry })
    }

    /// One photo, with its face-service calls counted for the log line.
    private func ingest(_ reference: PhotoReference, invocation: Invocation, logger: Logger) async -> IngestionReport {
        let calls = CallCounter()
        let countedIndex: any FaceIndex = Self.counted(self.index, calls)
        let pipeline = IngestionPipeline(
            photos: photos, thumbnails: thumbnails, detector: Self.counted(detector, calls), index: countedIndex,
            metadata: metadata, cropper: cropper, clock: clock,
            configuration: .init(
                callPlan: configuration.callPlan, leaseDeadline: invocation.deadline.addingTimeInterval(Double(leaseMargin.components.seconds)),
                worker: .current))
        let report = await pipeline.ingest(reference)
        Metrics.photo(report, rekognitionCalls: calls.total, logger: logger)
        return report
    }

    private static func counted<D: FaceDetector>(_ detector: D, _ calls: CallCounter) -> any FaceDetector { detector.intercepted(by: calls) }
    private static func counted<I: FaceIndex>(_ index: I, _ calls: CallCounter) -> any FaceIndex { index.intercepted(by: calls) }
}
