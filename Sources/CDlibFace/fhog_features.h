// The HOG features of a pyramid level, as dlib 19.24's `extract_fhog_features` computes them (cell size 8, the
// face detector's), bit for bit, in about two thirds of its time. dlib gathers each gradient's pixels one by one
// (32 loads for 8 grey pixels, 96 for colour ones), works out each pixel's histogram cells and weights again on
// every row, and finds each gradient's orientation with two compares and four selects a direction. Here a row's
// pixels are loaded 8 at a time (a colour row split into planes once), the cells and weights of each column worked
// out once per image, and the orientation found with one compare of |dot| a direction (the same choice: dlib
// takes a direction when dot beats the best so far, else its opposite when −dot does). Everything else — the
// arithmetic of each value and the order sums are taken in — is dlib's, so the features are identical (a test
// compares them on grey and colour images of every shape; `dlib_fhog_features_check`). Used by the face detector
// in dlib_face.cpp; these are the features dlib's `scan_fhog_pyramid::load` builds.
//
// The algorithm is Felzenszwalb et al.'s (PAMI 32(9), 2010), by way of dlib's image_transforms/fhog.h (Boost
// Software License), itself derived from the voc-release features.cc (Copyright (C) 2007-2012 Pedro Felzenszwalb,
// Ross Girshick, Deva Ramanan; MIT-style licence: "The above copyright notice and this permission notice shall be
// included in all copies or substantial portions of the Software.").
#ifndef FACECLUSTER_FHOG_FEATURES_H
#define FACECLUSTER_FHOG_FEATURES_H

#include <dlib/image_processing.h>
#include <dlib/image_transforms.h>

#if !defined(__AVX__)
#error "fhog_features.h needs AVX (Package.swift compiles CDlibFace with -mavx on x86-64)"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace facecluster {
using namespace dlib;

/// 8 pixels' intensities from `p` as 32-bit ints.
inline simd8i bytes8(const unsigned char *p) {
    const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i *>(p));
    const __m128i lo = _mm_cvtepu8_epi32(b);
    const __m128i hi = _mm_cvtepu8_epi32(_mm_srli_si128(b, 4));
    return simd8i(_mm256_insertf128_si256(_mm256_castsi128_si256(lo), hi, 1));
}

/// A grey image's gradients, as dlib's get_gradient computes them: a chunk of 8 pixels (its vector loop) and one pixel
/// (its scalar tail).
template <typename image_type>
struct grey_gradients {
    const_image_view<image_type> img;
    const unsigned char *above = nullptr, *row = nullptr, *below = nullptr;
    explicit grey_gradients(const image_type &image) : img(image) {}
    void prepare(long y) { above = &img[y - 1][0]; row = &img[y][0]; below = &img[y + 1][0]; }
    void chunk(long x, simd8f &grad_x, simd8f &grad_y, simd8f &length) const {
        grad_x = bytes8(row + x + 1) - bytes8(row + x - 1);
        grad_y = bytes8(below + x) - bytes8(above + x);
        length = grad_x * grad_x + grad_y * grad_y;
    }
    void pixel(long x, matrix<float, 2, 1> &grad, float &length) const {
        grad(0) = (int)row[x + 1] - (int)row[x - 1];
        grad(1) = (int)below[x] - (int)above[x];
        length = length_squared(grad);
    }
};

