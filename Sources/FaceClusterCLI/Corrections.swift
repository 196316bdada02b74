import ArgumentParser
import FaceClusterKit
import FaceClusterLocal
import Foundation

/// A face id (`f_…`, as `facecluster photo` and `people --unassigned` show) given on the command line.
func faceID(_ text: String) throws -> FaceID {
    guard !text.isEmpty, !text.hasPrefix("p_"), !text.hasPrefix("ph_"), !text.contains("/") else {
        throw CLIFailure(message: "error: '\(shown(text))' is not a face id (see `facecluster photo PHOTO`, which lists its faces)")
    }
    return try checkedID(text, "face") { FaceID(rawValue: $0) }
}

/// People operations fail with what the user got wrong: usage errors.
func peopleCall<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await galleryCall(body)
    } catch let error as PeopleOperationError {
        throw CLIFailure(message: "error: \(error.description)")
    }
}

/// `facecluster move FACE [PERSON]`: "not this person".
struct Move: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "move",
        abstract: "Move a face to another person, or to a new person (\"not this person\").",
        discussion: "The face is remembered as not being the person it left; regrouping keeps it so. `facecluster undo` reverses it.")

    @Argument(help: "The face (f_…; `facecluster photo PHOTO` lists them).")
    var face: String

    @Argument(help: "The person to move it to (p_…); a new person when left out.")
    var person: String?

    @OptionGroup var options: StoreOptions

    func run() async throws {
        let library = try options.openExisting()
        let target = try person.map(personID)
        let (moved, alreadyThere) = try await peopleCall { () async throws -> (Person, Bool) in
            do {
                return (try await library.gallery.move(try faceID(face), to: target), false)
            } catch GalleryError.alreadyWith(_, let person) {
                // Asking again for what holds already is not an error (a script may retry): nothing was journaled.
                return (try await library.gallery.person(person), true)
            }
        }
        if options.json { return try printJSON(try await PersonOutput(moved, library: library)) }
        if alreadyThere {
            return print("Face \(face) is already \(target == nil ? "alone in \(moved.id), a person of its own" : "with \(moved.id)"): nothing to move.")
        }
        print("Moved face \(face) to \(moved.id)\(target == nil ? " (a new person)" : ""). Undo: `facecluster undo`.")
    }
}

/// `facecluster make-person FACE [--name NAME]`: an unassigned face's group becomes a person.
struct MakePerson: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-person",
        abstract: "Make an unassigned face (`people --unassigned`) a person, listed from now on.")

    @Argument(help: "The face (f_…).")
    var face: String

    @Option(help: "A name for the person.")
    var name: String?

    @OptionGroup var options: StoreOptions

    func run() async throws {
        let library = try options.openExisting()
        let person = try await peopleCall { try await library.gallery.makePerson(from: try faceID(face), name: name) }
        // Made a person, it is confirmed; left unconfirmed, it was listed already (Gallery.makePerson).
        if name == nil, !person.pinned { printError("\(face) already belongs to \(person.id), a listed person: nothing to do.") }
        let output = try await PersonOutput(person, library: library)
        if options.json { return try printJSON(output) }
        print(output.line)
    }
}

/// `facecluster history`: the journal of people operations.
struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "List the people operations (yours and automatic regroupings), newest first.")

    @Option(parsing: .unconditional, help: "How many operations.")
    var limit = 20

    @OptionGroup var options: StoreOptions

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let library = try options.openExisting()
        let page = try await library.gallery.history(page: PageRequest(limit: limit))
        let operations = page.items
        if options.json { return try printJSON(operations) }
        if operations.isEmpty { return print("No operations yet.") }
        for operation in operations {
            let state = switch operation.state {
            case .undone: "  (undone by \(operation.undoneBy ?? "?"))"
            case .pending: "  (pending: stopped part way; the next people operation or `repair` finishes it)"
            case .abandoned: "  (abandoned: stopped part way, and a person it needed was forgotten since)"
            case .applied: ""
            }
            let follows = operation.follows.map { "  (after undo \($0); a bare `undo` passes over it)" } ?? ""
            print("\(operation.id)  \(operation.at.formatted(.iso8601))  \(operation.automatic ? "auto" : "user")  \(operation.summary)\(state)\(follows)")
        }
        if page.nextCursor != nil {
            print("Older operations are not shown: `facecluster history --limit \(min(limit * 5, PageRequest.maximumLimit))`.")
        }
    }
}

