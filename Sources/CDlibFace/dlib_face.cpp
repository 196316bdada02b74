// The implementation of dlib_face.h. The network definition is dlib's own (examples/dnn_face_recognition_ex.cpp,
// Boost Software License): it must match the trained weights in dlib_face_recognition_resnet_model_v1.dat.

#include "dlib_face.h"

#include <dlib/dnn.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

using namespace dlib;

namespace {

template <template <int, template <typename> class, int, typename> class block, int N, template <typename> class BN, typename SUBNET>
using residual = add_prev1<block<N, BN, 1, tag1<SUBNET>>>;

template <template <int, template <typename> class, int, typename> class block, int N, template <typename> class BN, typename SUBNET>
using residual_down = add_prev2<avg_pool<2, 2, 2, 2, skip1<tag2<block<N, BN, 2, tag1<SUBNET>>>>>>;

template <int N, template <typename> class BN, int stride, typename SUBNET>
using block = BN<con<N, 3, 3, 1, 1, relu<BN<con<N, 3, 3, stride, stride, SUBNET>>>>>;

template <int N, typename SUBNET> using ares = relu<residual<block, N, affine, SUBNET>>;
template <int N, typename SUBNET> using ares_down = relu<residual_down<block, N, affine, SUBNET>>;

template <typename SUBNET> using alevel0 = ares_down<256, SUBNET>;
template <typename SUBNET> using alevel1 = ares<256, ares<256, ares_down<256, SUBNET>>>;
template <typename SUBNET> using alevel2 = ares<128, ares<128, ares_down<128, SUBNET>>>;
template <typename SUBNET> using alevel3 = ares<64, ares<64, ares<64, ares_down<64, SUBNET>>>>;
template <typename SUBNET> using alevel4 = ares<32, ares<32, ares<32, SUBNET>>>;

using anet_type = loss_metric<fc_no_bias<128, avg_pool_everything<
    alevel0<alevel1<alevel2<alevel3<alevel4<
    max_pool<3, 3, 2, 2, relu<affine<con<32, 7, 7, 2, 2, input_rgb_image_sized<150>>>>>>>>>>>>>;

void write_error(char *error, size_t size, const std::string &message) {
    if (error && size > 0) std::snprintf(error, size, "%s", message.c_str());
}

matrix<rgb_pixel> image_from(const uint8_t *rgb, int width, int height) {
    matrix<rgb_pixel> image(height, width);
    for (long row = 0; row < height; ++row) {
        const uint8_t *line = rgb + static_cast<size_t>(row) * width * 3;
        for (long column = 0; column < width; ++column) {
            image(row, column) = rgb_pixel(line[column * 3], line[column * 3 + 1], line[column * 3 + 2]);
        }
    }
    return image;
}

/// `rgb` as dlib's image, upsampled `upsample` times; `scale` is how much larger than `rgb` it is.
matrix<rgb_pixel> upsampled_image(const uint8_t *rgb, int width, int height, int upsample, double &scale) {
    matrix<rgb_pixel> image = image_from(rgb, width, height);
    scale = 1;
    for (int step = 0; step < upsample; ++step) {
        pyramid_up(image);
        scale *= 2;
    }
    return image;
}

/// `detector`'s faces in `image`, largest first.
std::vector<rect_detection> detections_in(frontal_face_detector &detector, const matrix<rgb_pixel> &image) {
    std::vector<rect_detection> detections;
    detector(image, detections, 0.0);
    std::sort(detections.begin(), detections.end(), [](const rect_detection &a, const rect_detection &b) {
        return a.rect.area() > b.rect.area();
    });
    return detections;
}

/// A detection in the pixels of the image before upsampling, landmarks zero.
dlib_face face_from(const rect_detection &detection, double scale) {
    dlib_face face{};
    const rectangle &box = detection.rect;
    face.left = box.left() / scale;
    face.top = box.top() / scale;
    face.right = (box.right() + 1) / scale;
    face.bottom = (box.bottom() + 1) / scale;
    face.score = detection.detection_confidence;
    return face;
}

/// Fills in `face`'s landmarks from `shape`, found in an image `scale` times larger.
void set_landmarks(dlib_face &face, const full_object_detection &shape, double scale) {
    for (unsigned long part = 0; part < 5 && part < shape.num_parts(); ++part) {
        face.landmarks[part * 2] = shape.part(part).x() / scale;
        face.landmarks[part * 2 + 1] = shape.part(part).y() / scale;
    }
}

/// dlib's HOG face detector, decoded once per process. `get_frontal_face_detector()` decompresses the model
/// it embeds on every call: 0.3 s of one core, which an ingest paid for every engine and tile detector it
/// made (40 % of the CPU of ingesting six 0.5–3 MP photos). Copies are cheap, and copying from this const
/// object is safe from any thread (dlib's detector has no mutable state).
const frontal_face_detector &decoded_frontal_face_detector() {
    static const frontal_face_detector detector = get_frontal_face_detector();
    return detector;
}

}  // namespace

struct dlib_face_engine {
    frontal_face_detector detector = decoded_frontal_face_detector();
    shape_predictor landmarks;
    anet_type network;
};

