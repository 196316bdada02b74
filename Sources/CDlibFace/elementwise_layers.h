// The face network's other layers, as the engines run them: dlib's relu_, affine_, add_prev_, max_pool_ and
// avg_pool_ with dlib's own arithmetic, in plain loops over the tensor's floats that the compiler vectorizes.
// Debian's libdlib runs them for any x86-64 (SSE2 at most) through its matrix expressions, a bounds-checked
// window a pooled value: together they took 5.5 % of an lfw10 ingest's CPU (perf, 2026-12-04; pooling 2.1 %,
// relu 1.3 %, add 1.1 %, affine 1.0 %), about 1.4 ms a face. Each class derives from dlib's layer and overrides
// only its forward pass, so it reads, writes and prints as dlib's (the model file and model_cache.h's cache
// are unchanged). The outputs are dlib's bit for bit: the same operations on each float in the same order (a
// product, then a sum, never fused; a window summed row by row), and a shape the fast loops do not cover (a
// padded pool, tensors of two shapes added) runs dlib's own code.
#ifndef ELEMENTWISE_LAYERS_H
#define ELEMENTWISE_LAYERS_H

#include <dlib/dnn.h>

#include <cstddef>

namespace facecluster {

namespace elementwise {

/// `out[i] = max(in[i], 0)` as dlib's `lowerbound` takes it: kept when ≥ 0, else 0 (a NaN becomes 0). `in` may
/// be `out`.
inline void relu(const float *in, float *out, size_t count) {
    if (in == out) {
        for (size_t i = 0; i < count; ++i) out[i] = out[i] >= 0.0f ? out[i] : 0.0f;
    } else {
        const float *__restrict source = in;
        float *__restrict target = out;
        for (size_t i = 0; i < count; ++i) target[i] = source[i] >= 0.0f ? source[i] : 0.0f;
    }
}

/// `out = in · scale[k] + shift[k]` over `samples` × `channels` planes of `plane` floats, k the plane's channel:
/// the product rounded before the sum, as dlib's `affine_transform_conv` (never fused into one multiply-add, even
/// where the compiler may use FMA). `in` may be `out`.
inline void affine(const float *in, float *out, long samples, long channels, long plane, const float *scale, const float *shift) {
#pragma clang fp contract(off)
    for (long n = 0; n < samples; ++n) {
        for (long k = 0; k < channels; ++k) {
            const float a = scale[k], b = shift[k];
            const long offset = (n * channels + k) * plane;
            if (in == out) {
                float *values = out + offset;
                for (long i = 0; i < plane; ++i) values[i] = values[i] * a + b;
            } else {
                const float *__restrict source = in + offset;
                float *__restrict target = out + offset;
                for (long i = 0; i < plane; ++i) target[i] = source[i] * a + b;
            }
        }
    }
}

/// `out[i] = a[i] + b[i]` over `count` floats.
inline void add(const float *__restrict a, const float *__restrict b, float *__restrict out, size_t count) {
    for (size_t i = 0; i < count; ++i) out[i] = a[i] + b[i];
}

/// Pools each of `planes` planes of `rows` × `columns` floats by unpadded `window_rows` × `window_columns` windows
/// `stride_y` and `stride_x` apart into `out` (planes of `out_rows` × `out_columns`), every window inside the
/// plane: the largest value of a window, kept from the first on ties (dlib's `max`), or its mean (dlib's `mean`:
/// the values summed row by row from 0, then divided by their count).
template <bool maximum>
void pool(const float *in, long planes, long rows, long columns, long window_rows, long window_columns, long stride_y,
          long stride_x, float *out, long out_rows, long out_columns) {
    const float count = float(window_rows * window_columns);
    for (long p = 0; p < planes; ++p) {
        const float *plane = in + p * rows * columns;
        for (long r = 0; r < out_rows; ++r) {
            for (long c = 0; c < out_columns; ++c) {
                const float *window = plane + r * stride_y * columns + c * stride_x;
                float value = maximum ? window[0] : 0.0f;
                for (long y = 0; y < window_rows; ++y) {
                    for (long x = 0; x < window_columns; ++x) {
                        const float v = window[y * columns + x];
                        if (maximum) {
                            if (v > value) value = v;
                        } else {
                            value += v;
                        }
                    }
                }
                *out++ = maximum ? value : value / count;
            }
        }
    }
}

}  // namespace elementwise

class fast_relu_ : public dlib::relu_ {
public:
    void forward_inplace(const dlib::tensor &input, dlib::tensor &output) {
        elementwise::relu(input.host(), output.host(), input.size());
    }
};

class fast_affine_ : public dlib::affine_ {
public:
    void forward_inplace(const dlib::tensor &input, dlib::tensor &output) {
        if (is_disabled() || get_mode() != dlib::CONV_MODE || long(get_gamma().size()) != input.k()) {
            dlib::affine_::forward_inplace(input, output);
            return;
        }
        elementwise::affine(input.host(), output.host(), input.num_samples(), input.k(), input.nr() * input.nc(),
                            get_gamma().host(), get_beta().host());
    }
};

template <template <typename> class TAG>
class fast_add_prev_ : public dlib::add_prev_<TAG> {
public:
    template <typename SUBNET>
    void forward(const SUBNET &sub, dlib::resizable_tensor &output) {
        const dlib::tensor &a = sub.get_output(), &b = dlib::layer<TAG>(sub).get_output();
        if (!dlib::have_same_dimensions(a, b)) {
            dlib::add_prev_<TAG>::forward(sub, output);  // zero-padded to the larger shape
            return;
        }
        output.copy_size(a);
        elementwise::add(a.host(), b.host(), output.host_write_only(), a.size());
    }
};

/// dlib's max_pool_ or avg_pool_ (`pooling`) of unpadded `NR` × `NC` windows `SY` and `SX` apart: dlib's
/// `max_pool<NR, NC, SY, SX>` and `avg_pool<…>` at strides above 1 (at stride 1 dlib pads by half a window).
template <typename pooling, bool maximum, long NR, long NC, int SY, int SX>
class fast_pool_ : public pooling {
    static_assert(NR > 0 && NC > 0, "a window of the whole input runs dlib's layer");
    static_assert(SY > 1 && SX > 1, "dlib pads a pool of stride 1 by default");

public:
    template <typename SUBNET>
    void forward(const SUBNET &sub, dlib::resizable_tensor &output) {
        const dlib::tensor &input = sub.get_output();
        if (input.nr() < NR || input.nc() < NC) {
            pooling::forward(sub, output);  // dlib's message
            return;
        }
        output.set_size(input.num_samples(), input.k(), 1 + (input.nr() - NR) / SY, 1 + (input.nc() - NC) / SX);
        elementwise::pool<maximum>(input.host(), input.num_samples() * input.k(), input.nr(), input.nc(), NR, NC, SY, SX,
                                   output.host_write_only(), output.nr(), output.nc());
    }
};

template <long NR, long NC, int SY, int SX>
using fast_max_pool_ = fast_pool_<dlib::max_pool_<NR, NC, SY, SX, 0, 0>, true, NR, NC, SY, SX>;

template <long NR, long NC, int SY, int SX>
using fast_avg_pool_ = fast_pool_<dlib::avg_pool_<NR, NC, SY, SX, 0, 0>, false, NR, NC, SY, SX>;

/// The network's layer families: dlib's own (for the check against it) and this file's, which the engines run.
struct dlib_elementwise {
    template <typename SUBNET> using relu = dlib::relu<SUBNET>;
    template <typename SUBNET> using affine = dlib::affine<SUBNET>;
    template <typename SUBNET> using add_prev1 = dlib::add_prev1<SUBNET>;
    template <typename SUBNET> using add_prev2 = dlib::add_prev2<SUBNET>;
    template <long NR, long NC, int SY, int SX, typename SUBNET> using max_pool = dlib::max_pool<NR, NC, SY, SX, SUBNET>;
    template <long NR, long NC, int SY, int SX, typename SUBNET> using avg_pool = dlib::avg_pool<NR, NC, SY, SX, SUBNET>;
};

struct fast_elementwise {
    template <typename SUBNET> using relu = dlib::add_layer<fast_relu_, SUBNET>;
    template <typename SUBNET> using affine = dlib::add_layer<fast_affine_, SUBNET>;
    template <typename SUBNET> using add_prev1 = dlib::add_layer<fast_add_prev_<dlib::tag1>, SUBNET>;
    template <typename SUBNET> using add_prev2 = dlib::add_layer<fast_add_prev_<dlib::tag2>, SUBNET>;
    template <long NR, long NC, int SY, int SX, typename SUBNET>
    using max_pool = dlib::add_layer<fast_max_pool_<NR, NC, SY, SX>, SUBNET>;
    template <long NR, long NC, int SY, int SX, typename SUBNET>
    using avg_pool = dlib::add_layer<fast_avg_pool_<NR, NC, SY, SX>, SUBNET>;
};

}  // namespace facecluster

#endif
