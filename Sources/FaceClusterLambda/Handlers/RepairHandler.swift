import FaceClusterKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging

/// The repair function (`_HANDLER=repair`), run on a schedule (deploy/template.yaml: every 15 minutes): finds
/// photos left unfinished — stuck `processing` past their lease, or handed back by an invocation that was
/// stopped — and puts each back on the ingestion queue as an S3 notification, so the ingest function takes it
/// like a new upload. Nothing else is touched on a schedule.
///
/// Invoked by hand with `{"scope": "all"}` it also looks for stray index faces and thumbnails, missing
/// thumbnails and wrong counts (``LibraryRepair``) and fixes them; add `"dryRun": true` to only list them.
/// People's counts are recomputed from DynamoDB's (eventually consistent) indexes: run the full scope while
/// few photos are being ingested.
struct RepairHandler: LambdaHandler {
    let configuration: LambdaConfiguration
    let queueURL: String
    let pipeline: IngestionPipeline
    let sqs: SQSClient

    struct Request: Decodable {
        var scope: String?
        var dryRun: Bool?
    }

    struct Response: Encodable {
        var scope: String
        var dryRun: Bool
        var problems: [RepairReport.Problem]
        var requeued: Int
    }

    func handle(_ event: Data, invocation: Invocation, logger: Logger) async throws -> Data {
        // A scheduled event (EventBridge) carries its own fields, none of ours: the defaults apply.
        let request = (try? JSONDecoder().decode(Request.self, from: event)) ?? Request()
        let scope: LibraryRepair.Scope
        switch request.scope ?? "photos" {
        case "photos": scope = .photos
        case "all": scope = .all
        case let other: throw RuntimeFailure(type: "FaceCluster.InvalidRequest", message: "scope '\(other)': expected photos or all")
        }
        let dryRun = request.dryRun ?? false
        let report = try await LibraryRepair(pipeline: pipeline).run(dryRun: dryRun, scope: scope)
        for problem in report.problems {
            logger.warning("repair", metadata: [
                "kind": "\(problem.kind.rawValue)", "subject": "\(problem.subject)", "detail": "\(problem.detail)",
                "fixed": "\(!dryRun && problem.notFixed == nil)",
            ])
        }
        let bodies = try report.photosToIngest.filter { $0.store == configuration.rawBucket }.map(Self.notification)
        if !dryRun, !bodies.isEmpty { try await sqs.send(bodies, to: queueURL) }
        logger.info("repair done", metadata: ["problems": "\(report.problems.count)", "requeued": "\(dryRun ? 0 : bodies.count)"])
        return try JSONEncoder().encode(Response(
            scope: request.scope ?? "photos", dryRun: dryRun, problems: report.problems, requeued: dryRun ? 0 : bodies.count))
    }

    /// An S3 notification for the photo, as the raw bucket sends to the queue (`eventSource` says who sent it).
    static func notification(_ reference: PhotoReference) throws -> String {
        let event = S3Event(Records: [S3Event.Record(
            eventSource: "facecluster:repair", eventName: "ObjectCreated:Requeued", awsRegion: nil,
            s3: S3Event.S3Entity(
                bucket: S3Event.Bucket(name: reference.store, arn: nil),
                object: S3Event.Object(key: S3Event.Object.encode(key: reference.key), size: nil, eTag: nil, versionId: reference.versionID, sequencer: nil)))])
        return String(decoding: try JSONEncoder().encode(event), as: UTF8.self)
    }
}
