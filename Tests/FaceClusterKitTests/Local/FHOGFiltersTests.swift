import CDlibFace
import Testing

@Suite("The HOG face detector's filters")
struct FHOGFiltersTests {
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
