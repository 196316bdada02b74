#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The HTTP API over a ``Gallery``, independent of what carries it: routes, input checks, answers and errors
/// are those of `Docs/openapi.yaml`. Two adapters carry it: the API Lambda (API Gateway HTTP API events) and
/// `facecluster serve` (Hummingbird). Every error has one shape, `{"error": {"code", "message"}}`, and a 500
/// never says more than the request id.
///
/// Authentication, CORS and where image URLs point are the adapters' (API Gateway's JWT authorizer and S3
/// presigned URLs on AWS; a bearer token and HMAC-signed URLs locally).
public struct GalleryAPI: Sendable {
    public let gallery: Gallery
    /// Merge suggestions and explanations (from the stored face graph); without it those routes answer 404.
    public var review: GroupingReview?
    /// Where `POST /photos` puts an upload; without it that route answers 404.
    public var uploads: PhotoUploads?
    /// How long the image URLs in answers stay valid.
    public var urlExpiry: Duration
    /// Reads the photo out of a `multipart/form-data` body (body, content type, file name → bytes, file name);
    /// without one, forms are refused (415) and a photo is sent as the body itself (the Lambda).
    public var formParser: (@Sendable (Data, String, String?) throws -> (Data, String?))?
    /// Called once per request with the route matched (`GET /people/{personId}`) and the error of a 500.
    public var onError: @Sendable (_ route: String, _ error: any Error) -> Void

    public static let defaultLimit = 20
    public static let maximumLimit = 100
    /// The largest JSON body a route reads: 64 KB.
    public static let maximumJSONBody = 64 * 1024
    /// A JSON body over ``maximumJSONBody``: 413 (RFC 9110 §15.5.14), as a transport that stops reading early answers it too.
    public static let bodyTooLarge = Problem(status: 413, code: "body_too_large", message: "the JSON body is larger than 64 KB")

    public init(
        gallery: Gallery, review: GroupingReview? = nil, uploads: PhotoUploads? = nil, urlExpiry: Duration = Gallery.defaultURLExpiry,
        onError: @escaping @Sendable (String, any Error) -> Void = { _, _ in }
    ) {
        self.gallery = gallery
        self.review = review
        self.uploads = uploads
        self.urlExpiry = urlExpiry
        self.onError = onError
    }

    /// Every route served (Docs/openapi.yaml documents exactly these).
    public static let routes: [(method: String, path: String)] = [
        ("GET", "/people"), ("GET", "/people/{personId}"), ("PATCH", "/people/{personId}"), ("DELETE", "/people/{personId}"),
        ("GET", "/people/{personId}/photos"), ("POST", "/people/{personId}/merge"),
        ("GET", "/photos"), ("POST", "/photos"), ("GET", "/photos/{photoId}"), ("DELETE", "/photos/{photoId}"),
        ("GET", "/faces/unassigned"), ("PUT", "/faces/{faceId}"), ("POST", "/faces/{faceId}/person"), ("GET", "/faces/{faceId}/explanation"),
        ("GET", "/suggestions"), ("GET", "/operations"), ("POST", "/operations/{operationId}/undo"),
    ]

