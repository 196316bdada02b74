import CHEIF
import FaceClusterKit
import Foundation

/// HEIC/HEIF (every iPhone's default since iOS 11) through libheif 1.15 (Debian's `libheif-dev`, HEVC by
/// libde265). The displayed orientation is libheif's: it applies the file's `irot`/`imir` transformations
/// (what iPhones write; the EXIF orientation inside a HEIC is informational and not applied twice), and the
/// primary image's grid of tiles is assembled. Alpha is composited over white.
///
/// Local only: Debian ships libheif as a shared library with its codecs (libde265, libx265, libaom, libdav1d),
/// which the Lambda package may not carry (scripts/package-lambda.sh), so the Lambda refuses HEIC, named.
///
/// Cost: one whole decode (a 12 MP iPhone photo: ~0.3 s on one core); memory about 4 bytes a pixel.
public struct HEIFDecoder: PhotoDecoder {
    public init() {}

    public var format: ImageFormat { .heic }

    public func size(of data: Data) throws -> (width: Int, height: Int) {
        try withPrimaryImage(data) { handle in
            (Int(heif_image_handle_get_width(handle)), Int(heif_image_handle_get_height(handle)))
        }
    }

    public func decode(_ data: Data) throws -> PixelBuffer {
        try withPrimaryImage(data) { handle in
            let alpha = heif_image_handle_has_alpha_channel(handle) != 0
            var image: OpaquePointer?
            try Self.check(heif_decode_image(handle, &image, heif_colorspace_RGB, alpha ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB, nil))
            guard let image else { throw ImageError.damaged(detail: "HEIC: libheif decoded no image") }
            defer { heif_image_release(image) }
            let width = Int(heif_image_get_width(image, heif_channel_interleaved))
            let height = Int(heif_image_get_height(image, heif_channel_interleaved))
            var stride: Int32 = 0
            guard width > 0, height > 0, let plane = heif_image_get_plane_readonly(image, heif_channel_interleaved, &stride) else {
                throw ImageError.damaged(detail: "HEIC: libheif decoded no pixels")
            }
            return PixelBuffer(width: width, height: height, interleaved: plane, stride: Int(stride), alpha: alpha)
        }
    }

    private func withPrimaryImage<T>(_ data: Data, _ body: (OpaquePointer) throws -> T) throws -> T {
        guard let context = heif_context_alloc() else { throw ImageError.overBudget(detail: "libheif could not allocate a context") }
        defer { heif_context_free(context) }
        return try data.withUnsafeBytes { bytes in
            try Self.check(heif_context_read_from_memory_without_copy(context, bytes.baseAddress, bytes.count, nil))
            var handle: OpaquePointer?
            try Self.check(heif_context_get_primary_image_handle(context, &handle))
            guard let handle else { throw ImageError.corrupt(detail: "HEIC: no primary image") }
            defer { heif_image_handle_release(handle) }
            return try body(handle)
        }
    }

    private static func check(_ error: heif_error) throws {
        guard error.code != heif_error_Ok else { return }
        let message = error.message.map { String(cString: $0) } ?? "error \(error.code.rawValue)"
        switch error.code {
        case heif_error_Unsupported_filetype, heif_error_Unsupported_feature:
            throw ImageError.unsupportedFormat("HEIF (\(message))")
        case heif_error_Memory_allocation_error:
            throw ImageError.overBudget(detail: "HEIC: \(message)")
        case heif_error_Invalid_input where error.subcode == heif_suberror_Security_limit_exceeded:
            throw ImageError.overBudget(detail: "HEIC: \(message)")
        case heif_error_Invalid_input where message.lowercased().contains("end of"):
            throw ImageError.truncated
        default:
            throw ImageError.damaged(detail: "HEIC: \(message)")
        }
    }
}

extension PhotoDecoders {
    /// What the local engine decodes: ``PhotoDecoders/standard`` (PNG, WebP) and HEIC.
    public static let local = PhotoDecoders.standard.adding([HEIFDecoder()])
}
