#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension IngestionPipeline {
    enum ClaimResult {
        case claimed
        case skip(IngestionReport.SkipReason)
        /// Another worker holds a live lease: the photo is not done, try again after the lease.
        case heldElsewhere(Lease)
    }

    /// Takes the photo for this attempt with a compare-and-set on its revision, or says why not.
    ///
    /// | stored record | same content | other content |
    /// | --- | --- | --- |
    /// | none | claim | claim |
    /// | indexed, noFaces, permanent failure | skip (already processed) | claim |
    /// | deleted | skip (deleted) | claim |
    /// | processing, lease live | held elsewhere (retry later) | held elsewhere (retry later) |
    /// | processing with an expired lease or an exited holder, retryable failure, pending | claim | claim |
    ///
    /// A lease is live until it expires (``Configuration/leaseDuration`` after the claim, or
    /// ``Configuration/leaseDeadline``), unless ``Configuration/reclaimsLeasesOfExitedProcesses`` is on and the
    /// process that holds it has exited (``WorkerIdentity/hasExited``).
    func claim(_ run: inout PhotoRun) async throws -> ClaimResult {
        guard let contentTag = run.contentTag else { throw IngestionError.notClaimed }
        for _ in 0..<8 {
            let now = clock.now()
            let lease = Lease(
                owner: run.attemptID,
                expiresAt: configuration.leaseDeadline ?? now.addingTimeInterval(configuration.leaseDuration.seconds),
                worker: configuration.worker)
            guard let existing = try await metadata.photo(run.photoID) else {
                let photo = Photo(
                    id: run.photoID, reference: run.reference, status: .processing, contentTag: contentTag,
                    addedAt: now, updatedAt: now, lease: lease)
                do {
                    run.claimed = try await metadata.savePhoto(photo, expectedRevision: nil)
                    return .claimed
                } catch MetadataStoreError.conditionFailed { continue }
            }
            let sameContent = existing.contentTag == contentTag
            switch existing.status {
            case .indexed where sameContent, .noFaces where sameContent: return .skip(.alreadyProcessed)
            // A permanent failure is not tried again on the same content, except access denied: a permission
            // fixed since changes no content tag (a file's mode is not its modification time), and a retry costs
            // one read.
            case .failed(let failure) where sameContent && !failure.retryable && failure.code != .accessDenied: return .skip(.alreadyProcessed)
            case .deleted where sameContent: return .skip(.deleted)
            case .processing:
                if let held = existing.lease, isLive(held, at: now) { return .heldElsewhere(held) }
            default: break
            }
            var photo = existing
            photo.status = .processing
            photo.contentTag = contentTag
            photo.reference = run.reference
            photo.lease = lease
            photo.updatedAt = now
            if existing.status == .deleted { photo.addedAt = now }
            do {
                run.claimed = try await metadata.savePhoto(photo, expectedRevision: existing.revision)
                return .claimed
            } catch MetadataStoreError.conditionFailed { continue }
        }
        throw MetadataStoreError.conditionFailed
    }

    /// Whether `lease` still protects its photo from this pipeline at `now` (see ``claim(_:)``).
    func isLive(_ lease: Lease, at now: Date) -> Bool {
        configuration.reclaimsLeasesOfExitedProcesses ? lease.isLive(at: now) : lease.expiresAt > now
    }

    /// Hands the photo back after this attempt was cancelled: status `pending`, no lease, so the next attempt
    /// claims it at once and resumes from the last checkpoint. Runs outside the cancelled task (a store may
    /// refuse work in a cancelled one); a lost race means someone else owns the photo already.
    func release(_ run: inout PhotoRun) async {
        guard var photo = run.claimed else { return }
        photo.status = .pending
        photo.lease = nil
        photo.updatedAt = clock.now()
        let saved = await Task { [metadata, photo] in
            try? await metadata.savePhoto(photo, expectedRevision: photo.revision)
        }.value
        if let saved { run.claimed = saved }
    }

    /// Removes the faces of an earlier version of the photo (overwritten content), if any remain.
    /// Runs again after a crash midway, because the record says which content its faces came from.
    func removeStaleFaces(_ run: inout PhotoRun) async throws {
        guard let photo = run.claimed else { throw IngestionError.notClaimed }
        guard let indexedTag = photo.indexedContentTag, indexedTag != photo.contentTag else { return }
        let appearances = try await metadata.appearances(inPhoto: photo.id)
        try await FaceRemoval(index: index, thumbnails: thumbnails, metadata: metadata)
            .remove(appearances, alsoIndexed: photo.faceIDs)
        run.claimed?.faceIDs = []
        run.claimed?.skippedFaces = []
        run.claimed?.indexedContentTag = nil
        try await checkpoint(&run)
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
