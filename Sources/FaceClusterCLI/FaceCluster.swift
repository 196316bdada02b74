import ArgumentParser
import FaceClusterKit
import FaceClusterLocal
import Foundation

/// `facecluster`: finds the faces in photos, groups them into people, and lists people and their photos.
/// Local by default: state in `./.facecluster` (or `--store DIR`), no AWS account needed.
///
/// Exit status: 0 when everything worked, 1 when some photos failed, 2 for a usage or set-up error.
@main
struct FaceCluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facecluster",
        abstract: "Find the faces in photos and group them into people.",
        discussion: """
            Everything runs on this machine: a face engine (dlib), a SQLite database and your photo folders. \
            State lives in ./.facecluster unless --store says otherwise. Start with `facecluster ingest PHOTOS…`, \
            then `facecluster people`.

            Exit status: 0 ok, 1 some photos failed (or are being processed by another run), 2 usage or set-up \
            error, 130/143 stopped by Ctrl-C/SIGTERM (run the same command again to finish).
            """,
        version: "0.2.0",
        // Every command names itself (`commandName`). Left to derive a name from its type's, ArgumentParser calls
        // `String(describing:)` on each type, which scans the process's protocol conformance records: 4–7 ms of
        // every run (hyperfine, `facecluster people` 38–42 → 34–38 ms, `--help` 30 → 25 ms; the same help text).
        subcommands: [
            Ingest.self, People.self, PersonCommand.self, Photos.self, PhotoCommand.self, Status.self,
            Rename.self, Merge.self, Move.self, MakePerson.self, Forget.self, Delete.self, History.self, Undo.self, Suggestions.self, Explain.self, Recluster.self, Repair.self, Evaluate.self, Serve.self, RekognitionServer.self, Demo.self, Bench.self,
        ])

    /// Parses, runs, and turns every failure into a message on standard error and an exit status.
    static func main() async {
        BLASKernels.restartWithTheCPUsKernelsIfNeeded()
        ImageMemory.returnLargeBlocksToSystem()
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch let failure as CLIFailure {
            printError(failure.message)
            Foundation.exit(failure.status)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            if isUsageError(error) {
                printError(fullMessage(for: error))
            } else {
                printError("error: \(error)")
            }
            Foundation.exit(2)
        }
    }

    private static func isUsageError(_ error: any Error) -> Bool {
        error is ValidationError || exitCode(for: error) == .validationFailure
    }
}

/// A failure with the exit status it maps to (2: usage or set-up; 1: some photos failed).
struct CLIFailure: Error {
    var message: String
    var status: Int32 = 2
}

func printError(_ message: String, newline: Bool = true) {
    FileHandle.standardError.write(Data((!newline || message.hasSuffix("\n") ? message : message + "\n").utf8))
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// `--store DIR` (where the local library lives) and `--json`, shared by the library's commands.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The folder holding the database and thumbnails.")
    var store = ".facecluster"

    @Flag(help: "Print JSON.")
    var json = false

    var directory: URL { URL(fileURLWithPath: store) }

    func validate() throws {
        // An empty path is the current folder to Foundation: the library's files would land among the user's.
        guard !store.isEmpty else { throw ValidationError("--store must name a folder (it is .facecluster when left out)") }
    }

    /// Opens the library; missing models or an unreadable database are set-up errors (exit 2).
    func open(engine: LocalFaceEngine.Configuration = .init()) throws -> LocalLibrary {
        // SQLite takes an empty file for a new database, and opening it would write a new library's tables over
        // what was lost (`repair` then deleted every thumbnail as nobody's); `ingest` did so too. A file another
        // process is creating this moment is empty for a few milliseconds, until SQLite writes its header: it is
        // given a second (on the main thread, before anything else runs) before it counts as emptied.
        let file = directory.appendingPathComponent(LocalLibrary.databaseFile).path
        for _ in 0..<20 where LocalDatabase.isEmptyFile(file) == true { Thread.sleep(forTimeInterval: 0.05) }
        guard LocalDatabase.isEmptyFile(file) != true else {
            throw CLIFailure(message: "error: \(file) is empty (0 bytes): the library's database is damaged; `facecluster repair` says what to do")
        }
        do {
            return try LocalLibrary(directory: directory, engine: engine, onLockWait: { [store] in
                printError("Waiting for another facecluster run to finish regrouping this library (\(store)/consolidation.lock)…")
            })
        } catch let error as LocalEngineError {
            throw CLIFailure(message: "error: \(error.description)")
        } catch let error as LibraryFileError {
            throw CLIFailure(message: "error: \(error.description)")
        } catch {
            throw CLIFailure(message: "error: cannot open the library in \(store): \(error)\(Self.writeProblem(directory).map { " (\($0))" } ?? "")")
        }
    }

    /// Why this user cannot write to `directory`, if it cannot: the database (SQLite in WAL mode) is written even
    /// by a command that only lists, so a read-only store fails with SQLite's bare "unable to open database file".
    private static func writeProblem(_ directory: URL) -> String? {
        var status = statvfs()
        if statvfs(directory.path, &status) == 0, status.f_flag & UInt(ST_RDONLY) != 0 {
            return "the store is on a read-only file system, and facecluster writes to its store even to list it"
        }
        if FileManager.default.fileExists(atPath: directory.path), access(directory.path, W_OK) != 0 {
            return "this user cannot write to the store, and facecluster writes to its store even to list it"
        }
        return nil
    }

    /// Opens an existing library (for the listing and editing commands): a missing one is a usage error.
    func openExisting() throws -> LocalLibrary {
        let file = directory.appendingPathComponent(LocalLibrary.databaseFile).path
        guard FileManager.default.fileExists(atPath: file) else {
            throw CLIFailure(message: "error: no library in \(store): run `facecluster ingest PHOTOS…` first (or pass --store DIR)")
        }
        return try open()
    }
}

