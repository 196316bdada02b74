import FaceClusterDoubles
@testable import FaceClusterKit
@testable import FaceClusterLambda
import Foundation
import Logging
import Testing

/// The two handlers wired as the deployment wires them, on moto's S3 and DynamoDB and the Rekognition
/// double (which reads the raw bucket's photos by S3 reference); or, for input checking, on memory.
struct LambdaStack {
    let configuration: LambdaConfiguration
    let raw: any PhotoStore
    let ingest: IngestHandler
    let api: APIHandler
    /// The same API served over HTTP by `facecluster serve`'s adapter, started on first use.
    let served: LazyServer

    init(configuration: LambdaConfiguration, raw: any PhotoStore, ingest: IngestHandler, api: APIHandler) {
        self.configuration = configuration
        self.raw = raw
        self.ingest = ingest
        self.api = api
        served = LazyServer(api.api)
    }

    /// A ``ServedAPI`` started once, when a test first calls through the server.
    actor LazyServer {
        let api: GalleryAPI
        private var started: ServedAPI?
        init(_ api: GalleryAPI) { self.api = api }
        var value: ServedAPI {
            get async throws {
                if let started { return started }
                let server = try await ServedAPI.start(api)
                started = server
                return server
            }
        }
    }

    static func onAWSPeers(cropper: any ThumbnailCropper = SyntheticThumbnailCropper()) async throws -> LambdaStack {
        let raw = try await Moto.freshBucket(), processed = try await Moto.freshBucket()
        let metadata = try await Moto.freshTables()
        let configuration = try LambdaConfiguration(environment: [
            "RAW_BUCKET": raw.location, "PROCESSED_BUCKET": processed.location, "TABLE_PREFIX": String(metadata.photosTable.dropLast("-photos".count)),
            "COLLECTION_ID": "lambda-\(UUID().uuidString)", "CORS_ALLOW_ORIGIN": "https://photos.example.com",
        ])
        let double = try await RekognitionDouble.shared.value
        await double.state.register(raw, as: raw.location)
        let rekognition = double.client()
        let index = RekognitionFaceIndex(rekognition: rekognition, collectionID: configuration.collectionID, s3Buckets: [raw.location])
        try await index.createCollection()
        return LambdaStack(
            configuration: configuration, raw: raw,
            ingest: IngestHandler(
                configuration: configuration, photos: raw, thumbnails: processed,
                detector: RekognitionFaceDetector(rekognition: rekognition, s3Buckets: [raw.location]), index: index, metadata: metadata,
                cropper: cropper),
            api: APIHandler(configuration: configuration, metadata: metadata, photos: raw, thumbnails: processed, index: index, model: "test"))
    }

    static func inMemory() throws -> LambdaStack {
        let raw = InMemoryPhotoStore(location: "raw"), processed = InMemoryPhotoStore(location: "processed")
        let metadata = InMemoryMetadataStore(), index = InMemoryFaceIndex()
        let configuration = try LambdaConfiguration(environment: [
            "RAW_BUCKET": "raw", "PROCESSED_BUCKET": "processed", "TABLE_PREFIX": "t", "COLLECTION_ID": "c",
        ])
        return LambdaStack(
            configuration: configuration, raw: raw,
            ingest: IngestHandler(
                configuration: configuration, photos: raw, thumbnails: processed, detector: ScriptedFaceDetector(), index: index,
                metadata: metadata, cropper: SyntheticThumbnailCropper()),
            api: APIHandler(configuration: configuration, metadata: metadata, photos: raw, thumbnails: processed, index: index, model: "test"))
    }

    static let invocation = Invocation(requestID: "req-1", deadline: Date().addingTimeInterval(60), invokedFunctionARN: nil, traceID: nil)

