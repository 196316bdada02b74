import AsyncHTTPClient
@testable import FaceClusterKit
import Foundation
import Testing

@Suite("Moto environment")
struct MotoTests {
    @Test("under CI the moto servers are running (scripts/test.sh starts them)")
    func present() {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            #expect(Moto.available, "run the tests with scripts/test.sh: it starts moto_server")
        }
    }
}

@Suite("S3PhotoStore against moto", .enabled(if: Moto.available, "needs moto_server: run scripts/test.sh"))
struct S3PhotoStoreTests {
    @Test("requests signed with the right key pass moto's signature check")
    func signedRequests() async throws {
        let store = S3PhotoStore(bucket: "fck-auth-\(UUID().uuidString.lowercased().prefix(12))", client: Moto.client(Moto.authURL!, credentials: Moto.authCredentials!))
        try await store.createBucket()
        try await store.createBucket()
        for key in ["raw/photo.jpg", "raw/with space/café.jpg".replacingOccurrences(of: "é", with: "e"), "people/p_abc/f-1.jpg"] {
            let written = try await store.put(Data("jpeg bytes of \(key)".utf8), at: key, contentType: "image/jpeg")
            let read = try await store.get(key)
            #expect(read.data == Data("jpeg bytes of \(key)".utf8))
            #expect(read.info.eTag == written.eTag && !written.eTag.isEmpty)
            #expect(try await store.head(key).size == read.data.count)
        }
        // "raw", not "raw/": moto's signature check fails on any percent-encoded query value, even for
        // boto3 (ListObjectsV2 Prefix="raw/" → SignatureDoesNotMatch); the open server covers "raw/".
        let listed = try await store.list(prefix: "raw", continuationToken: nil, limit: 1)
        #expect(listed.objects.count == 1 && listed.continuationToken != nil)
        try await store.delete("raw/photo.jpg")
        await #expect(throws: PhotoStoreError.notFound(key: "raw/photo.jpg")) { try await store.head("raw/photo.jpg") }
    }

    @Test("a request signed with a wrong secret fails with a typed authentication error, not retried")
    func wrongSecret() async throws {
        let good = Moto.authCredentials!
        let bucket = "fck-auth-\(UUID().uuidString.lowercased().prefix(12))"
        try await S3PhotoStore(bucket: bucket, client: Moto.client(Moto.authURL!, credentials: good)).createBucket()
        let wrong = AWSCredentials(accessKeyID: good.accessKeyID, secretAccessKey: good.secretAccessKey + "x")
        do {
            _ = try await S3PhotoStore(bucket: bucket, client: Moto.client(Moto.authURL!, credentials: wrong)).list(prefix: "", continuationToken: nil, limit: 10)
            Issue.record("a wrong secret was accepted")
        } catch let error as AWSServiceError {
            #expect(error.code == "SignatureDoesNotMatch" && error.statusCode == 403 && error.isAuthentication && !error.isRetryable)
            #expect(!String(describing: error).contains(good.secretAccessKey))
            #expect(PhotoFailure(error).code == .accessDenied && !PhotoFailure(error).retryable)
        }
        let unknown = AWSCredentials(accessKeyID: "AKIAUNKNOWNKEY000000", secretAccessKey: "whatever")
        await #expect(throws: AWSServiceError.self) {
            try await S3PhotoStore(bucket: bucket, client: Moto.client(Moto.authURL!, credentials: unknown)).head("x")
        }
    }

    @Test("a presigned URL fetches the object; encryption is requested on put")
    func presignedGet() async throws {
        let store = try await Moto.freshBucket()
        try await store.put(Data("thumbnail".utf8), at: "people/p_x/face one+two.jpg", contentType: "image/jpeg")
        let url = try await store.presignedURL(for: "people/p_x/face one+two.jpg", expiresIn: .seconds(900))
        #expect(url.query?.contains("X-Amz-Expires=900") == true && url.query?.contains("X-Amz-Signature=") == true)
        let response = try await AsyncHTTPClientTransport().send(HTTPRequest(method: "GET", url: url))
        #expect(response.status == 200)
        #expect(response.body == Data("thumbnail".utf8))
        let head = try await store.client.send(service: "s3", method: "HEAD", endpoint: store.endpoint, path: store.path(for: "people/p_x/face one+two.jpg"))
        #expect(head.header("x-amz-server-side-encryption") == "AES256")
    }

    @Test("a connection refused is retried, then reported as a transport error")
    func unreachable() async throws {
        var store = S3PhotoStore(bucket: "nowhere", client: Moto.client(URL(string: "http://127.0.0.1:1")!))
        store.requestTimeout = .seconds(1)
        await #expect(throws: HTTPTransportError.self) { try await store.head("x") }
    }
}