/// A person id (`p_…`) given on the command line.
func personID(_ text: String) throws -> PersonID {
    guard text.hasPrefix("p_"), text.count > 2 else { throw CLIFailure(message: "error: '\(shown(text))' is not a person id (they look like p_…; see `facecluster people`)") }
    return try checkedID(text, "person") { PersonID(rawValue: $0) }
}

/// `text` as an id, when it is made of what ids are (letters, digits, `_`, `-`; at most 128): anything else is no
/// id of ours, and is refused before it reaches a message that would print it as it is.
func checkedID<ID>(_ text: String, _ kind: String, as make: (String) -> ID) throws -> ID {
    guard !text.isEmpty, text.utf8.count <= 128, text.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-") }) else {
        throw CLIFailure(message: "error: '\(shown(text))' is not \(kind.first.map { "aeiou".contains($0) } == true ? "an" : "a") \(kind) id: ids are letters, digits, _ and -")
    }
    return make(text)
}

/// A photo given as its id (`ph_…`) or as the path of its file.
/// A path names the library's photo of that file even once the file is gone (deleted or moved since it was
/// ingested), so that `delete PATH` can remove what is left of it.
func photoID(_ text: String, in library: LocalLibrary) async throws -> PhotoID {
    if text.hasPrefix("ph_") { return try checkedID(text, "photo") { PhotoID(rawValue: $0) } }
    guard let reference = library.reference(forFile: URL(fileURLWithPath: text)) else {
        throw CLIFailure(message: "error: '\(shown(text))' is neither a photo id (ph_…) nor a photo file")
    }
    let id = PhotoID(reference)
    guard try await library.metadata.photo(id) != nil else {
        throw CLIFailure(message: FileManager.default.fileExists(atPath: text)
            ? "error: \(shown(text)) is not in the library (`facecluster ingest` adds it)"
            : "error: no file \(shown(text)), nor a photo of the library that was there")
    }
    return id
}

/// Gallery errors name what the user got wrong: usage errors.
func galleryCall<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as GalleryError {
        throw CLIFailure(message: "error: \(error.description)")
    } catch let error as MetadataStoreError {
        throw CLIFailure(message: "error: \(error.description)")
    } catch let error as LibraryFileError {
        throw CLIFailure(message: "error: \(error.description)")
    }
}

/// How a photo is shown: its path for local photos, `store/key` otherwise.
func displayPath(_ reference: PhotoReference) -> String { reference.displayPath }

/// `text` (a file name, a path) for a line of plain output: control characters, line breaks and invisible
/// format characters written as escapes (`\n`, `\t`, `\u{1B}`, `\u{202E}`), so a name with a newline stays one
/// line of a listing and a name cannot move the cursor, recolour the terminal or turn itself around. The same rule
/// as a person's name, which may hold none of them (`Gallery.cleanName`); `--json` prints names as they are.
func shown(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: isHidden) else { return text }
    var escaped = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n": escaped += "\\n"
        case "\t": escaped += "\\t"
        case "\r": escaped += "\\r"
        case _ where isHidden(scalar): escaped += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
        default: escaped.unicodeScalars.append(scalar)
        }
    }
    return escaped
}

private func isHidden(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .control, .lineSeparator, .paragraphSeparator: true
    case .format: !(0x200C...0x200D).contains(scalar.value)  // the joiners stay: emoji, Persian and Indic names need them
    default: false
    }
}
