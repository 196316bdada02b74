import FaceClusterKit
import Foundation

/// A ``PhotoStore`` on a folder: keys are paths below ``root`` (`people/p_…/f_….jpg`). The embedded default
/// keeps thumbnails in one, and reads the user's photos through one rooted at `/` (keys are then absolute
/// paths without the leading slash), so photos are referenced where they are, never copied.
///
/// - ETags are `"<size>-<modification time in ns>-<inode>"`: every write changes them (`put` replaces the file,
///   so even a rewrite within the file system's clock tick gets a new inode), and `head` costs one `stat`
///   instead of reading the photo (re-scanning a large library must stay cheap). A file touched without
///   changing is therefore processed again, which changes nothing but costs its analysis.
/// - `put` writes a temporary file and renames it, so a reader never sees half a photo.
/// - `get` maps files of ``MappedFile/threshold`` (16 MB) or more instead of reading them, so a 100 MP photo
///   is never resident as a whole while it is decoded (``MappedFile``); smaller files are read.
/// - Presigned URLs are `file://` URLs; the expiry is validated like S3's but a local file needs no signature.
/// - File reads, writes and folder walks run on ``BlockingWork/io(_:)``'s threads, not the caller's.
public struct DirectoryPhotoStore: PhotoStore {
    public let root: URL

    /// - Parameter root: the folder (created on the first write when missing).
    public init(root: URL) {
        self.root = root.standardizedFileURL
    }

    public var location: String { root.path }

    public func get(_ key: String) async throws -> StoredObject {
        try await BlockingWork.io { [self] in
            let url = try url(for: key)
            let info = try info(key)
            do {
                return StoredObject(info: info, data: try MappedFile.data(contentsOf: url.path) ?? Data(contentsOf: url))
            } catch {
                throw Self.mapped(error, key: key)
            }
        }
    }

    @discardableResult
    public func put(_ data: Data, at key: String, contentType: String) async throws -> ObjectInfo {
        try await BlockingWork.io { [self] in try write(data, at: key, contentType: contentType) }
    }

