import FaceClusterKit
import Foundation
import Testing

@Suite("Identifiers")
struct IdentifierTests {
    @Test("a photo id derives from store, key and version: same input, same id; any change, another id")
    func photoIDs() {
        let base = PhotoReference(store: "raw", key: "a/b.jpg")
        #expect(PhotoID(base) == PhotoID(PhotoReference(store: "raw", key: "a/b.jpg")))
        let variants = [
            PhotoReference(store: "raw2", key: "a/b.jpg"), PhotoReference(store: "raw", key: "a/b.jpg ", versionID: nil),
            PhotoReference(store: "raw", key: "a/b.jpg", versionID: "v1"), PhotoReference(store: "ra", key: "wa/b.jpg"),
        ]
        #expect(Set(variants.map(PhotoID.init) + [PhotoID(base)]).count == 5)
        #expect(PhotoID(base).rawValue.hasPrefix("ph_") && PhotoID(base).rawValue.count == 29)
    }

    @Test("10,000 keys give 10,000 distinct photo ids")
    func noCollisions() {
        let ids = Set((0..<10_000).map { PhotoID(PhotoReference(store: "raw", key: "photos/\($0).jpg")) })
        #expect(ids.count == 10_000)
    }

    @Test("a person id is readable and derives from its founding face")
    func personIDs() {
        let id = PersonID.founded(by: FaceID(rawValue: "3f8a-face"))
        #expect(id == PersonID.founded(by: FaceID(rawValue: "3f8a-face")))
        #expect(id != PersonID.founded(by: FaceID(rawValue: "3f8a-facf")))
        #expect(id.rawValue.hasPrefix("p_"))
        #expect(PersonID(validating: id.rawValue) == id)
    }

    @Test("ids from clients are validated", arguments: ["", "p_", "p_ABC", "p_abc/def", "ph_abc", "p_" + String(repeating: "a", count: 80), "../etc"])
    func invalidPersonIDs(_ text: String) {
        #expect(PersonID(validating: text) == nil)
    }

    @Test("photo ids from clients are validated")
    func photoIDValidation() {
        let id = PhotoID(PhotoReference(store: "raw", key: "x.jpg"))
        #expect(PhotoID(validating: id.rawValue) == id)
        #expect(PhotoID(validating: "p_abc") == nil)
        #expect(PhotoID(validating: "ph_a b") == nil)
    }

    @Test("ids encode as plain JSON strings")
    func codable() throws {
        let id = PersonID.founded(by: FaceID(rawValue: "f"))
        let json = try JSONEncoder().encode(["person": id])
        #expect(String(decoding: json, as: UTF8.self) == "{\"person\":\"\(id.rawValue)\"}")
        #expect(try JSONDecoder().decode([String: PersonID].self, from: json)["person"] == id)
    }
}

@Suite("BoundingBox")
struct BoundingBoxTests {
    @Test("boxes slightly outside the image are clamped to it")
    func clamping() {
        let box = BoundingBox(left: -0.05, top: 0.9, width: 0.2, height: 0.2).clamped
        #expect(box.left == 0 && box.top == 0.9)
        #expect(abs(box.width - 0.15) < 1e-12 && abs(box.height - 0.1) < 1e-12)
        let outside = BoundingBox(left: 1.2, top: 0.1, width: 0.1, height: 0.1).clamped
        #expect(outside.width == 0)
    }

    @Test("pixels are round(normalized × size) of the clamped box")
    func pixels() {
        let rect = BoundingBox(left: 0.1004, top: 0.25, width: 0.3, height: 0.5).pixels(inWidth: 1000, height: 800)
        #expect(rect == PixelRect(x: 100, y: 200, width: 300, height: 400))
        #expect(rect.shortSide == 300)
        let edge = BoundingBox(left: 0.9, top: -0.1, width: 0.2, height: 0.3).pixels(inWidth: 100, height: 100)
        #expect(edge == PixelRect(x: 90, y: 0, width: 10, height: 20))
    }

    @Test("overlap is intersection over union")
    func overlap() {
        let a = BoundingBox(left: 0, top: 0, width: 0.5, height: 0.5)
        #expect(a.overlap(with: a) == 1)
        #expect(a.overlap(with: BoundingBox(left: 0.5, top: 0.5, width: 0.5, height: 0.5)) == 0)
        #expect(abs(a.overlap(with: BoundingBox(left: 0.25, top: 0, width: 0.5, height: 0.5)) - 1.0 / 3) < 1e-12)
    }

    @Test("orientations 5–8 swap width and height")
    func orientation() {
        #expect(Orientation.allCases.filter(\.swapsDimensions) == [.leftMirrored, .right, .rightMirrored, .left])
    }
}

@Suite("Page cursors")
struct PageCursorTests {
    @Test("a cursor holds its position for its own query only")
    func binding() throws {
        let cursor = PageCursor(query: "person-photos:p_a", position: ["1790000000.5", "face-1"])
        #expect(try cursor.position(for: "person-photos:p_a") == ["1790000000.5", "face-1"])
        #expect(throws: MetadataStoreError.invalidCursor) { try cursor.position(for: "person-photos:p_b") }
        #expect(!cursor.rawValue.contains("/") && !cursor.rawValue.contains("+") && !cursor.rawValue.contains("="))
    }

    @Test("tampered cursors are refused", arguments: ["", "x", "%%%", "eyJxIjoxfQ", String(repeating: "Q", count: 3000)])
    func tampered(_ raw: String) {
        #expect(throws: MetadataStoreError.invalidCursor) { try PageCursor(rawValue: raw).position(for: "people") }
    }

    @Test("page requests clamp their limit to 1…1000")
    func limits() {
        #expect(PageRequest(limit: 0).limit == 1)
        #expect(PageRequest(limit: 5000).limit == 1000)
    }
}
