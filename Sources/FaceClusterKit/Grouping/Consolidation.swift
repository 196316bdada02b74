#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Re-derives the people of a part of the library from the face graph, and applies the difference.
///
/// A face joins a person when it arrives, on what is known then; the order photos arrive in decides the
/// rest, and an outlier can chain two people. Consolidation looks again at every face of the affected
/// *components* — the faces linked, directly or through others, by similarities at or above
/// ``GroupingPolicy/faceMatchThreshold``, together with every face of the people they belong to — and
/// clusters them with ``AverageLinkage``, under constraints:
/// - two faces of one photo are never one person, but a photo showing one person twice (a mirror, a collage)
///   does not split that person: one of its two faces stays out, alone (``AverageLinkage/Input/samePhoto``);
/// - a user's "not this person" keeps those faces apart (cannot-link);
/// - a confirmed person's faces (named or pinned by a user) stay together, and two confirmed people are never
///   merged (a user's word stands);
/// - a person of one face needs ``GroupingPolicy/singleFaceMatchThreshold``.
///
/// The clusters become people with stable ids: each existing person goes to the cluster holding most of its
/// faces (and keeps its name); a person whose faces all land in one other person's cluster is merged into it
/// (its id keeps resolving); a cluster with no person gets a new one, whose id derives from its faces. The
/// changes are one automatic operation in the journal (``PeopleJournal``): finished after a crash, undoable.
/// So running it twice changes nothing, and the people do not depend on the order photos arrived in when the
/// similarity source is exact (``FaceSimilaritySource/isComplete``).
///
/// Cost: the component's faces' appearances and people (a few metadata reads each), the similarities among
/// them (vectors: no request; the stored graph: one query per face), the clustering (O(E log E)), then one
/// metadata write per face that changes person. Runs at the end of every local `ingest` on what it touched,
/// as `facecluster recluster` on everything, and from the SDK (a Lambda after each batch).
public struct Consolidation: Sendable {
    public let metadata: any MetadataStore
    public let source: any FaceSimilaritySource
    public let policy: GroupingPolicy
    public let clock: any WallClock
    /// A component larger than this is left as it is (and reported): a guard against a runaway graph.
    public var maximumComponentFaces = 50_000
    /// Set after an undone merge (``Gallery/undo(_:)``, ``Gallery/regroupAfterUndoneMerge``): faces whose photos
    /// arrived since may have joined the merged person only because of it. A run then regroups only the
    /// components holding faces added after the merge, and the merge's two people do not hold those of their faces
    /// together: they are placed as if their person were not confirmed, and do not count toward its claim on a
    /// cluster. A component is found through the face graph, so it also reaches such faces an earlier regrouping
    /// put with a third person (merges made in a chain, undone in order).
    public var undoneMerge: UndoneMerge?

    /// A merge just undone (or a move: the people it moved faces between): when it was made, and its two people.
    public struct UndoneMerge: Sendable, Hashable {
        public var at: Date
        public var people: Set<PersonID>
        /// The undo that reversed it: the regrouping's operations name it (``PeopleOperation/follows``).
        public var undo: String?

        public init(at: Date, people: Set<PersonID>, undo: String? = nil) {
            self.at = at
            self.people = people
            self.undo = undo
        }

        /// What an undo of `operation` by `undo` leaves to regroup: `nil` unless it is a user's merge or move
        /// (an automatic regrouping placed its faces by the evidence already: placing them again would redo it).
        public init?(undoing operation: PeopleOperation, by undo: String?) {
            guard !operation.automatic, operation.kind == .merge || operation.kind == .move else { return nil }
            var people = Set<PersonID>()
            for change in operation.changes {
                switch change {
                case .merge(let absorbed, let into): people.formUnion([absorbed, into])
                case .move(_, let from, let to): people.formUnion([from, to])
                default: continue
                }
            }
            self.init(at: operation.at, people: people, undo: undo)
        }

