import FaceClusterKit
import Foundation
import Testing

/// A user's corrections — rename, merge, "not this person", make a person — survive consolidation; every
/// people operation is journaled and undone exactly; a crash at any step of one is finished by recovery.
@Suite("Grouping: corrections, journal and undo")
struct CorrectionsTests {
    static let (alice, bob, carol) = (Identity(1), Identity(2), Identity(3))

    /// Everything undo must restore: each person's details and counts, each face's person, the user's
    /// constraints and the faces' associations.
    struct State: Equatable, CustomStringConvertible {
        struct PersonState: Hashable {
            var id: PersonID
            var name: String?
            var pinned: Bool
            var photoCount: Int
            var faceCount: Int
            var cover: FaceID?
            var createdAt: Date
        }
        var people: Set<PersonState>
        var faces: [FaceID: PersonID]
        var cannotLinks: [FacePair]
        var associations: [FaceID: PersonID]
        var description: String { "people \(people.map { "\($0.id.rawValue.prefix(8)) \($0.name ?? "-") \($0.faceCount)" }.sorted()), faces \(faces.count), links \(cannotLinks.count)" }
    }

    static func state(_ harness: Harness, faces: [FaceID]) async throws -> State {
        let people = try await Page.all { try await harness.metadata.people(page: $0) }
        var byFace: [FaceID: PersonID] = [:]
        for (face, appearance) in try await harness.metadata.appearances(ofFaces: faces) { byFace[face] = appearance.personID }
        var associations: [FaceID: PersonID] = [:]
        if let index = harness.index as? InMemoryFaceIndex {
            for face in faces { associations[face] = await index.person(associatedWith: face) }
        }
        return State(
            people: Set(people.map { .init(id: $0.id, name: $0.name, pinned: $0.pinned, photoCount: $0.photoCount, faceCount: $0.faceCount, cover: $0.coverFaceID, createdAt: $0.createdAt) }),
            faces: byFace, cannotLinks: try await harness.metadata.cannotLinks(touching: faces), associations: associations)
    }

    /// Alice in photos 1–3 (one person), Bob in 1 and 4, Carol in 5.
    static func library(_ store: LibraryRepairTests.Store = .inMemory, plan: CallPlan = .indexed) async throws -> (Harness, [IngestionReport]) {
        var harness = try await store.harness()
        harness.configuration.callPlan = plan
        var reports: [IngestionReport] = []
        reports.append(try await harness.add(Layout.photo([alice, bob]), as: "raw/1.jpg"))
        reports.append(try await harness.add(Layout.photo([alice], variant: 1), as: "raw/2.jpg"))
        reports.append(try await harness.add(Layout.photo([alice], variant: 2), as: "raw/3.jpg"))
        reports.append(try await harness.add(Layout.photo([bob], variant: 1), as: "raw/4.jpg"))
        reports.append(try await harness.add(Layout.photo([carol]), as: "raw/5.jpg"))
        return (harness, reports)
    }

    /// ``library(_:plan:)`` with a gallery that regroups after an undone merge or move, as the local library's does.
    static func regroupingLibrary() async throws -> (Harness, [IngestionReport], Gallery, IngestionPipeline) {
        let (harness, reports) = try await library()
        var gallery = harness.gallery
        let pipeline = harness.pipeline()
        gallery.regroupAfterUndoneMerge = { faces, merge in try await Consolidation(pipeline: pipeline).run(touching: faces, after: merge) }
        return (harness, reports, gallery, pipeline)
    }

    static func person(of face: FaceID, _ harness: Harness) async throws -> PersonID {
        try #require(try await harness.metadata.appearances(ofFaces: [face])[face]).personID
    }

    @Test("merge, move, rename, make-person: each undone restores the exact earlier state", arguments: LibraryRepairTests.Store.available)
    func undoRestoresExactly(_ store: LibraryRepairTests.Store) async throws {
        let (harness, reports) = try await Self.library(store)
        let faces = reports.flatMap(\.faceIDs)
        let gallery = harness.gallery
        let aliceFace = reports[1].faceIDs[0], bobFace = reports[3].faceIDs[0], carolFace = reports[4].faceIDs[0]
        let (aliceID, bobID, carolID) = (try await Self.person(of: aliceFace, harness), try await Self.person(of: bobFace, harness), try await Self.person(of: carolFace, harness))

        let before = try await Self.state(harness, faces: faces)
        _ = try await gallery.merge(carolID, into: bobID)
        #expect(try await gallery.person(carolID).id == bobID)
        _ = try await gallery.undo()
        #expect(try await Self.state(harness, faces: faces) == before, "merge undone")
        #expect(try await gallery.person(carolID).id == carolID, "the absorbed id is a person of its own again")

        _ = try await gallery.move(aliceFace, to: nil)
        #expect(try await Self.person(of: aliceFace, harness) != aliceID)
        #expect(try await harness.metadata.cannotLinks(touching: [aliceFace]).count == 2, "not the person it left: two faces of Alice remain")
        _ = try await gallery.undo()
        #expect(try await Self.state(harness, faces: faces) == before, "move undone")

        _ = try await gallery.rename(aliceID, to: "Alice")
        _ = try await gallery.makePerson(from: carolFace, name: "Carol")
        let named = try await Self.state(harness, faces: faces)
        _ = try await gallery.undo()
        #expect(try await gallery.person(carolID).name == nil)
        _ = try await gallery.undo()
        #expect(try await Self.state(harness, faces: faces) == before, "rename and make-person undone")
        // Undone operations stay in the history, marked.
        let history = try await gallery.history(page: PageRequest(limit: 20)).items
        #expect(history.filter { $0.kind == .undo }.count == 4)
        #expect(history.filter { $0.kind != .undo }.allSatisfy { $0.state == .undone })
        #expect(named != before)
    }

