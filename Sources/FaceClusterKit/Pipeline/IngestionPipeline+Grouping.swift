/// The outcome of grouping one photo's faces.
struct Grouping: Sendable {
    var appearances: [Appearance]
    var newPeople: [PersonID]
    var matchedPeople: [PersonID]
}

extension IngestionPipeline {
    /// Who each face is, decided once: a face that already has an appearance (an earlier attempt wrote it)
    /// keeps it; the others take the best-matching person not already taken by another face of the photo,
    /// best similarity first; the rest found new people.
    struct Assignment: Sendable {
        var personID: PersonID
        var matchedFaceID: FaceID?
        var similarity: Double?
        var isNew: Bool { matchedFaceID == nil }
    }

    func group(_ candidates: [CandidateFace], in run: PhotoRun) async throws -> Grouping {
        guard !candidates.isEmpty else { return Grouping(appearances: [], newPeople: [], matchedPeople: []) }
        let ownFaces = Set(candidates.map(\.faceID))
        let earlier = try await metadata.appearances(ofFaces: Array(ownFaces))
        let matchedFaces = Set(candidates.flatMap { $0.matches.map(\.faceID) }).subtracting(ownFaces)
        let known = try await metadata.appearances(ofFaces: Array(matchedFaces).sorted())

        var assignments: [FaceID: Assignment] = [:]
        var taken = Set<PersonID>()
        for (faceID, appearance) in earlier {
            assignments[faceID] = Assignment(personID: appearance.personID, matchedFaceID: appearance.matchedFaceID, similarity: appearance.similarity)
            taken.insert(appearance.personID)
        }
        var options: [(face: FaceID, person: PersonID, via: FaceID, similarity: Double)] = []
        for candidate in candidates where assignments[candidate.faceID] == nil {
            var best: [PersonID: FaceMatch] = [:]
            for match in candidate.matches {
                guard let person = known[match.faceID]?.personID else { continue }
                if best[person].map({ match.similarity > $0.similarity }) ?? true { best[person] = match }
            }
            options += best.map { (candidate.faceID, $0.key, $0.value.faceID, $0.value.similarity) }
            // A person's vector matched (the users plan): the person, after merges, matched through its cover face.
            for match in candidate.people {
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

        let appearances = try await write(candidates, assignments: assignments, skipping: Set(earlier.keys), in: run)
        // Faces that matched a face still without a person: another worker is grouping it right now.
        let unassigned = Dictionary(uniqueKeysWithValues: candidates.map { candidate in
            (candidate.faceID, candidate.matches.map(\.faceID).filter { matchedFaces.contains($0) && known[$0] == nil })
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
