/// The thresholds and filters that decide which faces are grouped and when two faces are the same person.
///
/// Defaults and why:
/// - ``faceMatchThreshold`` 90: Rekognition's own default is 80. A split person costs a user one merge; a
///   wrong merge shows one person's photos under another's face, which is worse, so we start stricter.
/// - ``minimumConfidence`` 90: below it Rekognition's detections are often not faces (hands, patterns).
/// - ``minimumFaceSize`` 40 px on the short side of the displayed photo: Rekognition's own floor for a face
///   in a 1920×1080 image; smaller faces give poor matches and useless thumbnails.
/// - ``maxFacesPerPhoto`` 100: IndexFaces indexes at most 100 faces; the rest are recorded as skipped.
public struct GroupingPolicy: Hashable, Sendable {
    /// Lowest similarity (0…100) at which a face joins an existing person.
    public var faceMatchThreshold: Double
    /// Lowest detection confidence (0…100) of a face that is grouped.
    public var minimumConfidence: Double
    /// Shortest side, in displayed pixels, of a face that is grouped.
    public var minimumFaceSize: Int
    /// Most faces grouped per photo, largest first.
    public var maxFacesPerPhoto: Int
    /// Candidates considered per face search.
    public var maxMatchesPerSearch: Int
    /// The index's own quality filter (Rekognition `QualityFilter`; `auto` drops blurry, dark, extreme-pose faces).
    public var qualityFilter: QualityFilter

    public init(
        faceMatchThreshold: Double = 90, minimumConfidence: Double = 90, minimumFaceSize: Int = 40,
        maxFacesPerPhoto: Int = 100, maxMatchesPerSearch: Int = 10, qualityFilter: QualityFilter = .auto
    ) {
        self.faceMatchThreshold = faceMatchThreshold
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

    var searchOptions: SearchOptions { SearchOptions(threshold: faceMatchThreshold, maxMatches: maxMatchesPerSearch) }
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
