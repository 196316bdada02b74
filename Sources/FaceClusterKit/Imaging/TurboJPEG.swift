#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CTurboJPEG

/// The few libturbojpeg calls the cropper makes, with its errors turned into ``ImageError``s.
/// A handle is not thread-safe, so each call uses its own (creating one costs microseconds).
enum TurboJPEG {
    /// The DCT scaling factors libjpeg-turbo decodes at directly, at most 1 (1/8, 1/4, 3/8, … 1), smallest first.
    static let scalingFactors: [(num: Int, denom: Int)] = {
        var count: Int32 = 0
        guard let factors = tjGetScalingFactors(&count) else { return [(1, 1)] }
        return (0..<Int(count)).map { (Int(factors[$0].num), Int(factors[$0].denom)) }
            .filter { $0.num <= $0.denom }
            .sorted { Double($0.num) / Double($0.denom) < Double($1.num) / Double($1.denom) }
    }()

    /// The smallest scaling factor that is at least `scale` (1 when none is).
    static func factor(atLeast scale: Double) -> (num: Int, denom: Int) {
        scalingFactors.first { Double($0.num) / Double($0.denom) >= scale - 1e-9 } ?? (1, 1)
    }

    /// `dimension` scaled by `factor`, as libjpeg-turbo computes it (rounding up).
    static func scaled(_ dimension: Int, by factor: (num: Int, denom: Int)) -> Int {
        (dimension * factor.num + factor.denom - 1) / factor.denom
    }

    /// Decodes `data` at `factor` into RGB; CMYK and YCCK (Adobe-inverted or not) are converted to RGB.
    static func decode(_ data: Data, header: JPEGHeader, factor: (num: Int, denom: Int)) throws -> PixelBuffer {
        guard let handle = tjInitDecompress() else { throw ImageError.corrupt(detail: "libturbojpeg could not start") }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let headerResult = data.withUnsafeBytes { raw in
            tjDecompressHeader3(handle, raw.bindMemory(to: UInt8.self).baseAddress, UInt(raw.count), &width, &height, &subsampling, &colorspace)
        }
        guard headerResult == 0 else { throw error(handle) }
        let cmyk = colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue)
        let scaledWidth = scaled(Int(width), by: factor), scaledHeight = scaled(Int(height), by: factor)
        let channels = cmyk ? 4 : 3
        var decoded = [UInt8](repeating: 0, count: scaledWidth * scaledHeight * channels)
        let format = cmyk ? TJPF_CMYK : TJPF_RGB
        let flags = TJFLAG_LIMITSCANS
        let result = data.withUnsafeBytes { raw in
            decoded.withUnsafeMutableBufferPointer { target in
                tjDecompress2(
                    handle, raw.bindMemory(to: UInt8.self).baseAddress, UInt(raw.count), target.baseAddress,
                    Int32(scaledWidth), 0, Int32(scaledHeight), Int32(format.rawValue), Int32(flags))
            }
        }
        if result != 0 {
            let failure = error(handle)
            // A warning leaves a usable image (extraneous bytes, say), except when the data ran out.
            if tjGetErrorCode(handle) != Int32(TJERR_WARNING.rawValue) || failure == .truncated { throw failure }
        }
        guard cmyk else { return PixelBuffer(width: scaledWidth, height: scaledHeight, pixels: decoded) }
        return PixelBuffer(width: scaledWidth, height: scaledHeight, pixels: rgb(fromCMYK: decoded, inverted: header.adobe))
    }

    /// CMYK to RGB. Adobe applications write CMYK JPEGs inverted (0 = full ink), which is what the APP14
    /// marker signals; others store plain CMYK.
    static func rgb(fromCMYK cmyk: [UInt8], inverted: Bool) -> [UInt8] {
        let count = cmyk.count / 4
        var rgb = [UInt8](repeating: 0, count: count * 3)
        for pixel in 0..<count {
            var c = Int(cmyk[pixel * 4]), m = Int(cmyk[pixel * 4 + 1]), y = Int(cmyk[pixel * 4 + 2]), k = Int(cmyk[pixel * 4 + 3])
            if !inverted { (c, m, y, k) = (255 - c, 255 - m, 255 - y, 255 - k) }
            rgb[pixel * 3] = UInt8((c * k + 127) / 255)
            rgb[pixel * 3 + 1] = UInt8((m * k + 127) / 255)
            rgb[pixel * 3 + 2] = UInt8((y * k + 127) / 255)
        }
        return rgb
    }

    /// Encodes RGB pixels as a baseline JPEG with 4:2:0 chroma subsampling.
    static func encode(_ buffer: PixelBuffer, quality: Int) throws -> Data {
        guard let handle = tjInitCompress() else { throw ImageError.corrupt(detail: "libturbojpeg could not start") }
        defer { tjDestroy(handle) }
        var output: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let result = buffer.pixels.withUnsafeBufferPointer { source in
            tjCompress2(
                handle, source.baseAddress, Int32(buffer.width), 0, Int32(buffer.height), Int32(TJPF_RGB.rawValue),
                &output, &size, Int32(TJSAMP_420.rawValue), Int32(min(max(quality, 1), 100)), 0)
        }
        defer { tjFree(output) }
        guard result == 0, let output else { throw error(handle) }
        return Data(bytes: output, count: Int(size))
    }

    private static func error(_ handle: tjhandle) -> ImageError {
        let message = tjGetErrorStr2(handle).map { String(cString: $0) } ?? "unknown libjpeg error"
        if message.contains("Premature end") || message.contains("insufficient") { return .truncated }
        return .corrupt(detail: message)
    }
}
