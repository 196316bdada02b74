@testable import FaceClusterKit
import Foundation
import Testing

@Suite("DynamoDB values")
struct DynamoDBValueTests {
    @Test("every AttributeValue type encodes in AWS's one-key form and decodes back")
    func roundTrip() throws {
        let item: DynamoDBItem = [
            "s": .string("ü写 \"q\""), "n": .number(42), "b": .binary(Data([0, 1, 2, 255])), "t": .bool(true), "z": .null,
            "m": .map(["inner": .list([.string("a"), .number("1.5")])]), "ss": .stringSet(["a", "b"]), "ns": .numberSet(["1", "2"]),
            "bs": .binarySet([Data([1]), Data([2])]),
        ]
        let json = try JSONEncoder().encode(item)
        #expect(try JSONDecoder().decode(DynamoDBItem.self, from: json) == item)
        let text = String(decoding: try JSONEncoder().encode(["n": DynamoDBValue.number(42)]), as: UTF8.self)
        #expect(text == #"{"n":{"N":"42"}}"#)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(DynamoDBValue.self, from: Data(#"{"S":"a","N":"1"}"#.utf8)) }
    }
}

@Suite("DynamoDB client against moto", .enabled(if: Moto.available, "needs moto_server: run scripts/test.sh"))
struct DynamoDBClientTests {
    static func client(_ credentials: AWSCredentials = Moto.authCredentials!) -> DynamoDBClient {
        DynamoDBClient(client: Moto.client(Moto.authURL!, credentials: credentials))
    }

    static func table() async throws -> (DynamoDBClient, String) {
        let dynamo = client()
        let name = "fck-test-\(UUID().uuidString.lowercased().prefix(12))"
        let definition = DynamoDBClient.TableDefinition(
            name: name, partitionKey: "pk", sortKey: "sk", attributeTypes: ["pk": "S", "sk": "S", "owner": "S", "rank": "S"],
            indexes: [("byOwner", "owner", "rank")])
        try await dynamo.createTable(definition)
        try await dynamo.createTable(definition)   // idempotent
        return (dynamo, name)
    }

