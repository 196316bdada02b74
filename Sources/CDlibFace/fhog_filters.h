// The HOG face detector's filters, applied with AVX2 and FMA (fhog_filters.cpp). Private to CDlibFace.
#ifndef FACECLUSTER_FHOG_FILTERS_H
#define FACECLUSTER_FHOG_FILTERS_H

#include <dlib/image_processing.h>

#include <vector>

namespace facecluster {

/// The 31 planes of HOG features of one pyramid level (dlib's `default_fhog_feature_extractor`), each rows × columns.
using fhog_planes = dlib::array<dlib::array2d<float>>;

/// One detector's filters (one head pose of `get_frontal_face_detector()`: a 10 × 10 filter per feature plane)
/// as the separable terms dlib derives from them (`scan_fhog_pyramid::build_fhog_filterbank`: each plane's SVD,
/// singular values under 0.1 % of the largest dropped; 54–66 terms a detector over its 31 planes).
struct fhog_filters {
    static constexpr long taps = 10;
    struct term {
        unsigned long plane;
        float row[taps];     // along a row (columns)
        float column[taps];  // down a column (rows)
    };
    std::vector<term> terms;  // dlib's order: planes ascending, then each plane's terms by singular value
    bool fits = true;         // every filter is 10 × 10 and dlib applies them separably (else only dlib's loop runs)

    template <typename filterbank>
    explicit fhog_filters(const filterbank &bank) {
        for (unsigned long plane = 0; plane < bank.row_filters.size(); ++plane) {
            for (unsigned long index = 0; index < bank.row_filters[plane].size(); ++index) {
                const auto &row = bank.row_filters[plane][index];
                const auto &column = bank.col_filters[plane][index];
                if (row.size() != taps || column.size() != taps) {
                    fits = false;
                    continue;
                }
                term t{plane, {}, {}};
                for (long tap = 0; tap < taps; ++tap) {
                    t.row[tap] = row(tap);
                    t.column[tap] = column(tap);
                }
                terms.push_back(t);
            }
        }
        // dlib runs the whole 10 × 10 filters instead when the terms would cost more (apply_filters_to_fhog: more
        // than a third of a term per plane and tap); its frontal detectors have 54–66, far under its 103.
        if (static_cast<double>(terms.size()) > bank.filters.size() * taps / 3.0) fits = false;
    }
};

/// Whether this CPU runs `apply_fhog_filters` (AVX2 and FMA, with the OS saving their registers).
bool fhog_filters_fast();

/// The detector's score at every window of `planes`, into `saliency` (resized to the planes' rows × columns), as
/// dlib's `impl::apply_filters_to_fhog` computes it with the same separable terms: each term's row filter, then its
/// column filter, summed. Returns the area of valid scores (dlib's: 5 cells in from the top and left, 4 from the
/// bottom and right, empty when the planes are smaller than a filter). Scores agree with dlib's to float
/// rounding (the sums are taken in another order, with fused multiply-adds). Needs `fhog_filters_fast()`,
/// `filters.fits` and planes at least 17 columns wide; returns `false` without touching `saliency` otherwise.
/// `scratch` holds each term's row pass (resized to the planes' size; pass the same one each time to keep its memory).
bool apply_fhog_filters(const fhog_filters &filters, const fhog_planes &planes, dlib::array2d<float> &saliency,
                        dlib::array2d<float> &scratch, dlib::rectangle &area);

}  // namespace facecluster

#endif
