// The convolutions the engines' face network runs in place of dlib's con_. Each reads its layer of the trained
// model in con_'s own format, and holds its weights read-only behind a shared pointer, so every copy of the
// network (one an engine) shares one set: an engine costs its activations, not another 22 MB of weights, and the
// engines' reads of the weights meet in the CPU's shared cache.
// - `winograd_con_<N>`: 3×3 filters, stride 1, padded by one, by Winograd's F(2×2, 3×3) (winograd_conv.h); its
//   weights are kept only transformed (16/9 of dlib's floats).
// - `shared_con_<N, Size, Stride>`: dlib's own convolution (`tt::tensor_conv`: img2col, then one sgemm a sample) on
//   shared weights; on outputs of 3 to 16 pixels (the 256-filter layers), `convolve_few_pixels` (few_pixel_conv.cpp),
//   and on an image's few channels (the first layer), `convolve_few_channels` (few_channel_conv.cpp).
// Inference only: neither can be trained (setup, backward); each throws. `serialize` writes the weights as they are
// in memory (model_cache.h), which `deserialize` reads as well as dlib's own con_ layer.
#ifndef NETWORK_LAYERS_H
#define NETWORK_LAYERS_H

#include "model_cache.h"
#include "winograd_conv.h"

#include <dlib/dnn.h>

#include <algorithm>
#include <array>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace facecluster {

/// A trained con_ layer's weights as dlib holds them: `filters` (`N` × channels × size × size, or for
/// `winograd_con_` their transform, 16 × `N` × channels) and `bias` (1 × `N` × 1 × 1; empty when the layer has none).
struct convolution_weights {
    long channels = 0, padding_y = 0, padding_x = 0;
    dlib::resizable_tensor filters, bias;
};

/// dlib's convolution of `data` by `weights` (`size` × `size` filters, `stride`, the weights' padding) into
/// `output`, for outputs of 3 to 16 pixels (few_pixel_conv.cpp: each filter read once, not packed for sgemm),
/// through `windows` (img2col's matrix, kept from call to call). Returns false, touching nothing, for other
/// outputs or where the CPU lacks AVX2 and FMA: dlib's convolution runs then.
bool convolve_few_pixels(const dlib::tensor &data, const convolution_weights &weights, long size, int stride,
                         dlib::resizable_tensor &output, dlib::matrix<float> &windows);

/// dlib's convolution of `data` by `weights` into `output` for 32 unpadded filters over at most 4 channels (the
/// first layer, over the chip's colours; few_channel_conv.cpp: no img2col), through `scratch` (the weights by tap,
/// a row's sums; kept from call to call). Returns false, touching nothing, for other layers or where the CPU lacks
/// AVX2 and FMA: dlib's convolution runs then.
bool convolve_few_channels(const dlib::tensor &data, const convolution_weights &weights, long size, int stride,
                           dlib::resizable_tensor &output, std::vector<float> &scratch);

/// Reads a con_<N, Size, Size, Stride, Stride> layer as dlib wrote it.
template <long N, long Size, int Stride>
std::shared_ptr<convolution_weights> read_convolution(std::istream &in) {
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
    weights->filters.set_size(N, weights->channels, Size, Size);
    std::copy(params.host(), params.host() + count, weights->filters.host());
    if (count < long(params.size())) {
        weights->bias.set_size(1, N);
        std::copy(params.host() + count, params.host() + params.size(), weights->bias.host());
    }
    return weights;
}

/// The byte the form `write_cached_weights` writes begins with: never the first of a con_ layer as dlib writes
/// it (its version string's length, whose first byte counts the bytes that follow: 1 to 8, 0x80 set when
/// negative), so `read_cached_weights` tells the two apart by peeking, on streams that cannot seek too.
constexpr int cached_weights_marker = 0x0F;