    @Test("items round-trip; conditions fail typed")
    func items() async throws {
        let (dynamo, table) = try await Self.table()
        #expect(try await dynamo.tableStatus(table) == "ACTIVE")
        let key: DynamoDBItem = ["pk": .string("photo#1"), "sk": .string("record")]
        let item = key.merging(["revision": .number(1), "record": .string(#"{"a":1}"#), "blob": .binary(Data([9, 8, 7]))]) { $1 }
        try await dynamo.putItem(table: table, item: item, condition: DynamoDBExpression("attribute_not_exists(pk)"))
        #expect(try await dynamo.getItem(table: table, key: key) == item)
        await #expect(throws: DynamoDBError.conditionalCheckFailed) {
            try await dynamo.putItem(table: table, item: item, condition: DynamoDBExpression("attribute_not_exists(pk)"))
        }
        let compareAndSet = DynamoDBExpression("#r = :r", names: ["#r": "revision"], values: [":r": .number(1)])
        try await dynamo.putItem(table: table, item: item.merging(["revision": .number(2)]) { $1 }, condition: compareAndSet)
        await #expect(throws: DynamoDBError.conditionalCheckFailed) {
            try await dynamo.putItem(table: table, item: item, condition: compareAndSet)
        }
        try await dynamo.deleteItem(table: table, key: key, condition: DynamoDBExpression("attribute_exists(pk)"))
        #expect(try await dynamo.getItem(table: table, key: key) == nil)
        do {
            _ = try await dynamo.getItem(table: "no-such-table", key: key)
            Issue.record("a missing table was not reported")
        } catch DynamoDBError.tableNotFound(let detail) {
            #expect(!detail.isEmpty)
        }
    }

    @Test("queries page through an index with ExclusiveStartKey; batches go past 25 and 100 items")
    func queryAndBatches() async throws {
        let (dynamo, table) = try await Self.table()
        let items: [DynamoDBItem] = (0..<130).map { n in
            ["pk": .string("face#\(n)"), "sk": .string("appearance"), "owner": .string(n % 2 == 0 ? "p_even" : "p_odd"),
             "rank": .string(String(n).leftPadded(to: 4))]
        }
        try await dynamo.batchWrite(table: table, puts: items)
        let fetched = try await dynamo.batchGet(table: table, keys: items.map { ["pk": $0["pk"]!, "sk": $0["sk"]!] } + [["pk": .string("face#none"), "sk": .string("appearance")]])
        #expect(fetched.count == 130)
        var seen: [String] = []
        var start: DynamoDBItem?
        repeat {
            let page = try await dynamo.query(
                table: table, index: "byOwner", keyCondition: DynamoDBExpression("#o = :o", names: ["#o": "owner"], values: [":o": .string("p_even")]),
                limit: 7, startKey: start, ascending: false)
            #expect(page.items.count <= 7)
            seen += page.items.compactMap { $0["rank"]?.stringValue }
            start = page.lastKey
        } while start != nil
        let evens: [Int] = (0..<130).filter { $0 % 2 == 0 }
        let expected: [String] = evens.reversed().map { String($0).leftPadded(to: 4) }
        #expect(seen == expected)
        try await dynamo.batchWrite(table: table, deletes: items.prefix(60).map { ["pk": $0["pk"]!, "sk": $0["sk"]!] })
        #expect(try await dynamo.batchGet(table: table, keys: items.map { ["pk": $0["pk"]!, "sk": $0["sk"]!] }).count == 70)
    }

    @Test("a transaction is all or nothing and says which condition failed")
    func transactions() async throws {
        let (dynamo, table) = try await Self.table()
        let existing: DynamoDBItem = ["pk": .string("person#1"), "sk": .string("record"), "revision": .number(3)]
        try await dynamo.putItem(table: table, item: existing)
        let newFace: DynamoDBItem = ["pk": .string("face#9"), "sk": .string("appearance")]
        do {
            try await dynamo.transactWrite([
                .put(table: table, item: newFace, condition: DynamoDBExpression("attribute_not_exists(pk)")),
                .put(table: table, item: existing, condition: DynamoDBExpression("#r = :r", names: ["#r": "revision"], values: [":r": .number(2)])),
            ])
            Issue.record("the transaction should have been cancelled")
        } catch DynamoDBError.transactionCanceled(let reasons) {
            #expect(reasons == ["None", "ConditionalCheckFailed"])
        }
        #expect(try await dynamo.getItem(table: table, key: ["pk": newFace["pk"]!, "sk": newFace["sk"]!]) == nil, "nothing was written")
        try await dynamo.transactWrite([
            .put(table: table, item: newFace, condition: DynamoDBExpression("attribute_not_exists(pk)")),
            .conditionCheck(table: table, key: ["pk": existing["pk"]!, "sk": existing["sk"]!], condition: DynamoDBExpression("#r = :r", names: ["#r": "revision"], values: [":r": .number(3)])),
        ])
        #expect(try await dynamo.getItem(table: table, key: ["pk": newFace["pk"]!, "sk": newFace["sk"]!]) != nil)
    }

    @Test("a wrong secret is a typed authentication error (moto answers JSON services in XML)")
    func wrongSecret() async throws {
        let good = Moto.authCredentials!
        let wrong = Self.client(AWSCredentials(accessKeyID: good.accessKeyID, secretAccessKey: good.secretAccessKey + "x"))
        do {
            _ = try await wrong.tableStatus("anything")
            Issue.record("a wrong secret was accepted")
        } catch let error as AWSServiceError {
            #expect(error.statusCode == 403 && error.isAuthentication, "\(error)")
            #expect(!error.isRetryable)
        }
    }
}

@Suite("DynamoDB batches")
struct DynamoDBBatchTests {
    @Test("unprocessed items and keys are sent again after a backoff until none are left")
    func unprocessed() async throws {
        let unprocessedWrite = #"{"UnprocessedItems":{"t":[{"PutRequest":{"Item":{"pk":{"S":"b"}}}}]}}"#
        let unprocessedRead = #"{"Responses":{"t":[{"pk":{"S":"a"}}]},"UnprocessedKeys":{"t":{"Keys":[{"pk":{"S":"b"}}]}}}"#
        let transport = ScriptedTransport([
            .success(HTTPResponse(status: 200, body: Data(unprocessedWrite.utf8))), .success(HTTPResponse(status: 200, body: Data("{}".utf8))),
            .success(HTTPResponse(status: 200, body: Data(unprocessedRead.utf8))),
            .success(HTTPResponse(status: 200, body: Data(#"{"Responses":{"t":[{"pk":{"S":"b"}}]}}"#.utf8))),
        ])
        let waits = RetryTests.Waits()
        let dynamo = DynamoDBClient(client: AWSClient(
            configuration: AWSConfiguration(region: "eu-west-1", endpoints: ["dynamodb": URL(string: "http://127.0.0.1:9")!]),
            credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: "AKID", secretAccessKey: "s")), transport: transport,
            retryPolicy: RetryPolicy(sleep: { duration in waits.log.withLock { $0.append(duration) } }, jitter: { 1 })))
        try await dynamo.batchWrite(table: "t", puts: [["pk": .string("a")], ["pk": .string("b")]])
        let items = try await dynamo.batchGet(table: "t", keys: [["pk": .string("a")], ["pk": .string("b")]])
        #expect(Set(items.compactMap { $0["pk"]?.stringValue }) == ["a", "b"])
        #expect(transport.sent.count == 4)
        let second = try JSONDecoder().decode([String: [String: [[String: [String: DynamoDBItem]]]]].self, from: transport.sent[1].body)
        #expect(second["RequestItems"]?["t"]?.count == 1, "only the unprocessed put is sent again")
        #expect(waits.all == [.milliseconds(100), .milliseconds(100)])
        #expect(transport.sent[0].headers.contains { $0.name == "X-Amz-Target" && $0.value == "DynamoDB_20120810.BatchWriteItem" })
    }
}

/// Passes requests on, but loses the answer of the first `PutItem`: DynamoDB applied it, the caller sees a 500
/// and retries (what `scripts/chaos.sh` injects in front of moto).
final class LostAnswerTransport: HTTPTransport, @unchecked Sendable {
    let base = AsyncHTTPClientTransport()
    private let lock = NSLock()
    private var lost = false

