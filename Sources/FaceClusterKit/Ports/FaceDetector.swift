/// Finds faces in an image.
///
/// Boxes are normalized to the image as displayed (EXIF orientation applied). The seed call plan uses it
/// once per photo (Rekognition DetectFaces: one group-2 image). The result is ordered largest face first.
public protocol FaceDetector: Sendable {
    /// Every face found in `image`, largest first; an empty array when there is none.
    /// Throws ``FaceServiceError`` for images the service rejects or cannot process now.
    func detectFaces(in image: ImageInput) async throws -> [DetectedFace]
}

/// Failures of a face service (detector or index).
public enum FaceServiceError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The service cannot decode the image (Rekognition InvalidImageFormatException).
    case invalidImage(detail: String)
    /// Over the service's size limit (Rekognition: 5 MB as bytes, 15 MB from S3).
    case imageTooLarge(detail: String)
    /// The request was rejected as invalid (image under 80 px, bad parameter).
    case invalidRequest(detail: String)
    /// The collection or another resource the adapter needs does not exist: a set-up problem.
    case setup(detail: String)
    /// Throttled or unavailable; retrying later may help.
    case unavailable(detail: String)

    public var description: String {
        switch self {
        case .invalidImage(let detail): "the face service cannot read the image: \(detail)"
        case .imageTooLarge(let detail): "the image is too large for the face service: \(detail)"
        case .invalidRequest(let detail): "the face service rejected the request: \(detail)"
        case .setup(let detail): "face service set-up problem: \(detail)"
        case .unavailable(let detail): "the face service is unavailable: \(detail)"
        }
    }
}
