@testable import FaceClusterKit
import FaceClusterLocal
@testable import FaceClusterServer
import Foundation
#if canImport(Glibc)
import Glibc
import Synchronization
#endif
import Testing

/// `facecluster serve`'s edge: who may call the API, which files can be read, what an upload may be.
@Suite("facecluster serve: security and limits")
struct GalleryServerSecurityTests {
    /// An in-memory gallery with one person whose thumbnail is in a folder store, served with `configuration`.
    static func serve(_ configuration: GalleryServer.Configuration = .init(port: 0), signer: URLSigner = URLSigner()) async throws -> (ServedAPI, DirectoryPhotoStore) {
        let folder = Scratch.url("fck-serve-\(UUID().uuidString)")
        let thumbnails = DirectoryPhotoStore(root: folder)
        try await thumbnails.put(JPEGFactory.jpeg(JPEGFactory.quadrants(width: 32, height: 32, box: HostileJPEGTests.box)), at: "people/p/f.jpg", contentType: "image/jpeg")
        let metadata = InMemoryMetadataStore(), photos = InMemoryPhotoStore(location: "raw")
        let gallery = Gallery(
            metadata: metadata, photos: SignedURLPhotoStore(photos, name: "photos", signer: signer),
            thumbnails: SignedURLPhotoStore(thumbnails, name: "thumbnails", signer: signer), index: InMemoryFaceIndex())
        let api = GalleryAPI(gallery: gallery, uploads: PhotoUploads(store: photos, metadata: metadata, maximumBytes: configuration.maximumUploadBytes))
        let served = try await ServedAPI.start(api, configuration: configuration, stores: ["photos": photos, "thumbnails": thumbnails], signer: signer)
        return (served, thumbnails)
    }

