import FaceClusterKit
import FaceClusterLocal
import Foundation
import Testing

@Suite("DirectoryPhotoStore")
struct DirectoryPhotoStoreTests {
    static func store() -> DirectoryPhotoStore {
        DirectoryPhotoStore(root: Scratch.url("fck-dir-\(UUID().uuidString)"))
    }

    @Test("keys never leave the root", arguments: ["../escape.jpg", "a/../../b.jpg", "a//b.jpg", "./a.jpg", "/abs.jpg", "a/"])
    func escapes(key: String) async throws {
        await #expect(throws: PhotoStoreError.self) { try await Self.store().put(Data([1]), at: key, contentType: "image/jpeg") }
    }

    @Test("a store rooted at / reads files by absolute path; key(for:) maps files back to keys")
    func rootedAtSlash() async throws {
        let folder = Self.store()
        try await folder.put(Data([1, 2]), at: "photos/a.jpg", contentType: "image/jpeg")
        let file = folder.root.appendingPathComponent("photos/a.jpg")
        let everywhere = DirectoryPhotoStore(root: URL(fileURLWithPath: "/"))
        let key = try #require(everywhere.key(for: file))
        #expect(try await everywhere.get(key).data == Data([1, 2]))
        #expect(folder.key(for: file) == "photos/a.jpg")
        #expect(folder.key(for: URL(fileURLWithPath: "/etc/hostname")) == nil)
        #expect(try await everywhere.presignedURL(for: key, expiresIn: .seconds(60)).isFileURL)
    }

    @Test("rewriting a file with the same size within one clock tick still changes its ETag")
    func sameSizeRewrite() async throws {
        let store = Self.store()
        var tags: Set<String> = []
        for byte in UInt8(0)..<20 { tags.insert(try await store.put(Data([byte]), at: "k.jpg", contentType: "image/jpeg").eTag) }
        #expect(tags.count == 20)
    }
}
