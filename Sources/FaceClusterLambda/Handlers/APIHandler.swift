import FaceClusterKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging

/// The API function behind the HTTP API (payload format 2.0). Routes, shapes and errors are those of
/// `Docs/openapi.yaml`; every error has one shape, `{"error": {"code", "message"}}`, and a 500 never says
/// more than the request id.
struct APIHandler: LambdaHandler {
    let gallery: Gallery
    let configuration: LambdaConfiguration
    /// Merge suggestions and explanations (from the stored face graph).
    var review: GroupingReview?

    static let defaultLimit = 20
    static let maximumLimit = 100

    func handle(_ event: Data, invocation: Invocation, logger: Logger) async throws -> Data {
        let started = ContinuousClock.now
        let response: APIGatewayV2Response
        var route = "?"
        var method = "?"
        if let request = try? JSONDecoder().decode(APIGatewayV2Request.self, from: event) {
            method = request.requestContext.http.method.uppercased()
            (route, response) = await respond(to: request, requestID: invocation.requestID, logger: logger)
        } else {
            response = Self.error(400, "invalid_request", "the event is not an API Gateway HTTP API request (payload 2.0)")
        }
        Metrics.request(method: method, route: route, status: response.statusCode, duration: ContinuousClock.now - started, logger: logger)
        return try JSONEncoder().encode(withCORS(response))
    }

    /// The route matched (for logs) and the answer.
    func respond(to request: APIGatewayV2Request, requestID: String, logger: Logger) async -> (String, APIGatewayV2Response) {
        let method = request.requestContext.http.method.uppercased()
        let segments = request.rawPath.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if method == "OPTIONS" { return ("OPTIONS", APIGatewayV2Response(statusCode: 204, headers: [:], body: nil, isBase64Encoded: false)) }
        guard let template = Self.template(matching: segments) else {
            return ("unknown", Self.error(404, "not_found", "no such route: \(method) \(request.rawPath)"))
        }
        let route = (name: template, methods: Self.routes.filter { $0.path == template }.map(\.method))
        guard route.methods.contains(method) else {
            var response = Self.error(405, "method_not_allowed", "\(route.name) allows \(route.methods.joined(separator: ", "))")
            response.headers?["allow"] = route.methods.joined(separator: ", ")
            return ("\(method) \(route.name)", response)
        }
        let name = "\(method) \(route.name)"
        do {
            return (name, try await dispatch(name, segments, request))
        } catch let problem as Problem {
            return (name, Self.error(problem.status, problem.code, problem.message))
        } catch let error as GalleryError {
            return (name, Self.error(error))
        } catch MetadataStoreError.invalidCursor {
            return (name, Self.error(400, "invalid_cursor", "the cursor does not belong to this listing (pass nextCursor back unchanged)"))
        } catch MetadataStoreError.personNotFound(let id) {
            return (name, Self.error(404, "person_not_found", "no person \(id)"))
        } catch let error as PeopleOperationError {
            switch error {
            case .notFound: return (name, Self.error(404, "operation_not_found", error.description))
            case .nothingToUndo, .notApplied, .conflict: return (name, Self.error(409, "undo_conflict", error.description))
            }
        } catch {
            logger.error("request failed", metadata: ["route": "\(name)", "error": "\(error)"])
            return (name, Self.error(500, "internal_error", "something went wrong on our side; request id \(requestID)"))
        }
    }

    /// Every route served (Docs/openapi.yaml documents exactly these).
    static let routes: [(method: String, path: String)] = [
        ("GET", "/people"), ("GET", "/people/{personId}"), ("PATCH", "/people/{personId}"), ("DELETE", "/people/{personId}"),
        ("GET", "/people/{personId}/photos"), ("POST", "/people/{personId}/merge"),
        ("GET", "/photos/{photoId}"), ("DELETE", "/photos/{photoId}"),
        ("GET", "/faces/unassigned"), ("PUT", "/faces/{faceId}"), ("POST", "/faces/{faceId}/person"), ("GET", "/faces/{faceId}/explanation"),
        ("GET", "/suggestions"), ("GET", "/operations"), ("POST", "/operations/{operationId}/undo"),
    ]

