/// A face a detector found: where it is and how sure the detector is; landmarks, pose, quality and an
/// embedding where the detector provides them.
public struct DetectedFace: Hashable, Sendable, Codable {
    public var boundingBox: BoundingBox
    /// 0…100 (Rekognition's scale).
    public var confidence: Double
    public var landmarks: [Landmark]
    public var pose: Pose?
    public var quality: FaceQuality?
    /// A face descriptor, when the detector computes one (the local engine, the in-memory test doubles).
    public var embedding: [Float]?

    public init(
        boundingBox: BoundingBox, confidence: Double, landmarks: [Landmark] = [], pose: Pose? = nil,
        quality: FaceQuality? = nil, embedding: [Float]? = nil
    ) {
        self.boundingBox = boundingBox
        self.confidence = confidence
        self.landmarks = landmarks
        self.pose = pose
        self.quality = quality
        self.embedding = embedding
    }
}

/// A named facial point, normalized like ``BoundingBox``.
public struct Landmark: Hashable, Sendable, Codable {
    public var type: String
    public var x: Double
    public var y: Double

    public init(type: String, x: Double, y: Double) {
        self.type = type
        self.x = x
        self.y = y
    }
}

/// Head pose in degrees, −180…180.
public struct Pose: Hashable, Sendable, Codable {
    public var roll: Double
    public var yaw: Double
    public var pitch: Double

    public init(roll: Double, yaw: Double, pitch: Double) {
        self.roll = roll
        self.yaw = yaw
        self.pitch = pitch
    }
}

/// Image quality of the face region, 0…100 (higher is better).
public struct FaceQuality: Hashable, Sendable, Codable {
    public var brightness: Double
    public var sharpness: Double

    public init(brightness: Double, sharpness: Double) {
        self.brightness = brightness
        self.sharpness = sharpness
    }
}
