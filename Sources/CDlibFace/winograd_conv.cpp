#include "winograd_conv.h"

#include <algorithm>

extern "C" void cblas_sgemm(int order, int transa, int transb, int m, int n, int k, float alpha, const float *a,
                            int lda, const float *b, int ldb, float beta, float *c, int ldc);

namespace facecluster {

namespace {
enum { row_major = 101, no_trans = 111 };

/// A row of `width` outputs from its even and odd columns.
inline void interleave(float *__restrict row, const float *__restrict even, const float *__restrict odd, long width) {
    for (long x = 0; x < width / 2; ++x) {
        row[2 * x] = even[x];
        row[2 * x + 1] = odd[x];
    }
    if (width & 1) row[width - 1] = even[width / 2];
}
}  // namespace

std::vector<float> winograd_filters(const float *weights, long filters, long channels) {
    std::vector<float> u(16 * filters * channels);
    for (long k = 0; k < filters; ++k) {
        for (long c = 0; c < channels; ++c) {
            const float *g = weights + (k * channels + c) * 9;
            float t[4][3];
            for (int j = 0; j < 3; ++j) {
                t[0][j] = g[j];
                t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
                t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
                t[3][j] = g[6 + j];
            }
            for (int i = 0; i < 4; ++i) {
                const float v[4] = {t[i][0], 0.5f * (t[i][0] + t[i][1] + t[i][2]), 0.5f * (t[i][0] - t[i][1] + t[i][2]), t[i][2]};
                for (int j = 0; j < 4; ++j) u[((i * 4 + j) * filters + k) * channels + c] = v[j];
            }
        }
    }
    return u;
}

void winograd_conv3x3(const float *data, long channels, long height, long width, const float *transformed,
                      long filters, const float *bias, float *output, winograd_scratch &scratch) {
    const long tile_rows = (height + 1) / 2, tile_columns = (width + 1) / 2, tiles = tile_rows * tile_columns;
    const long plane = channels * tiles;  // floats between two of the 16 input matrices
    scratch.tiles.resize(16 * plane);
    scratch.products.resize(16 * filters * tiles);
    // A channel padded by one zero (and to whole tiles) and split into its even and odd padded columns (padded
    // column 2j is input column 2j − 1): a tile's 4 columns are then even[tx], odd[tx], even[tx + 1], odd[tx + 1].
    // Each of those rows, and of the sums below, starts `span` floats after the one before, a whole number of
    // vectors of 8, so the 4-lane loads and stores along them stay aligned: with rows `half` floats apart (19 on
    // 35 × 35) they straddled, and the face network's 18 Winograd layers took 3.58–3.91 ms a face instead of
    // 3.21–3.83 (medians 3.72 and 3.39; one program timing both on the network's shapes, eight alternating
    // rounds, the best of 30 each). The outputs are the same, bit for bit.
    const long half = tile_columns + 1, padded_rows = 2 * tile_rows + 2, span = (half + 7) / 8 * 8;
    scratch.row.resize(2 * padded_rows * span + 8 * span);
    float *const even = scratch.row.data(), *const odd = even + padded_rows * span, *const sums = odd + padded_rows * span;
    std::fill(even, even + 2 * padded_rows * span, 0.0f);
    float *const v = scratch.tiles.data();
    for (long c = 0; c < channels; ++c) {
        const float *input = data + c * height * width;
        for (long y = 0; y < height; ++y) {
            const float *__restrict row = input + y * width;
            float *__restrict e = even + (y + 1) * span;
            float *__restrict o = odd + (y + 1) * span;
            for (long j = 1; j <= width / 2; ++j) e[j] = row[2 * j - 1];
            for (long j = 0; j < (width + 1) / 2; ++j) o[j] = row[2 * j];
        }
        for (long ty = 0; ty < tile_rows; ++ty) {
            // Bᵀ x B, Bᵀ = [[1,0,−1,0],[0,1,1,0],[0,−1,1,0],[0,1,0,−1]]: down the tile's 4 rows, then across.
            const float *__restrict e0 = even + 2 * ty * span, *__restrict e1 = e0 + span, *__restrict e2 = e1 + span, *__restrict e3 = e2 + span;
            const float *__restrict o0 = odd + 2 * ty * span, *__restrict o1 = o0 + span, *__restrict o2 = o1 + span, *__restrict o3 = o2 + span;
            float *__restrict te0 = sums, *__restrict te1 = te0 + span, *__restrict te2 = te1 + span, *__restrict te3 = te2 + span;
            float *__restrict to0 = te3 + span, *__restrict to1 = to0 + span, *__restrict to2 = to1 + span, *__restrict to3 = to2 + span;
#pragma clang loop vectorize_width(4) interleave_count(1)
            for (long j = 0; j < half; ++j) {
                te0[j] = e0[j] - e2[j], to0[j] = o0[j] - o2[j];
                te1[j] = e1[j] + e2[j], to1[j] = o1[j] + o2[j];
                te2[j] = e2[j] - e1[j], to2[j] = o2[j] - o1[j];
                te3[j] = e1[j] - e3[j], to3[j] = o1[j] - o3[j];
            }
            float *out = v + c * tiles + ty * tile_columns;
            for (int i = 0; i < 4; ++i) {
                const float *__restrict pe = sums + i * span, *__restrict po = sums + (4 + i) * span;
                float *__restrict m0 = out + (i * 4 + 0) * plane, *__restrict m1 = out + (i * 4 + 1) * plane;
                float *__restrict m2 = out + (i * 4 + 2) * plane, *__restrict m3 = out + (i * 4 + 3) * plane;
                // 4 lanes: a row holds 2–18 tiles in the face network.
#pragma clang loop vectorize_width(4) interleave_count(1)
                for (long tx = 0; tx < tile_columns; ++tx) {
                    m0[tx] = pe[tx] - pe[tx + 1];
                    m1[tx] = po[tx] + pe[tx + 1];
                    m2[tx] = pe[tx + 1] - po[tx];
                    m3[tx] = po[tx] - po[tx + 1];
                }
            }
        }
    }
    // The 16 products, each summed over the channels: M_s (filters × tiles) = U_s (filters × channels) V_s.
    float *const m = scratch.products.data();
    for (int s = 0; s < 16; ++s) {
        cblas_sgemm(row_major, no_trans, no_trans, int(filters), int(tiles), int(channels), 1.0f,
                    transformed + s * filters * channels, int(channels), v + s * plane, int(tiles), 0.0f,
                    m + s * filters * tiles, int(tiles));
    }
    // Aᵀ m A, Aᵀ = [[1,1,1,0],[0,1,−1,−1]], one 2×2 block of output a tile.
    const long mplane = filters * tiles;
    float *y0 = sums, *y1 = y0 + span, *y2 = y1 + span, *y3 = y2 + span;
    for (long k = 0; k < filters; ++k) {
        const float b = bias ? bias[k] : 0.0f;
        float *result = output + k * height * width;
        for (long ty = 0; ty < tile_rows; ++ty) {
            const float *__restrict p = m + k * tiles + ty * tile_columns;
#pragma clang loop vectorize_width(4) interleave_count(1)
            for (long tx = 0; tx < tile_columns; ++tx) {
                const float m00 = p[tx], m01 = p[mplane + tx], m02 = p[2 * mplane + tx], m03 = p[3 * mplane + tx];
                const float m10 = p[4 * mplane + tx], m11 = p[5 * mplane + tx], m12 = p[6 * mplane + tx], m13 = p[7 * mplane + tx];
                const float m20 = p[8 * mplane + tx], m21 = p[9 * mplane + tx], m22 = p[10 * mplane + tx], m23 = p[11 * mplane + tx];
                const float m30 = p[12 * mplane + tx], m31 = p[13 * mplane + tx], m32 = p[14 * mplane + tx], m33 = p[15 * mplane + tx];
                const float a0 = m00 + m10 + m20, a1 = m01 + m11 + m21, a2 = m02 + m12 + m22, a3 = m03 + m13 + m23;
                const float b0 = m10 - m20 - m30, b1 = m11 - m21 - m31, b2 = m12 - m22 - m32, b3 = m13 - m23 - m33;
                y0[tx] = a0 + a1 + a2 + b;
                y1[tx] = a1 - a2 - a3 + b;
                y2[tx] = b0 + b1 + b2 + b;
                y3[tx] = b1 - b2 - b3 + b;
            }
            interleave(result + 2 * ty * width, y0, y1, width);
            if (2 * ty + 1 < height) interleave(result + (2 * ty + 1) * width, y2, y3, width);
        }
    }
}

}  // namespace facecluster