    /// The route template whose literal segments match `segments` (`{…}` matches any one segment; a literal
    /// segment wins over a parameter: `/faces/unassigned` before `/faces/{faceId}`).
    static func template(matching segments: [String]) -> String? {
        Set(routes.map(\.path)).sorted { $0.filter { $0 == "{" }.count != $1.filter { $0 == "{" }.count ? $0.filter { $0 == "{" }.count < $1.filter { $0 == "{" }.count : $0 < $1 }.first { template in
            let parts = template.split(separator: "/").map(String.init)
            return parts.count == segments.count && zip(parts, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }
    }

    private func dispatch(_ route: String, _ segments: [String], _ request: APIGatewayV2Request) async throws -> APIGatewayV2Response {
        switch route {
        case "GET /people":
            let page = try await gallery.people(page: try pageRequest(request))
            return try Self.json(200, PeoplePage(people: try await page.items.asyncMap(output), nextCursor: page.nextCursor?.rawValue))
        case "GET /people/{personId}":
            return try Self.json(200, try await output(try await gallery.person(try personID(segments[1]))))
        case "PATCH /people/{personId}":
            struct Body: Decodable { var name: String? }
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
        case "GET /photos/{photoId}":
            return try Self.json(200, try await output(try await gallery.photo(try photoID(segments[1]))))
        case "DELETE /photos/{photoId}":
            try await gallery.deletePhoto(try photoID(segments[1]))
            return APIGatewayV2Response(statusCode: 204, headers: [:], body: nil, isBase64Encoded: false)
        case "GET /faces/unassigned":
            let page = try await gallery.unassignedFaces(page: try pageRequest(request))
            var faces: [FaceOutput] = []
            for group in page.items {
                for item in try await Page.all(pageSize: 100, { try await gallery.photos(of: group.id, page: $0) }) {
                    faces.append(try await output(item).face)
                }
            }
            return try Self.json(200, UnassignedPage(faces: faces, nextCursor: page.nextCursor?.rawValue))
        case "PUT /faces/{faceId}":
            struct Body: Decodable { var personId: String? }
            let body: Body = try decodeBody(request)
            return try Self.json(200, try await output(try await gallery.move(try faceID(segments[1]), to: try body.personId.map(personID))))
        case "POST /faces/{faceId}/person":
            struct Body: Decodable { var name: String? }
            let body: Body = request.bodyData?.isEmpty == false ? try decodeBody(request) : Body()
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
            guard id.hasPrefix("op_"), id.count <= 64 else { throw Problem(status: 400, code: "invalid_id", message: "'\(id)' is not an operation id (op_…)") }
            return try Self.json(200, OperationOutput(try await gallery.undo(id)))
        default:
            throw Problem(status: 404, code: "not_found", message: "no such route: \(route)")
        }
    }

    // MARK: Input

    struct Problem: Error {
        var status: Int
        var code: String
        var message: String
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

    func pageRequest(_ request: APIGatewayV2Request) throws -> PageRequest {
        let query = request.queryStringParameters ?? [:]
        var limit = Self.defaultLimit
        if let text = query["limit"] {
            guard let value = Int(text), (1...Self.maximumLimit).contains(value) else {
                throw Problem(status: 400, code: "invalid_limit", message: "limit must be a whole number from 1 to \(Self.maximumLimit)")
            }
            limit = value
        }
        let cursor = query["cursor"].map { PageCursor(rawValue: $0) }
        if let cursor, cursor.rawValue.isEmpty || cursor.rawValue.count > 2048 {
            throw Problem(status: 400, code: "invalid_cursor", message: "the cursor does not belong to this listing (pass nextCursor back unchanged)")
        }
        return PageRequest(limit: limit, cursor: cursor)
    }

    func decodeBody<T: Decodable>(_ request: APIGatewayV2Request) throws -> T {
        guard let data = request.bodyData, !data.isEmpty else { throw Problem(status: 400, code: "invalid_body", message: "a JSON body is required") }
        guard data.count <= 64 * 1024 else { throw Problem(status: 400, code: "invalid_body", message: "the body is larger than 64 KB") }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw Problem(status: 400, code: "invalid_body", message: "the body is not the expected JSON: \(Self.reason(error))")
        }
    }

    static func reason(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, _): "missing \"\(key.stringValue)\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "wrong type at \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\""
        case .dataCorrupted: "not valid JSON"
        default: "not valid JSON"
        }
    }

    // MARK: Output

    func output(_ person: Person) async throws -> PersonOutput {
        PersonOutput(
            id: person.id.rawValue, name: person.name, photoCount: person.photoCount, faceCount: person.faceCount,
            coverThumbnailUrl: try await person.coverThumbnailKey.asyncMap { try await gallery.thumbnailURL(for: $0, expiresIn: configuration.urlExpiry).absoluteString },
            createdAt: person.createdAt, updatedAt: person.updatedAt)
    }

    func output(_ item: PersonPhoto) async throws -> PersonPhotoOutput {
        PersonPhotoOutput(
            photoId: item.photo.id.rawValue, url: try await gallery.photoURL(for: item.photo, expiresIn: configuration.urlExpiry).absoluteString,
            addedAt: item.photo.addedAt,
            face: FaceOutput(
                faceId: item.appearance.faceID.rawValue, personId: item.appearance.personID.rawValue, personName: nil,
                boundingBox: item.appearance.boundingBox,
                thumbnailUrl: try await gallery.thumbnailURL(for: item.appearance.thumbnailKey, expiresIn: configuration.urlExpiry).absoluteString))
    }

    func output(_ detail: PhotoDetail) async throws -> PhotoOutput {
        var failure: PhotoFailure?
        if case .failed(let reason) = detail.photo.status { failure = reason }
        return PhotoOutput(
            id: detail.photo.id.rawValue, status: detail.photo.status.kind.rawValue,
            url: try await gallery.photoURL(for: detail.photo, expiresIn: configuration.urlExpiry).absoluteString,
            width: detail.photo.width, height: detail.photo.height, addedAt: detail.photo.addedAt,
            failure: failure.map { FailureOutput(code: $0.code.rawValue, message: $0.message, retryable: $0.retryable) },
            faces: try await detail.faces.asyncMap { face in
                FaceOutput(
                    faceId: face.appearance.faceID.rawValue, personId: face.person.id.rawValue, personName: face.person.name,
                    boundingBox: face.appearance.boundingBox,
                    thumbnailUrl: try await gallery.thumbnailURL(for: face.appearance.thumbnailKey, expiresIn: configuration.urlExpiry).absoluteString)
            })
    }

    static func json(_ status: Int, _ value: some Encodable) throws -> APIGatewayV2Response {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return APIGatewayV2Response(
            statusCode: status, headers: ["content-type": "application/json"], body: String(decoding: try encoder.encode(value), as: UTF8.self),
            isBase64Encoded: false)
    }

    static func error(_ status: Int, _ code: String, _ message: String) -> APIGatewayV2Response {
        (try? json(status, ErrorOutput(error: .init(code: code, message: message))))
            ?? APIGatewayV2Response(statusCode: status, headers: [:], body: nil, isBase64Encoded: false)
    }

    static func error(_ error: GalleryError) -> APIGatewayV2Response {
        switch error {
        case .personNotFound: Self.error(404, "person_not_found", error.description)
        case .photoNotFound: Self.error(404, "photo_not_found", error.description)
        case .photoBusy: Self.error(409, "photo_busy", error.description)
        case .invalidName: Self.error(400, "invalid_name", error.description)
        case .invalidMerge: Self.error(400, "invalid_merge", error.description)
        case .invalidMove: Self.error(400, "invalid_move", error.description)
        case .faceNotFound: Self.error(404, "face_not_found", error.description)
        @unknown default: Self.error(400, "invalid_request", error.description)
        }
    }

    private func withCORS(_ response: APIGatewayV2Response) -> APIGatewayV2Response {
        guard let origin = configuration.corsAllowOrigin else { return response }
        var response = response
        var headers = response.headers ?? [:]
        headers["access-control-allow-origin"] = origin
        headers["access-control-allow-methods"] = "GET, PUT, PATCH, POST, DELETE, OPTIONS"
        headers["access-control-allow-headers"] = "content-type, authorization"
        headers["access-control-max-age"] = "3600"
        response.headers = headers
        return response
    }
}