    @Test("moving a person's cover face away and undoing it gives the person its cover back", arguments: LibraryRepairTests.Store.available)
    func undoMoveRestoresCover(_ store: LibraryRepairTests.Store) async throws {
        let (harness, reports) = try await Self.library(store)
        let gallery = harness.gallery
        let person = try await gallery.person(try await Self.person(of: reports[1].faceIDs[0], harness))
        let cover = try #require(person.coverFaceID)
        _ = try await gallery.move(cover, to: nil)
        let uncovered = try await gallery.person(person.id)
        #expect(uncovered.coverFaceID != cover && uncovered.coverFaceID != nil)
        _ = try await gallery.undo()
        #expect(try await gallery.person(person.id).coverFaceID == cover)
    }

    @Test("make-person on a face of a person already listed changes nothing unless it names them")
    func makePersonOfListedPerson() async throws {
        let (harness, reports) = try await Self.library()
        let gallery = harness.gallery
        let face = reports[1].faceIDs[0]
        let before = try await gallery.person(try await Self.person(of: face, harness))
        try #require(gallery.isListed(before) && !before.isConfirmed)
        let operations = try await gallery.history(page: PageRequest(limit: 50)).items.count
        #expect(try await gallery.makePerson(from: face) == before)
        #expect(try await gallery.person(before.id).pinned == false, "not confirmed behind the user's back: consolidation may still merge it")
        #expect(try await gallery.history(page: PageRequest(limit: 50)).items.count == operations, "nothing journaled")
        #expect(try await gallery.makePerson(from: face, name: "Alice").name == "Alice")
        #expect(try await gallery.makePerson(from: face, name: "Alice").name == "Alice", "the same again: nothing to do")
        await #expect(throws: GalleryError.self, "a named person is not renamed by making a person of their face") {
            try await gallery.makePerson(from: face, name: "Someone else")
        }
        #expect(try await gallery.person(before.id).name == "Alice")
    }

    /// Carol merged into Bob, then an undo of it written (pending) by a process that died before applying any of
    /// its changes. Returns the state before the merge and the interrupted undo.
    static func interruptedUndo() async throws -> (harness: Harness, faces: [FaceID], bob: PersonID, carol: PersonID, separate: State, merge: PeopleOperation, undo: PeopleOperation) {
        let (harness, reports) = try await library()
        let faces = reports.flatMap(\.faceIDs)
        let (bob, carol) = (try await person(of: reports[3].faceIDs[0], harness), try await person(of: reports[4].faceIDs[0], harness))
        let separate = try await state(harness, faces: faces)
        _ = try await harness.gallery.merge(carol, into: bob)
        let merge = try #require(try await harness.gallery.history(page: PageRequest(limit: 1)).items.first)
        let undo = PeopleOperation(
            kind: .undo, automatic: false, at: merge.at.addingTimeInterval(1), summary: "undid \(merge.id)",
            changes: PeopleJournal.inverse(merge.changes), undoes: merge.id)
        try await harness.metadata.saveOperation(undo)
        return (harness, faces, bob, carol, separate, merge, undo)
    }

    @Test("a name in the history is quoted and escaped, so quotes inside it read unambiguously")
    func quotedNamesInHistory() async throws {
        let (harness, reports) = try await Self.library()
        let person = try await Self.person(of: reports[0].faceIDs[0], harness)
        _ = try await harness.gallery.rename(person, to: #"Mary "Mo" O'Brien"#)
        _ = try await harness.gallery.rename(person, to: nil)
        let summaries = try await harness.gallery.history().items.map(\.summary)
        #expect(summaries.contains(#"named \#(person) "Mary \"Mo\" O'Brien""#), "\(summaries)")
        #expect(summaries.contains("named \(person) (no name)"), "\(summaries)")
    }

    @Test("an undo a crash interrupted is finished before the next operation, never replayed over it later")
    func interruptedUndoFinishedFirst() async throws {
        let (harness, faces, bob, carol, separate, merge, undo) = try await Self.interruptedUndo()
        let gallery = harness.gallery
        // The next operation finishes it first, then merges again as asked.
        _ = try await gallery.merge(carol, into: bob)
        _ = try await gallery.rename(bob, to: "Bob")
        #expect(try await gallery.person(carol).id == bob)
        #expect(try await gallery.person(bob).name == "Bob")
        let merged = try await Self.state(harness, faces: faces)
        // Recovery (every ingest runs it) finds nothing left to replay: the later merge and name stand.
        #expect(try await gallery.journal.recover().isEmpty)
        #expect(try await Self.state(harness, faces: faces) == merged)
        #expect(try await harness.metadata.operation(undo.id)?.state == .applied)
        #expect(try await harness.metadata.operation(merge.id)?.state == .undone)
        #expect(merged != separate)
    }

    @Test("an undo left half done is finished by the next `undo`, which reports it, not that nothing is left")
    func bareUndoFinishesInterruptedUndo() async throws {
        let (harness, faces, _, _, separate, _, undo) = try await Self.interruptedUndo()
        #expect(try await harness.gallery.undo().id == undo.id)
        #expect(try await Self.state(harness, faces: faces) == separate)
    }

    @Test("an operation stopped part way that can never be finished (its person is gone) is abandoned, not left to block every later one", arguments: LibraryRepairTests.Store.available)
    func unfinishableOperationAbandoned(_ store: LibraryRepairTests.Store) async throws {
        let (harness, reports) = try await Self.library(store)
        let gallery = harness.gallery
        let carol = try await Self.person(of: reports[4].faceIDs[0], harness)
        let gone = PersonID(rawValue: "p_" + String(repeating: "z", count: 26))
        let stuck = PeopleOperation(
            kind: .move, automatic: false, at: Date(timeIntervalSince1970: 1_900_000_000), summary: "moved a face to \(gone)",
            changes: [.move(face: reports[1].faceIDs[0], from: try await Self.person(of: reports[1].faceIDs[0], harness), to: gone)])
        try await harness.metadata.saveOperation(stuck)
        _ = try await gallery.rename(carol, to: "Carol")
        #expect(try await gallery.person(carol).name == "Carol")
        #expect(try await harness.metadata.operation(stuck.id)?.state == .abandoned)
        #expect(try await gallery.journal.recover().isEmpty)
    }

    @Test("repair reports an operation a crash left pending and finishes it; a dry run only reports it")
    func repairFinishesPendingOperation() async throws {
        let (harness, reports) = try await Self.library()
        let (bob, carol) = (try await Self.person(of: reports[3].faceIDs[0], harness), try await Self.person(of: reports[4].faceIDs[0], harness))
        let before = try await harness.gallery.person(bob)
        let merge = PeopleOperation(
            kind: .merge, automatic: false, at: Date(timeIntervalSince1970: 1_900_000_000), summary: "merged \(carol) into \(bob)",
            changes: [.merge(absorbed: carol, into: bob), .move(face: reports[4].faceIDs[0], from: carol, to: bob)])
        try await harness.metadata.saveOperation(merge)
        let dryRun = try await LibraryRepair(pipeline: harness.pipeline()).run(dryRun: true)
        #expect(dryRun.problems.filter { $0.kind == .unfinishedOperation }.map(\.subject) == [merge.id], "\(dryRun.problems)")
        #expect(try await harness.gallery.person(carol).id == carol, "a dry run changes nothing")
        let repaired = try await LibraryRepair(pipeline: harness.pipeline()).run(dryRun: false)
        #expect(repaired.problems.contains { $0.kind == .unfinishedOperation })
        #expect(try await harness.metadata.operation(merge.id)?.state == .applied)
        #expect(try await harness.gallery.person(carol).id == bob)
        #expect(try await harness.gallery.person(bob).faceCount == before.faceCount + 1)
    }

    @Test("undoing an operation under a later merge of its person is refused, naming the merge; so is renaming through it")
    func undoUnderLaterMerge() async throws {
        let (harness, reports) = try await Self.library()
        let gallery = harness.gallery
        let face = reports[1].faceIDs[0]
        let bob = try await Self.person(of: reports[3].faceIDs[0], harness)
        let carol = try await Self.person(of: reports[4].faceIDs[0], harness)
        let moved = try await gallery.move(face, to: nil)
        let move = try #require(try await gallery.history(page: PageRequest(limit: 1)).items.first)
        _ = try await gallery.rename(carol, to: "Carol")
        let rename = try #require(try await gallery.history(page: PageRequest(limit: 1)).items.first)
        _ = try await gallery.merge(moved.id, into: bob)
        let firstMerge = try #require(try await gallery.history(page: PageRequest(limit: 1)).items.first)
        _ = try await gallery.merge(carol, into: bob)
        let secondMerge = try #require(try await gallery.history(page: PageRequest(limit: 1)).items.first)
        await #expect(throws: PeopleOperationError.conflict(move.id, "\(moved.id) was merged into \(bob) since by \(firstMerge.id) (\(firstMerge.summary)); undo that merge first")) {
            try await gallery.undo(move.id)
        }
        await #expect(throws: PeopleOperationError.conflict(rename.id, "\(carol) was merged into \(bob) since by \(secondMerge.id) (\(secondMerge.summary)); undo that merge first")) {
            try await gallery.undo(rename.id)
        }
        #expect(try await Self.person(of: face, harness) == bob)
        #expect(try await gallery.person(bob).name == "Carol")
    }

    @Test("undoing a merge whose person was renamed since is refused, naming the rename to undo first")
    func undoAfterRenameNamesIt() async throws {
        let (harness, reports) = try await Self.library()
        let gallery = harness.gallery
        let alice = try await Self.person(of: reports[1].faceIDs[0], harness)
        let bob = try await Self.person(of: reports[3].faceIDs[0], harness), carol = try await Self.person(of: reports[4].faceIDs[0], harness)
        _ = try await gallery.merge(carol, into: bob)
        let merge = try #require(try await gallery.history(page: PageRequest(limit: 1)).items.first)
        _ = try await gallery.rename(bob, to: "Bob")
        let rename = try #require(try await gallery.history(page: PageRequest(limit: 1)).items.first)
        _ = try await gallery.merge(bob, into: alice)
        _ = try await gallery.undo()
        await #expect(throws: PeopleOperationError.conflict(merge.id, "\(bob) was renamed or changed since by \(rename.id) (\(rename.summary)); undo that first")) {
            try await gallery.undo(merge.id)
        }
        _ = try await gallery.undo(rename.id)
        #expect(try await gallery.undo(merge.id).undoes == merge.id, "with the rename undone, the merge undoes")
    }

    @Test("undoing an undo redoes the operation: it is applied again, and the next bare undo undoes it again", arguments: LibraryRepairTests.Store.available)
    func undoneUndoReappliesTheOperation(_ store: LibraryRepairTests.Store) async throws {
        let (harness, reports) = try await Self.library(store)
        let gallery = harness.gallery
        let bob = try await Self.person(of: reports[3].faceIDs[0], harness), carol = try await Self.person(of: reports[4].faceIDs[0], harness)
        _ = try await gallery.rename(bob, to: "Bob")
        _ = try await gallery.merge(carol, into: bob)
        let merge = try #require(try await gallery.history(page: PageRequest(limit: 1)).items.first)
        let undo = try await gallery.undo()
        let redo = try await gallery.undo(undo.id)
        #expect(try await Self.person(of: reports[4].faceIDs[0], harness) == bob, "merged again")
        #expect(try await gallery.person(carol).id == bob, "her id resolves to the person she is merged into, as after the merge")
        let stored = try #require(try await harness.metadata.operation(merge.id))
        #expect(stored.state == .applied && stored.undoneBy == nil, "the merge is in effect: \(stored.state) \(stored.undoneBy ?? "-")")
        #expect(try await harness.metadata.operation(undo.id)?.undoneBy == redo.id)

        let again = try await gallery.undo()
        #expect(again.undoes == merge.id, "the bare undo undoes the merge, not the rename before it: \(again.summary)")
        #expect(try await Self.person(of: reports[4].faceIDs[0], harness) == carol)
        #expect(try await gallery.person(bob).name == "Bob")
    }

    @Test("redoing a merge (undoing its undo) after the person's rename was undone is refused, naming that undo")
    func redoAfterUndoneRenameNamesTheUndo() async throws {
        let (harness, reports) = try await Self.library()
        let gallery = harness.gallery
        let bob = try await Self.person(of: reports[3].faceIDs[0], harness), carol = try await Self.person(of: reports[4].faceIDs[0], harness)
        _ = try await gallery.rename(bob, to: "Bob")
        _ = try await gallery.merge(carol, into: bob)
        let undoneMerge = try await gallery.undo()
        let undoneRename = try await gallery.undo()
        try #require(undoneRename.summary.contains("named"))
        await #expect(throws: PeopleOperationError.conflict(undoneMerge.id, "\(bob) was renamed or changed since by \(undoneRename.id) (\(undoneRename.summary)); undo that first")) {
            try await gallery.undo(undoneMerge.id)
        }
    }

    @Test("two moves to one person: the first cannot be undone under the second (it would leave the second undoable never)")
    func undoUnderLaterDependent() async throws {
        let (harness, reports) = try await Self.library()
        let gallery = harness.gallery
        let bob = try await Self.person(of: reports[3].faceIDs[0], harness)
        _ = try await gallery.move(reports[1].faceIDs[0], to: bob)
        let first = try #require(try await gallery.history(page: PageRequest(limit: 1)).items.first)
        _ = try await gallery.move(reports[4].faceIDs[0], to: bob)
        let second = try #require(try await gallery.history(page: PageRequest(limit: 1)).items.first)
        await #expect(throws: PeopleOperationError.self) { try await gallery.undo(first.id) }
        #expect(try await gallery.undo().undoes == second.id)
        #expect(try await gallery.undo().undoes == first.id, "in order, both undo")
        #expect(try await gallery.person(bob).pinned == false)
    }

    @Test("a move from a person since forgotten is not undone (there is no one to give the face back to), and nothing is written")
    func undoMoveFromForgotten() async throws {
        let (harness, reports) = try await Self.library()
        let gallery = harness.gallery
        let face = reports[1].faceIDs[0]
        let alice = try await Self.person(of: face, harness)
        let bob = try await Self.person(of: reports[3].faceIDs[0], harness)
        let carol = try await Self.person(of: reports[4].faceIDs[0], harness)
        _ = try await gallery.rename(carol, to: "Carol")
        _ = try await gallery.move(face, to: bob)
        let move = try #require(try await gallery.history(page: PageRequest(limit: 1)).items.first)
        _ = try await gallery.forget(alice)
        let operations = try await gallery.history(page: PageRequest(limit: 100)).items.count
        await #expect(throws: PeopleOperationError.conflict(move.id, "\(alice) is gone since (a deleted photo or a forgotten person: final)")) {
            try await gallery.undo(move.id)
        }
        #expect(try await gallery.history(page: PageRequest(limit: 100)).items.count == operations, "no undo written")
        _ = try await gallery.undo()
        #expect(try await gallery.person(carol).name == nil, "the bare undo went to the rename before")
        _ = try await gallery.rename(bob, to: "Bob")
        #expect(try await gallery.person(bob).name == "Bob", "the library goes on")
    }

    @Test("undoing a move after the person the face left was merged away is refused: the face would go to the survivor")
    func undoMoveAfterItsSourceMerged() async throws {
        let (harness, reports) = try await Self.library()
        let gallery = harness.gallery
        let face = reports[1].faceIDs[0]
        let alice = try await Self.person(of: face, harness)
        let (bob, carol) = (try await Self.person(of: reports[3].faceIDs[0], harness), try await Self.person(of: reports[4].faceIDs[0], harness))
        _ = try await gallery.move(face, to: bob)
        let move = try #require(try await gallery.history(page: PageRequest(limit: 1)).items.first)
        _ = try await gallery.merge(alice, into: carol)
        let merge = try #require(try await gallery.history(page: PageRequest(limit: 1)).items.first)
        await #expect(throws: PeopleOperationError.conflict(move.id, "\(alice) was merged into \(carol) since by \(merge.id) (\(merge.summary)); undo that merge first")) {
            try await gallery.undo(move.id)
        }
        _ = try await gallery.undo()
        _ = try await gallery.undo(move.id)
        #expect(try await Self.person(of: face, harness) == alice, "undone in order, the face is back with Alice")
    }

    @Test("forgetting a person erases their name from the journal and their faces' constraints; what named them cannot be undone")
    func forgetErasesNameFromJournal() async throws {
        let (harness, reports) = try await Self.library()
        let gallery = harness.gallery
        let (alice, carol) = (try await Self.person(of: reports[1].faceIDs[0], harness), try await Self.person(of: reports[4].faceIDs[0], harness))
        _ = try await gallery.rename(carol, to: "Caroline Quux")
        let rename = try #require(try await gallery.history(page: PageRequest(limit: 1)).items.first)
        _ = try await gallery.rename(alice, to: "Alice")
        _ = try await gallery.move(reports[2].faceIDs[0], to: carol)  // a cannot-link with Alice's other faces
        #expect(try await !harness.metadata.cannotLinks(touching: [reports[2].faceIDs[0]]).isEmpty)
        _ = try await gallery.forget(carol)
        let history = try await gallery.history(page: PageRequest(limit: 50)).items
        let text = String(decoding: try JSONEncoder().encode(history), as: UTF8.self)
        #expect(!text.contains("Caroline") && text.contains("Alice"), "\(history.map(\.summary))")
        #expect(try await harness.metadata.cannotLinks(touching: [reports[2].faceIDs[0]]).isEmpty)
        await #expect(throws: PeopleOperationError.self) { try await gallery.undo(rename.id) }
    }

    @Test("after forgetting a person, `undo` undoes the operation before; undoing one that touched what was forgotten says so")
    func undoAfterForget() async throws {
        let (harness, reports) = try await Self.library()
        let gallery = harness.gallery
        let face = reports[1].faceIDs[0]
        let carol = try await Self.person(of: reports[4].faceIDs[0], harness)
        _ = try await gallery.rename(carol, to: "Carol")
        let moved = try await gallery.move(face, to: nil)
        let move = try #require(try await gallery.history(page: PageRequest(limit: 1)).items.first)
        _ = try await gallery.forget(moved.id)
        await #expect(throws: PeopleOperationError.conflict(move.id, "face \(face) is gone since (a deleted photo or a forgotten person: final)")) {
            try await gallery.undo(move.id)
        }
        _ = try await gallery.undo()
        #expect(try await gallery.person(carol).name == nil, "the rename before the forgotten move was undone")
    }

    @Test("an undo that would not be exact is refused, naming the later operation, until that one is undone")
    func undoConflict() async throws {
        let (harness, reports) = try await Self.library()
        let gallery = harness.gallery
        let face = reports[1].faceIDs[0]
        let first = try await gallery.move(face, to: nil)
        let firstOperation = try #require(try await gallery.history(page: PageRequest(limit: 1)).items.first)
        let carol = try await Self.person(of: reports[4].faceIDs[0], harness)
        _ = try await gallery.move(face, to: carol)
        let secondOperation = try #require(try await gallery.history(page: PageRequest(limit: 1)).items.first)
        let refusal = await #expect(throws: PeopleOperationError.self) { try await gallery.undo(firstOperation.id) }
        #expect(refusal?.description.contains("has moved since, by \(secondOperation.id)") == true, "\(String(describing: refusal))")
        _ = try await gallery.undo()
        _ = try await gallery.undo(firstOperation.id)
        #expect(try await Self.person(of: face, harness) != first.id)
    }

    @Test("a user's move, merge and name survive consolidation")
    func correctionsSurviveConsolidation() async throws {
        let (harness, reports) = try await Self.library()
        let gallery = harness.gallery
        let faces = reports.flatMap(\.faceIDs)
        let consolidation = Consolidation(pipeline: harness.pipeline())
        // "Not Alice": one of Alice's faces moved to a person of its own stays apart.
        let moved = reports[2].faceIDs[0]
        let newPerson = try await gallery.move(moved, to: nil)
        // Bob and Carol are different people, but the user says they are one.
        let bob = try await Self.person(of: reports[3].faceIDs[0], harness), carol = try await Self.person(of: reports[4].faceIDs[0], harness)
        _ = try await gallery.merge(carol, into: bob)
        _ = try await gallery.rename(bob, to: "Bob")
        let before = try await Self.state(harness, faces: faces)
        let report = try await consolidation.run(touching: faces)
        #expect(report.isEmpty, "\(report)")
        #expect(try await Self.state(harness, faces: faces) == before)
        #expect(try await Self.person(of: moved, harness) == newPerson.id)
        let named = try await gallery.person(bob)
        #expect(named.name == "Bob" && named.faceCount == 3)
    }

    @Test("undoing a merge places again the faces that joined the merged person since; a named person keeps only their own")
    func undoneMergeRegroupsLaterFaces() async throws {
        let (harness, reports, gallery, _) = try await Self.regroupingLibrary()
        var carolFaces = reports[4].faceIDs
        for variant in 1...2 { carolFaces += try await harness.add(Layout.photo([Self.carol], variant: variant), as: "raw/carol-\(variant).jpg").faceIDs }
        let bob = try await Self.person(of: reports[3].faceIDs[0], harness), carol = try await Self.person(of: carolFaces[0], harness)
        _ = try await gallery.rename(bob, to: "Bob")
        _ = try await gallery.merge(carol, into: bob)  // by mistake
        var later: [FaceID] = []
        // More of Carol's faces arrive than Bob has of his own: they must not carry his name off with them.
        for variant in 3...5 { later += try await harness.add(Layout.photo([Self.carol], variant: variant), as: "raw/carol-\(variant).jpg").faceIDs }
        try #require(later.count == 3)
        for face in later { #expect(try await Self.person(of: face, harness) == bob, "Carol's new photos join the merged person") }

        let undone = try await gallery.undo()
        for face in carolFaces + later { #expect(try await Self.person(of: face, harness) == carol) }
        let (named, other) = (try await gallery.person(bob), try await gallery.person(carol))
        #expect(named.name == "Bob" && named.faceCount == 2 && other.faceCount == 6, "\(named) \(other)")
        for face in reports[3].faceIDs { #expect(try await Self.person(of: face, harness) == bob, "Bob's own faces keep his id and name") }
        let regroup = try #require(try await gallery.history(page: PageRequest(limit: 1)).items.first)
        #expect(regroup.automatic && regroup.kind == .consolidation, "the regrouping is an operation of its own, after the undo")

        // Undoing the undo (the merge again) under the regrouping would leave Carol's later faces with her
        // merged-away id, half a merge: refused, naming the regrouping; undone in order, the merge is whole again.
        await #expect(throws: PeopleOperationError.conflict(undone.id, "\(regroup.id) (\(regroup.summary)) changed the same people since; undo that first")) {
            try await gallery.undo(undone.id)
        }
        #expect(try await gallery.undo(regroup.id).undoes == regroup.id)
        #expect(try await gallery.undo(undone.id).undoes == undone.id)
        for face in carolFaces + later { #expect(try await Self.person(of: face, harness) == bob) }
        #expect(try await gallery.person(bob).faceCount == 8)
    }

    @Test("undoing a move places again the faces that arrived since: the moved face is one person again with the photos of whom it shows")
    func undoneMoveRegroupsLaterFaces() async throws {
        let (harness, reports, gallery, _) = try await Self.regroupingLibrary()
        let bob = try await Self.person(of: reports[3].faceIDs[0], harness)
        let carolFace = reports[4].faceIDs[0]
        _ = try await gallery.rename(bob, to: "Bob")
        _ = try await gallery.move(carolFace, to: bob)  // by mistake: Carol's only face
        var later: [FaceID] = []
        for variant in 1...3 { later += try await harness.add(Layout.photo([Self.carol], variant: variant), as: "raw/carol-\(variant).jpg").faceIDs }
        try #require(later.count == 3)
        // Bob's two faces outvote hers: Carol's new photos became a person of their own, apart from her face.
        let meanwhile = try await Self.person(of: later[0], harness)
        #expect(meanwhile != bob)

        _ = try await gallery.undo()
        let carol = try await Self.person(of: carolFace, harness)
        #expect(carol != bob)
        for face in later { #expect(try await Self.person(of: face, harness) == carol, "her face and her later photos are one person") }
        let named = try await gallery.person(bob)
        #expect(named.name == "Bob" && named.faceCount == 2, "\(named)")
        #expect(try await gallery.person(carol).faceCount == 4)
        let regroup = try #require(try await gallery.history(page: PageRequest(limit: 1)).items.first)
        #expect(regroup.automatic && regroup.kind == .consolidation, "the regrouping is an operation of its own, after the undo")
    }

    enum AfterCrash: CaseIterable { case consolidation, undo, renameThenUndo, repair }

    @Test("a crash between an undone merge and its regrouping leaves the undo marked: the next consolidation, undo or repair regroups", arguments: AfterCrash.allCases)
    func regroupingAfterACrash(next: AfterCrash) async throws {
        let (harness, reports, gallery, pipeline) = try await Self.regroupingLibrary()
        var carolFaces = reports[4].faceIDs
        for variant in 1...2 { carolFaces += try await harness.add(Layout.photo([Self.carol], variant: variant), as: "raw/carol-\(variant).jpg").faceIDs }
        let bob = try await Self.person(of: reports[3].faceIDs[0], harness), carol = try await Self.person(of: carolFaces[0], harness)
        _ = try await gallery.rename(bob, to: "Bob")
        _ = try await gallery.merge(carol, into: bob)
        var later: [FaceID] = []
        for variant in 3...5 { later += try await harness.add(Layout.photo([Self.carol], variant: variant), as: "raw/carol-\(variant).jpg").faceIDs }
        try #require(later.count == 3)
        // The undo as the gallery writes it, then the process dies before its regrouping.
        let undo = try await PeopleJournal(metadata: harness.metadata, index: nil, clock: harness.clock).undo { _ in true }
        #expect(try await harness.metadata.operation(undo.id)?.awaitsRegrouping == true)
        for face in later { #expect(try await Self.person(of: face, harness) == bob, "not regrouped yet") }

        switch next {
        case .undo:
            // The user runs `undo` again: it finishes the one that was stopped, and undoes nothing more.
            let outcome = try await gallery.undoReporting()
            #expect(outcome.finishedInterrupted && outcome.undo.id == undo.id && outcome.regrouping.first?.follows == undo.id)
            #expect(try await gallery.person(bob).name == "Bob", "the rename before the merge stands")
        case .renameThenUndo:
            _ = try await gallery.rename(carol, to: "Carol")
            #expect(try await gallery.undo().summary.contains("named"), "the rename is undone, after the regrouping the crash kept from running")
        case .consolidation:
            let report = try await Consolidation(pipeline: pipeline).run(touching: [])
            #expect(report.operations.first?.follows == undo.id, "\(report.operations)")
            #expect(!report.isEmpty && !report.moves.isEmpty, "what it regrouped is reported (recluster said 'nothing to change')")
        case .repair:
            let found = try await LibraryRepair(pipeline: pipeline).run(dryRun: true)
            #expect(found.problems.map(\.kind) == [.unfinishedOperation] && found.problems.first?.subject == undo.id, "\(found.problems)")
            _ = try await LibraryRepair(pipeline: pipeline).run(dryRun: false)
            #expect(try await LibraryRepair(pipeline: pipeline).run(dryRun: true).isClean)
        }
        for face in carolFaces + later { #expect(try await Self.person(of: face, harness) == carol) }
        #expect(try await harness.metadata.operation(undo.id)?.awaitsRegrouping == nil, "done once")
        #expect(try await gallery.person(bob).faceCount == 2)
    }

    @Test("a bare undo passes over the regrouping that followed an undo: a second `undo` does not put the later photos back with the wrong person",
          arguments: [false, true])
    func bareUndoPassesOverRegrouping(journaledBeforeLinks: Bool) async throws {
        let (harness, reports, gallery, _) = try await Self.regroupingLibrary()
        let alice = try await Self.person(of: reports[1].faceIDs[0], harness)
        let bob = try await Self.person(of: reports[3].faceIDs[0], harness), carol = try await Self.person(of: reports[4].faceIDs[0], harness)
        _ = try await gallery.rename(alice, to: "Alice")
        _ = try await gallery.merge(carol, into: bob)
        var later: [FaceID] = []
        for variant in 1...3 { later += try await harness.add(Layout.photo([Self.carol], variant: variant), as: "raw/carol-\(variant).jpg").faceIDs }
        let first = try await gallery.undoReporting()
        let regroup = try #require(first.regrouping.first)
        #expect(regroup.follows == first.undo.id && first.undo.awaitsRegrouping == nil)
        if journaledBeforeLinks {
            // As a library journaled it before regroupings named their undo.
            var unlinked = regroup
            unlinked.follows = nil
            try await harness.metadata.saveOperation(unlinked)
        }

        let second = try await gallery.undo()
        #expect(second.undoes != regroup.id && second.summary.contains("named"), "Alice's rename, the user's operation before: \(second.summary)")
        // Carol is one person again, apart from Bob (her id may have gone into the later photos' person).
        let carolNow = try await Self.person(of: reports[4].faceIDs[0], harness)
        let resolved = try await gallery.person(carol).id
        #expect(carolNow != bob && resolved == carolNow, "her old id resolves to her")
        for face in later { #expect(try await Self.person(of: face, harness) == carolNow) }
        #expect(try await gallery.undo(regroup.id).undoes == regroup.id, "named, the regrouping can still be undone")
    }

    @Test("merges made in a chain and undone in order leave each person whole: faces that arrived after both go back to their person")
    func chainedMergesUndone() async throws {
        let (harness, reports) = try await Self.library()
        var carolFaces = reports[4].faceIDs
        for variant in 1...2 { carolFaces += try await harness.add(Layout.photo([Self.carol], variant: variant), as: "raw/carol-\(variant).jpg").faceIDs }
        // Bob has more faces than Carol: with his, hers no longer average up to the threshold.
        var bobFaces = reports[3].faceIDs
        for variant in 2...5 { bobFaces += try await harness.add(Layout.photo([Self.bob], variant: variant), as: "raw/bob-\(variant).jpg").faceIDs }
        var gallery = harness.gallery
        // Every pair's exact similarity, as the local engine gives (not the stored graph's observed pairs).
        let index = try #require(harness.index as? InMemoryFaceIndex)
        gallery.regroupAfterUndoneMerge = { [metadata = harness.metadata, policy = harness.configuration.policy, clock = harness.clock] faces, merge in
            try await Consolidation(metadata: metadata, source: index, policy: policy, clock: clock).run(touching: faces, after: merge)
        }
        let alice = try await Self.person(of: reports[1].faceIDs[0], harness)
        let bob = try await Self.person(of: reports[3].faceIDs[0], harness), carol = try await Self.person(of: carolFaces[0], harness)
        _ = try await gallery.merge(carol, into: bob)
        let carolIntoBob = try #require(try await gallery.history(page: PageRequest(limit: 1)).items.first)
        _ = try await gallery.merge(bob, into: alice)
        let bobIntoAlice = try #require(try await gallery.history(page: PageRequest(limit: 1)).items.first)
        var later: [FaceID] = []
        for variant in 3...5 { later += try await harness.add(Layout.photo([Self.carol], variant: variant), as: "raw/carol-\(variant).jpg").faceIDs }
        try #require(later.count == 3)

        _ = try await gallery.undo(bobIntoAlice.id)
        _ = try await gallery.undo(carolIntoBob.id)
        for face in carolFaces + later { #expect(try await Self.person(of: face, harness) == carol, "Carol is one person again, with the photos that came after") }
        for face in bobFaces { #expect(try await Self.person(of: face, harness) == bob) }
        #expect(try await gallery.person(carol).faceCount == 6)
    }

    @Test("consolidation's own changes are journaled and can be undone")
    func consolidationUndone() async throws {
        var harness = Harness()
        harness.configuration.policy.faceMatchThreshold = 99.99
        var reports: [IngestionReport] = []
        for variant in 0..<3 { reports.append(try await harness.add(Layout.photo([Self.alice], variant: variant * 3), as: "raw/\(variant).jpg")) }
        let faces = reports.flatMap(\.faceIDs)
        let split = try await Self.state(harness, faces: faces)
        #expect(split.people.count == 3)
        harness.configuration.policy.faceMatchThreshold = 90
        _ = try await Consolidation(pipeline: harness.pipeline()).run(touching: faces)
        #expect(try await Self.state(harness, faces: faces).people.count == 1)
        let operation = try #require(try await harness.gallery.history(page: PageRequest(limit: 1)).items.first)
        #expect(operation.automatic && operation.kind == .consolidation)
        _ = try await harness.gallery.undo()
        #expect(try await Self.state(harness, faces: faces) == split)
    }

    @Test("with person vectors (the users plan), a move takes the face out of one vector and into the other; undo puts it back")
    func associationsFollowMoves() async throws {
        let (base, reports) = try await Self.library(plan: .users)
        var gallery = base.gallery
        gallery.personVectors = base.index as? InMemoryFaceIndex
        let index = try #require(base.index as? InMemoryFaceIndex)
        let face = reports[1].faceIDs[0]
        let alice = try await Self.person(of: face, base)
        #expect(await index.person(associatedWith: face) == alice)
        let carol = try await Self.person(of: reports[4].faceIDs[0], base)
        _ = try await gallery.move(face, to: carol)
        #expect(await index.person(associatedWith: face) == carol)
        _ = try await gallery.undo()
        #expect(await index.person(associatedWith: face) == alice)
    }

    /// The sample library's state after Carol is merged into Bob without a crash.
    static func cleanMergeState() async throws -> State {
        let (clean, reports) = try await library()
        let (bob, carol) = (try await person(of: reports[3].faceIDs[0], clean), try await person(of: reports[4].faceIDs[0], clean))
        _ = try await clean.gallery.merge(carol, into: bob)
        return try await state(clean, faces: reports.flatMap(\.faceIDs))
    }

    /// A sample library whose merge of Carol into Bob crashed at metadata step `step` (`crashed`: it threw).
    static func mergeCrashing(at step: Int) async throws -> (harness: Harness, faces: [FaceID], bob: PersonID, carol: PersonID, crashed: Bool) {
        let (harness, reports) = try await library()
        let (bob, carol) = (try await person(of: reports[3].faceIDs[0], harness), try await person(of: reports[4].faceIDs[0], harness))
        let crashing = FaultInjector(rules: [.crashAt(step)])
        func crashingStore<M: MetadataStore>(_ store: M) -> any MetadataStore { store.intercepted(by: crashing) }
        let gallery = Gallery(
            metadata: crashingStore(harness.metadata), photos: harness.photos, thumbnails: harness.thumbnails,
            index: harness.index, clock: harness.clock)
        let crashed = (try? await gallery.merge(carol, into: bob)) == nil
        return (harness, reports.flatMap(\.faceIDs), bob, carol, crashed)
    }

    @Test("an operation a crash left half applied is finished by the next consolidation (a killed Lambda's)")
    func consolidationRecovers() async throws {
        let expected = try await Self.cleanMergeState()
        var finished = 0
        for step in 4...12 {
            let (harness, faces, bob, carol, crashed) = try await Self.mergeCrashing(at: step)
            guard crashed,
                  try await harness.gallery.history(page: PageRequest(limit: 5)).items.first?.state == .pending
            else { continue }
            // No one calls recover(): the next batch's consolidation finishes the merge first.
            let report = try await Consolidation(
                metadata: harness.metadata, source: StoredFaceGraph(metadata: harness.metadata), policy: GroupingPolicy(), clock: harness.clock
            ).run(touching: faces)
            #expect(report.recoveredOperations == 1, "step \(step)")
            let state = try await Self.state(harness, faces: faces)
            #expect(state.people.map(\.faceCount).sorted() == expected.people.map(\.faceCount).sorted(), "step \(step): \(state) vs \(expected)")
            #expect(try await harness.gallery.person(carol).id == bob, "step \(step)")
            finished += 1
        }
        #expect(finished >= 3, "some steps must crash with the merge journaled and half applied")
    }

    @Test("a crash at any step of a merge is finished by recovery, exactly as a clean merge")
    func crashDuringMerge() async throws {
        let expected = try await Self.cleanMergeState()

        for step in 1...12 {
            let (harness, faces, bob, carol, crashed) = try await Self.mergeCrashing(at: step)
            try await harness.gallery.journal.recover()
            if crashed, try await harness.gallery.history(page: PageRequest(limit: 5)).items.isEmpty {
                // It died before its journal entry was written: nothing happened; the user merges again.
                _ = try await harness.gallery.merge(carol, into: bob)
            }
            let state = try await Self.state(harness, faces: faces)
            #expect(state.people.map(\.faceCount).sorted() == expected.people.map(\.faceCount).sorted(), "step \(step): \(state) vs \(expected)")
            #expect(state.people.map(\.photoCount).sorted() == expected.people.map(\.photoCount).sorted(), "step \(step)")
            #expect(try await harness.gallery.person(carol).id == bob, "step \(step): the absorbed id resolves to the survivor")
            #expect(try await harness.gallery.history(page: PageRequest(limit: 5)).items.allSatisfy { $0.state == .applied }, "step \(step)")
        }
    }

    @Test("a journal's changes read as JSON a user can use (pairs, not Swift's _0), and journals written before still read")
    func changeEncoding() throws {
        let (x, y) = (FaceID(rawValue: "f_1"), FaceID(rawValue: "f_2"))
        let (p, q) = (PersonID(rawValue: "p_1"), PersonID(rawValue: "p_2"))
        let changes: [PeopleOperation.Change] = [
            .person(before: nil, after: Person(id: p, name: "Ann", createdAt: Date(timeIntervalSince1970: 0), updatedAt: Date(timeIntervalSince1970: 0))), .move(face: x, from: p, to: q), .merge(absorbed: q, into: p),
            .cannotLinks([FacePair(x, y)]), .cannotLinksRemoved([FacePair(y, x)]), .association(face: x, from: nil, to: q),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let encoded = try encoder.encode(changes)
        let text = String(decoding: encoded, as: UTF8.self)
        #expect(text.contains(#"{"cannotLinks":{"pairs":[{"a":"f_1","b":"f_2"}]}}"#) && !text.contains("_0"), "\(text)")
        #expect(try JSONDecoder().decode([PeopleOperation.Change].self, from: encoded) == changes)
        let written = #"[{"cannotLinks":{"_0":[{"a":"f_1","b":"f_2"}]}},{"cannotLinksRemoved":{"_0":[{"a":"f_1","b":"f_2"}]}}]"#
        #expect(try JSONDecoder().decode([PeopleOperation.Change].self, from: Data(written.utf8)) == [.cannotLinks([FacePair(x, y)]), .cannotLinksRemoved([FacePair(x, y)])])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(PeopleOperation.Change.self, from: Data(#"{"move":{"face":"f_1"},"merge":{}}"#.utf8)) }
    }

    @Test("people operations sent at once through one gallery run one at a time: opposite merges leave one person, a rename sent 20 times is journaled once, and the library stays consistent",
          arguments: LibraryRepairTests.Store.available)
    func concurrentOperations(_ store: LibraryRepairTests.Store) async throws {
        let (harness, reports) = try await Self.library(store)
        let gallery = harness.gallery
        let (bob, carol) = (try await Self.person(of: reports[3].faceIDs[0], harness), try await Self.person(of: reports[4].faceIDs[0], harness))
        var theirs: [FaceID] = []
        for face in reports.flatMap(\.faceIDs) where [bob, carol].contains(try await Self.person(of: face, harness)) { theirs.append(face) }
        try #require(theirs.count == 3, "Bob's two faces and Carol's one")
        let operations = try await gallery.history(page: PageRequest(limit: 100)).items.count
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<10 {
                group.addTask { _ = try? await index % 2 == 0 ? gallery.merge(carol, into: bob) : gallery.merge(bob, into: carol) }
            }
        }
        // A merged person's id keeps resolving to the one it was merged into.
        var survivors: [PersonID: Person] = [:]
        for id in [bob, carol] { if let person = try? await gallery.person(id) { survivors[person.id] = person } }
        try #require(survivors.count == 1, "one of the two is left: \(survivors.keys.sorted())")
        let survivor = try #require(survivors.values.first)
        #expect(survivor.faceCount == 3)
        for face in theirs {
            #expect(try await Self.person(of: face, harness) == survivor.id)
        }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { _ = try? await gallery.rename(survivor.id, to: "Bob and Carol") } }
        }
        let history = try await gallery.history(page: PageRequest(limit: 100)).items
        #expect(history.count == operations + 2, "one merge and one rename: \(history.map(\.summary))")
        #expect(try await LibraryRepair(pipeline: harness.pipeline()).run(dryRun: true).isClean)
    }
}
