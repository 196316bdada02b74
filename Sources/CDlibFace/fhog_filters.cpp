// The HOG face detector's filters with AVX2 and FMA. dlib 19.24 applies each separable term of a detector's
// filters (54–66 a detector, 305 for the five) as a row pass and a column pass over a feature plane, broadcasting
// each weight from memory and multiplying and adding apart (its SIMD is compiled for AVX at most, which has no
// FMA): twice the loads and instructions the arithmetic needs. It was the largest single cost of an ingest
// (18 % of `facecluster ingest`'s CPU on lfw10, perf). Here each term's ten weights stay in registers and each
// tap is one fused multiply-add. Runs only where the CPU has AVX2 and FMA (checked at run time; every x86-64 CPU
// since 2013–2015); elsewhere the detector keeps dlib's loop.
#include "fhog_filters.h"

#include "cpu_features.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace facecluster {

#if defined(__x86_64__)

bool fhog_filters_fast() { return cpu_has_avx2_fma(); }

namespace {

constexpr long taps = fhog_filters::taps;
constexpr long before = taps / 2;         // dlib's first valid row and column: 5
constexpr long after = (taps - 1) / 2;    // and how far from the end its last one stops: 4

/// A term's ten weights, each in all 8 lanes of a register (the compiler keeps them in registers across a pass).
struct weights {
    __m256 tap[taps];
};

__attribute__((target("avx2,fma"), always_inline))
inline weights broadcast(const float *w) {
    weights result;
    for (long n = 0; n < taps; ++n) result.tap[n] = _mm256_set1_ps(w[n]);
    return result;
}

/// Σₙ p[n · step .. n · step + 7] · w[n] for 8 neighbouring outputs: step 1 along a row, a row's stride down a column.
__attribute__((target("avx2,fma"), always_inline))
inline __m256 filtered(const float *p, long step, const weights &w) {
    __m256 sum = _mm256_mul_ps(_mm256_loadu_ps(p), w.tap[0]);
    for (long n = 1; n < taps; ++n) sum = _mm256_fmadd_ps(_mm256_loadu_ps(p + n * step), w.tap[n], sum);
    return sum;
}

/// A term's row filter along every row: `out[r][c] = Σₙ in[r][c − 5 + n] · w[n]` for the columns c in [5, columns − 4).
/// The last 8 columns are computed from the end, overlapping the chunk before (they write the same values again).
__attribute__((target("avx2,fma")))
void row_pass(const float *in, long in_stride, float *out, long out_stride, long rows, long columns, const float *w) {
    const weights weight = broadcast(w);
    const long end = columns - after;
    for (long r = 0; r < rows; ++r) {
        const float *source = in + r * in_stride;
        float *target = out + r * out_stride;
        for (long c = before;; c += 8) {
            if (c + 8 > end) c = end - 8;
            _mm256_storeu_ps(target + c, filtered(source + c - before, 1, weight));
            if (c + 8 >= end) break;
        }
    }
}

/// `R` rows of a term's column filter, 8 columns wide, added into the scores from `target` down. Each input row
/// (from `source`, 5 rows above the first output) is loaded once for the `R` sums it feeds, kept in registers;
/// one row at a time loaded each input row 10 times. With 4 rows, the column passes of a photo's 305 terms on
/// planes of its pyramid's sizes took 1.38–1.55 ms instead of 1.77–1.87 (one program timing both, two runs of 30
/// rounds). Each sum is still taken as `filtered` takes it (the first tap multiplied, each later one fused in
/// turn), so the scores are the same, bit for bit. On the last chunk of a row only the `fresh` lanes are added.
template <int R>
__attribute__((target("avx2,fma"), always_inline))
inline void column_rows(const float *source, long in_stride, float *target, long out_stride, const weights &w, bool last, __m256 fresh) {
    __m256 sums[R];
#pragma clang loop unroll(full)
    for (int n = 0; n < taps + R - 1; ++n) {
        const __m256 row = _mm256_loadu_ps(source + n * in_stride);
#pragma clang loop unroll(full)
        for (int j = 0; j < R; ++j) {
            const int tap = n - j;  // row n is tap n − j of output row j
            if (tap == 0) {
                sums[j] = _mm256_mul_ps(row, w.tap[0]);
            } else if (tap > 0 && tap < taps) {
                sums[j] = _mm256_fmadd_ps(row, w.tap[tap], sums[j]);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int j = 0; j < R; ++j) {
        float *scores = target + j * out_stride;
        const __m256 old = _mm256_loadu_ps(scores);
        __m256 added = _mm256_add_ps(old, sums[j]);
        if (last) added = _mm256_blendv_ps(old, added, fresh);
        _mm256_storeu_ps(scores, added);
    }
}

/// A term's column filter added into the scores: `out[r][c] += Σₘ in[r − 5 + m][c] · w[m]` for the rows r in
/// [5, rows − 4) and the columns c in [5, columns − 4), 4 rows at a time, then one. The last chunk of a row
/// overlaps the one before: its lanes that chunk already added keep their value (a blend), so nothing is added twice.
__attribute__((target("avx2,fma")))
void column_pass(const float *in, long in_stride, float *out, long out_stride, long rows, long columns, const float *w) {
    const weights weight = broadcast(w);
    const long end = columns - after;
    // Lane i of the last chunk (which starts at end − 8) is new when end − 8 + i is at or past where the whole chunks stop.
    const long done = before + ((end - before) / 8) * 8;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 fresh = _mm256_castsi256_ps(_mm256_cmpgt_epi32(lane, _mm256_set1_epi32(static_cast<int>(done - (end - 8)) - 1)));
    constexpr long block = 4;
    for (long r = before; r < rows - after;) {
        const bool whole = r + block <= rows - after;
        for (long c = before; c < end; c += 8) {
            const bool last = c + 8 > end;
            const long at = last ? end - 8 : c;
            const float *source = in + (r - before) * in_stride + at;
            float *target = out + r * out_stride + at;
            if (whole) {
                column_rows<block>(source, in_stride, target, out_stride, weight, last, fresh);
            } else {
                column_rows<1>(source, in_stride, target, out_stride, weight, last, fresh);
            }
        }
        r += whole ? block : 1;
    }
}

}  // namespace

bool apply_fhog_filters(const fhog_filters &filters, const fhog_planes &planes, dlib::array2d<float> &saliency,
                        dlib::array2d<float> &scratch, dlib::rectangle &area) {
    if (!fhog_filters_fast() || !filters.fits || planes.size() == 0) return false;
    const long rows = planes[0].nr(), columns = planes[0].nc();
    // The row pass's chunks need 8 valid columns; smaller levels (under 136 px wide) keep dlib's loop.
    if (columns - after - before < 8) return false;
    for (const auto &term : filters.terms) {
        if (term.plane >= planes.size() || planes[term.plane].nr() != rows || planes[term.plane].nc() != columns) return false;
    }
    saliency.set_size(rows, columns);
    dlib::assign_all_pixels(saliency, 0);
    area = dlib::rectangle(before, before, columns - after - 1, rows - after - 1);  // empty under 10 rows
    if (rows < taps) return true;
    scratch.set_size(rows, columns);
    float *out = &saliency[0][0];
    const long out_stride = saliency.width_step() / sizeof(float);
    float *between = &scratch[0][0];
    const long between_stride = scratch.width_step() / sizeof(float);
    for (const auto &term : filters.terms) {
        const dlib::array2d<float> &plane = planes[term.plane];
        row_pass(&plane[0][0], plane.width_step() / sizeof(float), between, between_stride, rows, columns, term.row);
        column_pass(between, between_stride, out, out_stride, rows, columns, term.column);
    }
    return true;
}

#else

bool fhog_filters_fast() { return false; }

bool apply_fhog_filters(const fhog_filters &, const fhog_planes &, dlib::array2d<float> &, dlib::array2d<float> &,
                        dlib::rectangle &) {
    return false;
}

#endif

}  // namespace facecluster
