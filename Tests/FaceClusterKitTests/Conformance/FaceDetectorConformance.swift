import FaceClusterKit
import Foundation
import Testing

@Suite("FaceDetector conformance")
struct FaceDetectorConformance {
    @Test("faces are found where they are, largest first", arguments: FaceDetectorSubject.all)
    func detects(_ subject: FaceDetectorSubject) async throws {
        let detector = try await subject.make()
        var scene = Scene()
        let small = BoundingBox(left: 0.1, top: 0.2, width: 0.12, height: 0.16)
        let large = BoundingBox(left: 0.5, top: 0.2, width: 0.3, height: 0.4)
        scene.faces = [(Identity(1), small), (Identity(2), large)]
        let faces = try await detector.detectFaces(in: ImageInput(data: try subject.render(scene)))
        try #require(faces.count == 2)
        #expect(faces[0].boundingBox.overlap(with: large) > 0.5)
        #expect(faces[1].boundingBox.overlap(with: small) > 0.5)
        #expect(faces.allSatisfy { $0.confidence > 50 && $0.confidence <= 100 })
    }

    @Test("no face gives an empty list; a non-image a typed error", arguments: FaceDetectorSubject.all)
    func emptyAndInvalid(_ subject: FaceDetectorSubject) async throws {
        let detector = try await subject.make()
        #expect(try await detector.detectFaces(in: ImageInput(data: try subject.render(Scene()))).isEmpty)
        await #expect(throws: FaceServiceError.self) { try await detector.detectFaces(in: ImageInput(data: Data([0xFF, 0xD8, 0x00]))) }
    }
}
