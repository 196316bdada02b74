// The checks of the network's own convolutions (Winograd's in dlib_face.cpp, few_pixel_conv.cpp,
// few_channel_conv.cpp): random layers and inputs, held to the direct sum. Private to CDlibFace.
#ifndef FACECLUSTER_CONV_CHECK_H
#define FACECLUSTER_CONV_CHECK_H

#include "cpu_features.h"
#include "network_layers.h"

#include <cmath>
#include <random>
#include <vector>

namespace facecluster {

/// The largest gap between `output` and dlib's convolution of `data` by `weights` (`stride`, zeros outside the
/// input, no flip, the bias added) summed directly in double precision; a NaN counts as larger than any, and an
/// output of another shape as infinitely far.
inline double largest_convolution_error(const dlib::tensor &data, const convolution_weights &weights, long size, int stride,
                                        const dlib::tensor &output) {
    const long samples = data.num_samples(), channels = data.k(), height = data.nr(), width = data.nc();
    const long filters = weights.filters.num_samples(), padding_y = weights.padding_y, padding_x = weights.padding_x;
    const long rows = 1 + (height + 2 * padding_y - size) / stride, columns = 1 + (width + 2 * padding_x - size) / stride;
    if (output.num_samples() != samples || output.k() != filters || output.nr() != rows || output.nc() != columns) return INFINITY;
    const float *w = weights.filters.host(), *x = data.host(), *y = output.host();
    double largest = 0;
    for (long n = 0; n < samples; ++n) {
        for (long f = 0; f < filters; ++f) {
            for (long r = 0; r < rows; ++r) {
                for (long c = 0; c < columns; ++c) {
                    double sum = weights.bias.size() ? weights.bias.host()[f] : 0.0;
                    for (long k = 0; k < channels; ++k) {
                        for (long i = 0; i < size; ++i) {
                            for (long j = 0; j < size; ++j) {
                                const long yy = r * stride - padding_y + i, xx = c * stride - padding_x + j;
                                if (yy < 0 || yy >= height || xx < 0 || xx >= width) continue;
                                sum += double(w[((f * channels + k) * size + i) * size + j]) * x[((n * channels + k) * height + yy) * width + xx];
                            }
                        }
                    }
                    const double error = std::fabs(sum - y[((n * filters + f) * rows + r) * columns + c]);
                    if (!(error <= largest)) largest = error;
                }
            }
        }
    }
    return largest;
}

/// A layer and input of a check: `filters` filters of `size` × `size` over `channels` channels, by `stride`, padded
/// by `padding`, with a bias when `biased`, on `samples` inputs of `height` × `width`.
struct convolution_case {
    long channels, height, width, filters, size;
    int stride;
    long padding, samples;
    bool biased;
};

/// A check of one of the network's own convolutions: `convolve(data, weights, case, output)` (true when it took the
/// layer) on each of `cases`, with random data, filters and biases in [−1, 1] drawn from `seed`, held to the direct
/// sum. 1 when every output is within 1e-4 (`largest_error` gets the largest error); 0 when this CPU lacks AVX2 or
/// FMA (dlib's convolution runs); -1 when an output or the output's shape is wrong; -2 when it refused a case;
/// -3 on an exception.
template <typename Convolve>
int check_convolution(const std::vector<convolution_case> &cases, unsigned seed, double *largest_error, Convolve convolve) {
    if (largest_error) *largest_error = 0;
    if (!cpu_has_avx2_fma()) return 0;
    try {
        std::mt19937 random(seed);
        std::uniform_real_distribution<float> value(-1.0f, 1.0f);
        double largest = 0;
        for (const convolution_case &c : cases) {
            convolution_weights weights;
            weights.channels = c.channels;
            weights.padding_y = weights.padding_x = c.padding;
            weights.filters.set_size(c.filters, c.channels, c.size, c.size);
            for (float &v : weights.filters) v = value(random);
            if (c.biased) {
                weights.bias.set_size(1, c.filters);
                for (float &v : weights.bias) v = value(random);
            }
            dlib::resizable_tensor data(c.samples, c.channels, c.height, c.width), output;
            for (float &v : data) v = value(random);
            if (!convolve(data, weights, c, output)) return -2;
            const double error = largest_convolution_error(data, weights, c.size, c.stride, output);
            if (std::isinf(error)) return -1;
            if (!(error <= largest)) largest = error;  // a NaN counts too
        }
        if (largest_error) *largest_error = largest;
        return largest < 1e-4 ? 1 : -1;
    } catch (const std::exception &) {
        return -3;
    }
}

}  // namespace facecluster

#endif
