/// Removes faces completely: from the index, their thumbnails, and their appearances (which drops the
/// people's counts and deletes people left with no face). Every step is idempotent, so a crash midway is
/// completed by running it again. Shared by re-ingestion of overwritten photos, photo deletion and forgetting.
struct FaceRemoval: Sendable {
    let index: any FaceIndex
    let thumbnails: any PhotoStore
    let metadata: any MetadataStore

    /// Removes `appearances` and the extra indexed `faceIDs` (faces indexed but never recorded).
    func remove(_ appearances: [Appearance], alsoIndexed faceIDs: [FaceID] = []) async throws {
        let indexed = Array(Set(appearances.map(\.faceID)).union(faceIDs)).sorted()
        // Any number of ids: each index adapter splits them to its service's limit.
        if !indexed.isEmpty {
            try await index.deleteFaces(indexed)
            try await metadata.removeEdges(touching: indexed)
        }
        for appearance in appearances {
            try await thumbnails.delete(appearance.thumbnailKey)
            try await metadata.removeAppearance(of: appearance.faceID)
        }
    }
}
