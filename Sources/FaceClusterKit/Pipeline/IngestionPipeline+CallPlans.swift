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
    /// People whose vectors matched (the ``CallPlan/users`` plan only).
    var people: [PersonMatch] = []
}

extension IngestionPipeline {
    /// The cheap plan: one `indexFaces` on the whole photo, then `searchFaces(matching:)` per kept face,
    /// concurrently.
    func indexedPlan(_ run: inout PhotoRun, data: Data, info: ImageInfo) async throws -> [CandidateFace] {
        let (kept, crops) = try await indexWholePhoto(&run, data: data, info: info)
        let options = configuration.policy.searchOptions
        let matches = try await concurrentMap(kept, limit: configuration.faceConcurrency) { [index] face in
            try await index.searchFaces(matching: face.faceID, options: options)
        }
        return kept.indices.map { CandidateFace(faceID: kept[$0].faceID, face: kept[$0].face, thumbnail: crops[$0], matches: matches[$0]) }
    }

    /// The ``CallPlan/users`` plan: the indexed plan's `indexFaces`, then per kept face a search among people;
    /// a face that matched no person also searches single faces (concurrent workers may be grouping that
    /// person right now, before their faces join its vector).
    func usersPlan(_ run: inout PhotoRun, data: Data, info: ImageInfo) async throws -> [CandidateFace] {
        let people = try personVectors()
        let (kept, crops) = try await indexWholePhoto(&run, data: data, info: info)
        let options = configuration.policy.searchOptions
        let found = try await concurrentMap(kept, limit: configuration.faceConcurrency) { face -> ([PersonMatch], [FaceMatch]) in
            let matches = try await people.searchPeople(matching: face.faceID, options: options)
            return matches.isEmpty ? ([], try await people.searchFaces(matching: face.faceID, options: options)) : (matches, [])
        }
        return kept.indices.map {
            CandidateFace(faceID: kept[$0].faceID, face: kept[$0].face, thumbnail: crops[$0], matches: found[$0].1, people: found[$0].0)
        }
    }

    /// The index as a ``PersonVectorIndex``, or a set-up error naming what is missing.
    func personVectors() throws -> any PersonVectorIndex {
        guard let people = index as? any PersonVectorIndex else {
            throw FaceServiceError.setup(detail: "the users call plan needs a face index with person vectors (such as Rekognition users); \(type(of: index)) has none")
        }
        return people
    }

    /// Adds each grouped face to its person's vector (``CallPlan/users``), creating the vectors of new people.
    /// Repeats safely after a crash: associating a face twice changes nothing.
    func associateWithPeople(_ appearances: [Appearance]) async throws {
        let people = try personVectors()
        _ = try await concurrentMap(appearances, limit: configuration.faceConcurrency) { appearance in
            try await people.associate([appearance.faceID], with: appearance.personID, creatingPerson: appearance.foundedPerson)
        }
    }

    /// `indexFaces` on the whole photo, the policy's filter (dropped faces are deleted from the index again;
    /// deletes are not billed), a checkpoint of the kept face ids, and the kept faces' thumbnails.
    private func indexWholePhoto(_ run: inout PhotoRun, data: Data, info: ImageInfo) async throws -> ([IndexedFace], [Data]) {
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
        guard !kept.isEmpty else { return ([], []) }
        return (kept, try await cropper.thumbnails(of: data, boxes: kept.map(\.face.boundingBox), spec: configuration.thumbnailSpec))
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
public func concurrentMap<Element: Sendable, Result: Sendable>(
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
