// dlib's img2col, the copy of each convolution's input windows into the rows of the matrix that OpenBLAS's
// sgemm multiplies by the filters, for the dlib Debian 12 ships (19.24). dlib's own loop tests every element
// against the image's bounds: it took 12 % of `facecluster ingest`'s CPU on the labeled set (perf, 61
// photos), as much as sgemm itself. This one writes the same matrix, element for element, testing bounds once
// per window row. It is defined here, in the executable, under dlib's own name: libdlib.so calls img2col
// through its PLT, so the dynamic linker binds those calls to this definition (symbol interposition).
// `dlib_img2col_check` compares it with libdlib.so's (found with dlsym RTLD_NEXT) on the network's shapes.
// Another dlib version (whose img2col may differ) gets dlib's own: nothing is defined then.
#include "dlib_face.h"

#include <dlib/revision.h>

#if DLIB_MAJOR_VERSION == 19 && DLIB_MINOR_VERSION == 24 && defined(__linux__)
#include <dlib/cuda/tensor.h>
#include <dlib/matrix.h>
#include <dlfcn.h>
#include <algorithm>
#include <cstring>
#include <random>

namespace dlib {
namespace cpu {

namespace {
/// One window's row of `count` input values starting at column `c` (which may lie outside the image: zeros
/// there), `Count` fixed when it is known at compile time (3 and 7, the network's filters) so the copy unrolls.
template <long Count>
inline void window_row(float *to, const float *row, long c, long count, long width) {
    const long n = Count > 0 ? Count : count;
    if (c >= 0 && c + n <= width) {
        for (long x = 0; x < n; ++x) to[x] = row[c + x];
    } else {
        for (long x = 0; x < n; ++x) {
            const long column = c + x;
            to[x] = column >= 0 && column < width ? row[column] : 0.0f;
        }
    }
}

template <long Count>
void fill(float *t, const float *d, long channels, long height, long width, long filter_nr, long filter_nc,
          long stride_y, long stride_x, long padding_y, long padding_x) {
    // The same windows in the same order as dlib's loop: rows r, then columns c, then channel, window row, column.
    const long max_r = height + padding_y - (filter_nr - 1);
    const long max_c = width + padding_x - (filter_nc - 1);
    for (long r = -padding_y; r < max_r; r += stride_y) {
        for (long c = -padding_x; c < max_c; c += stride_x) {
            for (long k = 0; k < channels; ++k) {
                const float *plane = d + k * height * width;
                for (long y = 0; y < filter_nr; ++y, t += filter_nc) {
                    const long yy = r + y;
                    if (yy < 0 || yy >= height) {
                        std::fill(t, t + filter_nc, 0.0f);
                    } else {
                        window_row<Count>(t, plane + yy * width, c, filter_nc, width);
                    }
                }
            }
        }
    }
}
}  // namespace

void img2col(matrix<float> &output, const tensor &data, long n, long filter_nr, long filter_nc, long stride_y,
             long stride_x, long padding_y, long padding_x) {
    const long channels = data.k(), height = data.nr(), width = data.nc();
    const float *d = data.host() + channels * height * width * n;
    const long out_nr = 1 + (height + 2 * padding_y - filter_nr) / stride_y;
    const long out_nc = 1 + (width + 2 * padding_x - filter_nc) / stride_x;
    output.set_size(out_nr * out_nc, channels * filter_nr * filter_nc);
    DLIB_CASSERT(output.size() != 0);
    float *t = &output(0, 0);
    switch (filter_nc) {
    case 3: fill<3>(t, d, channels, height, width, filter_nr, filter_nc, stride_y, stride_x, padding_y, padding_x); break;
    case 7: fill<7>(t, d, channels, height, width, filter_nr, filter_nc, stride_y, stride_x, padding_y, padding_x); break;
    default: fill<0>(t, d, channels, height, width, filter_nr, filter_nc, stride_y, stride_x, padding_y, padding_x); break;
    }
}

}  // namespace cpu
}  // namespace dlib

namespace {
using img2col_function = void (*)(dlib::matrix<float> &, const dlib::tensor &, long, long, long, long, long, long, long);
const char *const img2col_symbol =
    "_ZN4dlib3cpu7img2colERNS_6matrixIfLl0ELl0ENS_33memory_manager_stateless_kernel_1IcEENS_16row_major_layoutEEERKNS_6tensorElllllll";
}  // namespace

int dlib_img2col_check(void) {
    auto dlibs = reinterpret_cast<img2col_function>(dlsym(RTLD_NEXT, img2col_symbol));
    if (!dlibs) return -2;
    // The network's convolutions (7×7 stride 2 on the 150 px chip; 3×3 stride 1 padded by 1; 3×3 stride 2
    // unpadded), odd sizes, strides that do not divide, padding wider than a window, and two samples.
    const long shapes[][8] = {
        {3, 150, 150, 7, 7, 2, 2, 0}, {32, 36, 36, 3, 3, 1, 1, 1}, {64, 18, 18, 3, 3, 2, 2, 0},
        {5, 11, 13, 3, 5, 3, 2, 2},   {2, 9, 7, 4, 4, 1, 3, 5},     {1, 1, 1, 1, 1, 1, 1, 0},
    };
    std::mt19937 random(7);
    std::uniform_real_distribution<float> value(-1.0f, 1.0f);
    for (const auto &shape : shapes) {
        dlib::resizable_tensor data(2, shape[0], shape[1], shape[2]);
        float *host = data.host();
        for (size_t i = 0; i < data.size(); ++i) host[i] = value(random);
        for (long n = 0; n < 2; ++n) {
            dlib::matrix<float> ours, theirs;
            dlib::cpu::img2col(ours, data, n, shape[3], shape[4], shape[5], shape[6], shape[7], shape[7]);
            dlibs(theirs, data, n, shape[3], shape[4], shape[5], shape[6], shape[7], shape[7]);
            if (ours.nr() != theirs.nr() || ours.nc() != theirs.nc()
                || std::memcmp(&ours(0, 0), &theirs(0, 0), sizeof(float) * ours.size()) != 0) return -1;
        }
    }
    // Whether libdlib.so's calls reach this definition: the process's first img2col must be ours.
    auto first = reinterpret_cast<img2col_function>(dlsym(RTLD_DEFAULT, img2col_symbol));
    return first == static_cast<img2col_function>(&dlib::cpu::img2col) ? 1 : 0;
}

#else
int dlib_img2col_check(void) { return 0; }
#endif
