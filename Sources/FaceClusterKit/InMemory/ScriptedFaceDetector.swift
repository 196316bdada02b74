/// A ``FaceDetector`` that reports the faces scripted into each ``SyntheticPhoto``: no model, exact boxes,
/// deterministic. Bytes that are not a synthetic photo fail as Rekognition fails on a non-image.
public struct ScriptedFaceDetector: FaceDetector {
    public init() {}

    public func detectFaces(in image: ImageInput) async throws -> [DetectedFace] {
        do {
            return try SyntheticPhoto(decoding: image.data).detectedFaces
        } catch {
            throw FaceServiceError.invalidImage(detail: "not a synthetic photo")
        }
    }
}
