#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CJPEGRegion
import CTurboJPEG

/// Decoded pixels of part of a JPEG: columns from `xOffset` of an image `fullWidth` × `fullHeight` (scaled).
struct DecodedRegion {
    var buffer: PixelBuffer
    var xOffset: Int
    var fullWidth: Int
    var fullHeight: Int
}

/// The libjpeg-turbo calls the cropper makes, with errors turned into ``ImageError``s: region decoding through
/// the libjpeg API (`CJPEGRegion`), encoding through TurboJPEG. A TurboJPEG handle is not thread-safe, so
/// each call uses its own (creating one costs microseconds).
enum TurboJPEG {
    /// The DCT scales the cropper decodes at, smallest first: those whose inverse DCT libjpeg-turbo runs with
    /// SIMD (1/8 is DC-only). The others (3/8, 5/8, 3/4, 7/8) use plain C and are slower than the next larger
    /// SIMD scale — measured here on a 3 MP photo with `djpeg`: 7/8 20.9 ms, 3/4 18.1 ms, 1/1 14.1 ms, 1/2 12.4 ms.
    static let scalingFactors: [(num: Int, denom: Int)] = [(1, 8), (1, 4), (1, 2), (1, 1)]

    /// The smallest scaling factor that is at least `scale` (1 when none is).
    static func factor(atLeast scale: Double) -> (num: Int, denom: Int) {
        scalingFactors.first { Double($0.num) / Double($0.denom) >= scale - 1e-9 } ?? (1, 1)
    }

    /// `dimension` scaled by `factor`, as libjpeg-turbo computes it (rounding up).
    static func scaled(_ dimension: Int, by factor: (num: Int, denom: Int)) -> Int {
        (dimension * factor.num + factor.denom - 1) / factor.denom
    }

    /// The most memory one decode may take (the header check refuses bigger progressive frames first).
    static let memoryLimit = 256 * 1_048_576

