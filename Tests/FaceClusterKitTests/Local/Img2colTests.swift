import CDlibFace
import Testing

@Suite("The face network's convolutions")
struct Img2colTests {
    /// img2col.cpp replaces dlib 19.24's img2col by interposition; a different matrix would change every
    /// embedding, an interposition that did not take would quietly cost 12 % of an ingest's CPU.
    @Test("run on our img2col, which writes dlib's matrix element for element (the network's shapes and odd ones)")
    func ours() {
        #expect(dlib_img2col_check() == 1, "0: dlib's own runs; -1: the matrices differ; -2: dlib's was not found")
    }
}