// MARK: Shapes (Docs/openapi.yaml)

struct PersonOutput: Codable {
    var id: String
    var name: String?
    var photoCount: Int
    var faceCount: Int
    var coverThumbnailUrl: String?
    var createdAt: Date
    var updatedAt: Date

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(photoCount, forKey: .photoCount)
        try container.encode(faceCount, forKey: .faceCount)
        try container.encode(coverThumbnailUrl, forKey: .coverThumbnailUrl)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
    }
}

struct PeoplePage: Codable {
    var people: [PersonOutput]
    var nextCursor: String?
}

struct FaceOutput: Codable {
    var faceId: String
    var personId: String
    var personName: String?
    var boundingBox: BoundingBox
    var thumbnailUrl: String
}

struct PersonPhotoOutput: Codable {
    var photoId: String
    var url: String
    var addedAt: Date
    var face: FaceOutput
}

struct PhotosPage: Codable {
    var photos: [PersonPhotoOutput]
    var nextCursor: String?
}

struct FailureOutput: Codable {
    var code: String
    var message: String
    var retryable: Bool
}

struct PhotoOutput: Codable {
    var id: String
    var status: String
    var url: String
    var width: Int?
    var height: Int?
    var addedAt: Date
    var failure: FailureOutput?
    var faces: [FaceOutput]
}

