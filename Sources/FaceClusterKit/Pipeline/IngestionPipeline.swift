#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Turns stored photos into people: claim → read → detect → filter → crop → match → assign → write →
/// mark done, for one photo or a batch.
///
/// The rules it keeps (details in `Docs/architecture.md`):
/// - **Idempotent.** The photo id derives from its location; re-delivering an event for content that was
///   processed changes nothing; content that changed is reprocessed and its old faces removed.
/// - **Crash-safe.** Nothing is marked done before it is done. Every step can be repeated: the index returns
///   the same faces for the same content, a person founded by a face has an id derived from that face, and an
///   appearance is written only if its face has none. A retry after a crash at any step completes the work.
/// - **One person per person.** Two faces of one photo never join the same person. Concurrent workers that
///   each found a person for the same new face leave a note for each other and merge the duplicates
///   into the older person.
/// - **Typed failures.** Every failure is a ``PhotoFailure`` recorded on the photo and returned in the
///   ``IngestionReport``; ``ingest(_:)`` never throws.
///
/// Costs per photo of N grouped faces: see ``CallPlan``. Metadata: about 5 + 2N requests.
public struct IngestionPipeline: Sendable {
    /// How the pipeline behaves. The defaults suit most photo libraries.
    public struct Configuration: Sendable, Hashable {
        public var policy: GroupingPolicy
        public var callPlan: CallPlan
        public var thumbnailSpec: ThumbnailSpec
        /// Thumbnails go to `<thumbnailPrefix><personId>/<faceId>.jpg` in the thumbnail store.
        public var thumbnailPrefix: String
        /// How long a claim protects a photo from other workers; longer than one photo can take
        /// (15 minutes: the longest a Lambda invocation runs). See also ``leaseDeadline``.
        public var leaseDuration: Duration
        /// When set, every claim ends at this moment instead of ``leaseDuration`` after it: a Lambda sets its
        /// invocation's deadline plus a small margin, so a photo whose invocation died (timeout, out of memory)
        /// is free again as soon as the queue redelivers its message.
        public var leaseDeadline: Date?
        /// Recorded in each lease, so others can tell which process holds a photo (``Lease/worker``).
        public var worker: WorkerIdentity?
        /// Take over at once a photo whose lease names a process that has exited on this machine
        /// (``WorkerIdentity/hasExited``) — what a local library wants after a crash or `kill -9`. Off by
        /// default: a process id means nothing across machines or Lambda sandboxes, where the expiry rules.
        public var reclaimsLeasesOfExitedProcesses: Bool
        /// Concurrent face searches and writes within one photo.
        public var faceConcurrency: Int
        /// In the ``CallPlan/seed`` plan, search again by face id right after indexing a face that matched
        /// nobody (one more call per new face). The reference design searches only before indexing, so two
        /// workers grouping photos of the same new person at the same moment can each miss the other and
        /// found that person twice; the re-check closes that race. Turn it off only to reproduce the reference
        /// design's exact call plan (1 + N … 1 + 2N calls).
        public var seedPlanRechecksNewFaces: Bool
        /// Photo files larger than this are refused from their size, before they are read, as
        /// ``ImageError/overBudget(detail:)`` (`image_too_large`). 1 GiB by default: a 100 MP photo (the pixel
        /// limit) at JPEG's highest quality in CMYK is about 400 MB; more is data appended to a photo (a
        /// 20 GB sparse file named `.jpg` took 99 s and 21 GB of page cache to be found a photo of one face).
        public var maximumPhotoBytes: Int

        public init(
            policy: GroupingPolicy = GroupingPolicy(), callPlan: CallPlan = .indexed,
            thumbnailSpec: ThumbnailSpec = ThumbnailSpec(), thumbnailPrefix: String = "people/",
            leaseDuration: Duration = .seconds(900), leaseDeadline: Date? = nil, worker: WorkerIdentity? = nil,
            reclaimsLeasesOfExitedProcesses: Bool = false, faceConcurrency: Int = 16, seedPlanRechecksNewFaces: Bool = true,
            maximumPhotoBytes: Int = 1 << 30
        ) {
            self.policy = policy
            self.callPlan = callPlan
            self.thumbnailSpec = thumbnailSpec
            self.thumbnailPrefix = thumbnailPrefix
            self.leaseDuration = leaseDuration
            self.leaseDeadline = leaseDeadline
            self.worker = worker
            self.reclaimsLeasesOfExitedProcesses = reclaimsLeasesOfExitedProcesses
            self.faceConcurrency = faceConcurrency
            self.seedPlanRechecksNewFaces = seedPlanRechecksNewFaces
            self.maximumPhotoBytes = maximumPhotoBytes
        }
    }

