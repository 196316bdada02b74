import FaceClusterKit
import FaceClusterDoubles
import FaceClusterLocal
import Testing
import Foundation

/// Adapters for the pipeline scenarios: everything in memory; S3 buckets and DynamoDB tables on moto; or the
/// Rekognition adapters (face index and detector) over HTTP on the Rekognition double, stores in memory.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case inMemory, moto, rekognition
    var testDescription: String { rawValue }
    /// The backends this run can use (moto only when scripts/test.sh started it).
    static var available: [Backend] { Moto.available ? allCases : [.inMemory, .rekognition] }
}

/// Adapters wired into a pipeline and a gallery, with every port call counted (and, when asked, passed
/// through a fault injector shared by all ports). In memory by default; ``onMoto(callPlan:)`` puts photos and
/// thumbnails in S3 buckets and the metadata in DynamoDB tables, so the same scenarios run on the AWS adapters.
struct Harness {
    let clock: ManualWallClock
    let photos: any PhotoStore
    let thumbnails: any PhotoStore
    let index: any FaceIndex
    let detector: any FaceDetector
    /// How many faces the index holds (compared with the appearances recorded: no orphans).
    let indexedFaceCount: @Sendable () async -> Int
    let metadata: any MetadataStore
    let counter = CallCounter()
    var configuration = IngestionPipeline.Configuration()

    init(callPlan: CallPlan = .indexed) {
        let clock = ManualWallClock()
        self.init(
            clock: clock, photos: InMemoryPhotoStore(location: "raw-bucket", clock: clock),
            thumbnails: InMemoryPhotoStore(location: "processed-bucket", clock: clock), metadata: InMemoryMetadataStore(clock: clock),
            callPlan: callPlan)
    }

    private init(
        clock: ManualWallClock, photos: any PhotoStore, thumbnails: any PhotoStore, metadata: any MetadataStore, callPlan: CallPlan,
        index: any FaceIndex = InMemoryFaceIndex(), detector: any FaceDetector = ScriptedFaceDetector(),
        indexedFaceCount: (@Sendable () async -> Int)? = nil
    ) {
        self.clock = clock
        self.index = index
        self.detector = detector
        self.indexedFaceCount = indexedFaceCount ?? { await (index as? InMemoryFaceIndex)?.faceCount ?? 0 }
        self.photos = photos
        self.thumbnails = thumbnails
        self.metadata = metadata
        configuration.callPlan = callPlan
    }

    /// The same harness on fresh S3 buckets and DynamoDB tables.
    static func onMoto(callPlan: CallPlan = .indexed) async throws -> Harness {
        let clock = ManualWallClock()
        let metadata = DynamoDBMetadataStore(
            client: Moto.client(Moto.authURL!, credentials: Moto.authCredentials!), tablePrefix: "fck-\(UUID().uuidString.lowercased().prefix(13))",
            clock: clock)
        try await metadata.createTables()
        return Harness(
            clock: clock, photos: try await Moto.freshBucket(), thumbnails: try await Moto.freshBucket(), metadata: metadata, callPlan: callPlan)
    }

    /// The metadata in a SQLite database (the embedded default's store); the rest in memory.
    static func onSQLite(callPlan: CallPlan = .indexed) throws -> Harness {
        let clock = ManualWallClock()
        return Harness(
            clock: clock, photos: InMemoryPhotoStore(location: "raw-bucket", clock: clock),
            thumbnails: InMemoryPhotoStore(location: "processed-bucket", clock: clock),
            metadata: SQLiteMetadataStore(database: try LocalDatabase.inMemory(), clock: clock), callPlan: callPlan)
    }

    /// In-memory stores; the face index and detector are the Rekognition adapters on a fresh collection of
    /// the HTTP double.
    static func onRekognition(callPlan: CallPlan = .indexed) async throws -> Harness {
        let clock = ManualWallClock()
        let rekognition = try await RekognitionDouble.client()
        let collection = "harness-\(UUID().uuidString)"
        let index = RekognitionFaceIndex(rekognition: rekognition, collectionID: collection)
        try await index.createCollection()
        let state = try await RekognitionDouble.shared.value.state
        return Harness(
            clock: clock, photos: InMemoryPhotoStore(location: "raw-bucket", clock: clock),
            thumbnails: InMemoryPhotoStore(location: "processed-bucket", clock: clock), metadata: InMemoryMetadataStore(clock: clock),
            callPlan: callPlan, index: index, detector: RekognitionFaceDetector(rekognition: rekognition),
            indexedFaceCount: { await state.collection(collection)?.faceCount ?? 0 })
    }

    static func make(_ backend: Backend, callPlan: CallPlan = .indexed) async throws -> Harness {
        switch backend {
        case .inMemory: Harness(callPlan: callPlan)
        case .moto: try await onMoto(callPlan: callPlan)
        case .rekognition: try await onRekognition(callPlan: callPlan)
        }
    }