    func send(_ request: FaceClusterKit.HTTPRequest) async throws -> FaceClusterKit.HTTPResponse {
        let response = try await base.send(request)
        let isPut = request.headers.contains { $0.name.lowercased() == "x-amz-target" && $0.value.hasSuffix(".PutItem") }
        let loseIt = lock.withLock { () -> Bool in
            guard isPut, !lost else { return false }
            lost = true
            return true
        }
        return loseIt ? FaceClusterKit.HTTPResponse(status: 500, body: Data(#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"lost"}"#.utf8)) : response
    }
}

@Suite("DynamoDB metadata store when answers are lost", .enabled(if: Moto.available, "needs moto_server: run scripts/test.sh"))
struct LostAnswerTests {
    @Test("a photo write DynamoDB applied but whose answer was lost is a success when retried, not a conflict")
    func retriedConditionalWrite() async throws {
        let prefix = "fck-\(UUID().uuidString.lowercased().prefix(13))"
        let store = DynamoDBMetadataStore(client: Moto.client(Moto.authURL!, credentials: Moto.authCredentials!), tablePrefix: prefix)
        try await store.createTables()
        let flaky = DynamoDBMetadataStore(
            client: AWSClient(
                configuration: AWSConfiguration(region: "us-east-1", endpoints: ["dynamodb": Moto.authURL!]),
                credentials: StaticCredentialProvider(Moto.authCredentials!), transport: LostAnswerTransport(),
                retryPolicy: RetryPolicy(sleep: { _ in })),
            tablePrefix: prefix)
        let photo = MetadataStoreConformance.photo("uploads/lost-answer.jpg")
        let saved = try await flaky.savePhoto(photo, expectedRevision: nil)
        #expect(saved.revision == 1)
        #expect(try await store.photo(photo.id)?.revision == 1)
        // A real concurrent writer is still a conflict.
        var other = saved
        other.status = .pending
        _ = try await store.savePhoto(other, expectedRevision: 1)
        await #expect(throws: MetadataStoreError.conditionFailed) { try await flaky.savePhoto(saved, expectedRevision: 1) }
    }
}
