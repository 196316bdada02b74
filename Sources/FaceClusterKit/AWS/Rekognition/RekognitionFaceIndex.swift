#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Turns a port image into a Rekognition image: an S3 reference when the photo sits in a bucket Rekognition
/// may read (no download, up to 15 MB), bytes otherwise (up to 5 MB; a larger JPEG is re-encoded smaller,
/// turned upright first so boxes keep meaning the displayed photo). Rekognition reads JPEG and PNG only: a
/// WebP (or another format of ``decoders``) is decoded and sent as JPEG bytes; a format without a decoder
/// (HEIC in the Lambda) fails as ``ImageError/unsupportedFormat(_:)`` before any call is made. Rekognition
/// applies a JPEG's EXIF orientation but not a PNG's (its boxes are then in stored pixels), so a PNG whose
/// eXIf turns it is decoded, turned and sent as JPEG bytes too.
struct RekognitionImages: Sendable {
    /// Buckets, in the Rekognition region, whose objects are sent by reference.
    var buckets: Set<String>
    var decoders: PhotoDecoders = .standard
    static let maximumBytes = 5 * 1024 * 1024

    /// The re-encoding of a large photo or another format runs on ``BlockingWork``'s threads.
    func image(_ input: ImageInput) async throws -> Rekognition.Image {
        let format = ImageFormat(sniffing: input.data)
        let readable = format == .jpeg || format == nil  // nil: let Rekognition name what it is
            || (format == .png && PNGDecoder.orientation(of: input.data) == .up)
        if readable, let reference = input.reference, buckets.contains(reference.store) {
            return .s3(Rekognition.S3Object(Bucket: reference.store, Name: reference.key, Version: reference.versionID))
        }
        guard !readable || input.data.count > Self.maximumBytes else { return .bytes(input.data) }
        let (data, decoders) = (input.data, decoders)
        return .bytes(try await BlockingWork.run { try Self.shrink(data, decoders: decoders) })
    }

    /// A JPEG over 5 MB, decoded at half scale (then a quarter…), turned upright, re-encoded at quality 90;
    /// another format decoded whole and encoded as JPEG at quality 90, halved until it is at most 5 MB.
    static func shrink(_ data: Data, decoders: PhotoDecoders = .standard) throws -> Data {
        if let decoder = try decoders.decoder(for: data) {
            var buffer = try PhotoDecoders.decode(data, by: decoder, maximumPixels: nil, pixelLimit: 100_000_000, budget: DecodeBudget()).buffer
            for _ in 0..<4 {
                let encoded = try TurboJPEG.encode(buffer, quality: 90)
                if encoded.count <= maximumBytes { return encoded }
                buffer = buffer.resampled(region: (0, 0, Double(buffer.width), Double(buffer.height)), toWidth: max(buffer.width / 2, 1), height: max(buffer.height / 2, 1))
            }
            throw FaceServiceError.imageTooLarge(detail: "still over 5 MB as a JPEG at 1/8 scale")
        }
        let header = try JPEGHeader(parsing: data)
        for factor in [(1, 2), (1, 4), (1, 8)] {
            let decoded = try TurboJPEG.decode(data, header: header, factor: factor)
            let upright = decoded.buffer.oriented(header.orientation)
            let encoded = try TurboJPEG.encode(upright, quality: 90)
            if encoded.count <= maximumBytes { return encoded }
        }
        throw FaceServiceError.imageTooLarge(detail: "still over 5 MB at 1/8 scale")
    }
}

/// The ``FaceIndex`` on a Rekognition collection: IndexFaces, SearchFaces, SearchFacesByImage, DeleteFaces.
/// Each call is one request; the image calls are billed per image (Rekognition price group 1).
public struct RekognitionFaceIndex: FaceIndex {
    public let rekognition: RekognitionClient
    public let collectionID: String
    var images: RekognitionImages

    /// - Parameter s3Buckets: buckets in the Rekognition region whose photos are sent by reference.
    public init(rekognition: RekognitionClient, collectionID: String, s3Buckets: Set<String> = []) {
        self.rekognition = rekognition
        self.collectionID = collectionID
        self.images = RekognitionImages(buckets: s3Buckets)
    }

