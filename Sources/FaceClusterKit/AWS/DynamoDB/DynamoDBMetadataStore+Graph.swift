#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The face graph in the faces table: each edge twice, under both faces (`pk = face#<x>`, `sk = edge#<y>`,
/// `similarity`), so one query by a face's key reads all its edges. Written with BatchWriteItem (25 a request).
extension DynamoDBMetadataStore {
    public func recordEdges(_ edges: [FaceEdge]) async throws {
        let items = edges.filter { $0.a != $0.b }.flatMap { edge -> [DynamoDBItem] in
            let similarity = DynamoDBValue.number(String(edge.similarity))
            return [
                ["pk": .string("face#" + edge.a.rawValue), "sk": .string("edge#" + edge.b.rawValue), "similarity": similarity],
                ["pk": .string("face#" + edge.b.rawValue), "sk": .string("edge#" + edge.a.rawValue), "similarity": similarity],
            ]
        }
        // One batch may not hold the same key twice: the last of duplicates wins.
        var unique: [String: DynamoDBItem] = [:]
        for item in items { unique[(item["pk"]?.stringValue ?? "") + "|" + (item["sk"]?.stringValue ?? "")] = item }
        try await dynamo.batchWrite(table: facesTable, puts: unique.keys.sorted().compactMap { unique[$0] })
    }

    public func edges(touching faceIDs: [FaceID]) async throws -> [FaceEdge] {
        var found = Set<FaceEdge>()
        for face in Set(faceIDs) {
            for item in try await edgeItems(of: face) {
                guard let other = item["sk"]?.stringValue?.dropFirst("edge#".count), case .number(let text)? = item["similarity"],
                      let similarity = Double(text)
                else { continue }
                found.insert(FaceEdge(face, FaceID(rawValue: String(other)), similarity: similarity))
            }
        }
        return found.sorted { ($0.a, $0.b) < ($1.a, $1.b) }
    }

    public func removeEdges(touching faceIDs: [FaceID]) async throws {
        var keys: [DynamoDBItem] = []
        for face in Set(faceIDs) {
            for item in try await edgeItems(of: face) {
                guard let other = item["sk"]?.stringValue?.dropFirst("edge#".count) else { continue }
                keys.append(["pk": .string("face#" + face.rawValue), "sk": .string("edge#" + other)])
                keys.append(["pk": .string("face#" + other), "sk": .string("edge#" + face.rawValue)])
            }
        }
        var unique: [String: DynamoDBItem] = [:]
        for key in keys { unique[(key["pk"]?.stringValue ?? "") + "|" + (key["sk"]?.stringValue ?? "")] = key }
        try await dynamo.batchWrite(table: facesTable, deletes: unique.keys.sorted().compactMap { unique[$0] })
    }

    private func edgeItems(of face: FaceID) async throws -> [DynamoDBItem] {
        try await allPages { start in
            try await dynamo.query(
                table: facesTable,
                keyCondition: DynamoDBExpression(
                    "pk = :pk AND begins_with(sk, :edge)", values: [":pk": .string("face#" + face.rawValue), ":edge": .string("edge#")]),
                startKey: start, consistent: true)
        }
    }
}

