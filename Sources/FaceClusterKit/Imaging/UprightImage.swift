#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// A photo decoded to RGB as displayed (orientation applied), reduced when it is large: what a face engine
/// analyses. JPEG is decoded at a reduced DCT scale; the formats of ``PhotoDecoders`` whole, then shrunk. Boxes found in it, divided by its size, are normalized to the displayed
/// photo, as the ports expect.
public struct UprightImage: Sendable {
    public let width: Int
    public let height: Int
    /// Interleaved 8-bit RGB, rows top to bottom.
    public let pixels: [UInt8]
    /// The scale it was decoded at, as a fraction of the photo's displayed size (a JPEG's DCT scale: 1, 1/2,
    /// 1/4 or 1/8; any fraction for the other formats).
    public let scale: Double

    /// Pixels already decoded (a tile of a larger image, a test's picture).
    public init(width: Int, height: Int, pixels: [UInt8], scale: Double) {
        precondition(pixels.count == width * height * 3)
        self.width = width
        self.height = height
        self.pixels = pixels
        self.scale = scale
    }

    /// Decodes `data` at the largest of libjpeg-turbo's fast scales (1, 1/2, 1/4, 1/8) that gives at most
    /// `maximumPixels` (1/8 when none does); another format by its decoder in `decoders`, shrunk to at most
    /// `maximumPixels`. A photo of at most `wholePhotoPixels` is decoded whole at full size, whatever
    /// `maximumPixels` says. Formats without a decoder, truncated or
    /// damaged files and photos over `pixelLimit` or `budget` throw the same ``ImageError``s as
    /// ``TurboJPEGThumbnailCropper``.
    public init(
        decoding data: Data, maximumPixels: Int = 2_000_000, wholePhotoPixels: Int = 0, pixelLimit: Int = 100_000_000,
        decoders: PhotoDecoders = .standard, budget: DecodeBudget = DecodeBudget()
    ) throws {
        self = try PhotoPixels(data, pixelLimit: pixelLimit, decoders: decoders, budget: budget)
            .upright(maximumPixels: maximumPixels, wholePhotoPixels: wholePhotoPixels)
    }

    /// A JPEG decoded at the largest DCT scale that gives at most `maximumPixels` (see ``init(decoding:maximumPixels:wholePhotoPixels:pixelLimit:decoders:budget:)``).
    fileprivate init(jpeg data: Data, maximumPixels: Int, wholePhotoPixels: Int, pixelLimit: Int, budget: DecodeBudget, follower: (any DecodeFollower)? = nil) throws {
        let header = try JPEGHeader(checking: data, pixelLimit: pixelLimit, budget: budget)
        let factor = Self.factor(header, maximumPixels: maximumPixels, wholePhotoPixels: wholePhotoPixels)
        let decoded = try TurboJPEG.decode(data, header: header, factor: factor, orientation: header.orientation, follower: follower).buffer
        self.width = decoded.width
        self.height = decoded.height
        self.pixels = decoded.pixels
        self.scale = Double(factor.num) / Double(factor.denom)
    }

    /// The DCT scale a JPEG of `header` is decoded at for `maximumPixels` and `wholePhotoPixels`.
    fileprivate static func factor(_ header: JPEGHeader, maximumPixels: Int, wholePhotoPixels: Int) -> (num: Int, denom: Int) {
        let maximumPixels = header.width * header.height <= wholePhotoPixels ? header.width * header.height : maximumPixels
        return TurboJPEG.scalingFactors.reversed().first { factor in
            TurboJPEG.scaled(header.width, by: factor) * TurboJPEG.scaled(header.height, by: factor) <= maximumPixels
        } ?? TurboJPEG.scalingFactors[0]
    }

