/// The thresholds and filters that decide which faces are grouped and when two faces are the same person.
///
/// Defaults and why:
/// - ``faceMatchThreshold`` 90: Rekognition's own default is 80. A split person costs a user one merge; a
///   wrong merge shows one person's photos under another's face, which is worse, so we start stricter. The
///   local engine maps its calibrated distance to 90 (`LocalFaceEngine.matchDistance`).
/// - ``singleFaceMargin`` 0: a face joins a person of one face, or two lone faces become a person, at the same
///   threshold (plain average linkage). Raising it guards against two strangers who look alike and are each
///   seen once, at a cost in people split. The local library, whose engine's distances were calibrated, sets
///   both: groups join at distance 0.57 (``faceMatchThreshold`` ≈ 89.6) and two single faces at 0.55 (a margin
///   of ≈ 0.36, so 90), since a mean over several pairs strays less than one pair (`Docs/grouping.md` §6).
/// - ``reviewThreshold`` 80: matches down to it are kept as edges of the face graph (near misses feed merge
///   suggestions and later consolidation) but never join on their own. Rekognition's default threshold.
/// - ``minimumFacesPerPerson`` 1: every face is someone (the reference design's behaviour); a library may
///   raise it so that strangers seen once wait, unassigned, until enough of their faces agree.
/// - ``minimumConfidence`` 90: below it Rekognition's detections are often not faces (hands, patterns).
/// - ``minimumFaceSize`` 40 px on the short side of the displayed photo: Rekognition's own floor for a face
///   in a 1920×1080 image; smaller faces give poor matches and useless thumbnails.
/// - ``maxFacesPerPhoto`` 100: IndexFaces indexes at most 100 faces; the rest are recorded as skipped.
public struct GroupingPolicy: Hashable, Sendable {
    /// Lowest similarity (0…100) at which a face joins an existing person of two or more faces (for average
    /// linkage: the lowest mean similarity at which two groups of faces are one person).
    public var faceMatchThreshold: Double
    /// How much more similar than ``faceMatchThreshold`` a face must be to join a person of a single face
    /// (two lone faces become one person).
    public var singleFaceMargin: Double
    /// Lowest similarity at which a face joins a person of a single face: ``faceMatchThreshold`` + ``singleFaceMargin``.
    public var singleFaceMatchThreshold: Double { faceMatchThreshold + singleFaceMargin }
    /// Lowest similarity of a match kept as an edge of the face graph (below ``faceMatchThreshold``: near misses).
    public var reviewThreshold: Double
    /// Faces a group needs before it is shown as a person (Immich's minFaces); smaller groups are unassigned
    /// faces until more of their faces arrive or a user names them.
    public var minimumFacesPerPerson: Int
    /// Lowest detection confidence (0…100) of a face that is grouped.
    public var minimumConfidence: Double
    /// Shortest side, in displayed pixels, of a face that is grouped.
    public var minimumFaceSize: Int
    /// Most faces grouped per photo, largest first.
    public var maxFacesPerPhoto: Int
    /// Matches kept per face search (Rekognition: `MaxFaces`, up to 4,096): the face's edges in the graph.
    public var maxMatchesPerSearch: Int
    /// The index's own quality filter (Rekognition `QualityFilter`; `auto` drops blurry, dark, extreme-pose faces).
    public var qualityFilter: QualityFilter

    public init(
        faceMatchThreshold: Double = 90, singleFaceMargin: Double = 0, reviewThreshold: Double = 80,
        minimumFacesPerPerson: Int = 1, minimumConfidence: Double = 90, minimumFaceSize: Int = 40,
        maxFacesPerPhoto: Int = 100, maxMatchesPerSearch: Int = 50, qualityFilter: QualityFilter = .auto
    ) {
        self.faceMatchThreshold = faceMatchThreshold
        self.singleFaceMargin = max(0, singleFaceMargin)
        self.reviewThreshold = reviewThreshold
        self.minimumFacesPerPerson = max(1, minimumFacesPerPerson)
        self.minimumConfidence = minimumConfidence
        self.minimumFaceSize = minimumFaceSize
        self.maxFacesPerPhoto = maxFacesPerPhoto
        self.maxMatchesPerSearch = maxMatchesPerSearch
        self.qualityFilter = qualityFilter
    }

    /// Why `face` should not be grouped in a `width` × `height` displayed photo, or `nil` to keep it.
    public func skipReason(for face: DetectedFace, width: Int, height: Int) -> SkippedFace.SkipReason? {
        if face.confidence < minimumConfidence { return .lowConfidence }
        if face.boundingBox.pixels(inWidth: width, height: height).shortSide < minimumFaceSize { return .tooSmall }
        return nil
    }

    /// Searches return matches down to the review threshold (never above the join threshold): the join
    /// decision filters them, the graph keeps them.
    var searchOptions: SearchOptions { SearchOptions(threshold: min(reviewThreshold, faceMatchThreshold), maxMatches: maxMatchesPerSearch) }
}

/// Which sequence of face-service calls groups a photo's faces. See `Docs/architecture.md` for costs.
public enum CallPlan: String, Hashable, Sendable, CaseIterable {
    /// One `indexFaces` on the whole photo, then one `searchFaces(matching:)` per kept face, concurrently:
    /// exactly 1 + N billed calls; every face stays indexed as an exemplar of its person.
    case indexed
    /// The reference design: `detectFaces`, then per face crop `searchFaces(byImage:)` and `indexFaces` when
    /// nothing matched, one face after another: 1 + N to 1 + 2N calls, plus one re-check search per new face
    /// unless ``IngestionPipeline/Configuration/seedPlanRechecksNewFaces`` is off.
    case seed
    /// Each person is a vector in the index (Rekognition *users*; needs a ``PersonVectorIndex``): one
    /// `indexFaces` on the whole photo, then per kept face `searchPeople(matching:)` — and, for a face that
    /// matched nobody, a `searchFaces(matching:)` that finds faces other workers are grouping right now — then
    /// one `associate` per face (and the creation of each new person's vector). 1 + 2N calls when everyone is
    /// known, 1 + 3N (+ N user creations) when everyone is new. Worth it when people have many varied photos:
    /// a face is compared with each person's average of up to 100 faces rather than with single faces.
    case users
}
