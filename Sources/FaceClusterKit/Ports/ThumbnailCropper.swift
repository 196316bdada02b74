#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Cuts square face thumbnails (JPEG) out of an encoded photo. The libturbojpeg implementation decodes at
/// the smallest DCT scale that keeps every crop at least ``ThumbnailSpec/size`` pixels.
public protocol ThumbnailCropper: Sendable {
    /// Size and orientation from the header alone; no pixel buffer is allocated. Throws ``ImageError``.
    func imageInfo(of data: Data) throws -> ImageInfo

    /// One thumbnail per box, in order. Boxes are normalized to the displayed image and clamped.
    /// Throws ``ImageError`` for data that is not a supported image.
    func thumbnails(of data: Data, boxes: [BoundingBox], spec: ThumbnailSpec) async throws -> [Data]
}

/// What an image header says.
public struct ImageInfo: Hashable, Sendable {
    /// Size as displayed: EXIF orientation applied (5–8 swap the stored width and height).
    public var width: Int
    public var height: Int
    public var orientation: Orientation
    /// `"jpeg"`, `"png"`, or the name of the format the cropper recognised.
    public var format: String

    public init(width: Int, height: Int, orientation: Orientation, format: String) {
        self.width = width
        self.height = height
        self.orientation = orientation
        self.format = format
    }
}

/// The shape of a thumbnail. Defaults match the reference peer (`shared/bench/pillow_thumbnails.py`).
public struct ThumbnailSpec: Hashable, Sendable {
    /// Side of the square thumbnail in pixels.
    public var size: Int
    /// Extra context around the face on each side, as a fraction of the face's longer side.
    public var margin: Double
    /// JPEG quality 1…100.
    public var quality: Int

    public init(size: Int = 160, margin: Double = 0.25, quality: Int = 85) {
        self.size = size
        self.margin = margin
        self.quality = quality
    }
}

/// Why an image cannot be used.
public enum ImageError: Error, Hashable, Sendable, CustomStringConvertible {
    case notAnImage
    case truncated
    case corrupt(detail: String)
    /// Recognised, but not a format (or a variant of one) this build decodes: AVIF, TIFF, GIF, BMP; HEIC in
    /// the Lambda; animated WebP.
    case unsupportedFormat(String)
    /// Width × height over the configured limit: refused before any pixel buffer exists (decompression bombs).
    case tooManyPixels(width: Int, height: Int, limit: Int)
    /// A side under the minimum the face services accept (80 px).
    case tooSmall(width: Int, height: Int, minimum: Int)
    /// Decoded, but libjpeg reported damaged data (a bad Huffman code, a corrupt segment): the pixels cannot
    /// be trusted, so the photo is not reported as one without faces.
    case damaged(detail: String)
    /// A JPEG process the 8-bit decoder does not run (12-bit, lossless), named.
    case unsupportedProcess(String)
    /// More memory or work to decode than one photo may take (``DecodeBudget``), refused before the work.
    case overBudget(detail: String)
    /// The photo's file was cut short while it was being read (it was replaced or truncated in place): its
    /// bytes are not the ones whose tag was checked. Retryable: the next run reads the new content.
    case changedWhileRead

    public var description: String {
        switch self {
        case .notAnImage: "not an image"
        case .truncated: "the image data is truncated"
        case .corrupt(let detail): "the image data is corrupt: \(detail)"
        case .unsupportedFormat(let format): "\(format) images are not supported (JPEG, PNG and WebP are; HEIC by the local engine)"
        case .tooManyPixels(let width, let height, let limit):
            "\(width)×\(height) exceeds the limit of \(limit) pixels"
        case .tooSmall(let width, let height, let minimum):
            "\(width)×\(height) is smaller than \(minimum) px on a side"
        case .damaged(let detail): "the image data is damaged: \(detail)"
        case .unsupportedProcess(let process): "\(process) is not supported (only 8-bit baseline and progressive JPEG are)"
        case .overBudget(let detail): "too costly to decode: \(detail)"
        case .changedWhileRead: "the file changed while it was being read"
        }
    }
}
