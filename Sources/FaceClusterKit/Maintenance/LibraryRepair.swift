#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Finds and fixes what a crash or a bug can leave in a library, on any stores (local or AWS):
///
/// | problem | found by | fix |
/// | --- | --- | --- |
/// | a photo stuck `processing` past its lease (or its process exited) | the photo records | hand it back (`pending`) and list it in ``RepairReport/photosToIngest`` |
/// | a photo handed back (`pending`) by a run that was stopped | the photo records | list it in ``RepairReport/photosToIngest`` |
/// | a finished photo with a face that belongs to no one, or whose face left the index | the photos, their appearances, ListFaces | hand it back (`pending`) to be ingested again |
/// | a face in the index with no appearance | ``FaceListing/listFaces(continuationToken:limit:)`` | delete it from the index |
/// | an appearance whose thumbnail is missing | a listing of the thumbnail store | cut it again from the photo |
/// | a thumbnail no appearance points to | the same listing | delete it |
/// | a person with no photo; counts or a cover that disagree with the appearances | the people listing | ``MetadataStore/recountPerson(_:)`` |
/// | a people operation a crash left `pending` (a merge, move or undo half applied) | the newest 100 operations | ``PeopleJournal/recover(recent:)`` finishes it |
/// | an undo of a merge or move whose regrouping a crash kept from running | the same | ``Consolidation/finishRegroupings(recent:)`` runs it |
///
/// The caller ingests (locally) or re-queues (on AWS) ``RepairReport/photosToIngest``: `facecluster repair`
/// ingests them; the Lambda's scheduled repair sends them to the ingestion queue.
///
/// Safe while ingestion runs: nothing that belongs to a photo being processed under a live lease, or waiting to
/// be, is touched, and the in-progress photos are read again right before faces or thumbnails are deleted.
/// Costs: one listing of every photo, one appearance query per photo, one people listing, one thumbnail
/// listing, one face listing; then one request per fix.
public struct LibraryRepair: Sendable {
    public let metadata: any MetadataStore
    public let photos: any PhotoStore
    public let thumbnails: any PhotoStore
    public let index: any FaceIndex
    public let cropper: any ThumbnailCropper
    public let clock: any WallClock
    public let configuration: IngestionPipeline.Configuration

    /// The same stores, clock and configuration (thumbnail prefix and size, lease rules) as `pipeline`.
    public init(pipeline: IngestionPipeline) {
        metadata = pipeline.metadata
        photos = pipeline.photos
        thumbnails = pipeline.thumbnails
        index = pipeline.index
        cropper = pipeline.cropper
        clock = pipeline.clock
        configuration = pipeline.configuration
    }

