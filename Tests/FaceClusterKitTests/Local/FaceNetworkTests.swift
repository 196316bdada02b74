import CDlibFace
@testable import FaceClusterKit
import FaceClusterLocal
import Foundation
import Testing

@Suite("The face network's layers")
struct FaceNetworkTests {
    /// img2col.cpp replaces dlib 19.24's img2col by interposition; a different matrix would change every
    /// embedding, an interposition that did not take would quietly cost 12 % of an ingest's CPU.
    @Test("run on our img2col, which writes dlib's matrix element for element (the network's shapes and odd ones)")
    func ours() {
        #expect(dlib_img2col_check() == 1, "0: dlib's own runs; -1: the matrices differ; -2: dlib's was not found")
    }

    /// The engines' network convolves its 3×3 stride-1 layers by Winograd's F(2×2, 3×3) (winograd_conv.h): the
    /// same sums in another order, so its embeddings must land where dlib's own network puts them, far closer
    /// than any distance grouping tells apart (the threshold is 0.55; faces of one person lie 0.2–0.6 apart).
    /// Odd sides, a single row or column, 1 × 1: shapes the network's own (35, 17, 8 and 3 square) do not reach.
    @Test("Winograd's convolution gives the direct sum's outputs within 1e-4 on any shape")
    func winogradShapes() {
        var largest = -1.0
        #expect(dlib_winograd_check(&largest) == 1, "largest error \(largest)")
    }

    /// The relu, affine, add and pooling layers run elementwise_layers.h's loops in place of dlib's: the same
    /// operations on each float in the same order, so nothing may move, not even a zero's sign or a NaN.
    @Test("The element-wise layers give dlib's outputs bit for bit (±0, NaN, ±infinity; the network's shapes and odd ones)")
    func elementwise() {
        #expect(dlib_elementwise_check() == 1, "-1: an output differs; -3: an exception")
    }

    /// The 256-filter layers (3 × 3 and 4 × 4 outputs) run on few_pixel_conv.cpp's product, which reads each filter
    /// once instead of OpenBLAS's packing it on every call: the same sums in another order.
    @Test("The few-pixel convolution gives the direct sum's outputs within 1e-4 (the network's shapes and odd ones)",
          .enabled(if: dlib_fhog_filters_fast() == 1, "this CPU lacks AVX2 or FMA: dlib's convolution runs"))
    func fewPixels() {
        var largest = -1.0
        #expect(dlib_few_pixel_conv_check(&largest) == 1, "-1: an output differs (largest error \(largest)); -2: a shape refused; -3: an exception")
    }

    /// The first layer (32 filters of 7 × 7 over the chip's colours) runs on few_channel_conv.cpp's loop, which
    /// reads the windows where they lie instead of copying them into img2col's matrix: the same sums.
    @Test("The few-channel convolution gives the direct sum's outputs within 1e-4 (the first layer's shape and odd ones)",
          .enabled(if: dlib_fhog_filters_fast() == 1, "this CPU lacks AVX2 or FMA: dlib's convolution runs"))
    func fewChannels() {
        var largest = -1.0
        #expect(dlib_few_channel_conv_check(&largest) == 1, "-1: an output differs (largest error \(largest)); -2: a shape refused; -3: an exception")
    }

    @Test("The network's convolutions (Winograd's, the few-pixel and few-channel ones) give dlib's embeddings within 1e-5, and its element-wise layers the same bit for bit, on real faces and on noise",
          .enabled(if: (try? FaceModels().check()) != nil, "needs the models (facecluster setup)"))
    func winograd() throws {
        let models = FaceModels()
        let landmarks = models.directory.appendingPathComponent(FaceModels.shapePredictorFile).path
        let network = models.directory.appendingPathComponent(FaceModels.recognitionModelFile).path
        var error = [CChar](repeating: 0, count: 512)
        let loaded = try #require(dlib_face_models_load(landmarks, nil, network, nil, &error, error.count), "the models could not be read")
        defer { dlib_face_models_destroy(loaded) }
        var engines: [OpaquePointer?] = [nil]
        try #require(dlib_face_engines_create(loaded, 1, &engines, &error, error.count) == 0)
        let engine = try #require(engines[0])
        defer { dlib_face_engine_destroy(engine) }

        let chipBytes = Int(DLIB_FACE_CHIP_SIDE) * Int(DLIB_FACE_CHIP_SIDE) * 3
        var chips: [UInt8] = []
        for photo in ["Tony_Blair/Tony_Blair_0001.jpg", "Arnold_Schwarzenegger/Arnold_Schwarzenegger_0005.jpg", "Hugo_Chavez/Hugo_Chavez_0003.jpg"] {
            let image = try UprightImage(decoding: Data(contentsOf: GroupingQualityTests.lfw10.appendingPathComponent(photo)))
            var faces = [dlib_face](repeating: dlib_face(), count: 4)
            let found = image.pixels.withUnsafeBufferPointer {
                dlib_face_detect(engine, $0.baseAddress, Int32(image.width), Int32(image.height), 1, &faces, 4, &error, error.count)
            }
            try #require(found >= 1, "no face in \(photo)")
            var faceChips = [UInt8](repeating: 0, count: Int(min(found, 4)) * chipBytes)
            let cut = image.pixels.withUnsafeBufferPointer {
                dlib_face_chips(engine, $0.baseAddress, Int32(image.width), Int32(image.height), faces, min(found, 4), &faceChips, &error, error.count)
            }
            try #require(cut == 0)
            chips += faceChips
        }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15  // a fixed noise (SplitMix64), so a failure comes back
        chips += (0..<2 * chipBytes).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return UInt8(truncatingIfNeeded: z ^ (z >> 31))
        }
        let count = chips.count / chipBytes
        #expect(count >= 6)

        var largest = -1.0
        #expect(dlib_face_network_check(network, chips, Int32(count), &largest) == 1)
        #expect(largest >= 0 && largest < 1e-5, "largest difference of an embedding component: \(largest)")
        #expect(dlib_face_elementwise_network_check(network, chips, Int32(count)) == 1,
                "with dlib's relu, affine, add and pooling layers the embeddings differ (-1) or it threw (-3)")
    }
}
