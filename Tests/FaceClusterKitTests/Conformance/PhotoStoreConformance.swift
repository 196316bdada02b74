import FaceClusterKit
import Foundation
import Testing

@Suite("PhotoStore conformance")
struct PhotoStoreConformance {
    @Test("put then get returns the bytes, size, content type and an ETag", arguments: PhotoStoreSubject.all)
    func roundTrip(_ subject: PhotoStoreSubject) async throws {
        let store = try await subject.make()
        let data = Data((0..<3000).map { UInt8($0 % 251) })
        let written = try await store.put(data, at: "raw/a.jpg", contentType: "image/jpeg")
        let read = try await store.get("raw/a.jpg")
        #expect(read.data == data)
        #expect(read.info.size == 3000)
        #expect(read.info.eTag == written.eTag)
        #expect(read.info.contentType == "image/jpeg")
        let head = try await store.head("raw/a.jpg")
        #expect(head.size == 3000 && head.eTag == written.eTag)
    }

    @Test("the ETag changes when the content changes", arguments: PhotoStoreSubject.all)
    func eTagTracksContent(_ subject: PhotoStoreSubject) async throws {
        let store = try await subject.make()
        let first = try await store.put(Data("one".utf8), at: "k", contentType: "image/jpeg")
        let second = try await store.put(Data("two".utf8), at: "k", contentType: "image/jpeg")
        #expect(first.eTag != second.eTag)
        #expect(try await store.get("k").data == Data("two".utf8))
    }

    @Test("missing objects are notFound; deleting one is not an error", arguments: PhotoStoreSubject.all)
    func missing(_ subject: PhotoStoreSubject) async throws {
        let store = try await subject.make()
        await #expect(throws: PhotoStoreError.notFound(key: "nope.jpg")) { try await store.get("nope.jpg") }
        await #expect(throws: PhotoStoreError.notFound(key: "nope.jpg")) { try await store.head("nope.jpg") }
        try await store.delete("nope.jpg")
        try await store.put(Data([1]), at: "gone.jpg", contentType: "image/jpeg")
        try await store.delete("gone.jpg")
        await #expect(throws: PhotoStoreError.notFound(key: "gone.jpg")) { try await store.get("gone.jpg") }
    }

    static let awkwardKeys = [
        "raw/with space.jpg", "raw/plus+sign.jpg", "raw/percent%20.jpg", "raw/ünïcødé/写真.jpg",
        "raw/deep/er/path/x.jpg", "raw/a=b&c;d.jpg", "raw/tilde~_-.jpg",
    ]

    @Test("keys with spaces, +, %, unicode and / round-trip through put, get and list", arguments: PhotoStoreSubject.all)
    func awkwardKeys(_ subject: PhotoStoreSubject) async throws {
        let store = try await subject.make()
        for key in Self.awkwardKeys {
            try await store.put(Data(key.utf8), at: key, contentType: "image/jpeg")
            #expect(try await store.get(key).data == Data(key.utf8), "\(key)")
        }
        let listed = try await store.list(prefix: "raw/", continuationToken: nil, limit: 100).objects.map(\.key)
        #expect(Set(listed) == Set(Self.awkwardKeys))
    }

    @Test("list pages through a prefix in key order, without skipping or repeating", arguments: PhotoStoreSubject.all)
    func listing(_ subject: PhotoStoreSubject) async throws {
        let store = try await subject.make()
        let keys = (0..<23).map { String(format: "raw/%03d.jpg", $0) }
        for key in keys.shuffled() { try await store.put(Data(key.utf8), at: key, contentType: "image/jpeg") }
        try await store.put(Data([0]), at: "other/x.jpg", contentType: "image/jpeg")
        var seen: [String] = []
        var token: String?
        var pages = 0
        repeat {
            let page = try await store.list(prefix: "raw/", continuationToken: token, limit: 5)
            #expect(page.objects.count <= 5)
            seen += page.objects.map(\.key)
            token = page.continuationToken
            pages += 1
        } while token != nil
        #expect(seen == keys)
        #expect(pages == 5)
        await #expect(throws: PhotoStoreError.self) {
            try await store.list(prefix: "raw/", continuationToken: "forged", limit: 5)
        }
    }

    @Test("presigned URLs name the object; expiry must be 1 s to 7 days", arguments: PhotoStoreSubject.all)
    func presign(_ subject: PhotoStoreSubject) async throws {
        let store = try await subject.make()
        try await store.put(Data([1, 2, 3]), at: "people/p_x/face 1.jpg", contentType: "image/jpeg")
        let url = try await store.presignedURL(for: "people/p_x/face 1.jpg", expiresIn: .seconds(900))
        #expect(url.path.hasSuffix("people/p_x/face 1.jpg"))
        _ = try await store.presignedURL(for: "people/p_x/face 1.jpg", expiresIn: .seconds(7 * 24 * 3600))
        await #expect(throws: PhotoStoreError.invalidExpiry(.seconds(7 * 24 * 3600 + 1))) {
            try await store.presignedURL(for: "k", expiresIn: .seconds(7 * 24 * 3600 + 1))
        }
        await #expect(throws: PhotoStoreError.invalidExpiry(.zero)) { try await store.presignedURL(for: "k", expiresIn: .zero) }
    }
}
