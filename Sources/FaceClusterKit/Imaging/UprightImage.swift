#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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
        if let decoder = try decoders.decoder(for: data) {
            let decoded = try PhotoDecoders.decode(
                data, by: decoder, maximumPixels: maximumPixels, wholePhotoPixels: wholePhotoPixels, pixelLimit: pixelLimit, budget: budget)
            self.width = decoded.buffer.width
            self.height = decoded.buffer.height
            self.pixels = decoded.buffer.pixels
            self.scale = decoded.scale
            return
        }
        let header = try JPEGHeader(checking: data, pixelLimit: pixelLimit, budget: budget)
        let maximumPixels = header.width * header.height <= wholePhotoPixels ? header.width * header.height : maximumPixels
        let factor = TurboJPEG.scalingFactors.reversed().first { factor in
            TurboJPEG.scaled(header.width, by: factor) * TurboJPEG.scaled(header.height, by: factor) <= maximumPixels
        } ?? TurboJPEG.scalingFactors[0]
        let decoded = try TurboJPEG.decode(data, header: header, factor: factor, orientation: header.orientation).buffer
        self.width = decoded.width
        self.height = decoded.height
        self.pixels = decoded.pixels
        self.scale = Double(factor.num) / Double(factor.denom)
    }
}
