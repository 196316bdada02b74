// A stand-in for dlib's con_<N, 3, 3, 1, 1> (3×3 filters, stride 1, padded by one) in the face network, that
// convolves by Winograd's F(2×2, 3×3) (winograd_conv.h) instead of dlib's img2col and one sgemm. It reads the
// layer's trained weights in con_'s own format and keeps them only transformed (16/9 of their floats).
// Inference only: it cannot be trained (setup, backward) or written back (serialize); each throws.
#ifndef WINOGRAD_LAYER_H
#define WINOGRAD_LAYER_H

#include "winograd_conv.h"

#include <dlib/dnn.h>

#include <ostream>
#include <stdexcept>
#include <vector>

namespace facecluster {

template <long N>
class winograd_con_ {
public:
    template <typename SUBNET>
    void setup(const SUBNET &) {
        throw std::logic_error("winograd_con_ runs trained weights read with deserialize; it cannot start a training");
    }

    template <typename SUBNET>
    void forward(const SUBNET &sub, dlib::resizable_tensor &output) {
        const dlib::tensor &data = sub.get_output();
        if (data.k() != channels) {
            throw dlib::error("winograd_con_: an input of " + std::to_string(data.k()) + " channels, filters of " +
                              std::to_string(channels));
        }
        output.set_size(data.num_samples(), N, data.nr(), data.nc());
        const long in = data.k() * data.nr() * data.nc(), out = N * data.nr() * data.nc();
        for (long n = 0; n < data.num_samples(); ++n) {
            winograd_conv3x3(data.host() + n * in, channels, data.nr(), data.nc(), transformed.data(), N,
                             bias.empty() ? nullptr : bias.data(), output.host() + n * out, winograd_thread_scratch());
        }
    }

    template <typename SUBNET>
    void backward(const dlib::tensor &, SUBNET &, dlib::tensor &) {
        throw std::logic_error("winograd_con_ is for inference only");
    }

    const dlib::tensor &get_layer_params() const { return params; }
    dlib::tensor &get_layer_params() { return params; }

    friend void serialize(const winograd_con_ &, std::ostream &) {
        throw dlib::serialization_error("winograd_con_ keeps its filters transformed and cannot write them back");
    }

    friend void deserialize(winograd_con_ &item, std::istream &in) {
        dlib::con_<N, 3, 3, 1, 1> trained;
        deserialize(trained, in);
        const dlib::tensor &params = trained.get_layer_params();
        const long weights = long(params.size()) - (trained.bias_is_disabled() ? 0 : N);
        if (weights <= 0 || weights % (N * 9) != 0) throw dlib::serialization_error("winograd_con_: filters of an unexpected size");
        item.channels = weights / (N * 9);
        item.transformed = winograd_filters(params.host(), N, item.channels);
        item.bias.assign(params.host() + weights, params.host() + params.size());
    }

    friend std::ostream &operator<<(std::ostream &out, const winograd_con_ &item) {
        return out << "winograd_con\t (num_filters=" << N << ", nr=3, nc=3, stride_y=1, stride_x=1, padding_y=1, padding_x=1, channels="
                   << item.channels << ")";
    }

    friend void to_xml(const winograd_con_ &item, std::ostream &out) {
        out << "<winograd_con num_filters='" << N << "' channels='" << item.channels << "'/>\n";
    }

private:
    dlib::resizable_tensor params;  // empty: the weights are held transformed
    long channels = 0;
    std::vector<float> transformed, bias;
};

template <long N, typename SUBNET>
using winograd_con = dlib::add_layer<winograd_con_<N>, SUBNET>;

}  // namespace facecluster

#endif