extension DynamoDBMetadataStore {
    /// One transaction: the appearance (conditional on its current person), both person–photo counters, the
    /// target person (created, or conditional on its revision) and the source person (its counts and cover,
    /// or deleted when it had only this face). A lost race reads again.
    @discardableResult
    public func moveAppearance(of faceID: FaceID, to personID: PersonID, newPerson: Person?) async throws -> Appearance? {
        try await retrying {
            guard let item = try await dynamo.getItem(table: facesTable, key: Self.appearanceKey(faceID)) else { return nil }
            var appearance = try Self.decode(Appearance.self, item)
            let direct = try await dynamo.getItem(table: peopleTable, key: Self.personKey(personID))
            var target: Person
            let targetRevision: Int
            let targetCondition: DynamoDBExpression
            if var founded = newPerson, direct == nil || direct?["mergedInto"] != nil {
                founded.id = personID
                founded.photoCount = 0
                founded.faceCount = 0
                founded.coverFaceID = nil
                founded.coverThumbnailKey = nil
                target = founded
                targetRevision = direct?["revision"]?.intValue ?? 0
                targetCondition = direct == nil ? DynamoDBExpression("attribute_not_exists(personId)") : Self.revisionIs(targetRevision)
            } else {
                let (_, found, _) = try await resolve(personID)
                guard let found else { throw MetadataStoreError.personNotFound(personID) }
                target = try Self.decode(Person.self, found)
                targetRevision = found["revision"]?.intValue ?? 0
                targetCondition = Self.revisionIs(targetRevision)
            }
            let source = appearance.personID
            if source == target.id { return appearance }
            let fromKey = Self.counterKey(person: source, photo: appearance.photoID)
            let intoKey = Self.counterKey(person: target.id, photo: appearance.photoID)
            let fromFaces = try await dynamo.getItem(table: facesTable, key: fromKey)?["faces"]?.intValue ?? 0
            let intoFaces = try await dynamo.getItem(table: facesTable, key: intoKey)?["faces"]?.intValue ?? 0
            let now = clock.now()
            appearance.personID = target.id
            target.faceCount += 1
            if intoFaces == 0 { target.photoCount += 1 }
            if target.coverFaceID == nil {
                target.coverFaceID = faceID
                target.coverThumbnailKey = appearance.thumbnailKey
            }
            target.updatedAt = now
            var actions: [DynamoDBClient.TransactionItem] = [
                .put(table: facesTable, item: try Self.appearanceItem(appearance),
                     condition: DynamoDBExpression("personId = :from", values: [":from": .string(source.rawValue)])),
                .put(table: facesTable, item: intoKey.merging(["faces": .number(intoFaces + 1)]) { $1 }, condition: Self.facesAre(intoFaces)),
                .put(table: peopleTable, item: try Self.personItem(target, revision: targetRevision + 1), condition: targetCondition),
            ]
            if fromFaces > 0 {
                actions.append(fromFaces == 1
                    ? .delete(table: facesTable, key: fromKey, condition: Self.facesAre(fromFaces))
                    : .put(table: facesTable, item: fromKey.merging(["faces": .number(fromFaces - 1)]) { $1 }, condition: Self.facesAre(fromFaces)))
            }
            if let sourceItem = try await dynamo.getItem(table: peopleTable, key: Self.personKey(source)), sourceItem["mergedInto"] == nil {
                var person = try Self.decode(Person.self, sourceItem)
                let revision = sourceItem["revision"]?.intValue ?? 0
                person.faceCount -= 1
                if fromFaces <= 1 { person.photoCount -= 1 }
                if person.faceCount <= 0 {
                    actions.append(.delete(table: peopleTable, key: Self.personKey(source), condition: Self.revisionIs(revision)))
                } else {
                    if person.coverFaceID == faceID {
                        let others = try await dynamo.query(
                            table: facesTable, index: "byPerson",
                            keyCondition: DynamoDBExpression("personId = :p", values: [":p": .string(source.rawValue)]), limit: 3)
                        let next = try others.items.map { try Self.decode(Appearance.self, $0) }.first { $0.faceID != faceID }
                        person.coverFaceID = next?.faceID
                        person.coverThumbnailKey = next?.thumbnailKey
                    }
                    person.updatedAt = now
                    actions.append(.put(table: peopleTable, item: try Self.personItem(person, revision: revision + 1), condition: Self.revisionIs(revision)))
                }
            }
            try await dynamo.transactWrite(actions)
            return appearance
        }
    }
}

