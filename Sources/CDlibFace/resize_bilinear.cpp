// The kernels of resize_bilinear.h: dlib 19.24's bilinear resize_image for RGB and grey pixels, value for value.
//
// dlib's loop (interpolation.h, `resize_image(…, interpolate_bilinear)` for two RGB or two grey images), row r:
//   y += y_scale (double); top = floor(y); bottom = min(top + 1, rows − 1); tb = y − top;
//   4 columns at a time, in float lanes: x += 4·x_scale; left = trunc(x); lr = x − left;
//   w = (1−tb)(1−lr), (1−tb)·lr, tb(1−lr), tb·lr; v = w0·tl + w1·tr + w2·bl + w3·br (left to right);
//   RGB: trunc(v) a channel; grey: trunc(v + 0.5), the sum in double;
//   it leaves the 4-lane loop at the first group whose last column's right neighbour is past the row, and a
//   scalar loop in double (grey: partly float) does the rest of the row.
// The lanes' x, left, lr and 1 − lr depend on the column only, so they are computed once (`columns`, by the same
// float operations); each row then needs only the weights' products and the sums, 8 columns at a time.
#include "resize_bilinear.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace facecluster {

namespace {

using namespace dlib;

/// Where the output columns read, as dlib's 4-lane loop computes it: for each column before `end` (where dlib's
/// scalar loop takes over), its left source column, lr and 1 − lr in float.
struct columns {
    std::vector<int32_t> left;
    std::vector<float> fraction, inverse;
    long end = 0;

    columns(long in_columns, long out_columns, double x_scale) {
        // simd4f _x(x, x + x_scale, x + 2·x_scale, x + 3·x_scale) with x = −4·x_scale: doubles made floats.
        const double x = -4 * x_scale;
        float lanes[4] = {static_cast<float>(x), static_cast<float>(x + x_scale), static_cast<float>(x + 2 * x_scale),
                          static_cast<float>(x + 3 * x_scale)};
        const float step = static_cast<float>(4 * x_scale);
        for (long c = 0;; c += 4) {
            int32_t l[4];
            float f[4], g[4];
            for (int lane = 0; lane < 4; ++lane) {
                lanes[lane] += step;
                l[lane] = static_cast<int32_t>(lanes[lane]);              // _mm_cvttps_epi32: truncation
                f[lane] = lanes[lane] - static_cast<float>(l[lane]);    // _x − left, left made float
                g[lane] = 1.0f - f[lane];
            }
            // dlib's own test; the second (a group past the last column, which dlib would write out of bounds) never
            // holds unless float error in x passed x_scale, and is there to keep that out of bounds here too.
            if (l[3] + 1 >= in_columns || c + 4 > out_columns) {
                end = c;
                break;
            }
            for (int lane = 0; lane < 4; ++lane) {
                left.push_back(l[lane]);
                fraction.push_back(f[lane]);
                inverse.push_back(g[lane]);
            }
        }
    }
};

/// One column of dlib's 4-lane loop, as one lane computes it.
inline void lane(const unsigned char *top, const unsigned char *bottom, int32_t left, float fraction, float inverse,
                 float tb, float inverse_tb, unsigned char *out, int channels) {
#pragma clang fp contract(off)
    const float tlf = inverse_tb * inverse, trf = inverse_tb * fraction, blf = tb * inverse, brf = tb * fraction;
    const long l = static_cast<long>(left) * channels, r = l + channels;
    for (int channel = 0; channel < channels; ++channel) {
        float v = tlf * static_cast<float>(top[l + channel]);
        v = v + trf * static_cast<float>(top[r + channel]);
        v = v + blf * static_cast<float>(bottom[l + channel]);
        v = v + brf * static_cast<float>(bottom[r + channel]);
        out[channel] = channels == 3 ? static_cast<unsigned char>(static_cast<int32_t>(v))
                                     : static_cast<unsigned char>(static_cast<double>(v) + 0.5);
    }
}

#if defined(__x86_64__)

/// Where 8 columns' source pixels lie in a row, and how to pick them out of 16-byte windows with byte shuffles
/// (the same for every row): RGB lanes in pairs, each pair's window shuffled to (R, G, B, 0) of each lane's left
/// pixel and of its right neighbour; grey lanes all from one window, shuffled to (left, right) byte pairs.
struct block {
    int32_t window[4];    // byte offsets in the row: RGB lanes 0, 2, 4, 6 (grey: window[0] only)
    alignas(32) int8_t shuffle[2][32];
};

/// The left pixels of 8 columns of an RGB row, and their right neighbours, as (R, G, B, 0). Each shuffle gives a
/// lane pair's (left p, left p + 1, right p, right p + 1); pairs 0 and 1 (2 and 3 in the upper half) interleave to
/// lanes 0–3's lefts and rights.
__attribute__((target("avx2"))) inline void rgb_pixels8(const unsigned char *row, const block &b, __m256i even, __m256i odd,
                                                        __m256i &left, __m256i &right) {
    const __m256i a = _mm256_shuffle_epi8(_mm256_inserti128_si256(_mm256_castsi128_si256(
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(row + b.window[0]))),
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(row + b.window[2])), 1), even);
    const __m256i c = _mm256_shuffle_epi8(_mm256_inserti128_si256(_mm256_castsi128_si256(
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(row + b.window[1]))),
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(row + b.window[3])), 1), odd);
    left = _mm256_unpacklo_epi64(a, c);
    right = _mm256_unpackhi_epi64(a, c);
}

