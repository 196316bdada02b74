#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Face thumbnails from JPEG photos with libjpeg-turbo.
///
/// - Decodes at the smallest DCT scale (1/8 … 1) that still leaves every face crop at least the thumbnail
///   size, so a 20 MP photo is never fully decoded for 160 px faces.
/// - Boxes are normalized to the photo as displayed; the EXIF orientation is applied to each thumbnail (not
///   to the whole photo), so the face lands upright whatever the camera wrote.
/// - Crops are squares around the face with ``ThumbnailSpec/margin`` on each side, moved inside the photo
///   at its edges rather than squashed; shrinking averages areas (no aliasing), enlarging is bilinear.
/// - Baseline and progressive JPEG, grayscale, CMYK and YCCK (Adobe-inverted too). PNG, HEIC, WebP, AVIF,
///   TIFF, GIF and BMP are refused with ``ImageError/unsupportedFormat(_:)``: face thumbnails are JPEG
///   end to end and camera uploads are JPEG; decoding PNG would need libpng in the Lambda for little gain.
/// - Photos over ``pixelLimit`` are refused from the header, before any pixel buffer exists.
///
/// Cost: one partial decode per photo (about the entropy-decoding time of the file) plus one small encode
/// per face. Memory: the decoded image at the chosen scale (3 bytes a pixel) plus one crop.
public struct TurboJPEGThumbnailCropper: ThumbnailCropper {
    /// Largest width × height accepted; 100 MP by default.
    public var pixelLimit: Int

    public init(pixelLimit: Int = 100_000_000) { self.pixelLimit = pixelLimit }

    public func imageInfo(of data: Data) throws -> ImageInfo {
        let header = try header(of: data)
        return ImageInfo(width: header.displayWidth, height: header.displayHeight, orientation: header.orientation, format: "jpeg")
    }

    public func thumbnails(of data: Data, boxes: [BoundingBox], spec: ThumbnailSpec) async throws -> [Data] {
        guard !boxes.isEmpty else { return [] }
        let plan = try plan(for: data, boxes: boxes, size: spec.size, margin: spec.margin)
        let decoded = try TurboJPEG.decode(data, header: plan.header, factor: plan.factor)
        return try plan.crops.map { crop in
            let region = plan.region(of: crop, in: decoded)
            let thumbnail = decoded.resampled(region: region, toWidth: spec.size, height: spec.size).oriented(plan.header.orientation)
            return try TurboJPEG.encode(thumbnail, quality: spec.quality)
        }
    }

    /// How a photo will be cut: its header, the DCT scale, and each crop as a displayed-pixel square.
    struct CropPlan {
        var header: JPEGHeader
        var factor: (num: Int, denom: Int)
        /// Squares in displayed full-resolution pixels: origin and side.
        var crops: [(x: Double, y: Double, side: Double)]

        /// A displayed square as a rectangle of the decoded (stored, scaled) pixels.
        func region(of crop: (x: Double, y: Double, side: Double), in decoded: PixelBuffer) -> (x: Double, y: Double, width: Double, height: Double) {
            let (displayWidth, displayHeight) = (Double(header.displayWidth), Double(header.displayHeight))
            let corners = [(crop.x, crop.y), (crop.x + crop.side, crop.y + crop.side)].map { x, y in
                header.orientation.storedPoint(forDisplayed: x / displayWidth, y / displayHeight)
            }
            let (u0, u1) = (min(corners[0].0, corners[1].0), max(corners[0].0, corners[1].0))
            let (v0, v1) = (min(corners[0].1, corners[1].1), max(corners[0].1, corners[1].1))
            let (width, height) = (Double(decoded.width), Double(decoded.height))
            return (u0 * width, v0 * height, max((u1 - u0) * width, 1e-3), max((v1 - v0) * height, 1e-3))
        }
    }

    func plan(for data: Data, boxes: [BoundingBox], size: Int, margin: Double) throws -> CropPlan {
        let header = try header(of: data)
        let (width, height) = (Double(header.displayWidth), Double(header.displayHeight))
        let crops = boxes.map { box -> (x: Double, y: Double, side: Double) in
            let clamped = box.clamped
            let centreX = (clamped.left + clamped.width / 2) * width, centreY = (clamped.top + clamped.height / 2) * height
            let face = max(clamped.width * width, clamped.height * height)
            let side = min(max(face * (1 + 2 * margin), 1), min(width, height))
            return (min(max(centreX - side / 2, 0), width - side), min(max(centreY - side / 2, 0), height - side), side)
        }
        let needed = crops.map { Double(size) / $0.side }.max() ?? 1
        return CropPlan(header: header, factor: TurboJPEG.factor(atLeast: needed), crops: crops)
    }

    private func header(of data: Data) throws -> JPEGHeader {
        guard let format = ImageFormat(sniffing: data) else { throw ImageError.notAnImage }
        guard format == .jpeg else { throw ImageError.unsupportedFormat(format.rawValue) }
        let header = try JPEGHeader(parsing: data)
        let pixels = header.width.multipliedReportingOverflow(by: header.height)
        guard !pixels.overflow, pixels.partialValue <= pixelLimit else {
            throw ImageError.tooManyPixels(width: header.displayWidth, height: header.displayHeight, limit: pixelLimit)
        }
        return header
    }
}