struct ForgetOutput: Codable {
    var personId: String
    var facesRemoved: Int
}

struct ErrorOutput: Codable {
    struct Body: Codable {
        var code: String
        var message: String
    }

    var error: Body
}

struct UnassignedPage: Codable {
    var faces: [FaceOutput]
    var nextCursor: String?
}

struct SuggestionOutput: Codable {
    var first: PersonOutput
    var second: PersonOutput
    var similarity: Double
    var pairs: Int
    var reason: String
}

struct SuggestionsOutput: Codable {
    var suggestions: [SuggestionOutput]
}

struct OperationOutput: Codable {
    var id: String
    var kind: String
    var automatic: Bool
    var at: Date
    var summary: String
    var state: String
    var undoes: String?
    var undoneBy: String?

    init(_ operation: PeopleOperation) {
        id = operation.id
        kind = operation.kind.rawValue
        automatic = operation.automatic
        at = operation.at
        summary = operation.summary
        state = operation.state.rawValue
        undoes = operation.undoes
        undoneBy = operation.undoneBy
    }
}

struct OperationsPage: Codable {
    var operations: [OperationOutput]
    var nextCursor: String?
}

struct ExplanationOutput: Codable {
    struct Neighbour: Codable {
        var faceId: String
        var personId: String?
        var similarity: Double
    }

    var faceId: String
    var personId: String
    var photoId: String
    var neighbours: [Neighbour]
    var ownPersonSimilarity: Double?
    var closestOtherPersonId: String?
    var closestOtherSimilarity: Double?
    var joinThreshold: Double
    var singleFaceThreshold: Double
    var reviewThreshold: Double
    var rule: String
    var model: String
    var operations: [String]

    init(_ explanation: GroupingReview.Explanation) {
        faceId = explanation.face.rawValue
        personId = explanation.person.id.rawValue
        photoId = explanation.photo.rawValue
        neighbours = explanation.neighbours.map { Neighbour(faceId: $0.face.rawValue, personId: $0.person?.rawValue, similarity: $0.similarity) }
        ownPersonSimilarity = explanation.ownPersonSimilarity
        closestOtherPersonId = explanation.closestOtherPerson?.rawValue
        closestOtherSimilarity = explanation.closestOtherSimilarity
        joinThreshold = explanation.joinThreshold
        singleFaceThreshold = explanation.singleFaceThreshold
        reviewThreshold = explanation.reviewThreshold
        rule = explanation.rule
        model = explanation.model
        operations = explanation.operations
    }
}
