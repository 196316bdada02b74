#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An image handed to a ``FaceDetector`` or ``FaceIndex``: its bytes, where it is stored when it is a
/// stored photo (so a Rekognition adapter can send an S3 reference instead of re-uploading the bytes), and,
/// for a face crop, the face it was cut around.
public struct ImageInput: Sendable {
    public var data: Data
    public var reference: PhotoReference?
    /// For a crop made around a detected face: that face (a descriptor-based index can use its embedding).
    public var subject: DetectedFace?

    public init(data: Data, reference: PhotoReference? = nil, subject: DetectedFace? = nil) {
        self.data = data
        self.reference = reference
        self.subject = subject
    }
}
