#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Any port, with every call passed through an interceptor (``CallCounter``, ``FaultInjector``). It conforms
/// to each of the five ports its base conforms to, so it drops in wherever the port is used. Stack them to
/// combine: `index.intercepted(by: faults).intercepted(by: counter)`.
public struct Intercepted<Base: Sendable, Interceptor: PortInterceptor>: Sendable {
    public let base: Base
    public let interceptor: Interceptor

    public init(_ base: Base, by interceptor: Interceptor) {
        self.base = base
        self.interceptor = interceptor
    }

    func run<Result: Sendable>(
        _ port: String, _ name: String, _ call: @Sendable () async throws -> Result
    ) async throws -> Result {
        try await interceptor.intercept(PortOperation(port: port, name: name), call)
    }
}

extension Intercepted: FaceDetector where Base: FaceDetector {
    public func detectFaces(in image: ImageInput) async throws -> [DetectedFace] {
        try await run("FaceDetector", "detectFaces") { try await base.detectFaces(in: image) }
    }
}

extension Intercepted: FaceIndex where Base: FaceIndex {
    public func indexFaces(in image: ImageInput, externalImageID: String, options: IndexOptions) async throws -> IndexedFaces {
        try await run("FaceIndex", "indexFaces") {
            try await base.indexFaces(in: image, externalImageID: externalImageID, options: options)
        }
    }

    public func searchFaces(matching faceID: FaceID, options: SearchOptions) async throws -> [FaceMatch] {
        try await run("FaceIndex", "searchFaces(matching:)") { try await base.searchFaces(matching: faceID, options: options) }
    }

    public func searchFaces(byImage image: ImageInput, options: SearchOptions) async throws -> ImageSearchResult {
        try await run("FaceIndex", "searchFaces(byImage:)") { try await base.searchFaces(byImage: image, options: options) }
    }

    public func deleteFaces(_ faceIDs: [FaceID]) async throws {
        try await run("FaceIndex", "deleteFaces") { try await base.deleteFaces(faceIDs) }
    }
}

extension Intercepted: PersonVectorIndex where Base: PersonVectorIndex {
    public func searchPeople(matching faceID: FaceID, options: SearchOptions) async throws -> [PersonMatch] {
        try await run("FaceIndex", "searchPeople(matching:)") { try await base.searchPeople(matching: faceID, options: options) }
    }

    public func associate(_ faceIDs: [FaceID], with person: PersonID, creatingPerson: Bool) async throws {
        try await run("FaceIndex", "associate") { try await base.associate(faceIDs, with: person, creatingPerson: creatingPerson) }
    }

    public func disassociate(_ faceIDs: [FaceID], from person: PersonID) async throws {
        try await run("FaceIndex", "disassociate") { try await base.disassociate(faceIDs, from: person) }
    }
}

extension Intercepted: PhotoStore where Base: PhotoStore {
    public var location: String { base.location }

    public func get(_ key: String) async throws -> StoredObject {
        try await run("PhotoStore", "get") { try await base.get(key) }
    }

    @discardableResult
    public func put(_ data: Data, at key: String, contentType: String) async throws -> ObjectInfo {
        try await run("PhotoStore", "put") { try await base.put(data, at: key, contentType: contentType) }
    }

    public func head(_ key: String) async throws -> ObjectInfo {
        try await run("PhotoStore", "head") { try await base.head(key) }
    }

    public func delete(_ key: String) async throws {
        try await run("PhotoStore", "delete") { try await base.delete(key) }
    }

    public func list(prefix: String, continuationToken: String?, limit: Int) async throws -> ObjectListing {
        try await run("PhotoStore", "list") {
            try await base.list(prefix: prefix, continuationToken: continuationToken, limit: limit)
        }
    }

    public func presignedURL(for key: String, expiresIn: Duration) async throws -> URL {
        try await run("PhotoStore", "presignedURL") { try await base.presignedURL(for: key, expiresIn: expiresIn) }
    }
}

extension Intercepted: ThumbnailCropper where Base: ThumbnailCropper {
    /// Header reads are synchronous and free of I/O, so they are passed through uncounted.
    public func imageInfo(of data: Data) throws -> ImageInfo { try base.imageInfo(of: data) }

    public func thumbnails(of data: Data, boxes: [BoundingBox], spec: ThumbnailSpec) async throws -> [Data] {
        try await run("ThumbnailCropper", "thumbnails") { try await base.thumbnails(of: data, boxes: boxes, spec: spec) }
    }
}

extension Intercepted: MetadataStore where Base: MetadataStore {
    public func photo(_ id: PhotoID) async throws -> Photo? {
        try await run("MetadataStore", "photo") { try await base.photo(id) }
    }

    @discardableResult
    public func savePhoto(_ photo: Photo, expectedRevision: Int?) async throws -> Photo {
        try await run("MetadataStore", "savePhoto") { try await base.savePhoto(photo, expectedRevision: expectedRevision) }
    }

    public func photos(_ ids: [PhotoID]) async throws -> [PhotoID: Photo] {
        try await run("MetadataStore", "photos(_:)") { try await base.photos(ids) }
    }

    public func photos(withStatus status: PhotoStatus.Kind?, page: PageRequest) async throws -> Page<Photo> {
        try await run("MetadataStore", "photos") { try await base.photos(withStatus: status, page: page) }
    }

    @discardableResult
    public func addAppearance(_ appearance: Appearance, newPerson: Person?) async throws -> AppearanceWrite {
        try await run("MetadataStore", "addAppearance") { try await base.addAppearance(appearance, newPerson: newPerson) }
    }