    /// This image reduced `factor` times in each direction, each pixel the mean of its `factor` × `factor` block
    /// (the last row and column of blocks the mean of the pixels they have, so the size is ⌈width / factor⌉ ×
    /// ⌈height / factor⌉, as libjpeg-turbo rounds its DCT scales). A JPEG decoded at 1/2 and reduced 4 times is
    /// its 1/8 decode but for rounding and chroma smoothing: the 1/8 scale is each 8 × 8 block's DC term, its mean.
    /// Cost: one read of every pixel.
    public func reduced(by factor: Int) -> UprightImage {
        precondition(factor >= 1)
        guard factor > 1 else { return self }
        let (width, height) = ((self.width + factor - 1) / factor, (self.height + factor - 1) / factor)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        var sums = [Int](repeating: 0, count: width * 3)
        self.pixels.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { target in
                for y in 0..<height {
                    for index in sums.indices { sums[index] = 0 }
                    let rows = min(factor, self.height - y * factor)
                    for row in y * factor..<y * factor + rows {
                        let line = row * self.width * 3
                        for x in 0..<self.width {
                            let sum = x / factor * 3, from = line + x * 3
                            sums[sum] += Int(source[from])
                            sums[sum + 1] += Int(source[from + 1])
                            sums[sum + 2] += Int(source[from + 2])
                        }
                    }
                    for x in 0..<width {
                        let count = rows * min(factor, self.width - x * factor)
                        for channel in 0..<3 {
                            target[(y * width + x) * 3 + channel] = UInt8((sums[x * 3 + channel] + count / 2) / count)
                        }
                    }
                }
            }
        }
        return UprightImage(width: width, height: height, pixels: pixels, scale: scale / Double(factor))
    }
}

/// A photo's bytes, to be decoded at several sizes (the engine's first pass, then its tiled passes): a JPEG at
/// each size's DCT scale; another format decoded whole. A decode to ``YCbCrImage`` planes (HEIC) is kept for the
/// next call, as long as this object lives: 1.5 bytes a pixel held, against libheif's peak of about 5 and its
/// time (a 48 MP HEIC: 3.4 s a decode; `ingest` 15.3 → 11.6 s) when decoding again. RGB is decoded again: holding
/// its 3 bytes a pixel through the tiled passes raised a 40 MP PNG's `ingest` from 252 to 288 MB at peak.
public final class PhotoPixels: Sendable {
    private let data: Data
    private let decoder: (any PhotoDecoder)?
    private let pixelLimit: Int
    private let budget: DecodeBudget
    private let decoded = Mutex<(any DecodedImage)?>(nil)

    /// - Throws: ``ImageError/notAnImage`` or ``ImageError/unsupportedFormat(_:)`` when `decoders` cannot read it.
    public init(_ data: Data, pixelLimit: Int = 100_000_000, decoders: PhotoDecoders = .standard, budget: DecodeBudget = DecodeBudget()) throws {
        self.data = data
        self.decoder = try decoders.decoder(for: data)
        self.pixelLimit = pixelLimit
        self.budget = budget
    }

    /// The photo upright, at most `maximumPixels` large (a photo of at most `wholePhotoPixels` whole), as
    /// ``UprightImage/init(decoding:maximumPixels:wholePhotoPixels:pixelLimit:decoders:budget:)`` decodes it.
    /// Runs on the caller's thread (CPU-heavy: put it on ``BlockingWork``). A `follower` is told of the rows as they
    /// are decoded when the photo is a JPEG displayed as stored (EXIF orientation 1 or none); otherwise it is
    /// never called.
    public func upright(maximumPixels: Int = 2_000_000, wholePhotoPixels: Int = 0, follower: (any DecodeFollower)? = nil) throws -> UprightImage {
        guard let decoder else {
            return try UprightImage(
                jpeg: data, maximumPixels: maximumPixels, wholePhotoPixels: wholePhotoPixels, pixelLimit: pixelLimit, budget: budget, follower: follower)
        }
        let full = try decoded.withLock { kept in
            if let kept { return kept }
            let image = try PhotoDecoders.decodeImage(data, by: decoder, pixelLimit: pixelLimit, budget: budget)
            if image is YCbCrImage { kept = image }
            return image
        }
        let shrunk = PhotoDecoders.shrunk(full, maximumPixels: maximumPixels, wholePhotoPixels: wholePhotoPixels)
        return UprightImage(width: shrunk.buffer.width, height: shrunk.buffer.height, pixels: shrunk.buffer.pixels, scale: shrunk.scale)
    }

    /// For a JPEG, the DCT scale ``upright(maximumPixels:wholePhotoPixels:)`` decodes it at and the size of that
    /// image (displayed); `nil` for another format. Reads the header only.
    /// - Throws: the header's ``ImageError``s, as the decode would.
    public func jpegScale(maximumPixels: Int = 2_000_000, wholePhotoPixels: Int = 0) throws -> (scale: Double, width: Int, height: Int)? {
        guard decoder == nil else { return nil }
        let header = try JPEGHeader(checking: data, pixelLimit: pixelLimit, budget: budget)
        let factor = UprightImage.factor(header, maximumPixels: maximumPixels, wholePhotoPixels: wholePhotoPixels)
        return (Double(factor.num) / Double(factor.denom), TurboJPEG.scaled(header.displayWidth, by: factor), TurboJPEG.scaled(header.displayHeight, by: factor))
    }