    /// What a run looks at.
    public struct Scope: OptionSet, Sendable, Hashable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        /// Stuck and handed-back photos only: two status queries, cheap enough to run every few minutes
        /// (what the scheduled Lambda does).
        public static let photos = Scope(rawValue: 1)
        /// Index faces and thumbnails without an appearance, appearances without a thumbnail.
        public static let facesAndThumbnails = Scope(rawValue: 2)
        /// People's counts and covers, people without photos.
        public static let people = Scope(rawValue: 4)
        public static let all: Scope = [.photos, .facesAndThumbnails, .people]
    }

    /// Looks for the problems in the table above that `scope` covers and, unless `dryRun`, fixes each one.
    public func run(dryRun: Bool, scope: Scope = .all) async throws -> RepairReport {
        var report = RepairReport()
        let now = clock.now()
        let records = scope == .photos
            ? try await Page.all(pageSize: 500) { try await metadata.photos(withStatus: .processing, page: $0) }
                + Page.all(pageSize: 500) { try await metadata.photos(withStatus: .pending, page: $0) }
            : try await Page.all(pageSize: 500) { try await metadata.photos(withStatus: nil, page: $0) }

        // Photos: stuck or handed back. Their faces are left alone: ingesting them again completes them.
        var unfinishedFaces = Set<FaceID>()
        var unfinishedPhotos = Set<PhotoID>()
        for photo in records {
            switch photo.status {
            case .processing:
                unfinishedFaces.formUnion(photo.faceIDs)
                unfinishedPhotos.insert(photo.id)
                guard let lease = photo.lease, !live(lease, now) else { continue }
                report.add(.stuckPhoto, photo.id.rawValue, "processing, \(lease.expiresAt > now ? "its process has exited" : "lease expired") (\(lease))")
                if !dryRun { try await handBack(photo) }
                report.photosToIngest.append(photo.reference)
            case .pending:
                unfinishedFaces.formUnion(photo.faceIDs)
                unfinishedPhotos.insert(photo.id)
                report.add(.unfinishedPhoto, photo.id.rawValue, "pending: handed back by a run that stopped")
                report.photosToIngest.append(photo.reference)
            default: continue
            }
        }

        report.fixed = !dryRun
        guard scope != .photos else { return report }

        // People operations a crash interrupted: finished first, so the people below are counted as they end.
        if scope.contains(.people) {
            let journal = PeopleJournal(metadata: metadata, index: index as? any PersonVectorIndex, clock: clock)
            let recent = try await metadata.operations(page: PageRequest(limit: 100)).items
            for operation in recent where operation.state == .pending {
                report.add(.unfinishedOperation, operation.id, "pending: \(operation.summary), stopped part way")
            }
            for undo in Consolidation.awaitingRegrouping(among: recent) {
                report.add(.unfinishedOperation, undo.id, "\(undo.summary): the regrouping of the photos added since did not run")
            }
            if !dryRun {
                try await journal.recover()
                _ = try await Consolidation(metadata: metadata, index: index, policy: configuration.policy, clock: clock).finishRegroupings()
            }
        }

        // Appearances, by photo: every appearance belongs to a photo record.
        var appearances: [FaceID: Appearance] = [:]
        for photo in records {
            for appearance in try await metadata.appearances(inPhoto: photo.id) { appearances[appearance.faceID] = appearance }
        }

        if scope.contains(.facesAndThumbnails) {
            // A finished photo whose faces are not all someone's, or whose faces left the index (the seed plan
            // indexes only the faces that founded people): it is ingested again, which completes it.
            let indexed = try await (index as? any FaceListing)?.allFaces().map(\.faceID)
            let inIndex = indexed.map(Set.init)
            for photo in records where photo.status == .indexed && !unfinishedPhotos.contains(photo.id) {
                let faceless = photo.faceIDs.filter { appearances[$0] == nil }
                let lost = configuration.callPlan == .seed ? [] : photo.faceIDs.filter { appearances[$0] != nil && inIndex.map { !$0.contains($0) } ?? false }
                guard !faceless.isEmpty || !lost.isEmpty else { continue }
                let detail = !faceless.isEmpty
                    ? "indexed, but \(faceless.count) of its faces belong to no one"
                    : "indexed, but \(lost.count) of its faces are missing from the face index (new photos cannot match them)"
                report.add(.incompletePhoto, photo.id.rawValue, detail)
                unfinishedFaces.formUnion(photo.faceIDs)
                unfinishedPhotos.insert(photo.id)
                report.photosToIngest.append(photo.reference)
                guard !dryRun else { continue }
                let stale = lost.compactMap { appearances[$0] }
                if !stale.isEmpty { try await FaceRemoval(index: index, thumbnails: thumbnails, metadata: metadata).remove(stale) }
                for face in lost { appearances[face] = nil }
                try await handBack(photo)
            }
        }

        // Thumbnails: missing ones are cut again, orphans deleted.
        if scope.contains(.facesAndThumbnails) {
            try await repairFacesAndThumbnails(
                records: records, appearances: appearances, unfinishedFaces: unfinishedFaces, unfinishedPhotos: unfinishedPhotos,
                dryRun: dryRun, into: &report)
        }
        if scope.contains(.people) { try await repairPeople(appearances: appearances, dryRun: dryRun, into: &report) }
        return report
    }

    private func repairFacesAndThumbnails(
        records: [Photo], appearances: [FaceID: Appearance], unfinishedFaces: Set<FaceID>, unfinishedPhotos: Set<PhotoID>,
        dryRun: Bool, into report: inout RepairReport
    ) async throws {
        let prefix = configuration.thumbnailPrefix
        var stored = Set<String>()
        var token: String?
        repeat {
            let listing = try await thumbnails.list(prefix: prefix, continuationToken: token, limit: 1000)
            stored.formUnion(listing.objects.map(\.key))
            token = listing.continuationToken
        } while token != nil
        let referenced = Set(appearances.values.map(\.thumbnailKey))
        for appearance in appearances.values.sorted(by: { $0.faceID < $1.faceID }) where !stored.contains(appearance.thumbnailKey) {
            guard let photo = records.first(where: { $0.id == appearance.photoID }) else { continue }
            report.add(.missingThumbnail, appearance.thumbnailKey, "face \(appearance.faceID) in \(photo.id)")
            guard !dryRun else { continue }
            do {
                try await recut(appearance, from: photo)
            } catch {
                report.problems[report.problems.count - 1].notFixed = "cannot cut it again: \(error)"
            }
        }
        let orphanThumbnails = stored.subtracting(referenced).filter { key in
            !unfinishedFaces.contains(Self.faceID(ofThumbnail: key))
        }

        // Index faces no appearance points to.
        var orphanFaces: [IndexedFaceListing.Entry] = []
        if let listing = index as? any FaceListing {
            orphanFaces = try await listing.allFaces().filter { entry in
                appearances[entry.faceID] == nil && !unfinishedFaces.contains(entry.faceID)
                    && !unfinishedPhotos.contains(Self.photoID(ofExternalImageID: entry.externalImageID))
            }
        }

        // Deletions last, after reading again what started meanwhile and what got an appearance meanwhile.
        if !orphanThumbnails.isEmpty || !orphanFaces.isEmpty {
            let busy = try await Page.all(pageSize: 500) { try await metadata.photos(withStatus: .processing, page: $0) }
            let busyFaces = Set(busy.flatMap(\.faceIDs)), busyPhotos = Set(busy.map(\.id))
            let candidates = orphanFaces.map(\.faceID) + orphanThumbnails.map(Self.faceID(ofThumbnail:))
            let recorded = try await metadata.appearances(ofFaces: candidates)
            for key in orphanThumbnails.sorted() {
                let face = Self.faceID(ofThumbnail: key)
                guard !busyFaces.contains(face), recorded[face]?.thumbnailKey != key else { continue }
                report.add(.orphanThumbnail, key, "no appearance points to it")
                if !dryRun { try await thumbnails.delete(key) }
            }
            let faces = orphanFaces.filter { entry in
                !busyFaces.contains(entry.faceID) && recorded[entry.faceID] == nil
                    && !busyPhotos.contains(Self.photoID(ofExternalImageID: entry.externalImageID))
            }
            for entry in faces {
                report.add(.indexFaceWithoutAppearance, entry.faceID.rawValue, "indexed from \(entry.externalImageID ?? "an unknown image"), never grouped")
            }
            if !dryRun, !faces.isEmpty { try await index.deleteFaces(faces.map(\.faceID)) }
        }

    }

    private func repairPeople(appearances: [FaceID: Appearance], dryRun: Bool, into report: inout RepairReport) async throws {
        let people = try await Page.all(pageSize: 500) { try await metadata.people(page: $0) }
        let byPerson = Dictionary(grouping: appearances.values, by: \.personID)
        for listed in people {
            var person = listed
            var own = byPerson[person.id] ?? []
            if !Self.agrees(person, own) {
                // Read again: an ingestion may have been writing this person while the photos were read.
                guard let fresh = try await metadata.person(person.id) else { continue }
                person = fresh
                own = try await Page.all(pageSize: 500) { try await metadata.appearances(ofPerson: fresh.id, page: $0) }
                if Self.agrees(person, own) { continue }
            }
            let photoCount = Set(own.map(\.photoID)).count
            if own.isEmpty {
                report.add(.personWithoutPhotos, person.id.rawValue, "no appearance left")
            } else if person.photoCount != photoCount || person.faceCount != own.count {
                report.add(.countsDisagree, person.id.rawValue,
                           "stored \(person.photoCount) photos, \(person.faceCount) faces; appearances say \(photoCount), \(own.count)")
            } else if !own.contains(where: { $0.faceID == person.coverFaceID }) {
                report.add(.countsDisagree, person.id.rawValue, "the cover face \(person.coverFaceID?.rawValue ?? "(none)") is not one of theirs")
            } else {
                continue
            }
            if !dryRun { try await metadata.recountPerson(person.id) }
        }
    }

    /// Whether a person's counts and cover agree with its appearances.
    static func agrees(_ person: Person, _ own: [Appearance]) -> Bool {
        !own.isEmpty && person.photoCount == Set(own.map(\.photoID)).count && person.faceCount == own.count
            && own.contains { $0.faceID == person.coverFaceID }
    }

    private func live(_ lease: Lease, _ now: Date) -> Bool {
        configuration.reclaimsLeasesOfExitedProcesses ? lease.isLive(at: now) : lease.expiresAt > now
    }

    /// → `pending` without a lease, if nobody wrote the record meanwhile.
    private func handBack(_ photo: Photo) async throws {
        var released = photo
        released.status = .pending
        released.lease = nil
        released.updatedAt = clock.now()
        do {
            try await metadata.savePhoto(released, expectedRevision: photo.revision)
        } catch MetadataStoreError.conditionFailed {
            // A worker took it over meanwhile: it is being processed.
        }
    }

    /// Cuts an appearance's thumbnail again from its photo, at its key.
    private func recut(_ appearance: Appearance, from photo: Photo) async throws {
        var spec = configuration.thumbnailSpec
        if configuration.callPlan == .seed { spec.size = max(spec.size, IngestionPipeline.minimumImageSide) }
        let original = try await photos.get(photo.reference.key)
        guard let thumbnail = try await cropper.thumbnails(of: original.data, boxes: [appearance.boundingBox], spec: spec).first else { return }
        try await thumbnails.put(thumbnail, at: appearance.thumbnailKey, contentType: "image/jpeg")
    }

    /// `people/<personId>/<faceId>.jpg` → the face id.
    static func faceID(ofThumbnail key: String) -> FaceID {
        let name = key.split(separator: "/").last.map(String.init) ?? key
        return FaceID(rawValue: name.hasSuffix(".jpg") ? String(name.dropLast(4)) : name)
    }

    /// The photo a face was indexed from: its external id is the photo id (`photoId:position` in the seed plan).
    static func photoID(ofExternalImageID externalImageID: String?) -> PhotoID {
        PhotoID(rawValue: externalImageID.map { String($0.split(separator: ":").first ?? "") } ?? "")
    }
}

