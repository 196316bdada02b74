import CDlibFace
import FaceClusterKit
import Synchronization

/// The faces of one photo that get embeddings: the `limit` first in ``LargestFaces/precedes(_:_:)`` order among
/// those offered so far, each with its aligned chip, keyed by its place in the photo's list of faces.
///
/// A photo indexes at most ``IndexOptions/maxFaces`` faces (100, as Rekognition's IndexFaces), its largest;
/// the rest are reported as `EXCEEDS_MAX_FACES`. The recognition network costs 10–12 ms of one core a face,
/// so it runs once every pass has offered its faces, for the faces indexed only. Embedding every face found, a
/// 48 MP crowd of 585 faces took 15.2–15.7 s to ingest, now 5.6 s; a 9 MP grid of 398 faces 8.0–8.2 → 3.1–3.5 s
/// (Docs/formats.md, `scripts/bench-hostile.sh`).
///
/// Chips are taken as faces are offered, while the image they were found in exists (a big photo's passes let
/// their images go one by one): `limit` are kept between offers, 67,500 bytes each (6.75 MB for 100), and an
/// offer briefly holds those it cuts beside them. Offers are taken one at a time (under the lock), as the
/// passes make them.
final class LargestFaces: Sendable {
    /// How many faces get embeddings.
    let limit: Int
    private let kept = Mutex<[Candidate]>([])

    private struct Candidate {
        var key: Int
        var face: DetectedFace
        var chip: [UInt8]
    }

    init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// The order faces are indexed in: larger displayed area first; equal areas (boxes of one pyramid level
    /// are the same size) top to bottom, then left to right, so the faces indexed never depend on the order
    /// the passes found them in.
    /// Two faces of one photo never share a box (the detector keeps one of boxes that overlap), so the order is total.
    static func precedes(_ a: DetectedFace, _ b: DetectedFace) -> Bool {
        let (areaA, areaB) = (a.boundingBox.width * a.boundingBox.height, b.boundingBox.width * b.boundingBox.height)
        if areaA != areaB { return areaA > areaB }
        if a.boundingBox.top != b.boundingBox.top { return a.boundingBox.top < b.boundingBox.top }
        return a.boundingBox.left < b.boundingBox.left
    }

    /// Offers faces found in `image` (`box` as the detector gave it in `image`'s pixels, `face` normalized to
    /// the photo): takes the chips of those that now rank among the `limit` first and lets go of the chips of
    /// those they push out. Chips are cut with `engine`, on the caller's thread.
    func offer(_ faces: [(key: Int, face: DetectedFace, box: dlib_face)], in image: UprightImage, engine: DlibFaceEngine) throws {
        guard limit > 0, !faces.isEmpty else { return }
        try kept.withLock { kept in
            var ranked = kept.map { (key: $0.key, face: $0.face, offered: nil as Int?) }
                + faces.indices.map { (key: faces[$0].key, face: faces[$0].face, offered: Optional($0)) }
            ranked.sort { Self.precedes($0.face, $1.face) }
            let entering = ranked.prefix(limit).compactMap(\.offered)
            guard !entering.isEmpty else { return }
            let chips = try engine.chips(image, faces: entering.map { faces[$0].box })
            let keys = Set(ranked.prefix(limit).map(\.key))
            kept.removeAll { !keys.contains($0.key) }
            for (offered, chip) in zip(entering, chips) { kept.append(Candidate(key: faces[offered].key, face: faces[offered].face, chip: chip)) }
        }
    }

    /// The embedding of each face kept, by key: the network over their chips, on the caller's thread.
    func embeddings(engine: DlibFaceEngine) throws -> [Int: [Float]] {
        let candidates = kept.withLock { $0 }
        let vectors = try engine.embed(chips: candidates.map(\.chip))
        return Dictionary(uniqueKeysWithValues: zip(candidates.map(\.key), vectors))
    }
}
