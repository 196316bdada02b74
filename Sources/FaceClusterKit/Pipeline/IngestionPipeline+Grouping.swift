/// The outcome of grouping one photo's faces.
struct Grouping: Sendable {
    var appearances: [Appearance]
    var newPeople: [PersonID]
    var matchedPeople: [PersonID]
}

extension IngestionPipeline {
    /// Who each face is, decided once: a face that already has an appearance (an earlier attempt wrote it)
    /// keeps it; the others take the best-scoring person not already taken by another face of the photo,
    /// best score first; the rest found new people.
    struct Assignment: Sendable {
        var personID: PersonID
        var matchedFaceID: FaceID?
        var similarity: Double?
        var isNew: Bool { matchedFaceID == nil }
    }

    /// How well a face matches a person, on the evidence of several of the person's faces:
    /// - a person of two or more faces: the mean of the face's two best similarities to that person's faces —
    ///   it must match at least two of them, and the mean must reach ``GroupingPolicy/faceMatchThreshold``;
    /// - a person of one face: that similarity, which must reach ``GroupingPolicy/singleFaceMatchThreshold``.
    /// `nil` when the evidence is not enough. Matches are those at or above the review threshold.
    static func score(_ similarities: [Double], personFaces: Int, policy: GroupingPolicy) -> Double? {
        let best = similarities.sorted(by: >)
        guard let first = best.first else { return nil }
        if personFaces <= 1 { return first >= policy.singleFaceMatchThreshold ? first : nil }
        guard best.count >= 2 else { return nil }
        let mean = (best[0] + best[1]) / 2
        return mean >= policy.faceMatchThreshold ? mean : nil
    }

    func group(_ candidates: [CandidateFace], in run: inout PhotoRun) async throws -> Grouping {
        guard !candidates.isEmpty else { return Grouping(appearances: [], newPeople: [], matchedPeople: []) }
        let policy = configuration.policy
        let ownFaces = Set(candidates.map(\.faceID))
        // Every match at or above the review threshold is an edge of the face graph.
        try await metadata.recordEdges(candidates.flatMap { candidate in
            candidate.matches.filter { !ownFaces.contains($0.faceID) }.map { FaceEdge(candidate.faceID, $0.faceID, similarity: $0.similarity) }
        })
        let earlier = try await metadata.appearances(ofFaces: Array(ownFaces))
        let matchedFaces = Set(candidates.flatMap { $0.matches.map(\.faceID) }).subtracting(ownFaces)
        let known = try await metadata.appearances(ofFaces: Array(matchedFaces).sorted())
        var faceCounts: [PersonID: Int] = [:]
        for person in Set(known.values.map(\.personID)).sorted() {
            faceCounts[person] = try await metadata.person(person)?.faceCount ?? 0
        }

        var assignments: [FaceID: Assignment] = [:]
        var taken = Set<PersonID>()
        for (faceID, appearance) in earlier {
            assignments[faceID] = Assignment(personID: appearance.personID, matchedFaceID: appearance.matchedFaceID, similarity: appearance.similarity)
            taken.insert(appearance.personID)
        }
        var options: [(face: FaceID, person: PersonID, via: FaceID, similarity: Double)] = []
        for candidate in candidates where assignments[candidate.faceID] == nil {
            var byPerson: [PersonID: [FaceMatch]] = [:]
            for match in candidate.matches {
                guard let person = known[match.faceID]?.personID else { continue }
                byPerson[person, default: []].append(match)
            }
            for (person, matches) in byPerson {
                // The seed plan indexes only the face that founded a person: one face of theirs can match.
                let evidence = configuration.callPlan == .seed ? 1 : faceCounts[person] ?? 0
                guard let score = Self.score(matches.map(\.similarity), personFaces: evidence, policy: policy),
                      let via = matches.max(by: { $0.similarity < $1.similarity })
                else { continue }
                options.append((candidate.faceID, person, via.faceID, score))
            }
            // A person's vector matched (the users plan): the person, after merges, matched through its cover face.
            for match in candidate.people where match.similarity >= policy.faceMatchThreshold {
                guard let person = try await metadata.person(match.personID), let cover = person.coverFaceID else { continue }
                options.append((candidate.faceID, person.id, cover, match.similarity))
            }
        }
        options.sort { a, b in
            a.similarity != b.similarity ? a.similarity > b.similarity
                : a.face != b.face ? a.face < b.face : a.person < b.person
        }
        for option in options where assignments[option.face] == nil && !taken.contains(option.person) {
            assignments[option.face] = Assignment(personID: option.person, matchedFaceID: option.via, similarity: option.similarity)
            taken.insert(option.person)
        }
        for candidate in candidates where assignments[candidate.faceID] == nil {
            assignments[candidate.faceID] = Assignment(personID: .founded(by: candidate.faceID))
        }

        // Checkpoint the thumbnails about to be written; remove those an interrupted attempt wrote elsewhere.
        let prefix = configuration.thumbnailPrefix
        let keys = candidates.map { earlier[$0.faceID]?.thumbnailKey ?? "\(prefix)\(assignments[$0.faceID]!.personID.rawValue)/\($0.faceID.rawValue).jpg" }
        let leftovers = Set(run.claimed?.thumbnailKeys ?? []).subtracting(keys)
        run.claimed?.thumbnailKeys = keys
        try await checkpoint(&run)
        for key in leftovers.sorted() { try await thumbnails.delete(key) }
        let appearances = try await write(candidates, assignments: assignments, skipping: Set(earlier.keys), in: run)
        // Faces that matched, strongly enough to join, a face still without a person: another worker is
        // grouping it right now.
        let unassigned = Dictionary(uniqueKeysWithValues: candidates.map { candidate in
            (candidate.faceID, candidate.matches
                .filter { $0.similarity >= policy.singleFaceMatchThreshold && matchedFaces.contains($0.faceID) && known[$0.faceID] == nil }
                .map(\.faceID))
        })
        try await reconcile(appearances, unassignedMatches: unassigned)
        return Grouping(
            appearances: appearances,
            newPeople: appearances.filter(\.foundedPerson).map(\.personID),
            matchedPeople: appearances.filter { !$0.foundedPerson }.map(\.personID))
    }