    /// The route template whose literal segments match `segments` (`{…}` matches any one segment; a literal
    /// segment wins over a parameter: `/faces/unassigned` before `/faces/{faceId}`).
    public static func template(matching segments: [String]) -> String? {
        templatesByPrecedence.first { parts in
            parts.count == segments.count && zip(parts, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }.map { "/" + $0.joined(separator: "/") }
    }

    private static let templatesByPrecedence: [[String]] = Set(routes.map(\.path))
        .map { $0.split(separator: "/").map(String.init) }
        .sorted { first, second in
            let (a, b) = (first.filter { $0.hasPrefix("{") }.count, second.filter { $0.hasPrefix("{") }.count)
            return a != b ? a < b : first.joined(separator: "/") < second.joined(separator: "/")
        }

    /// The answer to `request`, and the route it matched (`GET /people/{personId}`, `unknown`, `OPTIONS`) for logs and metrics.
    public func respond(to request: APIRequest) async -> (route: String, response: APIResponse) {
        // HEAD is GET without the body (RFC 9110 §9.3.2): the transport sends the headers only.
        let method = request.method == "HEAD" ? "GET" : request.method
        let segments = request.segments
        if method == "OPTIONS" { return ("OPTIONS", APIResponse(status: 204)) }
        guard let template = Self.template(matching: segments) else {
            return ("unknown", Self.error(404, "not_found", "no such route: \(method) \(request.path)"))
        }
        let methods = Self.routes.filter { $0.path == template }.map(\.method)
        let name = "\(method) \(template)"
        guard methods.contains(method) else {
            let allowed = methods + (methods.contains("GET") ? ["HEAD"] : [])
            var response = Self.error(405, "method_not_allowed", "\(template) allows \(allowed.joined(separator: ", "))")
            response.headers["allow"] = allowed.joined(separator: ", ")
            return (name, response)
        }
        do {
            return (name, try await dispatch(name, segments, request))
        } catch {
            if let answer = Self.response(for: error) { return (name, answer) }
            onError(name, error)
            return (name, Self.error(500, "internal_error", "something went wrong on our side; request id \(request.requestID)"))
        }
    }

    /// The 4xx a failure means for a client, or `nil` for one that is ours (a 500).
    static func response(for error: any Error) -> APIResponse? {
        switch error {
        case let problem as Problem: return Self.error(problem)
        case let error as GalleryError:
            switch error {
            case .personNotFound: return Self.error(404, "person_not_found", error.description)
            case .photoNotFound: return Self.error(404, "photo_not_found", error.description)
            case .photoBusy: return Self.error(409, "photo_busy", error.description)
            case .invalidName: return Self.error(400, "invalid_name", error.description)
            case .invalidMerge: return Self.error(400, "invalid_merge", error.description)
            case .invalidMove: return Self.error(400, "invalid_move", error.description)
            case .alreadyWith: return Self.error(400, "invalid_move", error.description)
            case .mergedAway: return Self.error(409, "merged_away", error.description)
            case .faceNotFound: return Self.error(404, "face_not_found", error.description)
            }
        case let error as UploadError:
            switch error {
            case .empty, .invalidMultipart: return Self.error(400, "invalid_upload", error.description)
            case .tooLarge: return Self.error(413, "upload_too_large", error.description)
            case .unsupportedType: return Self.error(415, "unsupported_media_type", error.description)
            case .deleted: return Self.error(409, "photo_deleted", error.description)
            }
        case MetadataStoreError.invalidCursor:
            return Self.error(400, "invalid_cursor", "the cursor does not belong to this listing (pass nextCursor back unchanged)")
        case MetadataStoreError.personNotFound(let id):
            return Self.error(404, "person_not_found", "no person \(id)")
        case let error as PeopleOperationError:
            switch error {
            case .notFound: return Self.error(404, "operation_not_found", error.description)
            case .nothingToUndo, .notApplied, .conflict: return Self.error(409, "undo_conflict", error.description)
            }
        default: return nil
        }
    }

    private func dispatch(_ route: String, _ segments: [String], _ request: APIRequest) async throws -> APIResponse {
        switch route {
        case "GET /people":
            let page = try await gallery.people(page: try pageRequest(request))
            return try Self.json(200, PeoplePage(people: try await page.items.asyncMap(output), nextCursor: page.nextCursor?.rawValue))
        case "GET /people/{personId}":
            return try Self.json(200, try await output(try await gallery.person(try personID(segments[1]))))
        case "PATCH /people/{personId}":
            // `{"name": null}` clears the name; `{}` or a misspelt key is refused, not taken as null.
            struct Body: Decodable {
                var name: String?
                init(from decoder: any Decoder) throws { name = try decoder.container(keyedBy: CodingKeys.self).decode(String?.self, forKey: .name) }
                enum CodingKeys: CodingKey { case name }
            }
            let body: Body = try decodeBody(request)
            return try Self.json(200, try await output(try await gallery.rename(try personID(segments[1]), to: body.name)))
        case "DELETE /people/{personId}":
            let id = try personID(segments[1])
            let removed = try await gallery.forget(id)
            return try Self.json(200, ForgetOutput(personId: id.rawValue, facesRemoved: removed))
        case "GET /people/{personId}/photos":
            let id = try personID(segments[1])
            let page = try await gallery.photos(of: id, page: try pageRequest(request))
            return try Self.json(200, PhotosPage(photos: try await page.items.asyncMap(output), nextCursor: page.nextCursor?.rawValue))
        case "POST /people/{personId}/merge":
            struct Body: Decodable { var from: String }
            let body: Body = try decodeBody(request)
            let target = try personID(segments[1])
            return try Self.json(200, try await output(try await gallery.merge(try personID(body.from), into: target)))
        case "GET /photos":
            var status: PhotoStatus.Kind?
            if let text = request.query["status"] {
                guard let kind = PhotoStatus.Kind(rawValue: text), kind != .deleted else {
                    let kinds = PhotoStatus.Kind.allCases.filter { $0 != .deleted }.map(\.rawValue).joined(separator: ", ")
                    throw Problem(status: 400, code: "invalid_status", message: "status must be one of \(kinds)")
                }
                status = kind
            }
            let page = try await gallery.photos(withStatus: status, page: try pageRequest(request))
            return try Self.json(200, PhotoListPage(photos: try await page.items.asyncMap(summary), nextCursor: page.nextCursor?.rawValue))
        case "POST /photos":
            guard let uploads else { throw Problem(status: 404, code: "not_found", message: "uploads are not configured") }
            var (data, fileName) = (request.body, request.query["filename"])
            if let type = request.headers["content-type"], type.lowercased().hasPrefix("multipart/form-data") {
                guard let formParser else { throw UploadError.unsupportedType("a multipart form (send the photo itself as the body)") }
                let (body, name) = (request.body, fileName)
                // Parsed on an IO thread: not on Swift's cooperative threads (tens of MB), nor behind face analyses.
                (data, fileName) = try await BlockingWork.io { try formParser(body, type, name) }
            }
            let upload = try await uploads.upload(data, fileName: fileName)
            // Sent before: the photo as it is now, with its faces.
            let detail = upload.created ? nil : try? await gallery.photo(upload.photo.id)
            return try Self.json(upload.created ? 202 : 200, try await output(detail ?? PhotoDetail(photo: upload.photo, faces: [])))
        case "GET /photos/{photoId}":
            return try Self.json(200, try await output(try await gallery.photo(try photoID(segments[1]))))
        case "DELETE /photos/{photoId}":
            try await gallery.deletePhoto(try photoID(segments[1]))
            return APIResponse(status: 204)
        case "GET /faces/unassigned":
            let page = try await gallery.unassignedFaces(page: try pageRequest(request))
            var faces: [FaceOutput] = []
            for group in page.items {
                for item in try await Page.all(pageSize: 100, { try await gallery.faces(of: group.id, page: $0) }) {
                    faces.append(try await output(item).face)
                }
            }
            return try Self.json(200, UnassignedPage(faces: faces, nextCursor: page.nextCursor?.rawValue))
        case "PUT /faces/{faceId}":
            // `{"personId": null}` moves the face to a new person; `{}` is refused, not taken as null.
            struct Body: Decodable {
                var personId: String?
                init(from decoder: any Decoder) throws { personId = try decoder.container(keyedBy: CodingKeys.self).decode(String?.self, forKey: .personId) }
                enum CodingKeys: CodingKey { case personId }
            }
            let body: Body = try decodeBody(request)
            let face = try faceID(segments[1]), target = try body.personId.map(personID)
            do {
                return try Self.json(200, try await output(try await gallery.move(face, to: target)))
            } catch GalleryError.alreadyWith(_, let person) {
                // PUT is idempotent (RFC 9110 §9.2.2): a retried move finds the face where it asked for it.
                return try Self.json(200, try await output(try await gallery.person(person)))
            }
        case "POST /faces/{faceId}/person":
            struct Body: Decodable { var name: String? }
            let body: Body = request.body.isEmpty ? Body() : try decodeBody(request)
            return try Self.json(200, try await output(try await gallery.makePerson(from: try faceID(segments[1]), name: body.name)))
        case "GET /faces/{faceId}/explanation":
            guard let review else { throw Problem(status: 404, code: "not_found", message: "explanations are not configured") }
            return try Self.json(200, ExplanationOutput(try await review.explain(try faceID(segments[1]))))
        case "GET /suggestions":
            guard let review else { throw Problem(status: 404, code: "not_found", message: "suggestions are not configured") }
            let limit = try pageRequest(request).limit
            var suggestions: [SuggestionOutput] = []
            for suggestion in try await review.suggestions(limit: limit) {
                suggestions.append(SuggestionOutput(
                    first: try await output(suggestion.first), second: try await output(suggestion.second), similarity: suggestion.similarity,
                    pairs: suggestion.pairs, reason: suggestion.reason))
            }
            return try Self.json(200, SuggestionsOutput(suggestions: suggestions))
        case "GET /operations":
            let page = try await gallery.history(page: try pageRequest(request))
            return try Self.json(200, OperationsPage(operations: page.items.map(OperationOutput.init), nextCursor: page.nextCursor?.rawValue))
        case "POST /operations/{operationId}/undo":
            let id = segments[1]
            // As the spec's pattern (^op_[0-9a-z]+$): a decoded `/` or `..` is a 400, not a 404 naming it.
            guard PeopleOperation.isWellFormedID(id) else {
                throw Problem(status: 400, code: "invalid_id", message: "'\(id)' is not an operation id (op_ and lowercase letters and digits)")
            }
            return try Self.json(200, OperationOutput(try await gallery.undo(id)))
        default:
            throw Problem(status: 404, code: "not_found", message: "no such route: \(route)")
        }
    }

    // MARK: Input

    /// A client's mistake, answered with `status` and `{"error": {"code", "message"}}`.
    public struct Problem: Error, Sendable {
        public var status: Int
        public var code: String
        public var message: String

        public init(status: Int, code: String, message: String) {
            self.status = status
            self.code = code
            self.message = message
        }
    }

    func personID(_ text: String) throws -> PersonID {
        guard let id = PersonID(validating: text) else { throw Problem(status: 400, code: "invalid_id", message: "'\(text)' is not a person id (p_ and 26 base32 characters)") }
        return id
    }

    /// Rekognition face ids are UUIDs; the local engine's are `f_` and hex: 1–64 letters, digits, `-` and `_`.
    func faceID(_ text: String) throws -> FaceID {
        guard (1...64).contains(text.count), text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw Problem(status: 400, code: "invalid_id", message: "'\(text)' is not a face id")
        }
        return FaceID(rawValue: text)
    }

