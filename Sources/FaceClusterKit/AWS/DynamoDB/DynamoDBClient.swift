#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// DynamoDB over its JSON 1.0 protocol (`X-Amz-Target: DynamoDB_20120810.<Operation>`): the operations
/// the metadata store needs, with AWS's limits handled (batches chunked; unprocessed items retried with
/// backoff) and its errors typed (``DynamoDBError``).
public struct DynamoDBClient: Sendable {
    public let client: AWSClient

    public init(client: AWSClient) { self.client = client }

    /// Calls one operation with a JSON body and decodes the JSON answer.
    func call<Output: Decodable>(_ operation: String, _ input: some Encodable, as output: Output.Type) async throws -> Output {
        let body = try JSONEncoder().encode(input)
        do {
            let response = try await client.send(
                service: "dynamodb", method: "POST", path: "/",
                headers: [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "DynamoDB_20120810.\(operation)")],
                body: body)
            return try JSONDecoder().decode(Output.self, from: response.body.isEmpty ? Data("{}".utf8) : response.body)
        } catch let error as AWSServiceError {
            switch error.code {
            case "ConditionalCheckFailedException": throw DynamoDBError.conditionalCheckFailed
            case "TransactionCanceledException": throw DynamoDBError.transactionCanceled(reasons: error.cancellationReasons)
            case "ResourceNotFoundException": throw DynamoDBError.tableNotFound(error.message)
            default: throw error
            }
        }
    }

    struct Empty: Codable {}

    // MARK: Tables

    /// A table to create: its keys, attribute types and global secondary indexes (all projecting ALL).
    public struct TableDefinition: Sendable {
        public var name: String
        public var partitionKey: String
        public var sortKey: String?
        /// Attribute name → `S`, `N` or `B`, for every key attribute of the table and its indexes.
        public var attributeTypes: [String: String]
        public var indexes: [(name: String, partitionKey: String, sortKey: String?)]

        public init(
            name: String, partitionKey: String, sortKey: String? = nil, attributeTypes: [String: String],
            indexes: [(name: String, partitionKey: String, sortKey: String?)] = []
        ) {
            self.name = name
            self.partitionKey = partitionKey
            self.sortKey = sortKey
            self.attributeTypes = attributeTypes
            self.indexes = indexes
        }
    }

    /// Creates the table with on-demand billing, unless it exists, and waits until it is ACTIVE.
    public func createTable(_ table: TableDefinition, waitingUpTo limit: Duration = .seconds(120)) async throws {
        struct KeyElement: Encodable { var AttributeName: String; var KeyType: String }
        struct AttributeDefinition: Encodable { var AttributeName: String; var AttributeType: String }
        struct IndexProjection: Encodable { var ProjectionType = "ALL" }
        struct Index: Encodable { var IndexName: String; var KeySchema: [KeyElement]; var Projection = IndexProjection() }
        struct Input: Encodable {
            var TableName: String
            var KeySchema: [KeyElement]
            var AttributeDefinitions: [AttributeDefinition]
            var BillingMode = "PAY_PER_REQUEST"
            var GlobalSecondaryIndexes: [Index]?
        }
        func schema(_ partition: String, _ sort: String?) -> [KeyElement] {
            [KeyElement(AttributeName: partition, KeyType: "HASH")] + (sort.map { [KeyElement(AttributeName: $0, KeyType: "RANGE")] } ?? [])
        }
        let input = Input(
            TableName: table.name, KeySchema: schema(table.partitionKey, table.sortKey),
            AttributeDefinitions: table.attributeTypes.sorted { $0.key < $1.key }.map { AttributeDefinition(AttributeName: $0.key, AttributeType: $0.value) },
            GlobalSecondaryIndexes: table.indexes.isEmpty ? nil : table.indexes.map { Index(IndexName: $0.name, KeySchema: schema($0.partitionKey, $0.sortKey)) })
        do {
            _ = try await call("CreateTable", input, as: Empty.self)
        } catch let error as AWSServiceError where error.code == "ResourceInUseException" {
            // Exists already: set-up is idempotent.
        }
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await tableStatus(table.name) == "ACTIVE" { return }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw DynamoDBError.tableNotFound("\(table.name) did not become ACTIVE within \(limit)")
    }

    /// `CREATING`, `ACTIVE`, …; throws ``DynamoDBError/tableNotFound(_:)``.
    public func tableStatus(_ table: String) async throws -> String {
        struct Output: Decodable { struct Table: Decodable { var TableStatus: String }; var Table: Table }
        return try await call("DescribeTable", ["TableName": table], as: Output.self).Table.TableStatus
    }

    // MARK: Items

    public func getItem(table: String, key: DynamoDBItem, consistent: Bool = true) async throws -> DynamoDBItem? {
        struct Input: Encodable { var TableName: String; var Key: DynamoDBItem; var ConsistentRead: Bool }
        struct Output: Decodable { var Item: DynamoDBItem? }
        return try await call("GetItem", Input(TableName: table, Key: key, ConsistentRead: consistent), as: Output.self).Item
    }

    /// Throws ``DynamoDBError/conditionalCheckFailed`` when `condition` does not hold.
    public func putItem(table: String, item: DynamoDBItem, condition: DynamoDBExpression? = nil) async throws {
        _ = try await call("PutItem", WriteInput(TableName: table, Item: item, condition: condition), as: Empty.self)
    }

    public func deleteItem(table: String, key: DynamoDBItem, condition: DynamoDBExpression? = nil) async throws {
        _ = try await call("DeleteItem", WriteInput(TableName: table, Key: key, condition: condition), as: Empty.self)
    }

    /// One page of a query: up to `limit` items from `startKey` on, and the key to continue from.
    public func query(
        table: String, index: String? = nil, keyCondition: DynamoDBExpression, limit: Int? = nil, startKey: DynamoDBItem? = nil,
        ascending: Bool = true, consistent: Bool = false
    ) async throws -> (items: [DynamoDBItem], lastKey: DynamoDBItem?) {
        struct Input: Encodable {
            var TableName: String
            var IndexName: String?
            var KeyConditionExpression: String
            var ExpressionAttributeNames: [String: String]?
            var ExpressionAttributeValues: DynamoDBItem?
            var Limit: Int?
            var ExclusiveStartKey: DynamoDBItem?
            var ScanIndexForward: Bool
            var ConsistentRead: Bool?
        }
        struct Output: Decodable { var Items: [DynamoDBItem]?; var LastEvaluatedKey: DynamoDBItem? }
        let output = try await call("Query", Input(
            TableName: table, IndexName: index, KeyConditionExpression: keyCondition.expression,
            ExpressionAttributeNames: keyCondition.names.isEmpty ? nil : keyCondition.names,
            ExpressionAttributeValues: keyCondition.values.isEmpty ? nil : keyCondition.values, Limit: limit,
            ExclusiveStartKey: startKey, ScanIndexForward: ascending, ConsistentRead: index == nil ? consistent : nil), as: Output.self)
        return (output.Items ?? [], output.LastEvaluatedKey)
    }

    /// One page of a scan (used only where no key narrows the listing).
    public func scan(table: String, limit: Int? = nil, startKey: DynamoDBItem? = nil) async throws -> (items: [DynamoDBItem], lastKey: DynamoDBItem?) {
        struct Input: Encodable { var TableName: String; var Limit: Int?; var ExclusiveStartKey: DynamoDBItem?; var ConsistentRead = true }
        struct Output: Decodable { var Items: [DynamoDBItem]?; var LastEvaluatedKey: DynamoDBItem? }
        let output = try await call("Scan", Input(TableName: table, Limit: limit, ExclusiveStartKey: startKey), as: Output.self)
        return (output.Items ?? [], output.LastEvaluatedKey)
    }

    /// One action of a transaction.
    public enum TransactionItem: Sendable {
        case put(table: String, item: DynamoDBItem, condition: DynamoDBExpression?)
        case delete(table: String, key: DynamoDBItem, condition: DynamoDBExpression?)
        case conditionCheck(table: String, key: DynamoDBItem, condition: DynamoDBExpression)
    }

    /// All or nothing, at most 100 actions. Throws ``DynamoDBError/transactionCanceled(reasons:)`` with one
    /// reason per action when any condition fails.
    public func transactWrite(_ items: [TransactionItem], token: String? = nil) async throws {
        precondition(items.count <= 100, "TransactWriteItems takes at most 100 actions")
        struct Action: Encodable { var Put: WriteInput?; var Delete: WriteInput?; var ConditionCheck: WriteInput? }
        struct Input: Encodable { var TransactItems: [Action]; var ClientRequestToken: String? }
        let actions = items.map { item -> Action in
            switch item {
            case .put(let table, let value, let condition): Action(Put: WriteInput(TableName: table, Item: value, condition: condition))
            case .delete(let table, let key, let condition): Action(Delete: WriteInput(TableName: table, Key: key, condition: condition))
            case .conditionCheck(let table, let key, let condition): Action(ConditionCheck: WriteInput(TableName: table, Key: key, condition: condition))
            }
        }
        _ = try await call("TransactWriteItems", Input(TransactItems: actions, ClientRequestToken: token), as: Empty.self)
    }

    /// The items with these keys (in no particular order), 100 keys a request; unprocessed keys are asked for
    /// again after a backoff.
    public func batchGet(table: String, keys: [DynamoDBItem], consistent: Bool = true) async throws -> [DynamoDBItem] {
        struct KeysAndAttributes: Codable { var Keys: [DynamoDBItem]; var ConsistentRead: Bool? }
        struct Input: Encodable { var RequestItems: [String: KeysAndAttributes] }
        struct Output: Decodable { var Responses: [String: [DynamoDBItem]]?; var UnprocessedKeys: [String: KeysAndAttributes]? }
        var found: [DynamoDBItem] = []
        for start in stride(from: 0, to: keys.count, by: 100) {
            var pending = Array(keys[start..<min(start + 100, keys.count)])
            var round = 0
            while !pending.isEmpty {
                let output = try await call(
                    "BatchGetItem", Input(RequestItems: [table: KeysAndAttributes(Keys: pending, ConsistentRead: consistent)]), as: Output.self)
                found += output.Responses?[table] ?? []
                pending = output.UnprocessedKeys?[table]?.Keys ?? []
                round += 1
                if !pending.isEmpty { try await backoff(round) }
            }
        }
        return found
    }

    /// Puts and deletes, 25 a request (not atomic); unprocessed requests are sent again after a backoff.
    public func batchWrite(table: String, puts: [DynamoDBItem] = [], deletes: [DynamoDBItem] = []) async throws {
        struct PutRequest: Codable { var Item: DynamoDBItem }
        struct DeleteRequest: Codable { var Key: DynamoDBItem }
        struct WriteRequest: Codable { var PutRequest: PutRequest?; var DeleteRequest: DeleteRequest? }
        struct Input: Encodable { var RequestItems: [String: [WriteRequest]] }
        struct Output: Decodable { var UnprocessedItems: [String: [WriteRequest]]? }
        let requests = puts.map { WriteRequest(PutRequest: PutRequest(Item: $0)) } + deletes.map { WriteRequest(DeleteRequest: DeleteRequest(Key: $0)) }
        for start in stride(from: 0, to: requests.count, by: 25) {
            var pending = Array(requests[start..<min(start + 25, requests.count)])
            var round = 0
            while !pending.isEmpty {
                let output = try await call("BatchWriteItem", Input(RequestItems: [table: pending]), as: Output.self)
                pending = output.UnprocessedItems?[table] ?? []
                round += 1
                if !pending.isEmpty { try await backoff(round) }
            }
        }
    }

    /// Full-jitter exponential backoff for unprocessed batch items (50 ms base, as botocore uses for DynamoDB),
    /// through the retry policy's sleep so tests do not wait; gives up after 10 rounds.
    private func backoff(_ round: Int) async throws {
        guard round < 10 else { throw DynamoDBError.unprocessed(after: round) }
        try await client.retryPolicy.sleep(.milliseconds(50) * (1 << min(round, 10)) * client.retryPolicy.jitter())
    }
}

