// The face network's 3×3, stride-1 convolutions by Winograd's minimal filtering F(2×2, 3×3) (Lavin and Gray,
// "Fast Algorithms for Convolutional Neural Networks", CVPR 2016).
#ifndef WINOGRAD_CONV_H
#define WINOGRAD_CONV_H

#include <vector>

namespace facecluster {

/// A 3×3 convolution's filters transformed for `winograd_conv3x3`: 16 matrices of `filters` × `channels`
/// (G g Gᵀ of each filter, G = [[1,0,0],[½,½,½],[½,−½,½],[0,0,1]]). `weights` is dlib's filter tensor,
/// `filters` × `channels` × 3 × 3 floats.
std::vector<float> winograd_filters(const float *weights, long filters, long channels);

/// Scratch a convolution reuses from call to call (grown, never shrunk; the face network's largest layer, 32
/// filters on 35 × 35, takes 1.3 MB).
struct winograd_scratch {
    std::vector<float> tiles, products, row;
};

/// Convolves `data` (`channels` × `height` × `width` floats, one sample) with the 3×3 filters of
/// `transformed` (from `winograd_filters`), stride 1, padded by one zero on every side, adding `bias` (one
/// value a filter, or null), into `output` (`filters` × `height` × `width`). Up to 2.25× fewer multiplications
/// than the direct sum (2.1× on 35 × 35, whose last tiles reach past the edge): each 2×2 block of output comes
/// from a 4×4 block of input through 16 element-wise products summed over the channels, which are 16 matrix
/// products (OpenBLAS sgemm).
void winograd_conv3x3(const float *data, long channels, long height, long width, const float *transformed,
                      long filters, const float *bias, float *output, winograd_scratch &scratch);

}  // namespace facecluster

#endif