/// The four corner weights of 8 lanes, as dlib's lanes compute them: (1−tb)(1−lr), (1−tb)·lr, tb(1−lr), tb·lr.
struct weights8 {
    __m256 tl, tr, bl, br;
};

__attribute__((target("avx2"))) inline weights8 lane_weights(const float *fraction, const float *inverse, __m256 tb, __m256 inverse_tb) {
    const __m256 f = _mm256_loadu_ps(fraction), g = _mm256_loadu_ps(inverse);
    return {_mm256_mul_ps(inverse_tb, g), _mm256_mul_ps(inverse_tb, f), _mm256_mul_ps(tb, g), _mm256_mul_ps(tb, f)};
}

/// w.tl·tl + w.tr·tr + w.bl·bl + w.br·br, summed left to right as dlib sums it.
__attribute__((target("avx2"))) inline __m256 blend(const weights8 &w, __m256 tl, __m256 tr, __m256 bl, __m256 br) {
    __m256 v = _mm256_mul_ps(w.tl, tl);
    v = _mm256_add_ps(v, _mm256_mul_ps(w.tr, tr));
    v = _mm256_add_ps(v, _mm256_mul_ps(w.bl, bl));
    return _mm256_add_ps(v, _mm256_mul_ps(w.br, br));
}

/// 8 columns of an RGB row: dlib's lane arithmetic, 8 lanes at once.
__attribute__((target("avx2"))) inline void rgb8(const unsigned char *top, const unsigned char *bottom, const block &b,
                                                 const float *fraction, const float *inverse, __m256 tb, __m256 inverse_tb, unsigned char *out) {
    const weights8 w = lane_weights(fraction, inverse, tb, inverse_tb);
    const __m256i even = _mm256_load_si256(reinterpret_cast<const __m256i *>(b.shuffle[0]));
    const __m256i odd = _mm256_load_si256(reinterpret_cast<const __m256i *>(b.shuffle[1]));
    __m256i tl, tr, bl, br;
    rgb_pixels8(top, b, even, odd, tl, tr);
    rgb_pixels8(bottom, b, even, odd, bl, br);
    const __m256i byte = _mm256_set1_epi32(0xff);
    __m256i packed = _mm256_setzero_si256();
    for (int channel = 0; channel < 3; ++channel) {
        const int shift = 8 * channel;
        const __m256 vtl = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(tl, shift), byte));
        const __m256 vtr = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(tr, shift), byte));
        const __m256 vbl = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(bl, shift), byte));
        const __m256 vbr = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(br, shift), byte));
        packed = _mm256_or_si256(packed, _mm256_slli_epi32(_mm256_cvttps_epi32(blend(w, vtl, vtr, vbl, vbr)), shift));
    }
    // 8 pixels of 4 bytes (R, G, B, 0) to 24 bytes.
    const __m256i squeeze = _mm256_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1,
                                             0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
    const __m256i squeezed = _mm256_shuffle_epi8(packed, squeeze);
    const __m128i low = _mm256_castsi256_si128(squeezed), high = _mm256_extracti128_si256(squeezed, 1);
    _mm_storel_epi64(reinterpret_cast<__m128i *>(out), low);
    _mm_storeu_si32(out + 8, _mm_srli_si128(low, 8));
    _mm_storel_epi64(reinterpret_cast<__m128i *>(out + 12), high);
    _mm_storeu_si32(out + 20, _mm_srli_si128(high, 8));
}

