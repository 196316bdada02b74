// dlib 19.24's bilinear `resize_image` for RGB and grey images (image_transforms/interpolation.h), value for value,
// in less time: the HOG detector's image pyramid (each level `pyramid_down<6>` of the last) and its 2× upsampling
// (`pyramid_up`) are such resizes, 7 % of an lfw10 ingest's CPU and about 13 % of a 100 MP photo's (perf). dlib
// works out every output pixel's source columns and weights again on every row, and builds each 4-lane vector of
// pixel values from 4 (grey) or 12 (colour) single-byte loads. The columns do not change from row to row, so here
// they are worked out once per image (by dlib's own float arithmetic, lane by lane), each input row's source pixels
// are laid out in column order once (not once for every output row that reads it), and 8 columns are computed at
// a time with AVX2. Every product and sum is dlib's, in dlib's order and precision, and dlib's scalar
// loop still does the last columns of each row, so the images are identical (a test compares them on every kind of
// shape: `dlib_resize_check`). Runs where the CPU has AVX2 (checked at run time); elsewhere dlib's resize runs.
#ifndef FACECLUSTER_RESIZE_BILINEAR_H
#define FACECLUSTER_RESIZE_BILINEAR_H

#include <dlib/image_transforms.h>

#include <type_traits>

namespace facecluster {

/// Whether this CPU has AVX2 (and its OS saves the registers), so the kernels below run.
bool resize_bilinear_fast();

/// dlib's bilinear resize of 8-bit RGB (3 bytes a pixel) or grey (`channels` 3 or 1) pixels, rows `in_step` and
/// `out_step` bytes apart, into `out` at its given size. Returns false, writing nothing, where the CPU lacks AVX2.
bool resize_bilinear(const unsigned char *in, long in_rows, long in_columns, long in_step,
                     unsigned char *out, long out_rows, long out_columns, long out_step, int channels);

/// `dlib::resize_image(in, out, interpolate_bilinear())` with the same result, through the kernels above when both
/// images hold `rgb_pixel`s or both `unsigned char`s and the CPU has AVX2.
template <typename in_image_type, typename out_image_type>
void resize_image_bilinear(const in_image_type &in, out_image_type &out) {
    using in_pixel = typename dlib::image_traits<in_image_type>::pixel_type;
    using out_pixel = typename dlib::image_traits<out_image_type>::pixel_type;
    constexpr int channels = std::is_same<in_pixel, dlib::rgb_pixel>::value && std::is_same<out_pixel, dlib::rgb_pixel>::value ? 3
                           : std::is_same<in_pixel, unsigned char>::value && std::is_same<out_pixel, unsigned char>::value ? 1 : 0;
    if (channels > 0 && dlib::num_rows(in) > 0 && dlib::num_columns(in) > 0 && dlib::num_rows(out) > 0 && dlib::num_columns(out) > 0
        && resize_bilinear(static_cast<const unsigned char *>(dlib::image_data(in)), dlib::num_rows(in), dlib::num_columns(in), dlib::width_step(in),
                           static_cast<unsigned char *>(dlib::image_data(out)), dlib::num_rows(out), dlib::num_columns(out), dlib::width_step(out),
                           channels)) {
        return;
    }
    dlib::resize_image(in, out, dlib::interpolate_bilinear());
}

/// `pyramid_down<6>()(original, down)`: `down` sized as dlib sizes it, then resized as above.
template <typename in_image_type, typename out_image_type>
void pyramid_down_6(const in_image_type &original, out_image_type &down) {
    dlib::set_image_size(down, ((6 - 1) * dlib::num_rows(original)) / 6 + 0.5, ((6 - 1) * dlib::num_columns(original)) / 6 + 0.5);
    resize_image_bilinear(original, down);
}

/// `pyramid_up(image)`: twice the size (as `pyramid_down<2>::rect_up` gives it), resized as above.
template <typename image_type>
void pyramid_up_2(image_type &image) {
    image_type larger;
    const dlib::rectangle up = dlib::pyramid_down<2>().rect_up(dlib::get_rect(image));
    if (dlib::image_size(image) == 0 || up.is_empty()) {
        dlib::set_image_size(image, 0, 0);
        return;
    }
    dlib::set_image_size(larger, up.bottom() + 1, up.right() + 1);
    resize_image_bilinear(image, larger);
    dlib::swap(larger, image);
}

}  // namespace facecluster

#endif
