import FaceClusterKit
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An in-process HTTP stand-in for Amazon Rekognition (JSON 1.1 on 127.0.0.1). It checks what a real endpoint
/// checks first — the `X-Amz-Target`, a SigV4 `Authorization` header scoped to `rekognition`, the content type
/// and a JSON body — keeps each collection in an ``InMemoryFaceIndex`` (so the faces are those of the
/// ``SyntheticPhoto`` bytes sent) and answers in the shapes of the fixtures, with Rekognition's errors:
/// ResourceNotFound, ResourceAlreadyExists, InvalidImageFormat, InvalidParameter (a search image with no face).
/// Every request body it accepted is kept, for checking against botocore's model. With a `latency`, every
/// answer waits that long first (the call-plan benchmark's simulated network and service time).
///
/// A separate target (kept apart from the library for its Hummingbird dependency), shared by the tests and
/// the benchmarks.
public final class RekognitionDouble: Sendable {
    public let port: Int
    public let state: State
    public let latency: Duration

    /// One double for the whole test run, started on first use.
    public static let shared = Task { try await RekognitionDouble.start() }

    public actor State {
        var collections: [String: InMemoryFaceIndex] = [:]
        var users: [String: Set<String>] = [:]
        /// Every request accepted: the operation and its JSON body.
        public private(set) var received: [(operation: String, body: Data)] = []
        /// Buckets the double can read `S3Object` images from, as Rekognition reads the caller's buckets.
        var buckets: [String: any PhotoStore] = [:]

        /// Lets the double read `S3Object` images from `store` under the bucket name `bucket`.
        public func register(_ store: any PhotoStore, as bucket: String) { buckets[bucket] = store }
        func bucket(_ name: String) -> (any PhotoStore)? { buckets[name] }
        /// Adds a user; `false` when it exists.
        func createUser(_ user: String, in collection: String) -> Bool { users[collection, default: []].insert(user).inserted }
        func userExists(_ user: String, in collection: String) -> Bool { users[collection]?.contains(user) ?? false }

        func record(_ operation: String, _ body: Data) { received.append((operation, body)) }
        /// Operations whose requests arrived, in order, recorded before any latency is served.
        public private(set) var arrived: [String] = []
        func arrive(_ operation: String) { arrived.append(operation) }
        /// The faces of collection `id` (with its users), `nil` when there is no such collection.
        public func collection(_ id: String) -> InMemoryFaceIndex? { collections[id] }
        func create(_ id: String) -> Bool {
            guard collections[id] == nil else { return false }
            collections[id] = InMemoryFaceIndex()
            return true
        }
        func delete(_ id: String) -> Bool {
            users[id] = nil
            return collections.removeValue(forKey: id) != nil
        }
    }

    private init(port: Int, state: State, latency: Duration) {
        self.port = port
        self.state = state
        self.latency = latency
    }

    public var endpoint: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// A Rekognition client for the shared double (real HTTP, SigV4, no retry pauses).
    public static func client() async throws -> RekognitionClient {
        try await shared.value.client()
    }

