import CPNG
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// PNG through libpng's simplified API (libpng 1.6, Debian's `libpng-dev`, linked statically): 1–16-bit grey,
/// RGB, palette, with or without alpha, interlaced or not — all read as 8-bit sRGB RGB, transparency
/// composited over white. PNG has no orientation a camera writes; the pixels are displayed as stored.
///
/// Cost: the whole image is decoded (PNG has no reduced-size decode); memory is the RGB buffer plus libpng's
/// row buffers (one row; two passes' worth for interlaced files).
public struct PNGDecoder: PhotoDecoder {
    public init() {}

    public var format: ImageFormat { .png }

    public func size(of data: Data) throws -> (width: Int, height: Int) {
        try withImage(data) { image in (Int(image.pointee.width), Int(image.pointee.height)) }
    }

    /// 3 bytes a pixel: the RGB it is read into (libpng's simplified API converts and composites row by row).
    public func peakMemory(of data: Data, width: Int, height: Int) -> Int { width * height * 3 }

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
            return PixelBuffer(width: width, height: height, pixels: pixels)
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
