#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension DynamoDBMetadataStore {
    @discardableResult
    public func addAppearance(_ appearance: Appearance, newPerson: Person?) async throws -> AppearanceWrite {
        try await retrying {
            if let existing = try await dynamo.getItem(table: facesTable, key: Self.appearanceKey(appearance.faceID)) {
                return .alreadyRecorded(try Self.decode(Appearance.self, existing))
            }
            let (personID, item, chain) = try await resolve(appearance.personID)
            var person: Person
            let revision: Int
            if let item {
                person = try Self.decode(Person.self, item)
                revision = item["revision"]?.intValue ?? 0
            } else {
                guard var founded = newPerson, founded.id == appearance.personID, chain.isEmpty else {
                    throw MetadataStoreError.personNotFound(appearance.personID)
                }
                founded.photoCount = 0
                founded.faceCount = 0
                person = founded
                revision = 0
            }
            person.id = personID
            let counterKey = Self.counterKey(person: personID, photo: appearance.photoID)
            let faces = try await dynamo.getItem(table: facesTable, key: counterKey)?["faces"]?.intValue ?? 0
            var stored = appearance
            stored.personID = personID
            person.faceCount += 1
            if faces == 0 { person.photoCount += 1 }
            if person.coverFaceID == nil {
                person.coverFaceID = stored.faceID
                person.coverThumbnailKey = stored.thumbnailKey
            }
            do {
                try await dynamo.transactWrite([
                    .put(table: facesTable, item: Self.appearanceItem(stored), condition: DynamoDBExpression("attribute_not_exists(pk)")),
                    .put(table: peopleTable, item: Self.personItem(person, revision: revision + 1),
                         condition: revision == 0 ? DynamoDBExpression("attribute_not_exists(personId)") : Self.revisionIs(revision)),
                    .put(table: facesTable, item: counterKey.merging(["faces": .number(faces + 1)]) { $1 }, condition: Self.facesAre(faces)),
                ])
            } catch DynamoDBError.transactionCanceled(let reasons) where reasons.first == "ConditionalCheckFailed" {
                // Another attempt recorded this face meanwhile: read it back on the next turn.
                throw DynamoDBError.conditionalCheckFailed
            }
            return .added(stored)
        }
    }

    @discardableResult
    public func removeAppearance(of faceID: FaceID) async throws -> Appearance? {
        try await retrying {
            guard let item = try await dynamo.getItem(table: facesTable, key: Self.appearanceKey(faceID)) else { return nil }
            let appearance = try Self.decode(Appearance.self, item)
            let counterKey = Self.counterKey(person: appearance.personID, photo: appearance.photoID)
            let faces = try await dynamo.getItem(table: facesTable, key: counterKey)?["faces"]?.intValue ?? 0
            var actions: [DynamoDBClient.TransactionItem] = [
                .delete(table: facesTable, key: Self.appearanceKey(faceID), condition: DynamoDBExpression("attribute_exists(pk)")),
            ]
            if faces > 0 {
                actions.append(faces == 1
                    ? .delete(table: facesTable, key: counterKey, condition: Self.facesAre(faces))
                    : .put(table: facesTable, item: counterKey.merging(["faces": .number(faces - 1)]) { $1 }, condition: Self.facesAre(faces)))
            }
            if let personItem = try await dynamo.getItem(table: peopleTable, key: Self.personKey(appearance.personID)),
               personItem["mergedInto"] == nil {
                var person = try Self.decode(Person.self, personItem)
                let revision = personItem["revision"]?.intValue ?? 0
                person.faceCount -= 1
                if faces <= 1 { person.photoCount -= 1 }
                if person.faceCount <= 0 {
                    actions.append(.delete(table: peopleTable, key: Self.personKey(person.id), condition: Self.revisionIs(revision)))
                } else {
                    if person.coverFaceID == faceID {
                        let others = try await dynamo.query(
                            table: facesTable, index: "byPerson",
                            keyCondition: DynamoDBExpression("personId = :p", values: [":p": .string(person.id.rawValue)]), limit: 3)
                        let next = try others.items.map { try Self.decode(Appearance.self, $0) }.first { $0.faceID != faceID }
                        person.coverFaceID = next?.faceID
                        person.coverThumbnailKey = next?.thumbnailKey
                    }
                    person.updatedAt = clock.now()
                    actions.append(.put(table: peopleTable, item: try Self.personItem(person, revision: revision + 1), condition: Self.revisionIs(revision)))
                }
            }
            try await dynamo.transactWrite(actions)
            return appearance
        }
    }

    public func appearances(ofFaces faceIDs: [FaceID]) async throws -> [FaceID: Appearance] {
        let items = try await dynamo.batchGet(table: facesTable, keys: Array(Set(faceIDs)).map(Self.appearanceKey))
        return try Dictionary(items.map { try Self.decode(Appearance.self, $0) }.map { ($0.faceID, $0) }, uniquingKeysWith: { $1 })
    }

    public func appearances(inPhoto photoID: PhotoID) async throws -> [Appearance] {
        let items = try await allPages { start in
            try await dynamo.query(
                table: facesTable, index: "byPhoto", keyCondition: DynamoDBExpression("photoId = :p", values: [":p": .string(photoID.rawValue)]),
                startKey: start)
        }
        return try items.map { try Self.decode(Appearance.self, $0) }.sorted { $0.faceID < $1.faceID }
    }

    public func appearances(ofPerson personID: PersonID, page: PageRequest) async throws -> Page<Appearance> {
        let query = "person-photos:" + personID.rawValue
        let after = try page.cursor.map { try $0.position(for: query) }
        let resolved = try await resolve(personID).id
        var start: DynamoDBItem?
        if let after {
            guard after.count == 1, let separator = after[0].firstIndex(of: "#") else { throw MetadataStoreError.invalidCursor }
            let face = String(after[0][after[0].index(after: separator)...])
            start = Self.appearanceKey(FaceID(rawValue: face)).merging(["personId": .string(resolved.rawValue), "personRank": .string(after[0])]) { $1 }
        }
        let result = try await dynamo.query(
            table: facesTable, index: "byPerson", keyCondition: DynamoDBExpression("personId = :p", values: [":p": .string(resolved.rawValue)]),
            limit: page.limit, startKey: start)
        let appearances = try result.items.map { try Self.decode(Appearance.self, $0) }
        let next = result.lastKey.flatMap { $0["personRank"]?.stringValue }.map { PageCursor(query: query, position: [$0]) }
        return Page(items: appearances, nextCursor: next)
    }

    // MARK: Merging

    public func mergePeople(_ source: PersonID, into target: PersonID, requireDisjointPhotos: Bool) async throws -> Person {
        let from = try await resolve(source), into = try await resolve(target)
        guard let fromItem = from.item else { throw MetadataStoreError.personNotFound(source) }
        guard let intoItem = into.item else { throw MetadataStoreError.personNotFound(target) }
        if from.id == into.id {
            // Already one person; finish a merge a crash interrupted, if any faces still sit under an old id.
            let leftovers = try await moveAppearances(from: from.chain, into: into.id)
            return leftovers ? try await recount(into.id) : try Self.decode(Person.self, intoItem)
        }
        if requireDisjointPhotos {
            let shared = Set(try await photoIDs(of: from.id)).intersection(try await photoIDs(of: into.id))
            if !shared.isEmpty { throw MetadataStoreError.peopleShareAPhoto(from.id, into.id) }
        }
        // 1. The redirect first: writers to the source now land on the target.
        let sourcePerson = try Self.decode(Person.self, fromItem)
        let sourceRevision = fromItem["revision"]?.intValue ?? 0
        // In one transaction with a check that the target is still live: two merges racing in opposite
        // directions (their views of who is older can differ) can then never both succeed and form a cycle.
        do {
            try await dynamo.transactWrite([
                .put(table: peopleTable, item: Self.redirectItem(sourcePerson, into: into.id, revision: sourceRevision + 1),
                     condition: Self.revisionIs(sourceRevision)),
                .conditionCheck(
                    table: peopleTable, key: Self.personKey(into.id),
                    condition: DynamoDBExpression("attribute_exists(personId) AND attribute_not_exists(mergedInto)")),
            ])
        } catch DynamoDBError.transactionCanceled {
            // The source or the target changed meanwhile: start again from what they are now.
            try await Task.sleep(for: .milliseconds(Int.random(in: 1...20)))
            return try await mergePeople(source, into: target, requireDisjointPhotos: requireDisjointPhotos)
        }
        // 2. Move its faces and counters; 3. recount the target, taking the name and the earlier creation date.
        _ = try await moveAppearances(from: from.chain + [from.id], into: into.id)
        return try await recount(into.id, absorbing: sourcePerson)
    }

    /// Moves every appearance of the given (merged-away) people to `target`; whether there was any.
    func moveAppearances(from sources: [PersonID], into target: PersonID) async throws -> Bool {
        var moved = false
        for source in sources where source != target {
            while true {
                let batch = try await dynamo.query(
                    table: facesTable, index: "byPerson", keyCondition: DynamoDBExpression("personId = :p", values: [":p": .string(source.rawValue)]),
                    limit: 25)
                if batch.items.isEmpty { break }
                for item in batch.items {
                    try await move(try Self.decode(Appearance.self, item), from: source, into: target)
                    moved = true
                }
            }
        }
        return moved
    }

    private func move(_ appearance: Appearance, from source: PersonID, into requested: PersonID) async throws {
        try await retrying {
            // The target may itself have been merged away meanwhile: move into where it went, and make the
            // transaction check it is still a live person, so no face lands under a redirect.
            let resolved = try await resolve(requested)
            guard resolved.item != nil else { throw MetadataStoreError.personNotFound(requested) }
            let target = resolved.id
            guard target != source else { return }
            let fromKey = Self.counterKey(person: source, photo: appearance.photoID)
            let intoKey = Self.counterKey(person: target, photo: appearance.photoID)
            let fromFaces = try await dynamo.getItem(table: facesTable, key: fromKey)?["faces"]?.intValue ?? 0
            let intoFaces = try await dynamo.getItem(table: facesTable, key: intoKey)?["faces"]?.intValue ?? 0
            var moved = appearance
            moved.personID = target
            var actions: [DynamoDBClient.TransactionItem] = [
                .put(table: facesTable, item: try Self.appearanceItem(moved),
                     condition: DynamoDBExpression("personId = :from", values: [":from": .string(source.rawValue)])),
                .put(table: facesTable, item: intoKey.merging(["faces": .number(intoFaces + 1)]) { $1 }, condition: Self.facesAre(intoFaces)),
                .conditionCheck(
                    table: peopleTable, key: Self.personKey(target),
                    condition: DynamoDBExpression("attribute_exists(personId) AND attribute_not_exists(mergedInto)")),
            ]
            if fromFaces > 0 {
                actions.append(fromFaces == 1
                    ? .delete(table: facesTable, key: fromKey, condition: Self.facesAre(fromFaces))
                    : .put(table: facesTable, item: fromKey.merging(["faces": .number(fromFaces - 1)]) { $1 }, condition: Self.facesAre(fromFaces)))
            }
            do {
                try await dynamo.transactWrite(actions)
            } catch DynamoDBError.transactionCanceled(let reasons) where reasons.first == "ConditionalCheckFailed" {
                // Already moved (or removed) by someone else: nothing to do for this face.
            }
        }
    }

    /// Sets the person's counts from their person–photo counters (after a merge), following redirects.
    private func recount(_ requested: PersonID, absorbing absorbed: Person? = nil) async throws -> Person {
        try await retrying {
            let (id, found, _) = try await resolve(requested)
            guard let item = found else { throw MetadataStoreError.personNotFound(requested) }
            var person = try Self.decode(Person.self, item)
            let revision = item["revision"]?.intValue ?? 0
            let counters = try await allPages { start in
                try await dynamo.query(
                    table: facesTable, keyCondition: DynamoDBExpression("pk = :pk", values: [":pk": .string("personphoto#" + id.rawValue)]),
                    startKey: start, consistent: true)
            }
            person.photoCount = counters.count
            person.faceCount = counters.compactMap { $0["faces"]?.intValue }.reduce(0, +)
            if let absorbed {
                person.name = person.name ?? absorbed.name
                person.pinned = person.pinned || absorbed.pinned
                person.createdAt = min(person.createdAt, absorbed.createdAt)
            }
            person.updatedAt = clock.now()
            try await dynamo.putItem(table: peopleTable, item: Self.personItem(person, revision: revision + 1), condition: Self.revisionIs(revision))
            return person
        }
    }

    /// Rewrites the person's counters from their appearances (deleting stale ones), then the person's counts and
    /// cover; deletes the person and their counters when no appearance is left. Reads the `byPerson` index
    /// (eventually consistent): run it when ingestion is quiet, as ``LibraryRepair`` does.
    @discardableResult
    public func recountPerson(_ requested: PersonID) async throws -> Person? {
        try await retrying {
            let (id, found, _) = try await resolve(requested)
            guard let item = found else { return nil }
            var person = try Self.decode(Person.self, item)
            let revision = item["revision"]?.intValue ?? 0
            let appearances = try await allPages { start in
                try await dynamo.query(
                    table: facesTable, index: "byPerson",
                    keyCondition: DynamoDBExpression("personId = :p", values: [":p": .string(id.rawValue)]), startKey: start)
            }.map { try Self.decode(Appearance.self, $0) }
            let facesPerPhoto = Dictionary(grouping: appearances, by: \.photoID).mapValues(\.count)
            let counters = try await allPages { start in
                try await dynamo.query(
                    table: facesTable, keyCondition: DynamoDBExpression("pk = :pk", values: [":pk": .string("personphoto#" + id.rawValue)]),
                    startKey: start, consistent: true)
            }
            var stale: [DynamoDBItem] = []
            for counter in counters {
                guard let photo = counter["sk"]?.stringValue.map(PhotoID.init(rawValue:)) else { continue }
                if facesPerPhoto[photo] == nil { stale.append(Self.counterKey(person: id, photo: photo)) }
            }
            let fresh = facesPerPhoto.compactMap { photo, faces -> DynamoDBItem? in
                let key = Self.counterKey(person: id, photo: photo)
                let stored = counters.first { $0["sk"]?.stringValue == photo.rawValue }?["faces"]?.intValue
                return stored == faces ? nil : key.merging(["faces": .number(faces)]) { $1 }
            }
            if !stale.isEmpty || !fresh.isEmpty { try await dynamo.batchWrite(table: facesTable, puts: fresh, deletes: stale) }
            guard let first = appearances.min(by: { $0.faceID < $1.faceID }) else {
                try await dynamo.deleteItem(table: peopleTable, key: Self.personKey(id), condition: Self.revisionIs(revision))
                return nil
            }
            person.faceCount = appearances.count
            person.photoCount = facesPerPhoto.count
            if !appearances.contains(where: { $0.faceID == person.coverFaceID }) {
                person.coverFaceID = first.faceID
                person.coverThumbnailKey = first.thumbnailKey
            }
            person.updatedAt = clock.now()
            try await dynamo.putItem(table: peopleTable, item: Self.personItem(person, revision: revision + 1), condition: Self.revisionIs(revision))
            return person
        }
    }

    private func photoIDs(of person: PersonID) async throws -> [PhotoID] {
        try await allPages { start in
            try await dynamo.query(
                table: facesTable, keyCondition: DynamoDBExpression("pk = :pk", values: [":pk": .string("personphoto#" + person.rawValue)]),
                startKey: start, consistent: true)
        }.compactMap { $0["sk"]?.stringValue.map(PhotoID.init(rawValue:)) }
    }
}
