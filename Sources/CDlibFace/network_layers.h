// The convolutions the engines' face network runs in place of dlib's con_. Each reads its layer of the trained
// model in con_'s own format, and holds its weights read-only behind a shared pointer, so every copy of the
// network (one an engine) shares one set: an engine costs its activations, not another 22 MB of weights, and the
// engines' reads of the weights meet in the CPU's shared cache.
// - `winograd_con_<N>`: 3×3 filters, stride 1, padded by one, by Winograd's F(2×2, 3×3) (winograd_conv.h); its
//   weights are kept only transformed (16/9 of dlib's floats).
// - `shared_con_<N, Size, Stride>`: dlib's own method (img2col, then one sgemm a sample) on shared weights.
// Inference only: neither can be trained (setup, backward) or written back (serialize); each throws.
#ifndef NETWORK_LAYERS_H
#define NETWORK_LAYERS_H

#include "winograd_conv.h"

#include <dlib/dnn.h>

#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace dlib {
namespace cpu {
// libdlib.so's (or img2col.cpp's, which takes its place): a sample's input windows as the rows of `output`.
void img2col(matrix<float> &output, const tensor &data, long n, long filter_nr, long filter_nc, long stride_y,
             long stride_x, long padding_y, long padding_x);
}  // namespace cpu
}  // namespace dlib

namespace facecluster {

/// A trained con_ layer's weights: `filters` × `channels` × `size` × `size` floats (or their Winograd transform),
/// then a bias a filter (none when the layer has no bias).
struct convolution_weights {
    long channels = 0, padding_y = 0, padding_x = 0;
    std::vector<float> filters, bias;
};

/// Reads a con_<N, Size, Size, Stride, Stride> layer as dlib wrote it, its filters passed through `transform`.
template <long N, long Size, int Stride, typename Transform>
std::shared_ptr<const convolution_weights> read_convolution(std::istream &in, Transform transform) {
    dlib::con_<N, Size, Size, Stride, Stride> trained;
    deserialize(trained, in);
    if (trained.num_filters() != N) throw dlib::serialization_error("a convolution of another number of filters");
    const dlib::tensor &params = trained.get_layer_params();
    const long count = long(params.size()) - (trained.bias_is_disabled() ? 0 : N);
    if (count <= 0 || count % (N * Size * Size) != 0) throw dlib::serialization_error("a convolution's filters of an unexpected size");
    auto weights = std::make_shared<convolution_weights>();
    weights->channels = count / (N * Size * Size);
    weights->padding_y = trained.padding_y();
    weights->padding_x = trained.padding_x();
    weights->filters = transform(params.host(), weights->channels);
    weights->bias.assign(params.host() + count, params.host() + params.size());
    return weights;
}

/// The buffers the network's convolutions work in. Each engine has its own and lends it to the thread that runs its
/// network for one forward pass (`scratch_lease`), so they grow with the engines, not with every thread that ever
/// ran one (the largest: the first layer's img2col matrix, 5,184 × 147 floats, 3 MB).
struct convolution_scratch {
    winograd_scratch winograd;
    dlib::matrix<float> windows;  // img2col's
};

/// The calling thread's lent scratch, or null.
inline convolution_scratch *&leased_scratch() {
    static thread_local convolution_scratch *current = nullptr;
    return current;
}

/// Lends `scratch` to the calling thread until it goes out of scope.
class scratch_lease {
public:
    explicit scratch_lease(convolution_scratch &scratch) : previous(leased_scratch()) { leased_scratch() = &scratch; }
    ~scratch_lease() { leased_scratch() = previous; }
    scratch_lease(const scratch_lease &) = delete;
    scratch_lease &operator=(const scratch_lease &) = delete;

private:
    convolution_scratch *previous;
};

/// Runs `body` on the calling thread's lent scratch, or on one of its own when none is lent.
template <typename Body>
void with_scratch(Body body) {
    if (convolution_scratch *leased = leased_scratch()) return body(*leased);
    convolution_scratch own;
    body(own);
}

/// What the inference-only layers throw where dlib would train or write.
[[noreturn]] inline void inference_only(const char *what) {
    throw std::logic_error(std::string(what) + ": the face network's layers run trained weights read with deserialize, for inference only");
}

/// What both layers share: weights behind a shared pointer, no parameters dlib can see, and no training.
class inference_layer {
public:
    template <typename SUBNET> void setup(const SUBNET &) { inference_only("setup"); }
    template <typename SUBNET> void backward(const dlib::tensor &, SUBNET &, dlib::tensor &) { inference_only("backward"); }

