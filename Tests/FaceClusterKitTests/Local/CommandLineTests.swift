import FaceClusterKit
import FaceClusterLocal
import Foundation
import Testing

/// `facecluster` end to end, as a user runs it: the built binary, a temporary folder of real photos (plus a
/// cut-off JPEG and a text file), the local engine and SQLite.
@Suite("facecluster command line", .enabled(if: LabeledSet.available, "needs scripts/fetch-test-data.sh"), .serialized)
struct CommandLineTests {
    struct Run {
        var status: Int32
        var output: String
        var errors: String

        func json() throws -> Any { try JSONSerialization.jsonObject(with: Data(output.utf8)) }
    }

    /// The `facecluster` binary SwiftPM built beside the test bundle.
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("facecluster")
    }

    static func run(_ arguments: [String], in folder: URL) async throws -> Run {
        let result = try await Subprocess.run(binary, arguments, in: folder)
        return Run(status: result.status, output: String(decoding: result.output, as: UTF8.self), errors: String(decoding: result.errors, as: UTF8.self))
    }

    /// 3 photos of John Salley, 2 of John Simm, 1 of Biden, a cut-off JPEG and a text file.
    static func library() throws -> URL {
        let folder = Scratch.url("fck-cli-\(UUID().uuidString)")
        let photos = folder.appendingPathComponent("photos/trip")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        let labeled = try LabeledSet.photos()
        for (person, count) in [("John_Salley", 3), ("John_Simm", 2), ("biden", 1)] {
            for (number, item) in labeled.filter({ $0.person == person }).prefix(count).enumerated() {
                try FileManager.default.copyItem(at: item.url, to: photos.appendingPathComponent("\(person)-\(number).jpg"))
            }
        }
        let whole = try Data(contentsOf: labeled.first { $0.person == "biden" }!.url)
        try whole.prefix(whole.count / 3).write(to: photos.appendingPathComponent("cut-off.jpg"))
        // A text file named like a photo fails with its reason; a folder's sidecars and videos are passed over.
        try Data("shopping list".utf8).write(to: folder.appendingPathComponent("photos/fake.jpg"))
        try Data("shopping list".utf8).write(to: folder.appendingPathComponent("photos/notes.txt"))
        try Data("{}".utf8).write(to: photos.appendingPathComponent("John_Simm-0.jpg.json"))
        try Data([0, 0, 0, 24]).write(to: photos.appendingPathComponent("clip.MOV"))
        return folder
    }

    static func people(_ folder: URL) async throws -> [[String: Any]] {
        let listed = try await run(["people", "--json"], in: folder)
        #expect(listed.status == 0, "\(listed.errors)")
        return try #require(try listed.json() as? [[String: Any]])
    }

    @Test("ingest twice, list, rename, merge, delete, forget: what a user sees, with exit codes")
    func endToEnd() async throws {
        let folder = try Self.library()
        let first = try await Self.run(["ingest", "photos"], in: folder)
        #expect(first.status == 1, "some photos failed: exit 1")
        #expect(first.output.contains("6 with faces") && first.output.contains("2 failed"), "\(first.output)")
        #expect(first.output.contains("cut-off.jpg: corrupt_image — the image data is truncated") && first.output.contains("fake.jpg: not_an_image"))
        #expect(first.output.contains("Passed over 3 files that are not photos (.json ×1, .mov ×1, .txt ×1)"), "\(first.output)")
        // Named on the command line (as a shell's `*` names a folder's files), a sidecar or note is passed over
        // and a file named like a photo is tried (the fake one failed above and is unchanged: not tried again).
        let named = try await Self.run(["ingest", "photos/notes.txt", "photos/trip/John_Simm-0.jpg.json", "photos/fake.jpg"], in: folder)
        #expect(named.status == 0 && named.output.contains("1 unchanged") && !named.output.contains("notes.txt:"), "\(named.output)")
        #expect(named.output.contains("Passed over 2 files that are not photos (.json ×1, .txt ×1)"), "\(named.output)")
        // Named and found in a folder named too, a file is passed over once.
        let twice = try await Self.run(["ingest", "photos", "photos/notes.txt"], in: folder)
        #expect(twice.output.contains("Passed over 3 files that are not photos (.json ×1, .mov ×1, .txt ×1)"), "\(twice.output)")
        let onlyNotes = try await Self.run(["ingest", "photos/notes.txt"], in: folder)
        #expect(onlyNotes.status != 0 && onlyNotes.errors.contains("no photos in photos/notes.txt (only 1 file that is not a photo (.txt ×1))"), "\(onlyNotes.errors)")

        let again = try await Self.run(["ingest", "photos", "--json"], in: folder)
        #expect(again.status == 0)
        let summary = try #require(try again.json() as? [String: Any])
        #expect(summary["unchanged"] as? Int == 8 && summary["faces"] as? Int == 0 && summary["people"] as? Int == 2)
        #expect(summary["failedBefore"] as? Int == 2, "the cut-off JPEG and the text file are said to have failed before")

        // Biden is in one photo: a face seen once waits, unassigned, until a second one or a user's word.
        let unassigned = try #require(try await Self.run(["people", "--unassigned", "--json"], in: folder).json() as? [[String: Any]])
        try #require(unassigned.count == 1)
        #expect((unassigned[0]["path"] as? String)?.hasSuffix("biden-0.jpg") == true)
        let made = try await Self.run(["make-person", try #require(unassigned[0]["faceId"] as? String)], in: folder)
        #expect(made.status == 0, "\(made.errors)")

        let people = try await Self.people(folder)
        #expect(people.map { $0["photoCount"] as? Int } == [3, 2, 1])
        try #require(people.count == 3)
        let (salley, simm, biden) = (try #require(people[0]["id"] as? String), try #require(people[1]["id"] as? String), try #require(people[2]["id"] as? String))
        let thumbnail = try #require(people[0]["thumbnail"] as? String)
        #expect(FileManager.default.fileExists(atPath: thumbnail) && thumbnail.contains("/people/\(salley)/"))

        let photos = try await Self.run(["photos", salley], in: folder)
        #expect(photos.status == 0 && photos.output.split(separator: "\n").count == 3)
        #expect(photos.output.split(separator: "\n").allSatisfy { $0.contains("John_Salley-") })

        #expect(try await Self.run(["rename", salley, "John Salley"], in: folder).status == 0)
        #expect(try await Self.people(folder).first?["name"] as? String == "John Salley")

        let merged = try await Self.run(["merge", biden, simm], in: folder)
        #expect(merged.status == 0, "\(merged.errors)")
        #expect(try await Self.people(folder).map { $0["photoCount"] as? Int } == [3, 3])
        // The merged-away id keeps answering, with the person it went to.
        let redirected = try await Self.run(["person", biden, "--json"], in: folder)
        #expect(((try redirected.json() as? [String: Any])?["person"] as? [String: Any])?["id"] as? String == simm)

        let photo = folder.appendingPathComponent("photos/trip/John_Salley-0.jpg").path
        let shown = try await Self.run(["photo", photo, "--json"], in: folder)
        let shownFace = ((try shown.json() as? [String: Any])?["faces"] as? [[String: Any]])?.first
        #expect(shownFace?["personId"] as? String == salley && shownFace?["unassigned"] as? Bool == false)
        #expect(try await Self.run(["delete", photo], in: folder).status == 0)
        #expect(try await Self.people(folder).first { $0["id"] as? String == salley }?["photoCount"] as? Int == 2)
        let deleted = try await Self.run(["photo", photo], in: folder)
        #expect(deleted.status == 0 && deleted.output.contains("deleted: removed from the library"), "\(deleted.output) \(deleted.errors)")

        let forgot = try await Self.run(["forget", simm], in: folder)
        #expect(forgot.status == 0 && forgot.output.contains("3 faces removed"))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent(".facecluster/thumbnails/people/\(simm)").path),
                "no folder left that names the forgotten person")
        #expect(try await Self.people(folder).count == 1)

        let status = try await Self.run(["status", "--status", "failed", "--json"], in: folder)
        let failed = try #require(try status.json() as? [[String: Any]])
        #expect(Set(failed.compactMap { ($0["failure"] as? [String: Any])?["code"] as? String }) == ["corrupt_image", "not_an_image"])
        // Ingesting again brings back neither the deleted photo nor the forgotten faces' duplicates.
        _ = try await Self.run(["ingest", "photos"], in: folder)
        #expect(try await Self.people(folder).map { $0["photoCount"] as? Int }.contains(2))
    }

    @Test("the first run keeps dlib's HOG detector decoded beside the models; the next reads it and finds the same faces")
    func detectorCache() async throws {
        let folder = try Self.library()
        let models = folder.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        for file in [FaceModels.shapePredictorFile, FaceModels.recognitionModelFile] {
            try FileManager.default.createSymbolicLink(
                at: models.appendingPathComponent(file), withDestinationURL: FaceModels.defaultDirectory().appendingPathComponent(file))
        }
        var environment = ProcessInfo.processInfo.environment
        environment["FACECLUSTER_MODELS"] = models.path
        let cache = models.appendingPathComponent(FaceModels.detectorCacheFile)
        var faces: [[String]] = []
        for store in ["first", "second"] {
            let ingest = try await Subprocess.run(Self.binary, ["ingest", "photos/trip", "--store", store], in: folder, environment: environment)
            #expect(ingest.status == 1, "the cut-off JPEG fails: \(String(decoding: ingest.errors, as: UTF8.self))")
            #expect(FileManager.default.fileExists(atPath: cache.path), "written by the \(store) run")
            let shown = try await Subprocess.run(Self.binary, ["photo", "photos/trip/John_Salley-0.jpg", "--store", store, "--json"], in: folder, environment: environment)
            let photo = try #require(try JSONSerialization.jsonObject(with: shown.output) as? [String: Any])
            let found = try #require(photo["faces"] as? [[String: Any]])
            faces.append(try found.map { face in
                let box = try #require(face["boundingBox"] as? [String: Double])
                return "\(face["faceId"] ?? "") \(["left", "top", "width", "height"].map { box[$0] ?? -1 })"
            }.sorted())
        }
        #expect(!faces[0].isEmpty && faces[0] == faces[1], "\(faces)")
    }

    @Test("--copy copies the photos into the store and references the copies; --store puts the library elsewhere")
    func copyIntoStore() async throws {
        let folder = try Self.library()
        let store = folder.appendingPathComponent("elsewhere").path
        let run = try await Self.run(["ingest", "photos/trip/biden-0.jpg", "photos/trip/John_Simm-0.jpg", "--copy", "--store", store, "--json"], in: folder)
        #expect(run.status == 0, "\(run.errors)")
        let copies = try FileManager.default.contentsOfDirectory(atPath: store + "/photos").sorted()
        #expect(copies == ["John_Simm-0.jpg", "biden-0.jpg"])
        let listed = try #require(try await Self.run(["status", "--store", store, "--json"], in: folder).json() as? [[String: Any]])
        #expect(listed.compactMap { $0["path"] as? String }.allSatisfy { $0.hasPrefix(store + "/photos/") })
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent(".facecluster").path), "nothing written to the default store")
    }

    @Test("--copy copies the file a link leads to; a link that loops fails for good; a name that is not UTF-8 is reported and the rest go on")
    func linksAndNames() async throws {
        let folder = try Self.library()
        let trip = folder.appendingPathComponent("photos/trip")
        let links = folder.appendingPathComponent("links")
        try FileManager.default.createDirectory(at: links, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: links.appendingPathComponent("simm.jpg"), withDestinationURL: trip.appendingPathComponent("John_Simm-1.jpg"))
        try FileManager.default.createSymbolicLink(atPath: links.appendingPathComponent("salley.jpg").path, withDestinationPath: "../photos/trip/John_Salley-0.jpg")
        try FileManager.default.createSymbolicLink(atPath: links.appendingPathComponent("loop.jpg").path, withDestinationPath: "loop.jpg")
        // A second name for simm.jpg's file, beside it: one photo, not two (nor one reported busy by its own run).
        try FileManager.default.createSymbolicLink(atPath: links.appendingPathComponent("simm-again.jpg").path, withDestinationPath: "simm.jpg")
        // "café.jpg" in Latin-1: byte 0xE9 is not UTF-8.
        let latin1 = Array(links.path.utf8) + Array("/caf".utf8) + [0xE9] + Array(".jpg".utf8)
        let photo = try Data(contentsOf: trip.appendingPathComponent("biden-0.jpg"))
        let descriptor = (latin1.map { CChar(bitPattern: $0) } + [0]).withUnsafeBufferPointer { open($0.baseAddress!, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
        try #require(descriptor >= 0)
        #expect(photo.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) } == photo.count)
        close(descriptor)

        let referenced = try await Self.run(["ingest", "links", "--store", "referenced", "--json"], in: folder)
        #expect(referenced.status == 1, "\(referenced.output) \(referenced.errors)")
        #expect(referenced.errors.contains("its name is not valid UTF-8"), "\(referenced.errors)")
        let summary = try #require(try referenced.json() as? [String: Any], "\(referenced.output)")
        #expect(summary["indexed"] as? Int == 2 && summary["unreadable"] as? Int == 1 && summary["inProgressElsewhere"] as? Int == 0, "\(summary)")
        let failures = try #require(summary["failures"] as? [[String: Any]])
        #expect(failures.count == 1 && failures.first?["code"] as? String == "object_not_found" && failures.first?["retryable"] as? Bool == false,
                "a link that loops leads nowhere, for good: \(failures)")

        let copied = try await Self.run(["ingest", "links", "--copy", "--store", "copied", "--json"], in: folder)
        #expect(copied.status == 1, "\(copied.output) \(copied.errors)")
        let copies = folder.appendingPathComponent("copied/photos")
        // simm-again.jpg and simm.jpg lead to one file: one copy (under the first name in path order).
        let names = try FileManager.default.contentsOfDirectory(atPath: copies.path).sorted()
        #expect(names == ["salley.jpg", "simm-again.jpg"])
        for name in names {
            let type = try FileManager.default.attributesOfItem(atPath: copies.appendingPathComponent(name).path)[.type] as? FileAttributeType
            #expect(type == .typeRegular, "\(name) is a copy of the file, not of the link")
        }
        let copiedSummary = try #require(try copied.json() as? [String: Any], "\(copied.output)")
        #expect(copiedSummary["indexed"] as? Int == 2, "the two linked photos are ingested from their copies: \(copiedSummary)")
        #expect(copied.errors.contains("loop.jpg: cannot copy it"), "\(copied.errors)")
    }

    @Test("a folder scan follows links, never enters the library's own folder, and says what it cannot read")
    func folderScan() async throws {
        let folder = try Self.library()
        let trip = folder.appendingPathComponent("photos/trip")
        let linked = folder.appendingPathComponent("linked")
        try FileManager.default.createDirectory(at: linked, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: linked.appendingPathComponent("simm.jpg"), withDestinationURL: trip.appendingPathComponent("John_Simm-1.jpg"))
        try FileManager.default.createSymbolicLink(at: linked.appendingPathComponent("trip"), withDestinationURL: trip)
        try FileManager.default.createSymbolicLink(at: linked.appendingPathComponent("loop"), withDestinationURL: linked)
        // The library inside the scanned folder: its thumbnails are photos of faces, never photos to ingest.
        let store = linked.appendingPathComponent("library").path
        let first = try await Self.run(["ingest", "linked", "--store", store, "--json"], in: folder)
        let summary = try #require(try first.json() as? [String: Any], "\(first.output) \(first.errors)")
        // simm.jpg is a second name for the linked folder's John_Simm-1.jpg: one photo.
        #expect(summary["photos"] as? Int == 7, "the linked folder's 6 photos and cut-off.jpg: \(summary)")
        #expect(summary["inProgressElsewhere"] as? Int == 0, "\(summary)")
        let again = try #require(try await Self.run(["ingest", "linked", "--store", store, "--json"], in: folder).json() as? [String: Any])
        #expect(again["photos"] as? Int == 7 && again["unchanged"] as? Int == 7, "the second run finds no thumbnails to ingest: \(again)")

        // A path that does not exist is reported, and the rest are ingested; exit 1.
        let missing = try await Self.run(["ingest", "nowhere.jpg", "photos/trip/biden-0.jpg", "--store", store], in: folder)
        #expect(missing.status == 1 && missing.errors.contains("cannot read nowhere.jpg: no such file or folder"), "\(missing.errors)")
        #expect(missing.output.contains("1 unchanged") || missing.output.contains("Ingested 1"), "\(missing.output)")
        #expect(missing.output.contains("1 path could not be read"), "the summary counts it: \(missing.output)")
        let onlyMissing = try await Self.run(["ingest", "nowhere.jpg", "--store", store], in: folder)
        #expect(onlyMissing.status == 2, "nothing to do at all is a usage error")

        // A device or a pipe, named or in a folder under a photo's name, is reported as what it is, never read.
        #expect(mkfifo(linked.appendingPathComponent("pipe.jpg").path, 0o600) == 0)
        let special = try await Self.run(["ingest", "/dev/zero", "linked", "--store", store], in: folder)
        #expect(special.status == 1, "\(special.output) \(special.errors)")
        #expect(special.errors.contains("cannot read /dev/zero: not a regular file (a device, pipe or socket)"), "\(special.errors)")
        #expect(special.errors.contains("pipe.jpg: not a regular file"), "\(special.errors)")
        #expect(special.output.contains("7 unchanged"), "the folder's photos are still read: \(special.output)")
    }

    /// ``library()`` ingested, John Simm merged into John Salley by the user.
    static func mergedLibrary() async throws -> URL {
        let folder = try library()
        _ = try await run(["ingest", "photos"], in: folder)
        let people = try await people(folder)
        try #require(people.count == 2)
        let (salley, simm) = (try #require(people[0]["id"] as? String), try #require(people[1]["id"] as? String))
        #expect(try await run(["merge", simm, salley], in: folder).status == 0)
        return folder
    }

    @Test("a merge whose moved face was deleted since cannot be undone: undo says why, and a bare undo says it passed over it")
    func undoAfterDelete() async throws {
        let folder = try await Self.mergedLibrary()
        let history = try #require(try await Self.run(["history", "--json"], in: folder).json() as? [[String: Any]])
        let merge = try #require(history.first?["id"] as? String)
        #expect(try await Self.run(["delete", "photos/trip/John_Simm-0.jpg"], in: folder).status == 0)

        let named = try await Self.run(["undo", merge], in: folder)
        #expect(named.status == 2 && named.errors.contains("is gone since (a deleted photo or a forgotten person"), "\(named.errors)")
        let bare = try await Self.run(["undo"], in: folder)
        #expect(bare.errors.contains("note: passed over \(merge)"), "\(bare.status) \(bare.output) \(bare.errors)")
        #expect(try await Self.people(folder).count == 1, "the merge stays")
    }

    @Test("a bare undo of a merge that more photos came after says it regrouped them, and passes over nothing")
    func bareUndoOfMergeWithLaterPhotos() async throws {
        let folder = try await Self.mergedLibrary()
        let more = folder.appendingPathComponent("photos/more")
        try FileManager.default.createDirectory(at: more, withIntermediateDirectories: true)
        for (number, item) in try LabeledSet.photos().filter({ $0.person == "John_Simm" }).dropFirst(2).prefix(3).enumerated() {
            try FileManager.default.copyItem(at: item.url, to: more.appendingPathComponent("John_Simm-more-\(number).jpg"))
        }
        #expect(try await Self.run(["ingest", "photos/more"], in: folder).status == 0)
        let history = try #require(try await Self.run(["history", "--json"], in: folder).json() as? [[String: Any]])
        try #require(history.first?["kind"] as? String == "merge", "the merge is the newest operation: a bare undo undoes it")

        let undone = try await Self.run(["undo"], in: folder)
        #expect(undone.status == 0 && undone.output.contains("Then regrouped"), "\(undone.output) \(undone.errors)")
        #expect(!undone.errors.contains("passed over"), "the regrouping after the undo was not passed over: \(undone.errors)")
        #expect(try await Self.people(folder).map { $0["photoCount"] as? Int } == [5, 3], "John Simm's later photos went with him")
    }

    @Test("a file name with a line break or a terminal escape stays one line of a plain listing, escaped; --json keeps it as it is")
    func controlCharactersInFileNames() async throws {
        let folder = try Self.library()
        let trip = folder.appendingPathComponent("photos/trip")
        let (broken, coloured) = ("John_Salley\nfake.jpg", "\u{1B}[31mJohn_Salley.jpg")
        try FileManager.default.moveItem(at: trip.appendingPathComponent("John_Salley-1.jpg"), to: trip.appendingPathComponent(broken))
        try FileManager.default.moveItem(at: trip.appendingPathComponent("John_Salley-2.jpg"), to: trip.appendingPathComponent(coloured))
        let ingested = try await Self.run(["ingest", "photos"], in: folder)
        #expect(!ingested.errors.contains("\u{1B}") && ingested.errors.contains("John_Salley\\nfake.jpg"), "\(ingested.errors)")
        let salley = try #require(try await Self.people(folder).first { $0["photoCount"] as? Int == 3 }?["id"] as? String)

        let listed = try await Self.run(["photos", salley], in: folder)
        let lines = listed.output.split(separator: "\n")
        #expect(lines.count == 3, "one line a photo: \(lines)")
        #expect(lines.contains { $0.hasSuffix("/photos/trip/John_Salley\\nfake.jpg") } && lines.contains { $0.hasSuffix("/photos/trip/\\u{1B}[31mJohn_Salley.jpg") }, "\(lines)")
        let status = try await Self.run(["status"], in: folder)
        #expect(!status.output.contains("\u{1B}") && status.output.contains("John_Salley\\nfake.jpg"), "\(status.output)")
        let json = try #require(try await Self.run(["photos", salley, "--json"], in: folder).json() as? [[String: Any]])
        #expect(Set(json.compactMap { ($0["path"] as? String).map { URL(fileURLWithPath: $0).lastPathComponent } }).isSuperset(of: [broken, coloured]), "\(json)")
    }

    @Test("serve on a port another program listens on fails at once with why (it waited silently for a Ctrl-C)")
    func servePortInUse() async throws {
        let folder = try Self.library()
        // A listening socket on a free loopback port, held for the test's length.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && listen(listener, 1) == 0 && getsockname(listener, $0, &length) == 0 }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))

        // `timeout` ends the old behaviour (a wait with nothing printed) as a failure, not a hung suite.
        let result = try await Subprocess.run(
            URL(fileURLWithPath: "/usr/bin/timeout"), ["20", Self.binary.path, "serve", "--port", "\(port)"], in: folder)
        let errors = String(decoding: result.errors, as: UTF8.self)
        #expect(result.status == 2, "\(result.status): \(errors)")
        #expect(errors.contains("cannot listen on 127.0.0.1:\(port): Address already in use") && errors.contains("--port 0"), "\(errors)")
        let unknown = try await Subprocess.run(
            URL(fileURLWithPath: "/usr/bin/timeout"), ["20", Self.binary.path, "serve", "--port", "0", "--host", "nosuch.invalid"], in: folder)
        #expect(unknown.status == 2 && String(decoding: unknown.errors, as: UTF8.self).contains("cannot listen on nosuch.invalid:0: no such host"),
                "\(unknown.status): \(String(decoding: unknown.errors, as: UTF8.self))")
    }

    @Test("what a user types that names nothing, or a store that cannot be used, is said plainly: a gone file, a file never ingested, junk ids, only strangers, an empty database, a file in the store's way")
    func plainRefusals() async throws {
        let folder = try Self.library()
        _ = try await Self.run(["ingest", "photos"], in: folder)
        // A photo whose file is gone since is still named by its path, so that `delete` removes what is left of it.
        let gone = "photos/trip/John_Simm-1.jpg"
        try FileManager.default.removeItem(at: folder.appendingPathComponent(gone))
        let deleted = try await Self.run(["delete", gone], in: folder)
        #expect(deleted.status == 0 && deleted.output.contains("Removed"), "\(deleted.output) \(deleted.errors)")
        let never = try await Self.run(["photo", "/etc/hostname"], in: folder)
        #expect(never.status == 2 && never.errors.contains("/etc/hostname is not in the library"), "\(never.errors)")
        let nowhere = try await Self.run(["photo", "photos/nowhere.jpg"], in: folder)
        #expect(nowhere.status == 2 && nowhere.errors.contains("no file photos/nowhere.jpg"), "\(nowhere.errors)")
        for arguments in [["person", "p_\u{1B}[31mx\ny"], ["move", "f_\u{1B}x"], ["undo", "op_\u{1B}x"], ["photo", "ph_\u{1B}x"]] {
            let junk = try await Self.run(arguments, in: folder)
            #expect(junk.status == 2 && !junk.errors.contains("\u{1B}") && junk.errors.contains("\\u{1B}"), "\(arguments): \(junk.errors)")
        }
        for operation in ["bogus", "op_UPPER", "op_a_b"] {
            let refused = try await Self.run(["undo", operation], in: folder)
            #expect(refused.status == 2 && refused.errors.contains("is not an operation id"), "\(operation): \(refused.errors)")
        }

        // A library of one stranger seen once: no people, and the listing says where the face is.
        let stranger = folder.appendingPathComponent("stranger")
        try FileManager.default.createDirectory(at: stranger, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: folder.appendingPathComponent("photos/trip/biden-0.jpg"), to: stranger.appendingPathComponent("biden.jpg"))
        _ = try await Self.run(["ingest", "stranger", "--store", "strangers"], in: folder)
        let listed = try await Self.run(["people", "--store", "strangers"], in: folder)
        #expect(listed.status == 0 && listed.output.contains("No people yet: 1 face waits unassigned"), "\(listed.output)")

        // An emptied database is refused by ingest too (it started a new library over the lost one).
        let store = folder.appendingPathComponent(".facecluster")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(at: store.appendingPathComponent("facecluster.sqlite" + suffix)) }
        #expect(FileManager.default.createFile(atPath: store.appendingPathComponent("facecluster.sqlite").path, contents: Data()))
        let emptied = try await Self.run(["ingest", "photos"], in: folder)
        #expect(emptied.status == 2 && emptied.errors.contains("is empty (0 bytes)"), "\(emptied.errors)")
        // An empty --store is a usage error, not the current folder.
        let unnamed = try await Self.run(["people", "--store", ""], in: folder)
        #expect(unnamed.status == 2 && unnamed.errors.contains("--store must name a folder"), "\(unnamed.errors)")
        // A file where the store's folder would go.
        #expect(FileManager.default.createFile(atPath: folder.appendingPathComponent("afile").path, contents: Data()))
        let blocked = try await Self.run(["ingest", "photos", "--store", "afile/library"], in: folder)
        #expect(blocked.status == 2 && blocked.errors.contains("cannot create the library's folder") && blocked.errors.contains("Not a directory")
                && !blocked.errors.contains("NSCocoaErrorDomain"), "\(blocked.errors)")
    }

    @Test("forget on a terminal asks first, and forgets nothing without a yes")
    func forgetAsksOnATerminal() async throws {
        let folder = try Self.library()
        _ = try await Self.run(["ingest", "photos"], in: folder)
        let person = try #require(try await Self.people(folder).first?["id"] as? String)
        // script(1) gives the command a terminal, and passes it our answer.
        let asked = try await Subprocess.run(
            URL(fileURLWithPath: "/usr/bin/script"), ["-qec", "\(Self.binary.path) forget \(person)", "/dev/null"], input: Data("n\n".utf8), in: folder)
        let output = String(decoding: asked.output, as: UTF8.self)
        #expect(asked.status == 1 && output.contains("cannot be undone. [y/N]") && output.contains("Nothing forgotten."), "\(asked.status): \(output)")
        #expect(try await Self.people(folder).contains { $0["id"] as? String == person }, "still there")
    }

    @Test("moving a face to the person it is with already says nothing moved, exits 0 and journals nothing (a retried move)")
    func moveToTheSamePerson() async throws {
        let folder = try await Self.mergedLibrary()
        let shown = try await Self.run(["photo", "photos/trip/John_Simm-0.jpg", "--json"], in: folder)
        let face = try #require(((try shown.json() as? [String: Any])?["faces"] as? [[String: Any]])?.first)
        let (faceID, person) = (try #require(face["faceId"] as? String), try #require(face["personId"] as? String))
        let before = try #require(try await Self.run(["history", "--json"], in: folder).json() as? [[String: Any]])

        let moved = try await Self.run(["move", faceID, person], in: folder)
        #expect(moved.status == 0 && moved.output.contains("is already with \(person): nothing to move"), "\(moved.output) \(moved.errors)")
        #expect(!moved.output.contains("Undo"), "there is nothing of this command's to undo: \(moved.output)")
        let after = try #require(try await Self.run(["history", "--json"], in: folder).json() as? [[String: Any]])
        #expect(after.count == before.count, "nothing journaled")
    }

    @Test("a lock file that cannot be taken (a folder in its place) fails people operations with what is wrong; a bare undo blames nothing else; so does a file in unconsolidated/'s place")
    func lockFileUnusable() async throws {
        let folder = try await Self.mergedLibrary()
        let lock = folder.appendingPathComponent(".facecluster/consolidation.lock")
        try? FileManager.default.removeItem(at: lock)
        try FileManager.default.createDirectory(at: lock, withIntermediateDirectories: false)
        let people = try await Self.people(folder)
        let person = try #require(people.first?["id"] as? String)

        let renamed = try await Self.run(["rename", person, "Someone"], in: folder)
        #expect(renamed.status == 2 && renamed.errors.contains("cannot take the library's lock") && renamed.errors.contains("Is a directory"), "\(renamed.errors)")
        let undone = try await Self.run(["undo"], in: folder)
        #expect(undone.status == 2 && undone.errors.contains("cannot take the library's lock"), "\(undone.errors)")
        #expect(!undone.errors.contains("passed over"), "nothing was passed over: \(undone.errors)")
        #expect(try await Self.people(folder).first?["name"] as? String == nil, "nothing changed")

        // serve says so as it starts, not as a 500 on the first change.
        let served = try await Subprocess.run(URL(fileURLWithPath: "/usr/bin/timeout"), ["20", Self.binary.path, "serve", "--port", "0"], in: folder)
        #expect(served.status == 2 && String(decoding: served.errors, as: UTF8.self).contains("cannot take the library's lock"),
                "\(served.status): \(String(decoding: served.errors, as: UTF8.self))")
        // ingest says so before it reads a photo, not after all of them.
        let ingested = try await Self.run(["ingest", "photos"], in: folder)
        #expect(ingested.status == 2 && ingested.errors.contains("cannot take the library's lock") && !ingested.errors.contains("same "), "\(ingested.errors)")

        // So do the commands that regroup, when the record of faces not yet regrouped cannot be written.
        try FileManager.default.removeItem(at: lock)
        let unconsolidated = folder.appendingPathComponent(".facecluster/unconsolidated")
        try FileManager.default.removeItem(at: unconsolidated)
        #expect(FileManager.default.createFile(atPath: unconsolidated.path, contents: Data()))
        for command in [["recluster"], ["repair"], ["ingest", "photos"]] {
            let failed = try await Self.run(command, in: folder)
            #expect(failed.status == 2 && failed.errors.contains("unconsolidated: Not a directory"), "\(command): \(failed.errors)")
        }
    }

    @Test("a people operation or a deletion from another process waits while the library's lock is held (a consolidation in serve or ingest)")
    func peopleOperationWaitsForTheLibrary() async throws {
        let folder = try Self.library()
        _ = try await Self.run(["ingest", "photos"], in: folder)
        let people = try await Self.people(folder)
        let simm = try #require(people.first { ($0["photoCount"] as? Int) == 2 }?["id"] as? String)
        let store = folder.appendingPathComponent(".facecluster")
        let deleted = "photos/trip/John_Salley-0.jpg"

        // This process holds the lock as a consolidation would, while `facecluster rename` and `delete` run in others.
        let (rename, delete, released) = try await LibraryLock(directory: store).withLock {
            let rename = Task { try await Self.run(["rename", simm, "John Simm"], in: folder) }
            let delete = Task { try await Self.run(["delete", deleted], in: folder) }
            try await Task.sleep(for: .seconds(1.5))
            return (rename, delete, Date())
        }
        let (renamed, deletion) = (try await rename.value, try await delete.value)
        #expect(renamed.status == 0 && deletion.status == 0, "\(renamed.errors) \(deletion.errors)")
        #expect(renamed.errors.contains("Waiting for another facecluster run to finish regrouping this library"), "says why it pauses: \(renamed.errors)")
        let library = try LocalLibrary(directory: store)
        let operation = try #require(try await library.gallery.history(page: PageRequest(limit: 1)).items.first)
        #expect(operation.kind == .rename && operation.summary.contains("John Simm"))
        #expect(operation.at >= released, "computed after the lock was let go (\(operation.at) vs \(released)), not beside the holder")
        let reference = try #require(library.reference(forFile: folder.appendingPathComponent(deleted)))
        let photo = try #require(try await library.metadata.photo(PhotoID(reference)))
        #expect(photo.status == .deleted && photo.updatedAt >= released, "deleted after the lock was let go (\(photo.updatedAt) vs \(released))")
    }

    @Test("on a terminal, ingest draws a progress bar with the rate and the time left",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "needs util-linux's script for a terminal"))
    func progressOnATerminal() throws {
        let folder = try Self.library()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        // `script` runs the command on a pseudo-terminal, as a user's shell would.
        process.arguments = ["-qec", "\(Self.binary.path) ingest photos", "/dev/null"]
        process.currentDirectoryURL = folder
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(text.contains("█") && text.contains("photos/s") && text.contains("left"), "\(text.prefix(400))")
        #expect(text.contains("8/8"), "the bar counts every file")
        #expect(text.contains("fake.jpg: not_an_image"), "failures are printed above the bar")
    }

    @Test("suggestions name a group too small to be listed by its face, and merging it as suggested lists it with its person")
    func suggestionOfAnUnassignedFace() async throws {
        let folder = Scratch.url("fck-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // Arnold_Schwarzenegger_0008 is 89.2 like his 9 other photos: under the 90 to join, in the review band.
        let arnold = GroupingQualityTests.lfw10.appendingPathComponent("Arnold_Schwarzenegger").path
        #expect(try await Self.run(["ingest", arnold, "--store", "lib"], in: folder).status == 0)
        let suggested = try await Self.run(["suggestions", "--store", "lib"], in: folder)
        let unassigned = try #require(try await Self.run(["people", "--unassigned", "--json", "--store", "lib"], in: folder).json() as? [[String: Any]])
        try #require(unassigned.count == 1)
        let face = try #require(unassigned[0]["faceId"] as? String)
        #expect(suggested.output.contains("(unassigned: face \(face))") && suggested.output.contains("9 photos"), "\(suggested.output)")
        let command = try #require(suggested.output.split(separator: "`").first { $0.hasPrefix("facecluster merge ") })
        let merged = try await Self.run(command.split(separator: " ").dropFirst().map(String.init) + ["--store", "lib"], in: folder)
        #expect(merged.status == 0, "\(merged.errors)")
        let people = try #require(try await Self.run(["people", "--json", "--store", "lib"], in: folder).json() as? [[String: Any]])
        #expect(people.first?["photoCount"] as? Int == 10, "all ten of his photos in one person (background faces of two photos aside)")
    }

    @Test("evaluate --subsample --trials reports the distribution behind its median: trials perfect and at 0.98 or more")
    func subsampleDistribution() async throws {
        let folder = Scratch.url("fck-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("labeled"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for person in ["Arnold_Schwarzenegger", "Tony_Blair", "Colin_Powell"] {
            try FileManager.default.createSymbolicLink(
                at: folder.appendingPathComponent("labeled/\(person)"), withDestinationURL: GroupingQualityTests.lfw10.appendingPathComponent(person))
        }
        let arguments = ["evaluate", "labeled", "--subsample", "2-3", "--trials", "6", "--seed", "3"]
        let run = try await Self.run(arguments + ["--json"], in: folder)
        let summary = try #require(try run.json() as? [String: Any], "\(run.output) \(run.errors)")
        let f1 = try #require(summary["f1"] as? [Double])
        try #require(f1.count == 6)
        #expect(summary["perfectTrials"] as? Int == f1.filter { $0 == 1 }.count, "\(summary)")
        #expect(summary["trialsAtLeast098"] as? Int == f1.filter { $0 >= 0.98 }.count, "\(summary)")
        let text = try await Self.run(arguments, in: folder)
        #expect(text.output.contains("\(f1.filter { $0 == 1 }.count) of 6 grouped exactly as labeled, \(f1.filter { $0 >= 0.98 }.count) at F1 0.98 or more"),
                "\(text.output)")
    }

    @Test("usage and set-up errors exit 2 with a message saying what to do", arguments: [
        (["person", "not-an-id"], "is not a person id"),
        (["frobnicate"], "Unexpected argument"),
        (["ingest"], "Missing expected argument"),
        (["people", "--store", "/nonexistent/place"], "no library in"),
        (["ingest", "/nonexistent/photo.jpg"], "no such file or folder"),
        (["serve", "--store", "/tmp/fck-watched/library", "--watch", "/tmp"], "watch a folder apart from the library"),
        (["rekognition-server", "--s3-endpoint", "127.0.0.1:5000"], "--s3-endpoint must be an http(s) URL"),
        (["suggestions", "--limit", "0"], "--limit must be at least 1"),
        // A negative number is read as the option's value (not as an unknown option) and refused for what it is.
        (["suggestions", "--limit", "-1"], "--limit must be at least 1"),
        (["ingest", "photos", "--jobs", "-2"], "--jobs must be between 1 and 64"),
        (["evaluate", "labeled", "--sweep", "--shuffle", "2"], "give one of them"),
    ])
    func usageErrors(arguments: [String], message: String) async throws {
        let run = try await Self.run(arguments, in: FileManager.default.temporaryDirectory)
        #expect(run.status == 2)
        #expect(run.errors.contains(message), "\(run.errors)")
    }
}