/// `facecluster undo [OPERATION]`.
struct Undo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undo",
        abstract: "Undo a people operation exactly (the newest one, or OPERATION from `facecluster history`).",
        discussion: """
            Forgetting a person is a privacy erase and cannot be undone; nor can an operation whose faces were \
            since removed by deleting their photo. Without OPERATION, undo passes over such operations (and says \
            so) and undoes the newest one it can. It also passes over the regrouping that followed an undo \
            (the photos added since a merge or move, placed again): that belongs to the undo; name it to undo it.
            """)

    @Argument(help: "The operation (op_…).")
    var operation: String?

    @OptionGroup var options: StoreOptions

    func run() async throws {
        if let operation {
            guard PeopleOperation.isWellFormedID(operation) else {
                throw CLIFailure(message: "error: '\(shown(operation))' is not an operation id (op_ and lowercase letters and digits: `facecluster history` lists them)")
            }
        }
        let library = try options.openExisting()
        // An undo a stopped run left part way is what a bare `undo` finishes (and says so).
        let interrupted = try await library.gallery.history(page: PageRequest(limit: 1)).items.first.flatMap { $0.state == .pending && $0.kind == .undo ? $0.id : nil }
        // A bare undo passes over newer operations whose faces or people are gone: it says which, and why.
        // Those journaled after the undo (its regrouping, another process's) were not passed over.
        func notePassedOver(newerThan target: String?, before undo: String? = nil) async throws {
            guard operation == nil else { return }
            let newer = try await library.gallery.history(page: PageRequest(limit: 100)).items
                .filter { $0.id > (target ?? "") && $0.id < (undo ?? "~") && $0.state == .applied && $0.kind != .undo && $0.follows == nil }
            for skipped in newer.reversed() {
                printError("note: passed over \(skipped.id) (\(skipped.summary)): some of its faces or people are gone since (a deleted photo or a forgotten person), so it cannot be undone")
            }
        }
        let outcome = try await peopleCall {
            do {
                return try await library.gallery.undoReporting(operation)
            } catch PeopleOperationError.nothingToUndo {
                // Everything left was passed over: say what, and why.
                try await notePassedOver(newerThan: nil)
                throw PeopleOperationError.nothingToUndo
            }
        }
        let undo = outcome.undo
        if let target = undo.undoes { try await notePassedOver(newerThan: target, before: undo.id) }
        if options.json { return try printJSON(undo) }
        let finished = outcome.finishedInterrupted || (operation == nil && undo.id == interrupted)
        print("\(finished ? "Finished an undo that was stopped part way" : "Undone"): \(undo.summary.dropFirst("undid ".count))")
        // An undone merge or move that photos arrived after is followed by a regrouping of their faces (Gallery.undo).
        for regroup in outcome.regrouping {
            print("Then \(regroup.summary) (\(regroup.id)): the faces of photos added since, placed again without what was undone")
        }
    }
}

/// `facecluster suggestions`: people who may be one.
struct Suggestions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suggestions", abstract: "People who may be the same person, most likely first (merge them with `facecluster merge`).")

    @Option(parsing: .unconditional, help: "How many suggestions.")
    var limit = 20

    @OptionGroup var options: StoreOptions

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let library = try options.openExisting()
        let suggestions = try await library.review.suggestions(limit: limit)
        if options.json { return try printJSON(suggestions) }
        if suggestions.isEmpty { return print("No suggestions: no two people are close enough to ask.") }
        for suggestion in suggestions {
            func label(_ person: Person) -> String {
                // A group too small to be listed is named as `people --unassigned` shows it: by its face.
                guard library.gallery.isListed(person) else {
                    return "\(person.id) (unassigned: \(person.faceCount == 1 ? "face \(person.coverFaceID.map(\.rawValue) ?? "?")" : plural(person.faceCount, "face")))"
                }
                return "\(person.id) \(person.name.map { "\"\($0)\"" } ?? "(unnamed)") \(plural(person.photoCount, "photo"))"
            }
            // Rounded down, as the reason says it: a pair just under the threshold does not read as at it.
            print(String(format: "%5.1f  ", (suggestion.similarity * 10).rounded(.down) / 10) + "\(label(suggestion.first))  ↔  \(label(suggestion.second))")
            print("       \(suggestion.reason); `facecluster merge \(suggestion.second.id) \(suggestion.first.id)`")
        }
    }
}

/// `facecluster explain FACE`.
struct Explain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain", abstract: "Why a face is with its person: its matches, their similarities, the thresholds, the rule and the model.")

    @Argument(help: "The face (f_…).")
    var face: String

    @OptionGroup var options: StoreOptions

    func run() async throws {
        let library = try options.openExisting()
        let explanation = try await galleryCall { try await library.review.explain(try faceID(face)) }
        if options.json { return try printJSON(explanation) }
        if library.gallery.isListed(explanation.person) {
            print("Face \(explanation.face) in photo \(explanation.photo) is \(explanation.person.id)\(explanation.person.name.map { " \"\($0)\"" } ?? "") (\(plural(explanation.person.faceCount, "face"))).")
        } else {
            // A group too small to be listed: say what `people` shows, not an id it never lists.
            print("Face \(explanation.face) in photo \(explanation.photo) is unassigned: its group (\(explanation.person.id)) has \(plural(explanation.person.faceCount, "face")), fewer than the \(library.gallery.minimumFacesPerPerson) a person needs (`facecluster people --unassigned`; `facecluster make-person \(explanation.face)` makes it one).")
        }
        if let own = explanation.ownPersonSimilarity { print(String(format: "  Mean similarity to the person's other faces: %.1f", own)) }
        if let other = explanation.closestOtherPerson, let similarity = explanation.closestOtherSimilarity {
            print(String(format: "  Closest other person: %@ at %.1f", other.rawValue, similarity))
        }
        if !explanation.heldApartBySamePhoto.isEmpty {
            let people = explanation.heldApartBySamePhoto.map(\.rawValue).joined(separator: ", ")
            print("  Never with \(people): a face of the same photo is theirs, and two faces of one photo are never one person.")
        }
        print(String(format: "  Thresholds (0–100): join %.1f, two single faces %.1f, kept for review %.1f", explanation.joinThreshold, explanation.singleFaceThreshold, explanation.reviewThreshold))
        print(explanation.neighbours.isEmpty ? "  Most similar faces: none above the review threshold." : "  Most similar faces:")
        for neighbour in explanation.neighbours {
            print(String(format: "    %5.1f  %@  %@", neighbour.similarity, neighbour.face.rawValue, neighbour.person?.rawValue ?? "(no person)"))
        }
        print("  Rule: \(explanation.rule).")
        print("  Model: \(explanation.model).")
        if !explanation.operations.isEmpty { print("  Moved by: \(explanation.operations.joined(separator: ", ")) (`facecluster history`)") }
    }
}
