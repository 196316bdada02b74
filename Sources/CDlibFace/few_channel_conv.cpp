// The face network's first convolution: 32 filters of 7 × 7 over the chip's 3 colour channels, by 2, into a
// 72 × 72 map. dlib copies every window into a matrix first (img2col: 5,184 windows of 147 values, 3 MB written
// and read again) and multiplies it by the filters with OpenBLAS's sgemm, which packs it once more: 1.0 ms of
// sgemm a face in an lfw10 ingest (every sgemm timed by shape), and img2col's time besides. With so few channels
// the windows are cheaper read where they lie: each output pixel's 32 sums are 4 vectors of 8 filters, and each of
// its 147 taps is one input value broadcast against them (two pixels at a time, sharing the filters' loads).
// The sums are the same products, taken tap by tap as img2col lays them out (on the development machine the
// embeddings came out bit for bit those of OpenBLAS's product). Runs where the CPU has AVX2 and FMA (checked at run
// time); elsewhere dlib's convolution runs.
#include "network_layers.h"

#include "conv_check.h"
#include "cpu_features.h"
#include "dlib_face.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <cstdint>
#include <vector>

namespace facecluster {

namespace {

/// The filters the loop holds in registers (4 vectors of 8), and the most input channels it takes (an image's).
constexpr long filter_count = 32, most_channels = 4;

#if defined(__x86_64__)

/// One output row of one sample: `sums` (`columns` × 32, a pixel's 32 filters together) from `input`
/// (`channels` planes of `height` × `width`) and `taps` (`channels` × `size` × `size` rows of the 32 filters'
/// weights), windows `stride` apart starting at input row `top`.
__attribute__((target("avx2,fma")))
void row_sums(const float *input, long height, long width, long size, int stride, long top, long columns, long channels,
              const float *taps, float *sums) {
    long c = 0;
    for (; c + 2 <= columns; c += 2) {  // two pixels: the filters' 4 loads serve 8 fused multiply-adds
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        const float *w = taps;
        for (long k = 0; k < channels; ++k) {
            for (long i = 0; i < size; ++i) {
                const float *row = input + (k * height + top + i) * width + c * stride;
                for (long j = 0; j < size; ++j, w += filter_count) {
                    const __m256 x0 = _mm256_broadcast_ss(row + j), x1 = _mm256_broadcast_ss(row + stride + j);
                    const __m256 w0 = _mm256_load_ps(w), w1 = _mm256_load_ps(w + 8), w2 = _mm256_load_ps(w + 16), w3 = _mm256_load_ps(w + 24);
                    a0 = _mm256_fmadd_ps(x0, w0, a0), a1 = _mm256_fmadd_ps(x0, w1, a1), a2 = _mm256_fmadd_ps(x0, w2, a2), a3 = _mm256_fmadd_ps(x0, w3, a3);
                    b0 = _mm256_fmadd_ps(x1, w0, b0), b1 = _mm256_fmadd_ps(x1, w1, b1), b2 = _mm256_fmadd_ps(x1, w2, b2), b3 = _mm256_fmadd_ps(x1, w3, b3);
                }
            }
        }
        float *s = sums + c * filter_count;
        _mm256_storeu_ps(s, a0), _mm256_storeu_ps(s + 8, a1), _mm256_storeu_ps(s + 16, a2), _mm256_storeu_ps(s + 24, a3);
        _mm256_storeu_ps(s + 32, b0), _mm256_storeu_ps(s + 40, b1), _mm256_storeu_ps(s + 48, b2), _mm256_storeu_ps(s + 56, b3);
    }
    if (c < columns) {  // an odd last pixel
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        const float *w = taps;
        for (long k = 0; k < channels; ++k) {
            for (long i = 0; i < size; ++i) {
                const float *row = input + (k * height + top + i) * width + c * stride;
                for (long j = 0; j < size; ++j, w += filter_count) {
                    const __m256 x0 = _mm256_broadcast_ss(row + j);
                    a0 = _mm256_fmadd_ps(x0, _mm256_load_ps(w), a0), a1 = _mm256_fmadd_ps(x0, _mm256_load_ps(w + 8), a1);
                    a2 = _mm256_fmadd_ps(x0, _mm256_load_ps(w + 16), a2), a3 = _mm256_fmadd_ps(x0, _mm256_load_ps(w + 24), a3);
                }
            }
        }
        float *s = sums + c * filter_count;
        _mm256_storeu_ps(s, a0), _mm256_storeu_ps(s + 8, a1), _mm256_storeu_ps(s + 16, a2), _mm256_storeu_ps(s + 24, a3);
    }
}

#else

void row_sums(const float *, long, long, long, int, long, long, long, const float *, float *) {}  // never called

#endif

}  // namespace

bool convolve_few_channels(const dlib::tensor &data, const convolution_weights &weights, long size, int stride,
                           dlib::resizable_tensor &output, std::vector<float> &scratch) {
    const long channels = weights.channels, filters = weights.filters.num_samples();
    if (!cpu_has_avx2_fma() || filters != filter_count || channels > most_channels || data.k() != channels
        || weights.padding_y != 0 || weights.padding_x != 0 || data.nr() < size || data.nc() < size) {
        return false;
    }
    const long height = data.nr(), width = data.nc();
    const long rows = 1 + (height - size) / stride, columns = 1 + (width - size) / stride;
    const long depth = channels * size * size;
    // The weights by tap, each tap's 32 filters together (dlib holds them by filter), 32-byte aligned; then a
    // row's sums, a pixel's 32 together.
    scratch.resize(depth * filter_count + columns * filter_count + 8);
    float *taps = scratch.data() + (8 - (reinterpret_cast<uintptr_t>(scratch.data()) / sizeof(float)) % 8) % 8;
    float *sums = taps + depth * filter_count;
    const float *filter = weights.filters.host();
    for (long f = 0; f < filter_count; ++f) {
        for (long t = 0; t < depth; ++t) taps[t * filter_count + f] = filter[f * depth + t];
    }
    const float *bias = weights.bias.size() ? weights.bias.host() : nullptr;
    output.set_size(data.num_samples(), filter_count, rows, columns);
    for (long n = 0; n < data.num_samples(); ++n) {
        const float *input = data.host() + n * channels * height * width;
        float *out = output.host() + n * filter_count * rows * columns;
        for (long r = 0; r < rows; ++r) {
            row_sums(input, height, width, size, stride, r * stride, columns, channels, taps, sums);
            for (long f = 0; f < filter_count; ++f) {  // back to dlib's layout, a plane a filter; the bias after the sum, as dlib adds it
                float *target = out + (f * rows + r) * columns;
                if (bias) {
                    for (long c = 0; c < columns; ++c) target[c] = sums[c * filter_count + f] + bias[f];
                } else {
                    for (long c = 0; c < columns; ++c) target[c] = sums[c * filter_count + f];
                }
            }
        }
    }
    return true;
}

}  // namespace facecluster

extern "C" int dlib_few_channel_conv_check(double *largest_error) {
    // The network's first layer, then 1–4 channels, odd sides and strides that do not divide them, one output pixel,
    // two samples, no bias.
    const long filters = facecluster::filter_count;
    const std::vector<facecluster::convolution_case> cases = {
        {3, 150, 150, filters, 7, 2, 0, 1, true}, {1, 9, 8, filters, 3, 1, 0, 2, true}, {4, 13, 11, filters, 5, 3, 0, 1, true},
        {2, 7, 7, filters, 7, 2, 0, 1, true},     {3, 10, 9, filters, 3, 2, 0, 2, false},
    };
    return facecluster::check_convolution(cases, 17, largest_error, [](const dlib::tensor &data, const facecluster::convolution_weights &weights,
                                                                      const facecluster::convolution_case &c, dlib::resizable_tensor &output) {
        std::vector<float> scratch;
        return facecluster::convolve_few_channels(data, weights, c.size, c.stride, output, scratch);
    });
}