    /// The bytes decoding this photo whole holds at its peak (``PhotoDecoder/peakMemory(of:width:height:)``), from
    /// its header; 0 for a JPEG (decoded at a reduced DCT scale and in regions, within ``DecodeBudget`` by its
    /// own checks) and for a header that cannot be read (its decode then fails). Parses the header: call it on
    /// ``BlockingWork``.
    public func wholeDecodeMemory() -> Int {
        guard let decoder, let size = try? decoder.size(of: data) else { return 0 }
        return decoder.peakMemory(of: data, width: size.width, height: size.height)
    }

    /// Hands decoded pixels to the thumbnail cut that follows for the same bytes (``RecentlyDecoded``): the kept
    /// planes, if any (a 48 MP HEIC is then decoded once, not twice: about 3.5 s a decode), else `decoded`, a
    /// JPEG's image at its tiled pass's scale (the cut takes it when that scale is at least the one it would decode
    /// at, so a big JPEG is not entropy-decoded a second time: a 181 MB CMYK 100 MP photo, about 2.4 s). For an
    /// engine that found faces, whose thumbnails are cut next.
    public func handOffForThumbnails(_ decoded: UprightImage? = nil) {
        if let planes = self.decoded.withLock({ $0 }) as? YCbCrImage {
            RecentlyDecoded.shared.offer(planes, scale: 1, for: data, pixelLimit: pixelLimit, budget: budget)
        } else if decoder == nil, let decoded {
            let buffer = PixelBuffer(width: decoded.width, height: decoded.height, pixels: decoded.pixels)
            RecentlyDecoded.shared.offer(buffer, scale: decoded.scale, for: data, pixelLimit: pixelLimit, budget: budget)
        }
    }
}

/// Pixels an engine handed off (``PhotoPixels/handOffForThumbnails(_:)``), taken by the next decode of the same
/// bytes with the same limits (``TurboJPEGThumbnailCropper``'s): at most two (one a job of `--jobs 2`), each
/// dropped when taken, when two newer ones came, or when it is a minute old at the next hand-off.
final class RecentlyDecoded: Sendable {
    private struct Entry {
        var data: Data
        var image: any DecodedImage
        /// The image's size as a fraction of the photo's displayed size.
        var scale: Double
        var pixelLimit: Int
        var budget: DecodeBudget
        var since: ContinuousClock.Instant
    }

    /// The process's: what the local engine hands off and the thumbnail cropper takes.
    static let shared = RecentlyDecoded(capacity: 2)

    private let entries = Mutex<[Entry]>([])
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// `image` is the photo upright at `scale` of its displayed size.
    func offer(_ image: any DecodedImage, scale: Double, for data: Data, pixelLimit: Int, budget: DecodeBudget) {
        let now = ContinuousClock.now
        entries.withLock { entries in
            entries.removeAll { now - $0.since > .seconds(60) }
            entries.append(Entry(data: data, image: image, scale: scale, pixelLimit: pixelLimit, budget: budget, since: now))
            if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
        }
    }

    /// The image handed off for `data`, removed; `nil` when there is none or it is smaller than `minimumScale`
    /// of the displayed photo (then it is dropped). The same bytes are recognised by their address (the
    /// pipeline hands one `Data` to the engine and the cropper) or compared byte for byte (about 5 ms for 48 MB).
    func take(for data: Data, pixelLimit: Int, budget: DecodeBudget, minimumScale: Double = 1) -> (any DecodedImage)? {
        takeScaled(for: data, pixelLimit: pixelLimit, budget: budget).flatMap { $0.scale >= minimumScale - 1e-9 ? $0.image : nil }
    }

    /// The image handed off for `data` and its scale (a fraction of the displayed photo), removed; `nil` when
    /// there is none.
    func takeScaled(for data: Data, pixelLimit: Int, budget: DecodeBudget) -> (image: any DecodedImage, scale: Double)? {
        entries.withLock { entries in
            guard let index = entries.firstIndex(where: {
                $0.data.count == data.count && $0.pixelLimit == pixelLimit && $0.budget == budget && Self.same($0.data, data)
            }) else { return nil }
            let entry = entries.remove(at: index)
            return (entry.image, entry.scale)
        }
    }

    /// Byte-for-byte equality that does not read a mapped photo's pages when both are the same memory.
    private static func same(_ a: Data, _ b: Data) -> Bool {
        let identical = a.withUnsafeBytes { a in b.withUnsafeBytes { b in a.baseAddress == b.baseAddress } }
        return identical || a == b
    }
}
