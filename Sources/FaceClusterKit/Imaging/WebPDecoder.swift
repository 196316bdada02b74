import CWebP
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// WebP through libwebp (Debian's `libwebp-dev`, linked statically): lossy and lossless, with or without
/// alpha (composited over white). Animated WebP is refused as an unsupported variant. The EXIF orientation a
/// WebP may carry is not applied (cameras and phones do not write WebP; browsers differ on it).
///
/// Cost: one whole decode, written straight into the returned pixels (RGB, or RGBA composited in place), so
/// the frame is held once: 3 bytes a pixel (4 with alpha), plus the ARGB frame libwebp decodes a lossless image
/// into. A 40 MP lossy WebP: 467 MB at peak in `facecluster ingest` when libwebp's own output was copied.
public struct WebPDecoder: PhotoDecoder {
    public init() {}

    public var format: ImageFormat { .webp }

    public func size(of data: Data) throws -> (width: Int, height: Int) {
        let features = try features(of: data)
        return (Int(features.width), Int(features.height))
    }

    /// 3 bytes a pixel for lossy WebP without alpha (written straight into the returned pixels), else 4 as
    /// before. A lossless frame really holds about 7 (libwebp's ARGB frame beside the pixels); the budget keeps
    /// its earlier reach for those, which are screenshots and graphics far more than big photos.
    public func peakMemory(of data: Data, width: Int, height: Int) -> Int {
        guard let features = try? features(of: data), features.has_alpha == 0, features.format == 1 else { return width * height * 4 }
        return width * height * 3
    }

    public func decode(_ data: Data) throws -> PixelBuffer {
        let features = try features(of: data)
        guard features.has_animation == 0 else { throw ImageError.unsupportedFormat("animated WebP") }
        var config = WebPDecoderConfig()
        guard WebPInitDecoderConfig(&config) != 0 else { throw ImageError.corrupt(detail: "libwebp's decoder version does not match its header") }
        let alpha = features.has_alpha != 0
        let (width, height, channels) = (Int(features.width), Int(features.height), alpha ? 4 : 3)
        guard width > 0, height > 0 else { throw ImageError.corrupt(detail: "a WebP of \(width)×\(height) pixels") }
        config.output.colorspace = alpha ? MODE_RGBA : MODE_RGB
        var status = VP8_STATUS_OK
        var pixels = [UInt8](unsafeUninitializedCapacity: width * height * channels) { buffer, initialized in
            // libwebp writes into our array (external memory) instead of a buffer of its own we would copy.
            config.output.is_external_memory = 1
            config.output.u.RGBA.rgba = buffer.baseAddress
            config.output.u.RGBA.stride = Int32(width * channels)
            config.output.u.RGBA.size = buffer.count
            status = data.withUnsafeBytes { bytes in
                WebPDecode(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count, &config)
            }
            initialized = status == VP8_STATUS_OK ? buffer.count : 0
        }
        WebPFreeDecBuffer(&config.output)
        guard status == VP8_STATUS_OK else { throw Self.error(status) }
        guard Int(config.output.width) == width, Int(config.output.height) == height else {
            throw ImageError.corrupt(detail: "the WebP header says \(width)×\(height), the frame is \(config.output.width)×\(config.output.height)")
        }
        if alpha { PixelBuffer.compositeOverWhiteInPlace(&pixels, count: width * height) }
        return PixelBuffer(width: width, height: height, pixels: pixels)
    }

    private func features(of data: Data) throws -> WebPBitstreamFeatures {
        var features = WebPBitstreamFeatures()
        let status = data.withUnsafeBytes { bytes in
            WebPGetFeatures(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count, &features)
        }
        guard status == VP8_STATUS_OK else { throw Self.error(status) }
        return features
    }

    private static func error(_ status: VP8StatusCode) -> ImageError {
        switch status {
        case VP8_STATUS_NOT_ENOUGH_DATA: .truncated
        case VP8_STATUS_UNSUPPORTED_FEATURE: .unsupportedFormat("a WebP feature libwebp \(version) does not decode")
        case VP8_STATUS_OUT_OF_MEMORY: .overBudget(detail: "libwebp ran out of memory")
        default: .damaged(detail: "WebP: the bitstream is invalid (libwebp status \(status.rawValue))")
        }
    }

    private static var version: String {
        let packed = WebPGetDecoderVersion()
        return "\(packed >> 16).\((packed >> 8) & 0xFF).\(packed & 0xFF)"
    }
}