/// A user's "not this person" pairs in the faces table, each under both faces (`sk = cannot#<other>`); the
/// journal of people operations under one key (`pk = journal`, `sk` = the operation id, which sorts by time).
extension DynamoDBMetadataStore {
    @discardableResult
    public func updatePerson(_ person: Person) async throws -> Person {
        try await retrying {
            let (id, found, _) = try await resolve(person.id)
            guard let item = found else { throw MetadataStoreError.personNotFound(person.id) }
            var stored = try Self.decode(Person.self, item)
            let revision = item["revision"]?.intValue ?? 0
            stored.name = person.name
            stored.pinned = person.pinned
            stored.createdAt = person.createdAt
            stored.updatedAt = clock.now()
            if let cover = person.coverFaceID,
               let appearance = try await dynamo.getItem(table: facesTable, key: Self.appearanceKey(cover)).map({ try Self.decode(Appearance.self, $0) }),
               appearance.personID == id {
                stored.coverFaceID = cover
                stored.coverThumbnailKey = appearance.thumbnailKey
            }
            try await dynamo.putItem(table: peopleTable, item: Self.personItem(stored, revision: revision + 1), condition: Self.revisionIs(revision))
            return stored
        }
    }

    public func recordCannotLinks(_ pairs: [FacePair]) async throws {
        try await dynamo.batchWrite(table: facesTable, puts: Self.cannotLinkKeys(pairs.filter { $0.a != $0.b }))
    }

    public func cannotLinks(touching faceIDs: [FaceID]) async throws -> [FacePair] {
        var found = Set<FacePair>()
        for face in Set(faceIDs) {
            let items = try await allPages { start in
                try await dynamo.query(
                    table: facesTable,
                    keyCondition: DynamoDBExpression(
                        "pk = :pk AND begins_with(sk, :cannot)", values: [":pk": .string("face#" + face.rawValue), ":cannot": .string("cannot#")]),
                    startKey: start, consistent: true)
            }
            for item in items {
                guard let other = item["sk"]?.stringValue?.dropFirst("cannot#".count) else { continue }
                found.insert(FacePair(face, FaceID(rawValue: String(other))))
            }
        }
        return found.sorted()
    }

    public func removeCannotLinks(_ pairs: [FacePair]) async throws {
        try await dynamo.batchWrite(table: facesTable, deletes: Self.cannotLinkKeys(pairs))
    }

    static func cannotLinkKeys(_ pairs: [FacePair]) -> [DynamoDBItem] {
        var keys: [String: DynamoDBItem] = [:]
        for pair in pairs {
            for (x, y) in [(pair.a, pair.b), (pair.b, pair.a)] {
                keys["\(x)|\(y)"] = ["pk": .string("face#" + x.rawValue), "sk": .string("cannot#" + y.rawValue)]
            }
        }
        return keys.keys.sorted().compactMap { keys[$0] }
    }

    public func saveOperation(_ operation: PeopleOperation) async throws {
        try await dynamo.putItem(table: facesTable, item: ["pk": .string("journal"), "sk": .string(operation.id), "record": try Self.json(operation)])
    }

    public func operation(_ id: String) async throws -> PeopleOperation? {
        try await dynamo.getItem(table: facesTable, key: ["pk": .string("journal"), "sk": .string(id)]).map { try Self.decode(PeopleOperation.self, $0) }
    }

    public func operations(page: PageRequest) async throws -> Page<PeopleOperation> {
        let query = "operations"
        let before = try page.cursor.map { try $0.position(for: query) }?.first
        let result = try await dynamo.query(
            table: facesTable, keyCondition: DynamoDBExpression("pk = :pk", values: [":pk": .string("journal")]), limit: page.limit,
            startKey: before.map { ["pk": .string("journal"), "sk": .string($0)] }, ascending: false, consistent: true)
        let operations = try result.items.map { try Self.decode(PeopleOperation.self, $0) }
        let next = result.lastKey.flatMap { $0["sk"]?.stringValue }.map { PageCursor(query: query, position: [$0]) }
        return Page(items: operations, nextCursor: next)
    }
}
