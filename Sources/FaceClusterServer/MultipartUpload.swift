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
}
