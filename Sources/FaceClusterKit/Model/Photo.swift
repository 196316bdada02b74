#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A photo and what ingestion learned about it. Written only by ``MetadataStore/savePhoto(_:expectedRevision:)``,
/// a compare-and-set on ``revision``: two workers never both believe they own a photo.
public struct Photo: Hashable, Sendable, Codable {
    public var id: PhotoID
    public var reference: PhotoReference
    public var status: PhotoStatus
    /// The content tag (S3 ETag, or a content hash) of the bytes this record describes. A different tag on a
    /// later event means the photo was overwritten and must be reprocessed.
    public var contentTag: String
    /// The content tag that ``faceIDs`` were indexed from; differs from ``contentTag`` while faces of an
    /// overwritten version still wait to be removed.
    public var indexedContentTag: String?
    /// Displayed size (EXIF orientation applied) and the stored orientation; known once the header was read.
    public var width: Int?
    public var height: Int?
    public var orientation: Orientation?
    /// Faces of this photo that are in the face index.
    public var faceIDs: [FaceID]
    /// Faces found but not grouped (too small, low confidence, over the per-photo maximum), with the reason.
    public var skippedFaces: [SkippedFace]
    /// Thumbnails the attempt in progress is writing (checkpointed before they are written), so a retry that
    /// groups a face differently removes the one an interrupted attempt left at another key. `nil` when done.
    public var thumbnailKeys: [String]?
    /// When the photo was first seen; people's photos list newest first by this.
    public var addedAt: Date
    public var updatedAt: Date
    /// Present while a worker processes the photo.
    public var lease: Lease?
    /// Incremented by the store on every write; the condition of the next write.
    public var revision: Int

    public init(
        id: PhotoID, reference: PhotoReference, status: PhotoStatus, contentTag: String,
        indexedContentTag: String? = nil, width: Int? = nil, height: Int? = nil, orientation: Orientation? = nil,
        faceIDs: [FaceID] = [], skippedFaces: [SkippedFace] = [], addedAt: Date, updatedAt: Date,
        lease: Lease? = nil, revision: Int = 0
    ) {
        self.id = id
        self.reference = reference
        self.status = status
        self.contentTag = contentTag
        self.indexedContentTag = indexedContentTag
        self.width = width
        self.height = height
        self.orientation = orientation
        self.faceIDs = faceIDs
        self.skippedFaces = skippedFaces
        self.addedAt = addedAt
        self.updatedAt = updatedAt
        self.lease = lease
        self.revision = revision
    }
}

/// Where a photo is in its life: `pending → processing → indexed | noFaces | failed`, and `deleted` (a
/// tombstone, so a late re-delivery of the same content does not bring a deleted photo back).
public enum PhotoStatus: Hashable, Sendable, Codable {
    case pending
    case processing
    case indexed
    case noFaces
    case failed(PhotoFailure)
    case deleted

    /// The status without its payload, for filters and listings.
    public var kind: Kind {
        switch self {
        case .pending: .pending
        case .processing: .processing
        case .indexed: .indexed
        case .noFaces: .noFaces
        case .failed: .failed
        case .deleted: .deleted
        }
    }

    public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
        case pending, processing, indexed, noFaces = "no_faces", failed, deleted
    }
}

/// Why processing a photo failed, and whether trying again can help.
public struct PhotoFailure: Hashable, Sendable, Codable, CustomStringConvertible {
    public var code: FailureCode
    public var message: String
    /// `true` for throttling, outages, crashes; `false` when the input itself is bad (retrying cannot help).
    public var retryable: Bool

    public init(code: FailureCode, message: String, retryable: Bool) {
        self.code = code
        self.message = message
        self.retryable = retryable
    }

    public var description: String { "\(code.rawValue): \(message)\(retryable ? " (retryable)" : "")" }
}

/// A stable, machine-readable failure code (snake case), recorded on the photo and returned by the API.
public struct FailureCode: RawRepresentable, Hashable, Sendable, Codable, ExpressibleByStringLiteral {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public static let notAnImage: FailureCode = "not_an_image"
    public static let unsupportedFormat: FailureCode = "unsupported_format"
    public static let corruptImage: FailureCode = "corrupt_image"
    /// Decoded with libjpeg's corrupt-data warnings: not a photo without faces, a damaged file.
    public static let damagedImage: FailureCode = "damaged_image"
    /// The face service could not read the image (Rekognition's InvalidImageFormat, InvalidS3Object; the local
    /// engine's decoder); the message says why.
    public static let invalidImage: FailureCode = "invalid_image"
    public static let imageTooLarge: FailureCode = "image_too_large"
    public static let imageTooSmall: FailureCode = "image_too_small"
    public static let objectNotFound: FailureCode = "object_not_found"
    public static let contentChanged: FailureCode = "content_changed"
    public static let accessDenied: FailureCode = "access_denied"
    public static let throttled: FailureCode = "throttled"
    public static let serviceUnavailable: FailureCode = "service_unavailable"
    public static let setupError: FailureCode = "setup_error"
    public static let conflict: FailureCode = "conflict"
    public static let injectedFault: FailureCode = "injected_fault"
    public static let internalError: FailureCode = "internal_error"
}

/// A worker's claim on a photo while it processes it. Another worker may take over once it expires, or
/// at once when ``worker`` names a process that has exited (see ``WorkerIdentity/hasExited``).
public struct Lease: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The attempt that holds the photo (one per ``IngestionPipeline/ingest(_:)`` call).
    public var owner: String
    public var expiresAt: Date
    /// The process that holds it, when the pipeline was configured to say
    /// (``IngestionPipeline/Configuration/worker``).
    public var worker: WorkerIdentity?

    public init(owner: String, expiresAt: Date, worker: WorkerIdentity? = nil) {
        self.owner = owner
        self.expiresAt = expiresAt
        self.worker = worker
    }

    /// Whether the lease still protects the photo at `now`: not expired, and its process not known to be gone.
    public func isLive(at now: Date) -> Bool {
        expiresAt > now && !(worker?.hasExited ?? false)
    }

    public var description: String {
        "held by \(worker.map(\.description) ?? "attempt \(owner)") until \(expiresAt.formatted(.iso8601))"
    }
}

/// A face that was found but not grouped.
public struct SkippedFace: Hashable, Sendable, Codable {
    public var boundingBox: BoundingBox
    public var confidence: Double
    public var reason: SkipReason

    public init(boundingBox: BoundingBox, confidence: Double, reason: SkipReason) {
        self.boundingBox = boundingBox
        self.confidence = confidence
        self.reason = reason
    }

    public enum SkipReason: String, Hashable, Sendable, Codable {
        case tooSmall = "too_small"
        case lowConfidence = "low_confidence"
        case lowQuality = "low_quality"
        case exceedsMaxFaces = "exceeds_max_faces"
    }
}