        /// The faces of its people now: where the regrouping starts.
        public func faces(in metadata: any MetadataStore) async throws -> [FaceID] {
            var faces: [FaceID] = []
            for person in people.sorted() {
                faces += try await Page.all(pageSize: 500) { try await metadata.appearances(ofPerson: person, page: $0) }.map(\.faceID)
            }
            return faces
        }
    }

    public init(metadata: any MetadataStore, source: any FaceSimilaritySource, policy: GroupingPolicy, clock: any WallClock = SystemWallClock()) {
        self.metadata = metadata
        self.source = source
        self.policy = policy
        self.clock = clock
    }

    /// The consolidation of `pipeline`'s library: its index as the similarity source when it holds the vectors,
    /// the stored face graph otherwise.
    public init(pipeline: IngestionPipeline) {
        self.init(metadata: pipeline.metadata, index: pipeline.index, policy: pipeline.configuration.policy, clock: pipeline.clock)
    }

    /// The consolidation of a library with these stores: `index` as the similarity source when it holds the
    /// vectors, the face graph stored in `metadata` otherwise.
    public init(metadata: any MetadataStore, index: any FaceIndex, policy: GroupingPolicy, clock: any WallClock) {
        let source: any FaceSimilaritySource = (index as? any FaceSimilaritySource).flatMap { $0.isComplete ? $0 : nil }
            ?? StoredFaceGraph(metadata: metadata)
        self.init(metadata: metadata, source: source, policy: policy, clock: clock)
    }

    /// What a run changed.
    public struct Report: Sendable, Hashable {
        /// Faces looked at, in how many components.
        public var faces = 0
        public var components = 0
        /// People merged into another (the first into the second).
        public var merges: [Merge] = []
        /// Faces that moved from one person to another (beyond merges).
        public var moves: [Move] = []
        /// People created for faces split off.
        public var newPeople: [PersonID] = []
        /// Components left alone because they were larger than ``maximumComponentFaces``.
        public var skippedComponents = 0
        /// The automatic operations journaled: one per group of linked faces that changed.
        public var operations: [PeopleOperation] = []
        public var duration: Duration = .zero

        public struct Merge: Sendable, Hashable {
            public var absorbed: PersonID
            public var into: PersonID
        }

        public struct Move: Sendable, Hashable {
            public var face: FaceID
            public var from: PersonID
            public var to: PersonID
        }

        /// Operations a crash had left half applied, finished before consolidating.
        public var recoveredOperations = 0
        /// Whether nothing changed.
        public var isEmpty: Bool { merges.isEmpty && moves.isEmpty && newPeople.isEmpty && recoveredOperations == 0 }
    }

    /// The regrouping of each undo that awaits one (``PeopleOperation/awaitsRegrouping``: a crash came between the
    /// undo and its regrouping) among the newest `recent` operations, oldest first; returns the operations it
    /// journaled. Every run (``run(touching:)``) does this first.
    public func finishRegroupings(recent: Int = 100) async throws -> [PeopleOperation] {
        var report = Report()
        try await finishRegroupings(recent: recent, into: &report)
        return report.operations
    }

    /// ``finishRegroupings(recent:)``, adding what they changed to `report`.
    private func finishRegroupings(recent: Int = 100, into report: inout Report) async throws {
        for undo in try await Self.awaitingRegrouping(in: metadata, recent: recent) {
            _ = try await Self.regroup(after: undo, in: metadata) { faces, merge in
                let regrouped = try await run(touching: faces, after: merge)
                report.merges += regrouped.merges
                report.moves += regrouped.moves
                report.newPeople += regrouped.newPeople
                report.operations += regrouped.operations
                return regrouped
            }
        }
    }

    /// The undos among the newest `recent` operations whose regrouping has not run, oldest first.
    public static func awaitingRegrouping(in metadata: any MetadataStore, recent: Int = 100) async throws -> [PeopleOperation] {
        awaitingRegrouping(among: try await metadata.operations(page: PageRequest(limit: recent)).items)
    }

