import FaceClusterKit
@testable import FaceClusterLocal
import Testing

@Suite("Which faces of a photo are embedded")
struct LargestFacesTests {
    static func face(left: Double, top: Double, side: Double) -> DetectedFace {
        DetectedFace(boundingBox: BoundingBox(left: left, top: top, width: side, height: side), confidence: 99)
    }

    @Test("faces are indexed larger first, and faces of one size (one pyramid level's boxes) top to bottom, then left to right")
    func order() {
        let faces = [
            Self.face(left: 0.5, top: 0.5, side: 0.1), Self.face(left: 0.1, top: 0.5, side: 0.1),
            Self.face(left: 0.9, top: 0.1, side: 0.1), Self.face(left: 0.3, top: 0.7, side: 0.2),
        ]
        let ordered = faces.sorted(by: LargestFaces.precedes).map { [$0.boundingBox.left, $0.boundingBox.top] }
        #expect(ordered == [[0.3, 0.7], [0.9, 0.1], [0.1, 0.5], [0.5, 0.5]])
        // The same for every arrival order.
        for rotation in 1..<faces.count {
            let rotated = Array(faces[rotation...] + faces[..<rotation])
            #expect(rotated.sorted(by: LargestFaces.precedes).map { [$0.boundingBox.left, $0.boundingBox.top] } == ordered)
        }
    }

    @Test("an analysis serves a later call only if it embedded at least as many faces, or every face")
    func cache() {
        let cache = LocalFaceEngine.AnalysisCache()
        let three = (0..<3).map { LocalFaceEngine.Analysed(face: Self.face(left: 0.1 * Double($0), top: 0.1, side: 0.05), embedding: nil) }
        cache.set("photo", three, embedded: 0)
        #expect(cache.get("photo", embedding: 0) != nil)
        #expect(cache.get("photo", embedding: 1) == nil)
        cache.set("photo", three, embedded: 2)
        #expect(cache.get("photo", embedding: 2) != nil)
        #expect(cache.get("photo", embedding: 3) == nil)
        cache.set("photo", three, embedded: 1)
        #expect(cache.get("photo", embedding: 2) != nil, "a smaller analysis replaced a larger one")
        cache.set("photo", three, embedded: 3)
        #expect(cache.get("photo", embedding: 100) != nil, "every face was embedded")
    }
}