/// 8 columns of a grey row. The + 0.5 is added in double, as dlib adds it.
__attribute__((target("avx2"))) inline void grey8(const unsigned char *top, const unsigned char *bottom, const block &b,
                                                  const float *fraction, const float *inverse, __m256 tb, __m256 inverse_tb, unsigned char *out) {
    const weights8 w = lane_weights(fraction, inverse, tb, inverse_tb);
    const __m128i pick = _mm_load_si128(reinterpret_cast<const __m128i *>(b.shuffle[0]));
    const __m256i t = _mm256_cvtepu16_epi32(_mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i *>(top + b.window[0])), pick));
    const __m256i d = _mm256_cvtepu16_epi32(_mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i *>(bottom + b.window[0])), pick));
    const __m256i byte = _mm256_set1_epi32(0xff);
    const __m256 vtl = _mm256_cvtepi32_ps(_mm256_and_si256(t, byte));
    const __m256 vtr = _mm256_cvtepi32_ps(_mm256_srli_epi32(t, 8));
    const __m256 vbl = _mm256_cvtepi32_ps(_mm256_and_si256(d, byte));
    const __m256 vbr = _mm256_cvtepi32_ps(_mm256_srli_epi32(d, 8));
    const __m256 v = blend(w, vtl, vtr, vbl, vbr);
    const __m256d half = _mm256_set1_pd(0.5);
    const __m128i low = _mm256_cvttpd_epi32(_mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), half));
    const __m128i high = _mm256_cvttpd_epi32(_mm256_add_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), half));
    const __m128i words = _mm_packus_epi32(low, high);
    _mm_storel_epi64(reinterpret_cast<__m128i *>(out), _mm_packus_epi16(words, words));
}

/// The shuffles of the 8 columns from `c`, or false when their pixels do not lie within 16-byte windows of a
/// row of `in_columns` pixels (columns too far apart, or too near the row's end).
bool plan_block(const std::vector<int32_t> &left, long c, long in_columns, int channels, block &b) {
    const long row_bytes = in_columns * channels;
    std::memset(b.shuffle, -1, sizeof b.shuffle);
    if (channels == 1) {
        b.window[0] = left[c];
        if (b.window[0] + 16 > row_bytes) return false;
        for (int lane = 0; lane < 8; ++lane) {
            const long at = left[c + lane] - b.window[0];
            if (at + 1 > 15) return false;
            b.shuffle[0][2 * lane] = static_cast<int8_t>(at);
            b.shuffle[0][2 * lane + 1] = static_cast<int8_t>(at + 1);
        }
        return true;
    }
    for (int pair = 0; pair < 4; ++pair) {
        const long p = c + 2 * pair;  // lanes p and p + 1
        const long window = 3L * left[p];
        if (window + 16 > row_bytes) return false;
        b.window[pair] = static_cast<int32_t>(window);
        // Pairs 0 and 2 go to the first shuffle (its lower and upper half), 1 and 3 to the second.
        int8_t *mask = b.shuffle[pair % 2] + 16 * (pair / 2);
        for (int lane = 0; lane < 2; ++lane) {
            const long at = 3L * left[p + lane] - window;
            if (at + 5 > 15) return false;
            for (int channel = 0; channel < 3; ++channel) {
                mask[4 * lane + channel] = static_cast<int8_t>(at + channel);          // left pixel
                mask[8 + 4 * lane + channel] = static_cast<int8_t>(at + 3 + channel);  // its right neighbour
            }
        }
    }
    return true;
}

#endif

/// dlib's scalar loop over the last columns of a row, from column `c`: `pixel(c, left, right, lr_frac)` for each.
template <typename pixel_function>
void tail(long in_columns, double x_scale, long c, long out_columns, pixel_function pixel) {
    double x = -x_scale + c * x_scale;
    for (; c < out_columns; ++c) {
        x += x_scale;
        const long left = static_cast<long>(std::floor(x));
        const long right = std::min(left + 1, in_columns - 1);
        pixel(c, left, right, x - left);
    }
}

/// dlib's scalar loop for the last columns of an RGB row, as it is written there.
void rgb_tail(const unsigned char *top_row, const unsigned char *bottom_row, long in_columns, double tb_frac, double x_scale,
              long c, long out_columns, unsigned char *out_row) {
    tail(in_columns, x_scale, c, out_columns, [&](long c, long left, long right, double lr_frac) {
        const rgb_pixel tl(top_row[left * 3], top_row[left * 3 + 1], top_row[left * 3 + 2]);
        const rgb_pixel tr(top_row[right * 3], top_row[right * 3 + 1], top_row[right * 3 + 2]);
        const rgb_pixel bl(bottom_row[left * 3], bottom_row[left * 3 + 1], bottom_row[left * 3 + 2]);
        const rgb_pixel br(bottom_row[right * 3], bottom_row[right * 3 + 1], bottom_row[right * 3 + 2]);
        rgb_pixel temp;
        assign_pixel(temp, 0);
        vector_to_pixel(temp,
            (1-tb_frac)*((1-lr_frac)*pixel_to_vector<double>(tl) + lr_frac*pixel_to_vector<double>(tr)) +
            tb_frac*((1-lr_frac)*pixel_to_vector<double>(bl) + lr_frac*pixel_to_vector<double>(br)));
        out_row[c * 3] = temp.red;
        out_row[c * 3 + 1] = temp.green;
        out_row[c * 3 + 2] = temp.blue;
    });
}

