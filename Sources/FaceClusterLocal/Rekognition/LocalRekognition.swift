import FaceClusterKit
import Foundation
import GRDB

/// Amazon Rekognition's face operations answered by the embedded engine: the protocol layer of
/// `facecluster rekognition-server`, transport-neutral (an operation name and a JSON 1.1 body in, a status and a
/// JSON body out; the HTTP server and its SigV4 check are `RekognitionEndpoint`).
///
/// - **Operations**: CreateCollection, DescribeCollection, DeleteCollection, ListCollections, IndexFaces,
///   SearchFaces, SearchFacesByImage, DetectFaces, DeleteFaces, ListFaces, CreateUser, DeleteUser, ListUsers,
///   AssociateFaces, DisassociateFaces, SearchUsers; any other is `UnknownOperationException` (400).
/// - **Faces**: ``LocalFaceEngine`` (dlib HOG, 5 landmarks, 128-D ResNet embedding). Similarities are on
///   Rekognition's 0–100 scale through ``LocalFaceEngine/similarity(distance:)`` (distance 0.55 is 90);
///   `FaceModelVersion` is ``faceModelVersion``, not a Rekognition version. Face ids are UUID-shaped, as the
///   service's `FaceId` pattern asks (the engine's 128-bit id, written 8-4-4-4-12).
/// - **Images**: `Image.Bytes` (≤ 5 MB) or `Image.S3Object` (≤ 15 MB) read through ``objectReader`` from an S3
///   endpoint such as moto; JPEG, PNG, WebP and HEIC by content.
/// - **Collections** each live in their own SQLite file under the store directory (`<CollectionId>.sqlite`:
///   vectors, users, their faces), or in memory without one. All collections share one pool of dlib engines.
/// - **Errors** are the service's codes and statuses (`__type` and `Message`): ResourceNotFoundException,
///   ResourceAlreadyExistsException, ConflictException, InvalidParameterException, InvalidImageFormatException,
///   ImageTooLargeException, InvalidS3ObjectException, ServiceQuotaExceededException, ValidationException
///   (a member outside its pattern or range), SerializationException (a body that is not the operation's JSON).
public actor LocalRekognition {
    /// Reads an S3 object's bytes (bucket, key) for `Image.S3Object`; throws when it cannot.
    public typealias ObjectReader = @Sendable (_ bucket: String, _ key: String) async throws -> Data

    /// What `FaceModelVersion` says: the local engine's model, never a Rekognition version it is not.
    public static let faceModelVersion = "facecluster-dlib-resnet-v1"
    /// Rekognition's limits on images (bytes in the request, objects in S3) and on a user's faces.
    public static let maximumImageBytes = 5 * 1_048_576
    public static let maximumS3ObjectBytes = 15 * 1_048_576
    public static let maximumFacesPerUser = 100

    /// A failure answered in Rekognition's error shape.
    public struct Fault: Error, Equatable {
        public var status: Int
        public var code: String
        public var message: String
        public init(_ status: Int, _ code: String, _ message: String) {
            self.status = status
            self.code = code
            self.message = message
        }
        /// A client error: 400, as Rekognition answers every one of them.
        public init(_ code: String, _ message: String) { self.init(400, code, message) }
    }

    struct Collection {
        var engine: LocalFaceEngine
        var database: LocalDatabase
        var path: String?
    }

    private let analysis: LocalFaceEngine
    private let directory: URL?
    private let objectReader: ObjectReader?
    private let region: String
    private var collections: [String: Collection] = [:]

    /// Opens the collections kept under `directory` (created when missing), or keeps them in memory when `nil`.
    /// `objectReader` reads `S3Object` images; without one they are `InvalidS3ObjectException`.
    public init(
        models: FaceModels = FaceModels(), directory: URL?, configuration: LocalFaceEngine.Configuration = .init(),
        objectReader: ObjectReader? = nil, region: String = "us-east-1"
    ) throws {
        self.analysis = try LocalFaceEngine(models: models, database: try LocalDatabase.inMemory(), configuration: configuration)
        self.directory = directory
        self.objectReader = objectReader
        self.region = region
        guard let directory else { return }
        try LibraryFileError.createStore(directory)
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() where file.hasSuffix(".sqlite") {
            let id = String(file.dropLast(".sqlite".count))
            collections[id] = try Self.open(directory.appendingPathComponent(file).path, sharing: analysis)
        }
    }

    /// Answers one request: `operation` is the `X-Amz-Target` after `RekognitionService.`, `body` its JSON.
    /// Returns the HTTP status and the JSON to send (the error shape for a fault).
    public func handle(_ operation: String, _ body: Data) async -> (status: Int, body: Data) {
        do {
            return (200, try await dispatch(operation, body.isEmpty ? Data("{}".utf8) : body))
        } catch let fault as Fault {
            return (fault.status, Self.errorBody(fault))
        } catch {
            let fault = Self.fault(for: error)
            return (fault.status, Self.errorBody(fault))
        }
    }

    public static func errorBody(_ fault: Fault) -> Data {
        (try? JSONSerialization.data(withJSONObject: ["__type": fault.code, "Message": fault.message])) ?? Data()
    }

    // MARK: Dispatch

    private func dispatch(_ operation: String, _ body: Data) async throws -> Data {
        switch operation {
        case "CreateCollection":
            let input = try decode(Rekognition.CreateCollectionRequest.self, body)
            try Self.check(collection: input.CollectionId)
            guard collections[input.CollectionId] == nil else {
                throw Fault("ResourceAlreadyExistsException", "The collection id: \(input.CollectionId) already exists")
            }
            let path = directory?.appendingPathComponent(input.CollectionId + ".sqlite").path
            let collection = try path.map { try Self.open($0, sharing: analysis) } ?? Self.open(nil, sharing: analysis)
            collections[input.CollectionId] = collection
            return try encode(Rekognition.CreateCollectionResponse(StatusCode: 200, CollectionArn: arn(input.CollectionId), FaceModelVersion: Self.faceModelVersion))
        case "DescribeCollection":
            let input = try decode(Rekognition.CollectionRequest.self, body)
            let collection = try self.collection(input.CollectionId)
            let (created, users) = try await collection.database.read { db in
                (try Double.fetchOne(db, sql: "SELECT created_at FROM rekognition_collection") ?? 0,
                 try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rekognition_users") ?? 0)
            }
            return try encode(Rekognition.DescribeCollectionResponse(
                FaceCount: collection.engine.faceCount, FaceModelVersion: Self.faceModelVersion, CollectionARN: arn(input.CollectionId),
                CreationTimestamp: created, UserCount: users))
        case "DeleteCollection":
            let input = try decode(Rekognition.CollectionRequest.self, body)
            let collection = try self.collection(input.CollectionId)
            collections[input.CollectionId] = nil
            if let path = collection.path {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            }
            return try encode(Rekognition.DeleteCollectionResponse(StatusCode: 200))
        case "ListCollections":
            let input = try decode(Rekognition.ListCollectionsRequest.self, body)
            let limit = try Self.range(input.MaxResults ?? 1000, 0...4096, "MaxResults")
            let ids = collections.keys.sorted().filter { id in input.NextToken.map { id > $0 } ?? true }
            let page = Array(ids.prefix(max(limit, 1)))
            return try encode(Rekognition.ListCollectionsResponse(
                CollectionIds: page, NextToken: page.count < ids.count ? page.last : nil,
                FaceModelVersions: page.map { _ in Self.faceModelVersion }))
        case "IndexFaces":
            let input = try decode(Rekognition.IndexFacesRequest.self, body)
            let collection = try self.collection(input.CollectionId)
            if let external = input.ExternalImageId { try Self.check(external, "ExternalImageId", maximum: 255, extra: ":") }
            let maxFaces = try Self.range(input.MaxFaces ?? 100, 1...100, "MaxFaces")
            let image = try await bytes(input.Image)
            let result = try await collection.engine.indexFaces(
                in: ImageInput(data: image), externalImageID: input.ExternalImageId ?? "", options: IndexOptions(maxFaces: maxFaces))
            let imageID = UUID().uuidString.lowercased()
            return try encode(Rekognition.IndexFacesResponse(
                FaceRecords: result.indexed.map { indexed in
                    Rekognition.FaceRecord(
                        Face: Rekognition.Face(
                            FaceId: Self.wire(indexed.faceID), BoundingBox: Self.box(indexed.face.boundingBox), ImageId: imageID,
                            ExternalImageId: input.ExternalImageId, Confidence: indexed.face.confidence, IndexFacesModelVersion: Self.faceModelVersion),
                        FaceDetail: Self.detail(indexed.face))
                },
                FaceModelVersion: Self.faceModelVersion,
                UnindexedFaces: result.unindexed.map { Rekognition.UnindexedFace(Reasons: $0.reasons, FaceDetail: Self.detail($0.face)) }))
        case "SearchFaces":
            let input = try decode(Rekognition.SearchFacesRequest.self, body)
            let collection = try self.collection(input.CollectionId)
            let face = try Self.local(input.FaceId)
            guard collection.engine.contains(face) else {
                throw Fault("InvalidParameterException", "The face \(input.FaceId) is not in the collection \(input.CollectionId)")
            }
            let options = try Self.search(threshold: input.FaceMatchThreshold, maximum: input.MaxFaces, range: 1...4096)
            let matches = try await collection.engine.searchFaces(matching: face, options: options)
            return try encode(Rekognition.SearchFacesResponse(
                SearchedFaceId: input.FaceId, FaceMatches: try await wire(matches, in: collection), FaceModelVersion: Self.faceModelVersion))
        case "SearchFacesByImage":
            let input = try decode(Rekognition.SearchFacesByImageRequest.self, body)
            let collection = try self.collection(input.CollectionId)
            let options = try Self.search(threshold: input.FaceMatchThreshold, maximum: input.MaxFaces, range: 1...4096)
            let result = try await collection.engine.searchFaces(byImage: ImageInput(data: try await bytes(input.Image)), options: options)
            guard let searched = result.searchedFace else {
                throw Fault("InvalidParameterException", "There are no faces in the image. Should be at least 1.")
            }
            return try encode(Rekognition.SearchFacesByImageResponse(
                SearchedFaceBoundingBox: Self.box(searched), SearchedFaceConfidence: nil,
                FaceMatches: try await wire(result.matches, in: collection), FaceModelVersion: Self.faceModelVersion))
        case "DetectFaces":
            let input = try decode(Rekognition.DetectFacesRequest.self, body)
            let faces = try await analysis.detectFaces(in: ImageInput(data: try await bytes(input.Image)))
            return try encode(Rekognition.DetectFacesResponse(FaceDetails: faces.map(Self.detail)))
        case "DeleteFaces":
            let input = try decode(Rekognition.DeleteFacesRequest.self, body)
            let collection = try self.collection(input.CollectionId)
            guard (1...4096).contains(input.FaceIds.count) else { throw Fault("ValidationException", "FaceIds must hold 1 to 4096 ids") }
            let ids = try input.FaceIds.map(Self.local)
            let owners = try await owners(of: ids, in: collection)
            var deleted: [String] = []
            var refused: [Rekognition.DeleteFacesResponse.Unsuccessful] = []
            for (wireID, id) in zip(input.FaceIds, ids) {
                if let owner = owners[id] {
                    refused.append(.init(FaceId: wireID, UserId: owner, Reasons: ["ASSOCIATED_TO_AN_EXISTING_USER"]))
                } else if !collection.engine.contains(id) {
                    refused.append(.init(FaceId: wireID, Reasons: ["FACE_NOT_FOUND"]))
                } else {
                    deleted.append(wireID)
                }
            }
            try await collection.engine.deleteFaces(deleted.map { try Self.local($0) })
            // The model's DeletedFaces holds 1 to 4096 ids: with none deleted, the member is left out.
            return try encode(Rekognition.DeleteFacesResponse(DeletedFaces: deleted.isEmpty ? nil : deleted, UnsuccessfulFaceDeletions: refused))
        case "ListFaces":
            let input = try decode(ListFacesInput.self, body)
            let collection = try self.collection(input.CollectionId)
            let limit = try Self.range(input.MaxResults ?? 1000, 0...4096, "MaxResults")
            var entries = try await collection.engine.listFaces(continuationToken: nil, limit: Int.max).faces
            let owners = try await owners(of: entries.map(\.faceID), in: collection)
            if let user = input.UserId { entries = entries.filter { owners[$0.faceID] == user } }
            if let only = input.FaceIds { let wanted = Set(try only.map(Self.local)); entries = entries.filter { wanted.contains($0.faceID) } }
            if let token = input.NextToken { entries = entries.filter { Self.wire($0.faceID) > token } }
            let page = Array(entries.prefix(max(limit, 1)))
            return try encode(Rekognition.ListFacesResponse(
                Faces: page.map { Rekognition.Face(
                    FaceId: Self.wire($0.faceID), ExternalImageId: $0.externalImageID.flatMap { $0.isEmpty ? nil : $0 },
                    IndexFacesModelVersion: Self.faceModelVersion, UserId: owners[$0.faceID]) },
                NextToken: page.count < entries.count ? page.last.map { Self.wire($0.faceID) } : nil,
                FaceModelVersion: Self.faceModelVersion))
        case "CreateUser":
            let input = try decode(Rekognition.CreateUserRequest.self, body)
            let collection = try self.collection(input.CollectionId)
            try Self.check(input.UserId, "UserId", maximum: 128, extra: ":")
            let created = try await collection.database.write { db -> Bool in
                try db.execute(sql: "INSERT OR IGNORE INTO rekognition_users (user_id, created_at) VALUES (?, ?)", arguments: [input.UserId, Date().timeIntervalSince1970])
                return db.changesCount > 0
            }
            guard created else { throw Fault("ConflictException", "A User with the specified ID already exists.") }
            return Data("{}".utf8)
        case "DeleteUser":
            let input = try decode(Rekognition.DeleteUserRequest.self, body)
            let collection = try self.collection(input.CollectionId)
            let deleted = try await collection.database.write { db -> Bool in
                try db.execute(sql: "DELETE FROM rekognition_user_faces WHERE user_id = ?", arguments: [input.UserId])
                try db.execute(sql: "DELETE FROM rekognition_users WHERE user_id = ?", arguments: [input.UserId])
                return db.changesCount > 0
            }
            guard deleted else { throw Fault("ResourceNotFoundException", "The user \(input.UserId) does not exist.") }
            return Data("{}".utf8)
        case "ListUsers":
            let input = try decode(Rekognition.ListUsersRequest.self, body)
            let collection = try self.collection(input.CollectionId)
            let limit = try Self.range(input.MaxResults ?? 500, 1...500, "MaxResults")
            let rows = try await collection.database.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT u.user_id AS id, COUNT(f.face_id) AS faces FROM rekognition_users u
                    LEFT JOIN rekognition_user_faces f ON f.user_id = u.user_id
                    WHERE u.user_id > ? GROUP BY u.user_id ORDER BY u.user_id LIMIT ?
                    """, arguments: [input.NextToken ?? "", limit + 1])
                    .map { (id: $0["id"] as String, faces: $0["faces"] as Int) }
            }
            let page = rows.prefix(limit)
            return try encode(Rekognition.ListUsersResponse(
                Users: page.map { Rekognition.User(UserId: $0.id, UserStatus: $0.faces > 0 ? "ACTIVE" : "CREATED") },
                NextToken: rows.count > limit ? page.last?.id : nil))
        case "AssociateFaces":
            return try await associate(try decode(Rekognition.AssociateFacesRequest.self, body))
        case "DisassociateFaces":
            let input = try decode(Rekognition.DisassociateFacesRequest.self, body)
            let collection = try self.collection(input.CollectionId)
            try await requireUser(input.UserId, in: collection)
            let ids = try input.FaceIds.map(Self.local)
            let owners = try await owners(of: ids, in: collection)
            var done: [Rekognition.DisassociateFacesResponse.Disassociated] = []
            var refused: [Rekognition.DisassociateFacesResponse.Unsuccessful] = []
            for (wireID, id) in zip(input.FaceIds, ids) {
                switch owners[id] {
                case input.UserId: done.append(.init(FaceId: wireID))
                case .some(let other): refused.append(.init(FaceId: wireID, UserId: other, Reasons: ["ASSOCIATED_TO_A_DIFFERENT_USER"]))
                case nil: refused.append(.init(FaceId: wireID, Reasons: ["FACE_NOT_FOUND"]))
                }
            }
            let gone = done.compactMap(\.FaceId)
            let remaining = try await collection.database.write { db -> Int in
                for id in gone { try db.execute(sql: "DELETE FROM rekognition_user_faces WHERE face_id = ?", arguments: [try Self.local(id).rawValue]) }
                return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rekognition_user_faces WHERE user_id = ?", arguments: [input.UserId]) ?? 0
            }
            return try encode(Rekognition.DisassociateFacesResponse(
                DisassociatedFaces: done, UnsuccessfulFaceDisassociations: refused, UserStatus: remaining > 0 ? "ACTIVE" : "CREATED"))
        case "SearchUsers":
            return try await searchUsers(try decode(Rekognition.SearchUsersRequest.self, body))
        default:
            throw Fault("UnknownOperationException", "facecluster rekognition-server does not implement \(operation)")
        }
    }

    /// ListFaces' input: the shape in the SDK carries only what the adapters send.
    struct ListFacesInput: Decodable {
        var CollectionId: String
        var NextToken: String?
        var MaxResults: Int?
        var UserId: String?
        var FaceIds: [String]?
    }

    // MARK: Users

    private func associate(_ input: Rekognition.AssociateFacesRequest) async throws -> Data {
        let collection = try self.collection(input.CollectionId)
        try await requireUser(input.UserId, in: collection)
        guard (1...100).contains(input.FaceIds.count) else { throw Fault("ValidationException", "FaceIds must hold 1 to 100 ids") }
        let threshold = try Self.range(input.UserMatchThreshold ?? 75, 0...100, "UserMatchThreshold")
        let ids = try input.FaceIds.map(Self.local)
        let owners = try await owners(of: ids, in: collection)
        var members = try await faces(of: input.UserId, in: collection)
        var associated: [Rekognition.AssociateFacesResponse.Associated] = []
        var refused: [Rekognition.AssociateFacesResponse.Unsuccessful] = []
        var added: [FaceID] = []
        for (wireID, id) in zip(input.FaceIds, ids) {
            if let owner = owners[id] {
                if owner != input.UserId { refused.append(.init(FaceId: wireID, UserId: owner, Reasons: ["ASSOCIATED_TO_A_DIFFERENT_USER"])) }
                continue
            }
            guard collection.engine.contains(id) else {
                refused.append(.init(FaceId: wireID, Reasons: ["FACE_NOT_FOUND"]))
                continue
            }
            // A face joins a user it resembles: its best similarity to the user's faces must reach the threshold.
            if !members.isEmpty {
                let best = try await collection.engine.similarities(among: [id] + members)
                    .filter { $0.a == id || $0.b == id }.map(\.similarity).max() ?? 0
                guard best >= threshold else {
                    refused.append(.init(FaceId: wireID, UserId: input.UserId, Confidence: best, Reasons: ["LOW_MATCH_CONFIDENCE"]))
                    continue
                }
            }
            guard members.count < Self.maximumFacesPerUser else {
                throw Fault("ServiceQuotaExceededException", "The user \(input.UserId) has reached its limit of \(Self.maximumFacesPerUser) faces.")
            }
            members.append(id)
            added.append(id)
            associated.append(.init(FaceId: wireID))
        }
        let (user, newFaces) = (input.UserId, added)
        try await collection.database.write { db in
            for id in newFaces {
                try db.execute(sql: "INSERT OR IGNORE INTO rekognition_user_faces (face_id, user_id) VALUES (?, ?)", arguments: [id.rawValue, user])
            }
        }
        return try encode(Rekognition.AssociateFacesResponse(
            AssociatedFaces: associated, UnsuccessfulFaceAssociations: refused, UserStatus: members.isEmpty ? "CREATED" : "ACTIVE"))
    }

    /// Users ranked by their best face's similarity to the searched face (or to the searched user's faces).
    private func searchUsers(_ input: Rekognition.SearchUsersRequest) async throws -> Data {
        let collection = try self.collection(input.CollectionId)
        let threshold = try Self.range(input.UserMatchThreshold ?? 80, 0...100, "UserMatchThreshold")
        let limit = try Self.range(input.MaxUsers ?? 500, 1...500, "MaxUsers")
        let probes: [FaceID]
        switch (input.FaceId, input.UserId) {
        case (let face?, nil):
            let id = try Self.local(face)
            guard collection.engine.contains(id) else { throw Fault("InvalidParameterException", "The face \(face) is not in the collection") }
            probes = [id]
        case (nil, let user?):
            try await requireUser(user, in: collection)
            probes = try await faces(of: user, in: collection)
        default:
            throw Fault("InvalidParameterException", "Give exactly one of FaceId and UserId.")
        }
        let own = Set(probes)
        let edges = try await collection.engine.neighbours(of: probes, atLeast: threshold)
        let others = edges.flatMap { [$0.a, $0.b] }.filter { !own.contains($0) }
        let owners = try await owners(of: others, in: collection)
        var best: [String: Double] = [:]
        for edge in edges {
            for face in [edge.a, edge.b] where !own.contains(face) {
                guard let user = owners[face], user != input.UserId else { continue }
                best[user] = max(best[user] ?? 0, edge.similarity)
            }
        }
        let ranked = best.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(limit)
        return try encode(Rekognition.SearchUsersResponse(
            UserMatches: ranked.map { Rekognition.UserMatch(Similarity: $0.value, User: .init(UserId: $0.key, UserStatus: "ACTIVE")) },
            FaceModelVersion: Self.faceModelVersion,
            SearchedFace: input.FaceId.map { .init(FaceId: $0) }, SearchedUser: input.UserId.map { .init(UserId: $0) }))
    }

    private func requireUser(_ user: String, in collection: Collection) async throws {
        let exists = try await collection.database.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM rekognition_users WHERE user_id = ?)", arguments: [user]) ?? false
        }
        guard exists else { throw Fault("ResourceNotFoundException", "The user \(user) does not exist.") }
    }

    private func faces(of user: String, in collection: Collection) async throws -> [FaceID] {
        try await collection.database.read { db in
            try String.fetchAll(db, sql: "SELECT face_id FROM rekognition_user_faces WHERE user_id = ? ORDER BY face_id", arguments: [user])
        }.map(FaceID.init(rawValue:))
    }

    /// The user each of `faces` belongs to, for those that belong to one.
    private func owners(of faces: [FaceID], in collection: Collection) async throws -> [FaceID: String] {
        guard !faces.isEmpty else { return [:] }
        let ids = Array(Set(faces.map(\.rawValue)))
        let rows = try await collection.database.read { db in
            // In chunks under SQLite's limit on bound variables.
            try stride(from: 0, to: ids.count, by: 500).flatMap { start in
                let chunk = Array(ids[start..<min(start + 500, ids.count)])
                return try Row.fetchAll(
                    db, sql: "SELECT face_id, user_id FROM rekognition_user_faces WHERE face_id IN (\(databaseQuestionMarks(count: chunk.count)))",
                    arguments: StatementArguments(chunk)
                ).map { (FaceID(rawValue: $0["face_id"]), $0["user_id"] as String) }
            }
        }
        return Dictionary(rows, uniquingKeysWith: { first, _ in first })
    }

    // MARK: Collections

    private func collection(_ id: String) throws -> Collection {
        guard let collection = collections[id] else { throw Fault("ResourceNotFoundException", "The collection id: \(id) does not exist") }
        return collection
    }

    private func arn(_ id: String) -> String { "aws:rekognition:\(region):000000000000:collection/\(id)" }

    private static func open(_ path: String?, sharing analysis: LocalFaceEngine) throws -> Collection {
        let database = try path.map { try LocalDatabase(path: $0) } ?? LocalDatabase.inMemory()
        try database.writer.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS rekognition_collection (created_at REAL NOT NULL);
                CREATE TABLE IF NOT EXISTS rekognition_users (user_id TEXT PRIMARY KEY, created_at REAL NOT NULL);
                CREATE TABLE IF NOT EXISTS rekognition_user_faces (face_id TEXT PRIMARY KEY, user_id TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS rekognition_user_faces_by_user ON rekognition_user_faces (user_id);
                """)
            if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rekognition_collection") == 0 {
                try db.execute(sql: "INSERT INTO rekognition_collection (created_at) VALUES (?)", arguments: [Date().timeIntervalSince1970])
            }
        }
        return Collection(engine: try LocalFaceEngine(sharingAnalysisWith: analysis, database: database), database: database, path: path)
    }

    // MARK: Images

    private func bytes(_ image: Rekognition.Image) async throws -> Data {
        switch (image.Bytes, image.S3Object) {
        case (let data?, nil):
            guard !data.isEmpty else { throw Fault("InvalidParameterException", "Image.Bytes is empty.") }
            guard data.count <= Self.maximumImageBytes else { throw Fault("ImageTooLargeException", "Image size is too large (at most 5 MB as bytes).") }
            return data
        case (nil, let object?):
            guard let objectReader else {
                throw Fault("InvalidS3ObjectException", "This endpoint was started without an S3 endpoint to read \(object.Bucket)/\(object.Name) from (--s3-endpoint).")
            }
            let data: Data
            do {
                data = try await objectReader(object.Bucket, object.Name)
            } catch {
                throw Fault("InvalidS3ObjectException", "Unable to get object metadata from S3. Check object key, region and/or access permissions. (\(error))")
            }
            guard data.count <= Self.maximumS3ObjectBytes else { throw Fault("ImageTooLargeException", "Image size is too large (at most 15 MB from S3).") }
            return data
        default:
            throw Fault("InvalidParameterException", "Give exactly one of Image.Bytes and Image.S3Object.")
        }
    }

    // MARK: Wire forms

    private func decode<T: Decodable>(_ type: T.Type, _ body: Data) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: body)
        } catch {
            throw Fault("SerializationException", "The request is not \(T.self)'s JSON: \(error)")
        }
    }

    private func encode(_ value: some Encodable) throws -> Data { try JSONEncoder().encode(value) }

    private func wire(_ matches: [FaceMatch], in collection: Collection) async throws -> [Rekognition.FaceMatch] {
        let owners = try await owners(of: matches.map(\.faceID), in: collection)
        return matches.map { match in
            Rekognition.FaceMatch(Similarity: match.similarity, Face: Rekognition.Face(
                FaceId: Self.wire(match.faceID), ExternalImageId: match.externalImageID.flatMap { $0.isEmpty ? nil : $0 },
                IndexFacesModelVersion: Self.faceModelVersion, UserId: owners[match.faceID]))
        }
    }

    /// The engine's id (`f_` and 32 hex digits) as Rekognition writes a FaceId (8-4-4-4-12).
    static func wire(_ id: FaceID) -> String { uuid(fromHex: String(id.rawValue.dropFirst(2))) }

    static func uuid(fromHex hex: String) -> String {
        let digits = Array(hex.prefix(32).padding(toLength: 32, withPad: "0", startingAt: 0))
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(digits[$0]) }.joined(separator: "-")
    }

    /// A FaceId from the wire as the engine's id; `ValidationException` when it is not UUID-shaped.
    static func local(_ wire: String) throws -> FaceID {
        let hex = wire.replacingOccurrences(of: "-", with: "")
        guard wire.count == 36, hex.count == 32, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            throw Fault("ValidationException", "1 validation error detected: Value '\(wire)' at 'faceId' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
        }
        return FaceID(rawValue: "f_" + hex)
    }

    static func box(_ box: BoundingBox) -> Rekognition.BoundingBox {
        Rekognition.BoundingBox(Width: box.width, Height: box.height, Left: box.left, Top: box.top)
    }

    /// A face as Rekognition details it. dlib's five points become Rekognition's landmark types: each eye's
    /// centre (`eyeLeft`, `eyeRight`: as seen in the image, left is the smaller x), its two corners and `nose`.
    static func detail(_ face: DetectedFace) -> Rekognition.FaceDetail {
        var landmarks: [Rekognition.Landmark]?
        let points = Dictionary(face.landmarks.map { ($0.type, $0) }, uniquingKeysWith: { first, _ in first })
        if let a1 = points["eyeRightOuter"], let a2 = points["eyeRightInner"], let b1 = points["eyeLeftOuter"], let b2 = points["eyeLeftInner"] {
            let eyes = [[a1, a2], [b1, b2]].map { $0.sorted { $0.x < $1.x } }.sorted { $0[0].x < $1[0].x }
            func point(_ type: String, _ x: Double, _ y: Double) -> Rekognition.Landmark { Rekognition.Landmark(Type: type, X: x, Y: y) }
            landmarks = [
                point("eyeLeft", (eyes[0][0].x + eyes[0][1].x) / 2, (eyes[0][0].y + eyes[0][1].y) / 2),
                point("eyeRight", (eyes[1][0].x + eyes[1][1].x) / 2, (eyes[1][0].y + eyes[1][1].y) / 2),
                point("leftEyeLeft", eyes[0][0].x, eyes[0][0].y), point("leftEyeRight", eyes[0][1].x, eyes[0][1].y),
                point("rightEyeLeft", eyes[1][0].x, eyes[1][0].y), point("rightEyeRight", eyes[1][1].x, eyes[1][1].y),
            ]
            if let nose = points["noseBase"] { landmarks?.append(point("nose", nose.x, nose.y)) }
        }
        return Rekognition.FaceDetail(BoundingBox: box(face.boundingBox), Confidence: face.confidence, Landmarks: landmarks)
    }

    // MARK: Checks

    /// The service's answer for an error the engine threw.
    static func fault(for error: any Error) -> Fault {
        switch error {
        case FaceServiceError.imageTooLarge(let detail): Fault("ImageTooLargeException", detail)
        case FaceServiceError.invalidImage(let detail): Fault("InvalidImageFormatException", detail)
        case FaceServiceError.invalidRequest(let detail): Fault("InvalidParameterException", detail)
        case let error as ImageError: Fault("InvalidImageFormatException", "Request has invalid image format: \(error)")
        default: Fault(500, "InternalServerError", "\(error)")
        }
    }

    static func check(collection id: String) throws { try check(id, "CollectionId", maximum: 255, extra: "") }

    /// `value` within 1…`maximum` characters of `[a-zA-Z0-9_.\-]` (and `extra`), as the service model's patterns say.
    static func check(_ value: String, _ member: String, maximum: Int, extra: String) throws {
        let allowed = value.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_.-\(extra)".unicodeScalars.contains($0)) }
        guard (1...maximum).contains(value.count), allowed else {
            throw Fault("ValidationException", "1 validation error detected: Value '\(value)' at '\(member)' failed to satisfy constraint: 1 to \(maximum) characters of [a-zA-Z0-9_.\\-\(extra)]")
        }
    }

    static func range(_ value: Int, _ range: ClosedRange<Int>, _ member: String) throws -> Int {
        guard range.contains(value) else { throw Fault("ValidationException", "\(member) must be in \(range.lowerBound)…\(range.upperBound)") }
        return value
    }

    static func range(_ value: Double, _ range: ClosedRange<Double>, _ member: String) throws -> Double {
        guard range.contains(value) else { throw Fault("ValidationException", "\(member) must be in \(range.lowerBound)…\(range.upperBound)") }
        return value
    }

    static func search(threshold: Double?, maximum: Int?, range: ClosedRange<Int>) throws -> SearchOptions {
        SearchOptions(
            threshold: try Self.range(threshold ?? 80, 0...100, "FaceMatchThreshold"),
            maxMatches: try Self.range(maximum ?? 80, range, "MaxFaces"))
    }
}
