import CDlibFace
import Testing

@Suite("The HOG face detector's image pyramid, features and filters")
struct HOGDetectorTests {
    /// fhog_features.h builds the detector's HOG features in place of dlib's extraction: any value that differed
    /// would move scores and, at the edges, boxes and embeddings.
    @Test("HOG features are dlib's bit for bit, grey and colour, on every level's shape")
    func sameFeatures() {
        #if arch(x86_64)
        #expect(dlib_fhog_features_check() == 1, "0: dlib's extraction runs; -1: a value differs; -3: an exception")
        #else
        #expect(dlib_fhog_features_check() == 0, "elsewhere (no -mavx in Package.swift) dlib's own extraction runs")
        #endif
    }

    /// resize_bilinear.cpp makes the detector's pyramid levels (and its 2× upsampling) in place of dlib's
    /// `resize_image`: a pixel that differed would change the features of every level after it.
    @Test("pyramid levels are dlib's pixel for pixel, RGB and grey, down, up and to odd sizes")
    func samePyramid() {
        let result = dlib_resize_check()
        #expect(result == 1 || result == 0, "-1: a pixel differs; -3: an exception")
        if dlib_fhog_filters_fast() == 1 {
            #expect(result == 1, "this CPU has AVX2, so the kernels must run (0: dlib's resize ran)")
        }
    }

    /// fhog_filters.cpp applies the detectors' filters in place of dlib's loop where the CPU has AVX2 and FMA:
    /// scores that drifted from dlib's would find other faces, a loop that never ran would quietly cost a tenth
    /// of an ingest's CPU. The boxes found on real photos are held by the detection tests.
    @Test(
        "score every window as dlib's loop does, to float rounding, on every level's shape",
        .enabled(if: dlib_fhog_filters_fast() == 1, "this CPU lacks AVX2 or FMA: dlib's own loop runs")
    )
    func sameScores() {
        var largest = 0.0
        let result = dlib_fhog_filters_check(&largest)
        print("HOG filter scores: largest gap to dlib's loop \(largest)")
        #expect(result == 1, "-1: scores or areas differ (largest gap \(largest)); -2: a shape refused; -3: an exception")
        #expect(largest <= 1e-4)
    }
}
