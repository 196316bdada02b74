import CTurboJPEG
@testable import FaceClusterKit
import Foundation

/// Makes JPEG test images in-process: a displayed picture, stored transformed for any EXIF orientation with
/// the tag inserted (what a camera writes), as baseline, progressive, grayscale or CMYK (YCCK + Adobe marker).
enum JPEGFactory {
    enum Kind { case baseline, progressive, grayscale, cmyk }

    /// A displayed image of `width` × `height`: a gray background and, inside `box`, four coloured quadrants
    /// (red top-left, green top-right, blue bottom-left, yellow bottom-right), so a wrong flip or rotation shows.
    static func quadrants(width: Int, height: Int, box: BoundingBox) -> PixelBuffer {
        var buffer = PixelBuffer(width: width, height: height, pixels: [UInt8](repeating: 128, count: width * height * 3))
        let rect = box.pixels(inWidth: width, height: height)
        for y in rect.y..<(rect.y + rect.height) {
            for x in rect.x..<(rect.x + rect.width) {
                let right = x >= rect.x + rect.width / 2, bottom = y >= rect.y + rect.height / 2
                let colour: [UInt8] = switch (right, bottom) {
                case (false, false): Colour.red
                case (true, false): Colour.green
                case (false, true): Colour.blue
                case (true, true): Colour.yellow
                }
                buffer.pixels.replaceSubrange((y * width + x) * 3..<(y * width + x) * 3 + 3, with: colour)
            }
        }
        return buffer
    }

    enum Colour {
        static let red: [UInt8] = [230, 20, 20], green: [UInt8] = [20, 200, 40], blue: [UInt8] = [20, 40, 220], yellow: [UInt8] = [240, 220, 20]
    }

    /// `displayed` stored for `orientation` (the inverse transform), encoded, with the EXIF tag inserted.
    static func jpeg(_ displayed: PixelBuffer, orientation: Orientation = .up, kind: Kind = .baseline, quality: Int = 92) -> Data {
        let stored = orientation == .up ? displayed : displayed.stored(for: orientation)
        let encoded = encode(stored, kind: kind, quality: quality)
        return orientation == .up ? encoded : withOrientation(encoded, orientation)
    }

    static func encode(_ buffer: PixelBuffer, kind: Kind, quality: Int) -> Data {
        let handle = tjInitCompress()!
        defer { tjDestroy(handle) }
        var source = buffer.pixels
        var format = TJPF_RGB, subsampling = TJSAMP_420, flags: Int32 = 0
        switch kind {
        case .baseline: break
        case .progressive: flags = Int32(TJFLAG_PROGRESSIVE)
        case .grayscale: subsampling = TJSAMP_GRAY
        case .cmyk:
            // libjpeg-turbo's CMYK is Adobe's inverted convention (255 = no ink); it writes YCCK + an Adobe marker.
            format = TJPF_CMYK
            subsampling = TJSAMP_444
            source = stride(from: 0, to: buffer.pixels.count, by: 3).flatMap { at -> [UInt8] in
                let (r, g, b) = (Double(buffer.pixels[at]) / 255, Double(buffer.pixels[at + 1]) / 255, Double(buffer.pixels[at + 2]) / 255)
                let k = 1 - max(r, g, b)
                guard k < 1 else { return [255, 255, 255, 0] }
                let (c, m, y) = ((1 - r - k) / (1 - k), (1 - g - k) / (1 - k), (1 - b - k) / (1 - k))
                return [c, m, y, k].map { UInt8(((1 - $0) * 255).rounded()) }
            }
        }
        var output: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let result = tjCompress2(
            handle, source, Int32(buffer.width), 0, Int32(buffer.height), Int32(format.rawValue), &output, &size,
            Int32(subsampling.rawValue), Int32(quality), flags)
        precondition(result == 0, String(cString: tjGetErrorStr2(handle)))
        defer { tjFree(output) }
        return Data(bytes: output!, count: Int(size))
    }

    /// An Exif TIFF structure (big-endian) holding only the orientation tag: what a JPEG's APP1 segment holds
    /// after "Exif\0\0", a PNG's eXIf chunk and a WebP's EXIF chunk hold alone.
    static func exifTIFF(_ orientation: Orientation) -> [UInt8] {
        var tiff: [UInt8] = [0x4D, 0x4D, 0x00, 0x2A, 0, 0, 0, 8]      // MM, 42, IFD0 at 8
        tiff += [0, 1]                                               // one entry
        tiff += [0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, UInt8(orientation.rawValue), 0, 0]  // Orientation, SHORT, 1
        tiff += [0, 0, 0, 0]                                         // no next IFD
        return tiff
    }

    /// Inserts an APP1 Exif segment holding only the orientation tag right after SOI (big-endian TIFF).
    static func withOrientation(_ jpeg: Data, _ orientation: Orientation) -> Data {
        let body = Array("Exif".utf8) + [0, 0] + exifTIFF(orientation)
        let length = body.count + 2
        let segment: [UInt8] = [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + body
        return Data(jpeg.prefix(2)) + Data(segment) + jpeg.dropFirst(2)
    }

    /// Decodes a JPEG fully to RGB (orientation not applied), for checking what the cropper produced.
    static func decode(_ jpeg: Data) -> PixelBuffer {
        let header = try! JPEGHeader(parsing: jpeg)
        return try! TurboJPEG.decode(jpeg, header: header, factor: (1, 1)).buffer
    }

    /// The mean colour of the square of `side` pixels centred at (x, y).
    static func meanColour(_ buffer: PixelBuffer, x: Int, y: Int, side: Int = 6) -> [Double] {
        var sum = [0.0, 0.0, 0.0]
        var count = 0.0
        for yy in (y - side / 2)..<(y + side / 2) {
            for xx in (x - side / 2)..<(x + side / 2) {
                for channel in 0..<3 { sum[channel] += Double(buffer.pixels[(yy * buffer.width + xx) * 3 + channel]) }
                count += 1
            }
        }
        return sum.map { $0 / count }
    }

    static func close(_ colour: [Double], to expected: [UInt8], tolerance: Double = 40) -> Bool {
        zip(colour, expected).allSatisfy { abs($0 - Double($1)) <= tolerance }
    }
}
