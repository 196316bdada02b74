#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What clients ask of the grouped photos — who the people are, which photos each is in, short-lived URLs
/// to the images — and the people operations photo apps have: rename, merge, delete a photo, forget a person.
///
/// Listings are keyset-paginated: while ingestion writes, a listing never repeats an item and never skips
/// one that existed before it started and did not move (a person whose photo count changes moves in the
/// most-photos-first order).
public struct Gallery: Sendable {
    public let metadata: any MetadataStore
    public let photos: any PhotoStore
    public let thumbnails: any PhotoStore
    public let index: any FaceIndex
    public let clock: any WallClock

    /// Validity of presigned URLs unless a call says otherwise: 15 minutes.
    public static let defaultURLExpiry: Duration = .seconds(900)
    /// The longest name a person may be given, in characters.
    public static let maximumNameLength = 200

    public init(
        metadata: any MetadataStore, photos: any PhotoStore, thumbnails: any PhotoStore, index: any FaceIndex,
        clock: any WallClock = SystemWallClock()
    ) {
        self.metadata = metadata
        self.photos = photos
        self.thumbnails = thumbnails
        self.index = index
        self.clock = clock
    }

    // MARK: Reading

    /// People, most photos first. One metadata query.
    public func people(page: PageRequest = PageRequest()) async throws -> Page<Person> {
        try await metadata.people(page: page)
    }

    /// One person (a merged-away id answers with the person it was merged into).
    public func person(_ id: PersonID) async throws -> Person {
        guard let person = try await metadata.person(id) else { throw GalleryError.personNotFound(id) }
        return person
    }

    /// The photos a person appears in, newest first, each with the person's face in it. Two metadata requests.
    public func photos(of personID: PersonID, page: PageRequest = PageRequest()) async throws -> Page<PersonPhoto> {
        _ = try await person(personID)
        let appearances = try await metadata.appearances(ofPerson: personID, page: page)
        let records = try await metadata.photos(appearances.items.map(\.photoID))
        return Page(
            items: appearances.items.compactMap { appearance in
                records[appearance.photoID].map { PersonPhoto(photo: $0, appearance: appearance) }
            },
            nextCursor: appearances.nextCursor)
    }

    /// A photo with the people in it.
    public func photo(_ id: PhotoID) async throws -> PhotoDetail {
        guard let photo = try await metadata.photo(id), photo.status != .deleted else { throw GalleryError.photoNotFound(id) }
        let appearances = try await metadata.appearances(inPhoto: id)
        var faces: [PhotoDetail.Face] = []
        for appearance in appearances {
            if let person = try await metadata.person(appearance.personID) {
                faces.append(PhotoDetail.Face(appearance: appearance, person: person))
            }
        }
        return PhotoDetail(photo: photo, faces: faces)
    }

    /// A URL to the original photo, valid for `expiresIn` (at most 7 days). No request is made.
    public func photoURL(for photo: Photo, expiresIn: Duration = defaultURLExpiry) async throws -> URL {
        try await photos.presignedURL(for: photo.reference.key, expiresIn: expiresIn)
    }

    /// A URL to a face thumbnail (``Appearance/thumbnailKey``, ``Person/coverThumbnailKey``).
    public func thumbnailURL(for key: String, expiresIn: Duration = defaultURLExpiry) async throws -> URL {
        try await thumbnails.presignedURL(for: key, expiresIn: expiresIn)
    }

    // MARK: Changing

