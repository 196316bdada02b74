#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// A ``FaceIndex`` in memory that matches faces by the embeddings a test put in its ``SyntheticPhoto``s.
/// Similarity is the cosine of two embeddings × 100 (0 when negative or of different lengths).
///
/// It keeps Rekognition's semantics where the pipeline depends on them: indexing the same content under
/// the same external id returns the same face ids; at most `maxFaces` faces, largest first; the quality filter
/// refuses blurry faces (sharpness under 20) unless it is `none`; a search never returns the searched face.
/// As a ``PersonVectorIndex`` a person's vector is the mean of at most ``personVectorCapacity`` associated
/// faces, as Rekognition's users are.
public actor InMemoryFaceIndex: PersonVectorIndex {
    private struct StoredFace {
        var embedding: [Float]
        var externalImageID: String
    }

    private var faces: [FaceID: StoredFace] = [:]
    private var indexedImages: [String: [IndexedFace]] = [:]
    private var people: [PersonID: [FaceID]] = [:]
    private var personOfFace: [FaceID: PersonID] = [:]

    /// The most faces one person's vector holds (Rekognition: 100 per user).
    public static let personVectorCapacity = 100

    public init() {}

    /// How many faces are indexed (tests compare it with the appearances recorded: no orphans).
    public var faceCount: Int { faces.count }

    /// Every indexed face id.
    public var faceIDs: Set<FaceID> { Set(faces.keys) }

    public func indexFaces(in image: ImageInput, externalImageID: String, options: IndexOptions) throws -> IndexedFaces {
        let scene = try Self.scene(of: image)
        let imageKey = externalImageID + "\u{0}" + SHA256.hash(data: image.data).description
        var unindexed: [UnindexedFace] = []
        var candidates: [DetectedFace] = []
        for face in scene.detectedFaces {
            if options.qualityFilter != .none, let quality = face.quality, quality.sharpness < 20 {
                unindexed.append(UnindexedFace(face: face, reasons: ["LOW_SHARPNESS"]))
            } else if candidates.count >= options.maxFaces {
                unindexed.append(UnindexedFace(face: face, reasons: ["EXCEEDS_MAX_FACES"]))
            } else {
                candidates.append(face)
            }
        }
        // The same content under the same external id: faces still indexed keep their ids (no duplicates);
        // faces deleted since are indexed again.
        let earlier = indexedImages[imageKey] ?? []
        let indexed = candidates.enumerated().map { position, face in
            if position < earlier.count, faces[earlier[position].faceID] != nil { return earlier[position] }
            let id = FaceID.random()
            faces[id] = StoredFace(embedding: face.embedding ?? [], externalImageID: externalImageID)
            return IndexedFace(faceID: id, face: face)
        }
        indexedImages[imageKey] = indexed
        return IndexedFaces(indexed: indexed, unindexed: unindexed)
    }

    public func searchFaces(matching faceID: FaceID, options: SearchOptions) throws -> [FaceMatch] {
        guard let face = faces[faceID] else { throw FaceServiceError.invalidRequest(detail: "face \(faceID) is not indexed") }
        return matches(for: face.embedding, excluding: faceID, options: options)
    }

    public func searchFaces(byImage image: ImageInput, options: SearchOptions) throws -> ImageSearchResult {
        guard let largest = try Self.scene(of: image).detectedFaces.first else {
            return ImageSearchResult(searchedFace: nil, matches: [])
        }
        return ImageSearchResult(
            searchedFace: largest.boundingBox,
            matches: matches(for: largest.embedding ?? [], excluding: nil, options: options))
    }

    public func deleteFaces(_ faceIDs: [FaceID]) {
        for id in faceIDs {
            faces[id] = nil
            disassociate(id)
        }
    }

    public func searchPeople(matching faceID: FaceID, options: SearchOptions) throws -> [PersonMatch] {
        guard let face = faces[faceID] else { throw FaceServiceError.invalidRequest(detail: "face \(faceID) is not indexed") }
        return people.compactMap { person, members -> PersonMatch? in
            let vectors = members.compactMap { faces[$0]?.embedding }
            guard let first = vectors.first else { return nil }
            let mean = vectors.dropFirst().reduce(first) { sum, vector in
                vector.count == sum.count ? zip(sum, vector).map(+) : sum
            }
            let similarity = Self.similarity(face.embedding, mean)
            return similarity >= options.threshold ? PersonMatch(personID: person, similarity: similarity) : nil
        }
        .sorted { $0.similarity != $1.similarity ? $0.similarity > $1.similarity : $0.personID < $1.personID }
        .prefix(options.maxMatches)
        .map { $0 }
    }

    public func associate(_ faceIDs: [FaceID], with person: PersonID, creatingPerson: Bool) throws {
        for id in faceIDs {
            guard faces[id] != nil else { throw FaceServiceError.invalidRequest(detail: "face \(id) is not indexed") }
            guard personOfFace[id] == nil else { continue }
            guard people[person, default: []].count < Self.personVectorCapacity else { return }
            people[person, default: []].append(id)
            personOfFace[id] = person
        }
    }

    /// The embedding `faceID` was indexed with.
    public func embedding(of faceID: FaceID) -> [Float]? { faces[faceID]?.embedding }

    public func disassociate(_ faceIDs: [FaceID], from person: PersonID) {
        for id in faceIDs where personOfFace[id] == person { disassociate(id) }
    }

    /// The person whose vector `faceID` is part of (the Rekognition double reports it on deletion).
    public func person(associatedWith faceID: FaceID) -> PersonID? { personOfFace[faceID] }

    /// Takes `faceID` out of its person's vector.
    public func disassociate(_ faceID: FaceID) {
        guard let person = personOfFace.removeValue(forKey: faceID) else { return }
        people[person]?.removeAll { $0 == faceID }
    }

    private func matches(for embedding: [Float], excluding excluded: FaceID?, options: SearchOptions) -> [FaceMatch] {
        faces.compactMap { id, face -> FaceMatch? in
            guard id != excluded else { return nil }
            let similarity = Self.similarity(embedding, face.embedding)
            guard similarity >= options.threshold else { return nil }
            return FaceMatch(faceID: id, similarity: similarity, externalImageID: face.externalImageID)
        }
        .sorted { $0.similarity != $1.similarity ? $0.similarity > $1.similarity : $0.faceID < $1.faceID }
        .prefix(options.maxMatches)
        .map { $0 }
    }

    /// Cosine similarity × 100, clamped to 0…100.
    public static func similarity(_ a: [Float], _ b: [Float]) -> Double {
        guard a.count == b.count, !a.isEmpty else { return 0 }
        var dot: Double = 0, normA: Double = 0, normB: Double = 0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            normA += Double(x) * Double(x)
            normB += Double(y) * Double(y)
        }
        guard normA > 0, normB > 0 else { return 0 }
        return min(max(dot / (normA * normB).squareRoot() * 100, 0), 100)
    }

    private static func scene(of image: ImageInput) throws -> SyntheticPhoto {
        do {
            return try SyntheticPhoto(decoding: image.data)
        } catch {
            throw FaceServiceError.invalidImage(detail: "not a synthetic photo")
        }
    }
}

extension InMemoryFaceIndex: FaceListing {
    /// Faces in id order; the token is the last id of the previous page.
    public func listFaces(continuationToken: String?, limit: Int) -> IndexedFaceListing {
        let ordered = faces.keys.filter { id in continuationToken.map { id.rawValue > $0 } ?? true }.sorted()
        let page = ordered.prefix(max(limit, 1))
        return IndexedFaceListing(
            faces: page.map { IndexedFaceListing.Entry(faceID: $0, externalImageID: faces[$0]?.externalImageID) },
            continuationToken: page.count < ordered.count ? page.last?.rawValue : nil)
    }
}
