import FaceClusterKit
import Foundation

/// In-memory adapters wired into a pipeline and a gallery, with every port call counted (and, when asked,
/// passed through a fault injector shared by all ports).
struct Harness {
    let clock = ManualWallClock()
    let photos: InMemoryPhotoStore
    let thumbnails: InMemoryPhotoStore
    let index = InMemoryFaceIndex()
    let metadata: InMemoryMetadataStore
    let counter = CallCounter()
    var configuration = IngestionPipeline.Configuration()

    init(callPlan: CallPlan = .indexed) {
        photos = InMemoryPhotoStore(location: "raw-bucket", clock: clock)
        thumbnails = InMemoryPhotoStore(location: "processed-bucket", clock: clock)
        metadata = InMemoryMetadataStore(clock: clock)
        configuration.callPlan = callPlan
    }

    /// A pipeline over the shared adapters; `faults` (when given) sits between the counter and each adapter.
    func pipeline(faults: FaultInjector = FaultInjector(rules: [])) -> IngestionPipeline {
        IngestionPipeline(
            photos: photos.intercepted(by: faults).intercepted(by: counter),
            thumbnails: thumbnails.intercepted(by: faults).intercepted(by: counter),
            detector: ScriptedFaceDetector().intercepted(by: faults).intercepted(by: counter),
            index: index.intercepted(by: faults).intercepted(by: counter),
            metadata: metadata.intercepted(by: faults).intercepted(by: counter),
            cropper: SyntheticThumbnailCropper().intercepted(by: faults).intercepted(by: counter),
            clock: clock, configuration: configuration)
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
                let photo = await metadata.photo(appearance.photoID)
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
            indexedFaceCount: await index.faceCount, thumbnailKeys: thumbnailKeys, storedThumbnails: Set(storedThumbnails))
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
