import FaceClusterKit
import FaceClusterLocal
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `facecluster serve`: the gallery's HTTP API (``GalleryAPI`` at `/api`, the routes the Lambda serves), the
/// photos and thumbnails behind signed URLs (`/files`), and the web gallery (`/`), over Hummingbird.
///
/// Security: on a loopback address with no token the API is open to this machine's users, and a request whose
/// `Host` is not a loopback name is refused (DNS rebinding); on any other address every API request needs
/// `Authorization: Bearer <token>`. Mutating requests from another origin are refused (CSRF). Files are read
/// only through URLs the server signed, and never outside the stores' keys. Every answer carries a
/// Content-Security-Policy that allows this origin's scripts and styles only.
public struct GalleryServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Required on every API request when set (always set off loopback).
        public var token: String?
        /// The largest upload, in bytes.
        public var maximumUploadBytes: Int
        /// How long image URLs in answers stay valid.
        public var urlExpiry: Duration

        public init(host: String = "127.0.0.1", port: Int = 8080, token: String? = nil, maximumUploadBytes: Int = PhotoUploads.defaultMaximumBytes, urlExpiry: Duration = Gallery.defaultURLExpiry) {
            self.host = host
            self.port = port
            self.token = token
            self.maximumUploadBytes = maximumUploadBytes
            self.urlExpiry = urlExpiry
        }

        /// Whether `host` is a loopback address (where the API may go without a token).
        public var isLoopback: Bool { Self.isLoopback(host) }

        /// `localhost`, `::1` or an IPv4 address in 127.0.0.0/8 written as four numbers — not any name that starts
        /// with `127.` (`127.attacker.example` is a name an attacker's DNS can point anywhere).
        public static func isLoopback(_ host: String) -> Bool {
            let name = host.lowercased()
            if ["localhost", "::1", "[::1]"].contains(name) { return true }
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { part in
                (1...3).contains(part.count) && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) && Int(part).map { $0 <= 255 } == true
            }
        }
    }

    public let configuration: Configuration
    public let api: GalleryAPI
    /// The stores `/files/<name>/…` reads, through URLs ``signer`` made.
    let stores: [String: any PhotoStore]
    let signer: URLSigner
    let web: WebFiles
    /// The body of `/healthz` (JSON).
    let health: @Sendable () async -> String
    let logger: Logger

    /// The adapter over any ``GalleryAPI`` (the tests run the Lambda's routes through it); `stores` are read by
    /// `/files/<name>/…` URLs that `signer` made.
    public init(
        api: GalleryAPI, configuration: Configuration, stores: [String: any PhotoStore] = [:], signer: URLSigner = URLSigner(),
        health: @escaping @Sendable () async -> String = { #"{"status":"ok"}"# }, logger: Logger = Logger(label: "facecluster.serve")
    ) throws {
        var api = api
        if api.formParser == nil { api.formParser = MultipartUpload.photo }
        self.api = api
        self.configuration = configuration
        self.stores = stores
        self.signer = signer
        self.health = health
        self.logger = logger
        web = try WebFiles.load()
    }

    /// `facecluster serve` for a library: its gallery with signed URLs to its photos and thumbnails, uploads into
    /// `STORE/photos/uploads/` handed to `queue`, suggestions and explanations from its engine.
    public static func local(library: LocalLibrary, configuration: Configuration, queue: IngestQueue, logger: Logger = Logger(label: "facecluster.serve")) throws -> GalleryServer {
        let signer = URLSigner()
        let gallery = library.gallery.serving(
            photos: SignedURLPhotoStore(library.originals, name: "photos", signer: signer),
            thumbnails: SignedURLPhotoStore(library.thumbnails, name: "thumbnails", signer: signer))
        let uploadFolder = library.directory.appendingPathComponent("photos/uploads").path
        let uploads = PhotoUploads(
            store: library.originals, metadata: library.metadata, keyPrefix: String(uploadFolder.dropFirst()) + "/",
            formats: [.jpeg, .png, .webp, .heic], maximumBytes: configuration.maximumUploadBytes,
            onStored: { photo in await queue.enqueue(photo.reference) })
        let api = GalleryAPI(
            gallery: gallery, review: library.review, uploads: uploads, urlExpiry: configuration.urlExpiry,
            onError: { route, error in logger.error("request failed", metadata: ["route": "\(route)", "error": "\(error)"]) })
        return try GalleryServer(
            api: api, configuration: configuration, stores: ["photos": library.originals, "thumbnails": library.thumbnails], signer: signer,
            health: {
                let backlog = await queue.backlog
                return #"{"status":"ok","waiting":\#(backlog.waiting),"running":\#(backlog.running)}"#
            },
            logger: logger)
    }

    /// Serves until the task is cancelled; `onRunning` gets the port it listens on (useful with port 0).
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let server = self
        try await runHTTPServer(
            host: configuration.host, port: configuration.port, serverName: "facecluster", logger: logger, onRunning: onRunning
        ) { request in await server.respond(to: request) }
    }

    // MARK: Requests

    func respond(to request: Request) async -> Response {
        var request = request
        var answer = await answer(&request)
        for (name, value) in Self.securityHeaders where answer.headers[name] == nil { answer.headers[name] = value }
        return Response(
            status: HTTPResponse.Status(code: answer.status), headers: HTTPFields(answer.headers.compactMap { name, value in
                HTTPField.Name(name).map { HTTPField(name: $0, value: value) }
            }),
            body: request.method == .head ? ResponseBody(contentLength: answer.body.count) { writer in try await writer.finish(nil) } : ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    private func answer(_ request: inout Request) async -> APIResponse {
        let path = request.uri.path
        if let refusal = checkHost(request) { return refusal }
        if path == "/api" || path.hasPrefix("/api/") { return await answerAPI(&request, path: String(path.dropFirst(4))) }
        guard request.method == .get || request.method == .head else {
            return GalleryAPI.error(405, "method_not_allowed", "\(path) is read with GET")
        }
        if path.hasPrefix("/files/") { return await answerFile(request, path: path) }
        if path == "/healthz" {
            return APIResponse(status: 200, headers: ["content-type": "application/json"], body: Data(await health().utf8))
        }
        return web.answer(path: path)
    }

    /// Loopback without a token: only loopback host names (a page on another site that rebinds its name to
    /// 127.0.0.1 sends its own name as `Host`).
    private func checkHost(_ request: Request) -> APIResponse? {
        guard configuration.token == nil else { return nil }
        let host = request.head.authority ?? ""
        let name = host.hasPrefix("[") ? String(host.prefix { $0 != "]" }.dropFirst()) : String(host.split(separator: ":").first ?? "")
        guard Configuration.isLoopback(name) else {
            return GalleryAPI.error(403, "host_not_allowed", "this server answers to 127.0.0.1 and localhost only; start it with --host and a token to serve other names")
        }
        return nil
    }

    private func answerAPI(_ request: inout Request, path: String) async -> APIResponse {
        if let token = configuration.token {
            // The scheme is case-insensitive (RFC 9110 §11.1).
            let given = request.headers[.authorization].flatMap { $0.lowercased().hasPrefix("bearer ") ? String($0.dropFirst(7)) : nil } ?? ""
            guard URLSigner.constantTimeEqual(given, token) else {
                var refusal = GalleryAPI.error(401, "unauthorized", "send the server's token: Authorization: Bearer <token> (printed when it started)")
                refusal.headers["www-authenticate"] = "Bearer"
                return refusal
            }
        }
        if ![.get, .head, .options].contains(request.method), let refusal = checkOrigin(request) { return refusal }
        // Only an upload may be large; any other body is JSON of at most 64 KB, so no more is buffered for it.
        let isUpload = request.method == .post && (path == "/photos" || path == "/photos/")
        let limit = isUpload ? configuration.maximumUploadBytes + 1_048_576 : GalleryAPI.maximumJSONBody + 1
        let tooLarge = isUpload
            ? GalleryAPI.error(413, "upload_too_large", UploadError.tooLarge(limit: configuration.maximumUploadBytes).description)
            : GalleryAPI.error(GalleryAPI.bodyTooLarge)
        // A body declared too large is refused at once, not waited for (a client that declares 1 TB and sends
        // nothing held the request open until it gave up).
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared >= limit { return tooLarge }
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            return tooLarge
        } catch {
            return GalleryAPI.error(400, "invalid_request", "the request body ended before its declared length")
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let apiRequest = APIRequest(
            method: request.method.rawValue, path: path.isEmpty ? "/" : path, query: APIRequest.query(parsing: request.uri.query ?? ""),
            headers: headers, body: Data(buffer: body), requestID: "local-\(UUID().uuidString.lowercased().prefix(8))")
        var response = await api.respond(to: apiRequest).response
        response.headers["cache-control"] = "no-store"
        return response
    }

    /// Mutating requests from a page of another origin are refused: browsers send `Origin` (and
    /// `Sec-Fetch-Site`) with them; command-line clients send neither.
    private func checkOrigin(_ request: Request) -> APIResponse? {
        let host = request.head.authority ?? ""
        let origin = request.headers[HTTPField.Name("origin")!]
        let site = request.headers[HTTPField.Name("sec-fetch-site")!]
        let sameOrigin = origin.map { $0 == "http://\(host)" || $0 == "https://\(host)" } ?? true
        guard sameOrigin, site.map({ ["same-origin", "none"].contains($0) }) ?? true else {
            return GalleryAPI.error(403, "cross_origin", "changes are accepted from this server's own pages only")
        }
        return nil
    }

    /// `/files/<store>/<key>?expires=…&signature=…`: a photo or thumbnail, when the server signed that URL and
    /// it has not expired. Photos a browser cannot show (HEIC) are sent as JPEG, upright.
    private func answerFile(_ request: Request, path: String) async -> APIResponse {
        let parts = path.dropFirst("/files/".count).split(separator: "/", maxSplits: 1).map(String.init)
        let query = APIRequest.query(parsing: request.uri.query ?? "")
        guard parts.count == 2, let store = stores[parts[0]],
              let key = parts[1].removingPercentEncoding, let expires = query["expires"].flatMap(Int.init), let signature = query["signature"],
              signer.verify(store: parts[0], key: key, expires: expires, signature: signature)
        else {
            return GalleryAPI.error(403, "invalid_signature", "this file URL is not signed by this server or has expired; ask the API for a new one")
        }
        do {
            // Keys are real paths (symlinks resolved when a photo was added; thumbnails are written by us): a
            // symlink found on the way now was put there since, and is not followed out of the library.
            if let directory = store as? DirectoryPhotoStore {
                let file = try directory.url(for: key).standardizedFileURL
                guard try await BlockingWork.io({ Self.isPlainFile(file) }) else {
                    return GalleryAPI.error(404, "not_found", "the file is gone or was replaced by a link")
                }
            }
            let object = try await store.get(key)
            var data = object.data
            let format = ImageFormat(sniffing: data)
            var type = format?.mediaType ?? "application/octet-stream"
            if format == .heic {
                data = try await BlockingWork.run {
                    let image = try UprightImage(decoding: object.data, maximumPixels: 12_000_000, decoders: .local)
                    return try JPEGEncoding.encode(rgb: image.pixels, width: image.width, height: image.height, quality: 88)
                }
                type = "image/jpeg"
            }
            let remaining = max(0, expires - Int(Date().timeIntervalSince1970))
            return APIResponse(status: 200, headers: ["content-type": type, "cache-control": "private, max-age=\(remaining)"], body: data)
        } catch PhotoStoreError.notFound {
            return GalleryAPI.error(404, "not_found", "the file is gone (the photo was moved or deleted)")
        } catch {
            return GalleryAPI.error(404, "not_found", "the file cannot be read: \(error)")
        }
    }

    /// A regular file reached without a symbolic link in its path.
    static func isPlainFile(_ file: URL) -> Bool {
        var status = stat()
        guard lstat(file.path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return false }
        return file.resolvingSymlinksInPath().path == file.path
    }

    static let securityHeaders: [String: String] = [
        "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https:; connect-src 'self' https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
    ]
}