/// dlib's scalar loop for the last columns of a grey row, as it is written there (lr_frac made float).
void grey_tail(const unsigned char *top_row, const unsigned char *bottom_row, long in_columns, double tb_frac, double x_scale,
               long c, long out_columns, unsigned char *out_row) {
    tail(in_columns, x_scale, c, out_columns, [&](long c, long left, long right, double x_minus_left) {
        const float lr_frac = x_minus_left;
        float tl = 0, tr = 0, bl = 0, br = 0;
        assign_pixel(tl, top_row[left]);
        assign_pixel(tr, top_row[right]);
        assign_pixel(bl, bottom_row[left]);
        assign_pixel(br, bottom_row[right]);
        float temp = (1-tb_frac)*((1-lr_frac)*tl + lr_frac*tr) +
            tb_frac*((1-lr_frac)*bl + lr_frac*br);
        assign_pixel(out_row[c], temp);
    });
}

}  // namespace

#if defined(__x86_64__)

bool resize_bilinear_fast() {
    static const bool fast = __builtin_cpu_supports("avx2");
    return fast;
}

namespace {

/// resize_bilinear's work, compiled for AVX2: only called once the CPU is known to have it.
__attribute__((target("avx2")))
void resize_avx2(const unsigned char *in, long in_rows, long in_columns, long in_step,
                 unsigned char *out, long out_rows, long out_columns, long out_step, int channels) {
    const double x_scale = (in_columns - 1) / static_cast<double>(std::max<long>(out_columns - 1, 1));
    const double y_scale = (in_rows - 1) / static_cast<double>(std::max<long>(out_rows - 1, 1));
    const columns plan(in_columns, out_columns, x_scale);
    // Each group of 8 columns before dlib's scalar loop, with its shuffles, or lane by lane where it has none.
    const long groups = plan.end / 8;
    std::vector<block> blocks(static_cast<size_t>(groups));
    std::vector<char> shuffled(static_cast<size_t>(groups));
    for (long group = 0; group < groups; ++group) shuffled[group] = plan_block(plan.left, group * 8, in_columns, channels, blocks[group]);

    double y = -y_scale;
    for (long r = 0; r < out_rows; ++r) {
        y += y_scale;
        const long top = static_cast<long>(std::floor(y));
        const long bottom = std::min(top + 1, in_rows - 1);
        const double tb_frac = y - top;
        const float tb = static_cast<float>(tb_frac), inverse_tb = static_cast<float>(1 - tb_frac);
        const unsigned char *top_row = in + top * in_step, *bottom_row = in + bottom * in_step;
        unsigned char *out_row = out + r * out_step;
        const __m256 vtb = _mm256_set1_ps(tb), vinverse_tb = _mm256_set1_ps(inverse_tb);
        for (long group = 0; group < groups; ++group) {
            const long c = group * 8;
            if (!shuffled[group]) {
                for (long column = c; column < c + 8; ++column) {
                    lane(top_row, bottom_row, plan.left[column], plan.fraction[column], plan.inverse[column], tb, inverse_tb,
                         out_row + column * channels, channels);
                }
            } else if (channels == 3) {
                rgb8(top_row, bottom_row, blocks[group], &plan.fraction[c], &plan.inverse[c], vtb, vinverse_tb, out_row + c * 3);
            } else {
                grey8(top_row, bottom_row, blocks[group], &plan.fraction[c], &plan.inverse[c], vtb, vinverse_tb, out_row + c);
            }
        }
        for (long c = groups * 8; c < plan.end; ++c) {
            lane(top_row, bottom_row, plan.left[c], plan.fraction[c], plan.inverse[c], tb, inverse_tb, out_row + c * channels, channels);
        }
        if (channels == 3) {
            rgb_tail(top_row, bottom_row, in_columns, tb_frac, x_scale, plan.end, out_columns, out_row);
        } else {
            grey_tail(top_row, bottom_row, in_columns, tb_frac, x_scale, plan.end, out_columns, out_row);
        }
    }
}

}  // namespace

bool resize_bilinear(const unsigned char *in, long in_rows, long in_columns, long in_step,
                     unsigned char *out, long out_rows, long out_columns, long out_step, int channels) {
    if (!resize_bilinear_fast() || (channels != 1 && channels != 3)) return false;
    if (in_rows > 0 && in_columns > 0 && out_rows > 0 && out_columns > 0) {
        resize_avx2(in, in_rows, in_columns, in_step, out, out_rows, out_columns, out_step, channels);
    }
    return true;
}

#else

bool resize_bilinear_fast() { return false; }

bool resize_bilinear(const unsigned char *, long, long, long, unsigned char *, long, long, long, int) { return false; }

#endif

}  // namespace facecluster