    /// Writes each face's thumbnail, then its appearance (creating the person it founds). The thumbnail goes
    /// first so an appearance never points at a missing thumbnail.
    private func write(
        _ candidates: [CandidateFace], assignments: [FaceID: Assignment], skipping recorded: Set<FaceID>, in run: PhotoRun
    ) async throws -> [Appearance] {
        let now = clock.now()
        let addedAt = run.claimed?.addedAt ?? now
        let prefix = configuration.thumbnailPrefix
        let writes = try await concurrentMap(candidates, limit: configuration.faceConcurrency) {
            [thumbnails, metadata, photoID = run.photoID] candidate -> Appearance in
            let assignment = assignments[candidate.faceID]!
            let key = "\(prefix)\(assignment.personID.rawValue)/\(candidate.faceID.rawValue).jpg"
            let appearance = Appearance(
                faceID: candidate.faceID, personID: assignment.personID, photoID: photoID,
                boundingBox: candidate.face.boundingBox, thumbnailKey: key, confidence: candidate.face.confidence,
                matchedFaceID: assignment.matchedFaceID, similarity: assignment.similarity, photoAddedAt: addedAt)
            if recorded.contains(candidate.faceID) {
                return try await metadata.appearances(ofFaces: [candidate.faceID])[candidate.faceID] ?? appearance
            }
            try await thumbnails.put(candidate.thumbnail, at: key, contentType: "image/jpeg")
            let person = assignment.isNew
                ? Person(id: assignment.personID, coverFaceID: candidate.faceID, coverThumbnailKey: key, createdAt: now, updatedAt: now)
                : nil
            return try await metadata.addAppearance(appearance, newPerson: person).appearance
        }
        return writes
    }

    /// Merges people that concurrent workers founded for the same person.
    ///
    /// A face that matched a face still without a person (another worker is grouping it) leaves a note on
    /// it, then looks again; the worker that records a face reads the notes left on it. Each side writes before
    /// it reads, so at least one of them sees the other. The two people are merged when either face founded
    /// its person — had the faces been grouped one after the other, the later one would have joined the
    /// earlier one's person. Two people that both existed before are not merged on one match.
    private func reconcile(_ appearances: [Appearance], unassignedMatches: [FaceID: [FaceID]]) async throws {
        for appearance in appearances {
            for note in try await metadata.pendingMatches(for: appearance.faceID)
            where appearance.foundedPerson || note.matcherFoundedPerson {
                try await mergeDuplicates(appearance.personID, note.matchedBy)
            }
            let waiting = unassignedMatches[appearance.faceID] ?? []
            guard !waiting.isEmpty else { continue }
            for face in waiting {
                try await metadata.recordPendingMatch(
                    PendingMatch(face: face, matchedBy: appearance.personID, matcherFoundedPerson: appearance.foundedPerson))
            }
            for (_, other) in try await metadata.appearances(ofFaces: waiting) where other.foundedPerson || appearance.foundedPerson {
                try await mergeDuplicates(appearance.personID, other.personID)
            }
        }
    }

    /// Merges two people into the one created first (ties: the smaller id), unless they share a photo.
    private func mergeDuplicates(_ first: PersonID, _ second: PersonID) async throws {
        guard let a = try await metadata.person(first), let b = try await metadata.person(second), a.id != b.id else { return }
        let (survivor, absorbed) = a.precedes(b) ? (a, b) : (b, a)
        do {
            _ = try await metadata.mergePeople(absorbed.id, into: survivor.id, requireDisjointPhotos: true)
        } catch MetadataStoreError.peopleShareAPhoto, MetadataStoreError.personNotFound {
            // Two people after all (they share a photo), or one was deleted meanwhile: nothing to merge.
        }
    }
}