    /// Names a person; `nil` or blank clears the name. Names are trimmed, at most 200 characters, no control characters.
    public func rename(_ id: PersonID, to name: String?) async throws -> Person {
        let trimmed = name.map { String($0.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()) }
        let cleaned = (trimmed?.isEmpty ?? true) ? nil : trimmed
        if let cleaned {
            guard cleaned.count <= Self.maximumNameLength else {
                throw GalleryError.invalidName("longer than \(Self.maximumNameLength) characters")
            }
            guard !cleaned.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw GalleryError.invalidName("contains control characters")
            }
        }
        do {
            return try await metadata.renamePerson(id, to: cleaned)
        } catch MetadataStoreError.personNotFound {
            throw GalleryError.personNotFound(id)
        }
    }

    /// Moves every photo and face of `source` to `target` and removes `source` (its id keeps resolving to
    /// `target`). The user's word wins: the two may even share a photo. Thumbnails keep their keys.
    public func merge(_ source: PersonID, into target: PersonID) async throws -> Person {
        guard source != target else { throw GalleryError.invalidMerge("a person cannot be merged into itself") }
        do {
            return try await metadata.mergePeople(source, into: target, requireDisjointPhotos: false)
        } catch MetadataStoreError.personNotFound(let id) {
            throw GalleryError.personNotFound(id)
        }
    }

    /// Deletes a photo from the gallery: its faces leave the index, its thumbnails and appearances go, the
    /// people's counts drop and a person left with no photo disappears. The record stays as a `deleted`
    /// tombstone so a late re-delivery of the same upload does not bring it back. The original is removed
    /// from the photo store only with `removeOriginal` (local photos are the user's files). Idempotent.
    /// Throws ``GalleryError/photoBusy(_:)`` while a worker is processing the photo.
    public func deletePhoto(_ id: PhotoID, removeOriginal: Bool = false) async throws {
        var photo = try await tombstone(id)
        let appearances = try await metadata.appearances(inPhoto: id)
        try await FaceRemoval(index: index, thumbnails: thumbnails, metadata: metadata)
            .remove(appearances, alsoIndexed: photo.faceIDs)
        if removeOriginal { try await photos.delete(photo.reference.key) }
        photo.faceIDs = []
        photo.indexedContentTag = nil
        photo.skippedFaces = []
        _ = try? await metadata.savePhoto(photo, expectedRevision: photo.revision)
    }

    /// Forgets a person: every face of theirs leaves the index, every thumbnail and appearance goes, and the
    /// person disappears. Photos stay, with the other people in them. Returns how many faces were removed.
    @discardableResult
    public func forget(_ id: PersonID) async throws -> Int {
        _ = try await person(id)
        let removal = FaceRemoval(index: index, thumbnails: thumbnails, metadata: metadata)
        var removed = 0
        while true {
            let page = try await metadata.appearances(ofPerson: id, page: PageRequest(limit: 100))
            guard !page.items.isEmpty else { break }
            try await removal.remove(page.items)
            removed += page.items.count
            try await detach(Set(page.items.map(\.faceID)), fromPhotos: Set(page.items.map(\.photoID)))
            if try await metadata.person(id) == nil { break }
        }
        return removed
    }

    // MARK: Helpers

    /// Marks the photo deleted (compare-and-set), refusing while a worker holds a live lease.
    private func tombstone(_ id: PhotoID) async throws -> Photo {
        for _ in 0..<8 {
            guard var photo = try await metadata.photo(id) else { throw GalleryError.photoNotFound(id) }
            if photo.status == .deleted { return photo }
            if photo.status == .processing, let lease = photo.lease, lease.expiresAt > clock.now() {
                throw GalleryError.photoBusy(id)
            }
            photo.status = .deleted
            photo.lease = nil
            photo.updatedAt = clock.now()
            do {
                return try await metadata.savePhoto(photo, expectedRevision: photo.revision)
            } catch MetadataStoreError.conditionFailed { continue }
        }
        throw GalleryError.photoBusy(id)
    }

    /// Drops forgotten faces from their photos' records.
    private func detach(_ faces: Set<FaceID>, fromPhotos photoIDs: Set<PhotoID>) async throws {
        for photoID in photoIDs {
            for _ in 0..<8 {
                guard var photo = try await metadata.photo(photoID) else { break }
                photo.faceIDs.removeAll { faces.contains($0) }
                photo.updatedAt = clock.now()
                do {
                    try await metadata.savePhoto(photo, expectedRevision: photo.revision)
                    break
                } catch MetadataStoreError.conditionFailed { continue }
            }
        }
    }
}

/// A photo of a person, with the person's face in it.
public struct PersonPhoto: Hashable, Sendable {
    public var photo: Photo
    public var appearance: Appearance
}

/// A photo and the people in it.
public struct PhotoDetail: Hashable, Sendable {
    public var photo: Photo
    public var faces: [Face]

    public struct Face: Hashable, Sendable {
        public var appearance: Appearance
        public var person: Person
    }
}

/// Failures of gallery operations, each naming what a client got wrong or must wait for.
public enum GalleryError: Error, Hashable, Sendable, CustomStringConvertible {
    case personNotFound(PersonID)
    case photoNotFound(PhotoID)
    /// A worker is processing the photo; try again in a moment.
    case photoBusy(PhotoID)
    case invalidName(String)
    case invalidMerge(String)

    public var description: String {
        switch self {
        case .personNotFound(let id): "no person \(id)"
        case .photoNotFound(let id): "no photo \(id)"
        case .photoBusy(let id): "photo \(id) is being processed; try again shortly"
        case .invalidName(let reason): "invalid name: \(reason)"
        case .invalidMerge(let reason): "invalid merge: \(reason)"
        }
    }
}
