import FaceClusterKit
import Foundation

/// Photos of known people: one sub-folder per person (the folder's name is the label).
public struct LabeledPhotos: Sendable {
    public struct Photo: Sendable, Hashable {
        public var label: String
        public var file: URL
    }

    public var photos: [Photo]

    public init(photos: [Photo]) { self.photos = photos }

    /// Every file in the sub-folders of `folder` (recursively, hidden files left out), sorted by path.
    public init(folder: URL) throws {
        let root = folder.standardizedFileURL
        var photos: [Photo] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: root.path).filter({ !$0.hasPrefix(".") }).sorted() {
            let sub = root.appendingPathComponent(name)
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: sub.path, isDirectory: &isFolder), isFolder.boolValue else { continue }
            // Walked by its real path: Foundation lists a link to a folder as empty.
            let walker = FileManager.default.enumerator(
                at: sub.resolvingSymlinksInPath(), includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
            var files: [URL] = []
            while let next = walker?.nextObject() as? URL {
                if (try? next.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true { files.append(next.standardizedFileURL) }
            }
            photos += files.sorted { $0.path < $1.path }.map { Photo(label: name, file: $0) }
        }
        self.photos = photos
    }

    public var labels: [String] { Array(Set(photos.map(\.label))).sorted() }

    /// The same photos in a random order (seeded: the same seed, the same order).
    public func shuffled(seed: UInt64) -> LabeledPhotos {
        var generator = SplitMix64(seed: seed)
        return LabeledPhotos(photos: photos.shuffled(using: &generator))
    }

    /// For each person, a random number of their photos within `perPerson` (at most all of them), in a random
    /// order: what a real library with a few photos of most people looks like.
    public func subsample(_ perPerson: ClosedRange<Int>, seed: UInt64) -> LabeledPhotos {
        var generator = SplitMix64(seed: seed)
        var kept: [Photo] = []
        for label in labels {
            let own = photos.filter { $0.label == label }.shuffled(using: &generator)
            kept += own.prefix(Int.random(in: perPerson, using: &generator))
        }
        return LabeledPhotos(photos: kept.shuffled(using: &generator))
    }
}

/// Groups labeled photos with the embedded default — the real pipeline, consolidation included — in a
/// scratch library, and scores the people found against the labels (``ClusteringScore``).
///
/// By default only the largest face of each photo is scored, with its folder's label: news and event photos
/// often show other people behind the one the folder is named after, and labelling those as the folder's person
/// would count correct groupings as errors. Faces are analysed once and kept (``LocalFaceEngine/AnalysisCache``),
/// so many groupings of the same photos — arrival orders, subsets, thresholds — cost the grouping alone.
public struct GroupingEvaluation: Sendable {
    public var models: FaceModels
    public var cache = LocalFaceEngine.AnalysisCache()
    /// Score every face found with its photo's label (the rule before the largest-face default).
    public var allFaces = false

    public init(models: FaceModels = FaceModels(), allFaces: Bool = false) {
        self.models = models
        self.allFaces = allFaces
    }

    /// What one grouping of a labeled set gave.
    public struct Result: Sendable, Codable {
        public struct Identity: Sendable, Codable {
            public var name: String
            public var photos: Int
            public var faces: Int
            /// How many of its scored faces went to each person found, largest first.
            public var people: [Int]
        }

        public var photos: Int
        /// Faces found, and faces scored (the largest of each photo, or all with `allFaces`).
        public var faces: Int
        public var scoredFaces: Int
        public var photosWithoutFace: Int
        public var failed: Int
        /// Every group of faces found, people and groups of unassigned faces alike (what the score counts).
        public var peopleFound: Int
        /// The people a user sees: ``Gallery/isListed(_:)`` (at least `minimumFacesPerPerson` faces, or confirmed).
        public var listedPeople: Int
        public var identities: [Identity]
        /// People found holding scored faces of several labels: label → faces. Each is a wrong merge.
        public var mixed: [[String: Int]]
        /// Labels whose scored faces went to more than one person.
        public var split: [String]
        public var score: ClusteringScore
        /// The people found, as sorted lists of file names (scored faces only): compares groupings.
        public var partition: [[String]]
        public var seconds: Double