    private func write(_ data: Data, at key: String, contentType: String) throws -> ObjectInfo {
        let url = try url(for: key)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        } catch {
            throw Self.mapped(error, key: key)
        }
        var info = try info(key)
        info.contentType = contentType
        return info
    }

    public func head(_ key: String) async throws -> ObjectInfo { try info(key) }

    private func info(_ key: String) throws -> ObjectInfo {
        let url = try url(for: key)
        var status = stat()
        guard stat(url.path, &status) == 0 else {
            // A symbolic link that loops (ELOOP) leads nowhere, as a dangling one does: not found, not worth a retry.
            throw errno == ENOENT || errno == ENOTDIR || errno == ELOOP
                ? PhotoStoreError.notFound(key: key) : Self.mapped(POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO), key: key)
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw PhotoStoreError.notFound(key: key) }
        let nanoseconds = Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec)
        return ObjectInfo(
            key: key, size: Int(status.st_size), eTag: "\"\(status.st_size)-\(nanoseconds)-\(status.st_ino)\"", contentType: Self.contentType(of: key),
            lastModified: Date(timeIntervalSince1970: Double(nanoseconds) / 1e9))
    }

    public func delete(_ key: String) async throws {
        let url = try url(for: key)
        do {
            try FileManager.default.removeItem(at: url)
        } catch let error as CocoaError where error.code == .fileNoSuchFile || error.code == .fileReadNoSuchFile {
            // Nothing to remove: deletes are retried after crashes.
        } catch {
            throw Self.mapped(error, key: key)
        }
    }

    /// Walks the folder holding `prefix` (only it and below), in key order.
    public func list(prefix: String, continuationToken: String?, limit: Int) async throws -> ObjectListing {
        try await BlockingWork.io { [self] in try walk(prefix: prefix, continuationToken: continuationToken, limit: limit) }
    }

    private func walk(prefix: String, continuationToken: String?, limit: Int) throws -> ObjectListing {
        let after = try continuationToken.map { token in
            guard token.hasPrefix("after:") else { throw PhotoStoreError.invalidContinuationToken }
            return String(token.dropFirst("after:".count))
        }
        let folder = prefix.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let start = folder.isEmpty ? root : root.appendingPathComponent(folder)
        var keys: [String] = []
        if let walker = FileManager.default.enumerator(at: start, includingPropertiesForKeys: [.isRegularFileKey]) {
            for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                let key = String(url.standardizedFileURL.path.dropFirst(root.path == "/" ? 1 : root.path.count + 1))
                if key.hasPrefix(prefix), after.map({ key > $0 }) ?? true, !key.contains("/.") && !key.hasPrefix(".") { keys.append(key) }
            }
        }
        keys.sort()
        let page = Array(keys.prefix(max(limit, 1)))
        return ObjectListing(
            objects: try page.map { try info($0) }, continuationToken: page.count < keys.count ? page.last.map { "after:" + $0 } : nil)
    }

    /// Hidden temporary files (`.…`) older than `age` below the root: what a process killed in the middle of a
    /// `put` leaves (the write goes to a temporary file renamed into place). Paths relative to the root.
    public func temporaryFiles(olderThan age: Duration) throws -> [String] {
        let cutoff = Date().addingTimeInterval(-Double(age.components.seconds))
        var found: [String] = []
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey, .contentModificationDateKey]) else { return [] }
        for case let url as URL in walker where url.lastPathComponent.hasPrefix(".") {
            let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .contentModificationDateKey])
            guard values?.isRegularFile == true, (values?.contentModificationDate ?? .distantFuture) < cutoff else { continue }
            found.append(String(url.standardizedFileURL.path.dropFirst(root.path.count + 1)))
        }
        return found.sorted()
    }

    public func presignedURL(for key: String, expiresIn: Duration) async throws -> URL {
        try PhotoStoreError.validate(expiry: expiresIn)
        return try url(for: key)
    }

    /// The file for `key`; keys with empty, `.` or `..` segments (or a NUL) are refused, so a key never escapes
    /// the root.
    public func url(for key: String) throws -> URL {
        try PhotoStoreError.validate(key: key)
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }), !key.contains("\u{0}") else {
            throw PhotoStoreError.invalidKey(key, reason: "a folder key has no empty, '.' or '..' segments")
        }
        return root.appendingPathComponent(key)
    }

    /// The key of a file below ``root``, or `nil` when it is elsewhere.
    public func key(for file: URL) -> String? {
        let path = file.standardizedFileURL.resolvingSymlinksInPath().path
        let base = root.resolvingSymlinksInPath().path
        if base == "/" { return path.count > 1 ? String(path.dropFirst()) : nil }
        return path.hasPrefix(base + "/") ? String(path.dropFirst(base.count + 1)) : nil
    }

    static func contentType(of key: String) -> String? {
        switch key.split(separator: ".").last?.lowercased() {
        case "jpg", "jpeg": "image/jpeg"
        case "png": "image/png"
        case "heic": "image/heic"
        default: nil
        }
    }

    private static func mapped(_ error: any Error, key: String) -> any Error {
        if let error = error as? PhotoStoreError { return error }
        let nsError = error as NSError
        if let posix = nsError.userInfo[NSUnderlyingErrorKey] as? POSIXError ?? (error as? POSIXError) {
            switch posix.code {
            case .ENOENT, .ENOTDIR, .ELOOP: return PhotoStoreError.notFound(key: key)
            case .EACCES, .EPERM: return PhotoStoreError.accessDenied(key: key, detail: posix.localizedDescription)
            default: break
            }
        }
        if let cocoa = error as? CocoaError {
            switch cocoa.code {
            case .fileNoSuchFile, .fileReadNoSuchFile: return PhotoStoreError.notFound(key: key)
            case .fileReadNoPermission, .fileWriteNoPermission: return PhotoStoreError.accessDenied(key: key, detail: "\(error)")
            default: break
            }
        }
        return PhotoStoreError.unavailable(detail: "\(key): \(error)")
    }
}
