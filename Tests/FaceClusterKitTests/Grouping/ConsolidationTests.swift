import FaceClusterKit
import Foundation
import Testing

/// Person-level assignment and consolidation on synthetic faces whose similarities are set by angle: a face
/// at angle θ has the embedding (cos θ, sin θ), so two faces θ apart are cos θ × 100 similar.
@Suite("Grouping: person-level evidence and consolidation")
struct ConsolidationTests {
    /// A face at `degrees`.
    static func face(_ degrees: Double, slot: Int, of slots: Int = 2) -> SyntheticPhoto.Face {
        let radians = degrees * .pi / 180
        return SyntheticPhoto.Face(box: Layout.box(slot, of: slots), embedding: [Float(cos(radians)), Float(sin(radians))])
    }

    static func photo(_ angles: [Double]) -> SyntheticPhoto {
        SyntheticPhoto(width: 1200, height: 900, faces: angles.enumerated().map { face($1, slot: $0, of: max(angles.count, 2)) })
    }

    /// The people as sets of photo keys (by face position), independent of ids.
    static func partition(_ harness: Harness) async throws -> Set<Set<String>> {
        Set(try await harness.snapshot().groups.map(\.faces))
    }

    static func consolidate(_ harness: Harness, _ reports: [IngestionReport]) async throws -> Consolidation.Report {
        try await Consolidation(pipeline: harness.pipeline()).run(touching: reports.flatMap(\.faceIDs))
    }

    /// Ingests one photo of one face per (key, angle), in order, as `raw/KEY.jpg`.
    static func add(_ faces: [(key: String, angle: Double)], to harness: Harness) async throws -> [IngestionReport] {
        var reports: [IngestionReport] = []
        for (key, angle) in faces { reports.append(try await harness.add(Self.photo([angle]), as: "raw/\(key).jpg")) }
        return reports
    }

    @Test("two people in the review band are suggested, the one with more faces to stay, with the reason")
    func suggestions() async throws {
        // Alice at 0–2°, Bob at 30–31°: cos 30° ≈ 86.6 similar across, under the join threshold (90), over the
        // review threshold (80).
        let harness = Harness()
        let reports = try await Self.add([("b1", 30), ("a1", 0), ("a2", 1), ("b2", 31), ("a3", 2)], to: harness)
        _ = try await Self.consolidate(harness, reports)
        let review = GroupingReview(pipeline: harness.pipeline(), model: "synthetic")
        let suggestions = try await review.suggestions(limit: 5)
        try #require(suggestions.count == 1, "\(suggestions)")
        #expect(suggestions[0].first.faceCount == 3 && suggestions[0].second.faceCount == 2, "Alice (3 faces) stays, Bob would be merged into her")
        #expect(suggestions[0].similarity > 80 && suggestions[0].similarity < 90)
        #expect(suggestions[0].reason.contains("under the 90.0 needed"), "\(suggestions[0].reason)")
    }

