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
/// - **Planes, not RGB.** An 8-bit 4:2:0 photo without alpha (what phones write) is kept as libheif decodes it,
///   YCbCr planes (``YCbCrImage``, 1.5 bytes a pixel), and turned into RGB only where and as coarsely as the
///   engine and the thumbnails need it, when they are BT.601 full range (the `nclx` says so, or says nothing).
///   Charged 3 bytes a pixel (the planes, and libheif's copy while it applies a rotation), so an iPhone's
///   48 MP "HEIF Max" photo fits the default ``DecodeBudget``. Other photos (alpha, 10-bit, another matrix,
///   limited range) are converted by libheif to RGB(A): charged 4 bytes a pixel.
/// - **Grids tile by tile.** A primary `grid` laid out as phones write it is decoded by ``HEIFGridTiles``, each
///   tile by libde265 straight into the planes (turned by its `irot`), because libheif 1.15 assembles a grid in
///   planar RGB first (221 MB at peak for a 48 MP one, Docs/formats.md); a single `hvc1` frame too, as a grid of
///   one tile (a 48 MP frame's `ingest`: 355 → 288 MB). libheif decodes every other layout.
///
/// Cost: one whole decode (a 12 MP iPhone photo: ~0.3 s on one core).
public struct HEIFDecoder: PhotoDecoder {
    public init() {}

    public var format: ImageFormat { .heic }

    /// The displayed size (`ispe`, cropped and turned as libheif shows it). A primary `grid` whose own size is not
    /// that (its sides swapped for a turned photo; up to 1,024 px larger a side when a `clap` crops it) is refused
    /// here, before libheif builds it at its own size (``HEIFGrid``).
    public func size(of data: Data) throws -> (width: Int, height: Int) {
        let (width, height) = try withPrimaryImage(data) { handle in
            (Int(heif_image_handle_get_width(handle)), Int(heif_image_handle_get_height(handle)))
        }
        if let meta = HEIFGrid.Meta(data), let grid = meta.grid(in: data), !(grid.width == width && grid.height == height || grid.width == height && grid.height == width) {
            func crops(_ side: Int, to displayed: Int) -> Bool { side >= displayed && side - displayed <= 1024 }
            let cropped = meta.properties(of: meta.primary)?.contains(where: { $0.type == "clap" }) == true
                && (crops(grid.width, to: width) && crops(grid.height, to: height) || crops(grid.width, to: height) && crops(grid.height, to: width))
            guard cropped else { throw ImageError.corrupt(detail: "the HEIC grid is \(grid.width)×\(grid.height), its image \(width)×\(height)") }
        }
        return (width, height)
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

    /// 3 bytes a pixel for a photo kept as planes (``decodeImage(_:)``), else 4.
    public func peakMemory(of data: Data, width: Int, height: Int) -> Int {
        let planar = (try? withPrimaryImage(data) { Self.keepsPlanes($0) }) ?? false
        return width * height * (planar ? 3 : 4)
    }

    /// The photo as libheif's YCbCr 4:2:0 planes when ``keepsPlanes(_:)`` says so; otherwise ``decode(_:)``'s RGB.
    public func decodeImage(_ data: Data) throws -> any DecodedImage {
        let planes: YCbCrImage? = try withPrimaryImage(data) { handle in
            guard Self.keepsPlanes(handle) else { return nil }
            if let grid = HEIFGridTiles.layout(of: data),
               grid.displayed == (Int(heif_image_handle_get_width(handle)), Int(heif_image_handle_get_height(handle))) {
                do {
                    return try HEIFGridTiles.decode(data, layout: grid)
                } catch HEIFGridTiles.NotAssembledHere.tileFormat {
                    // Tiles of another chroma format or depth than the header said: libheif converts them.
                }
            }
            var image: OpaquePointer?
            try Self.check(heif_decode_image(handle, &image, heif_colorspace_YCbCr, heif_chroma_420, nil))
            guard let image else { throw ImageError.damaged(detail: "HEIC: libheif decoded no image") }
            let owner = DecodedHEIF(image)
            let (width, height) = (Int(heif_image_get_width(image, heif_channel_Y)), Int(heif_image_get_height(image, heif_channel_Y)))
            // Each plane 8-bit and as large as 4:2:0 says: YCbCrImage reads chroma at (x/2, y/2) unchecked.
            func plane(_ channel: heif_channel, _ minimumWidth: Int, _ minimumHeight: Int) throws -> YCbCrImage.Plane {
                var stride: Int32 = 0
                guard heif_image_get_bits_per_pixel_range(image, channel) == 8,
                      Int(heif_image_get_width(image, channel)) >= minimumWidth, Int(heif_image_get_height(image, channel)) >= minimumHeight,
                      let base = heif_image_get_plane_readonly(image, channel, &stride), Int(stride) >= minimumWidth
                else { throw ImageError.damaged(detail: "HEIC: libheif decoded no 8-bit 4:2:0 planes") }
                return YCbCrImage.Plane(base: base, stride: Int(stride))
            }
            let (chromaWidth, chromaHeight) = ((width + 1) / 2, (height + 1) / 2)
            return YCbCrImage(
                width: width, height: height,
                luma: try plane(heif_channel_Y, width, height), cb: try plane(heif_channel_Cb, chromaWidth, chromaHeight),
                cr: try plane(heif_channel_Cr, chromaWidth, chromaHeight), owner: owner)
        }
        return try planes ?? decode(data)
    }

    /// Whether the photo is decoded to planes: 8-bit luma and chroma, no alpha, and BT.601 full range (its `nclx`,
    /// or none): what a phone and x265 write, and what libheif 1.15 converts a grid's tiles back into after
    /// assembling them in RGB (whatever the file's own matrix), so the planes are BT.601 full range either way.
    /// A file saying another matrix or limited range goes through libheif's RGB: taken as the file says, a
    /// BT.709 or limited-range grid came out visibly off (R +3 to +10 on average).
    private static func keepsPlanes(_ handle: OpaquePointer) -> Bool {
        guard heif_image_handle_has_alpha_channel(handle) == 0, heif_image_handle_get_luma_bits_per_pixel(handle) == 8,
              heif_image_handle_get_chroma_bits_per_pixel(handle) == 8
        else { return false }
        var profile: UnsafeMutablePointer<heif_color_profile_nclx>?
        guard heif_image_handle_get_nclx_color_profile(handle, &profile).code == heif_error_Ok, let profile else { return true }
        defer { heif_nclx_color_profile_free(profile) }
        // H.273 matrix_coefficients 5 and 6 are BT.601; 2 (unspecified) gets BT.601 in libheif too.
        return [2, 5, 6].contains(profile.pointee.matrix_coefficients.rawValue) && profile.pointee.full_range_flag != 0
    }

    private func withPrimaryImage<T>(_ data: Data, _ body: (OpaquePointer) throws -> T) throws -> T {
        if let meta = HEIFGrid.Meta(data), meta.derivesFromItself {
            throw ImageError.corrupt(detail: "the HEIC's primary image is derived from itself")
        }
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

/// A decoded libheif image, released when the last ``YCbCrImage`` borrowing its planes goes.
private final class DecodedHEIF: @unchecked Sendable {
    let image: OpaquePointer
    init(_ image: OpaquePointer) { self.image = image }
    deinit { heif_image_release(image) }
}

extension PhotoDecoders {
    /// What the local engine decodes: ``PhotoDecoders/standard`` (PNG, WebP) and HEIC.
    public static let local = PhotoDecoders.standard.adding([HEIFDecoder()])
}