    /// Those of `operations` (newest first, as the journal lists them) that are undos whose regrouping has not
    /// run, oldest first.
    public static func awaitingRegrouping(among operations: [PeopleOperation]) -> [PeopleOperation] {
        operations.filter { $0.kind == .undo && $0.state == .applied && $0.awaitsRegrouping == true }.reversed()
    }

    /// Runs `regroup` for `undo` (the faces of the people its operation touched, with ``undoneMerge``), then marks
    /// the undo as no longer awaiting it; returns what the regrouping journaled.
    public static func regroup(
        after undo: PeopleOperation, in metadata: any MetadataStore,
        with regroup: (_ faces: [FaceID], _ merge: UndoneMerge) async throws -> Report
    ) async throws -> [PeopleOperation] {
        var journaled: [PeopleOperation] = []
        if let undone = undo.undoes, let operation = try await metadata.operation(undone), let merge = UndoneMerge(undoing: operation, by: undo.id) {
            journaled = try await regroup(try await merge.faces(in: metadata), merge).operations
        }
        // Read again: the stored undo is the one to mark (a recovery may have written it since).
        if var stored = try await metadata.operation(undo.id), stored.awaitsRegrouping != nil {
            stored.awaitsRegrouping = nil
            try await metadata.saveOperation(stored)
        }
        return journaled
    }

    /// A run after `merge` was undone, on the faces of its two people (``undoneMerge``): what
    /// ``Gallery/regroupAfterUndoneMerge`` calls, locally and in the API function alike.
    public func run(touching faces: [FaceID], after merge: UndoneMerge) async throws -> Report {
        var run = self
        run.undoneMerge = merge
        return try await run.run(touching: faces)
    }

    /// Consolidates the components `faces` belong to.
    ///
    /// First finishes the people operations a crash left half applied (``PeopleJournal/recover(recent:)``): a
    /// Lambda killed mid-consolidation had left a merge whose absorbed person was deleted and whose faces were
    /// not yet moved, faces no listing showed and no later consolidation saw (found by `scripts/chaos.sh`).
    public func run(touching faces: [FaceID]) async throws -> Report {
        let started = ContinuousClock.now
        var report = Report()
        report.recoveredOperations = try await PeopleJournal(metadata: metadata, index: nil, clock: clock).recover().count
        if undoneMerge == nil { try await finishRegroupings(into: &report) }
        var done = Set<FaceID>()
        for seed in Array(Set(faces)).sorted() where !done.contains(seed) {
            let component = try await self.component(from: seed)
            done.formUnion(component)
            guard component.count <= maximumComponentFaces else {
                report.skippedComponents += 1
                continue
            }
            guard !component.isEmpty else { continue }
            report.components += 1
            report.faces += component.count
            try await consolidate(component.sorted(), into: &report)
        }
        report.duration = ContinuousClock.now - started
        return report
    }

    /// Consolidates every person's faces, and `faces` (faces that may have no person yet).
    public func runAll(alsoTouching faces: [FaceID] = []) async throws -> Report {
        let people = try await Page.all(pageSize: 500) { try await metadata.people(page: $0) }
        var faces = faces
        for person in people {
            faces += try await Page.all(pageSize: 500) { try await metadata.appearances(ofPerson: person.id, page: $0) }.map(\.faceID)
        }
        return try await run(touching: faces)
    }

    /// The faces linked to `seed` at the join threshold, and every face of the people among them.
    func component(from seed: FaceID) async throws -> Set<FaceID> {
        var members: Set<FaceID> = [seed]
        var frontier: [FaceID] = [seed]
        var peopleSeen = Set<PersonID>()
        while !frontier.isEmpty, members.count <= maximumComponentFaces {
            var next = Set<FaceID>()
            for edge in try await source.neighbours(of: frontier, atLeast: policy.faceMatchThreshold) {
                next.insert(edge.a)
                next.insert(edge.b)
            }
            let appearances = try await metadata.appearances(ofFaces: frontier)
            for person in Set(appearances.values.map(\.personID)).subtracting(peopleSeen).sorted() {
                peopleSeen.insert(person)
                next.formUnion(try await Page.all(pageSize: 500) { try await metadata.appearances(ofPerson: person, page: $0) }.map(\.faceID))
            }
            frontier = next.subtracting(members).sorted()
            members.formUnion(frontier)
        }
        return members
    }

