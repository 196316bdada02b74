import FaceClusterKit
import Foundation
import Testing

@Suite("ThumbnailCropper conformance")
struct ThumbnailCropperConformance {
    @Test("the header gives the displayed size and orientation", arguments: ThumbnailCropperSubject.all)
    func header(_ subject: ThumbnailCropperSubject) throws {
        let cropper = subject.make(100_000_000)
        for orientation in Orientation.allCases {
            let info = try cropper.imageInfo(of: try subject.render(Scene(width: 640, height: 480, orientation: orientation)))
            #expect(info.width == 640 && info.height == 480 && info.orientation == orientation)
        }
    }

    @Test("one thumbnail per box, boxes outside 0…1 included", arguments: ThumbnailCropperSubject.all)
    func thumbnails(_ subject: ThumbnailCropperSubject) async throws {
        let cropper = subject.make(100_000_000)
        let boxes = [
            BoundingBox(left: 0.2, top: 0.2, width: 0.2, height: 0.3),
            BoundingBox(left: -0.05, top: 0.9, width: 0.2, height: 0.2),
            BoundingBox(left: 0.95, top: -0.1, width: 0.1, height: 0.2),
        ]
        let data = try subject.render(Scene(faces: [(Identity(1), boxes[0])]))
        let thumbnails = try await cropper.thumbnails(of: data, boxes: boxes, spec: ThumbnailSpec(size: 96))
        #expect(thumbnails.count == 3)
        #expect(try thumbnails.allSatisfy { try cropper.imageInfo(of: $0).width == 96 })
    }

    @Test("images over the pixel limit are refused from the header", arguments: ThumbnailCropperSubject.all)
    func pixelLimit(_ subject: ThumbnailCropperSubject) async throws {
        let cropper = subject.make(1_000_000)
        let big = try subject.render(Scene(width: 1200, height: 900))
        #expect(throws: ImageError.tooManyPixels(width: 1200, height: 900, limit: 1_000_000)) { try cropper.imageInfo(of: big) }
        await #expect(throws: ImageError.tooManyPixels(width: 1200, height: 900, limit: 1_000_000)) {
            try await cropper.thumbnails(of: big, boxes: [BoundingBox(left: 0, top: 0, width: 1, height: 1)], spec: ThumbnailSpec())
        }
    }

    @Test("non-images are refused with a typed error", arguments: ThumbnailCropperSubject.all)
    func notAnImage(_ subject: ThumbnailCropperSubject) throws {
        let cropper = subject.make(100_000_000)
        #expect(throws: ImageError.notAnImage) { try cropper.imageInfo(of: Data("just some text, no image".utf8)) }
        #expect(throws: ImageError.notAnImage) { try cropper.imageInfo(of: Data()) }
    }
}
