import FaceClusterKit
import Foundation
import MultipartKit
import NIOCore

/// `multipart/form-data` uploads for `facecluster serve` (vapor/multipart-kit). Kept out of the SDK: the library
/// imports Foundation, which would take ICU into the Lambda (its zip grew from 12 to 30 MB); the Lambda takes a
/// photo as the request body only.
enum MultipartUpload {
    /// The one file part of a form: its bytes and file name (`fileName` when the part has none).
    /// Throws ``UploadError/invalidMultipart(_:)`` for a form without a boundary, malformed, or without exactly one file.
    @Sendable
    static func photo(in body: Data, contentType: String, fileName: String?) throws -> (Data, String?) {
        guard let boundary = PhotoUploads.parameter("boundary", in: contentType), !boundary.isEmpty else {
            throw UploadError.invalidMultipart("the multipart body has no boundary")
        }
        guard partHeaderNamesAreASCII(body, boundary: boundary) else {
            throw UploadError.invalidMultipart("the multipart body is malformed: a part's header name is not ASCII")
        }
        final class Parts: @unchecked Sendable {
            var parts: [(headers: [(String, String)], body: ByteBuffer)] = []
            var headers: [(String, String)] = []
            var body = ByteBuffer()
        }
        let collected = Parts()
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { (name: String, value: String) in collected.headers.append((name.lowercased(), value)) }
        parser.onBody = { (buffer: inout ByteBuffer) in collected.body.writeBuffer(&buffer) }
        parser.onPartComplete = {
            collected.parts.append((collected.headers, collected.body))
            collected.headers = []
            collected.body = ByteBuffer()
        }
        do {
            try parser.execute(ByteBuffer(bytes: body))
        } catch {
            throw UploadError.invalidMultipart("the multipart body is malformed")
        }
        let files = collected.parts.filter { part in
            part.headers.contains { $0.0 == "content-disposition" && $0.1.contains("filename") }
        }
        guard files.count == 1, let file = files.first else {
            throw UploadError.invalidMultipart(files.isEmpty ? "the form has no file" : "one photo per request (the form has \(files.count) files)")
        }
        let disposition = file.headers.first { $0.0 == "content-disposition" }?.1 ?? ""
        return (Data(file.body.readableBytesView), PhotoUploads.parameter("filename", in: disposition) ?? fileName)
    }

    /// Whether every part's header names are ASCII, as header names must be (RFC 9110 §5.1: a token).
    ///
    /// multipart-kit 4.7.1 looks a header-name byte up in a 128-entry table, so a byte ≥ 0x80 there traps (index
    /// out of range) and takes the whole server down: one request did, in a schemathesis run. This scan reads the
    /// header block after every `--boundary` line the way the parser will, and stops at what the parser refuses
    /// anyway. O(body size), no copy.
    static func partHeaderNamesAreASCII(_ body: Data, boundary: String) -> Bool {
        let delimiter = Array("--\(boundary)".utf8)
        let (cr, lf, colon): (UInt8, UInt8, UInt8) = (13, 10, 58)
        return body.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Bool in
            var start = 0
            while start + delimiter.count <= bytes.count {
                defer { start += 1 }
                guard bytes[start] == delimiter[0], delimiter.indices.allSatisfy({ bytes[start + $0] == delimiter[$0] }) else { continue }
                var at = start + delimiter.count
                guard at + 1 < bytes.count, bytes[at] == cr, bytes[at + 1] == lf else { continue }
                at += 2
                lines: while at < bytes.count {
                    var nameLength = 0
                    while at < bytes.count, bytes[at] != colon, bytes[at] != cr {
                        if bytes[at] >= 0x80 { return false }
                        nameLength += 1
                        at += 1
                    }
                    guard at < bytes.count, bytes[at] == colon, nameLength > 0 else { break lines }
                    while at < bytes.count, bytes[at] != cr { at += 1 }
                    guard at + 1 < bytes.count, bytes[at + 1] == lf else { break lines }
                    at += 2
                }
            }
            return true
        }
    }
}
