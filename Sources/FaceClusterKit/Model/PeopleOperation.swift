#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// Two faces, unordered (stored with the smaller id first): a user's "not this person" between them.
public struct FacePair: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public let a: FaceID
    public let b: FaceID

    public init(_ x: FaceID, _ y: FaceID) { (a, b) = x < y ? (x, y) : (y, x) }

    public static func < (lhs: FacePair, rhs: FacePair) -> Bool { (lhs.a, lhs.b) < (rhs.a, rhs.b) }
    public var description: String { "\(a)≠\(b)" }
}

/// One people operation in the journal — a user's rename, merge, move or new person, or an automatic
/// consolidation — with every change it made, so it can be finished after a crash and undone exactly.
///
/// An operation is written `pending` with its changes before any of them is applied, then `applied`; each
/// change is idempotent, so a pending operation found later (the process died midway) is applied again from
/// the start. Undoing applies the inverse changes in reverse order, as an operation of its own.
public struct PeopleOperation: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable {
        case rename, merge, move
        case makePerson = "make_person"
        case consolidation
        case undo
    }

    public enum State: String, Hashable, Sendable, Codable {
        case pending, applied, undone
        /// Stopped part way and cannot be finished: a person it moves faces to is gone (forgotten since). What it
        /// applied before stays; it is not undone and holds no later operation back.
        case abandoned
    }

    /// What an operation changes, each idempotent.
    public enum Change: Hashable, Sendable, Codable {
        /// A person's details (name, pin, cover, creation date) before and after; `before == nil`: the person
        /// is created by the moves that follow; `after == nil`: it disappears (its last face moved away).
        case person(before: Person?, after: Person?)
        /// A face moves from one person to another.
        case move(face: FaceID, from: PersonID, to: PersonID)
        /// A person is merged into another: its id redirects there from now on.
        case merge(absorbed: PersonID, into: PersonID)
        /// A user's "not this person" between faces, recorded…
        case cannotLinks([FacePair])
        /// … or forgotten (the undo of the above).
        case cannotLinksRemoved([FacePair])
        /// A face's association with a person's vector in the index (Rekognition users).
        case association(face: FaceID, from: PersonID?, to: PersonID?)

        // Encoded as Swift synthesizes it, `{"move": {"face": …, "from": …, "to": …}}`, except that the pairs of
        // `cannotLinks` and `cannotLinksRemoved` are named `pairs`, not `_0`. Journals written before hold `_0`;
        // both are read.
        private enum CodingKeys: String, CodingKey { case person, move, merge, cannotLinks, cannotLinksRemoved, association }
        private enum PersonCodingKeys: String, CodingKey { case before, after }
        private enum MoveCodingKeys: String, CodingKey { case face, from, to }
        private enum MergeCodingKeys: String, CodingKey { case absorbed, into }
        private enum CannotLinksCodingKeys: String, CodingKey { case _0 = "pairs" }
        private enum CannotLinksRemovedCodingKeys: String, CodingKey { case _0 = "pairs" }
        private enum AssociationCodingKeys: String, CodingKey { case face, from, to }
        private enum PairsCodingKeys: String, CodingKey { case pairs, _0 }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            guard container.allKeys.count == 1, let key = container.allKeys.first else {
                throw DecodingError.dataCorrupted(.init(codingPath: container.codingPath, debugDescription: "a change has exactly one kind"))
            }
            switch key {
            case .person:
                let values = try container.nestedContainer(keyedBy: PersonCodingKeys.self, forKey: key)
                self = .person(before: try values.decodeIfPresent(Person.self, forKey: .before), after: try values.decodeIfPresent(Person.self, forKey: .after))
            case .move:
                let values = try container.nestedContainer(keyedBy: MoveCodingKeys.self, forKey: key)
                self = .move(face: try values.decode(FaceID.self, forKey: .face), from: try values.decode(PersonID.self, forKey: .from), to: try values.decode(PersonID.self, forKey: .to))
            case .merge:
                let values = try container.nestedContainer(keyedBy: MergeCodingKeys.self, forKey: key)
                self = .merge(absorbed: try values.decode(PersonID.self, forKey: .absorbed), into: try values.decode(PersonID.self, forKey: .into))
            case .cannotLinks, .cannotLinksRemoved:
                let values = try container.nestedContainer(keyedBy: PairsCodingKeys.self, forKey: key)
                let pairs = try values.decodeIfPresent([FacePair].self, forKey: .pairs) ?? values.decode([FacePair].self, forKey: ._0)
                self = key == .cannotLinks ? .cannotLinks(pairs) : .cannotLinksRemoved(pairs)
            case .association:
                let values = try container.nestedContainer(keyedBy: AssociationCodingKeys.self, forKey: key)
                self = .association(
                    face: try values.decode(FaceID.self, forKey: .face), from: try values.decodeIfPresent(PersonID.self, forKey: .from),
                    to: try values.decodeIfPresent(PersonID.self, forKey: .to))
            }
        }
    }

    /// Sorts by time: `op_` + milliseconds since 1970 (13 digits) + 6 random base32 characters.
    public var id: String
    public var kind: Kind
    /// Made by consolidation, not by a user.
    public var automatic: Bool
    public var at: Date
    /// What it did, in words (`merged p_… into p_…`).
    public var summary: String
    public var changes: [Change]
    public var state: State
    /// For an undo: the operation it reversed.
    public var undoes: String?
    /// The undo that reversed this operation.
    public var undoneBy: String?
    /// For an undo of a user's merge or move whose regrouping (``Gallery/regroupAfterUndoneMerge``) has not run
    /// yet: `true` as the undo is written, cleared once the regrouping is done. A crash between the two leaves it
    /// set, and the next consolidation (`ingest`, `recluster`, `repair`, the next undo, the Lambda's next batch)
    /// runs the regrouping (``Consolidation/finishRegroupings(recent:)``). `nil` otherwise.
    public var awaitsRegrouping: Bool?
    /// For an automatic regrouping that followed an undo (``Gallery/regroupAfterUndoneMerge``): that undo. A bare
    /// ``PeopleJournal/undo(_:awaitingRegrouping:)`` passes over it, as it passes over undos: it completes the
    /// undo a user asked for, and undoing it alone (name it) puts back what that undo set right.
    public var follows: String?

    public init(kind: Kind, automatic: Bool, at: Date, summary: String, changes: [Change], undoes: String? = nil) {
        self.id = Self.id(milliseconds: max(0, Int64(at.timeIntervalSince1970 * 1000)))
        self.kind = kind
        self.automatic = automatic
        self.at = at
        self.summary = summary
        self.changes = changes
        self.state = .pending
        self.undoes = undoes
    }

    /// Whether `text` has the form of an operation id: `op_` and 1–61 lowercase letters and digits (the API's
    /// pattern, `^op_[0-9a-z]+$`, at most 64 characters). What it refuses is a 400, never a lookup.
    public static func isWellFormedID(_ text: String) -> Bool {
        text.hasPrefix("op_") && (4...64).contains(text.count) && text.dropFirst(3).allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber) }
    }

    /// `op_` + `milliseconds` (13 digits) + 6 random base32 characters.
    static func id(milliseconds: Int64) -> String {
        let digits = String(milliseconds)
        return "op_" + String(repeating: "0", count: max(0, 13 - digits.count)) + digits
            + Base32.encode(Array(SHA256.hash(data: Array(UUID().uuidString.utf8))), characters: 6)
    }

    /// An id that sorts after `other` (one millisecond later): operations made within one millisecond, or on a
    /// clock that stood still, keep their order.
    static func id(after other: String) -> String {
        id(milliseconds: (Int64(other.dropFirst(3).prefix(13)) ?? 0) + 1)
    }

    /// The faces the operation moved.
    public var movedFaces: [FaceID] {
        changes.compactMap { if case .move(let face, _, _) = $0 { face } else { nil } }
    }
}
