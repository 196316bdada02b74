#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// JPEG encoding through libjpeg-turbo, for programs that make photos (benchmarks, test doubles).
public enum JPEGEncoding {
    /// Encodes interleaved 8-bit RGB pixels (`width × height × 3` bytes, rows top to bottom).
    public static func encode(rgb: [UInt8], width: Int, height: Int, quality: Int = 90) throws -> Data {
        guard width > 0, height > 0, rgb.count == width * height * 3 else {
            throw ImageError.corrupt(detail: "\(rgb.count) bytes are not \(width) × \(height) RGB pixels")
        }
        return try TurboJPEG.encode(PixelBuffer(width: width, height: height, pixels: rgb), quality: quality)
    }

    /// `jpeg` with a comment segment (COM, `FF FE`) holding `comment`, right after the start-of-image marker.
    /// Decoders skip comments; the Rekognition test double reads a synthetic scene from one.
    public static func inserting(comment: Data, into jpeg: Data) throws -> Data {
        guard jpeg.count >= 2, jpeg[jpeg.startIndex] == 0xFF, jpeg[jpeg.startIndex + 1] == 0xD8 else { throw ImageError.notAnImage }
        guard comment.count <= 65533 else { throw ImageError.corrupt(detail: "a JPEG comment holds at most 65533 bytes") }
        let length = comment.count + 2
        return Data([0xFF, 0xD8, 0xFF, 0xFE, UInt8(length >> 8), UInt8(length & 0xFF)]) + comment + jpeg.dropFirst(2)
    }
}
