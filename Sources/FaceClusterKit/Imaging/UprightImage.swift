#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A JPEG decoded to RGB as displayed (EXIF orientation applied), at a reduced DCT scale when the photo is
/// large: what a face engine analyses. Boxes found in it, divided by its size, are normalized to the displayed
/// photo, as the ports expect.
public struct UprightImage: Sendable {
    public let width: Int
    public let height: Int
    /// Interleaved 8-bit RGB, rows top to bottom.
    public let pixels: [UInt8]
    /// The DCT scale it was decoded at, as a fraction of the photo's displayed size (1, 1/2, 1/4 or 1/8).
    public let scale: Double

    /// Decodes `data` at the largest of libjpeg-turbo's fast scales (1, 1/2, 1/4, 1/8) that gives at most
    /// `maximumPixels` (1/8 when none does). Non-JPEG data, truncated or corrupt files and photos over
    /// `pixelLimit` throw the same ``ImageError``s as ``TurboJPEGThumbnailCropper``.
    public init(decoding data: Data, maximumPixels: Int = 2_000_000, pixelLimit: Int = 100_000_000) throws {
        let header = try JPEGHeader(checking: data, pixelLimit: pixelLimit)
        let factor = TurboJPEG.scalingFactors.reversed().first { factor in
            TurboJPEG.scaled(header.width, by: factor) * TurboJPEG.scaled(header.height, by: factor) <= maximumPixels
        } ?? TurboJPEG.scalingFactors[0]
        let decoded = try TurboJPEG.decode(data, header: header, factor: factor).buffer.oriented(header.orientation)
        self.width = decoded.width
        self.height = decoded.height
        self.pixels = decoded.pixels
        self.scale = Double(factor.num) / Double(factor.denom)
    }
}