    @discardableResult
    public func removeAppearance(of faceID: FaceID) async throws -> Appearance? {
        try await run("MetadataStore", "removeAppearance") { try await base.removeAppearance(of: faceID) }
    }

    public func appearances(ofFaces faceIDs: [FaceID]) async throws -> [FaceID: Appearance] {
        try await run("MetadataStore", "appearances(ofFaces:)") { try await base.appearances(ofFaces: faceIDs) }
    }

    public func appearances(inPhoto photoID: PhotoID) async throws -> [Appearance] {
        try await run("MetadataStore", "appearances(inPhoto:)") { try await base.appearances(inPhoto: photoID) }
    }

    public func appearances(ofPerson personID: PersonID, page: PageRequest) async throws -> Page<Appearance> {
        try await run("MetadataStore", "appearances(ofPerson:)") { try await base.appearances(ofPerson: personID, page: page) }
    }

    public func person(_ id: PersonID) async throws -> Person? {
        try await run("MetadataStore", "person") { try await base.person(id) }
    }

    public func people(page: PageRequest) async throws -> Page<Person> {
        try await run("MetadataStore", "people") { try await base.people(page: page) }
    }

    public func renamePerson(_ id: PersonID, to name: String?) async throws -> Person {
        try await run("MetadataStore", "renamePerson") { try await base.renamePerson(id, to: name) }
    }

    public func mergePeople(_ source: PersonID, into target: PersonID, requireDisjointPhotos: Bool) async throws -> Person {
        try await run("MetadataStore", "mergePeople") {
            try await base.mergePeople(source, into: target, requireDisjointPhotos: requireDisjointPhotos)
        }
    }

    @discardableResult
    public func moveAppearance(of faceID: FaceID, to personID: PersonID, newPerson: Person?) async throws -> Appearance? {
        try await run("MetadataStore", "moveAppearance") { try await base.moveAppearance(of: faceID, to: personID, newPerson: newPerson) }
    }

    @discardableResult
    public func updatePerson(_ person: Person) async throws -> Person {
        try await run("MetadataStore", "updatePerson") { try await base.updatePerson(person) }
    }

    public func recordCannotLinks(_ pairs: [FacePair]) async throws {
        try await run("MetadataStore", "recordCannotLinks") { try await base.recordCannotLinks(pairs) }
    }

    public func cannotLinks(touching faceIDs: [FaceID]) async throws -> [FacePair] {
        try await run("MetadataStore", "cannotLinks") { try await base.cannotLinks(touching: faceIDs) }
    }

    public func removeCannotLinks(_ pairs: [FacePair]) async throws {
        try await run("MetadataStore", "removeCannotLinks") { try await base.removeCannotLinks(pairs) }
    }

    public func saveOperation(_ operation: PeopleOperation) async throws {
        try await run("MetadataStore", "saveOperation") { try await base.saveOperation(operation) }
    }

    public func operation(_ id: String) async throws -> PeopleOperation? {
        try await run("MetadataStore", "operation") { try await base.operation(id) }
    }

    public func operations(page: PageRequest) async throws -> Page<PeopleOperation> {
        try await run("MetadataStore", "operations") { try await base.operations(page: page) }
    }

    public func recordEdges(_ edges: [FaceEdge]) async throws {
        try await run("MetadataStore", "recordEdges") { try await base.recordEdges(edges) }
    }

    public func edges(touching faceIDs: [FaceID]) async throws -> [FaceEdge] {
        try await run("MetadataStore", "edges") { try await base.edges(touching: faceIDs) }
    }

    public func removeEdges(touching faceIDs: [FaceID]) async throws {
        try await run("MetadataStore", "removeEdges") { try await base.removeEdges(touching: faceIDs) }
    }

    @discardableResult
    public func recountPerson(_ id: PersonID) async throws -> Person? {
        try await run("MetadataStore", "recountPerson") { try await base.recountPerson(id) }
    }

    public func recordPendingMatch(_ match: PendingMatch) async throws {
        try await run("MetadataStore", "recordPendingMatch") { try await base.recordPendingMatch(match) }
    }

    public func pendingMatches(for faceID: FaceID) async throws -> [PendingMatch] {
        try await run("MetadataStore", "pendingMatches") { try await base.pendingMatches(for: faceID) }
    }
}

extension Intercepted: FaceListing where Base: FaceListing {
    public func listFaces(continuationToken: String?, limit: Int) async throws -> IndexedFaceListing {
        try await run("FaceIndex", "listFaces") { try await base.listFaces(continuationToken: continuationToken, limit: limit) }
    }
}

extension FaceDetector {
    /// This detector with every call passed through `interceptor`.
    public func intercepted<I: PortInterceptor>(by interceptor: I) -> Intercepted<Self, I> { Intercepted(self, by: interceptor) }
}

extension FaceIndex {
    /// This index with every call passed through `interceptor`.
    public func intercepted<I: PortInterceptor>(by interceptor: I) -> Intercepted<Self, I> { Intercepted(self, by: interceptor) }
}

extension PhotoStore {
    /// This store with every call passed through `interceptor`.
    public func intercepted<I: PortInterceptor>(by interceptor: I) -> Intercepted<Self, I> { Intercepted(self, by: interceptor) }
}

extension MetadataStore {
    /// This store with every call passed through `interceptor`.
    public func intercepted<I: PortInterceptor>(by interceptor: I) -> Intercepted<Self, I> { Intercepted(self, by: interceptor) }
}

extension ThumbnailCropper {
    /// This cropper with every call passed through `interceptor`.
    public func intercepted<I: PortInterceptor>(by interceptor: I) -> Intercepted<Self, I> { Intercepted(self, by: interceptor) }
}
