#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A ``MetadataStore`` on three DynamoDB tables, as `Docs/data-model.md` lays them out: conditional writes on
/// revisions, appearances and counters changed together in transactions (so `photoCount` stays exact under
/// concurrency), merges that leave redirects and can be resumed, keyset cursors bound to their listing.
///
/// Listings read global secondary indexes and are eventually consistent (moments after a write); single-item
/// reads and every condition are strongly consistent.
public struct DynamoDBMetadataStore: MetadataStore {
    public let dynamo: DynamoDBClient
    public let photosTable: String
    public let peopleTable: String
    public let facesTable: String
    public let clock: any WallClock
    /// Attempts of a read-modify-write that keeps losing races before giving up.
    public var maxAttempts = 60

    /// Tables `<prefix>-photos`, `<prefix>-people`, `<prefix>-faces`.
    public init(client: AWSClient, tablePrefix: String, clock: any WallClock = SystemWallClock()) {
        dynamo = DynamoDBClient(client: client)
        photosTable = tablePrefix + "-photos"
        peopleTable = tablePrefix + "-people"
        facesTable = tablePrefix + "-faces"
        self.clock = clock
    }

    /// Creates the three tables (on-demand billing) unless they exist, and waits until they are active.
    public func createTables() async throws {
        try await dynamo.createTable(.init(
            name: photosTable, partitionKey: "photoId", attributeTypes: ["photoId": "S", "status": "S"],
            indexes: [("byStatus", "status", "photoId")]))
        try await dynamo.createTable(.init(
            name: peopleTable, partitionKey: "personId", attributeTypes: ["personId": "S", "listing": "S", "rank": "S"],
            indexes: [("byPhotoCount", "listing", "rank")]))
        try await dynamo.createTable(.init(
            name: facesTable, partitionKey: "pk", sortKey: "sk",
            attributeTypes: ["pk": "S", "sk": "S", "personId": "S", "personRank": "S", "photoId": "S"],
            indexes: [("byPerson", "personId", "personRank"), ("byPhoto", "photoId", "pk")]))
    }

    // MARK: Photos

    public func photo(_ id: PhotoID) async throws -> Photo? {
        try await dynamo.getItem(table: photosTable, key: Self.photoKey(id)).map(Self.photo)
    }

    @discardableResult
    public func savePhoto(_ photo: Photo, expectedRevision: Int?) async throws -> Photo {
        var stored = photo
        stored.revision = (expectedRevision ?? 0) + 1
        let condition = expectedRevision.map(Self.revisionIs) ?? DynamoDBExpression("attribute_not_exists(photoId)")
        let item = try Self.photoItem(stored)
        do {
            try await dynamo.putItem(table: photosTable, item: item, condition: condition)
        } catch DynamoDBError.conditionalCheckFailed {
            // A write DynamoDB applied but whose answer was lost (a 500 or a timeout after the fact) fails its
            // condition when retried: the record then holds exactly this write, which is a success, not a
            // concurrent writer. (Found by scripts/chaos.sh: such photos bounced until the dead-letter queue.)
            // Compared as photos, not as items: the record's JSON need not list its keys in the same order twice.
            if let current = try await dynamo.getItem(table: photosTable, key: Self.photoKey(stored.id)), (try? Self.photo(current)) == stored {
                return stored
            }
            throw MetadataStoreError.conditionFailed
        }
        return stored
    }

    public func photos(_ ids: [PhotoID]) async throws -> [PhotoID: Photo] {
        let items = try await dynamo.batchGet(table: photosTable, keys: Array(Set(ids)).map(Self.photoKey))
        return try Dictionary(items.map(Self.photo).map { ($0.id, $0) }, uniquingKeysWith: { $1 })
    }

    public func photos(withStatus status: PhotoStatus.Kind?, page: PageRequest) async throws -> Page<Photo> {
        let query = "photos:" + (status?.rawValue ?? "*")
        let after = try page.cursor.map { try $0.position(for: query) }
        if let after, after.count != 1 { throw MetadataStoreError.invalidCursor }
        let result: (items: [DynamoDBItem], lastKey: DynamoDBItem?)
        if let status {
            let start = after.map { ["status": DynamoDBValue.string(status.rawValue), "photoId": .string($0[0])] }
            result = try await dynamo.query(
                table: photosTable, index: "byStatus",
                keyCondition: DynamoDBExpression("#s = :s", names: ["#s": "status"], values: [":s": .string(status.rawValue)]),
                limit: page.limit, startKey: start)
        } else {
            result = try await dynamo.scan(table: photosTable, limit: page.limit, startKey: after.map { Self.photoKey(PhotoID(rawValue: $0[0])) })
        }
        let photos = try result.items.map(Self.photo)
        let next = result.lastKey.flatMap { $0["photoId"]?.stringValue }.map { PageCursor(query: query, position: [$0]) }
        return Page(items: photos, nextCursor: next)
    }

