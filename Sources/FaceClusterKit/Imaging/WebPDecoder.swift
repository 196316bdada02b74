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
/// Cost: one whole decode; libwebp holds the RGBA (lossless) or YUV (lossy) frame, about 4 bytes a pixel at peak.
public struct WebPDecoder: PhotoDecoder {
    public init() {}

    public var format: ImageFormat { .webp }

    public func size(of data: Data) throws -> (width: Int, height: Int) {
        let features = try features(of: data)
        return (Int(features.width), Int(features.height))
    }

    public func decode(_ data: Data) throws -> PixelBuffer {
        let features = try features(of: data)
        guard features.has_animation == 0 else { throw ImageError.unsupportedFormat("animated WebP") }
        var config = WebPDecoderConfig()
        guard WebPInitDecoderConfig(&config) != 0 else { throw ImageError.corrupt(detail: "libwebp's decoder version does not match its header") }
        let alpha = features.has_alpha != 0
        config.output.colorspace = alpha ? MODE_RGBA : MODE_RGB
        let status = data.withUnsafeBytes { bytes in
            WebPDecode(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count, &config)
        }
        defer { WebPFreeDecBuffer(&config.output) }
        guard status == VP8_STATUS_OK else { throw Self.error(status) }
        let (width, height) = (Int(config.output.width), Int(config.output.height))
        let rgba = config.output.u.RGBA
        return PixelBuffer(width: width, height: height, interleaved: rgba.rgba, stride: Int(rgba.stride), alpha: alpha)
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