/// What ``LibraryRepair/run(dryRun:)`` found, and whether it fixed it.
public struct RepairReport: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case stuckPhoto = "stuck_photo"
        case unfinishedPhoto = "unfinished_photo"
        case incompletePhoto = "incomplete_photo"
        case indexFaceWithoutAppearance = "index_face_without_appearance"
        case missingThumbnail = "missing_thumbnail"
        case orphanThumbnail = "orphan_thumbnail"
        case personWithoutPhotos = "person_without_photos"
        case countsDisagree = "counts_disagree"
        case unfinishedOperation = "unfinished_operation"
        /// Faces a stopped or killed run grouped and never consolidated (found by the local library's
        /// `UnconsolidatedFaces`; fixed by consolidating their components).
        case unconsolidatedFaces = "unconsolidated_faces"
        /// SQLite's integrity check of the local library's database failed (a damaged page: a disk or file-system
        /// fault, a file copied while written). Not fixed in place: see `facecluster repair`.
        case damagedDatabase = "damaged_database"
        /// A photo of the library whose file is gone (moved or deleted since it was ingested). Found by
        /// `facecluster repair` (a `stat` a photo; not by ``LibraryRepair``, for which it would be an S3 `HEAD` a
        /// photo every run). Never fixed by a repair: a file on a drive that is only unmounted comes back.
        case missingOriginal = "missing_original"
    }

    public struct Problem: Sendable, Hashable, Codable, CustomStringConvertible {
        public var kind: Kind
        /// The photo, face or person id, the thumbnail key, or a file of the library's (relative to its folder).
        public var subject: String
        public var detail: String
        /// Why it could not be fixed (the photo it needs is gone, say); `nil` when fixed or not attempted.
        public var notFixed: String?

        public var description: String { "\(kind.rawValue) \(subject): \(detail)" + (notFixed.map { " — not fixed: \($0)" } ?? "") }

        public init(kind: Kind, subject: String, detail: String, notFixed: String? = nil) {
            self.kind = kind
            self.subject = subject
            self.detail = detail
            self.notFixed = notFixed
        }
    }

    public var problems: [Problem] = []
    /// Photos that are not done: ingest them (locally) or send them to the ingestion queue (on AWS).
    public var photosToIngest: [PhotoReference] = []
    /// Whether the problems were fixed (`false` for a dry run).
    public var fixed = false

    public init() {}

    /// Nothing to fix.
    public var isClean: Bool { problems.isEmpty }

    mutating func add(_ kind: Kind, _ subject: String, _ detail: String) {
        problems.append(Problem(kind: kind, subject: subject, detail: detail))
    }
}