    /// The smallest side, in pixels, of an image a face service accepts (Rekognition: 80 × 80).
    public static let minimumImageSide = 80

    public let photos: any PhotoStore
    public let thumbnails: any PhotoStore
    public let detector: any FaceDetector
    public let index: any FaceIndex
    public let metadata: any MetadataStore
    public let cropper: any ThumbnailCropper
    public let clock: any WallClock
    public let configuration: Configuration

    /// - Parameters:
    ///   - photos: where photos are read (the raw bucket, a folder).
    ///   - thumbnails: where face thumbnails are written (the processed bucket); may be the same store.
    ///   - detector: used by the ``CallPlan/seed`` plan only.
    public init(
        photos: any PhotoStore, thumbnails: any PhotoStore, detector: any FaceDetector, index: any FaceIndex,
        metadata: any MetadataStore, cropper: any ThumbnailCropper, clock: any WallClock = SystemWallClock(),
        configuration: Configuration = Configuration()
    ) {
        self.photos = photos
        self.thumbnails = thumbnails
        self.detector = detector
        self.index = index
        self.metadata = metadata
        self.cropper = cropper
        self.clock = clock
        self.configuration = configuration
    }

    /// Ingests the photo at `key` in ``photos``.
    public func ingest(key: String) async -> IngestionReport {
        await ingest(PhotoReference(store: photos.location, key: key))
    }

    /// Ingests a batch, at most `maxConcurrency` photos at a time; reports come back in input order.
    public func ingest(_ references: [PhotoReference], maxConcurrency: Int = 4) async -> [IngestionReport] {
        // `ingest(_:)` never throws, so neither does the map.
        (try? await concurrentMap(references, limit: maxConcurrency) { await ingest($0) }) ?? []
    }

    /// Ingests one photo. Never throws: a failure is recorded on the photo and returned in the report.
    ///
    /// Cancelling the task stops the work at the next step and hands the photo back (``IngestionReport/Outcome/interrupted``):
    /// what was done is kept, and the next attempt resumes from there.
    public func ingest(_ reference: PhotoReference) async -> IngestionReport {
        let started = ContinuousClock.now
        var run = PhotoRun(reference: reference, attemptID: UUID().uuidString.lowercased())
        var report: IngestionReport
        do {
            report = try await process(&run)
        } catch where Task.isCancelled {
            await release(&run)
            report = IngestionReport(photoID: run.photoID, reference: reference, outcome: .interrupted)
        } catch {
            let failure = PhotoFailure(error)
            await record(failure, on: &run)
            report = IngestionReport(photoID: run.photoID, reference: reference, outcome: .failed(failure))
        }
        report.duration = ContinuousClock.now - started
        return report
    }

    /// The state of one attempt at one photo.
    struct PhotoRun {
        let reference: PhotoReference
        let photoID: PhotoID
        /// Identifies this attempt in the photo's lease.
        let attemptID: String
        var contentTag: String?
        /// The photo record as this attempt last wrote it, once claimed.
        var claimed: Photo?

        init(reference: PhotoReference, attemptID: String) {
            self.reference = reference
            self.photoID = PhotoID(reference)
            self.attemptID = attemptID
        }
    }

    private func process(_ run: inout PhotoRun) async throws -> IngestionReport {
        let head = try await photos.head(run.reference.key)
        run.contentTag = head.eTag
        switch try await claim(&run) {
        case .skip(let reason):
            return IngestionReport(photoID: run.photoID, reference: run.reference, outcome: .skipped(reason))
        case .heldElsewhere(let lease):
            return IngestionReport(photoID: run.photoID, reference: run.reference, outcome: .inProgressElsewhere(lease))
        case .claimed:
            break
        }
        try Task.checkCancellation()
        try await removeStaleFaces(&run)

        guard head.size <= configuration.maximumPhotoBytes else {
            throw ImageError.overBudget(detail: "a file of \(head.size / 1_048_576) MB (the limit is \(configuration.maximumPhotoBytes / 1_048_576) MB)")
        }
        let object = try await photos.get(run.reference.key)
        try Task.checkCancellation()
        guard object.info.eTag == head.eTag else {
            throw IngestionError.contentChanged(key: run.reference.key)
        }
        let candidates: [CandidateFace]
        do {
            let info = try cropper.imageInfo(of: object.data)
            guard min(info.width, info.height) >= Self.minimumImageSide else {
                throw ImageError.tooSmall(width: info.width, height: info.height, minimum: Self.minimumImageSide)
            }
            run.claimed?.width = info.width
            run.claimed?.height = info.height
            run.claimed?.orientation = info.orientation

            candidates = switch configuration.callPlan {
            case .indexed: try await indexedPlan(&run, data: object.data, info: info)
            case .seed: try await seedPlan(&run, data: object.data, info: info)
            case .users: try await usersPlan(&run, data: object.data, info: info)
            }
            // The photo's last read is done (the thumbnails are cut): a big local file, mapped rather than read
            // (MappedFile), may have been written in place meanwhile, and what was read is then not the photo
            // whose tag was checked. Whatever failed then failed for that reason.
            try MappedFile.checkIntact(object.data)
        } catch where MappedFile.hasChanged(object.data) {
            throw ImageError.changedWhileRead
        }
        try Task.checkCancellation()
        let grouping = try await group(candidates, in: &run)
        if configuration.callPlan == .users { try await associateWithPeople(grouping.appearances) }
        try Task.checkCancellation()
        return try await markDone(&run, grouping: grouping)
    }