    /// Decodes the rows in `bands` and the columns in `columns` (scaled pixels, `nil`: all) of `data` at
    /// `factor`, into RGB; CMYK and YCCK (Adobe-inverted or not) are converted. Rows before and between the
    /// bands are entropy-decoded but not reconstructed (they stay black); decoding stops after the last band.
    /// A file cut short is reported either way: libjpeg notices inside the bands, the end marker check after
    /// them. Progressive images with more than 500 scans are refused; data libjpeg reports as damaged (a
    /// corrupt-data warning) is ``ImageError/damaged(detail:)``; more than ``memoryLimit`` is
    /// ``ImageError/overBudget(detail:)``.
    ///
    /// With an `orientation` other than `.up` (only for the whole image: no `columns`, no `bands`), the result is
    /// the image as displayed. An RGB image's rows are written straight to where they are displayed, so the photo
    /// is held once (turning a decoded 100 MP photo's half-size decode afterwards held 72 MB twice); CMYK is
    /// turned after its conversion.
    static func decode(
        _ data: Data, header: JPEGHeader, factor: (num: Int, denom: Int), columns: Range<Int>? = nil, bands: [Range<Int>]? = nil,
        orientation: Orientation = .up
    ) throws -> DecodedRegion {
        precondition(orientation == .up || (columns == nil && bands == nil), "only a whole image is decoded turned")
        let cmyk = header.components == 4
        let turned = orientation != .up && !cmyk
        let rows = (bands ?? [0..<scaled(header.height, by: factor)]).flatMap { [UInt32($0.lowerBound), UInt32($0.upperBound)] }
        let capacity = scaled(header.width, by: factor) * scaled(header.height, by: factor) * (cmyk ? 4 : 3)
        var result = fck_region_result()
        var status: Int32 = -1
        // libjpeg writes the band rows straight into the array; the rows between bands stay unwritten and
        // are never read (the bands include the resampler's slack).
        var samples = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            status = data.withUnsafeBytes { raw in
                rows.withUnsafeBufferPointer { rows in
                    var request = fck_region_request(
                        scale_num: Int32(factor.num), scale_denom: Int32(factor.denom), cmyk: cmyk ? 1 : 0,
                        crop_x: UInt32(columns?.lowerBound ?? 0), crop_width: UInt32(columns?.count ?? 0),
                        bands: rows.baseAddress, band_count: UInt32(rows.count / 2), max_scans: 500,
                        stop_after_bands: 1, fast_upsampling: 1, max_memory: memoryLimit,
                        orientation: turned ? Int32(orientation.rawValue) : 1)
                    return fck_decode_region(
                        raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &request, buffer.baseAddress, capacity, &result)
                }
            }
            initialized = status == 0 ? Int(result.width) * Int(result.height) * Int(result.components) : 0
        }
        let message = withUnsafeBytes(of: result.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard status == 0 else {
            if message.contains("Backing store") || message.contains("Insufficient memory") {
                throw ImageError.overBudget(detail: "more than \(memoryLimit / 1_048_576) MB to decode")
            }
            throw message.contains("Premature end") ? ImageError.truncated : ImageError.corrupt(detail: message)
        }
        guard result.truncated == 0, header.isComplete(data) else { throw ImageError.truncated }
        if result.damaged > 0 { throw ImageError.damaged(detail: message) }
        if result.components == 4 {
            rgbInPlace(fromCMYK: &samples, width: Int(result.width), height: Int(result.height), bands: bands, inverted: header.adobe)
        }
        let pixels = samples
        let (width, height) = turned && orientation.swapsDimensions ? (Int(result.height), Int(result.width)) : (Int(result.width), Int(result.height))
        var buffer = PixelBuffer(width: width, height: height, pixels: pixels)
        if orientation != .up && !turned { buffer = buffer.oriented(orientation) }
        let full = (scaled(header.width, by: factor), scaled(header.height, by: factor))
        return DecodedRegion(
            buffer: buffer, xOffset: Int(result.x_offset),
            fullWidth: orientation.swapsDimensions ? full.1 : full.0, fullHeight: orientation.swapsDimensions ? full.0 : full.1)
    }

    /// CMYK to RGB, in the same buffer, for the rows in `bands` (all when `nil`): the other rows were never
    /// decoded and are never read, so they are neither converted nor touched. Adobe applications write CMYK
    /// JPEGs inverted (0 = full ink), which is what the APP14 marker signals; others store plain CMYK. Pixel p's
    /// RGB goes to bytes 3p…3p+2, which no pixel after it is read from (they start at 4p + 4), so rows go front to
    /// back in place; the buffer then holds `width × height × 3` bytes. A new RGB array, as this once made, wrote
    /// every row of it: the thumbnails of a 100 MP CMYK photo decoded at full size held 300 MB of it for the
    /// rows of a few faces, and the local engine's decode held both buffers at once.
    static func rgbInPlace(fromCMYK samples: inout [UInt8], width: Int, height: Int, bands: [Range<Int>]?, inverted: Bool) {
        samples.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            for band in bands ?? [0..<height] {
                for row in max(band.lowerBound, 0)..<min(band.upperBound, height) {
                    for pixel in row * width..<(row + 1) * width {
                        var c = Int(base[pixel * 4]), m = Int(base[pixel * 4 + 1]), y = Int(base[pixel * 4 + 2]), k = Int(base[pixel * 4 + 3])
                        if !inverted { (c, m, y, k) = (255 - c, 255 - m, 255 - y, 255 - k) }
                        base[pixel * 3] = UInt8((c * k + 127) / 255)
                        base[pixel * 3 + 1] = UInt8((m * k + 127) / 255)
                        base[pixel * 3 + 2] = UInt8((y * k + 127) / 255)
                    }
                }
            }
        }
        samples.removeLast(samples.count - width * height * 3)
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
        .corrupt(detail: tjGetErrorStr2(handle).map { String(cString: $0) } ?? "unknown libjpeg error")
    }
}
