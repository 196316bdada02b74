import FaceClusterKit
import Foundation

/// The dlib model files the local engine loads, from the PyPI sdist `face_recognition_models==0.3.0` (CC0):
/// the 5-point landmark predictor and the ResNet face recognition model. `scripts/fetch-models.sh` puts them
/// in ``defaultDirectory()``.
public struct FaceModels: Sendable, Hashable {
    public static let shapePredictorFile = "shape_predictor_5_face_landmarks.dat"
    public static let recognitionModelFile = "dlib_face_recognition_resnet_model_v1.dat"

    public var directory: URL

    public init(directory: URL = FaceModels.defaultDirectory()) {
        self.directory = directory
    }

    /// `$FACECLUSTER_MODELS`, else `$XDG_CACHE_HOME/facecluster/models`, else `~/.cache/facecluster/models`.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let explicit = environment["FACECLUSTER_MODELS"], !explicit.isEmpty { return URL(fileURLWithPath: explicit) }
        return cacheDirectory(environment: environment).appendingPathComponent("models")
    }

    /// `$XDG_CACHE_HOME/facecluster`, else `~/.cache/facecluster`: where the set-up scripts put what they fetch.
    public static func cacheDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        let cache = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return cache.appendingPathComponent("facecluster")
    }

    var shapePredictor: URL { directory.appendingPathComponent(Self.shapePredictorFile) }
    var recognitionModel: URL { directory.appendingPathComponent(Self.recognitionModelFile) }
    /// dlib's HOG face detector, decoded from the copy dlib embeds and kept here by the first engine a process
    /// makes (`dlib_face_set_detector_cache`): decoding it costs 0.3 s of one core, reading this file milliseconds.
    /// Derived, so it may be deleted at any time.
    public static let detectorCacheFile = "frontal_face_detector.dat"
    var detectorCache: URL { directory.appendingPathComponent(Self.detectorCacheFile) }
    /// The landmark model and the network as this machine holds them in memory, written beside the models by the
    /// first engines a process makes after a model file changed, and read by the next in 10–30 ms instead of
    /// 50–110 ms of a core each (dlib reads its files a number at a time). Each names the model file it was made
    /// from (size, modification time, inode), so a replaced model is read again, and carries a checksum of itself.
    /// Derived, so they may be deleted at any time.
    public static let shapePredictorCacheFile = "shape_predictor_5_face_landmarks.cache"
    public static let recognitionModelCacheFile = "dlib_face_recognition_resnet_model_v1.cache"
    var shapePredictorCache: URL { directory.appendingPathComponent(Self.shapePredictorCacheFile) }
    var recognitionModelCache: URL { directory.appendingPathComponent(Self.recognitionModelCacheFile) }

    /// Throws ``LocalEngineError/modelsMissing(directory:)`` unless both files are there.
    public func check() throws {
        for file in [shapePredictor, recognitionModel] where !FileManager.default.fileExists(atPath: file.path) {
            throw LocalEngineError.modelsMissing(directory: directory.path)
        }
    }
}

/// Failures of the local face engine's set-up.
public enum LocalEngineError: Error, Hashable, Sendable, CustomStringConvertible, PhotoFailureConvertible {
    case modelsMissing(directory: String)
    case modelUnreadable(detail: String)
    case engineFailed(detail: String)

    public var description: String {
        switch self {
        case .modelsMissing(let directory):
            "the face models are not in \(directory): run scripts/fetch-models.sh (or set FACECLUSTER_MODELS)"
        case .modelUnreadable(let detail): "a face model could not be loaded: \(detail)"
        case .engineFailed(let detail): "the face engine failed: \(detail)"
        }
    }

    /// Missing or unreadable models are set-up errors (fixed once, then every photo works); an engine failure
    /// on one photo may not recur.
    public var photoFailure: PhotoFailure {
        switch self {
        case .modelsMissing, .modelUnreadable: PhotoFailure(code: .setupError, message: description, retryable: true)
        case .engineFailed: PhotoFailure(code: .internalError, message: description, retryable: true)
        }
    }
}