    private func markDone(_ run: inout PhotoRun, grouping: Grouping) async throws -> IngestionReport {
        guard var photo = run.claimed else { throw IngestionError.notClaimed }
        photo.thumbnailKeys = nil
        photo.status = grouping.appearances.isEmpty ? .noFaces : .indexed
        photo.faceIDs = grouping.appearances.map(\.faceID)
        photo.indexedContentTag = run.contentTag
        photo.lease = nil
        photo.updatedAt = clock.now()
        do {
            run.claimed = try await metadata.savePhoto(photo, expectedRevision: photo.revision)
        } catch MetadataStoreError.conditionFailed {
            return IngestionReport(photoID: run.photoID, reference: run.reference, outcome: .skipped(.superseded))
        }
        var report = IngestionReport(
            photoID: run.photoID, reference: run.reference,
            outcome: grouping.appearances.isEmpty ? .noFaces : .indexed,
            faceCount: grouping.appearances.count, skippedFaceCount: photo.skippedFaces.count,
            newPeople: grouping.newPeople, matchedPeople: grouping.matchedPeople)
        report.faceIDs = grouping.appearances.map(\.faceID)
        return report
    }

    /// Records `failure` on the photo: on the claimed record when this attempt holds it; on a new record
    /// when the photo has none yet (so no photo is lost); never over another worker's or a finished record.
    private func record(_ failure: PhotoFailure, on run: inout PhotoRun) async {
        let now = clock.now()
        if var photo = run.claimed {
            if !failure.retryable, !photo.faceIDs.isEmpty || !(photo.thumbnailKeys ?? []).isEmpty {
                // The photo will not be tried again for this content: take out what this attempt already put in.
                let appearances = (try? await metadata.appearances(inPhoto: photo.id)) ?? []
                if (try? await FaceRemoval(index: index, thumbnails: thumbnails, metadata: metadata)
                    .remove(appearances, alsoIndexed: photo.faceIDs)) != nil {
                    for key in photo.thumbnailKeys ?? [] { try? await thumbnails.delete(key) }
                    photo.faceIDs = []
                    photo.thumbnailKeys = nil
                    photo.indexedContentTag = nil
                }
            }
            photo.status = .failed(failure)
            photo.lease = nil
            photo.updatedAt = now
            _ = try? await metadata.savePhoto(photo, expectedRevision: photo.revision)
        } else if (try? await metadata.photo(run.photoID)) == .some(nil) {
            let photo = Photo(
                id: run.photoID, reference: run.reference, status: .failed(failure), contentTag: run.contentTag ?? "",
                addedAt: now, updatedAt: now)
            _ = try? await metadata.savePhoto(photo, expectedRevision: nil)
        }
    }

    /// Saves the claimed record (a checkpoint), conditional on this attempt still owning it.
    func checkpoint(_ run: inout PhotoRun) async throws {
        guard var photo = run.claimed else { throw IngestionError.notClaimed }
        photo.updatedAt = clock.now()
        run.claimed = try await metadata.savePhoto(photo, expectedRevision: photo.revision)
    }
}

/// Failures of the pipeline's own making.
public enum IngestionError: Error, Hashable, Sendable, CustomStringConvertible, PhotoFailureConvertible {
    /// The object changed between the event and the read; the newer event processes the new content.
    case contentChanged(key: String)
    /// Internal: a step ran without a claim.
    case notClaimed

    public var description: String {
        switch self {
        case .contentChanged(let key): "'\(key)' changed while it was being processed"
        case .notClaimed: "the photo was not claimed"
        }
    }

    public var photoFailure: PhotoFailure {
        switch self {
        case .contentChanged: PhotoFailure(code: .contentChanged, message: description, retryable: true)
        case .notClaimed: PhotoFailure(code: .internalError, message: description, retryable: true)
        }
    }
}
