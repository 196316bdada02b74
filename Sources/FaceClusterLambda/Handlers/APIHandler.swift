import FaceClusterKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging

/// The API function behind the HTTP API (payload format 2.0): turns the event into an ``APIRequest`` for
/// ``GalleryAPI`` (the routes, checks and answers `facecluster serve` shares) and its answer back into the
/// event's shape, with CORS headers and a metric per request.
struct APIHandler: LambdaHandler {
    let api: GalleryAPI
    let configuration: LambdaConfiguration

    init(gallery: Gallery, configuration: LambdaConfiguration, review: GroupingReview? = nil, uploads: PhotoUploads? = nil) {
        self.configuration = configuration
        api = GalleryAPI(gallery: gallery, review: review, uploads: uploads, urlExpiry: configuration.urlExpiry)
    }

    /// The API function as the deployment wires it (``Bootstrap``): the gallery on the stores, merge suggestions
    /// and explanations from the face graph stored in DynamoDB, uploads up to 4 MB (API Gateway passes the
    /// Lambda at most 6 MB of event, base64 included) to the raw bucket's `uploads/` prefix, whose
    /// notification ingests them.
    ///
    /// Unless `CONSOLIDATE=off`, a merge undone through the API (`POST /operations/{id}/undo`) is followed, as
    /// `facecluster undo` is, by a regrouping of the faces that joined the merged person since
    /// (``Gallery/regroupAfterUndoneMerge``): from the stored face graph, so DynamoDB reads and writes and no
    /// Rekognition call. Without it, photos of one of the two people that arrived after the merge stayed
    /// with the other.
    init(
        configuration: LambdaConfiguration, metadata: any MetadataStore, photos: any PhotoStore, thumbnails: any PhotoStore,
        index: any FaceIndex, model: String, clock: any WallClock = SystemWallClock()
    ) {
        let policy = IngestionPipeline.Configuration().policy
        let graph = StoredFaceGraph(metadata: metadata)
        var gallery = Gallery(
            metadata: metadata, photos: photos, thumbnails: thumbnails, index: index, clock: clock,
            minimumFacesPerPerson: configuration.minimumFacesPerPerson,
            personVectors: configuration.callPlan == .users ? index as? any PersonVectorIndex : nil)
        if configuration.consolidatesAfterBatch {
            let consolidation = Consolidation(metadata: metadata, source: graph, policy: policy, clock: clock)
            gallery.regroupAfterUndoneMerge = { faces, merge in try await consolidation.run(touching: faces, after: merge) }
        }
        self.init(
            gallery: gallery, configuration: configuration,
            review: GroupingReview(metadata: metadata, source: graph, policy: policy, model: model),
            uploads: PhotoUploads(store: photos, metadata: metadata, maximumBytes: 4 * 1024 * 1024))
    }

    func handle(_ event: Data, invocation: Invocation, logger: Logger) async throws -> Data {
        let started = ContinuousClock.now
        var response: APIGatewayV2Response
        var route = "?"
        var method = "?"
        if let event = try? JSONDecoder().decode(APIGatewayV2Request.self, from: event) {
            let request = Self.request(event, requestID: invocation.requestID)
            method = request.method
            var api = self.api
            api.onError = { route, error in logger.error("request failed", metadata: ["route": "\(route)", "error": "\(error)"]) }
            let answer = await api.respond(to: request)
            route = answer.route
            response = Self.response(answer.response)
        } else {
            response = Self.response(GalleryAPI.error(400, "invalid_request", "the event is not an API Gateway HTTP API request (payload 2.0)"))
        }
        Metrics.request(method: method, route: route, status: response.statusCode, duration: ContinuousClock.now - started, logger: logger)
        return try JSONEncoder().encode(withCORS(response))
    }

    /// The event as the API sees it: the raw path and query, lower-case headers, the body's bytes.
    static func request(_ event: APIGatewayV2Request, requestID: String) -> APIRequest {
        APIRequest(
            method: event.requestContext.http.method, path: event.rawPath,
            query: event.rawQueryString.map(APIRequest.query(parsing:)) ?? event.queryStringParameters ?? [:],
            headers: event.headers ?? [:], body: event.bodyData ?? Data(), requestID: requestID)
    }

    /// A JSON body goes as text; anything else base64-encoded, as payload format 2.0 wants it.
    static func response(_ response: APIResponse) -> APIGatewayV2Response {
        let isJSON = response.headers["content-type"]?.hasPrefix("application/json") ?? response.body.isEmpty
        return APIGatewayV2Response(
            statusCode: response.status, headers: response.headers,
            body: response.body.isEmpty ? nil : isJSON ? String(decoding: response.body, as: UTF8.self) : response.body.base64EncodedString(),
            isBase64Encoded: !isJSON)
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