    @Test("explain names the people a face is kept from by the same-photo rule")
    func explainSamePhoto() async throws {
        // Alice at 0–1°, then a photo showing her twice (a mirror): its two faces can never be one person.
        let harness = Harness()
        var reports = try await Self.add([("a1", 0), ("a2", 1)], to: harness)
        reports.append(try await harness.add(Self.photo([0.5, 0.6]), as: "raw/mirror.jpg"))
        _ = try await Self.consolidate(harness, reports)
        let twice = try #require(reports.last?.faceIDs)
        try #require(twice.count == 2)
        let review = GroupingReview(pipeline: harness.pipeline(), model: "synthetic")
        let alice = try await review.explain(try #require(reports.first?.faceIDs.first))
        #expect(alice.heldApartBySamePhoto.isEmpty, "a face alone in its photo is kept from no one")
        let explained = [try await review.explain(twice[0]), try await review.explain(twice[1])]
        // One of the two joined Alice; the other is kept from her, and says so.
        let kept = try #require(explained.first { $0.person.id != alice.person.id })
        #expect(explained.contains { $0.person.id == alice.person.id })
        #expect(kept.heldApartBySamePhoto == [alice.person.id], "\(kept.heldApartBySamePhoto)")
    }

    @Test("one outlier face no longer chains two people into one")
    func outlierChain() async throws {
        // Alice near 0°, Bob near 40° (cos 40° ≈ 77: strangers); the outlier at 20° is 94 similar to both.
        let harness = Harness()
        let reports = try await Self.add([("a1", 0), ("a2", 2), ("x", 20), ("b1", 40), ("b2", 38)], to: harness)
        // Single best match would have chained: x joins Alice through a2 (94), b1 then joins through x (94).
        let people = try await harness.metadata.people(page: PageRequest()).items
        #expect(!people.contains { $0.photoCount >= 4 }, "\(people.map(\.photoCount))")
        _ = try await Self.consolidate(harness, reports)
        let groups = try await Self.partition(harness)
        let alice = try #require(groups.first { $0.contains { $0.hasPrefix("raw/a1.jpg") } })
        let bob = try #require(groups.first { $0.contains { $0.hasPrefix("raw/b1.jpg") } })
        #expect(alice != bob, "two people stay two people: \(groups)")
        #expect(alice.contains { $0.hasPrefix("raw/a2.jpg") } && bob.contains { $0.hasPrefix("raw/b2.jpg") })
    }

    @Test("a face joins a person of several faces only on the evidence of two of them")
    func personLevelEvidence() async throws {
        let harness = Harness()
        try await harness.add(Self.photo([0]), as: "raw/1.jpg")
        try await harness.add(Self.photo([1]), as: "raw/2.jpg")
        #expect(try await harness.metadata.people(page: PageRequest()).items.map(\.faceCount) == [2])
        // 24°: 93 similar to the face at 1°… but 91 to the one at 0°: the mean, 92, joins (threshold 90).
        let joins = try await harness.add(Self.photo([24]), as: "raw/3.jpg")
        #expect(joins.matchedPeople.count == 1)
        // 32° from the group's faces at 0°, 1° and 24°: close to one of them only — it founds a new person.
        let apart = try await harness.add(Self.photo([50]), as: "raw/4.jpg")
        #expect(apart.newPeople.count == 1)
    }

    @Test("the people do not depend on the order photos arrive in", arguments: 0..<6)
    func orderIndependence(seed: UInt64) async throws {
        // Three people with spread-out faces and two ambiguous faces between them.
        let library: [(String, [Double])] = [
            ("1", [0, 60]), ("2", [3, 122]), ("3", [57, 118]), ("4", [6, 64]), ("5", [30]), ("6", [90]), ("7", [125]), ("8", [9, 63, 121]),
        ]
        func run(_ order: [(String, [Double])]) async throws -> Set<Set<String>> {
            let harness = Harness()
            var reports: [IngestionReport] = []
            for (key, angles) in order { reports.append(try await harness.add(Self.photo(angles), as: "raw/\(key).jpg")) }
            _ = try await Self.consolidate(harness, reports)
            return try await Self.partition(harness)
        }
        let reference = try await run(library)
        var generator = SplitMix64(seed: seed)
        #expect(try await run(library.shuffled(using: &generator)) == reference)
        #expect(reference.count >= 3)
    }

    @Test("consolidating twice changes nothing; ids stay with the people who hold most of their faces")
    func idempotentAndStable() async throws {
        var harness = Harness()
        // Strict at ingestion: every face founds its own person; consolidation at the default merges them.
        harness.configuration.policy.faceMatchThreshold = 99.99
        var reports: [IngestionReport] = []
        for (key, angle) in [("1", 0.0), ("2", 2.0), ("3", 4.0), ("4", 60.0), ("5", 62.0)] {
            reports.append(try await harness.add(Self.photo([angle]), as: "raw/\(key).jpg"))
        }
        #expect(try await harness.metadata.people(page: PageRequest()).items.count == 5)
        harness.configuration.policy.faceMatchThreshold = 90
        let first = try await Self.consolidate(harness, reports)
        #expect(first.merges.count == 3, "\(first)")
        let people = try await harness.metadata.people(page: PageRequest()).items
        #expect(people.map(\.photoCount).sorted() == [2, 3])
        // The survivors are the people founded first (ties go to the older person).
        #expect(Set(people.map(\.id)) == Set([reports[0].newPeople[0], reports[3].newPeople[0]]))
        let second = try await Self.consolidate(harness, reports)
        #expect(second.isEmpty, "\(second)")
    }

    @Test("a named person keeps their faces and name; two named people are never merged")
    func namedPeopleKept() async throws {
        var harness = Harness()
        harness.configuration.policy.faceMatchThreshold = 99.99
        var reports: [IngestionReport] = []
        for (key, angle) in [("1", 0.0), ("2", 2.0), ("3", 1.0)] {
            reports.append(try await harness.add(Self.photo([angle]), as: "raw/\(key).jpg"))
        }
        let (one, two) = (reports[0].newPeople[0], reports[1].newPeople[0])
        _ = try await harness.gallery.rename(one, to: "Ann")
        _ = try await harness.gallery.rename(two, to: "Anna")
        harness.configuration.policy.faceMatchThreshold = 90
        _ = try await Self.consolidate(harness, reports)
        let people = try await harness.metadata.people(page: PageRequest()).items
        #expect(Set(people.compactMap(\.name)) == ["Ann", "Anna"], "both named people stay")
        #expect(people.count == 2, "the unnamed face joined one of them: \(people.map { ($0.name, $0.photoCount) })")
    }

    @Test("strangers stay unassigned until enough of their faces agree, or a user makes them a person")
    func strangers() async throws {
        var harness = Harness()
        harness.configuration.policy.minimumFacesPerPerson = 3
        var gallery = harness.gallery
        gallery.minimumFacesPerPerson = 3
        try await harness.add(Self.photo([0]), as: "raw/1.jpg")
        try await harness.add(Self.photo([1]), as: "raw/2.jpg")
        let stranger = try await harness.add(Self.photo([90]), as: "raw/3.jpg")
        #expect(try await gallery.people().items.isEmpty, "two faces, then one: nobody is a person yet")
        #expect(try await gallery.unassignedFaces().items.map(\.faceCount).sorted() == [1, 2])
        try await harness.add(Self.photo([2]), as: "raw/4.jpg")
        #expect(try await gallery.people().items.map(\.faceCount) == [3], "the third face makes them a person")
        #expect(try await gallery.unassignedFaces().items.map(\.faceCount) == [1])
        _ = try await gallery.makePerson(from: try #require(stranger.faceIDs.first), name: "Visitor")
        #expect(try await gallery.people().items.count == 2)
        #expect(try await gallery.unassignedFaces().items.isEmpty)
    }

    @Test("on the stored face graph (as with Rekognition) consolidation fixes a split the same way")
    func storedGraph() async throws {
        var harness = Harness()
        harness.configuration.policy.faceMatchThreshold = 99.99
        harness.configuration.policy.reviewThreshold = 80
        var reports: [IngestionReport] = []
        for (key, angle) in [("1", 0.0), ("2", 2.0), ("3", 4.0), ("4", 60.0)] {
            reports.append(try await harness.add(Self.photo([angle]), as: "raw/\(key).jpg"))
        }
        harness.configuration.policy.faceMatchThreshold = 90
        let consolidation = Consolidation(
            metadata: harness.metadata, source: StoredFaceGraph(metadata: harness.metadata), policy: harness.configuration.policy, clock: harness.clock)
        _ = try await consolidation.run(touching: reports.flatMap(\.faceIDs))
        #expect(try await harness.metadata.people(page: PageRequest()).items.map(\.photoCount).sorted() == [1, 3])
    }
}
