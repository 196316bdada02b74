import FaceClusterKit

/// A synthetic person: faces of one identity have embeddings pointing (nearly) the same way; different
/// identities are orthogonal. Similarity between two faces of one identity is above 99.
struct Identity: Hashable, Sendable {
    static let dimensions = 160
    let number: Int

    init(_ number: Int) {
        precondition(number >= 0 && number < Self.dimensions / 2)
        self.number = number
    }

    /// One face of this identity; `variant` adds a small, distinct perturbation (another photo of them).
    func embedding(variant: Int = 0) -> [Float] {
        var vector = [Float](repeating: 0, count: Self.dimensions)
        vector[number] = 1
        vector[Self.dimensions / 2 + (number + variant) % (Self.dimensions / 2)] += Float(variant % 7) * 0.01
        return vector
    }

    func face(
        _ box: BoundingBox, variant: Int = 0, confidence: Double = 99.5, sharpness: Double = 90
    ) -> SyntheticPhoto.Face {
        SyntheticPhoto.Face(box: box, confidence: confidence, embedding: embedding(variant: variant), sharpness: sharpness)
    }
}

/// Boxes laid out left to right, large enough to pass the default grouping policy in a 1200×900 photo.
enum Layout {
    static func box(_ slot: Int, of slots: Int = 4) -> BoundingBox {
        let width = 0.8 / Double(slots)
        return BoundingBox(left: 0.1 + Double(slot) * width, top: 0.3, width: width * 0.8, height: 0.3)
    }

    /// A 1200×900 photo of these identities, one face each, left to right.
    static func photo(_ identities: [Identity], variant: Int = 0, note: String? = nil) -> SyntheticPhoto {
        SyntheticPhoto(
            width: 1200, height: 900,
            faces: identities.enumerated().map { slot, identity in
                identity.face(box(slot, of: max(identities.count, 2)), variant: variant)
            },
            note: note)
    }

    /// A large photo with `count` faces on a grid, each a different identity (count ≤ 80) or variants of them.
    static func crowd(_ count: Int, side: Int = 6000) -> SyntheticPhoto {
        let columns = Int(Double(count).squareRoot().rounded(.up))
        let cell = 1.0 / Double(columns)
        return SyntheticPhoto(
            width: side, height: side,
            faces: (0..<count).map { n in
                let box = BoundingBox(
                    left: Double(n % columns) * cell + cell * 0.1, top: Double(n / columns) * cell + cell * 0.1,
                    width: cell * 0.8 * (1 - Double(n) / Double(count * 4)), height: cell * 0.8)
                return Identity(n % 80).face(box, variant: n / 80 * 7 + 1)
            })
    }
}