/// Writes `weights` in model_cache.h's form: the marker, `version` (the layer's name for it), the weights'
/// channels and padding, then the filters and the bias as they are in memory.
inline void write_cached_weights(std::ostream &out, const std::string &version, const convolution_weights &weights) {
    out.put(char(cached_weights_marker));
    dlib::serialize(version, out);
    const int64_t shape[] = {weights.channels, weights.padding_y, weights.padding_x, int64_t(weights.bias.size())};
    write_array(out, shape, 4);
    write_array(out, weights.filters.host(), weights.filters.size());
    write_array(out, weights.bias.host(), weights.bias.size());
}

/// The weights `write_cached_weights` wrote, if that is what `in` holds next (else null, nothing read: a con_
/// layer as dlib wrote it follows). `filters(channels)` gives the filters' shape (num_samples, k, nr, nc) for
/// that many channels. Throws dlib::serialization_error unless the layer is `version`, with 1 to 4,096 channels,
/// the padding 0 to 8, and the bias none or `N` values.
template <typename FilterShape>
std::shared_ptr<convolution_weights> read_cached_weights(std::istream &in, const std::string &version, long N, FilterShape filters) {
    if (in.peek() != cached_weights_marker) return nullptr;
    in.get();
    std::string named;
    dlib::deserialize(named, in);
    if (named != version) throw dlib::serialization_error("a model cache of another network");
    int64_t shape[4];
    read_array(in, shape, 4);
    if (shape[0] < 1 || shape[0] > 4096 || shape[1] < 0 || shape[1] > 8 || shape[2] < 0 || shape[2] > 8 || (shape[3] != 0 && shape[3] != N)) {
        throw dlib::serialization_error("a damaged model cache");
    }
    auto weights = std::make_shared<convolution_weights>();
    weights->channels = shape[0];
    weights->padding_y = shape[1];
    weights->padding_x = shape[2];
    const std::array<long, 4> dimensions = filters(weights->channels);
    weights->filters.set_size(dimensions[0], dimensions[1], dimensions[2], dimensions[3]);
    read_array(in, weights->filters.host(), weights->filters.size());
    if (shape[3] != 0) {
        weights->bias.set_size(1, N);
        read_array(in, weights->bias.host(), weights->bias.size());
    } else {
        read_count(in, 0);
    }
    return weights;
}

/// The calling thread's lent Winograd scratch, or null.
inline winograd_scratch *&leased_scratch() {
    static thread_local winograd_scratch *current = nullptr;
    return current;
}

/// Lends an engine's `scratch` to the thread that runs its network, for one forward pass: it then grows with the
/// engines, not with every thread that ever ran one (1.3 MB at most in the face network).
class scratch_lease {
public:
    explicit scratch_lease(winograd_scratch &scratch) : previous(leased_scratch()) { leased_scratch() = &scratch; }
    ~scratch_lease() { leased_scratch() = previous; }
    scratch_lease(const scratch_lease &) = delete;
    scratch_lease &operator=(const scratch_lease &) = delete;

private:
    winograd_scratch *previous;
};

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

    /// The layer's input, checked against its weights.
    template <typename SUBNET>
    const dlib::tensor &input(const SUBNET &sub) const {
        const dlib::tensor &data = sub.get_output();
        if (!weights || data.k() != weights->channels) throw dlib::error("a convolution's input of another number of channels");
        return data;
    }

private:
    dlib::resizable_tensor params;  // empty
};

template <long N>
class winograd_con_ : public inference_layer {
public:
    template <typename SUBNET>
    void forward(const SUBNET &sub, dlib::resizable_tensor &output) {
        const dlib::tensor &data = input(sub);
        output.set_size(data.num_samples(), N, data.nr(), data.nc());
        const long in = data.k() * data.nr() * data.nc(), out = N * data.nr() * data.nc();
        winograd_scratch own;
        winograd_scratch &scratch = leased_scratch() ? *leased_scratch() : own;
        for (long n = 0; n < data.num_samples(); ++n) {
            winograd_conv3x3(data.host() + n * in, weights->channels, data.nr(), data.nc(), weights->filters.host(), N,
                             weights->bias.size() ? weights->bias.host() : nullptr, output.host() + n * out, scratch);
        }
    }