    /// Creates the collection; success when it exists already.
    public func createCollection() async throws {
        do {
            _ = try await rekognition.createCollection(.init(CollectionId: collectionID))
        } catch let error as AWSServiceError where error.code == "ResourceAlreadyExistsException" {
            // Set-up is idempotent.
        }
    }

    public func indexFaces(in image: ImageInput, externalImageID: String, options: IndexOptions) async throws -> IndexedFaces {
        let response = try await mapping {
            try await rekognition.indexFaces(.init(
                CollectionId: collectionID, Image: try await images.image(image), ExternalImageId: externalImageID,
                DetectionAttributes: ["DEFAULT"], MaxFaces: options.maxFaces, QualityFilter: options.qualityFilter.rawValue))
        }
        let indexed = (response.FaceRecords ?? []).compactMap { record -> IndexedFace? in
            guard let id = record.Face?.FaceId, let detail = record.FaceDetail ?? record.Face.map({ Rekognition.FaceDetail(BoundingBox: $0.BoundingBox, Confidence: $0.Confidence) }) else { return nil }
            return IndexedFace(faceID: FaceID(rawValue: id), face: Self.face(detail))
        }
        let unindexed = (response.UnindexedFaces ?? []).compactMap { face in
            face.FaceDetail.map { UnindexedFace(face: Self.face($0), reasons: face.Reasons ?? []) }
        }
        return IndexedFaces(indexed: indexed, unindexed: unindexed)
    }

    public func searchFaces(matching faceID: FaceID, options: SearchOptions) async throws -> [FaceMatch] {
        let response = try await mapping {
            try await rekognition.searchFaces(.init(
                CollectionId: collectionID, FaceId: faceID.rawValue, MaxFaces: options.maxMatches, FaceMatchThreshold: options.threshold))
        }
        return Self.matches(response.FaceMatches)
    }

    /// Rekognition answers InvalidParameterException when the image holds no face; that is an empty result here.
    public func searchFaces(byImage image: ImageInput, options: SearchOptions) async throws -> ImageSearchResult {
        do {
            let response = try await mapping {
                try await rekognition.searchFacesByImage(.init(
                    CollectionId: collectionID, Image: try await images.image(image), MaxFaces: options.maxMatches, FaceMatchThreshold: options.threshold))
            }
            return ImageSearchResult(searchedFace: response.SearchedFaceBoundingBox.map(Self.box), matches: Self.matches(response.FaceMatches))
        } catch FaceServiceError.invalidRequest {
            return ImageSearchResult(searchedFace: nil, matches: [])
        }
    }

    /// Faces that belong to a user (the ``CallPlan/users`` plan) are disassociated first: Rekognition refuses
    /// to delete them otherwise (`ASSOCIATED_TO_AN_EXISTING_USER`).
    public func deleteFaces(_ faceIDs: [FaceID]) async throws {
        for start in stride(from: 0, to: faceIDs.count, by: 4096) {
            let chunk = faceIDs[start..<min(start + 4096, faceIDs.count)].map(\.rawValue)
            let response = try await mapping { try await rekognition.deleteFaces(.init(CollectionId: collectionID, FaceIds: chunk)) }
            var associated: [String: [String]] = [:]
            for failure in response.UnsuccessfulFaceDeletions ?? [] {
                guard let face = failure.FaceId, let user = failure.UserId,
                      (failure.Reasons ?? []).contains("ASSOCIATED_TO_AN_EXISTING_USER") else { continue }
                associated[user, default: []].append(face)
            }
            guard !associated.isEmpty else { continue }
            for (user, faces) in associated.sorted(by: { $0.key < $1.key }) {
                for part in stride(from: 0, to: faces.count, by: 100) {
                    let ids = Array(faces[part..<min(part + 100, faces.count)])
                    _ = try await mapping {
                        try await rekognition.disassociateFaces(.init(
                            CollectionId: collectionID, UserId: user, FaceIds: ids,
                            ClientRequestToken: Self.token("disassociate", collectionID, user, ids.joined(separator: ","))))
                    }
                }
            }
            let retry = associated.values.flatMap { $0 }.sorted()
            _ = try await mapping { try await rekognition.deleteFaces(.init(CollectionId: collectionID, FaceIds: retry)) }
        }
    }