    // MARK: People

    /// Follows merge redirects from `id`: the final id and its item (`nil` when there is no such person).
    func resolve(_ id: PersonID) async throws -> (id: PersonID, item: DynamoDBItem?, chain: [PersonID]) {
        var current = id
        var chain: [PersonID] = []
        for _ in 0..<32 {
            guard let item = try await dynamo.getItem(table: peopleTable, key: Self.personKey(current)) else { return (current, nil, chain) }
            guard let next = item["mergedInto"]?.stringValue else { return (current, item, chain) }
            chain.append(current)
            current = PersonID(rawValue: next)
        }
        throw MetadataStoreError.unavailable(detail: "merge redirects from \(id) do not end")
    }

    public func person(_ id: PersonID) async throws -> Person? {
        try await resolve(id).item.map { try Self.decode(Person.self, $0) }
    }

    public func people(page: PageRequest) async throws -> Page<Person> {
        let query = "people"
        let after = try page.cursor.map { try $0.position(for: query) }
        var start: DynamoDBItem?
        if let after {
            guard after.count == 1, let separator = after[0].firstIndex(of: "#") else { throw MetadataStoreError.invalidCursor }
            let personID = String(after[0][after[0].index(after: separator)...])
            start = ["listing": .string(Self.personListing), "rank": .string(after[0]), "personId": .string(personID)]
        }
        let result = try await dynamo.query(
            table: peopleTable, index: "byPhotoCount",
            keyCondition: DynamoDBExpression("#l = :l", names: ["#l": "listing"], values: [":l": .string(Self.personListing)]),
            limit: page.limit, startKey: start)
        let people = try result.items.map { try Self.decode(Person.self, $0) }
        let next = result.lastKey.flatMap { $0["rank"]?.stringValue }.map { PageCursor(query: query, position: [$0]) }
        return Page(items: people, nextCursor: next)
    }

    public func renamePerson(_ id: PersonID, to name: String?) async throws -> Person {
        try await retrying {
            let (resolved, item, _) = try await resolve(id)
            guard let item else { throw MetadataStoreError.personNotFound(id) }
            var person = try Self.decode(Person.self, item)
            let revision = item["revision"]?.intValue ?? 0
            person.id = resolved
            person.name = name
            person.updatedAt = clock.now()
            try await dynamo.putItem(table: peopleTable, item: Self.personItem(person, revision: revision + 1), condition: Self.revisionIs(revision))
            return person
        }
    }

    // MARK: Pending matches

    public func recordPendingMatch(_ match: PendingMatch) async throws {
        try await dynamo.putItem(table: facesTable, item: Self.pendingItem(match))
    }

    public func pendingMatches(for faceID: FaceID) async throws -> [PendingMatch] {
        let items = try await allPages { start in
            try await dynamo.query(
                table: facesTable,
                keyCondition: DynamoDBExpression(
                    "pk = :pk AND begins_with(sk, :pending)", values: [":pk": .string("face#" + faceID.rawValue), ":pending": .string("pending#")]),
                startKey: start, consistent: true)
        }
        return items.compactMap { item in
            guard let person = item["matchedBy"]?.stringValue, let founded = item["matcherFoundedPerson"]?.boolValue else { return nil }
            return PendingMatch(face: faceID, matchedBy: PersonID(rawValue: person), matcherFoundedPerson: founded)
        }
    }

    // MARK: Helpers

    /// Runs a read-modify-write until its conditional write goes through; a lost race (a failed condition or a
    /// cancelled transaction) reads again after a short random pause.
    func retrying<T>(_ body: () async throws -> T) async throws -> T {
        for attempt in 0..<maxAttempts {
            do {
                return try await body()
            } catch DynamoDBError.conditionalCheckFailed, DynamoDBError.transactionCanceled {
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 + min(attempt, 20) * 3))))
            }
        }
        throw MetadataStoreError.conditionFailed
    }

    /// Every item of a paged read.
    func allPages(_ page: (DynamoDBItem?) async throws -> (items: [DynamoDBItem], lastKey: DynamoDBItem?)) async throws -> [DynamoDBItem] {
        var items: [DynamoDBItem] = []
        var start: DynamoDBItem?
        repeat {
            let result = try await page(start)
            items += result.items
            start = result.lastKey
        } while start != nil
        return items
    }
}