    const dlib::tensor &get_layer_params() const { return params; }
    dlib::tensor &get_layer_params() { return params; }

protected:
    std::shared_ptr<const convolution_weights> weights;

private:
    dlib::resizable_tensor params;  // empty
};

template <long N>
class winograd_con_ : public inference_layer {
public:
    template <typename SUBNET>
    void forward(const SUBNET &sub, dlib::resizable_tensor &output) {
        const dlib::tensor &data = sub.get_output();
        if (!weights || data.k() != weights->channels) throw dlib::error("winograd_con_: an input of another number of channels");
        output.set_size(data.num_samples(), N, data.nr(), data.nc());
        const long in = data.k() * data.nr() * data.nc(), out = N * data.nr() * data.nc();
        with_scratch([&](convolution_scratch &scratch) {
            for (long n = 0; n < data.num_samples(); ++n) {
                winograd_conv3x3(data.host() + n * in, weights->channels, data.nr(), data.nc(), weights->filters.data(),
                                 N, weights->bias.empty() ? nullptr : weights->bias.data(), output.host() + n * out,
                                 scratch.winograd);
            }
        });
    }

    friend void serialize(const winograd_con_ &, std::ostream &) { inference_only("serialize"); }

    friend void deserialize(winograd_con_ &item, std::istream &in) {
        item.weights = read_convolution<N, 3, 1>(in, [](const float *filters, long channels) {
            return winograd_filters(filters, N, channels);
        });
        if (item.weights->padding_y != 1 || item.weights->padding_x != 1) throw dlib::serialization_error("winograd_con_ needs a padding of 1");
    }

    friend std::ostream &operator<<(std::ostream &out, const winograd_con_ &item) {
        return out << "winograd_con\t (num_filters=" << N << ", nr=3, nc=3, stride 1, padding 1, channels="
                   << (item.weights ? item.weights->channels : 0) << ")";
    }

    friend void to_xml(const winograd_con_ &, std::ostream &out) { out << "<winograd_con num_filters='" << N << "'/>\n"; }
};

template <long N, long Size, int Stride>
class shared_con_ : public inference_layer {
public:
    template <typename SUBNET>
    void forward(const SUBNET &sub, dlib::resizable_tensor &output) {
        const dlib::tensor &data = sub.get_output();
        if (!weights || data.k() != weights->channels) throw dlib::error("shared_con_: an input of another number of channels");
        const long rows = 1 + (data.nr() + 2 * weights->padding_y - Size) / Stride;
        const long columns = 1 + (data.nc() + 2 * weights->padding_x - Size) / Stride;
        output.set_size(data.num_samples(), N, rows, columns);
        const long window = weights->channels * Size * Size, plane = rows * columns;
        with_scratch([&](convolution_scratch &scratch) {
            for (long n = 0; n < data.num_samples(); ++n) {
                dlib::cpu::img2col(scratch.windows, data, n, Size, Size, Stride, Stride, weights->padding_y, weights->padding_x);
                float *result = output.host() + n * N * plane;
                // The N × plane output is the filters (N × window) times the windows' transpose (window × plane).
                product_transposed(weights->filters.data(), &scratch.windows(0, 0), result, N, plane, window);
                if (weights->bias.empty()) continue;
                for (long k = 0; k < N; ++k) {
                    const float b = weights->bias[k];
                    for (float *value = result + k * plane, *end = value + plane; value < end; ++value) *value += b;
                }
            }
        });
    }

    friend void serialize(const shared_con_ &, std::ostream &) { inference_only("serialize"); }

    friend void deserialize(shared_con_ &item, std::istream &in) {
        item.weights = read_convolution<N, Size, Stride>(in, [](const float *filters, long channels) {
            return std::vector<float>(filters, filters + N * channels * Size * Size);
        });
    }

    friend std::ostream &operator<<(std::ostream &out, const shared_con_ &item) {
        return out << "shared_con\t (num_filters=" << N << ", nr=" << Size << ", nc=" << Size << ", stride " << Stride
                   << ", channels=" << (item.weights ? item.weights->channels : 0) << ")";
    }

    friend void to_xml(const shared_con_ &, std::ostream &out) { out << "<shared_con num_filters='" << N << "'/>\n"; }
};

template <long N, typename SUBNET>
using winograd_con = dlib::add_layer<winograd_con_<N>, SUBNET>;

template <long N, long Size, int Stride, typename SUBNET>
using shared_con = dlib::add_layer<shared_con_<N, Size, Stride>, SUBNET>;

}  // namespace facecluster

#endif
