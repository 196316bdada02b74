import CPNG
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// PNG through libpng's simplified API (libpng 1.6, Debian's `libpng-dev`, linked statically): 1–16-bit grey,
/// RGB, palette, with or without alpha, interlaced or not — all read as 8-bit sRGB RGB, transparency
/// composited over white, turned as an eXIf chunk before the image data says (``orientation(of:)``).
///
/// Cost: the whole image is decoded (PNG has no reduced-size decode); memory is the RGB buffer plus libpng's
/// row buffers (one row; two passes' worth for interlaced files), and a second RGB buffer for a turned photo.
public struct PNGDecoder: PhotoDecoder {
    public init() {}

    public var format: ImageFormat { .png }

    /// The displayed size: orientations 5–8 swap the stored width and height.
    public func size(of data: Data) throws -> (width: Int, height: Int) {
        let stored = try withImage(data) { image in (Int(image.pointee.width), Int(image.pointee.height)) }
        return Self.orientation(of: data).swapsDimensions ? (stored.1, stored.0) : stored
    }

    public func orientation(of data: Data) -> Orientation { Self.orientation(of: data) }

    /// 3 bytes a pixel: the RGB it is read into (libpng's simplified API converts and composites row by row);
    /// 6 when it is turned (the stored and the displayed RGB are both held while the turned copy is made).
    public func peakMemory(of data: Data, width: Int, height: Int) -> Int {
        width * height * (Self.orientation(of: data) == .up ? 3 : 6)
    }

    public func decode(_ data: Data) throws -> PixelBuffer {
        try withImage(data) { image in
            image.pointee.format = UInt32(PNG_FORMAT_RGB)
            let (width, height) = (Int(image.pointee.width), Int(image.pointee.height))
            var pixels = [UInt8](repeating: 0, count: width * height * 3)
            var white = png_color(red: 255, green: 255, blue: 255)
            let finished = pixels.withUnsafeMutableBytes { buffer in
                png_image_finish_read(image, &white, buffer.baseAddress, 0, nil)
            }
            guard finished != 0 else { throw Self.error(image) }
            // A warning (a bad CRC in an ancillary chunk, extra data) leaves the pixels usable; an error above does not.
            return PixelBuffer(width: width, height: height, pixels: pixels).oriented(Self.orientation(of: data))
        }
    }

    /// The orientation tag of the photo's eXIf chunk when that chunk comes before the image data; `.up` when
    /// there is none, it is malformed, or it comes after the first IDAT.
    ///
    /// The rule is the browsers': CSS Images 3 (`image-orientation: from-image`, the default) applies only
    /// metadata that precedes the image data, and the PNG specification (third edition, 2025) requires eXIf
    /// there. Chromium 156 shows a PNG with eXIf orientation 6 before its IDAT turned (a 400 × 200 file as
    /// 200 × 400); one after it as stored. Reads the chunk headers only, up to the first IDAT. An eXIf whose
    /// CRC is wrong is ignored, as libpng discards an ancillary chunk that fails its CRC (zlib's `crc32`). A TIFF
    /// structure behind a stray "Exif\0\0" prefix (some writers add it) is read too.
    public static func orientation(of data: Data) -> Orientation {
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Orientation in
            let (idat, iend, exif): (UInt32, UInt32, UInt32) = (0x4944_4154, 0x4945_4E44, 0x6558_4966)
            func word(_ at: Int) -> UInt32 {
                UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
            }
            var at = 8  // after the signature
            while at + 8 <= bytes.count {
                let (length, type, body) = (Int(word(at)), word(at + 4), at + 8)
                // A chunk's length is at most 2³¹ − 1 (PNG §5.3); its CRC follows its data.
                guard type != idat, type != iend, length < 1 << 31, length + 4 <= bytes.count - body else { return .up }
                if type == exif {
                    let computed = UInt32(crc32(0, (bytes.baseAddress! + at + 4).assumingMemoryBound(to: UInt8.self), UInt32(length + 4)))
                    guard computed == word(body + length) else { return .up }
                    var tiff = ArraySlice(bytes[body..<body + length])
                    if tiff.starts(with: [0x45, 0x78, 0x69, 0x66, 0, 0]) { tiff = tiff.dropFirst(6) }
                    return Orientation(exifTIFF: tiff) ?? .up
                }
                at = body + length + 4  // the data, then its CRC
            }
            return .up
        }
    }

    /// Runs `body` on a `png_image` whose header has been read from `data`; frees it afterwards.
    private func withImage<T>(_ data: Data, _ body: (UnsafeMutablePointer<png_image>) throws -> T) throws -> T {
        try data.withUnsafeBytes { bytes in
            var image = png_image()
            image.version = UInt32(PNG_IMAGE_VERSION)
            return try withUnsafeMutablePointer(to: &image) { image in
                defer { png_image_free(image) }
                guard png_image_begin_read_from_memory(image, bytes.baseAddress, bytes.count) != 0 else { throw Self.error(image) }
                return try body(image)
            }
        }
    }

    private static func error(_ image: UnsafeMutablePointer<png_image>) -> ImageError {
        let message = withUnsafeBytes(of: image.pointee.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        // libpng's words for a file cut short ("Read Error" from the memory reader, "Not enough image data").
        if ["Read Error", "Not enough image data", "EOF", "beyond end of data"].contains(where: message.contains) { return .truncated }
        return .damaged(detail: "PNG: \(message)")
    }
}