        public var wrongMerges: Int { mixed.count }
    }

    static func area(_ appearance: Appearance) -> Double { appearance.boundingBox.width * appearance.boundingBox.height }

    /// Ingests `set` in its order into a fresh library with `policy`, `jobs` photos at once, consolidates, and
    /// scores. With `jobs` 1 the photos arrive exactly in the set's order.
    public func run(_ set: LabeledPhotos, policy: GroupingPolicy, jobs: Int) async throws -> Result {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("facecluster-evaluate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var configuration = LocalLibrary.pipelineDefaults
        configuration.policy = policy
        let library = try LocalLibrary(
            directory: scratch, models: models, configuration: configuration, inMemoryDatabase: true, analysisCache: cache,
            cropper: HeaderOnlyCropper())
        let references = set.photos.map { library.reference(forFile: $0.file)! }
        let started = ContinuousClock.now
        let reports = try await concurrentMap(references, limit: jobs) { await library.pipeline.ingest($0) }
        let touched = reports.flatMap(\.faceIDs)
        if !touched.isEmpty { _ = try await Consolidation(pipeline: library.pipeline).run(touching: touched) }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18

        var assignments: [(label: String, cluster: String)] = []
        var members: [String: [(label: String, file: String)]] = [:]
        var identities: [String: (photos: Int, faces: [String])] = [:]
        var withoutFace = 0
        for (photo, report) in zip(set.photos, reports) {
            identities[photo.label, default: (0, [])].photos += 1
            let appearances = try await library.metadata.appearances(inPhoto: report.photoID)
            guard let largest = appearances.max(by: { Self.area($0) < Self.area($1) }) else {
                withoutFace += 1
                assignments.append((photo.label, "unassigned:\(report.photoID.rawValue)"))
                continue
            }
            for appearance in allFaces ? appearances : [largest] {
                let person = appearance.personID.rawValue
                assignments.append((photo.label, person))
                members[person, default: []].append((photo.label, photo.file.lastPathComponent))
                identities[photo.label]?.faces.append(person)
            }
        }
        var mixed: [[String: Int]] = []
        for entries in members.values {
            var labels: [String: Int] = [:]
            for entry in entries { labels[entry.label, default: 0] += 1 }
            if labels.count > 1 { mixed.append(labels) }
        }
        mixed.sort { $0.keys.sorted().joined(separator: "+") < $1.keys.sorted().joined(separator: "+") }
        let identityList = identities.keys.sorted().map { name in
            let faces = identities[name]!.faces
            return Result.Identity(
                name: name, photos: identities[name]!.photos, faces: faces.count,
                people: Dictionary(faces.map { ($0, 1) }, uniquingKeysWith: +).values.sorted(by: >))
        }
        let failed = reports.filter { if case .failed = $0.outcome { true } else { false } }.count
        let found = try await Page.all(pageSize: 1000) { try await library.metadata.people(page: $0) }
        let split = identityList.filter { $0.people.count > 1 }.map(\.name)
        let partition: [[String]] = members.values.map { entries in entries.map(\.file).sorted() }.sorted { ($0.first ?? "") < ($1.first ?? "") }
        let faces = reports.map(\.faceCount).reduce(0, +)
        return Result(
            photos: reports.count, faces: faces, scoredFaces: assignments.count - withoutFace, photosWithoutFace: withoutFace,
            failed: failed, peopleFound: found.count, listedPeople: found.filter(library.gallery.isListed).count, identities: identityList, mixed: mixed, split: split,
            score: ClusteringScore(assignments), partition: partition, seconds: seconds)
    }
}

/// Reads photos' headers like the real cropper but cuts no thumbnails (an empty one per face): grouping does
/// not look at them, and evaluations group the same photos many times.
struct HeaderOnlyCropper: ThumbnailCropper {
    let base = TurboJPEGThumbnailCropper(decoders: .local)
    func imageInfo(of data: Data) throws -> ImageInfo { try base.imageInfo(of: data) }
    func thumbnails(of data: Data, boxes: [BoundingBox], spec: ThumbnailSpec) async throws -> [Data] { boxes.map { _ in Data() } }
}