/// A colour image's gradients (the channel with the longest one, each tie broken as dlib breaks it: its vector loop
/// and its scalar tail break them differently), from rows split into planes as they are first needed.
template <typename image_type>
struct rgb_gradients {
    const_image_view<image_type> img;
    std::vector<unsigned char> planes;  // 3 rows (y − 1, y, y + 1 by y mod 3) × 3 channels × the width (+ 8 spare bytes)
    long width, stride, split = -1;  // the last row split
    explicit rgb_gradients(const image_type &image) : img(image), width(img.nc()), stride(img.nc() + 8) {
        planes.assign(static_cast<size_t>(9 * stride), 0);
    }
    /// 16 interleaved RGB pixels (48 bytes) into their red, green and blue bytes: three shuffles a plane. Byte by
    /// byte, the split was a seventh of the features' time (perf, lfw10).
    static void split16(const unsigned char *rgb, unsigned char *red, unsigned char *green, unsigned char *blue) {
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i *>(rgb));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i *>(rgb + 16));
        const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i *>(rgb + 32));
        // Pixel i's channel k is byte 3i + k of the 48: in a for the first pixels, b for the middle ones, c for the last.
        const __m128i r = _mm_or_si128(_mm_or_si128(
            _mm_shuffle_epi8(a, _mm_setr_epi8(0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)),
            _mm_shuffle_epi8(b, _mm_setr_epi8(-1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14, -1, -1, -1, -1, -1))),
            _mm_shuffle_epi8(c, _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1, 4, 7, 10, 13)));
        const __m128i g = _mm_or_si128(_mm_or_si128(
            _mm_shuffle_epi8(a, _mm_setr_epi8(1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)),
            _mm_shuffle_epi8(b, _mm_setr_epi8(-1, -1, -1, -1, -1, 0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1))),
            _mm_shuffle_epi8(c, _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14)));
        const __m128i bl = _mm_or_si128(_mm_or_si128(
            _mm_shuffle_epi8(a, _mm_setr_epi8(2, 5, 8, 11, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)),
            _mm_shuffle_epi8(b, _mm_setr_epi8(-1, -1, -1, -1, -1, 1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1))),
            _mm_shuffle_epi8(c, _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 3, 6, 9, 12, 15)));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(red), r);
        _mm_storeu_si128(reinterpret_cast<__m128i *>(green), g);
        _mm_storeu_si128(reinterpret_cast<__m128i *>(blue), bl);
    }
    unsigned char *plane(long y, int channel) { return planes.data() + ((y % 3) * 3 + channel) * stride; }
    const unsigned char *plane(long y, int channel) const { return planes.data() + ((y % 3) * 3 + channel) * stride; }
    void prepare(long y) {
        for (long r = std::max(y - 1, split + 1); r <= y + 1; ++r) {
            const rgb_pixel *source = &img[r][0];
            unsigned char *red = plane(r, 0), *green = plane(r, 1), *blue = plane(r, 2);
            long c = 0;
            for (; c + 16 <= width; c += 16) split16(reinterpret_cast<const unsigned char *>(source + c), red + c, green + c, blue + c);
            for (; c < width; ++c) {
                red[c] = source[c].red;
                green[c] = source[c].green;
                blue[c] = source[c].blue;
            }
        }
        split = y + 1;
        y_ = y;
    }
    void chunk(long x, simd8f &grad_x, simd8f &grad_y, simd8f &length) const {
        simd8i gx[3], gy[3], len[3];
        for (int k = 0; k < 3; ++k) {
            const unsigned char *row = plane(y_, k);
            gx[k] = bytes8(row + x + 1) - bytes8(row + x - 1);
            gy[k] = bytes8(plane(y_ + 1, k) + x) - bytes8(plane(y_ - 1, k) + x);
            len[k] = gx[k] * gx[k] + gy[k] * gy[k];
        }
        simd8i cmp = len[0] > len[1];
        simd8i tgrad_x = select(cmp, gx[0], gx[1]);
        simd8i tgrad_y = select(cmp, gy[0], gy[1]);
        simd8i tlen = select(cmp, len[0], len[1]);
        cmp = tlen > len[2];
        grad_x = select(cmp, tgrad_x, gx[2]);
        grad_y = select(cmp, tgrad_y, gy[2]);
        length = select(cmp, tlen, len[2]);
    }
    void pixel(long x, matrix<float, 2, 1> &grad, float &length) const {
        for (int k = 0; k < 3; ++k) {
            const unsigned char *row = plane(y_, k);
            matrix<float, 2, 1> g;
            g(0) = (int)row[x + 1] - (int)row[x - 1];
            g(1) = (int)plane(y_ + 1, k)[x] - (int)plane(y_ - 1, k)[x];
            const float l = length_squared(g);
            if (k == 0 || l > length) {
                length = l;
                grad = g;
            }
        }
    }
    long y_ = 0;
};