    /// An API request event, as API Gateway sends it; or, through `adapter` `.server`, the same request over
    /// HTTP to `facecluster serve`'s adapter of the same ``GalleryAPI``.
    func call(_ method: String, _ path: String, query: [String: String] = [:], body: String? = nil, bytes: Data? = nil, via adapter: APIAdapter = .lambda) async throws -> (status: Int, json: [String: Any], headers: [String: String]) {
        let raw = try await callRaw(method, path, query: query, body: body, bytes: bytes, via: adapter)
        let json = try raw.body.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:] } ?? [:]
        return (raw.status, json, raw.headers)
    }

    func callRaw(_ method: String, _ path: String, query: [String: String] = [:], body: String? = nil, bytes: Data? = nil, via adapter: APIAdapter = .lambda) async throws -> (status: Int, body: String?, headers: [String: String]) {
        if adapter == .server {
            let answer = try await served.value.api(method, path, query: query, headers: bytes == nil ? [:] : ["content-type": "image/jpeg"], body: body, bytes: bytes)
            return (answer.status, answer.body.isEmpty ? nil : String(decoding: answer.body, as: UTF8.self), answer.headers)
        }
        var event: [String: Any] = [
            "version": "2.0", "routeKey": "$default", "rawPath": path, "isBase64Encoded": false,
            "rawQueryString": query.map { "\($0.key)=\($0.value)" }.joined(separator: "&"),
            "headers": ["content-type": "application/json"],
            "requestContext": ["requestId": "api-\(UUID().uuidString)", "http": ["method": method, "path": path]],
        ]
        if !query.isEmpty { event["queryStringParameters"] = query }
        if let body { event["body"] = body }
        if let bytes {
            event["body"] = bytes.base64EncodedString()
            event["isBase64Encoded"] = true
            event["headers"] = ["content-type": "image/jpeg"]
        }
        let data = try await api.handle(try JSONSerialization.data(withJSONObject: event), invocation: Self.invocation, logger: Logger(label: "test"))
        let response = try JSONDecoder().decode(APIGatewayV2Response.self, from: data)
        return (response.statusCode, response.body, response.headers ?? [:])
    }

    /// S3's notification for `key` in `bucket`, with the key form-encoded as S3 sends it.
    static func s3Record(bucket: String, key: String) -> [String: Any] {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-_.*/ ")
        let encoded = key.addingPercentEncoding(withAllowedCharacters: allowed)!.replacingOccurrences(of: "/", with: "%2F").replacingOccurrences(of: " ", with: "+")
        return [
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventName": "ObjectCreated:Put",
            "s3": ["bucket": ["name": bucket], "object": ["key": encoded, "size": 1]],
        ]
    }

    /// An SQS batch shaped like the fixture (example-sqs-event.json: every member SQS sends), one record per
    /// message with its id and body replaced.
    static func sqs(_ messages: [(id: String, body: String)]) throws -> Data {
        let fixture = try #require(try JSONSerialization.jsonObject(with: try LambdaEventTests.fixture("example-sqs-event.json")) as? [String: Any])
        let template = try #require((fixture["Records"] as? [[String: Any]])?.first)
        return try JSONSerialization.data(withJSONObject: ["Records": messages.map { message in
            template.merging(["messageId": message.id, "body": message.body]) { $1 }
        }])
    }

    static func json(_ object: Any) throws -> String { String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self) }
}