/// OpenBLAS (Debian's libopenblas0-pthread behind libblas.so.3) runs each matrix product on a thread per core,
/// spinning while it waits. The engine already analyses one photo per core, so those threads only fight each
/// other (a fifth of the CPU went to sched_yield): one BLAS thread per analysis. Looked up at run time, as
/// another BLAS may stand behind libblas.so.3.
static void use_one_blas_thread() {
    using set_threads = void (*)(int);
    if (auto set = reinterpret_cast<set_threads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(1);
}

extern "C" dlib_face_engine *dlib_face_engine_create(
    const char *shape_predictor_path, const char *recognition_model_path, char *error, size_t error_size) {
    use_one_blas_thread();
    try {
        auto *engine = new dlib_face_engine();
        try {
            deserialize(shape_predictor_path) >> engine->landmarks;
            deserialize(recognition_model_path) >> engine->network;
        } catch (...) {
            delete engine;
            throw;
        }
        return engine;
    } catch (const std::exception &failure) {
        write_error(error, error_size, failure.what());
        return nullptr;
    }
}

extern "C" void dlib_face_engine_destroy(dlib_face_engine *engine) { delete engine; }

extern "C" int dlib_face_detect(
    dlib_face_engine *engine, const uint8_t *rgb, int width, int height, int upsample,
    dlib_face *faces, int capacity, char *error, size_t error_size) {
    try {
        double scale;
        const matrix<rgb_pixel> image = upsampled_image(rgb, width, height, upsample, scale);
        const std::vector<rect_detection> detections = detections_in(engine->detector, image);
        int written = 0;
        for (const auto &detection : detections) {
            if (written >= capacity) break;
            dlib_face &face = faces[written++];
            face = face_from(detection, scale);
            set_landmarks(face, engine->landmarks(image, detection.rect), scale);
        }
        return static_cast<int>(detections.size());
    } catch (const std::exception &failure) {
        write_error(error, error_size, failure.what());
        return -1;
    }
}

struct dlib_face_detector {
    frontal_face_detector detector;
};

extern "C" dlib_face_detector *dlib_face_detector_create(char *error, size_t error_size) {
    try {
        return new dlib_face_detector{decoded_frontal_face_detector()};
    } catch (const std::exception &failure) {
        write_error(error, error_size, failure.what());
        return nullptr;
    }
}

extern "C" void dlib_face_detector_destroy(dlib_face_detector *detector) { delete detector; }

extern "C" int dlib_face_detector_detect(
    dlib_face_detector *detector, const uint8_t *rgb, int width, int height, int upsample,
    dlib_face *faces, int capacity, char *error, size_t error_size) {
    try {
        double scale;
        const matrix<rgb_pixel> image = upsampled_image(rgb, width, height, upsample, scale);
        const std::vector<rect_detection> detections = detections_in(detector->detector, image);
        for (size_t index = 0; index < detections.size() && index < static_cast<size_t>(capacity); ++index) {
            faces[index] = face_from(detections[index], scale);
        }
        return static_cast<int>(detections.size());
    } catch (const std::exception &failure) {
        write_error(error, error_size, failure.what());
        return -1;
    }
}

extern "C" int dlib_face_landmarks(
    dlib_face_engine *engine, const uint8_t *rgb, int width, int height, int upsample,
    dlib_face *faces, int count, char *error, size_t error_size) {
    try {
        double scale;
        const matrix<rgb_pixel> image = upsampled_image(rgb, width, height, upsample, scale);
        for (int index = 0; index < count; ++index) {
            dlib_face &face = faces[index];
            // The box as the detector gave it (the inverse of face_from, exact for its integer corners).
            const rectangle box(std::lround(face.left * scale), std::lround(face.top * scale),
                                std::lround(face.right * scale) - 1, std::lround(face.bottom * scale) - 1);
            set_landmarks(face, engine->landmarks(image, box), scale);
        }
        return 0;
    } catch (const std::exception &failure) {
        write_error(error, error_size, failure.what());
        return -1;
    }
}

extern "C" int dlib_face_embed(
    dlib_face_engine *engine, const uint8_t *rgb, int width, int height, const dlib_face *faces, int count,
    float *embeddings, char *error, size_t error_size) {
    try {
        matrix<rgb_pixel> image = image_from(rgb, width, height);
        std::vector<matrix<rgb_pixel>> chips;
        for (int index = 0; index < count; ++index) {
            const dlib_face &face = faces[index];
            rectangle box(
                static_cast<long>(face.left), static_cast<long>(face.top),
                static_cast<long>(face.right) - 1, static_cast<long>(face.bottom) - 1);
            full_object_detection shape = engine->landmarks(image, box);
            matrix<rgb_pixel> chip;
            extract_image_chip(image, get_face_chip_details(shape, 150, 0.25), chip);
            chips.push_back(std::move(chip));
        }
        if (chips.empty()) return 0;
        std::vector<matrix<float, 0, 1>> vectors = engine->network(chips);
        for (size_t index = 0; index < vectors.size(); ++index) {
            for (long element = 0; element < 128; ++element) {
                embeddings[index * 128 + element] = vectors[index](element);
            }
        }
        return 0;
    } catch (const std::exception &failure) {
        write_error(error, error_size, failure.what());
        return -1;
    }
}
