import FaceClusterKit
import Foundation

/// The web gallery's static files (HTML, CSS, JavaScript modules; no build step), shipped as the package's
/// resources and read once at start. Only these files are served: a request path is looked up by name, never
/// joined to a folder, so no path reaches outside them.
struct WebFiles: Sendable {
    let files: [String: (type: String, data: Data)]

    static func load() throws -> WebFiles {
        guard let folder = Bundle.module.url(forResource: "Web", withExtension: nil) else { throw CocoaError(.fileNoSuchFile) }
        var files: [String: (String, Data)] = [:]
        let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
        while let file = walker?.nextObject() as? URL {
            guard (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let name = String(file.standardizedFileURL.path.dropFirst(folder.standardizedFileURL.path.count))
            files[name] = (contentType(file.pathExtension), try Data(contentsOf: file))
        }
        return WebFiles(files: files)
    }

    func answer(path: String) -> APIResponse {
        let name = path == "/" ? "/index.html" : path
        guard let file = files[name] else { return GalleryAPI.error(404, "not_found", "no such page: \(path)") }
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