@Suite("Lambda handlers end to end (moto S3 + DynamoDB, Rekognition double)", .enabled(if: Moto.available, "needs moto_server: run scripts/test.sh"))
struct LambdaHandlerTests {
    @Test("upload → S3 event through SQS → people and photos through the API; partial batch failure; nothing recursive")
    func endToEnd() async throws {
        let stack = try await LambdaStack.onAWSPeers()
        let raw = stack.configuration.rawBucket
        try await stack.raw.put(Layout.photo([Identity(1), Identity(2)]).encoded(), at: "uploads/party night+1.jpg", contentType: "image/jpeg")
        try await stack.raw.put(Layout.photo([Identity(1)], variant: 2).encoded(), at: "uploads/ålice.jpg", contentType: "image/jpeg")
        try await stack.raw.put(Layout.photo([Identity(3)]).encoded(), at: "other/ignored.jpg", contentType: "image/jpeg")
        let event = try LambdaStack.sqs([
            ("m1", try LambdaStack.json(["Records": [LambdaStack.s3Record(bucket: raw, key: "uploads/party night+1.jpg")]])),
            ("m2", try LambdaStack.json(["Records": [LambdaStack.s3Record(bucket: raw, key: "uploads/ålice.jpg")]])),
            ("m3", #"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"raw"}"#),
            ("m4", "not an S3 event"),
            ("m5", try LambdaStack.json(["Records": [
                LambdaStack.s3Record(bucket: raw, key: "other/ignored.jpg"),
                LambdaStack.s3Record(bucket: stack.configuration.processedBucket, key: "people/p_x/f.jpg"),
            ]])),
        ])
        let answer = try await stack.ingest.handle(event, invocation: LambdaStack.invocation, logger: Logger(label: "test"))
        #expect(try JSONDecoder().decode(SQSBatchResponse.self, from: answer).batchItemFailures.map(\.itemIdentifier) == ["m4"])
        // Re-delivery changes nothing.
        _ = try await stack.ingest.handle(event, invocation: LambdaStack.invocation, logger: Logger(label: "test"))

        let people = try await stack.call("GET", "/people")
        #expect(people.status == 200 && people.headers["access-control-allow-origin"] == "https://photos.example.com")
        let listed = try #require(people.json["people"] as? [[String: Any]])
        #expect(listed.map { $0["photoCount"] as? Int } == [2, 1], "two people; the ignored photo was not ingested")
        let alice = try #require(listed.first?["id"] as? String)
        #expect((listed.first?["coverThumbnailUrl"] as? String)?.contains("X-Amz-Signature=") == true)

        let firstPage = try await stack.call("GET", "/people/\(alice)/photos", query: ["limit": "1"])
        let cursor = try #require(firstPage.json["nextCursor"] as? String)
        let secondPage = try await stack.call("GET", "/people/\(alice)/photos", query: ["limit": "1", "cursor": cursor])
        let pages = [firstPage, secondPage].flatMap { ($0.json["photos"] as? [[String: Any]]) ?? [] }
        #expect(pages.count == 2 && secondPage.json["nextCursor"] == nil)
        let photoID = try #require(pages.first?["photoId"] as? String)
        #expect((pages.first?["url"] as? String)?.contains("X-Amz-Expires=900") == true)

        let photo = try await stack.call("GET", "/photos/\(photoID)")
        #expect(photo.status == 200 && photo.json["status"] as? String == "indexed")
        #expect(((photo.json["faces"] as? [[String: Any]])?.compactMap { $0["personId"] as? String }.contains(alice)) == true)

        let renamed = try await stack.call("PATCH", "/people/\(alice)", body: #"{"name":"Alice"}"#)
        #expect(renamed.status == 200 && renamed.json["name"] as? String == "Alice")
        let bob = try #require(listed.last?["id"] as? String)
        let merged = try await stack.call("POST", "/people/\(alice)/merge", body: "{\"from\":\"\(bob)\"}")
        #expect(merged.status == 200 && merged.json["id"] as? String == alice && merged.json["photoCount"] as? Int == 2)
        // The merged-away id answers with the person it went to.
        #expect(try await stack.call("GET", "/people/\(bob)").json["id"] as? String == alice)

        let deleted = try await stack.call("DELETE", "/photos/\(photoID)")
        #expect(deleted.status == 204)
        #expect(try await stack.call("GET", "/photos/\(photoID)").status == 404)
        let forgotten = try await stack.call("DELETE", "/people/\(alice)")
        #expect(forgotten.status == 200 && (forgotten.json["facesRemoved"] as? Int ?? 0) >= 1)
    }
}

extension LambdaHandlerTests {
    @Test("POST /photos through the API function: stored under uploads/ in the raw bucket, recorded pending, then ingested by its notification")
    func uploadThroughTheAPI() async throws {
        let stack = try await LambdaStack.onAWSPeers(cropper: TurboJPEGThumbnailCropper())
        // A real JPEG whose comment carries the scene the Rekognition double sees in it.
        let jpeg = try JPEGEncoding.inserting(
            comment: Layout.photo([Identity(4)]).encoded(),
            into: JPEGFactory.jpeg(JPEGFactory.quadrants(width: 320, height: 240, box: BoundingBox(left: 0.3, top: 0.2, width: 0.3, height: 0.4))))
        let uploaded = try await stack.callRaw("POST", "/photos", query: ["filename": "garden party.jpg"], bytes: jpeg)
        #expect(uploaded.status == 202)
        let body = try #require(uploaded.body)
        let photo = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let id = try #require(photo["id"] as? String)
        #expect(photo["status"] as? String == "pending" && photo["name"] as? String == "garden_party.jpg")
        #expect((photo["url"] as? String)?.contains("X-Amz-Signature=") == true)

        let stored = try await stack.raw.list(prefix: "uploads/", continuationToken: nil, limit: 10).objects.map(\.key)
        let key = try #require(stored.first { $0.hasSuffix("/garden_party.jpg") })
        let event = try LambdaStack.sqs([("u1", try LambdaStack.json(["Records": [LambdaStack.s3Record(bucket: stack.configuration.rawBucket, key: key)]]))])
        let answer = try await stack.ingest.handle(event, invocation: LambdaStack.invocation, logger: Logger(label: "test"))
        #expect(try JSONDecoder().decode(SQSBatchResponse.self, from: answer).batchItemFailures.isEmpty)
        let done = try await stack.call("GET", "/photos/\(id)")
        #expect(done.json["status"] as? String == "indexed")
        #expect((done.json["faces"] as? [[String: Any]])?.count == 1)
        // The same bytes under the same name again: the same photo, as it is now.
        let again = try await stack.call("POST", "/photos", query: ["filename": "garden party.jpg"], bytes: jpeg)
        #expect(again.status == 200 && again.json["id"] as? String == id && again.json["status"] as? String == "indexed")
    }
}

@Suite("API (Lambda and serve): malformed input gets a 4xx in the error shape")
struct LambdaAPIInputTests {
    static let person = "p_" + String(repeating: "a", count: 26)
    static let photo = "ph_" + String(repeating: "a", count: 26)

    @Test("every route refuses bad ids, cursors, limits and bodies", arguments: [
        ("GET", "/people", ["limit": "0"], nil, 400, "invalid_limit"),
        ("GET", "/people", ["limit": "101"], nil, 400, "invalid_limit"),
        ("GET", "/people", ["limit": "ten"], nil, 400, "invalid_limit"),
        ("GET", "/people", ["cursor": "forged"], nil, 400, "invalid_cursor"),
        ("GET", "/people/nope", [:], nil, 400, "invalid_id"),
        ("GET", "/people/\(person)", [:], nil, 404, "person_not_found"),
        ("GET", "/people/nope/photos", [:], nil, 400, "invalid_id"),
        ("GET", "/people/\(person)/photos", ["limit": "-1"], nil, 400, "invalid_limit"),
        ("PATCH", "/people/nope", [:], #"{"name":"x"}"#, 400, "invalid_id"),
        ("PATCH", "/people/\(person)", [:], "{name:", 400, "invalid_body"),
        ("PATCH", "/people/\(person)", [:], nil, 400, "invalid_body"),
        ("PATCH", "/people/\(person)", [:], #"{"name":42}"#, 400, "invalid_body"),
        // A body without its field is a mistake, not a request to clear the name or make a new person.
        ("PATCH", "/people/\(person)", [:], #"{}"#, 400, "invalid_body"),
        ("PATCH", "/people/\(person)", [:], #"{"nom":"x"}"#, 400, "invalid_body"),
        ("PUT", "/faces/f_0123456789abcdef0123456789abcdef", [:], #"{}"#, 400, "invalid_body"),
        ("PATCH", "/people/\(person)", [:], "{\"name\":\"\(String(repeating: "x", count: 70_000))\"}", 413, "body_too_large"),
        ("POST", "/people/\(person)/merge", [:], #"{}"#, 400, "invalid_body"),
        ("POST", "/people/\(person)/merge", [:], #"{"from":"bad"}"#, 400, "invalid_id"),
        ("POST", "/people/\(person)/merge", [:], "{\"from\":\"\(person)\"}", 400, "invalid_merge"),
        ("DELETE", "/people/bad", [:], nil, 400, "invalid_id"),
        ("GET", "/photos/bad", [:], nil, 400, "invalid_id"),
        ("GET", "/photos/\(photo)", [:], nil, 404, "photo_not_found"),
        ("DELETE", "/photos/\(photo)", [:], nil, 404, "photo_not_found"),
        ("GET", "/nowhere", [:], nil, 404, "not_found"),
        ("POST", "/operations/op_1%2F..%2F/undo", [:], nil, 400, "invalid_id"),
        ("POST", "/operations/op_/undo", [:], nil, 400, "invalid_id"),
        ("POST", "/operations/op_1790000005000zzzzzz/undo", [:], nil, 404, "operation_not_found"),
        ("PUT", "/people", [:], nil, 405, "method_not_allowed"),
        ("GET", "/photos", ["status": "lost"], nil, 400, "invalid_status"),
        ("GET", "/photos", ["status": "deleted"], nil, 400, "invalid_status"),
        ("POST", "/photos", [:], nil, 400, "invalid_upload"),
        ("POST", "/photos", [:], "just some text", 415, "unsupported_media_type"),
    ] as [(String, String, [String: String], String?, Int, String)])
    func malformed(method: String, path: String, query: [String: String], body: String?, status: Int, code: String) async throws {
        let stack = try LambdaStack.inMemory()
        for adapter in APIAdapter.allCases {
            let response = try await stack.call(method, path, query: query, body: body, via: adapter)
            #expect(response.status == status, "\(adapter): \(method) \(path): \(response.json)")
            let error = try #require(response.json["error"] as? [String: Any], "\(adapter)")
            #expect(error["code"] as? String == code && !(error["message"] as? String ?? "").isEmpty, "\(adapter)")
        }
    }

    @Test("the Lambda takes a photo as the body: a multipart form is 415 with what to send instead")
    func multipartRefused() async throws {
        let stack = try LambdaStack.inMemory()
        let form = "--b\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\n\r\nx\r\n--b--\r\n"
        let event: [String: Any] = [
            "version": "2.0", "routeKey": "$default", "rawPath": "/photos", "rawQueryString": "", "isBase64Encoded": false,
            "headers": ["content-type": "multipart/form-data; boundary=b"], "body": form,
            "requestContext": ["requestId": "r", "http": ["method": "POST", "path": "/photos"]],
        ]
        let data = try await stack.api.handle(try JSONSerialization.data(withJSONObject: event), invocation: LambdaStack.invocation, logger: Logger(label: "t"))
        let response = try JSONDecoder().decode(APIGatewayV2Response.self, from: data)
        #expect(response.statusCode == 415)
        #expect(response.body?.contains("send the photo itself as the body") == true)
    }

    @Test("a retried PUT /faces/{faceId} finds the face where it asked: 200 with the same person, one move journaled (to a person, or to a new one)", arguments: APIAdapter.allCases)
    func retriedMoveIsIdempotent(adapter: APIAdapter) async throws {
        let stack = try LambdaStack.inMemory()
        for (key, person) in [("uploads/1.jpg", 1), ("uploads/2.jpg", 1), ("uploads/3.jpg", 2)] {
            try await stack.raw.put(Layout.photo([Identity(person)], variant: key.count).encoded(), at: key, contentType: "image/jpeg")
        }
        let event = try LambdaStack.json(["Records": ["uploads/1.jpg", "uploads/2.jpg", "uploads/3.jpg"].map { LambdaStack.s3Record(bucket: "raw", key: $0) }])
        _ = try await stack.ingest.handle(Data(event.utf8), invocation: LambdaStack.invocation, logger: Logger(label: "t"))
        let listed = try #require(try await stack.call("GET", "/people", via: adapter).json["people"] as? [[String: Any]])
        try #require(listed.count == 2)
        let (alice, bob) = (try #require(listed[0]["id"] as? String), try #require(listed[1]["id"] as? String))
        let photo = try #require((try await stack.call("GET", "/people/\(alice)/photos", via: adapter).json["photos"] as? [[String: Any]])?.first?["photoId"] as? String)
        let face = try #require((try await stack.call("GET", "/photos/\(photo)", via: adapter).json["faces"] as? [[String: Any]])?.first?["faceId"] as? String)

        let first = try await stack.call("PUT", "/faces/\(face)", body: "{\"personId\":\"\(bob)\"}", via: adapter)
        let retried = try await stack.call("PUT", "/faces/\(face)", body: "{\"personId\":\"\(bob)\"}", via: adapter)
        #expect(first.status == 200 && first.json["id"] as? String == bob && first.json["faceCount"] as? Int == 2, "\(first.json)")
        #expect(retried.status == 200 && retried.json["id"] as? String == bob && retried.json["faceCount"] as? Int == 2, "\(retried.json)")
        // To a new person, twice: the retry finds the face alone in the person the first made.
        let alone = try await stack.call("PUT", "/faces/\(face)", body: #"{"personId":null}"#, via: adapter)
        let aloneAgain = try await stack.call("PUT", "/faces/\(face)", body: #"{"personId":null}"#, via: adapter)
        let newPerson = try #require(alone.json["id"] as? String)
        #expect(newPerson != bob && alone.json["faceCount"] as? Int == 1, "\(alone.json)")
        #expect(aloneAgain.status == 200 && aloneAgain.json["id"] as? String == newPerson, "\(aloneAgain.json)")
        let operations = try #require(try await stack.call("GET", "/operations", via: adapter).json["operations"] as? [[String: Any]])
        #expect(operations.filter { $0["kind"] as? String == "move" }.count == 2, "\(operations)")
    }

    @Test("a merge undone through the API places again the photos that arrived after it, as `facecluster undo` does", arguments: APIAdapter.allCases)
    func undoneMergeRegroups(adapter: APIAdapter) async throws {
        let stack = try LambdaStack.inMemory()
        func ingest(_ photos: [(key: String, person: Int, variant: Int)]) async throws {
            for photo in photos {
                try await stack.raw.put(Layout.photo([Identity(photo.person)], variant: photo.variant).encoded(), at: photo.key, contentType: "image/jpeg")
            }
            let event = try LambdaStack.json(["Records": photos.map { LambdaStack.s3Record(bucket: "raw", key: $0.key) }])
            _ = try await stack.ingest.handle(Data(event.utf8), invocation: LambdaStack.invocation, logger: Logger(label: "t"))
        }
        func person(_ id: String) async throws -> [String: Any] { try await stack.call("GET", "/people/\(id)", via: adapter).json }
        try await ingest([("uploads/b1.jpg", 1, 0), ("uploads/b2.jpg", 1, 1), ("uploads/c1.jpg", 2, 0), ("uploads/c2.jpg", 2, 1)])
        let listed = try #require(try await stack.call("GET", "/people", via: adapter).json["people"] as? [[String: Any]])
        try #require(listed.count == 2)
        // Which is which, by their photos (both have two: the listing's order does not tell).
        var byPhotos: [Bool: String] = [:]
        for person in listed {
            let id = try #require(person["id"] as? String)
            let photos = try #require(try await stack.call("GET", "/people/\(id)/photos", via: adapter).json["photos"] as? [[String: Any]])
            byPhotos[photos.contains { ($0["url"] as? String)?.contains("uploads/b") == true }] = id
        }
        let (bob, carol) = (try #require(byPhotos[true]), try #require(byPhotos[false]))
        let merged = try await stack.call("POST", "/people/\(bob)/merge", body: "{\"from\":\"\(carol)\"}", via: adapter)
        try #require(merged.status == 200)
        let merge = try #require((try await stack.call("GET", "/operations", via: adapter).json["operations"] as? [[String: Any]])?.first?["id"] as? String)
        // Carol's next photos join the merged person: they match her faces in it.
        try await ingest([("uploads/c3.jpg", 2, 2), ("uploads/c4.jpg", 2, 3)])
        #expect(try await person(bob)["faceCount"] as? Int == 6)

        let undone = try await stack.call("POST", "/operations/\(merge)/undo", via: adapter)
        #expect(undone.status == 200, "\(undone.json)")
        let (bobAfter, carolAfter) = (try await person(bob), try await person(carol))
        #expect(bobAfter["faceCount"] as? Int == 2 && carolAfter["faceCount"] as? Int == 4, "Carol's later photos went back with her: \(bobAfter) \(carolAfter)")
        let operations = try #require(try await stack.call("GET", "/operations", via: adapter).json["operations"] as? [[String: Any]])
        #expect(operations.first?["automatic"] as? Bool == true, "the regrouping is an operation of its own, after the undo: \(operations)")
        #expect(operations.first?["follows"] as? String == undone.json["id"] as? String, "and names the undo it belongs to")
    }

    @Test("an event that is not an HTTP API request is a 400, not a crash")
    func notARequest() async throws {
        let data = try await LambdaStack.inMemory().api.handle(Data("[1,2]".utf8), invocation: LambdaStack.invocation, logger: Logger(label: "t"))
        #expect(try JSONDecoder().decode(APIGatewayV2Response.self, from: data).statusCode == 400)
    }
}

@Suite("API (Lambda and serve) against Docs/openapi.yaml")
struct OpenAPIContractTests {
    static let spec = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../Docs/openapi.yaml").standardizedFileURL

    @Test("the spec is valid, documents exactly the routes served, and every answer has its documented status and shape", arguments: APIAdapter.allCases)
    func contract(adapter: APIAdapter) async throws {
        let stack = try LambdaStack.inMemory()
        for (key, people) in [("uploads/1.jpg", [1, 2]), ("uploads/2.jpg", [1]), ("uploads/3.jpg", [3])] {
            try await stack.raw.put(Layout.photo(people.map(Identity.init), variant: people.count).encoded(), at: key, contentType: "image/jpeg")
        }
        try await stack.raw.put(Data("not a photo".utf8), at: "uploads/notes.txt", contentType: "text/plain")
        let event = try LambdaStack.json(["Records": ["uploads/1.jpg", "uploads/2.jpg", "uploads/3.jpg", "uploads/notes.txt"].map {
            LambdaStack.s3Record(bucket: "raw", key: $0)
        }])
        _ = try await stack.ingest.handle(Data(event.utf8), invocation: LambdaStack.invocation, logger: Logger(label: "t"))

        var exchanges: [[String: Any]] = []
        func call(_ method: String, _ path: String, query: [String: String] = [:], body: String? = nil, bytes: Data? = nil) async throws -> [String: Any] {
            let answer = try await stack.callRaw(method, path, query: query, body: body, bytes: bytes, via: adapter)
            let segments = path.split(separator: "/").map(String.init)
            let route = try #require(GalleryAPI.template(matching: segments))
            exchanges.append(["method": method, "route": route, "status": answer.status, "body": answer.body ?? ""])
            return try answer.body.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:] } ?? [:]
        }
        let people = try await call("GET", "/people", query: ["limit": "2"])
        let listed = try #require(people["people"] as? [[String: Any]])
        _ = try await call("GET", "/people", query: ["limit": "2", "cursor": try #require(people["nextCursor"] as? String)])
        let (first, last) = (try #require(listed.first?["id"] as? String), try #require(listed.last?["id"] as? String))
        _ = try await call("GET", "/people/\(first)")
        let photos = try await call("GET", "/people/\(first)/photos")
        let photo = try #require((photos["photos"] as? [[String: Any]])?.first?["photoId"] as? String)
        _ = try await call("GET", "/photos/\(photo)")
        let failed = PhotoID(PhotoReference(store: "raw", key: "uploads/notes.txt")).rawValue
        _ = try await call("GET", "/photos/\(failed)")
        _ = try await call("PATCH", "/people/\(first)", body: #"{"name":"Ada"}"#)
        _ = try await call("PATCH", "/people/\(first)", body: #"{"name":null}"#)
        // The photo listing (all, and the Status page's failed ones) and an upload, new then repeated.
        _ = try await call("GET", "/photos", query: ["limit": "2"])
        let failures = try await call("GET", "/photos", query: ["status": "failed"])
        #expect((failures["photos"] as? [[String: Any]])?.first?["name"] as? String == "notes.txt")
        let upload = JPEGFactory.jpeg(JPEGFactory.quadrants(width: 64, height: 48, box: BoundingBox(left: 0.25, top: 0.25, width: 0.5, height: 0.5)))
        let uploaded = try await call("POST", "/photos", query: ["filename": "party.jpg"], bytes: upload)
        #expect(uploaded["status"] as? String == "pending" && uploaded["name"] as? String == "party.jpg")
        let again = try await call("POST", "/photos", query: ["filename": "party.jpg"], bytes: upload)
        #expect(again["id"] as? String == uploaded["id"] as? String)
        _ = try await call("POST", "/photos", body: "GIF89a not really")
        // Grouping: a face moved out and back, made a person, explained; suggestions; the journal and undo.
        let face = try #require(((try await call("GET", "/photos/\(photo)"))["faces"] as? [[String: Any]])?.first?["faceId"] as? String)
        _ = try await call("PUT", "/faces/\(face)", body: #"{"personId":null}"#)
        _ = try await call("PUT", "/faces/\(face)", body: "{\"personId\":\"\(first)\"}")
        _ = try await call("POST", "/faces/\(face)/person", body: #"{"name":"Ada"}"#)
        _ = try await call("GET", "/faces/\(face)/explanation")
        _ = try await call("GET", "/faces/unassigned")
        _ = try await call("GET", "/suggestions", query: ["limit": "5"])
        let operations = try await call("GET", "/operations", query: ["limit": "2"])
        let newest = try #require((operations["operations"] as? [[String: Any]])?.first?["id"] as? String)
        _ = try await call("POST", "/operations/\(newest)/undo")
        _ = try await call("POST", "/operations/\(newest)/undo")
        _ = try await call("POST", "/people/\(first)/merge", body: "{\"from\":\"\(last)\"}")
        let stale = try await call("DELETE", "/people/\(last)")
        #expect((stale["error"] as? [String: Any])?["code"] as? String == "merged_away", "a merged-away id erases nobody: \(stale)")
        _ = try await call("DELETE", "/photos/\(photo)")
        _ = try await call("DELETE", "/people/\(first)")
        // Errors, in their documented statuses and shape.
        let unknownPerson = "p_" + String(repeating: "b", count: 26), unknownPhoto = "ph_" + String(repeating: "b", count: 26)
        _ = try await call("GET", "/people", query: ["limit": "500"])
        _ = try await call("GET", "/people/\(unknownPerson)")
        _ = try await call("GET", "/people/bad/photos")
        _ = try await call("PATCH", "/people/\(unknownPerson)", body: "[")
        _ = try await call("POST", "/people/\(unknownPerson)/merge", body: "{\"from\":\"\(last)\"}")
        _ = try await call("DELETE", "/people/\(unknownPerson)")
        _ = try await call("GET", "/photos/\(unknownPhoto)")
        _ = try await call("DELETE", "/photos/bad")
        _ = try await call("PUT", "/faces/no%20such", body: #"{"personId":null}"#)
        _ = try await call("PUT", "/faces/unknown-face", body: #"{"personId":null}"#)
        _ = try await call("GET", "/faces/unknown-face/explanation")
        _ = try await call("POST", "/operations/op_none/undo")

        let request: [String: Any] = [
            "spec": Self.spec.path, "routes": GalleryAPI.routes.map { [$0.method, $0.path] }, "exchanges": exchanges,
        ]
        let output = try #require(try await PythonScript.run("openapi_check", input: try JSONSerialization.data(withJSONObject: request)))
        let problems = try JSONDecoder().decode([String].self, from: output)
        #expect(problems.isEmpty, "\(problems)")
        #expect(Set(exchanges.map { "\($0["method"]!) \($0["route"]!)" }).count == GalleryAPI.routes.count, "every route exercised")
    }
}
