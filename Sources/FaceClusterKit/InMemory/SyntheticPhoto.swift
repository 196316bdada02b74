#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A tiny self-describing image format for offline tests: the bytes carry the scene — size, EXIF
/// orientation and the faces in it, each with an embedding.
///
/// ``ScriptedFaceDetector``, ``InMemoryFaceIndex`` and ``SyntheticThumbnailCropper`` all read it, so the
/// whole pipeline runs without an image library or a face model, and it behaves like the real thing where
/// it matters: different content means different faces, a crop carries the face it was cut around, and bytes
/// that are not a synthetic photo are rejected as ``ImageError/notAnImage``.
///
/// ```swift
/// let alice: [Float] = [1, 0, 0, 0]
/// let photo = SyntheticPhoto(width: 1200, height: 800, faces: [
///     .init(box: BoundingBox(left: 0.4, top: 0.3, width: 0.2, height: 0.3), embedding: alice),
/// ])
/// try await photoStore.put(photo.encoded(), at: "raw/party.jpg", contentType: "image/jpeg")
/// ```
public struct SyntheticPhoto: Hashable, Sendable, Codable {
    /// Displayed size in pixels.
    public var width: Int
    public var height: Int
    public var orientation: Orientation
    public var faces: [Face]
    /// Free text that changes the bytes without changing the scene (a re-encoded copy of the same photo).
    public var note: String?

    public init(width: Int, height: Int, orientation: Orientation = .up, faces: [Face] = [], note: String? = nil) {
        self.width = width
        self.height = height
        self.orientation = orientation
        self.faces = faces
        self.note = note
    }

    /// One face in the scene.
    public struct Face: Hashable, Sendable, Codable {
        public var box: BoundingBox
        /// 0…100.
        public var confidence: Double
        /// Who this is: faces of one person share (nearly) the same direction.
        public var embedding: [Float]
        /// 0…100; the index's quality filter refuses faces under 20 unless the filter is `none`.
        public var sharpness: Double

        public init(box: BoundingBox, confidence: Double = 99.5, embedding: [Float], sharpness: Double = 90) {
            self.box = box
            self.confidence = confidence
            self.embedding = embedding
            self.sharpness = sharpness
        }

        /// The face as a detector reports it.
        public var detected: DetectedFace {
            DetectedFace(
                boundingBox: box, confidence: confidence,
                quality: FaceQuality(brightness: 80, sharpness: sharpness), embedding: embedding)
        }
    }

    static let magic = Array("FCKSYNTH1\n".utf8)

    /// The encoded bytes.
    public func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Data(Self.magic) + ((try? encoder.encode(self)) ?? Data())
    }

    /// Decodes bytes made by ``encoded()``. Throws ``ImageError/notAnImage`` for anything else and
    /// ``ImageError/truncated`` for a cut-off synthetic photo.
    public init(decoding data: Data) throws {
        guard data.count >= Self.magic.count, Array(data.prefix(Self.magic.count)) == Self.magic else {
            throw ImageError.notAnImage
        }
        do {
            self = try JSONDecoder().decode(SyntheticPhoto.self, from: data.dropFirst(Self.magic.count))
        } catch {
            throw ImageError.truncated
        }
    }

    /// Faces as a detector reports them: largest first.
    public var detectedFaces: [DetectedFace] {
        faces.map(\.detected).sorted { $0.boundingBox.width * $0.boundingBox.height > $1.boundingBox.width * $1.boundingBox.height }
    }
}