    func photoID(_ text: String) throws -> PhotoID {
        guard let id = PhotoID(validating: text) else { throw Problem(status: 400, code: "invalid_id", message: "'\(text)' is not a photo id (ph_ and 26 base32 characters)") }
        return id
    }

    func pageRequest(_ request: APIRequest) throws -> PageRequest {
        var limit = Self.defaultLimit
        if let text = request.query["limit"] {
            guard let value = Int(text), (1...Self.maximumLimit).contains(value) else {
                throw Problem(status: 400, code: "invalid_limit", message: "limit must be a whole number from 1 to \(Self.maximumLimit)")
            }
            limit = value
        }
        let cursor = request.query["cursor"].map { PageCursor(rawValue: $0) }
        if let cursor, cursor.rawValue.isEmpty || cursor.rawValue.count > 2048 {
            throw Problem(status: 400, code: "invalid_cursor", message: "the cursor does not belong to this listing (pass nextCursor back unchanged)")
        }
        return PageRequest(limit: limit, cursor: cursor)
    }

    func decodeBody<T: Decodable>(_ request: APIRequest) throws -> T {
        guard !request.body.isEmpty else { throw Problem(status: 400, code: "invalid_body", message: "a JSON body is required") }
        guard request.body.count <= Self.maximumJSONBody else { throw Self.bodyTooLarge }
        do {
            return try JSONDecoder().decode(T.self, from: request.body)
        } catch {
            throw Problem(status: 400, code: "invalid_body", message: "the body is not the expected JSON: \(Self.reason(error))")
        }
    }

