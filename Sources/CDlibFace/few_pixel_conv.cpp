// The face network's convolutions whose outputs have only a few pixels: 6 of its 8 layers of 256 filters, on 3 × 3
// and 4 × 4 maps (the 8 hold 18 of its 22 MB of weights). dlib multiplies a layer's filters (256 × 2,304 floats:
// 2.4 MB) by the input's windows (9 or 16 × 2,304) with OpenBLAS's sgemm, which copies the filters into its packed
// layout on every call: 0.45–0.50 ms a layer; the 8 layers took 2.9 ms a face, 9 % of an lfw10 ingest's CPU
// (every sgemm call timed by shape). Here each filter is read once, where it lies, against a few
// windows at a time: 0.19–0.30 ms a layer (0.06–0.07 ms for the 1,152-deep one; every shape timed against
// OpenBLAS in one program, the filters of eight layers taken in turn so they come from memory as in the network).
// The sums are the same products in another order. Runs where the CPU has AVX2 and FMA (checked at run time); the
// 1 × 1 layers and the other CPUs keep dlib's convolution.
#include "network_layers.h"

#include "conv_check.h"
#include "cpu_features.h"
#include "dlib_face.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>

namespace dlib {
namespace cpu {
// dlib's (or img2col.cpp's) copy of sample `n`'s windows into the rows of `output`; libdlib.so exports it, no header declares it.
void img2col(matrix<float> &output, const tensor &data, long n, long filter_nr, long filter_nc, long stride_y,
             long stride_x, long padding_y, long padding_x);
}  // namespace cpu
}  // namespace dlib

namespace facecluster {

namespace {

/// Outputs (pixels) the product takes: 3 × 3 and 4 × 4 maps. From 1 × 1 (one window) OpenBLAS's product is quicker
/// (a matrix-vector loop); from 8 × 8 (64 windows) its packed layout pays for itself.
constexpr long fewest_pixels = 3, most_pixels = 16;
/// Filters and window elements a block of the product takes: 4 filters, 8 elements a vector.
constexpr long filter_block = 4, lane_count = 8;
/// Window elements summed before the partial sums go back to memory, so that 4 filters' stretch (12 KB) and 3
/// windows' (9 KB) stay in the 32 KB first-level cache. A whole 2,304-element row of 4 filters (36 KB) did not:
/// 0.41–0.44 ms a 16-pixel layer against 0.29–0.30 ms in stretches of 384.
constexpr long stretch = 384;

bool fits(long filters, long pixels, long depth) {
    return cpu_has_avx2_fma() && filters % filter_block == 0 && depth % lane_count == 0 && pixels >= fewest_pixels
        && pixels <= most_pixels;
}

#if defined(__x86_64__)

__attribute__((target("avx2,fma"), always_inline))
inline float horizontal_sum(__m256 v) {
    __m128 a = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    a = _mm_add_ps(a, _mm_movehl_ps(a, a));
    a = _mm_add_ss(a, _mm_movehdup_ps(a));
    return _mm_cvtss_f32(a);
}

/// `output` (`filters` × `pixels`) = `weights` (`filters` × `depth`) · `windows`ᵀ (`pixels` × `depth`), all row
/// major: 4 filters at a time against 3 windows at a time (12 sums of 8 lanes, 7 loads for 12 fused
/// multiply-adds), each sum in 8 lanes over the elements ≡ lane (mod 8), taken in `stretch`es, then its lanes added.
__attribute__((target("avx2,fma")))
void product(const float *weights, const float *windows, float *output, long filters, long pixels, long depth) {
    alignas(32) float partial[most_pixels * filter_block * lane_count];  // [window][filter][lane]
    for (long f = 0; f < filters; f += filter_block) {
        const float *w0 = weights + f * depth, *w1 = w0 + depth, *w2 = w1 + depth, *w3 = w2 + depth;
        std::fill(partial, partial + pixels * filter_block * lane_count, 0.0f);
        for (long from = 0; from < depth; from += stretch) {
            const long to = std::min(from + stretch, depth);
            long p = 0;
            for (; p + 3 <= pixels; p += 3) {
                const float *x0 = windows + p * depth, *x1 = x0 + depth, *x2 = x1 + depth;
                float *s = partial + p * filter_block * lane_count;  // window p's 4 sums, then p + 1's, p + 2's
                __m256 a00 = _mm256_load_ps(s), a10 = _mm256_load_ps(s + 8), a20 = _mm256_load_ps(s + 16), a30 = _mm256_load_ps(s + 24);
                __m256 a01 = _mm256_load_ps(s + 32), a11 = _mm256_load_ps(s + 40), a21 = _mm256_load_ps(s + 48), a31 = _mm256_load_ps(s + 56);
                __m256 a02 = _mm256_load_ps(s + 64), a12 = _mm256_load_ps(s + 72), a22 = _mm256_load_ps(s + 80), a32 = _mm256_load_ps(s + 88);
                for (long k = from; k < to; k += lane_count) {
                    const __m256 y0 = _mm256_loadu_ps(x0 + k), y1 = _mm256_loadu_ps(x1 + k), y2 = _mm256_loadu_ps(x2 + k);
                    __m256 v = _mm256_loadu_ps(w0 + k);
                    a00 = _mm256_fmadd_ps(v, y0, a00), a01 = _mm256_fmadd_ps(v, y1, a01), a02 = _mm256_fmadd_ps(v, y2, a02);
                    v = _mm256_loadu_ps(w1 + k);
                    a10 = _mm256_fmadd_ps(v, y0, a10), a11 = _mm256_fmadd_ps(v, y1, a11), a12 = _mm256_fmadd_ps(v, y2, a12);
                    v = _mm256_loadu_ps(w2 + k);
                    a20 = _mm256_fmadd_ps(v, y0, a20), a21 = _mm256_fmadd_ps(v, y1, a21), a22 = _mm256_fmadd_ps(v, y2, a22);
                    v = _mm256_loadu_ps(w3 + k);
                    a30 = _mm256_fmadd_ps(v, y0, a30), a31 = _mm256_fmadd_ps(v, y1, a31), a32 = _mm256_fmadd_ps(v, y2, a32);
                }
                _mm256_store_ps(s, a00), _mm256_store_ps(s + 8, a10), _mm256_store_ps(s + 16, a20), _mm256_store_ps(s + 24, a30);
                _mm256_store_ps(s + 32, a01), _mm256_store_ps(s + 40, a11), _mm256_store_ps(s + 48, a21), _mm256_store_ps(s + 56, a31);
                _mm256_store_ps(s + 64, a02), _mm256_store_ps(s + 72, a12), _mm256_store_ps(s + 80, a22), _mm256_store_ps(s + 88, a32);
            }
            for (; p < pixels; ++p) {  // the 1 or 2 windows left over
                const float *x0 = windows + p * depth;
                float *s = partial + p * filter_block * lane_count;
                __m256 a0 = _mm256_load_ps(s), a1 = _mm256_load_ps(s + 8), a2 = _mm256_load_ps(s + 16), a3 = _mm256_load_ps(s + 24);
                for (long k = from; k < to; k += lane_count) {
                    const __m256 y0 = _mm256_loadu_ps(x0 + k);
                    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + k), y0, a0), a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + k), y0, a1);
                    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + k), y0, a2), a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + k), y0, a3);
                }
                _mm256_store_ps(s, a0), _mm256_store_ps(s + 8, a1), _mm256_store_ps(s + 16, a2), _mm256_store_ps(s + 24, a3);
            }
        }
        for (long p = 0; p < pixels; ++p) {
            for (long i = 0; i < filter_block; ++i) {
                output[(f + i) * pixels + p] = horizontal_sum(_mm256_load_ps(partial + (p * filter_block + i) * lane_count));
            }
        }
    }
}