    static func code(_ body: Data) -> String? {
        ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]).flatMap { ($0["error"] as? [String: Any])?["code"] as? String }
    }

    @Test("off loopback every API request needs the bearer token; the page shell does not")
    func token() async throws {
        let token = "s3cret-token-0123456789"
        let (server, _) = try await Self.serve(.init(host: "127.0.0.1", port: 0, token: token))
        let missing = try await server.api("GET", "/people")
        #expect(missing.status == 401 && Self.code(missing.body) == "unauthorized" && missing.headers["www-authenticate"] == "Bearer")
        #expect(try await server.api("GET", "/people", headers: ["authorization": "Bearer wrong-token-0123456789"]).status == 401)
        #expect(try await server.api("GET", "/people", headers: ["authorization": "Bearer \(token)"]).status == 200)
        #expect(try await server.send("GET", "/").status == 200)
        // A token server answers to any host name (it is meant to be reached from other machines).
        #expect(try await server.api("GET", "/people", headers: ["authorization": "Bearer \(token)", "host": "photos.lan:8080"]).status == 200)
    }

    @Test("on loopback without a token: other host names (DNS rebinding) and other origins' changes are refused")
    func loopback() async throws {
        let (server, _) = try await Self.serve()
        for name in ["evil.example", "127.attacker.example", "127.0.0.1.attacker.example", "127.0.0.256", "0x7f.0.0.1"] {
            let rebound = try await server.api("GET", "/people", headers: ["host": "\(name):\(server.port)"])
            #expect(rebound.status == 403 && Self.code(rebound.body) == "host_not_allowed", "\(name)")
        }
        #expect(try await server.api("GET", "/people", headers: ["host": "127.0.0.5:\(server.port)"]).status == 200)
        #expect(!GalleryServer.Configuration(host: "127.example.lan").isLoopback, "such a --host needs a token")
        #expect(try await server.api("GET", "/people", headers: ["host": "localhost:\(server.port)"]).status == 200)
        let person = "p_" + String(repeating: "a", count: 26)
        let foreign = try await server.api("PATCH", "/people/\(person)", headers: ["origin": "http://evil.example"], body: #"{"name":"x"}"#)
        #expect(foreign.status == 403 && Self.code(foreign.body) == "cross_origin")
        let crossSite = try await server.api("DELETE", "/people/\(person)", headers: ["sec-fetch-site": "cross-site"])
        #expect(crossSite.status == 403 && Self.code(crossSite.body) == "cross_origin")
        // The same request from the server's own page reaches the API (and finds no such person).
        let own = try await server.api("PATCH", "/people/\(person)", headers: ["origin": "http://127.0.0.1:\(server.port)", "sec-fetch-site": "same-origin"], body: #"{"name":"x"}"#)
        #expect(own.status == 404 && Self.code(own.body) == "person_not_found")
        // Reading from another origin is harmless without credentials, and allowed (curl sends no Origin).
        #expect(try await server.api("GET", "/people", headers: ["origin": "http://evil.example"]).status == 200)
    }

    @Test("every answer carries the Content-Security-Policy and nosniff")
    func headers() async throws {
        let (server, _) = try await Self.serve()
        for path in ["/", "/app.js", "/api/people", "/api/nowhere", "/nowhere"] {
            let answer = try await server.send("GET", path)
            #expect(answer.headers["content-security-policy"]?.contains("script-src 'self'") == true, "\(path)")
            #expect(answer.headers["content-security-policy"]?.contains("frame-ancestors 'none'") == true, "\(path)")
            #expect(answer.headers["x-content-type-options"] == "nosniff", "\(path)")
        }
        #expect(try await server.send("GET", "/app.js").headers["content-type"]?.hasPrefix("text/javascript") == true)
    }

    @Test("a gallery address typed without its # goes to that page; HEAD answers as GET, without a body; a missing file is 404")
    func addresses() async throws {
        let (server, _) = try await Self.serve()
        let typed = try await Self.rawRequest(port: server.port, "GET /people/p_abc HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(typed.hasPrefix("HTTP/1.1 302") && typed.lowercased().contains("location: /#/people/p_abc"), "\(typed.prefix(300))")
        let slash = try await Self.rawRequest(port: server.port, "GET /people/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(slash.hasPrefix("HTTP/1.1 302") && slash.lowercased().contains("location: /#/people\r\n"), "\(slash.prefix(300))")
        let missing = try await server.send("GET", "/nowhere.js")
        #expect(missing.status == 404 && Self.code(missing.body) == "not_found")
        let head = try await Self.rawRequest(port: server.port, "HEAD /api/people HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(head.hasPrefix("HTTP/1.1 200") && head.hasSuffix("\r\n\r\n"), "headers only: \(head.prefix(300))")
        let wrong = try await server.api("PUT", "/people")
        #expect(wrong.status == 405 && wrong.headers["allow"] == "GET, HEAD")
    }

    @Test("files are read only through URLs the server signed, unexpired, for that key")
    func signedFiles() async throws {
        let signer = URLSigner()
        let (server, thumbnails) = try await Self.serve(signer: signer)
        let good = signer.path(store: "thumbnails", key: "people/p/f.jpg", expires: Date().addingTimeInterval(60))
        let answer = try await server.send("GET", good)
        #expect(answer.status == 200 && answer.headers["content-type"] == "image/jpeg")
        #expect(answer.body == (try await thumbnails.get("people/p/f.jpg")).data)

        let expired = signer.path(store: "thumbnails", key: "people/p/f.jpg", expires: Date().addingTimeInterval(-1))
        let tampered = good.replacingOccurrences(of: "signature=", with: "signature=0")
        let otherSigner = URLSigner().path(store: "thumbnails", key: "people/p/f.jpg", expires: Date().addingTimeInterval(60))
        let otherKey = good.replacingOccurrences(of: "people/p/f.jpg", with: "people/p/g.jpg")
        let otherStore = good.replacingOccurrences(of: "/files/thumbnails/", with: "/files/photos/")
        let unsigned = "/files/thumbnails/people/p/f.jpg"
        for path in [expired, tampered, otherSigner, otherKey, otherStore, unsigned] {
            let refused = try await server.send("GET", path)
            #expect(refused.status == 403 && Self.code(refused.body) == "invalid_signature", "\(path)")
        }
        // The file replaced by a link to one outside the library after the URL was signed: not followed.
        let file = try thumbnails.url(for: "people/p/f.jpg")
        try FileManager.default.removeItem(at: file)
        try FileManager.default.createSymbolicLink(atPath: file.path, withDestinationPath: "/etc/passwd")
        let linked = try await server.send("GET", good)
        #expect(linked.status == 404 && !String(decoding: linked.body, as: UTF8.self).contains("root:"))
    }

    @Test("no path reaches outside the library, signed or not", arguments: [
        "/files/thumbnails/../../../../etc/passwd", "/files/thumbnails/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/files/thumbnails/people/..%2f..%2f..%2fetc%2fpasswd", "/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
        "/app.js/../../../../etc/passwd", "/views/../../../etc/passwd", "//etc/passwd", "/files/../../etc/passwd",
    ])
    func traversal(path: String) async throws {
        let signer = URLSigner()
        let (server, _) = try await Self.serve(signer: signer)
        let plain = try await server.send("GET", path)
        #expect(plain.status >= 400 && !String(decoding: plain.body, as: UTF8.self).contains("root:"), "\(path) → \(plain.status)")
        // Even a URL the server itself signed for a key with `..` segments reads nothing outside the store.
        let signed = try await server.send("GET", signer.path(store: "thumbnails", key: "../../../../etc/passwd", expires: Date().addingTimeInterval(60)))
        #expect(signed.status == 404 && !String(decoding: signed.body, as: UTF8.self).contains("root:"))
    }

    @Test("uploads: size and type limits with clear errors; raw bodies and multipart forms")
    func uploads() async throws {
        let (server, _) = try await Self.serve(.init(port: 0, maximumUploadBytes: 1_048_576))
        let tooLarge = try await server.api("POST", "/photos", headers: ["content-type": "image/jpeg"], bytes: Data(count: 3_000_000))
        #expect(tooLarge.status == 413 && Self.code(tooLarge.body) == "upload_too_large")
        // Only an upload may be large: any other body is refused past 64 KB, not buffered up to the upload limit.
        let person = "p_" + String(repeating: "a", count: 26)
        let bigJSON = try await server.api("PATCH", "/people/\(person)", headers: ["content-type": "application/json"], bytes: Data(count: 200_000))
        #expect(bigJSON.status == 413 && Self.code(bigJSON.body) == "body_too_large")
        // A body declared larger than the limit is answered at once, before any of it arrives.
        let declared = try await Self.rawRequest(port: server.port, "POST /api/photos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: 999999999999\r\n\r\n")
        #expect(declared.hasPrefix("HTTP/1.1 413") && declared.contains("upload_too_large"), "\(declared.prefix(200))")
        let text = try await server.api("POST", "/photos", query: ["filename": "notes.jpg"], headers: ["content-type": "image/jpeg"], bytes: Data("hello".utf8))
        #expect(text.status == 415 && Self.code(text.body) == "unsupported_media_type")
        #expect(String(decoding: text.body, as: UTF8.self).contains("not a photo"))
        let gif = try await server.api("POST", "/photos", headers: ["content-type": "image/gif"], bytes: Data("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8))
        #expect(gif.status == 415 && String(decoding: gif.body, as: UTF8.self).contains("GIF"))

        let photo = HostileJPEGTests.photo(width: 64, height: 48)
        let raw = try await server.api("POST", "/photos", query: ["filename": "../../evil name.jpg"], headers: ["content-type": "image/jpeg"], bytes: photo)
        #expect(raw.status == 202)
        let rawPhoto = try #require(try JSONSerialization.jsonObject(with: raw.body) as? [String: Any])
        #expect(rawPhoto["name"] as? String == "evil_name.jpg" && rawPhoto["status"] as? String == "pending")

        let boundary = "----fck\(UUID().uuidString)"
        var form = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"beach.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n".utf8)
        form += HostileJPEGTests.photo(width: 80, height: 48) + Data("\r\n--\(boundary)--\r\n".utf8)
        let multipart = try await server.api("POST", "/photos", headers: ["content-type": "multipart/form-data; boundary=\(boundary)"], bytes: form)
        #expect(multipart.status == 202, "\(String(decoding: multipart.body, as: UTF8.self))")
        #expect((try JSONSerialization.jsonObject(with: multipart.body) as? [String: Any])?["name"] as? String == "beach.jpg")
        let twoFiles = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"a\"; filename=\"a.jpg\"\r\n\r\nx\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"b\"; filename=\"b.jpg\"\r\n\r\ny\r\n--\(boundary)--\r\n".utf8)
        let refused = try await server.api("POST", "/photos", headers: ["content-type": "multipart/form-data; boundary=\(boundary)"], bytes: twoFiles)
        #expect(refused.status == 400 && Self.code(refused.body) == "invalid_upload")

        // A non-ASCII byte in a part's header *name* once took the whole server down (multipart-kit indexes a
        // 128-entry table with it); it is a malformed form. Non-ASCII in a header *value* (a UTF-8 file name, as
        // browsers send it) is fine.
        var accented = Data("--\(boundary)\r\nCont".utf8) + Data([0xC3, 0xA9]) + Data("nt-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\n\r\nx\r\n--\(boundary)--\r\n".utf8)
        let badName = try await server.api("POST", "/photos", headers: ["content-type": "multipart/form-data; boundary=\(boundary)"], bytes: accented)
        #expect(badName.status == 400 && String(decoding: badName.body, as: UTF8.self).contains("header name is not ASCII"))
        accented = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"plage d’été.jpg\"\r\n\r\n".utf8)
        accented += HostileJPEGTests.photo(width: 72, height: 48) + Data("\r\n--\(boundary)--\r\n".utf8)
        let utf8Name = try await server.api("POST", "/photos", headers: ["content-type": "multipart/form-data; boundary=\(boundary)"], bytes: accented)
        #expect(utf8Name.status == 202, "\(String(decoding: utf8Name.body, as: UTF8.self))")
        #expect((try await server.send("GET", "/healthz")).status == 200)
    }
}

/// `facecluster serve` on a real library: uploads and watched folders are grouped in the background.
@Suite("facecluster serve on a library (real faces)", .enabled(if: LabeledSet.available, "needs scripts/fetch-test-data.sh"))
struct LocalGalleryServerTests {
    static func library() throws -> LocalLibrary {
        try LocalLibrary(directory: Scratch.url("fck-serve-lib-\(UUID().uuidString)"))
    }

    static func json(_ body: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
    }

    @Test("an upload is stored, grouped in the background, pollable, and its thumbnails load; a damaged one fails with its reason")
    func upload() async throws {
        let library = try Self.library()
        let queue = IngestQueue(library: library, jobs: 2)
        let server = try await ServedAPI.start(try GalleryServer.local(library: library, configuration: .init(port: 0), queue: queue))
        let photo = try #require(try LabeledSet.photos().first { $0.person == "obama" })
        let uploaded = try await server.api("POST", "/photos", query: ["filename": "obama.jpg"], headers: ["content-type": "image/jpeg"], bytes: try Data(contentsOf: photo.url))
        #expect(uploaded.status == 202)
        let id = try #require(try Self.json(uploaded.body)["id"] as? String)
        let damaged = try HostileJPEGTests.damaged(HostileJPEGTests.photo())
        let broken = try await server.api("POST", "/photos", query: ["filename": "broken.jpg"], headers: ["content-type": "image/jpeg"], bytes: damaged)
        #expect(broken.status == 202)
        await queue.waitUntilIdle()

        let done = try Self.json(try await server.api("GET", "/photos/\(id)").body)
        #expect(done["status"] as? String == "indexed")
        let faces = try #require(done["faces"] as? [[String: Any]])
        #expect(faces.count == 1)
        let thumbnail = try #require(faces.first?["thumbnailUrl"] as? String)
        let image = try await server.send("GET", thumbnail)
        #expect(image.status == 200 && ImageFormat(sniffing: image.body) == .jpeg)
        let original = try await server.send("GET", try #require(done["url"] as? String))
        let bytes = try Data(contentsOf: photo.url)
        #expect(original.status == 200 && original.body == bytes)
        // The uploaded file lives in the library's folder.
        #expect(FileManager.default.fileExists(atPath: library.directory.appendingPathComponent("photos/uploads").path))

        // The same bytes under the same name again: the photo as it is now, faces included.
        let again = try await server.api("POST", "/photos", query: ["filename": "obama.jpg"], headers: ["content-type": "image/jpeg"], bytes: try Data(contentsOf: photo.url))
        #expect(again.status == 200)
        #expect((try Self.json(again.body)["faces"] as? [[String: Any]])?.count == 1)

        let failed = try Self.json(try await server.api("GET", "/photos", query: ["status": "failed"]).body)
        let failures = try #require(failed["photos"] as? [[String: Any]])
        #expect(failures.count == 1)
        #expect(failures.first?["name"] as? String == "broken.jpg")
        #expect((failures.first?["failure"] as? [String: Any])?["code"] as? String == "damaged_image")
    }

    @Test("a photo queued again while it runs (its file replaced mid-analysis) runs once more")
    func queuedWhileRunning() async throws {
        let library = try Self.library()
        let queue = IngestQueue(library: library, jobs: 1)
        let photo = try #require(try LabeledSet.photos().first { $0.person == "obama" })
        let reference = try #require(library.reference(forFile: photo.url))
        await queue.enqueue(reference)
        await queue.enqueue(reference)
        await queue.waitUntilIdle()
        #expect(await queue.finished.values.reduce(0, +) == 2)
        #expect(await queue.finished["indexed"] == 1)
    }

    @Test("the queue keeps two photos a job in flight (--jobs), the rest waiting, and finishes every photo", arguments: [1, 2])
    func photosInFlightPerJob(jobs: Int) async throws {
        let library = try Self.library()
        let queue = IngestQueue(library: library, jobs: jobs)
        let photos = Array(try LabeledSet.photos().filter { $0.person == "John_Simm" }.prefix(6))
        try #require(photos.count == 6)
        // A photo takes far longer than queueing six (the first waits for the models): none is done yet.
        for photo in photos { await queue.enqueue(try #require(library.reference(forFile: photo.url))) }
        let backlog = await queue.backlog
        #expect(backlog.running == 2 * jobs && backlog.waiting == 6 - 2 * jobs, "\(backlog)")
        await queue.waitUntilIdle()
        #expect(await queue.finished == ["indexed": 6])
    }

    /// Uploads into `library`'s `photos/uploads/`, as `serve` stores them, handed to `queue` when there is one.
    static func uploads(to library: LocalLibrary, queue: IngestQueue?) -> PhotoUploads {
        PhotoUploads(
            store: library.originals, metadata: library.metadata,
            keyPrefix: String(library.directory.appendingPathComponent("photos/uploads").path.dropFirst()) + "/",
            onStored: { photo in await queue?.enqueue(photo.reference) })
    }

    @Test("uploads a stopped server never got to are finished when it starts again")
    func unfinishedUploads() async throws {
        let library = try Self.library()
        // The upload was stored and recorded, and the server stopped before its queue took it.
        let uploads = Self.uploads(to: library, queue: nil)
        let photo = try #require(try LabeledSet.photos().first { $0.person == "obama" })
        let stored = try await uploads.upload(try Data(contentsOf: photo.url), fileName: "obama.jpg")
        #expect(stored.created && stored.photo.status == .pending)

        let queue = IngestQueue(library: library, jobs: 1)
        #expect(try await queue.enqueueUnfinished() == 1)
        await queue.waitUntilIdle()
        #expect(try await library.metadata.photo(stored.photo.id)?.status == .indexed)
        #expect(try await queue.enqueueUnfinished() == 0)
    }

    @Test("copies of one upload sent together make one photo, indexed: none rewrites the file another is being ingested from")
    func concurrentIdenticalUploads() async throws {
        let library = try Self.library()
        let queue = IngestQueue(library: library, jobs: 2)
        let uploads = Self.uploads(to: library, queue: queue)
        let photos = Array(try LabeledSet.photos().filter { $0.person == "John_Simm" }.prefix(3))
        try #require(photos.count == 3)
        let answers = try await withThrowingTaskGroup(of: (Photo, Bool).self) { group in
            for photo in photos {
                let data = try Data(contentsOf: photo.url)
                for _ in 0..<8 { group.addTask { try await uploads.upload(data, fileName: "again.jpg") } }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.filter(\.1).count == 3, "one upload of each photo created it; the others were answered with it")
        #expect(Set(answers.map(\.0.id)).count == 3)
        await queue.waitUntilIdle()
        for id in Set(answers.map(\.0.id)) {
            let status = try await library.metadata.photo(id)?.status
            #expect(status == .indexed, "\(String(describing: status))")
        }
    }

    @Test("a retry of an upload whose file was changed since (it failed content_changed) puts its bytes back and ingests them")
    func retryRestoresTheUpload() async throws {
        let library = try Self.library()
        let queue = IngestQueue(library: library, jobs: 1)
        let uploads = Self.uploads(to: library, queue: queue)
        let labeled = try LabeledSet.photos()
        let (biden, obama) = (try #require(labeled.first { $0.person == "biden" }), try #require(labeled.first { $0.person == "obama" }))
        let bytes = try Data(contentsOf: biden.url)
        let first = try await uploads.upload(bytes, fileName: "race.jpg")
        await queue.waitUntilIdle()
        // Another program wrote over the stored file; the photo failed as changed (a passing reason).
        let file = library.file(of: first.photo.reference)
        try Data(contentsOf: obama.url).write(to: file)
        var failed = try #require(try await library.metadata.photo(first.photo.id))
        failed.status = .failed(PhotoFailure(code: .contentChanged, message: "changed while it was being processed", retryable: true))
        _ = try await library.metadata.savePhoto(failed, expectedRevision: failed.revision)

        let retried = try await uploads.upload(bytes, fileName: "race.jpg")
        await queue.waitUntilIdle()
        #expect(!retried.created && retried.photo.id == first.photo.id)
        #expect(try Data(contentsOf: file) == bytes, "the upload's own bytes are back")
        #expect(try await library.metadata.photo(first.photo.id)?.status == .indexed)
    }

    @Test("--watch: photos copied into a watched folder become people once they settle; changed files are taken again")
    func watch() async throws {
        let library = try Self.library()
        let queue = IngestQueue(library: library, jobs: 2)
        let folder = Scratch.url("fck-watch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let reports = Mutex<[String]>([])
        let watcher = FolderWatcher(folders: [folder], queue: queue, library: library, report: { line in reports.withLock { $0.append(line) } })
        let photos = Array(try LabeledSet.photos().filter { $0.person == "John_Simm" }.prefix(4))
        try #require(photos.count == 4)
        for (offset, photo) in photos.prefix(3).enumerated() {
            try FileManager.default.copyItem(at: photo.url, to: folder.appendingPathComponent("\(offset).jpg"))
        }
        try Data("{}".utf8).write(to: folder.appendingPathComponent("0.jpg.json"))
        // "café.jpg" in Latin-1 (byte 0xE9 is not UTF-8): it can never be taken, and is said so once.
        let latin1 = Array(folder.path.utf8) + Array("/caf".utf8) + [0xE9] + Array(".jpg".utf8) + [0]
        let descriptor = latin1.map { CChar(bitPattern: $0) }.withUnsafeBufferPointer { open($0.baseAddress!, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
        try #require(descriptor >= 0)
        close(descriptor)
        await watcher.scan()
        #expect(await queue.backlog == (0, 0), "a file seen once may still be growing")
        await watcher.scan()
        #expect(reports.withLock { $0.count } == 1 && reports.withLock { $0.first?.contains("its name is not valid UTF-8") } == true,
                "\(reports.withLock { $0 })")
        await queue.waitUntilIdle()
        let indexed = try await library.metadata.photos(withStatus: .indexed, page: PageRequest(limit: 10)).items
        #expect(indexed.count == 3)
        let people = try await library.gallery.people().items
        #expect(people.count == 1 && people.first?.photoCount == 3)
        // Nothing new: nothing queued.
        await watcher.scan()
        #expect(await queue.backlog == (0, 0))
        #expect(await queue.finished["indexed"] == 3)
        // A file replaced by another photo is taken again once it settles.
        try FileManager.default.removeItem(at: folder.appendingPathComponent("0.jpg"))
        try FileManager.default.copyItem(at: photos[3].url, to: folder.appendingPathComponent("0.jpg"))
        await watcher.scan()
        await watcher.scan()
        await queue.waitUntilIdle()
        #expect(await queue.finished["indexed"] == 4)
        #expect(try await library.gallery.people().items.map(\.photoCount) == [3])
    }
}

extension GalleryServerSecurityTests {
    /// Sends `text` as it is on a new connection to the server and returns what it answers within 5 s (a
    /// request no HTTP client would send: a length it never sends).
    static func rawRequest(port: Int, _ text: String) async throws -> String {
        try await BlockingWork.run {
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard socket >= 0 else { return "" }
            defer { close(socket) }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { return "" }
            _ = text.utf8CString.withUnsafeBufferPointer { send(socket, $0.baseAddress, $0.count - 1, 0) }
            var answer = [UInt8](repeating: 0, count: 4096)
            let count = recv(socket, &answer, answer.count, 0)
            return count > 0 ? String(decoding: answer.prefix(count), as: UTF8.self) : ""
        }
    }
}
