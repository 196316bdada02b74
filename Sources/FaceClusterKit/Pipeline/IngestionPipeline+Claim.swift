extension IngestionPipeline {
    enum ClaimResult {
        case claimed
        case skip(IngestionReport.SkipReason)
        /// Another worker holds a live lease on older content: try again later.
        case busy
    }

    /// Takes the photo for this attempt with a compare-and-set on its revision, or says why not.
    ///
    /// | stored record | same content | other content |
    /// | --- | --- | --- |
    /// | none | claim | claim |
    /// | indexed, noFaces, permanent failure | skip (already processed) | claim |
    /// | deleted | skip (deleted) | claim |
    /// | processing, lease live | skip (in progress) | busy (retry later) |
    /// | processing with an expired lease, retryable failure, pending | claim | claim |
    func claim(_ run: inout PhotoRun) async throws -> ClaimResult {
        guard let contentTag = run.contentTag else { throw IngestionError.notClaimed }
        for _ in 0..<8 {
            let now = clock.now()
            let lease = Lease(owner: run.attemptID, expiresAt: now.addingTimeInterval(configuration.leaseDuration.seconds))
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
            let leaseLive = existing.status == .processing && (existing.lease.map { $0.expiresAt > now } ?? false)
            switch existing.status {
            case .indexed where sameContent, .noFaces where sameContent: return .skip(.alreadyProcessed)
            case .failed(let failure) where sameContent && !failure.retryable: return .skip(.alreadyProcessed)
            case .deleted where sameContent: return .skip(.deleted)
            case .processing where leaseLive: return sameContent ? .skip(.inProgress) : .busy
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
