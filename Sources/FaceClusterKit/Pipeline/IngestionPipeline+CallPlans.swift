#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A face that will be grouped: its id, what was detected, its thumbnail and the faces it matched.
struct CandidateFace: Sendable {
    var faceID: FaceID
    var face: DetectedFace
    var thumbnail: Data
    var matches: [FaceMatch]
}

extension IngestionPipeline {
    /// The cheap plan: one `indexFaces` on the whole photo, then `searchFaces(matching:)` per kept face,
    /// concurrently. Faces the policy drops are deleted from the index again (deletes are not billed).
    func indexedPlan(_ run: inout PhotoRun, data: Data, info: ImageInfo) async throws -> [CandidateFace] {
        let policy = configuration.policy
        let result = try await index.indexFaces(
            in: ImageInput(data: data, reference: run.reference), externalImageID: run.photoID.rawValue,
            options: IndexOptions(maxFaces: policy.maxFacesPerPhoto, qualityFilter: policy.qualityFilter))
        var skipped = result.unindexed.map { unindexed in
            SkippedFace(
                boundingBox: unindexed.face.boundingBox, confidence: unindexed.face.confidence,
                reason: unindexed.reasons.contains("EXCEEDS_MAX_FACES") ? .exceedsMaxFaces : .lowQuality)
        }
        var kept: [IndexedFace] = []
        var dropped: [FaceID] = []
        for indexed in result.indexed {
            if let reason = policy.skipReason(for: indexed.face, width: info.width, height: info.height) {
                skipped.append(SkippedFace(boundingBox: indexed.face.boundingBox, confidence: indexed.face.confidence, reason: reason))
                dropped.append(indexed.faceID)
            } else {
                kept.append(indexed)
            }
        }
        if !dropped.isEmpty { try await index.deleteFaces(dropped) }
        run.claimed?.faceIDs = kept.map(\.faceID)
        run.claimed?.indexedContentTag = run.contentTag
        run.claimed?.skippedFaces = skipped
        try await checkpoint(&run)
        guard !kept.isEmpty else { return [] }

        let crops = try await cropper.thumbnails(of: data, boxes: kept.map(\.face.boundingBox), spec: configuration.thumbnailSpec)
        let options = policy.searchOptions
        let matches = try await concurrentMap(kept, limit: configuration.faceConcurrency) { [index] face in
            try await index.searchFaces(matching: face.faceID, options: options)
        }
        return kept.indices.map { CandidateFace(faceID: kept[$0].faceID, face: kept[$0].face, thumbnail: crops[$0], matches: matches[$0]) }
    }

    /// The reference design's plan: `detectFaces`, then per face (one after another) a search with its crop,
    /// and `indexFaces` of the crop when nothing matched (then, by default, a re-check search by the new face
    /// id: see ``Configuration/seedPlanRechecksNewFaces``). Faces that matched stay out of the index; they get
    /// an id derived from the photo and their position.
    func seedPlan(_ run: inout PhotoRun, data: Data, info: ImageInfo) async throws -> [CandidateFace] {
        let policy = configuration.policy
        let detected = try await detector.detectFaces(in: ImageInput(data: data, reference: run.reference))
        var skipped: [SkippedFace] = []
        var kept: [DetectedFace] = []
        for face in detected {
            if let reason = policy.skipReason(for: face, width: info.width, height: info.height) {
                skipped.append(SkippedFace(boundingBox: face.boundingBox, confidence: face.confidence, reason: reason))
            } else if kept.count >= policy.maxFacesPerPhoto {
                skipped.append(SkippedFace(boundingBox: face.boundingBox, confidence: face.confidence, reason: .exceedsMaxFaces))
            } else {
                kept.append(face)
            }
        }
        run.claimed?.skippedFaces = skipped
        guard !kept.isEmpty else { return [] }

        var spec = configuration.thumbnailSpec
        spec.size = max(spec.size, Self.minimumImageSide)
        let crops = try await cropper.thumbnails(of: data, boxes: kept.map(\.boundingBox), spec: spec)
        var candidates: [CandidateFace] = []
        for (position, face) in kept.enumerated() {
            let crop = ImageInput(data: crops[position], subject: face)
            let externalImageID = "\(run.photoID.rawValue):\(position)"
            var matches = try await index.searchFaces(byImage: crop, options: policy.searchOptions).matches
            // A crop indexed by an earlier attempt at this photo finds itself: it is this face, not a match.
            let earlier = matches.first { $0.externalImageID == externalImageID }
            matches.removeAll { $0.externalImageID == externalImageID }
            var faceID = earlier?.faceID ?? FaceID(
                rawValue: "\(run.photoID.rawValue)-\(Base32.digest(of: (run.contentTag ?? "") + "\u{0}\(position)", characters: 16))")
            if matches.isEmpty {
                if earlier == nil {
                    let indexed = try await index.indexFaces(
                        in: crop, externalImageID: externalImageID, options: IndexOptions(maxFaces: 1, qualityFilter: .none))
                    faceID = indexed.indexed.first?.faceID ?? faceID
                }
                if configuration.seedPlanRechecksNewFaces {
                    // Faces indexed meanwhile by concurrent workers are visible now (see the configuration).
                    matches = try await index.searchFaces(matching: faceID, options: policy.searchOptions)
                }
            }
            candidates.append(CandidateFace(faceID: faceID, face: face, thumbnail: crops[position], matches: matches))
        }
        run.claimed?.faceIDs = candidates.map(\.faceID)
        run.claimed?.indexedContentTag = run.contentTag
        try await checkpoint(&run)
        return candidates
    }
}

/// `transform` applied to every element with at most `limit` running at once; results in input order.
func concurrentMap<Element: Sendable, Result: Sendable>(
    _ elements: [Element], limit: Int, _ transform: @escaping @Sendable (Element) async throws -> Result
) async throws -> [Result] {
    try await withThrowingTaskGroup(of: (Int, Result).self) { group in
        var results = [Result?](repeating: nil, count: elements.count)
        var next = 0
        func startNext() {
            guard next < elements.count else { return }
            let position = next
            group.addTask { (position, try await transform(elements[position])) }
            next += 1
        }
        for _ in 0..<max(1, limit) { startNext() }
        while let (position, result) = try await group.next() {
            results[position] = result
            startNext()
        }
        return results.map { $0! }
    }
}
