#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Image formats recognised by their first bytes, never by a file name's extension. JPEG is decoded by
/// libjpeg-turbo, the others by a ``PhotoDecoder`` when one is given (``PhotoDecoders``); a format without
/// one is named so a user learns what they uploaded (a typed ``ImageError/unsupportedFormat(_:)``).
public enum ImageFormat: String, Sendable {
    case jpeg = "JPEG", png = "PNG", gif = "GIF", webp = "WebP", heic = "HEIC", avif = "AVIF", tiff = "TIFF", bmp = "BMP"

    /// The format `data` starts with, or `nil` when it is none of these.
    public init?(sniffing data: Data) {
        let head = [UInt8](data.prefix(32))
        func starts(with bytes: [UInt8], at offset: Int = 0) -> Bool {
            head.count >= offset + bytes.count && Array(head[offset..<offset + bytes.count]) == bytes
        }
        if starts(with: [0xFF, 0xD8, 0xFF]) {
            self = .jpeg
        } else if starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = .png
        } else if starts(with: Array("GIF87a".utf8)) || starts(with: Array("GIF89a".utf8)) {
            self = .gif
        } else if starts(with: Array("RIFF".utf8)) && starts(with: Array("WEBP".utf8), at: 8) {
            self = .webp
        } else if starts(with: Array("ftyp".utf8), at: 4) {
            let brand = head.count >= 12 ? String(decoding: head[8..<12], as: UTF8.self) : ""
            if ["avif", "avis"].contains(brand) { self = .avif } else { self = .heic }
        } else if starts(with: [0x49, 0x49, 0x2A, 0x00]) || starts(with: [0x4D, 0x4D, 0x00, 0x2A]) {
            self = .tiff
        } else if starts(with: Array("BM".utf8)) && head.count >= 14 {
            self = .bmp
        } else {
            return nil
        }
    }
}