    /// A pipeline over the shared adapters; `faults` (when given) sits between the counter and each adapter.
    func pipeline(faults: FaultInjector = FaultInjector(rules: [])) -> IngestionPipeline {
        let index: any FaceIndex = Self.wrapIndex(self.index, faults, counter)
        return IngestionPipeline(
            photos: Self.wrap(photos, faults, counter), thumbnails: Self.wrap(thumbnails, faults, counter),
            detector: Self.wrapDetector(detector, faults, counter),
            index: index,
            metadata: Self.wrap(metadata, faults, counter),
            cropper: SyntheticThumbnailCropper().intercepted(by: faults).intercepted(by: counter),
            clock: clock, configuration: configuration)
    }

    // Opening the existential lets the generic wrapper see the concrete store.
    private static func wrap<Store: PhotoStore>(_ store: Store, _ faults: FaultInjector, _ counter: CallCounter) -> any PhotoStore {
        store.intercepted(by: faults).intercepted(by: counter)
    }

    private static func wrapIndex<Index: FaceIndex>(_ index: Index, _ faults: FaultInjector, _ counter: CallCounter) -> any FaceIndex {
        index.intercepted(by: faults).intercepted(by: counter)
    }

    private static func wrapDetector<Detector: FaceDetector>(_ detector: Detector, _ faults: FaultInjector, _ counter: CallCounter) -> any FaceDetector {
        detector.intercepted(by: faults).intercepted(by: counter)
    }

    private static func wrap<Store: MetadataStore>(_ store: Store, _ faults: FaultInjector, _ counter: CallCounter) -> any MetadataStore {
        store.intercepted(by: faults).intercepted(by: counter)
    }

    var gallery: Gallery {
        Gallery(metadata: metadata, photos: photos, thumbnails: thumbnails, index: index, clock: clock)
    }

    /// Stores `photo` under `key` in the raw store and returns its reference (what an S3 event carries).
    @discardableResult
    func upload(_ photo: SyntheticPhoto, as key: String) async throws -> PhotoReference {
        try await upload(photo.encoded(), as: key)
    }

    @discardableResult
    func upload(_ data: Data, as key: String) async throws -> PhotoReference {
        try await photos.put(data, at: key, contentType: "image/jpeg")
        return PhotoReference(store: photos.location, key: key)
    }

    /// Uploads then ingests; the clock moves a second so photos get distinct `addedAt` times.
    @discardableResult
    func add(_ photo: SyntheticPhoto, as key: String) async throws -> IngestionReport {
        let reference = try await upload(photo, as: key)
        clock.advance(by: .seconds(1))
        return await pipeline().ingest(reference)
    }

    /// The whole gallery as a user sees it, read through the ports, independent of random face ids.
    func snapshot() async throws -> GallerySnapshot {
        let people = try await Page.all(pageSize: 7) { try await metadata.people(page: $0) }
        var groups: Set<GallerySnapshot.Group> = []
        var appearanceCount = 0
        var thumbnailKeys: Set<String> = []
        for person in people {
            var faces: [String] = []
            for appearance in try await Page.all(pageSize: 5, { try await metadata.appearances(ofPerson: person.id, page: $0) }) {
                let photo = try await metadata.photo(appearance.photoID)
                faces.append("\(photo?.reference.key ?? "?")@\(appearance.boundingBox.left),\(appearance.boundingBox.top)")
                thumbnailKeys.insert(appearance.thumbnailKey)
            }
            appearanceCount += faces.count
            groups.insert(GallerySnapshot.Group(faces: Set(faces), photoCount: person.photoCount, faceCount: person.faceCount))
        }
        var statuses: [String: PhotoStatus.Kind] = [:]
        for photo in try await Page.all(pageSize: 10, { try await metadata.photos(withStatus: nil, page: $0) }) {
            statuses[photo.reference.key] = photo.status.kind
        }
        let storedThumbnails = try await thumbnails.list(prefix: "", continuationToken: nil, limit: 1000).objects.map(\.key)
        return GallerySnapshot(
            groups: groups, statuses: statuses, appearanceCount: appearanceCount,
            indexedFaceCount: await indexedFaceCount(), thumbnailKeys: thumbnailKeys, storedThumbnails: Set(storedThumbnails))
    }
}

/// People as sets of faces (`photoKey@left`), with counts; photo statuses; what the index and the thumbnail
/// store hold.
struct GallerySnapshot: Equatable {
    struct Group: Hashable {
        var faces: Set<String>
        var photoCount: Int
        var faceCount: Int
    }

    var groups: Set<Group>
    var statuses: [String: PhotoStatus.Kind]
    var appearanceCount: Int
    var indexedFaceCount: Int
    /// Thumbnails the appearances point at, and thumbnails stored; equal when nothing is orphaned.
    var thumbnailKeys: Set<String>
    var storedThumbnails: Set<String>

    /// Compared without thumbnail keys, which contain random face ids.
    func sameGallery(as other: GallerySnapshot) -> Bool {
        groups == other.groups && statuses == other.statuses && appearanceCount == other.appearanceCount
            && indexedFaceCount == other.indexedFaceCount && storedThumbnails.count == other.storedThumbnails.count
    }
}
