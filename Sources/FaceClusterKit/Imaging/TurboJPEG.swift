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

/// Follows a JPEG decode as it writes an upright image, row by row from the top (``PhotoPixels/upright(maximumPixels:wholePhotoPixels:follower:)``):
/// work on the rows already decoded — a tile's face scan — can run on another thread while the rest is
/// entropy-decoded, which is a big JPEG's longest single-threaded step (a 181 MB CMYK 100 MP photo: about 2.6 s).
public protocol DecodeFollower: AnyObject, Sendable {
    /// The first `rows` rows of `pixels` (RGB, 3 bytes a pixel, rows of the decoded image's width) are final.
    /// Called on the decoding thread, in order, at least every 32 rows; return quickly (hand work to another thread).
    func rowsReady(_ pixels: UnsafePointer<UInt8>, rows: Int)
    /// The decode stopped. With `keepsPixels` it succeeded: every row is final, and the pointer given to
    /// ``rowsReady(_:rows:)`` addresses the storage of the image the decode returns, valid as long as that image
    /// lives. Without, the decode failed — rows reported may be damaged too (libjpeg fills the rows of a file cut
    /// short with grey and says so at the end) — and the storage is freed once this returns: wait here for
    /// whatever still reads it, and never read it again.
    func decodeEnded(keepsPixels: Bool)
}

/// A follower, as the C callback's context.
private final class FollowerContext {
    let follower: any DecodeFollower
    init(_ follower: any DecodeFollower) { self.follower = follower }
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
    /// ``ImageError/overBudget(detail:)``; a mapped file cut short while it was read (``MappedFile``) is
    /// ``ImageError/changedWhileRead``. libjpeg reads `data` a megabyte at a time and releases a mapped file's
    /// pages behind it.
    ///
    /// With an `orientation` other than `.up` (only for the whole image: no `columns`, no `bands`), the result is
    /// the image as displayed. Each decoded row is written straight to where it is displayed, so the photo is
    /// held once (turning a decoded 100 MP photo's half-size decode afterwards held 72 MB twice).
    ///
    /// CMYK and YCCK rows are converted to RGB as they are decoded (``fck_decode_region``): Adobe
    /// applications write CMYK inverted (0 = full ink), which the APP14 marker signals; others store plain CMYK.
    /// Converting the whole image afterwards held it at 4 bytes a pixel (a 100 MP photo's half-size decode:
    /// 100 MB where its RGB is 75 MB) and turned it into a second copy.
    ///
    /// A `follower` of an upright whole image (orientation `.up`, no `columns`, no `bands`; ignored otherwise) is
    /// told as rows become final, and that the decode ended before the pixels are handed over or freed.
    static func decode(
        _ data: Data, header: JPEGHeader, factor: (num: Int, denom: Int), columns: Range<Int>? = nil, bands: [Range<Int>]? = nil,
        orientation: Orientation = .up, follower: (any DecodeFollower)? = nil
    ) throws -> DecodedRegion {
        precondition(orientation == .up || (columns == nil && bands == nil), "only a whole image is decoded turned")
        let cmyk = header.components == 4
        let turned = orientation != .up
        let follower = orientation == .up && columns == nil && bands == nil ? follower.map(FollowerContext.init) : nil
        let rows = (bands ?? [0..<scaled(header.height, by: factor)]).flatMap { [UInt32($0.lowerBound), UInt32($0.upperBound)] }
        let capacity = scaled(header.width, by: factor) * scaled(header.height, by: factor) * 3
        var result = fck_region_result()
        var status: Int32 = -1
        // libjpeg writes the band rows straight into the array; the rows between bands stay unwritten and
        // are never read (the bands include the resampler's slack).
        let samples = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            status = data.withUnsafeBytes { raw in
                rows.withUnsafeBufferPointer { rows in
                    var request = fck_region_request(
                        scale_num: Int32(factor.num), scale_denom: Int32(factor.denom), cmyk: cmyk ? 1 : 0, cmyk_inverted: header.adobe ? 1 : 0,
                        crop_x: UInt32(columns?.lowerBound ?? 0), crop_width: UInt32(columns?.count ?? 0),
                        bands: rows.baseAddress, band_count: UInt32(rows.count / 2), max_scans: 500,
                        stop_after_bands: 1, fast_upsampling: 1, max_memory: memoryLimit,
                        orientation: turned ? Int32(orientation.rawValue) : 1,
                        rows_ready: follower == nil ? nil : { context, pixels, rows in
                            guard let context, let pixels else { return }
                            Unmanaged<FollowerContext>.fromOpaque(context).takeUnretainedValue().follower.rowsReady(pixels, rows: Int(rows))
                        },
                        rows_context: follower.map { Unmanaged.passUnretained($0).toOpaque() })
                    return withExtendedLifetime(follower) {
                        fck_decode_region(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &request, buffer.baseAddress, capacity, &result)
                    }
                }
            }
            // A failed decode's storage is freed with the array: the follower stops reading it first.
            if status != 0 { follower?.follower.decodeEnded(keepsPixels: false) }
            initialized = status == 0 ? Int(result.width) * Int(result.height) * Int(result.components) : 0
        }
        do {
            try MappedFile.checkIntact(data)
            let message = withUnsafeBytes(of: result.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard status == 0 else {
                if message.contains("Backing store") || message.contains("Insufficient memory") {
                    throw ImageError.overBudget(detail: "more than \(memoryLimit / 1_048_576) MB to decode")
                }
                throw message.contains("Premature end") ? ImageError.truncated : ImageError.corrupt(detail: message)
            }
            guard result.truncated == 0, header.isComplete(data) else { throw ImageError.truncated }
            if result.damaged > 0 { throw ImageError.damaged(detail: message) }
        } catch {
            if status == 0 { withExtendedLifetime(samples) { follower?.follower.decodeEnded(keepsPixels: false) } }
            throw error
        }
        // The storage the follower reads is the returned image's from here on.
        follower?.follower.decodeEnded(keepsPixels: true)
        let (width, height) = turned && orientation.swapsDimensions ? (Int(result.height), Int(result.width)) : (Int(result.width), Int(result.height))
        let buffer = PixelBuffer(width: width, height: height, pixels: samples)
        let full = (scaled(header.width, by: factor), scaled(header.height, by: factor))
        return DecodedRegion(
            buffer: buffer, xOffset: Int(result.x_offset),
            fullWidth: orientation.swapsDimensions ? full.1 : full.0, fullHeight: orientation.swapsDimensions ? full.0 : full.1)
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