#else

void product(const float *, const float *, float *, long, long, long) {}  // never called: `fits` is false

#endif

}  // namespace

bool convolve_few_pixels(const dlib::tensor &data, const convolution_weights &weights, long size, int stride,
                         dlib::resizable_tensor &output, dlib::matrix<float> &windows) {
    const long rows = 1 + (data.nr() + 2 * weights.padding_y - size) / stride;
    const long columns = 1 + (data.nc() + 2 * weights.padding_x - size) / stride;
    const long filters = weights.filters.num_samples(), pixels = rows * columns, depth = weights.channels * size * size;
    if (rows < 1 || columns < 1 || data.k() != weights.channels || !fits(filters, pixels, depth)) return false;
    output.set_size(data.num_samples(), filters, rows, columns);
    for (long n = 0; n < data.num_samples(); ++n) {
        dlib::cpu::img2col(windows, data, n, size, size, stride, stride, weights.padding_y, weights.padding_x);
        float *out = output.host() + n * filters * pixels;
        product(weights.filters.host(), &windows(0, 0), out, filters, pixels, depth);
        if (weights.bias.size()) {  // as dlib's convolution adds it: after the sum
            const float *bias = weights.bias.host();
            for (long f = 0; f < filters; ++f) {
                for (long p = 0; p < pixels; ++p) out[f * pixels + p] += bias[f];
            }
        }
    }
    return true;
}

}  // namespace facecluster

extern "C" int dlib_few_pixel_conv_check(double *largest_error) {
    // The network's layers (256 filters on 4 × 4 and 3 × 3 padded, 128 → 256 channels on 8 × 8 by 2), then 3 to 15
    // pixels, 7 × 7 filters, two samples, no bias.
    const std::vector<facecluster::convolution_case> cases = {
        {256, 4, 4, 256, 3, 1, 1, 1, true}, {256, 3, 3, 256, 3, 1, 1, 1, true}, {128, 8, 8, 256, 3, 2, 0, 1, true},
        {8, 1, 3, 4, 3, 1, 1, 2, true},     {16, 5, 3, 8, 3, 1, 1, 1, true},    {8, 9, 9, 12, 7, 1, 0, 1, true},
        {24, 4, 4, 4, 3, 1, 0, 2, false},
    };
    return facecluster::check_convolution(cases, 13, largest_error, [](const dlib::tensor &data, const facecluster::convolution_weights &weights,
                                                                      const facecluster::convolution_case &c, dlib::resizable_tensor &output) {
        dlib::matrix<float> windows;
        return facecluster::convolve_few_pixels(data, weights, c.size, c.stride, output, windows);
    });
}
