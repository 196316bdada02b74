#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A DynamoDB `AttributeValue`: encoded as AWS's one-key objects (`{"S": "…"}`, `{"N": "42"}` — numbers
/// travel as strings —, `{"B": "<base64>"}`, `{"M": {…}}`, …).
public indirect enum DynamoDBValue: Hashable, Sendable, Codable {
    case string(String)
    case number(String)
    case binary(Data)
    case bool(Bool)
    case null
    case map([String: DynamoDBValue])
    case list([DynamoDBValue])
    case stringSet([String])
    case numberSet([String])
    case binarySet([Data])

    public static func number(_ value: Int) -> DynamoDBValue { .number(String(value)) }

    public var stringValue: String? { if case .string(let value) = self { value } else { nil } }
    public var intValue: Int? { if case .number(let value) = self { Int(value) } else { nil } }
    public var boolValue: Bool? { if case .bool(let value) = self { value } else { nil } }

    private enum Key: String, CodingKey { case S, N, B, BOOL, NULL, M, L, SS, NS, BS }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        guard let key = container.allKeys.first, container.allKeys.count == 1 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "an AttributeValue has exactly one key"))
        }
        switch key {
        case .S: self = .string(try container.decode(String.self, forKey: key))
        case .N: self = .number(try container.decode(String.self, forKey: key))
        case .B: self = .binary(try container.decode(Data.self, forKey: key))
        case .BOOL: self = .bool(try container.decode(Bool.self, forKey: key))
        case .NULL: self = .null
        case .M: self = .map(try container.decode([String: DynamoDBValue].self, forKey: key))
        case .L: self = .list(try container.decode([DynamoDBValue].self, forKey: key))
        case .SS: self = .stringSet(try container.decode([String].self, forKey: key))
        case .NS: self = .numberSet(try container.decode([String].self, forKey: key))
        case .BS: self = .binarySet(try container.decode([Data].self, forKey: key))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        switch self {
        case .string(let value): try container.encode(value, forKey: .S)
        case .number(let value): try container.encode(value, forKey: .N)
        case .binary(let value): try container.encode(value, forKey: .B)
        case .bool(let value): try container.encode(value, forKey: .BOOL)
        case .null: try container.encode(true, forKey: .NULL)
        case .map(let value): try container.encode(value, forKey: .M)
        case .list(let value): try container.encode(value, forKey: .L)
        case .stringSet(let value): try container.encode(value, forKey: .SS)
        case .numberSet(let value): try container.encode(value, forKey: .NS)
        case .binarySet(let value): try container.encode(value, forKey: .BS)
        }
    }
}

/// An item: attribute names to values.
public typealias DynamoDBItem = [String: DynamoDBValue]

/// A condition, key-condition or update expression with its `#name` and `:value` placeholders.
public struct DynamoDBExpression: Sendable {
    public var expression: String
    public var names: [String: String]
    public var values: [String: DynamoDBValue]

    public init(_ expression: String, names: [String: String] = [:], values: [String: DynamoDBValue] = [:]) {
        self.expression = expression
        self.names = names
        self.values = values
    }
}
