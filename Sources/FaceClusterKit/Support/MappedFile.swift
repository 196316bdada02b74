#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CMappedFile
#if canImport(Glibc)
import Glibc
#endif

/// A big photo read from a local file without holding it in memory: the file is mapped read-only and the
/// readers that walk it front to back (the JPEG decoder's source, ``forEachChunk(of:chunkSize:_:)``) hand each
/// page back behind them, so a 181 MB CMYK JPEG adds a few MB to the process instead of 181 MB (peak RSS of
/// `facecluster ingest` on a 100 MP photo: Docs/formats.md). Pages are read again from the page cache
/// when a later pass (the thumbnails' decode) needs them.
///
/// A mapped file that is cut short while it is mapped (overwritten in place, truncated) would kill the process
/// with SIGBUS on the next read past its new end; here that read gets zero pages instead
/// (``fck_map_file``); that, or a write in place (which changes the file's size or modification time), makes
/// ``hasChanged(_:)`` true, so the photo fails as ``ImageError/changedWhileRead`` (retryable; the ingestion
/// pipeline checks once the photo's last read is done) and the next run reads the new content.
public enum MappedFile {
    /// Files at least this big are mapped (a typical photo of a few MB is read whole, as before).
    public static let threshold = 16 * 1_048_576

    /// The file at `path`, mapped, when it is at least `threshold` bytes and can be mapped; `nil` otherwise
    /// (then read it). The mapping lasts as long as the returned `Data`.
    public static func data(contentsOf path: String, threshold: Int = threshold) -> Data? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, Int(status.st_size) >= max(threshold, 1),
              let base = fck_map_file(descriptor, Int(status.st_size))
        else { return nil }
        return Data(bytesNoCopy: base, count: Int(status.st_size), deallocator: .custom { base, count in fck_unmap_file(base, count) })
    }

    /// True when `data` is a mapping from ``data(contentsOf:threshold:)`` whose file changed after it was mapped:
    /// cut short (some of what was read are zeros that were never in the photo) or written in place (its size or
    /// modification time differs); false for any other bytes. One `fstat`.
    public static func hasChanged(_ data: Data) -> Bool {
        data.withUnsafeBytes { fck_mapping_changed($0.baseAddress) != 0 }
    }

    /// Throws ``ImageError/changedWhileRead`` when ``hasChanged(_:)``.
    public static func checkIntact(_ data: Data) throws {
        if hasChanged(data) { throw ImageError.changedWhileRead }
    }

    /// Drops the whole pages of `start..<end` from the process when they lie in a mapping (a reader that has
    /// passed them); nothing for other memory.
    public static func releasePages(_ start: UnsafeRawPointer, _ end: UnsafeRawPointer) {
        fck_release_pages(start, end)
    }

    /// Hands `data` to `body` front to back, `chunkSize` bytes at a time, releasing the pages of each chunk once
    /// `body` returns when `data` is a mapping (a hash of a big photo then holds one chunk, not the photo).
    public static func forEachChunk(of data: Data, chunkSize: Int = 4 * 1_048_576, _ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        try data.withUnsafeBytes { bytes in
            var start = 0
            repeat {
                let chunk = UnsafeRawBufferPointer(rebasing: bytes[start..<min(start + chunkSize, bytes.count)])
                try body(chunk)
                if let base = chunk.baseAddress { fck_release_pages(base, base + chunk.count) }
                start += chunkSize
            } while start < bytes.count
        }
    }
}