    /// The name of the form `serialize` writes (model_cache.h).
    static const std::string &cached_version() {
        static const std::string version = "facecluster_winograd_con_" + std::to_string(N) + "_1";
        return version;
    }

    friend void serialize(const winograd_con_ &item, std::ostream &out) {
        if (!item.weights) inference_only("serialize before deserialize");
        write_cached_weights(out, cached_version(), *item.weights);
    }

    /// Reads the layer as `serialize` wrote it (the transformed filters: 16 × `N` floats a channel), or a
    /// con_<N, 3, 3, 1, 1> as dlib wrote it, whose filters it transforms.
    friend void deserialize(winograd_con_ &item, std::istream &in) {
        auto weights =
            read_cached_weights(in, cached_version(), N, [](long channels) { return std::array<long, 4>{16 * N * channels, 1, 1, 1}; });
        if (!weights) {
            weights = read_convolution<N, 3, 1>(in);
            const std::vector<float> transformed = winograd_filters(weights->filters.host(), N, weights->channels);
            weights->filters.set_size(16 * N * weights->channels);
            std::copy(transformed.begin(), transformed.end(), weights->filters.host());
        }
        if (weights->padding_y != 1 || weights->padding_x != 1) throw dlib::serialization_error("winograd_con_ needs a padding of 1");
        item.weights = std::move(weights);
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
        const dlib::tensor &data = input(sub);
        if (convolve_few_pixels(data, *weights, Size, Stride, output, windows)) return;
        if (convolve_few_channels(data, *weights, Size, Stride, output, taps)) return;
        dlib::tt::tensor_conv convolution;
        convolution.setup(data, weights->filters, Stride, Stride, weights->padding_y, weights->padding_x);
        if (weights->bias.size()) {
            convolution(false, output, data, weights->filters, weights->bias);
        } else {
            convolution(false, output, data, weights->filters);
        }
    }

    /// The name of the form `serialize` writes (model_cache.h).
    static const std::string &cached_version() {
        static const std::string version =
            "facecluster_shared_con_" + std::to_string(N) + "_" + std::to_string(Size) + "_" + std::to_string(Stride) + "_1";
        return version;
    }

    friend void serialize(const shared_con_ &item, std::ostream &out) {
        if (!item.weights) inference_only("serialize before deserialize");
        write_cached_weights(out, cached_version(), *item.weights);
    }

    /// Reads the layer as `serialize` wrote it, or a con_<N, Size, Size, Stride, Stride> as dlib wrote it.
    friend void deserialize(shared_con_ &item, std::istream &in) {
        const auto shape = [](long channels) { return std::array<long, 4>{N, channels, Size, Size}; };
        if (auto cached = read_cached_weights(in, cached_version(), N, shape)) {
            item.weights = std::move(cached);
            return;
        }
        item.weights = read_convolution<N, Size, Stride>(in);
    }

    friend std::ostream &operator<<(std::ostream &out, const shared_con_ &item) {
        return out << "shared_con\t (num_filters=" << N << ", nr=" << Size << ", nc=" << Size << ", stride " << Stride
                   << ", channels=" << (item.weights ? item.weights->channels : 0) << ")";
    }

    friend void to_xml(const shared_con_ &, std::ostream &out) { out << "<shared_con num_filters='" << N << "'/>\n"; }

private:
    dlib::matrix<float> windows;  // `convolve_few_pixels`' img2col matrix (each engine's network has its own)
    std::vector<float> taps;      // `convolve_few_channels`' weights by tap and sums
};

template <long N, typename SUBNET>
using winograd_con = dlib::add_layer<winograd_con_<N>, SUBNET>;

template <long N, long Size, int Stride, typename SUBNET>
using shared_con = dlib::add_layer<shared_con_<N, Size, Stride>, SUBNET>;

}  // namespace facecluster

#endif