/// The body shared by PutItem, DeleteItem and transaction actions.
struct WriteInput: Encodable {
    var TableName: String
    var Item: DynamoDBItem?
    var Key: DynamoDBItem?
    var ConditionExpression: String?
    var ExpressionAttributeNames: [String: String]?
    var ExpressionAttributeValues: DynamoDBItem?

    init(TableName: String, Item: DynamoDBItem? = nil, Key: DynamoDBItem? = nil, condition: DynamoDBExpression?) {
        self.TableName = TableName
        self.Item = Item
        self.Key = Key
        ConditionExpression = condition?.expression
        ExpressionAttributeNames = condition.flatMap { $0.names.isEmpty ? nil : $0.names }
        ExpressionAttributeValues = condition.flatMap { $0.values.isEmpty ? nil : $0.values }
    }
}

/// DynamoDB answers the metadata store acts on.
public enum DynamoDBError: Error, Hashable, Sendable, CustomStringConvertible {
    case conditionalCheckFailed
    case transactionCanceled(reasons: [String])
    case tableNotFound(String)
    case unprocessed(after: Int)

    public var description: String {
        switch self {
        case .conditionalCheckFailed: "the conditional request failed"
        case .transactionCanceled(let reasons): "transaction cancelled: \(reasons.joined(separator: ", "))"
        case .tableNotFound(let detail): "table not found: \(detail) — create the tables first"
        case .unprocessed(let rounds): "DynamoDB left items unprocessed after \(rounds) rounds"
        }
    }
}