@Suite("Pipeline on S3 and DynamoDB (moto)", .enabled(if: Moto.available, "needs moto_server: run scripts/test.sh"))
struct AWSPipelineTests {
    @Test("photos in a raw bucket are grouped; thumbnails land in the processed bucket; re-delivery and delete behave")
    func pipelineOnS3() async throws {
        let raw = try await Moto.freshBucket(), processed = try await Moto.freshBucket()
        let index = InMemoryFaceIndex()
        let metadata = try await Moto.freshTables()
        let counter = CallCounter()
        let pipeline = IngestionPipeline(
            photos: raw.intercepted(by: counter), thumbnails: processed, detector: ScriptedFaceDetector(), index: index,
            metadata: metadata, cropper: SyntheticThumbnailCropper())
        var references: [PhotoReference] = []
        for (n, people) in [[1, 2], [1], [2, 3]].enumerated() {
            let key = "uploads/party \(n)+fun.jpg"
            try await raw.put(Layout.photo(people.map(Identity.init), variant: n).encoded(), at: key, contentType: "image/jpeg")
            references.append(PhotoReference(store: raw.bucket, key: key))
        }
        let reports = await pipeline.ingest(references, maxConcurrency: 3)
        #expect(reports.allSatisfy { $0.outcome == .indexed })
        let gallery = Gallery(metadata: metadata, photos: raw, thumbnails: processed, index: index)
        let people = try await gallery.people().items
        #expect(people.map(\.photoCount).sorted() == [1, 2, 2])
        let thumbnails = try await processed.list(prefix: "people/", continuationToken: nil, limit: 100).objects
        #expect(thumbnails.count == 5)
        let cover = try #require(people.first?.coverThumbnailKey)
        #expect(thumbnails.map(\.key).contains(cover))

        counter.reset()
        let again = await pipeline.ingest(references[0])
        #expect(again.outcome == .skipped(.alreadyProcessed))
        #expect(counter.count(of: "PhotoStore.head") == 1 && counter.count(of: "PhotoStore.get") == 0)

        try await gallery.deletePhoto(reports[2].photoID)
        #expect(try await processed.list(prefix: "people/", continuationToken: nil, limit: 100).objects.count == 3)
        #expect(try await gallery.people().items.map(\.photoCount).sorted() == [1, 2])
    }

    @Test("8 concurrent workers on DynamoDB end with one person", arguments: CallPlan.allCases)
    func concurrentWorkers(plan: CallPlan) async throws {
        let photos = InMemoryPhotoStore(location: "raw"), thumbnails = InMemoryPhotoStore(location: "processed")
        let index = InMemoryFaceIndex()
        let metadata = try await Moto.freshTables()
        var references: [PhotoReference] = []
        for n in 0..<8 {
            try await photos.put(Layout.photo([Identity(7)], variant: n).encoded(), at: "raw/\(n).jpg", contentType: "image/jpeg")
            references.append(PhotoReference(store: "raw", key: "raw/\(n).jpg"))
        }
        await withTaskGroup(of: Void.self) { group in
            for (n, reference) in references.enumerated() {
                let pipeline = IngestionPipeline(
                    photos: photos, thumbnails: thumbnails, detector: ScriptedFaceDetector(),
                    index: index.intercepted(by: FaultInjector(seed: UInt64(n), rules: [.jitter(upTo: .milliseconds(4))])),
                    metadata: metadata, cropper: SyntheticThumbnailCropper(), configuration: .init(callPlan: plan))
                group.addTask { _ = await pipeline.ingest(reference) }
            }
        }
        let people = try await Page.all { try await metadata.people(page: $0) }
        #expect(people.count == 1, "\(people.map { "\($0.id) ×\($0.photoCount)" })")
        #expect(people.first?.photoCount == 8 && people.first?.faceCount == 8)
    }

    @Test("a crash mid-ingestion on DynamoDB is completed by a retry, with nothing duplicated")
    func crashThenRetry() async throws {
        let clock = ManualWallClock()
        let photos = InMemoryPhotoStore(location: "raw"), thumbnails = InMemoryPhotoStore(location: "processed")
        let index = InMemoryFaceIndex()
        let metadata = try await Moto.freshTables()
        try await photos.put(Layout.photo([Identity(1), Identity(2)]).encoded(), at: "raw/a.jpg", contentType: "image/jpeg")
        let reference = PhotoReference(store: "raw", key: "raw/a.jpg")
        func pipeline(_ faults: FaultInjector) -> IngestionPipeline {
            IngestionPipeline(
                photos: photos, thumbnails: thumbnails, detector: ScriptedFaceDetector(), index: index,
                metadata: metadata.intercepted(by: faults), cropper: SyntheticThumbnailCropper(), clock: clock)
        }
        _ = await pipeline(FaultInjector(rules: [])).ingest(reference)
        let people = try await Page.all { try await metadata.people(page: $0) }
        #expect(people.count == 2)
        // New content for the same key; the worker processing it dies at its 12th metadata call.
        try await photos.put(Layout.photo([Identity(1)], variant: 3).encoded(), at: "raw/a.jpg", contentType: "image/jpeg")
        let dying = FaultInjector(rules: [.crashAt(12)])
        _ = await pipeline(dying).ingest(reference)
        clock.advance(by: .seconds(901))
        #expect(await pipeline(FaultInjector(rules: [])).ingest(reference).outcome == .indexed)
        let after = try await Page.all { try await metadata.people(page: $0) }
        #expect(after.count == 1)
        #expect(after.first?.photoCount == 1 && after.first?.faceCount == 1)
        #expect(await index.faceCount == 1)
    }
}
