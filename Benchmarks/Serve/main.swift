// serve-benchmark: writes a synthetic library for `facecluster serve` to answer from — PEOPLE people with 1 to 8
// photos each (one face a photo, a real 160 px JPEG thumbnail each), written straight to the SQLite store.
// Run by scripts/bench-serve.sh, which then loads the server with wrk and opens the People page in chromium.
//
// usage: serve-benchmark STORE_DIR [PEOPLE, default 2000]
import FaceClusterKit
import FaceClusterLocal
import Foundation

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: serve-benchmark STORE_DIR [PEOPLE]\n".utf8))
    exit(2)
}
let directory = URL(fileURLWithPath: arguments[1])
let peopleCount = arguments.count > 2 ? Int(arguments[2]) ?? 2000 : 2000
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
let database = try LocalDatabase(path: directory.appendingPathComponent(LocalLibrary.databaseFile).path)
let metadata = SQLiteMetadataStore(database: database)
let thumbnails = DirectoryPhotoStore(root: directory.appendingPathComponent("thumbnails"))

// One face picture, a gray square with a lighter oval: what matters is a real JPEG of a thumbnail's size.
var pixels = [UInt8](repeating: 90, count: 160 * 160 * 3)
for y in 0..<160 {
    for x in 0..<160 where pow(Double(x - 80) / 55, 2) + pow(Double(y - 80) / 70, 2) < 1 {
        pixels[(y * 160 + x) * 3] = 220
        pixels[(y * 160 + x) * 3 + 1] = 180
        pixels[(y * 160 + x) * 3 + 2] = 150
    }
}
let thumbnail = try JPEGEncoding.encode(rgb: pixels, width: 160, height: 160, quality: 85)

let started = Date()
var faces = 0
for index in 0..<peopleCount {
    let personID = PersonID(rawValue: "p_" + Base32Text.of("person-\(index)", 26))
    let photos = 1 + (index * 7919) % 8
    for photoIndex in 0..<photos {
        let reference = PhotoReference(store: "/", key: "bench/photos/\(index)-\(photoIndex).jpg")
        let photoID = PhotoID(reference)
        let faceID = FaceID(rawValue: "f_" + Base32Text.of("face-\(index)-\(photoIndex)", 32))
        let added = started.addingTimeInterval(-Double(index * 10 + photoIndex))
        _ = try await metadata.savePhoto(
            Photo(id: photoID, reference: reference, status: .indexed, contentTag: "bench", indexedContentTag: "bench", width: 1600, height: 1200,
                  faceIDs: [faceID], addedAt: added, updatedAt: added),
            expectedRevision: nil)
        let key = "people/\(personID.rawValue)/\(faceID.rawValue).jpg"
        try await thumbnails.put(thumbnail, at: key, contentType: "image/jpeg")
        let appearance = Appearance(
            faceID: faceID, personID: personID, photoID: photoID, boundingBox: BoundingBox(left: 0.4, top: 0.3, width: 0.2, height: 0.3),
            thumbnailKey: key, confidence: 0.99, photoAddedAt: added)
        _ = try await metadata.addAppearance(appearance, newPerson: photoIndex == 0 ? Person(id: personID, createdAt: added, updatedAt: added) : nil)
        faces += 1
    }
}
print("wrote \(peopleCount) people, \(faces) photos and faces in \(String(format: "%.1f", Date().timeIntervalSince(started))) s to \(directory.path)")

/// Lower-case base32 of a string's hash, as ids are spelled.
enum Base32Text {
    static func of(_ text: String, _ characters: Int) -> String {
        var hash: UInt64 = 1469598103934665603
        var output = ""
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var round: UInt64 = 0
        while output.count < characters {
            for byte in (text + "\(round)").utf8 { hash = (hash ^ UInt64(byte)) &* 1099511628211 }
            var value = hash
            for _ in 0..<12 where output.count < characters {
                output.append(alphabet[Int(value & 31)])
                value >>= 5
            }
            round += 1
        }
        return output
    }
}