    static func reason(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, _): "missing \"\(key.stringValue)\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "wrong type at \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\""
        default: "not valid JSON"
        }
    }

    // MARK: Output

    func output(_ person: Person) async throws -> PersonOutput {
        PersonOutput(
            id: person.id.rawValue, name: person.name, photoCount: person.photoCount, faceCount: person.faceCount,
            coverThumbnailUrl: try await person.coverThumbnailKey.asyncMap { try await gallery.thumbnailURL(for: $0, expiresIn: urlExpiry).absoluteString },
            createdAt: person.createdAt, updatedAt: person.updatedAt, unassigned: !gallery.isListed(person))
    }

    func output(_ item: PersonPhoto) async throws -> PersonPhotoOutput {
        PersonPhotoOutput(
            photoId: item.photo.id.rawValue, url: try await gallery.photoURL(for: item.photo, expiresIn: urlExpiry).absoluteString,
            addedAt: item.photo.addedAt,
            face: FaceOutput(
                faceId: item.appearance.faceID.rawValue, personId: item.appearance.personID.rawValue, personName: nil, unassigned: nil,
                boundingBox: item.appearance.boundingBox,
                thumbnailUrl: try await gallery.thumbnailURL(for: item.appearance.thumbnailKey, expiresIn: urlExpiry).absoluteString))
    }

    func output(_ detail: PhotoDetail) async throws -> PhotoOutput {
        PhotoOutput(
            id: detail.photo.id.rawValue, name: detail.photo.name, status: detail.photo.status.kind.rawValue,
            url: try await gallery.photoURL(for: detail.photo, expiresIn: urlExpiry).absoluteString,
            width: detail.photo.width, height: detail.photo.height, addedAt: detail.photo.addedAt,
            failure: FailureOutput(detail.photo.status),
            faces: try await detail.faces.asyncMap { face in
                FaceOutput(
                    faceId: face.appearance.faceID.rawValue, personId: face.person.id.rawValue, personName: face.person.name,
                    unassigned: !gallery.isListed(face.person), boundingBox: face.appearance.boundingBox,
                    thumbnailUrl: try await gallery.thumbnailURL(for: face.appearance.thumbnailKey, expiresIn: urlExpiry).absoluteString)
            })
    }

    func summary(_ photo: Photo) async throws -> PhotoSummaryOutput {
        PhotoSummaryOutput(
            id: photo.id.rawValue, name: photo.name, status: photo.status.kind.rawValue,
            url: try await gallery.photoURL(for: photo, expiresIn: urlExpiry).absoluteString,
            faceCount: photo.faceIDs.count, addedAt: photo.addedAt, updatedAt: photo.updatedAt, failure: FailureOutput(photo.status))
    }

    static func json(_ status: Int, _ value: some Encodable) throws -> APIResponse {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return APIResponse(status: status, headers: ["content-type": "application/json"], body: try encoder.encode(value))
    }

    /// The answer for `problem`, in the error shape.
    public static func error(_ problem: Problem) -> APIResponse { error(problem.status, problem.code, problem.message) }

    /// An answer in the error shape: `{"error": {"code", "message"}}`.
    public static func error(_ status: Int, _ code: String, _ message: String) -> APIResponse {
        (try? json(status, ErrorOutput(error: .init(code: code, message: message)))) ?? APIResponse(status: status)
    }
}

extension Photo {
    /// The file name a person knows the photo by: the last segment of its key.
    public var name: String { reference.key.split(separator: "/").last.map(String.init) ?? reference.key }
}
