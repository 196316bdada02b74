@testable import FaceClusterKit
import FaceClusterDoubles
import FaceClusterLocal
import Foundation
import Testing

// The adapters each conformance suite runs against. A new adapter adds a subject to the `all` list of its
// port (the S3 and DynamoDB adapters on moto, the Rekognition adapters on their double and on the local
// Rekognition endpoint, the local engine),
// and the unchanged suite then checks it.

/// A ``PhotoStore`` under test.
struct PhotoStoreSubject: Sendable, CustomTestStringConvertible {
    let name: String
    let make: @Sendable () async throws -> any PhotoStore
    var testDescription: String { name }

    static let all: [PhotoStoreSubject] = [
        PhotoStoreSubject(name: "InMemoryPhotoStore") { InMemoryPhotoStore(location: "conformance") },
        PhotoStoreSubject(name: "DirectoryPhotoStore") {
            DirectoryPhotoStore(root: Scratch.url("fck-store-\(UUID().uuidString)"))
        },
    ] + (Moto.available ? [PhotoStoreSubject(name: "S3PhotoStore on moto") { try await Moto.freshBucket() }] : [])
}

/// A ``MetadataStore`` under test.
struct MetadataStoreSubject: Sendable, CustomTestStringConvertible {
    let name: String
    let make: @Sendable () async throws -> any MetadataStore
    var testDescription: String { name }

    static let all: [MetadataStoreSubject] = [
        MetadataStoreSubject(name: "InMemoryMetadataStore") { InMemoryMetadataStore() },
        MetadataStoreSubject(name: "SQLiteMetadataStore (in memory)") { SQLiteMetadataStore(database: try LocalDatabase.inMemory()) },
        MetadataStoreSubject(name: "SQLiteMetadataStore (file, WAL)") {
            let path = Scratch.url("fck-\(UUID().uuidString).sqlite").path
            return SQLiteMetadataStore(database: try LocalDatabase(path: path))
        },
    ] + (Moto.available ? [MetadataStoreSubject(name: "DynamoDBMetadataStore on moto") { try await Moto.freshTables() }] : [])
}

/// A scene to render as an image: its displayed size, orientation and faces (identity, box).
struct Scene: Sendable {
    var width = 1200
    var height = 900
    var orientation = Orientation.up
    var faces: [(identity: Identity, box: BoundingBox)] = []
}

/// Renders scenes as image bytes the adapter under test can read: synthetic photos for the in-memory
/// doubles; real pixels for the JPEG cropper and the local engine.
typealias SceneRenderer = @Sendable (Scene) throws -> Data

let syntheticRenderer: SceneRenderer = { scene in
    SyntheticPhoto(
        width: scene.width, height: scene.height, orientation: scene.orientation,
        faces: scene.faces.enumerated().map { $1.identity.face($1.box, variant: $0 + 1) }
    ).encoded()
}

/// Real JPEG pixels: a gray photo with each face a flat colour of its identity, stored for the scene's EXIF
/// orientation with the tag written.
let jpegRenderer: SceneRenderer = { scene in
    var buffer = PixelBuffer(width: scene.width, height: scene.height, pixels: [UInt8](repeating: 128, count: scene.width * scene.height * 3))
    for face in scene.faces {
        let rect = face.box.pixels(inWidth: scene.width, height: scene.height)
        let colour: [UInt8] = [UInt8(40 + face.identity.number * 37 % 200), UInt8(200 - face.identity.number * 53 % 180), 90]
        for y in rect.y..<(rect.y + rect.height) {
            for x in rect.x..<(rect.x + rect.width) { buffer.pixels.replaceSubrange((y * scene.width + x) * 3..<(y * scene.width + x) * 3 + 3, with: colour) }
        }
    }
    return JPEGFactory.jpeg(buffer, orientation: scene.orientation)
}

/// A ``FaceIndex`` under test.
struct FaceIndexSubject: Sendable, CustomTestStringConvertible {
    let name: String
    let make: @Sendable () async throws -> any FaceIndex
    let render: SceneRenderer
    /// A similarity that separates one identity's faces from different identities' for this index.
    let threshold: Double
    var testDescription: String { name }

    static let all: [FaceIndexSubject] = [
        FaceIndexSubject(name: "InMemoryFaceIndex", make: { InMemoryFaceIndex() }, render: syntheticRenderer, threshold: 90),
        FaceIndexSubject(name: "RekognitionFaceIndex on the HTTP double", make: {
            let index = RekognitionFaceIndex(rekognition: try await RekognitionDouble.client(), collectionID: "conformance-\(UUID().uuidString)")
            try await index.createCollection()
            return index
        }, render: syntheticRenderer, threshold: 90),
    ] + (LabeledSet.available ? [
        // The same adapter, unchanged, against `facecluster rekognition-server` and real faces.
        FaceIndexSubject(name: "RekognitionFaceIndex on facecluster rekognition-server (real faces)", make: {
            let index = RekognitionFaceIndex(rekognition: try await LocalRekognitionServer.client(), collectionID: "conformance-\(UUID().uuidString)")
            try await index.createCollection()
            return index
        }, render: realFaceRenderer, threshold: 90),
    ] : [])
}

/// A ``FaceDetector`` under test.
struct FaceDetectorSubject: Sendable, CustomTestStringConvertible {
    let name: String
    let make: @Sendable () async throws -> any FaceDetector
    let render: SceneRenderer
    var testDescription: String { name }

    static let all: [FaceDetectorSubject] = [
        FaceDetectorSubject(name: "ScriptedFaceDetector", make: { ScriptedFaceDetector() }, render: syntheticRenderer),
        FaceDetectorSubject(name: "RekognitionFaceDetector on the HTTP double", make: {
            RekognitionFaceDetector(rekognition: try await RekognitionDouble.client())
        }, render: syntheticRenderer),
    ] + (LabeledSet.available ? [
        FaceDetectorSubject(name: "RekognitionFaceDetector on facecluster rekognition-server (real faces)", make: {
            RekognitionFaceDetector(rekognition: try await LocalRekognitionServer.client())
        }, render: realFaceRenderer),
    ] : [])
}

/// A ``ThumbnailCropper`` under test.
struct ThumbnailCropperSubject: Sendable, CustomTestStringConvertible {
    let name: String
    let make: @Sendable (_ pixelLimit: Int) -> any ThumbnailCropper
    let render: SceneRenderer
    var testDescription: String { name }

    static let all: [ThumbnailCropperSubject] = [
        ThumbnailCropperSubject(name: "SyntheticThumbnailCropper", make: { SyntheticThumbnailCropper(pixelLimit: $0) }, render: syntheticRenderer),
        ThumbnailCropperSubject(name: "TurboJPEGThumbnailCropper", make: { TurboJPEGThumbnailCropper(pixelLimit: $0) }, render: jpegRenderer),
    ]
}
