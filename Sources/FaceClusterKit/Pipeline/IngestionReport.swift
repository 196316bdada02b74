/// What ingesting one photo did.
public struct IngestionReport: Sendable, Hashable {
    public var photoID: PhotoID
    public var reference: PhotoReference
    public var outcome: Outcome
    /// Faces grouped into people.
    public var faceCount: Int
    /// Faces found but not grouped (see ``Photo/skippedFaces``).
    public var skippedFaceCount: Int
    /// People this photo founded.
    public var newPeople: [PersonID]
    /// Existing people this photo's faces joined.
    public var matchedPeople: [PersonID]
    /// The faces grouped (what ``Consolidation/run(touching:)`` takes).
    public var faceIDs: [FaceID] = []
    public var duration: Duration

    public init(
        photoID: PhotoID, reference: PhotoReference, outcome: Outcome, faceCount: Int = 0, skippedFaceCount: Int = 0,
        newPeople: [PersonID] = [], matchedPeople: [PersonID] = [], duration: Duration = .zero
    ) {
        self.photoID = photoID
        self.reference = reference
        self.outcome = outcome
        self.faceCount = faceCount
        self.skippedFaceCount = skippedFaceCount
        self.newPeople = newPeople
        self.matchedPeople = matchedPeople
        self.duration = duration
    }

    public enum Outcome: Sendable, Hashable {
        /// Faces were found and grouped.
        case indexed
        /// The photo was processed and holds no face worth grouping.
        case noFaces
        /// Nothing had to be done (see ``SkipReason``).
        case skipped(SkipReason)
        /// Processing failed; the failure is recorded on the photo unless another worker owns it.
        case failed(PhotoFailure)
        /// Another worker holds a live lease on the photo (this content or an earlier one): nothing was done,
        /// and the photo is **not** done. Try again after the lease ends (a queue redelivers the event; a local
        /// run is repeated), or sooner if its holder's process exits.
        case inProgressElsewhere(Lease)
        /// This process was asked to stop before the photo was done; the photo was handed back (its lease
        /// released, status `pending`) so the next run takes it at once.
        case interrupted
    }

    public enum SkipReason: String, Sendable, Hashable {
        /// This content was already processed (a re-delivered event).
        case alreadyProcessed = "already_processed"
        /// The photo was deleted; a late event does not bring it back.
        case deleted
        /// Another worker took the photo over (this one's lease had expired); its result stands.
        case superseded
    }

    /// Whether a queue should deliver the event again: a retryable failure, a photo another worker holds, or
    /// one this process gave back when it was stopped. Never `true` for a photo that is done.
    public var shouldRetry: Bool {
        switch outcome {
        case .failed(let failure): failure.retryable
        case .inProgressElsewhere, .interrupted: true
        case .indexed, .noFaces, .skipped: false
        }
    }
}
