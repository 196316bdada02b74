#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A ``ThumbnailCropper`` that needs no image library: it reads ``SyntheticPhoto``s and returns each crop as
/// a square synthetic photo holding the face it was cut around (so a search by that crop finds the face, as
/// with a real crop). It applies the same pixel limit as the JPEG cropper.
public struct SyntheticThumbnailCropper: ThumbnailCropper {
    /// Largest width × height accepted (decompression-bomb guard); 100 MP by default.
    public var pixelLimit: Int

    public init(pixelLimit: Int = 100_000_000) { self.pixelLimit = pixelLimit }

    public func imageInfo(of data: Data) throws -> ImageInfo {
        let photo = try SyntheticPhoto(decoding: data)
        guard photo.width > 0, photo.height > 0 else { throw ImageError.corrupt(detail: "zero-sized image") }
        guard photo.width.multipliedReportingOverflow(by: photo.height).partialValue <= pixelLimit,
              photo.width <= pixelLimit, photo.height <= pixelLimit
        else { throw ImageError.tooManyPixels(width: photo.width, height: photo.height, limit: pixelLimit) }
        return ImageInfo(width: photo.width, height: photo.height, orientation: photo.orientation, format: "synthetic")
    }

    public func thumbnails(of data: Data, boxes: [BoundingBox], spec: ThumbnailSpec) async throws -> [Data] {
        _ = try imageInfo(of: data)
        let photo = try SyntheticPhoto(decoding: data)
        return boxes.map { box in
            let subject = photo.faces.max { $0.box.overlap(with: box) < $1.box.overlap(with: box) }
                .flatMap { $0.box.overlap(with: box) > 0.3 ? $0 : nil }
            let inner = 1 / (1 + 2 * spec.margin)
            let centred = BoundingBox(left: (1 - inner) / 2, top: (1 - inner) / 2, width: inner, height: inner)
            let faces = subject.map { [SyntheticPhoto.Face(box: centred, confidence: $0.confidence, embedding: $0.embedding, sharpness: $0.sharpness)] } ?? []
            return SyntheticPhoto(width: spec.size, height: spec.size, faces: faces, note: "crop").encoded()
        }
    }
}