    /// A Rekognition idempotency token (1–64 of `[a-zA-Z0-9-_]`) derived from what the request does, so a
    /// retried request repeats its token and a different request never reuses one.
    static func token(_ parts: String...) -> String {
        Base32.digest(of: parts.joined(separator: "\u{0}"), characters: 40)
    }

    /// Rekognition's errors in the port's terms; throttling and outages stay retryable AWS errors.
    func mapping<T>(_ call: () async throws -> T) async throws -> T {
        do {
            return try await call()
        } catch let error as AWSServiceError {
            throw Self.faceServiceError(error, collection: collectionID, region: rekognition.client.configuration.region)
        }
    }

    static func faceServiceError(_ error: AWSServiceError, collection: String, region: String) -> any Error {
        switch error.code {
        case "InvalidImageFormatException": FaceServiceError.invalidImage(detail: error.description)
        case "InvalidS3ObjectException": FaceServiceError.invalidImage(detail: "Rekognition cannot read the S3 object: \(error.description)")
        case "ImageTooLargeException": FaceServiceError.imageTooLarge(detail: error.description)
        case "InvalidParameterException": FaceServiceError.invalidRequest(detail: error.description)
        case "ResourceNotFoundException":
            FaceServiceError.setup(detail: "no Rekognition collection '\(collection)' in \(region): create it (RekognitionFaceIndex.createCollection, or `aws rekognition create-collection --collection-id \(collection) --region \(region)`)")
        case "AccessDeniedException":
            FaceServiceError.setup(detail: "access denied by Rekognition in \(region) — the role needs rekognition permissions on collection '\(collection)': \(error.description)")
        default: error
        }
    }

    static func box(_ box: Rekognition.BoundingBox) -> BoundingBox {
        BoundingBox(left: box.Left ?? 0, top: box.Top ?? 0, width: box.Width ?? 0, height: box.Height ?? 0)
    }

    static func face(_ detail: Rekognition.FaceDetail) -> DetectedFace {
        DetectedFace(
            boundingBox: detail.BoundingBox.map(box) ?? BoundingBox(left: 0, top: 0, width: 0, height: 0),
            confidence: detail.Confidence ?? 0,
            landmarks: (detail.Landmarks ?? []).map { Landmark(type: $0.Type ?? "", x: $0.X ?? 0, y: $0.Y ?? 0) },
            pose: detail.Pose.map { Pose(roll: $0.Roll ?? 0, yaw: $0.Yaw ?? 0, pitch: $0.Pitch ?? 0) },
            quality: detail.Quality.map { FaceQuality(brightness: $0.Brightness ?? 0, sharpness: $0.Sharpness ?? 0) })
    }

    static func matches(_ matches: [Rekognition.FaceMatch]?) -> [FaceMatch] {
        (matches ?? []).compactMap { match in
            match.Face?.FaceId.map { FaceMatch(faceID: FaceID(rawValue: $0), similarity: match.Similarity ?? 0, externalImageID: match.Face?.ExternalImageId) }
        }
    }
}

/// The person vectors of the ``CallPlan/users`` plan are Rekognition users: the user id is the person id.
extension RekognitionFaceIndex: PersonVectorIndex {
    /// DisassociateFaces, 100 faces a call, each with an idempotency token; a user that does not exist has
    /// nothing to take out.
    public func disassociate(_ faceIDs: [FaceID], from person: PersonID) async throws {
        for start in stride(from: 0, to: faceIDs.count, by: 100) {
            let ids = faceIDs[start..<min(start + 100, faceIDs.count)].map(\.rawValue)
            do {
                _ = try await rekognition.disassociateFaces(.init(
                    CollectionId: collectionID, UserId: person.rawValue, FaceIds: ids,
                    ClientRequestToken: Self.token("disassociate", collectionID, person.rawValue, ids.joined(separator: ","))))
            } catch let error as AWSServiceError where error.code == "ResourceNotFoundException" {
                return
            } catch let error as AWSServiceError {
                throw Self.faceServiceError(error, collection: collectionID, region: rekognition.client.configuration.region)
            }
        }
    }

