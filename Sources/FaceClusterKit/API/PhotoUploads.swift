import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Photos uploaded through the API (`POST /photos`): stored in a ``PhotoStore`` under
/// `<keyPrefix><first 16 bytes of SHA-256, hex>/<file name>`, recorded `pending`, and handed to whatever
/// ingests them (``onStored``: a local worker pool; on AWS nothing, the raw bucket's notification does it).
///
/// Sending the same bytes under the same name again is a retry, not a second photo: the key is the same, and
/// the answer is the photo as it is now (a photo whose ingestion failed for a passing reason is handed to
/// ``onStored`` again). Copies of one upload that arrive together are taken one at a time in a process, so the
/// second never rewrites the file the first is being ingested from (which failed that one `content_changed`).
/// Only what a ``PhotoDecoder`` can read is accepted, by content, not by
/// name or `Content-Type`; a file that looks like a photo and is damaged is stored and fails in ingestion with
/// its reason, as any photo would.
public struct PhotoUploads: Sendable {
    public let store: any PhotoStore
    public let metadata: any MetadataStore
    /// Keys start with it (`uploads/`; locally the library's `photos/uploads/` folder as a path key).
    public let keyPrefix: String
    /// Formats accepted; others are refused with ``UploadError/unsupportedType(_:)``.
    public var formats: Set<ImageFormat>
    /// The largest upload, in bytes (default 50 MB; API Gateway → Lambda carries at most ~4.5 MB of photo).
    public var maximumBytes: Int
    public let clock: any WallClock
    /// Called after a new photo is stored and recorded, to ingest it.
    public let onStored: @Sendable (Photo) async -> Void

    public static let defaultMaximumBytes = 50 * 1024 * 1024

    public init(
        store: any PhotoStore, metadata: any MetadataStore, keyPrefix: String = "uploads/",
        formats: Set<ImageFormat> = [.jpeg, .png, .webp], maximumBytes: Int = defaultMaximumBytes,
        clock: any WallClock = SystemWallClock(), onStored: @escaping @Sendable (Photo) async -> Void = { _ in }
    ) {
        self.store = store
        self.metadata = metadata
        self.keyPrefix = keyPrefix
        self.formats = formats
        self.maximumBytes = maximumBytes
        self.clock = clock
        self.onStored = onStored
    }

    /// Stores `data` (a photo's bytes) and records it `pending`; `created` is false when the same bytes under
    /// the same name were uploaded before (the photo is answered as it is now).
    /// Throws ``UploadError``: empty, too large, not a format this deployment reads, or deleted before.
    public func upload(_ data: Data, fileName: String?) async throws -> (photo: Photo, created: Bool) {
        guard !data.isEmpty else { throw UploadError.empty }
        guard data.count <= maximumBytes else { throw UploadError.tooLarge(limit: maximumBytes) }
        let format = ImageFormat(sniffing: data)
        guard let format, formats.contains(format) else {
            throw UploadError.unsupportedType("\(format.map { "a \($0.rawValue) file" } ?? "a file that is no image") (accepted: \(formats.map(\.rawValue).sorted().joined(separator: ", ")))")
        }
        let digest = try await BlockingWork.io { SHA256.hash(data: data).prefix(16).hexString }
        let key = keyPrefix + digest + "/" + Self.safeName(fileName, format: format)
        let reference = PhotoReference(store: store.location, key: key)
        let id = PhotoID(reference)
        return try await Self.turns[Int(UInt(bitPattern: key.hashValue) % UInt(Self.turns.count))].run {
            try await store(data, at: key, format: format, as: id, reference: reference)
        }
    }

    /// Uploads take turns by key (64 stripes: distinct keys rarely wait, and then for one `put`).
    private static let turns = (0..<64).map { _ in AsyncLock() }

    private func store(_ data: Data, at key: String, format: ImageFormat, as id: PhotoID, reference: PhotoReference) async throws -> (photo: Photo, created: Bool) {
        if let existing = try await metadata.photo(id) {
            guard existing.status != .deleted else { throw UploadError.deleted(id) }
            if case .failed(let failure) = existing.status, failure.retryable {
                // Its file may have been changed since (why it failed): the bytes its key names go back first.
                try await store.put(data, at: key, contentType: format.mediaType)
                await onStored(existing)
            }
            return (existing, false)
        }
        let stored = try await store.put(data, at: key, contentType: format.mediaType)
        let now = clock.now()
        let pending = Photo(id: id, reference: reference, status: .pending, contentTag: stored.eTag, addedAt: now, updatedAt: now)
        let photo: Photo
        do {
            photo = try await metadata.savePhoto(pending, expectedRevision: nil)
        } catch MetadataStoreError.conditionFailed {
            // The same upload, at the same moment: one record, one ingestion.
            guard let existing = try await metadata.photo(id) else { throw UploadError.deleted(id) }
            return (existing, false)
        }
        await onStored(photo)
        return (photo, true)
    }

    /// A file name safe as the last key segment: letters, digits, `.`, `-`, `_` (others become `_`), at most
    /// 100 characters, ending in the format's extension when it had none.
    static func safeName(_ name: String?, format: ImageFormat) -> String {
        let base = (name ?? "").split(separator: "/").last.map(String.init) ?? ""
        var cleaned = String(base.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && (Character(scalar).isLetter || Character(scalar).isNumber || "._-".unicodeScalars.contains(scalar)) ? Character(scalar) : "_"
        }.prefix(100))
        while cleaned.hasPrefix(".") { cleaned.removeFirst() }
        if cleaned.isEmpty { cleaned = "photo" }
        if !cleaned.contains(".") { cleaned += "." + format.fileExtension }
        return cleaned
    }

    /// A header's `name=value` parameter (`boundary`, `filename`), quotes removed.
    public static func parameter(_ name: String, in header: String) -> String? {
        for part in header.split(separator: ";") {
            let trimmed = part.drop { $0 == " " || $0 == "\t" }
            guard trimmed.lowercased().hasPrefix(name + "=") else { continue }
            var value = trimmed.dropFirst(name.count + 1)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = value.dropFirst().dropLast() }
            return String(value)
        }
        return nil
    }
}

/// Why an upload was refused.
public enum UploadError: Error, Hashable, Sendable, CustomStringConvertible {
    case empty
    case tooLarge(limit: Int)
    case unsupportedType(String)
    case invalidMultipart(String)
    /// These bytes under this name were uploaded and then deleted; the tombstone keeps them out.
    case deleted(PhotoID)

    public var description: String {
        switch self {
        case .empty: "the upload is empty"
        case .tooLarge(let limit): "the upload is larger than \(limit / 1_048_576) MB"
        case .unsupportedType(let what): "not a photo this gallery reads: \(what)"
        case .invalidMultipart(let reason): reason
        case .deleted(let id): "photo \(id) was deleted; upload it under another name to add it again"
        }
    }
}

extension ImageFormat {
    /// The media type a stored copy is given.
    public var mediaType: String {
        switch self {
        case .jpeg: "image/jpeg"
        case .png: "image/png"
        case .gif: "image/gif"
        case .webp: "image/webp"
        case .heic: "image/heic"
        case .avif: "image/avif"
        case .tiff: "image/tiff"
        case .bmp: "image/bmp"
        }
    }

    /// The usual file extension.
    public var fileExtension: String {
        switch self {
        case .jpeg: "jpg"
        case .png: "png"
        case .gif: "gif"
        case .webp: "webp"
        case .heic: "heic"
        case .avif: "avif"
        case .tiff: "tif"
        case .bmp: "bmp"
        }
    }
}
