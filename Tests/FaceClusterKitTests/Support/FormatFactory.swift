import CHEIF
import CPNG
import CWebP
@testable import FaceClusterKit
import Foundation

/// Encodes test photos in-process as PNG (libpng), WebP (libwebp) and HEIC (libheif with x265): the twins of
/// a JPEG, made from the same displayed pixels.
enum FormatFactory {
    private static let made = Locked([String: Data]())

    /// `make()`'s result, made once per `key` for the whole test run (x265 takes a second per photo).
    static func cached(_ key: String, _ make: () throws -> Data) rethrows -> Data {
        if let data = made.withLock({ $0[key] }) { return data }
        let data = try make()
        made.withLock { $0[key] = data }
        return data
    }

    enum PNGKind: CaseIterable, Sendable { case rgb8, rgb16, palette, grey, rgba }

    static func png(_ buffer: PixelBuffer, _ kind: PNGKind = .rgb8) throws -> Data {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(buffer.width)
        image.height = UInt32(buffer.height)
        var pixels: [UInt8] = buffer.pixels
        var wide: [UInt16] = []
        var colormap: [UInt8] = []
        switch kind {
        case .rgb8:
            image.format = UInt32(PNG_FORMAT_RGB)
        case .rgb16:
            // 16-bit linear light: libpng writes a 16-bit file with gAMA 1.0; reading back converts to sRGB.
            image.format = UInt32(PNG_FORMAT_LINEAR_RGB)
            wide = buffer.pixels.map { UInt16((pow(Double($0) / 255, 2.2) * 65535).rounded()) }
        case .palette:
            // A 6×6×6 colour cube (web-safe palette), each pixel its nearest entry.
            image.format = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_COLORMAP)
            image.colormap_entries = 216
            colormap = (0..<216).flatMap { index in [index / 36, index / 6 % 6, index % 6].map { UInt8($0 * 51) } }
            pixels = stride(from: 0, to: buffer.pixels.count, by: 3).map { at in
                let level = { (value: UInt8) in (Int(value) + 25) / 51 }
                return UInt8(level(buffer.pixels[at]) * 36 + level(buffer.pixels[at + 1]) * 6 + level(buffer.pixels[at + 2]))
            }
        case .grey:
            image.format = UInt32(PNG_FORMAT_GRAY)
            pixels = stride(from: 0, to: buffer.pixels.count, by: 3).map { at in grey(buffer.pixels, at) }
        case .rgba:
            // Opaque where the picture is, a fully transparent frame 8 px wide around it (composited over white).
            image.format = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)
            pixels = framedRGBA(buffer)
        }
        var size = 0
        let write = { (memory: UnsafeMutableRawPointer?, size: inout Int) -> Int32 in
            if kind == .rgb16 {
                return wide.withUnsafeBytes { png_image_write_to_memory(&image, memory, &size, 0, $0.baseAddress, 0, nil) }
            }
            return colormap.withUnsafeBytes { map in
                pixels.withUnsafeBytes { png_image_write_to_memory(&image, memory, &size, 0, $0.baseAddress, 0, kind == .palette ? map.baseAddress : nil) }
            }
        }
        guard write(nil, &size) != 0 else { throw FactoryError.encoder("libpng: sizing failed") }
        var output = Data(count: size)
        let written = output.withUnsafeMutableBytes { write($0.baseAddress, &size) }
        guard written != 0 else { throw FactoryError.encoder("libpng: writing failed") }
        return output.prefix(size)
    }

    /// `png` with an eXIf chunk saying `orientation` (``JPEGFactory/exifTIFF(_:)``), right
    /// after IHDR, where browsers and the PNG specification look for it, or (`afterImageData`) before IEND;
    /// `badCRC` spoils the chunk's CRC.
    static func png(_ png: Data, exif orientation: Orientation, afterImageData: Bool = false, badCRC: Bool = false) -> Data {
        let tiff = JPEGFactory.exifTIFF(orientation)
        let body = Array("eXIf".utf8) + tiff
        let length = UInt32(tiff.count), crc = UInt32(body.withUnsafeBufferPointer { CPNG.crc32(0, $0.baseAddress, UInt32($0.count)) })
        let chunk = [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: length >> $0) } + body
            + [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: (badCRC ? ~crc : crc) >> $0) }
        let at = afterImageData ? png.count - 12 : 33  // before IEND (12 bytes) / after the signature and IHDR
        var bytes = [UInt8](png)
        bytes.insert(contentsOf: chunk, at: at)
        return Data(bytes)
    }

    /// The BT.601 luma of the RGB pixel at `at`, rounded.
    static func grey(_ pixels: [UInt8], _ at: Int) -> UInt8 {
        let (red, green, blue) = (Double(pixels[at]), Double(pixels[at + 1]), Double(pixels[at + 2]))
        let luma: Double = 0.299 * red + 0.587 * green + 0.114 * blue
        return UInt8(luma.rounded())
    }

    /// Whether pixel `index` of `buffer` lies in the 8 px frame the alpha fixtures make transparent.
    static func inFrame(_ index: Int, of buffer: PixelBuffer) -> Bool {
        let (x, y) = (index % buffer.width, index / buffer.width)
        return x < 8 || y < 8 || x >= buffer.width - 8 || y >= buffer.height - 8
    }

    /// `buffer` as RGBA: opaque, but for a fully transparent frame 8 px wide.
    static func framedRGBA(_ buffer: PixelBuffer) -> [UInt8] {
        var rgba: [UInt8] = []
        rgba.reserveCapacity(buffer.width * buffer.height * 4)
        for index in 0..<buffer.width * buffer.height {
            rgba += buffer.pixels[index * 3..<index * 3 + 3]
            rgba.append(inFrame(index, of: buffer) ? 0 : 255)
        }
        return rgba
    }

    enum WebPKind: CaseIterable, Sendable { case lossy, lossless, alpha }

    static func webp(_ buffer: PixelBuffer, _ kind: WebPKind = .lossy) throws -> Data {
        var output: UnsafeMutablePointer<UInt8>?
        let size: Int
        switch kind {
        case .lossy:
            size = WebPEncodeRGB(buffer.pixels, Int32(buffer.width), Int32(buffer.height), Int32(buffer.width * 3), 92, &output)
        case .lossless:
            size = WebPEncodeLosslessRGB(buffer.pixels, Int32(buffer.width), Int32(buffer.height), Int32(buffer.width * 3), &output)
        case .alpha:
            let rgba = framedRGBA(buffer)
            size = WebPEncodeRGBA(rgba, Int32(buffer.width), Int32(buffer.height), Int32(buffer.width * 4), 92, &output)
        }
        guard size > 0, let output else { throw FactoryError.encoder("libwebp: encoding failed") }
        defer { WebPFree(output) }
        return Data(bytes: output, count: size)
    }

    /// A simple WebP (`RIFF…WEBP` + one `VP8 `/`VP8L` chunk) as an extended one: a VP8X header with the EXIF flag,
    /// the image chunk, then an EXIF chunk saying `orientation` after it, where the container puts metadata.
    static func webp(_ simple: Data, exif orientation: Orientation, width: Int, height: Int) -> Data {
        func le(_ value: Int, _ bytes: Int) -> [UInt8] { (0..<bytes).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        let image = [UInt8](simple.dropFirst(12))  // after "RIFF", the size and "WEBP"
        let tiff = JPEGFactory.exifTIFF(orientation)
        let vp8x = Array("VP8X".utf8) + le(10, 4) + [0x08, 0, 0, 0] + le(width - 1, 3) + le(height - 1, 3)
        let exif = Array("EXIF".utf8) + le(tiff.count, 4) + tiff
        let body = Array("WEBP".utf8) + vp8x + image + exif
        return Data(Array("RIFF".utf8) + le(body.count, 4) + body)
    }

    /// `displayed` stored for `orientation` (the inverse transform), encoded as HEVC in a HEIF file whose
    /// `irot`/`imir` properties say how to show it (libheif turns an EXIF orientation into them).
    static func heic(_ displayed: PixelBuffer, orientation: Orientation = .up) throws -> Data {
        let stored = displayed.stored(for: orientation)
        guard let context = heif_context_alloc() else { throw FactoryError.encoder("libheif: no context") }
        defer { heif_context_free(context) }
        var encoder: OpaquePointer?
        try check(heif_context_get_encoder_for_format(context, heif_compression_HEVC, &encoder))
        defer { heif_encoder_release(encoder) }
        try check(heif_encoder_set_lossy_quality(encoder, 92))
        var image: OpaquePointer?
        try check(heif_image_create(Int32(stored.width), Int32(stored.height), heif_colorspace_RGB, heif_chroma_interleaved_RGB, &image))
        defer { heif_image_release(image) }
        try check(heif_image_add_plane(image, heif_channel_interleaved, Int32(stored.width), Int32(stored.height), 8))
        var stride: Int32 = 0
        guard let plane = heif_image_get_plane(image, heif_channel_interleaved, &stride) else { throw FactoryError.encoder("libheif: no plane") }
        for y in 0..<stored.height {
            stored.pixels.withUnsafeBufferPointer { source in
                (plane + y * Int(stride)).update(from: source.baseAddress! + y * stored.width * 3, count: stored.width * 3)
            }
        }
        let options = heif_encoding_options_alloc()
        defer { heif_encoding_options_free(options) }
        options?.pointee.image_orientation = heif_orientation(rawValue: UInt32(orientation.rawValue))
        try check(heif_context_encode_image(context, image, encoder, options, nil))
        let file = Scratch.url("fck-\(UUID().uuidString).heic")
        defer { try? FileManager.default.removeItem(at: file) }
        try check(heif_context_write_to_file(context, file.path))
        return try Data(contentsOf: file)
    }

    private static func check(_ error: heif_error) throws {
        guard error.code == heif_error_Ok else { throw FactoryError.encoder("libheif: \(String(cString: error.message))") }
    }

    enum FactoryError: Error { case encoder(String) }
}

extension PixelBuffer {
    /// The stored pixels whose display under `orientation` is this buffer (what a camera writes).
    func stored(for orientation: Orientation) -> PixelBuffer {
        let (storedWidth, storedHeight) = orientation.swapsDimensions ? (height, width) : (width, height)
        var stored = PixelBuffer(width: storedWidth, height: storedHeight)
        for y in 0..<height {
            for x in 0..<width {
                let (u, v) = orientation.storedPixel(forDisplayed: x, y, displayWidth: width, displayHeight: height)
                let from = (y * width + x) * 3, to = (v * storedWidth + u) * 3
                stored.pixels[to..<to + 3] = pixels[from..<from + 3]
            }
        }
        return stored
    }

    /// The mean absolute difference per channel from `other` (same size), 0–255.
    func meanDifference(from other: PixelBuffer) -> Double {
        precondition(width == other.width && height == other.height)
        var total = 0
        for index in pixels.indices { total += abs(Int(pixels[index]) - Int(other.pixels[index])) }
        return Double(total) / Double(pixels.count)
    }
}
