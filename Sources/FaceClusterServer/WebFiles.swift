import FaceClusterKit
import Foundation

/// The web gallery's static files (HTML, CSS, JavaScript modules; no build step), shipped as the package's
/// resources and read once at start. Only these files are served: a request path is looked up by name, never
/// joined to a folder, so no path reaches outside them.
struct WebFiles: Sendable {
    let files: [String: (type: String, data: Data)]

    /// Where the files are: `FACECLUSTER_WEB` when set; else the resource bundle beside the executable (where
    /// `swift build` puts it); else the sources they came from. Not `Bundle.module`, which stops the process
    /// when its bundle is missing (a `facecluster` copied elsewhere): this says what is missing instead.
    static func folder() throws -> URL {
        var candidates: [URL] = []
        if let explicit = ProcessInfo.processInfo.environment["FACECLUSTER_WEB"], !explicit.isEmpty {
            candidates.append(URL(fileURLWithPath: explicit))
        }
        candidates.append(Bundle.main.bundleURL.appendingPathComponent("FaceClusterKit_FaceClusterServer.resources/Web"))
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Web"))
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.appendingPathComponent("index.html").path) }) else {
            throw ServerError.webFilesMissing(searched: candidates.map(\.path))
        }
        return found
    }

    static func load() throws -> WebFiles {
        let folder = try folder()
        var files: [String: (String, Data)] = [:]
        let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
        while let file = walker?.nextObject() as? URL {
            guard (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let name = String(file.standardizedFileURL.path.dropFirst(folder.standardizedFileURL.path.count))
            files[name] = (contentType(file.pathExtension), try Data(contentsOf: file))
        }
        return WebFiles(files: files)
    }

    /// The gallery's pages (`#/people`, `#/photos/ph_…`, …), which a typed `/people` is sent to.
    static let pages: Set<String> = ["people", "photos", "review", "upload", "status", "settings"]

    func answer(path: String) -> APIResponse {
        let name = path == "/" ? "/index.html" : path
        guard let file = files[name] else {
            // A gallery address typed without its `#` (`/people/p_…`) goes to that page of the gallery.
            let page = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
            let segments = page.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            if let first = segments.first, Self.pages.contains(String(first)), segments.count <= 2, page.count <= 200,
               segments.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") } }) {
                return APIResponse(status: 302, headers: ["location": "/#" + page, "cache-control": "no-cache"])
            }
            return GalleryAPI.error(404, "not_found", "no such page: \(path)")
        }
        return APIResponse(status: 200, headers: ["content-type": file.type, "cache-control": "no-cache"], body: file.data)
    }

    static func contentType(_ ext: String) -> String {
        switch ext {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "json": "application/json"
        default: "application/octet-stream"
        }
    }
}

/// Why `facecluster serve` cannot start.
public enum ServerError: Error, CustomStringConvertible {
    case webFilesMissing(searched: [String])

    public var description: String {
        switch self {
        case .webFilesMissing(let searched):
            "the web gallery's files are missing (looked in \(searched.joined(separator: ", "))): keep the folder "
                + "FaceClusterKit_FaceClusterServer.resources beside facecluster, or set FACECLUSTER_WEB to Sources/FaceClusterServer/Web"
        }
    }
}