    /// A Rekognition client for this double (real HTTP, SigV4, no retry pauses).
    public func client() -> RekognitionClient {
        let double = self
        return RekognitionClient(client: AWSClient(
            configuration: AWSConfiguration(region: "us-east-1", endpoints: ["rekognition": double.endpoint]),
            credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: "AKIDTEST", secretAccessKey: "test")),
            transport: AsyncHTTPClientTransport(), retryPolicy: RetryPolicy(sleep: { _ in })))
    }

    /// Starts a double on a free loopback port. Every request waits `latency`, and those `operations` names
    /// (`IndexFaces`, …) `extra` on top, before it is answered.
    public static func start(
        latency: Duration = .zero, slowing operations: Set<String> = [], by extra: Duration = .zero
    ) async throws -> RekognitionDouble {
        let state = State()
        let router = Router()
        router.post("/") { request, _ -> Response in
            let body = Data(buffer: try await request.body.collect(upTo: 20 * 1024 * 1024))
            let target = request.headers[HTTPField.Name("X-Amz-Target")!] ?? ""
            await state.arrive(String(target.split(separator: ".").last ?? ""))
            if latency > .zero { try? await Task.sleep(for: latency) }
            if extra > .zero, operations.contains(String(target.split(separator: ".").last ?? "")) { try? await Task.sleep(for: extra) }
            return await Self.handle(request.headers, body, state)
        }
        return RekognitionDouble(port: await serve(router), state: state, latency: latency)
    }

    // MARK: Handling

    static func handle(_ headers: HTTPFields, _ body: Data, _ state: State) async -> Response {
        guard let target = headers[HTTPField.Name("X-Amz-Target")!], target.hasPrefix("RekognitionService.") else {
            return error(400, "UnknownOperationException", "missing or foreign X-Amz-Target")
        }
        guard let authorization = headers[.authorization], authorization.hasPrefix("AWS4-HMAC-SHA256 Credential="),
              authorization.contains("/rekognition/aws4_request"), authorization.contains("SignedHeaders="),
              authorization.range(of: #"Signature=[0-9a-f]{64}$"#, options: .regularExpression) != nil,
              headers[HTTPField.Name("X-Amz-Date")!] != nil
        else { return error(403, "InvalidSignatureException", "the request is not signed with SigV4 for rekognition") }
        guard headers[.contentType] == "application/x-amz-json-1.1" else { return error(400, "SerializationException", "wrong content type") }
        let operation = String(target.dropFirst("RekognitionService.".count))
        await state.record(operation, body)
        do {
            return try await dispatch(operation, body, state)
        } catch let failure as Failure {
            return error(400, failure.code, failure.message)
        } catch {
            return Self.error(400, "SerializationException", "\(error)")
        }
    }

    struct Failure: Error {
        var code: String
        var message: String
    }

    static func dispatch(_ operation: String, _ body: Data, _ state: State) async throws -> Response {
        let decoder = JSONDecoder()
        func index(_ id: String) async throws -> InMemoryFaceIndex {
            guard let index = await state.collection(id) else { throw Failure(code: "ResourceNotFoundException", message: "The collection id: \(id) does not exist") }
            return index
        }
        func bytes(_ image: Rekognition.Image) async throws -> Data {
            if let data = image.Bytes { return scene(of: data) }
            guard let object = image.S3Object, let store = await state.bucket(object.Bucket),
                  let stored = try? await store.get(object.Name)
            else { throw Failure(code: "InvalidS3ObjectException", message: "Unable to get object metadata from S3. Check object key, region and/or access permissions.") }
            guard stored.data.count <= 15 * 1024 * 1024 else { throw Failure(code: "ImageTooLargeException", message: "Image size is too large.") }
            return scene(of: stored.data)
        }
        func faceServiceCall<T>(_ call: () async throws -> T) async throws -> T {
            do {
                return try await call()
            } catch FaceServiceError.invalidImage {
                throw Failure(code: "InvalidImageFormatException", message: "Request has invalid image format")
            } catch FaceServiceError.invalidRequest(let detail) {
                throw Failure(code: "InvalidParameterException", message: detail)
            }
        }
        switch operation {
        case "CreateCollection":
            let input = try decoder.decode(Rekognition.CreateCollectionRequest.self, from: body)
            guard await state.create(input.CollectionId) else { throw Failure(code: "ResourceAlreadyExistsException", message: "exists") }
            return json(Rekognition.CreateCollectionResponse(StatusCode: 200, CollectionArn: "aws:rekognition:us-east-1:123456789012:collection/\(input.CollectionId)", FaceModelVersion: "7.0"))
        case "DeleteCollection":
            let input = try decoder.decode(Rekognition.CollectionRequest.self, from: body)
            guard await state.delete(input.CollectionId) else { throw Failure(code: "ResourceNotFoundException", message: "no collection") }
            return json(Rekognition.DeleteCollectionResponse(StatusCode: 200))
        case "IndexFaces":
            let input = try decoder.decode(Rekognition.IndexFacesRequest.self, from: body)
            let collection = try await index(input.CollectionId)
            let data = try await bytes(input.Image)
            let result = try await faceServiceCall {
                try await collection.indexFaces(
                    in: ImageInput(data: data), externalImageID: input.ExternalImageId ?? "",
                    options: IndexOptions(maxFaces: input.MaxFaces ?? 100, qualityFilter: QualityFilter(rawValue: input.QualityFilter ?? "AUTO") ?? .auto))
            }
            return json(Rekognition.IndexFacesResponse(
                FaceRecords: result.indexed.map { Rekognition.FaceRecord(Face: face($0.faceID, $0.face, input.ExternalImageId), FaceDetail: detail($0.face)) },
                FaceModelVersion: "7.0",
                UnindexedFaces: result.unindexed.map { Rekognition.UnindexedFace(Reasons: $0.reasons, FaceDetail: detail($0.face)) }))
        case "SearchFaces":
            let input = try decoder.decode(Rekognition.SearchFacesRequest.self, from: body)
            let collection = try await index(input.CollectionId)
            let matches = try await faceServiceCall {
                try await collection.searchFaces(
                    matching: FaceID(rawValue: input.FaceId), options: SearchOptions(threshold: input.FaceMatchThreshold ?? 80, maxMatches: input.MaxFaces ?? 4096))
            }
            return json(Rekognition.SearchFacesResponse(SearchedFaceId: input.FaceId, FaceMatches: matches.map(match), FaceModelVersion: "7.0"))
        case "SearchFacesByImage":
            let input = try decoder.decode(Rekognition.SearchFacesByImageRequest.self, from: body)
            let collection = try await index(input.CollectionId)
            let data = try await bytes(input.Image)
            let result = try await faceServiceCall {
                try await collection.searchFaces(
                    byImage: ImageInput(data: data), options: SearchOptions(threshold: input.FaceMatchThreshold ?? 80, maxMatches: input.MaxFaces ?? 4096))
            }
            guard let searched = result.searchedFace else { throw Failure(code: "InvalidParameterException", message: "There are no faces in the image. Should be at least 1.") }
            return json(Rekognition.SearchFacesByImageResponse(
                SearchedFaceBoundingBox: box(searched), SearchedFaceConfidence: 99.9, FaceMatches: result.matches.map(match), FaceModelVersion: "7.0"))
        case "ListFaces":
            let input = try decoder.decode(Rekognition.ListFacesRequest.self, from: body)
            let collection = try await index(input.CollectionId)
            let page = await collection.listFaces(continuationToken: input.NextToken, limit: input.MaxResults ?? 1000)
            var faces: [Rekognition.Face] = []
            for entry in page.faces {
                let user = await collection.person(associatedWith: entry.faceID)
                faces.append(Rekognition.Face(FaceId: entry.faceID.rawValue, ExternalImageId: entry.externalImageID, UserId: user?.rawValue))
            }
            return json(Rekognition.ListFacesResponse(Faces: faces, NextToken: page.continuationToken, FaceModelVersion: "7.0"))
        case "DeleteFaces":
            // Rekognition refuses to delete a face that belongs to a user.
            let input = try decoder.decode(Rekognition.DeleteFacesRequest.self, from: body)
            let collection = try await index(input.CollectionId)
            var deleted: [String] = []
            var refused: [Rekognition.DeleteFacesResponse.Unsuccessful] = []
            for id in input.FaceIds {
                if let user = await collection.person(associatedWith: FaceID(rawValue: id)) {
                    refused.append(.init(FaceId: id, UserId: user.rawValue, Reasons: ["ASSOCIATED_TO_AN_EXISTING_USER"]))
                } else {
                    await collection.deleteFaces([FaceID(rawValue: id)])
                    deleted.append(id)
                }
            }
            return json(Rekognition.DeleteFacesResponse(DeletedFaces: deleted, UnsuccessfulFaceDeletions: refused.isEmpty ? nil : refused))
        case "CreateUser":
            let input = try decoder.decode(Rekognition.CreateUserRequest.self, from: body)
            _ = try await index(input.CollectionId)
            guard await state.createUser(input.UserId, in: input.CollectionId) else {
                throw Failure(code: "ConflictException", message: "A User with the specified ID already exists.")
            }
            return json(Rekognition.EmptyResponse())
        case "AssociateFaces":
            let input = try decoder.decode(Rekognition.AssociateFacesRequest.self, from: body)
            let collection = try await index(input.CollectionId)
            guard await state.userExists(input.UserId, in: input.CollectionId) else {
                throw Failure(code: "ResourceNotFoundException", message: "The user \(input.UserId) does not exist.")
            }
            var associated: [Rekognition.AssociateFacesResponse.Associated] = []
            var refused: [Rekognition.AssociateFacesResponse.Unsuccessful] = []
            for id in input.FaceIds.map(FaceID.init(rawValue:)) {
                switch await collection.person(associatedWith: id) {
                case .some(let owner) where owner.rawValue == input.UserId: continue
                case .some(let owner): refused.append(.init(FaceId: id.rawValue, UserId: owner.rawValue, Reasons: ["ASSOCIATED_TO_A_DIFFERENT_USER"]))
                case nil:
                    try await faceServiceCall { try await collection.associate([id], with: PersonID(rawValue: input.UserId), creatingPerson: false) }
                    if await collection.person(associatedWith: id) == nil {
                        throw Failure(code: "ServiceQuotaExceededException", message: "The user has reached its limit of 100 faces.")
                    }
                    associated.append(.init(FaceId: id.rawValue))
                }
            }
            return json(Rekognition.AssociateFacesResponse(AssociatedFaces: associated, UnsuccessfulFaceAssociations: refused, UserStatus: "ACTIVE"))
        case "DisassociateFaces":
            let input = try decoder.decode(Rekognition.DisassociateFacesRequest.self, from: body)
            let collection = try await index(input.CollectionId)
            var done: [Rekognition.DisassociateFacesResponse.Disassociated] = []
            for id in input.FaceIds.map(FaceID.init(rawValue:)) where await collection.person(associatedWith: id)?.rawValue == input.UserId {
                await collection.disassociate(id)
                done.append(.init(FaceId: id.rawValue))
            }
            return json(Rekognition.DisassociateFacesResponse(DisassociatedFaces: done, UnsuccessfulFaceDisassociations: [], UserStatus: "ACTIVE"))
        case "SearchUsers":
            let input = try decoder.decode(Rekognition.SearchUsersRequest.self, from: body)
            let collection = try await index(input.CollectionId)
            guard let face = input.FaceId else { throw Failure(code: "InvalidParameterException", message: "the double searches by FaceId only") }
            let people = try await faceServiceCall {
                try await collection.searchPeople(
                    matching: FaceID(rawValue: face), options: SearchOptions(threshold: input.UserMatchThreshold ?? 80, maxMatches: input.MaxUsers ?? 500))
            }
            return json(Rekognition.SearchUsersResponse(
                UserMatches: people.map { Rekognition.UserMatch(Similarity: $0.similarity, User: .init(UserId: $0.personID.rawValue, UserStatus: "ACTIVE")) },
                FaceModelVersion: "7.0", SearchedFace: .init(FaceId: face, UserId: nil), SearchedUser: nil))
        case "DetectFaces":
            let input = try decoder.decode(Rekognition.DetectFacesRequest.self, from: body)
            let data = try await bytes(input.Image)
            let faces = try await faceServiceCall { try await ScriptedFaceDetector().detectFaces(in: ImageInput(data: data)) }
            return json(Rekognition.DetectFacesResponse(FaceDetails: faces.map(detail)))
        default:
            throw Failure(code: "UnknownOperationException", message: "the double does not implement \(operation)")
        }
    }

    /// The synthetic scene an image shows: a synthetic photo is one; a real JPEG shows the scene its comment
    /// segment carries (``JPEGEncoding/inserting(comment:into:)``), or no face at all.
    static func scene(of data: Data) -> Data {
        let bytes = [UInt8](data)
        guard bytes.count > 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return data }
        var position = 2
        while position + 4 <= bytes.count, bytes[position] == 0xFF {
            let marker = bytes[position + 1]
            let length = Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
            if marker == 0xDA { break }
            if marker == 0xFE, position + 2 + length <= bytes.count {
                let comment = Data(bytes[(position + 4)..<(position + 2 + length)])
                if (try? SyntheticPhoto(decoding: comment)) != nil { return comment }
            }
            position += 2 + length
        }
        return SyntheticPhoto(width: 1000, height: 1000).encoded()
    }

    static func box(_ box: BoundingBox) -> Rekognition.BoundingBox {
        Rekognition.BoundingBox(Width: box.width, Height: box.height, Left: box.left, Top: box.top)
    }

    static func detail(_ face: DetectedFace) -> Rekognition.FaceDetail {
        Rekognition.FaceDetail(
            BoundingBox: box(face.boundingBox), Confidence: face.confidence, Landmarks: nil, Pose: nil,
            Quality: face.quality.map { Rekognition.ImageQuality(Brightness: $0.brightness, Sharpness: $0.sharpness) })
    }

    static func face(_ id: FaceID, _ face: DetectedFace, _ externalImageID: String?) -> Rekognition.Face {
        Rekognition.Face(FaceId: id.rawValue, BoundingBox: box(face.boundingBox), ImageId: UUID().uuidString.lowercased(), ExternalImageId: externalImageID, Confidence: face.confidence)
    }

    static func match(_ match: FaceMatch) -> Rekognition.FaceMatch {
        Rekognition.FaceMatch(Similarity: match.similarity, Face: Rekognition.Face(FaceId: match.faceID.rawValue, ExternalImageId: match.externalImageID))
    }

    static func json(_ value: some Encodable) -> Response {
        let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
        return Response(status: .ok, headers: [.contentType: "application/x-amz-json-1.1"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: Int, _ code: String, _ message: String) -> Response {
        let data = Data(#"{"__type":"\#(code)","Message":"\#(message.replacingOccurrences(of: "\"", with: "'"))"}"#.utf8)
        return Response(status: .init(code: status), headers: [.contentType: "application/x-amz-json-1.1"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