    /// SearchUsers by face id.
    public func searchPeople(matching faceID: FaceID, options: SearchOptions) async throws -> [PersonMatch] {
        let response = try await mapping {
            try await rekognition.searchUsers(.init(
                CollectionId: collectionID, FaceId: faceID.rawValue, UserMatchThreshold: options.threshold,
                MaxUsers: min(max(options.maxMatches, 1), 500)))
        }
        return (response.UserMatches ?? []).compactMap { match in
            match.User?.UserId.map { PersonMatch(personID: PersonID(rawValue: $0), similarity: match.Similarity ?? 0) }
        }
    }

    /// CreateUser (when new; Conflict means it exists) and AssociateFaces, 100 faces a call, each with an
    /// idempotency token. A user that holds 100 faces already (ServiceQuotaExceeded) keeps the ones it has.
    public func associate(_ faceIDs: [FaceID], with person: PersonID, creatingPerson: Bool) async throws {
        if creatingPerson { try await createUser(person) }
        for start in stride(from: 0, to: faceIDs.count, by: 100) {
            let ids = faceIDs[start..<min(start + 100, faceIDs.count)].map(\.rawValue)
            let request = Rekognition.AssociateFacesRequest(
                CollectionId: collectionID, UserId: person.rawValue, FaceIds: ids, UserMatchThreshold: nil,
                ClientRequestToken: Self.token("associate", collectionID, person.rawValue, ids.joined(separator: ",")))
            do {
                _ = try await rekognition.associateFaces(request)
            } catch let error as AWSServiceError where error.code == "ServiceQuotaExceededException" {
                return
            } catch let error as AWSServiceError where error.code == "ResourceNotFoundException" && !creatingPerson {
                // A person from before this plan was chosen: its user is created on first use.
                try await createUser(person)
                _ = try await mapping { try await rekognition.associateFaces(request) }
            } catch let error as AWSServiceError {
                throw Self.faceServiceError(error, collection: collectionID, region: rekognition.client.configuration.region)
            }
        }
    }

    private func createUser(_ person: PersonID) async throws {
        do {
            _ = try await mapping {
                try await rekognition.createUser(.init(
                    CollectionId: collectionID, UserId: person.rawValue, ClientRequestToken: Self.token("create", collectionID, person.rawValue)))
            }
        } catch let error as AWSServiceError where error.code == "ConflictException" {
            // The user exists: set-up is idempotent.
        }
    }
}

/// The ``FaceDetector`` on Rekognition DetectFaces (price group 2), largest face first.
public struct RekognitionFaceDetector: FaceDetector {
    public let rekognition: RekognitionClient
    var images: RekognitionImages

    public init(rekognition: RekognitionClient, s3Buckets: Set<String> = []) {
        self.rekognition = rekognition
        self.images = RekognitionImages(buckets: s3Buckets)
    }

    public func detectFaces(in image: ImageInput) async throws -> [DetectedFace] {
        let response: Rekognition.DetectFacesResponse
        do {
            response = try await rekognition.detectFaces(.init(Image: try await images.image(image), Attributes: ["DEFAULT"]))
        } catch let error as AWSServiceError {
            throw RekognitionFaceIndex.faceServiceError(error, collection: "-", region: rekognition.client.configuration.region)
        }
        return (response.FaceDetails ?? []).map(RekognitionFaceIndex.face)
            .sorted { $0.boundingBox.width * $0.boundingBox.height > $1.boundingBox.width * $1.boundingBox.height }
    }
}

extension RekognitionFaceIndex: FaceListing {
    /// One ListFaces request (`MaxResults` ≤ 4,096; not billed per image).
    public func listFaces(continuationToken: String?, limit: Int) async throws -> IndexedFaceListing {
        let response = try await mapping {
            try await rekognition.listFaces(.init(CollectionId: collectionID, NextToken: continuationToken, MaxResults: min(max(limit, 1), 4096)))
        }
        let faces = (response.Faces ?? []).compactMap { face in
            face.FaceId.map { IndexedFaceListing.Entry(faceID: FaceID(rawValue: $0), externalImageID: face.ExternalImageId) }
        }
        return IndexedFaceListing(faces: faces, continuationToken: response.NextToken)
    }
}