    /// One group of linked faces regrouped, under ``PeopleOperationLock``: from reading its people to journaling
    /// the changes, no other people operation of this process runs.
    private func consolidate(_ faces: [FaceID], into report: inout Report) async throws {
        report = try await PeopleOperationLock.shared.run { [report] in
            var report = report
            try await consolidateNow(faces, into: &report)
            return report
        }
    }

    private func consolidateNow(_ faces: [FaceID], into report: inout Report) async throws {
        let appearances = try await metadata.appearances(ofFaces: faces)
        let grouped = faces.filter { appearances[$0] != nil }
        guard !grouped.isEmpty else { return }
        var people: [PersonID: Person] = [:]
        for id in Set(appearances.values.map(\.personID)).sorted() {
            if let person = try await metadata.person(id) { people[id] = person }
        }
        var released = Set<FaceID>()
        if let undoneMerge {
            let later = grouped.filter { appearances[$0]!.photoAddedAt > undoneMerge.at }
            guard !later.isEmpty else { return }
            released = Set(later.filter { undoneMerge.people.contains(appearances[$0]!.personID) })
        }
        let index = Dictionary(uniqueKeysWithValues: grouped.enumerated().map { ($1, $0) })

        // Constraints: one photo's faces apart; a named person's faces together, and apart from other named people.
        var cannotLink: [(Int, Int)] = []
        var samePhoto: [(Int, Int)] = []
        for (_, faces) in Dictionary(grouping: grouped, by: { appearances[$0]!.photoID }) where faces.count > 1 {
            for i in faces.indices { for j in faces.indices where j > i { samePhoto.append((index[faces[i]]!, index[faces[j]]!)) } }
        }
        for pair in try await metadata.cannotLinks(touching: grouped) {
            if let a = index[pair.a], let b = index[pair.b] { cannotLink.append((a, b)) }
        }
        var groups: [[Int]] = []
        var pinned = Set<Int>()
        for (personID, faces) in Dictionary(grouping: grouped, by: { appearances[$0]!.personID }).sorted(by: { $0.key < $1.key })
        where people[personID]?.isConfirmed == true {
            let held = faces.filter { !released.contains($0) }
            guard !held.isEmpty else { continue }
            pinned.insert(groups.count)
            groups.append(held.map { index[$0]! })
        }
        let pairs = try await source.similarities(among: grouped).compactMap { edge -> AverageLinkage.Pair? in
            guard let a = index[edge.a], let b = index[edge.b] else { return nil }
            return AverageLinkage.Pair(a, b, edge.similarity)
        }
        let linkage = AverageLinkage(threshold: policy.faceMatchThreshold, singleItemThreshold: policy.singleFaceMatchThreshold)
        let clusters = linkage.clusters(.init(
            count: grouped.count, pairs: pairs, cannotLink: cannotLink, groups: groups, pinnedGroups: pinned, samePhoto: samePhoto))
            .map { $0.map { grouped[$0] } }

        // Each existing person goes to the cluster holding most of its faces (ties: the older person, then the
        // earlier cluster); each cluster keeps at most one person. Released faces do not count: they are not
        // their person's by its word (after an undone merge, a named person with 5 faces of their own and 5 of
        // the other's that arrived since went with the other's cluster, name and all).
        var overlaps: [(cluster: Int, person: PersonID, faces: Int)] = []
        for (number, cluster) in clusters.enumerated() {
            for (person, count) in Dictionary(grouping: cluster.filter { !released.contains($0) }, by: { appearances[$0]!.personID }).mapValues(\.count) {
                overlaps.append((number, person, count))
            }
        }
        overlaps.sort { a, b in
            if a.faces != b.faces { return a.faces > b.faces }
            if let p = people[a.person], let q = people[b.person], p != q { return p.precedes(q) }
            return a.person != b.person ? a.person < b.person : a.cluster < b.cluster
        }
        var personOfCluster: [Int: PersonID] = [:]
        var placed = Set<PersonID>()
        for overlap in overlaps where personOfCluster[overlap.cluster] == nil && !placed.contains(overlap.person) {
            personOfCluster[overlap.cluster] = overlap.person
            placed.insert(overlap.person)
        }

        // The changes, journaled as one automatic operation: a person placed nowhere whose faces all went to one
        // cluster is merged into that cluster's person (its id keeps resolving); every other face not where its
        // cluster is moves there; a cluster with no person founds one.
        let now = clock.now()
        var changes: [PeopleOperation.Change] = []
        var moved = Set<FaceID>()
        var updatedTargets: [PersonID: Person] = [:]
        let byPerson = Dictionary(grouping: grouped, by: { appearances[$0]!.personID })
        func clusterIndex(of face: FaceID) -> Int? { clusters.firstIndex { $0.contains(face) } }
        for (personID, faces) in byPerson.sorted(by: { $0.key < $1.key }) where !placed.contains(personID) {
            let clustersOfPerson = Set(faces.compactMap(clusterIndex(of:)))
            guard clustersOfPerson.count == 1, let cluster = clustersOfPerson.first, let target = personOfCluster[cluster],
                  let absorbed = people[personID], let into = updatedTargets[target] ?? people[target]
            else { continue }
            var merged = into
            merged.name = into.name ?? absorbed.name
            merged.pinned = into.pinned || absorbed.pinned
            merged.createdAt = min(into.createdAt, absorbed.createdAt)
            changes.append(.person(before: people[target], after: merged))
            changes.append(.person(before: absorbed, after: nil))
            changes.append(.merge(absorbed: personID, into: target))
            for face in faces.sorted() {
                changes.append(.move(face: face, from: personID, to: target))
                moved.insert(face)
            }
            updatedTargets[target] = merged
            report.merges.append(.init(absorbed: personID, into: target))
            placed.insert(personID)
        }
        var emptied = Set(byPerson.keys).subtracting(placed)
        for (number, cluster) in clusters.enumerated() {
            let target = personOfCluster[number] ?? Self.newPersonID(for: cluster)
            if personOfCluster[number] == nil {
                changes.append(.person(before: nil, after: Person(id: target, coverFaceID: cluster.first, createdAt: now, updatedAt: now)))
                report.newPeople.append(target)
            }
            for face in cluster where !moved.contains(face) {
                guard let from = appearances[face]?.personID, from != target else { continue }
                changes.append(.move(face: face, from: from, to: target))
                report.moves.append(.init(face: face, from: from, to: target))
            }
        }
        // People whose faces all moved elsewhere disappear.
        emptied.subtract(personOfCluster.values)
        for personID in emptied.sorted() where !report.merges.contains(where: { $0.absorbed == personID }) {
            if let person = people[personID] { changes.append(.person(before: person, after: nil)) }
        }
        guard !changes.isEmpty else { return }
        // One operation per group of linked faces that changed (a run's report counts every group it looked at).
        let summary = "regrouped a group of \(grouped.count) faces: \(report.merges.count) merged, \(report.moves.count) moved, \(report.newPeople.count) new"
        var operation = PeopleOperation(kind: .consolidation, automatic: true, at: now, summary: summary, changes: changes)
        operation.follows = undoneMerge?.undo
        report.operations.append(try await PeopleJournal(metadata: metadata, index: nil, clock: clock)
            .perform(operation))
    }

    /// The id of a person founded by consolidation: derived from its faces, so the same cluster gets the same id.
    static func newPersonID(for faces: [FaceID]) -> PersonID {
        PersonID(rawValue: "p_" + Base32.digest(of: "cluster\u{0}" + faces.sorted().map(\.rawValue).joined(separator: "\u{0}"), characters: 26))
    }
}