template <typename image_type, typename gradients_type>
void extract_fhog(const image_type &img_, gradients_type gradients, dlib::array<array2d<float>> &hog, int cell_size, int filter_rows_padding, int filter_cols_padding) {
#pragma clang fp contract(off)  // dlib's products and sums, each rounded as dlib's are (no fused multiply-adds)
    const_image_view<image_type> img(img_);
    matrix<float, 2, 1> directions[9];
    directions[0] = 1.0000, 0.0000;
    directions[1] = 0.9397, 0.3420;
    directions[2] = 0.7660, 0.6428;
    directions[3] = 0.500, 0.8660;
    directions[4] = 0.1736, 0.9848;
    directions[5] = -0.1736, 0.9848;
    directions[6] = -0.5000, 0.8660;
    directions[7] = -0.7660, 0.6428;
    directions[8] = -0.9397, 0.3420;

    const int cells_nr = (int)((float)img.nr() / (float)cell_size + 0.5);
    const int cells_nc = (int)((float)img.nc() / (float)cell_size + 0.5);
    if (cells_nr == 0 || cells_nc == 0) { hog.clear(); hog.resize(31); return; }
    const long hist_nc = cells_nc + 2;
    std::vector<float> hist(static_cast<size_t>(cells_nr + 2) * hist_nc * 18, 0.0f);
    auto bins = [&](long r, long c) { return hist.data() + (r * hist_nc + c) * 18; };
    array2d<float> norm(cells_nr, cells_nc);
    assign_all_pixels(norm, 0);
    const int hog_nr = std::max(cells_nr - 2, 0);
    const int hog_nc = std::max(cells_nc - 2, 0);
    if (hog_nr == 0 || hog_nc == 0) { hog.clear(); hog.resize(31); return; }
    const int padding_rows_offset = (filter_rows_padding - 1) / 2;
    const int padding_cols_offset = (filter_cols_padding - 1) / 2;
    impl_fhog::init_hog(hog, hog_nr, hog_nc, filter_rows_padding, filter_cols_padding);

    const int visible_nr = std::min((long)cells_nr * cell_size, img.nr()) - 1;
    const int visible_nc = std::min((long)cells_nc * cell_size, img.nc()) - 1;

    // Each column's histogram cell and weights, as dlib's vector loop (x < visible_nc − 7, in 8s from 1) and its
    // scalar tail compute them (differently: the tail in double, from the cell to the left).
    std::vector<int> column_bin(std::max(visible_nc, 1));
    std::vector<float> column_x0(std::max(visible_nc, 1)), column_x1(std::max(visible_nc, 1));
    int x = 1;
    for (; x < visible_nc - 7; x += 8) {
        simd8f xx(x, x + 1, x + 2, x + 3, x + 4, x + 5, x + 6, x + 7);
        simd8f xp = (xx + 0.5) / (float)cell_size + 0.5;
        simd8i ixp = simd8i(xp);
        simd8f vx0 = xp - ixp;
        simd8f vx1 = 1.0f - vx0;
        int32 a[8]; float b[8], c[8];
        ixp.store(a); vx0.store(b); vx1.store(c);
        for (int k = 0; k < 8; ++k) { column_bin[x + k] = a[k]; column_x0[x + k] = b[k]; column_x1[x + k] = c[k]; }
    }
    const int tail = x;
    for (; x < visible_nc; ++x) {
        const float xp = ((double)x + 0.5) / (double)cell_size - 0.5;
        const int ixp = (int)std::floor(xp);
        column_bin[x] = ixp + 1;
        column_x0[x] = xp - ixp;
        column_x1[x] = 1.0 - column_x0[x];
    }

    simd8f d0[9], d1[9];
    for (int o = 0; o < 9; ++o) { d0[o] = directions[o](0); d1[o] = directions[o](1); }
    const __m256 sign = _mm256_set1_ps(-0.0f);

    for (int y = 1; y < visible_nr; y++) {
        const float yp = ((float)y + 0.5) / (float)cell_size - 0.5;
        const int iyp = (int)std::floor(yp);
        const float vy0 = yp - iyp;
        const float vy1 = 1.0 - vy0;
        gradients.prepare(y);
        float *h1 = bins(iyp + 1, 0), *h2 = bins(iyp + 2, 0);
        int x = 1;
        for (; x < tail; x += 8) {
            simd8f grad_x, grad_y, v;
            gradients.chunk(x, grad_x, grad_y, v);
            v = sqrt(v);
            // dlib's orientation loop, in an equivalent form: a direction is taken when |dot| beats the best
            // (dot > best, or −dot > best, as dlib tests them in turn), its opposite (o + 9) when dot < 0.
            __m256 best_dot = _mm256_setzero_ps();
            __m256 best_o = _mm256_setzero_ps();
            for (int o = 0; o < 9; o++) {
                const __m256 dot = grad_x * d0[o] + grad_y * d1[o];
                const __m256 length = _mm256_andnot_ps(sign, dot);
                const __m256 better = _mm256_cmp_ps(length, best_dot, _CMP_GT_OQ);
                best_dot = _mm256_max_ps(length, best_dot);
                const __m256 bin = _mm256_blendv_ps(_mm256_set1_ps((float)o), _mm256_set1_ps((float)(o + 9)), dot);
                best_o = _mm256_blendv_ps(best_o, bin, better);
            }
            float vv[8];
            v.store(vv);
            int32 oo[8];
            simd8i(simd8f(best_o)).store(oo);
            for (int k = 0; k < 8; ++k) {
                const int c = column_bin[x + k];
                const float vx1 = column_x1[x + k] * vv[k], vx0 = column_x0[x + k] * vv[k];
                const int o = oo[k];
                h1[c * 18 + o] += vy1 * vx1;
                h2[c * 18 + o] += vy0 * vx1;
                h1[(c + 1) * 18 + o] += vy1 * vx0;
                h2[(c + 1) * 18 + o] += vy0 * vx0;
            }
        }
        for (; x < visible_nc; x++) {
            matrix<float, 2, 1> grad;
            float v;
            gradients.pixel(x, grad, v);
            float best_dot = 0;
            int best_o = 0;
            for (int o = 0; o < 9; o++) {
                const float dot = dlib::dot(directions[o], grad);
                if (dot > best_dot) { best_dot = dot; best_o = o; }
                else if (-dot > best_dot) { best_dot = -dot; best_o = o + 9; }
            }
            v = std::sqrt(v);
            const int c = column_bin[x];
            const float vx0 = column_x0[x], vx1 = column_x1[x];
            h1[c * 18 + best_o] += vy1 * vx1 * v;
            h2[c * 18 + best_o] += vy0 * vx1 * v;
            h1[(c + 1) * 18 + best_o] += vy1 * vx0 * v;
            h2[(c + 1) * 18 + best_o] += vy0 * vx0 * v;
        }
    }

    for (int r = 0; r < cells_nr; ++r) {
        for (int c = 0; c < cells_nc; ++c) {
            const float *h = bins(r + 1, c + 1);
            for (int o = 0; o < 9; o++) norm[r][c] += (h[o] + h[o + 9]) * (h[o] + h[o + 9]);
        }
    }

    const float eps = 0.0001;
    for (int y = 0; y < hog_nr; y++) {
        const int yy = y + padding_rows_offset;
        for (int x = 0; x < hog_nc; x++) {
            const simd4f z1(norm[y + 1][x + 1], norm[y][x + 1], norm[y + 1][x], norm[y][x]);
            const simd4f z2(norm[y + 1][x + 2], norm[y][x + 2], norm[y + 1][x + 1], norm[y][x + 1]);
            const simd4f z3(norm[y + 2][x + 1], norm[y + 1][x + 1], norm[y + 2][x], norm[y + 1][x]);
            const simd4f z4(norm[y + 2][x + 2], norm[y + 1][x + 2], norm[y + 2][x + 1], norm[y + 1][x + 1]);
            const simd4f nn = 0.2 * sqrt(z1 + z2 + z3 + z4 + eps);
            const simd4f n = 0.1 / nn;
            simd4f t = 0;
            const int xx = x + padding_cols_offset;
            const float *h = bins(y + 2, x + 2);
            for (int o = 0; o < 18; o += 3) {
                simd4f temp0(h[o]);
                simd4f temp1(h[o + 1]);
                simd4f temp2(h[o + 2]);
                simd4f h0 = min(temp0, nn) * n;
                simd4f h1 = min(temp1, nn) * n;
                simd4f h2 = min(temp2, nn) * n;
                hog[o][yy][xx] = sum(h0);
                hog[o + 1][yy][xx] = sum(h1);
                hog[o + 2][yy][xx] = sum(h2);
                t += h0 + h1 + h2;
            }
            t *= 2 * 0.2357;
            for (int o = 0; o < 9; o += 3) {
                simd4f temp0 = h[o] + h[o + 9];
                simd4f temp1 = h[o + 1] + h[o + 9 + 1];
                simd4f temp2 = h[o + 2] + h[o + 9 + 2];
                simd4f h0 = min(temp0, nn) * n;
                simd4f h1 = min(temp1, nn) * n;
                simd4f h2 = min(temp2, nn) * n;
                hog[o + 18][yy][xx] = sum(h0);
                hog[o + 18 + 1][yy][xx] = sum(h1);
                hog[o + 18 + 2][yy][xx] = sum(h2);
            }
            float temp[4];
            t.store(temp);
            hog[27][yy][xx] = temp[0];
            hog[28][yy][xx] = temp[1];
            hog[29][yy][xx] = temp[2];
            hog[30][yy][xx] = temp[3];
        }
    }
}

/// dlib's `extract_fhog_features(image, hog, cell_size, rows_padding, cols_padding)` for grey (unsigned char) and
/// colour (rgb_pixel) images, cell_size > 1: 31 planes of (cells − 2 + padding − 1) rows and columns.
template <typename image_type>
void extract_fhog_features_fast(const image_type &image, dlib::array<array2d<float>> &hog, int cell_size, int rows_padding, int cols_padding) {
    if (cell_size == 1) {
        extract_fhog_features(image, hog, cell_size, rows_padding, cols_padding);  // dlib has another loop for it
    } else if constexpr (pixel_traits<typename image_traits<image_type>::pixel_type>::rgb) {
        extract_fhog(image, rgb_gradients<image_type>(image), hog, cell_size, rows_padding, cols_padding);
    } else {
        extract_fhog(image, grey_gradients<image_type>(image), hog, cell_size, rows_padding, cols_padding);
    }
}
}  // namespace facecluster

#endif
