import FaceClusterKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The functions' settings, from their environment (set by the deployment template). A missing or invalid
/// variable fails set-up with a message naming it (reported to Lambda as an init error).
struct LambdaConfiguration: Sendable, Equatable {
    /// The bucket photos are uploaded to, and the folder in it that is ingested (`uploads/`).
    var rawBucket: String
    var rawPrefix: String
    /// The bucket face thumbnails go to (`people/<personId>/<faceId>.jpg`).
    var processedBucket: String
    /// DynamoDB table names start with it (`<prefix>-photos`, … see Docs/data-model.md).
    var tablePrefix: String
    var collectionID: String
    var callPlan: CallPlan
    /// Validity of presigned URLs in API answers.
    var urlExpiry: Duration
    /// `Access-Control-Allow-Origin` for API answers; `nil`: no CORS headers.
    var corsAllowOrigin: String?
    /// The ingestion queue's URL: where the repair function puts unfinished photos back (`INGEST_QUEUE_URL`,
    /// needed by `_HANDLER=repair` only).
    var ingestQueueURL: String?
    /// People need this many faces to be listed (`MINIMUM_FACES_PER_PERSON`, default 1: everyone).
    var minimumFacesPerPerson: Int
    /// Consolidate the components each SQS batch touched before answering, and regroup after a merge undone
    /// through the API (`CONSOLIDATE`: `batch`, the default, or `off`: neither).
    var consolidatesAfterBatch: Bool

    enum Problem: Error, Equatable, CustomStringConvertible {
        case missing(String)
        case invalid(String, String, expected: String)

        var description: String {
            switch self {
            case .missing(let name): "the environment variable \(name) is not set"
            case .invalid(let name, let value, let expected): "the environment variable \(name) is '\(value)'; expected \(expected)"
            }
        }
    }

    init(environment: [String: String]) throws {
        func required(_ name: String) throws -> String {
            guard let value = environment[name], !value.isEmpty else { throw Problem.missing(name) }
            return value
        }
        rawBucket = try required("RAW_BUCKET")
        rawPrefix = environment["RAW_PREFIX"] ?? "uploads/"
        processedBucket = try required("PROCESSED_BUCKET")
        tablePrefix = try required("TABLE_PREFIX")
        collectionID = try required("COLLECTION_ID")
        let plan = environment["CALL_PLAN"] ?? "indexed"
        guard let callPlan = CallPlan(rawValue: plan) else {
            throw Problem.invalid("CALL_PLAN", plan, expected: CallPlan.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self.callPlan = callPlan
        let expiry = environment["URL_EXPIRY_SECONDS"] ?? "900"
        guard let seconds = Int(expiry), (1...604_800).contains(seconds) else {
            throw Problem.invalid("URL_EXPIRY_SECONDS", expiry, expected: "1…604800 seconds")
        }
        urlExpiry = .seconds(seconds)
        corsAllowOrigin = environment["CORS_ALLOW_ORIGIN"].flatMap { $0.isEmpty ? nil : $0 }
        ingestQueueURL = environment["INGEST_QUEUE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        let minimum = environment["MINIMUM_FACES_PER_PERSON"] ?? "1"
        guard let faces = Int(minimum), (1...100).contains(faces) else {
            throw Problem.invalid("MINIMUM_FACES_PER_PERSON", minimum, expected: "1…100 faces")
        }
        minimumFacesPerPerson = faces
        let consolidate = environment["CONSOLIDATE"] ?? "batch"
        guard ["batch", "off"].contains(consolidate) else { throw Problem.invalid("CONSOLIDATE", consolidate, expected: "batch or off") }
        consolidatesAfterBatch = consolidate == "batch"
        guard rawBucket != processedBucket else {
            throw Problem.invalid("PROCESSED_BUCKET", processedBucket, expected: "a bucket other than RAW_BUCKET (thumbnails must not trigger ingestion)")
        }
    }
}
