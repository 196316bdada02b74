// The implementation of dlib_face.h. The network definition is dlib's own (examples/dnn_face_recognition_ex.cpp,
// Boost Software License): it must match the trained weights in dlib_face_recognition_resnet_model_v1.dat.

#include "conv_check.h"
#include "dlib_face.h"
#include "elementwise_layers.h"
#include "fhog_filters.h"
#include "landmark_model.h"
#include "model_cache.h"
#include "resize_bilinear.h"
#include "network_layers.h"
#if defined(__AVX__)
#include "fhog_features.h"
#endif

#include <dlib/dnn.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace dlib;

namespace {

// Networks of the same layers and weights: dlib's own (`dlib_anet_type`, kept to check ours against), and
// the one the engines run (`anet_type`), whose convolutions are network_layers.h's, each reading its layer of the
// same file: the 3×3 stride-1 ones of up to 128 filters (18 of the 29) by Winograd's F(2×2, 3×3), the others by
// dlib's method, all on weights every engine shares; and whose other layers are elementwise_layers.h's. A third,
// ours with dlib's element-wise layers (`dlib_elementwise_anet_type`), is what those layers are checked against.
/// A 3×3 convolution of `stride`. Winograd's at stride 1 up to 128 filters. The 256-filter layers run on 3 × 3 and
/// 1 × 1 inputs, where the product is bound by reading the filters (2.4 MB a layer), and Winograd's would read 16/9
/// as many.
template <int N, int stride, typename SUBNET>
using con3 = typename std::conditional<stride == 1 && N <= 128, facecluster::winograd_con<N, SUBNET>,
                                       facecluster::shared_con<N, 3, stride, SUBNET>>::type;
template <typename SUBNET> using first_con = facecluster::shared_con<32, 7, 2, SUBNET>;

template <int N, int stride, typename SUBNET> using dlib_con3 = con<N, 3, 3, stride, stride, SUBNET>;
template <typename SUBNET> using dlib_first_con = con<32, 7, 7, 2, 2, SUBNET>;

/// dlib's example network over a family of element-wise layers `L` (elementwise_layers.h), 3×3 convolutions
/// `conv3<N, stride>` and a first convolution `conv1`.
template <typename L, template <int, int, typename> class conv3, template <typename> class conv1>
struct resnet {
    template <typename SUBNET> using relu = typename L::template relu<SUBNET>;
    template <typename SUBNET> using affine = typename L::template affine<SUBNET>;

    template <int N, int stride, typename SUBNET>
    using block = affine<conv3<N, 1, relu<affine<conv3<N, stride, SUBNET>>>>>;
    template <int N, typename SUBNET>
    using residual = typename L::template add_prev1<block<N, 1, tag1<SUBNET>>>;
    template <int N, typename SUBNET>
    using residual_down = typename L::template add_prev2<typename L::template avg_pool<2, 2, 2, 2, skip1<tag2<block<N, 2, tag1<SUBNET>>>>>>;

    template <int N, typename SUBNET> using ares = relu<residual<N, SUBNET>>;
    template <int N, typename SUBNET> using ares_down = relu<residual_down<N, SUBNET>>;

    template <typename SUBNET> using alevel0 = ares_down<256, SUBNET>;
    template <typename SUBNET> using alevel1 = ares<256, ares<256, ares_down<256, SUBNET>>>;
    template <typename SUBNET> using alevel2 = ares<128, ares<128, ares_down<128, SUBNET>>>;
    template <typename SUBNET> using alevel3 = ares<64, ares<64, ares<64, ares_down<64, SUBNET>>>>;
    template <typename SUBNET> using alevel4 = ares<32, ares<32, ares<32, SUBNET>>>;

    using net = loss_metric<fc_no_bias<128, avg_pool_everything<
        alevel0<alevel1<alevel2<alevel3<alevel4<
        typename L::template max_pool<3, 3, 2, 2, relu<affine<conv1<input_rgb_image_sized<150>>>>>>>>>>>>>;
};

using anet_type = resnet<facecluster::fast_elementwise, con3, first_con>::net;
using dlib_anet_type = resnet<facecluster::dlib_elementwise, dlib_con3, dlib_first_con>::net;
/// The engines' network with dlib's element-wise layers: what `anet_type` must give bit for bit.
using dlib_elementwise_anet_type = resnet<facecluster::dlib_elementwise, con3, first_con>::net;

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

/// `image` upsampled `upsample` times (a copy when 0); `scale` is how much larger than `image` it is.
matrix<rgb_pixel> upsampled_image(const matrix<rgb_pixel> &image, int upsample, double &scale) {
    matrix<rgb_pixel> upsampled = image;
    scale = 1;
    for (int step = 0; step < upsample; ++step) {
        facecluster::pyramid_up_2(upsampled);
        scale *= 2;
    }
    return upsampled;
}

/// `rgb` as a grey image, upsampled `upsample` times, for the tiles of big photos (``dlib_face_detector_detect``)
/// and their landmarks. Grey is each pixel's mean, dlib's own intensity (`assign_pixel`), which its shape
/// predictor reads from colour pixels anyway, so landmarks are the same. The HOG detector on colour takes each
/// pixel's strongest channel gradient, on grey the one: a quarter faster (a 6 MP image: 0.63 s → 0.49 s of a
/// core) and a third of the memory, for the same faces but boxes at times a pyramid level apart, which moves
/// embeddings a little (lfw10's median F1 over 2–3-photo subsets 0.979 → 0.974 when the first pass used it too).
/// The first pass, which finds nearly every face of a library, stays on colour, as the thresholds were calibrated.
/// Rows are `stride` bytes apart (0: `width * 3`), so a tile can be read in place from a larger image.
matrix<unsigned char> upsampled_grey(const uint8_t *rgb, int width, int height, int upsample, double &scale, size_t stride = 0) {
    matrix<unsigned char> image(height, width);
    if (stride == 0) stride = static_cast<size_t>(width) * 3;
    for (long row = 0; row < height; ++row) {
        const uint8_t *line = rgb + static_cast<size_t>(row) * stride;
        unsigned char *out = &image(row, 0);
        for (long column = 0; column < width; ++column) {
            const uint8_t *pixel = line + column * 3;
            out[column] = static_cast<unsigned char>((static_cast<unsigned>(pixel[0]) + pixel[1] + pixel[2]) / 3);
        }
    }
    scale = 1;
    for (int step = 0; step < upsample; ++step) {
        facecluster::pyramid_up_2(image);
        scale *= 2;
    }
    return image;
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

/// The box a face's landmarks are located from, in the pixels of the image it was found in (not upsampled): its
/// corners cut to whole pixels. The chip the network reads is aligned by the landmarks located from it.
rectangle landmark_box(const dlib_face &face) {
    return rectangle(static_cast<long>(face.left), static_cast<long>(face.top),
                     static_cast<long>(face.right) - 1, static_cast<long>(face.bottom) - 1);
}

/// The landmarks `set_landmarks` wrote (whole pixels: located at scale 1) as dlib's shape again.
full_object_detection shape_of(const dlib_face &face) {
    std::vector<point> parts;
    for (int part = 0; part < 5; ++part) parts.emplace_back(std::lround(face.landmarks[part * 2]), std::lround(face.landmarks[part * 2 + 1]));
    return full_object_detection(landmark_box(face), parts);
}

using face_scanner = scan_fhog_pyramid<pyramid_down<6>>;

/// dlib's HOG face detector (`get_frontal_face_detector()`: five filters, one per head pose), scanning an image's
/// pyramid one level at a time. dlib's own `object_detector` extracts the HOG features of every level (31 floats
/// an 8 × 8 cell, over levels adding up to 3.3 times the image) before it filters any: with the rest, 21 MB for a
/// 1,280 px tile. One level at a time holds the largest level's features only, and can stop at the levels a
/// caller needs (`levels`). The detections are dlib's to the pixel: the same levels (each `pyramid_down<6>` of the last),
/// the same filters and thresholds, each box mapped up with `rect_up` and the same non-maximum suppression.
struct face_detector {
    face_scanner scanner;  // the configuration: cell size, window, pyramid limits
    std::vector<processed_weight_vector<face_scanner>> filters;
    std::vector<facecluster::fhog_filters> fast_filters;  // the same, for fhog_filters.cpp's loop
    test_box_overlap overlap;
    unsigned long min_width = 0, min_height = 0, max_levels = 0;
    facecluster::fhog_planes planes;  // a level's HOG features, its scores and a term's row pass: reused level to level
    array2d<float> saliency, scratch;

    /// Decodes the model. `get_frontal_face_detector()` decompresses the model it embeds on every call: 0.3 s of
    /// one core, which an ingest once paid for every engine and tile detector it made (40 % of the CPU of
    /// ingesting six 0.5–3 MP photos); copy the one ``shared()`` keeps.
    face_detector() {
        frontal_face_detector model = frontal_model();
        scanner.copy_configuration(model.get_scanner());
        min_width = scanner.get_min_pyramid_layer_width();
        min_height = scanner.get_min_pyramid_layer_height();
        max_levels = scanner.get_max_pyramid_levels();
        scanner.set_max_pyramid_levels(1);
        overlap = model.get_overlap_tester();
        for (unsigned long index = 0; index < model.num_detectors(); ++index) {
            processed_weight_vector<face_scanner> filter;
            filter.w = model.get_w(index);
            filter.init(scanner);
            fast_filters.emplace_back(filter.fb);
            filters.push_back(std::move(filter));
        }
    }

    face_detector(const face_detector &other)
        : filters(other.filters), fast_filters(other.fast_filters), overlap(other.overlap),
          min_width(other.min_width), min_height(other.min_height), max_levels(other.max_levels) {
        scanner.copy_configuration(other.scanner);
    }

    /// Where `frontal_model()` keeps the decoded model ("": nowhere); see dlib_face_set_detector_cache.
    static std::string &cache_path() {
        static std::string path;
        return path;
    }
    static std::mutex &cache_mutex() {
        static std::mutex mutex;
        return mutex;
    }

    /// dlib's frontal face detector: from the cache file when it holds one (a plain serialized object_detector
    /// reads in milliseconds), else decoded from dlib's embedded copy and written to the cache (to a temporary
    /// name, then renamed, so a reader never sees half a file). A cache that cannot be read or written is passed by.
    static frontal_face_detector frontal_model() {
        std::string path;
        {
            std::lock_guard<std::mutex> lock(cache_mutex());
            path = cache_path();
        }
        frontal_face_detector model;
        if (!path.empty()) {
            try {
                deserialize(path) >> model;
                if (model.num_detectors() == 5) return model;
            } catch (...) {
            }
        }
        model = get_frontal_face_detector();
        if (!path.empty()) {
            const std::string temporary = path + ".tmp-" + std::to_string(getpid());
            try {
                serialize(temporary) << model;
                if (std::rename(temporary.c_str(), path.c_str()) != 0) std::remove(temporary.c_str());
            } catch (...) {
                std::remove(temporary.c_str());
            }
        }
        return model;
    }

    /// The one decoded per process; copying it is safe from any thread (nothing in it changes).
    static const face_detector &shared() {
        static const face_detector detector;
        return detector;
    }

    /// Adds the windows of pyramid level `number` (`level`) that a detector scores at or above its threshold, as
    /// dlib's `scan_fhog_pyramid::detect` finds them: the level's HOG features (`load`; fhog_features.h's copy of
    /// dlib's extraction on x86-64, the same features in two thirds of the time), each detector's scores
    /// (fhog_filters.cpp's loop where the CPU has AVX2 and FMA, else dlib's `apply_filters_to_fhog`), each window
    /// mapped back to the image's pixels.
    template <typename level_type>
    void scan(const level_type &level, unsigned long number, std::vector<rect_detection> &found) {
        const long window_rows = scanner.get_fhog_window_height(), window_columns = scanner.get_fhog_window_width();
        const long box_rows = window_rows - 2 * scanner.get_padding(), box_columns = window_columns - 2 * scanner.get_padding();
        const int cell = scanner.get_cell_size();
        default_fhog_feature_extractor features;
#if defined(__AVX__)
        facecluster::extract_fhog_features_fast(level, planes, cell, window_rows, window_columns);
#else
        features(level, planes, cell, window_rows, window_columns);
#endif
        pyramid_down<6> pyramid;
        for (unsigned long index = 0; index < filters.size(); ++index) {
            const double threshold = filters[index].w(scanner.get_num_dimensions());
            rectangle area;
            if (!facecluster::apply_fhog_filters(fast_filters[index], planes, saliency, scratch, area)) {
                area = impl::apply_filters_to_fhog(filters[index].get_detect_argument(), planes, saliency);
            }
            for (long r = area.top(); r <= area.bottom(); ++r) {
                for (long c = area.left(); c <= area.right(); ++c) {
                    if (!(saliency[r][c] >= threshold)) continue;  // dlib's test, word for word
                    rect_detection detection;
                    detection.detection_confidence = saliency[r][c] - threshold;
                    detection.weight_index = index;
                    const rectangle window = features.feats_to_image(
                        centered_rect(point(c, r), box_columns, box_rows), cell, window_rows, window_columns);
                    detection.rect = pyramid.rect_up(window, number);
                    found.push_back(detection);
                }
            }
        }
    }

    /// The faces in `image`, largest first, from at most `levels` pyramid levels (0: every level dlib scans).
    template <typename image_type>
    std::vector<rect_detection> operator()(const image_type &image, unsigned long levels = 0) {
        pyramid_down<6> pyramid;
        // As many levels as dlib's create_fhog_pyramid makes.
        unsigned long count = 0;
        rectangle rect = get_rect(image);
        const unsigned long limit = levels > 0 ? std::min(levels, max_levels) : max_levels;
        do {
            rect = pyramid.rect_down(rect);
            ++count;
        } while (rect.width() >= static_cast<long>(min_width) && rect.height() >= static_cast<long>(min_height) && count < limit);

        std::vector<rect_detection> found;
        array2d<typename image_traits<image_type>::pixel_type> level, next;
        for (unsigned long number = 0; number < count; ++number) {
            if (number == 0) {
                scan(image, number, found);
            } else {
                if (number == 1) facecluster::pyramid_down_6(image, next); else facecluster::pyramid_down_6(level, next);
                swap(level, next);
                scan(level, number, found);
            }
        }
        // object_detector's non-maximum suppression: best first, dropping any box that overlaps one kept. Stable, so
        // windows of exactly equal scores keep the order they were found in (detector, then row, then column).
        std::stable_sort(found.begin(), found.end(), [](const rect_detection &a, const rect_detection &b) {
            return a.detection_confidence > b.detection_confidence;
        });
        std::vector<rect_detection> kept;
        for (const auto &detection : found) {
            if (std::none_of(kept.begin(), kept.end(), [&](const rect_detection &other) { return overlap(other.rect, detection.rect); })) {
                kept.push_back(detection);
            }
        }
        std::sort(kept.begin(), kept.end(), [](const rect_detection &a, const rect_detection &b) {
            return a.rect.area() > b.rect.area();
        });
        return kept;
    }
};

}  // namespace

/// The two models as read from their files, for the engines made at once from them (`dlib_face_engines_create`):
/// they share the landmark predictor (dlib's shape predictor, safe to use from several threads at once) and
/// each runs a network of its own (a forward pass writes into its layers' outputs), all on one set of weights
/// (network_layers.h).
struct dlib_face_models {
    std::shared_ptr<const facecluster::landmark_model> landmarks;
    anet_type network;
    bool used = false;  // the network went to engines
};

struct dlib_face_engine {
    face_detector detector = face_detector::shared();
    std::shared_ptr<const facecluster::landmark_model> landmarks;
    anet_type network;
    facecluster::winograd_scratch scratch;  // lent to the network's Winograd layers while it runs
};

/// OpenBLAS (Debian's libopenblas0-pthread behind libblas.so.3) runs each matrix product on a thread per core,
/// spinning while it waits. The engine already analyses one photo per core, so those threads only fight each
/// other (a fifth of the CPU went to sched_yield): one BLAS thread per analysis. Its threads, started when it is
/// loaded, are then shut down (a product on one thread runs on its caller's): each spins on sched_yield for 2^28
/// cycles, about 0.1 s, before it sleeps, a core taken from a process's start, where the models are read.
/// Looked up at run time, as another BLAS may stand behind libblas.so.3.
static void use_one_blas_thread() {
    static std::once_flag once;  // setting one thread again would start OpenBLAS's threads again, to stop them
    std::call_once(once, [] {
        using set_threads = void (*)(int);
        using shutdown = int (*)(void);
        if (auto set = reinterpret_cast<set_threads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
            set(1);
            if (auto stop = reinterpret_cast<shutdown>(dlsym(RTLD_DEFAULT, "blas_thread_shutdown_"))) stop();
        }
    });
}

/// As soon as the process starts: an executable's constructors run after its libraries' (OpenBLAS's started
/// its threads), before main. Every program linking this module runs its BLAS on one thread a caller.
__attribute__((constructor)) static void use_one_blas_thread_from_the_start() { use_one_blas_thread(); }

extern "C" void dlib_face_set_detector_cache(const char *path) {
    std::lock_guard<std::mutex> lock(face_detector::cache_mutex());
    face_detector::cache_path() = path ? path : "";
}

extern "C" const char *dlib_face_blas_kernels(void) {
    using corename = char *(*)(void);
    auto name = reinterpret_cast<corename>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    return name ? name() : nullptr;
}

extern "C" const char *dlib_face_cpu_blas_kernels(void) {
#if defined(__x86_64__)
    // __builtin_cpu_supports also checks that the OS saves the vector registers (XCR0), as OpenBLAS does.
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512cd")) return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
    return nullptr;
}

extern "C" dlib_face_models *dlib_face_models_load(
    const char *shape_predictor_path, const char *shape_predictor_cache, const char *recognition_model_path,
    const char *recognition_model_cache, char *error, size_t error_size) {
    use_one_blas_thread();
    try {
        auto models = std::make_unique<dlib_face_models>();
        auto landmarks = std::make_shared<facecluster::landmark_model>();
        // Both at once: from their caches, 10–30 ms; from dlib's files (each number through an istream), 50–110 ms
        // of one core a file.
        const std::string landmarks_path = shape_predictor_path;
        const std::string landmarks_cache = shape_predictor_cache ? shape_predictor_cache : "";
        std::exception_ptr landmarks_failure;
        std::thread reader([&] {
            try {
                facecluster::read_model(
                    *landmarks, landmarks_path, landmarks_cache, "landmark_model 1",
                    [](facecluster::landmark_model &model, std::istream &in) { facecluster::deserialize(model, in); },
                    [](facecluster::landmark_model &model, std::istream &in) { facecluster::read_cache(model, in); },
                    [](const facecluster::landmark_model &model, std::ostream &out) { facecluster::write_cache(model, out); });
            } catch (...) {
                landmarks_failure = std::current_exception();
            }
        });
        try {
            // The network's convolutions read either form (network_layers.h); dlib's other layers are small.
            const auto read = [](anet_type &network, std::istream &in) { deserialize(network, in); };
            facecluster::read_model(
                models->network, recognition_model_path, recognition_model_cache ? recognition_model_cache : "",
                "anet_type of network_layers.h 1", read, read,
                [](const anet_type &network, std::ostream &out) { serialize(network, out); });
        } catch (...) {
            reader.join();
            throw;
        }
        reader.join();
        if (landmarks_failure) std::rethrow_exception(landmarks_failure);
        // The chips are aligned by dlib's 5-point model (shape_of, get_face_chip_details); a 68-point model in its
        // place would put jaw points where the eyes belong.
        if (landmarks->num_parts() != 5) {
            throw std::runtime_error(landmarks_path + " locates " + std::to_string(landmarks->num_parts()) +
                                     " landmarks, not the 5 of dlib's shape_predictor_5_face_landmarks.dat");
        }
        models->landmarks = std::move(landmarks);
        return models.release();
    } catch (const std::exception &failure) {
        write_error(error, error_size, failure.what());
        return nullptr;
    }
}

extern "C" void dlib_face_models_destroy(dlib_face_models *models) { delete models; }

extern "C" int dlib_face_engines_create(dlib_face_models *models, int count, dlib_face_engine **engines, char *error, size_t error_size) {
    std::vector<std::unique_ptr<dlib_face_engine>> made;
    try {
        if (models->used) throw std::logic_error("these models' network went to engines already");
        for (int index = 0; index < count; ++index) {
            auto engine = std::make_unique<dlib_face_engine>();
            engine->landmarks = models->landmarks;
            if (index + 1 < count) {
                engine->network = models->network;
            } else {
                engine->network = std::move(models->network);
                models->used = true;
            }
            made.push_back(std::move(engine));
        }
        for (int index = 0; index < count; ++index) engines[index] = made[index].release();
        return 0;
    } catch (const std::exception &failure) {
        write_error(error, error_size, failure.what());
        return -1;
    }
}

extern "C" void dlib_face_engine_destroy(dlib_face_engine *engine) { delete engine; }

extern "C" int dlib_face_detect(
    dlib_face_engine *engine, const uint8_t *rgb, int width, int height, int upsample,
    dlib_face *faces, int capacity, char *error, size_t error_size) {
    try {
        const matrix<rgb_pixel> original = image_from(rgb, width, height);
        double scale = 1;
        matrix<rgb_pixel> upsampled;
        if (upsample > 0) upsampled = upsampled_image(original, upsample, scale);
        const std::vector<rect_detection> detections = engine->detector(upsample > 0 ? upsampled : original);
        int written = 0;
        for (const auto &detection : detections) {
            if (written >= capacity) break;
            dlib_face &face = faces[written++];
            face = face_from(detection, scale);
            set_landmarks(face, (*engine->landmarks)(original, landmark_box(face)), 1);
        }
        return static_cast<int>(detections.size());
    } catch (const std::exception &failure) {
        write_error(error, error_size, failure.what());
        return -1;
    }
}

struct dlib_face_detector {
    face_detector detector;
};

extern "C" dlib_face_detector *dlib_face_detector_create(char *error, size_t error_size) {
    try {
        return new dlib_face_detector{face_detector::shared()};
    } catch (const std::exception &failure) {
        write_error(error, error_size, failure.what());
        return nullptr;
    }
}

extern "C" void dlib_face_detector_destroy(dlib_face_detector *detector) { delete detector; }

extern "C" int dlib_face_detector_detect(
    dlib_face_detector *detector, const uint8_t *rgb, int width, int height, size_t stride, int upsample, int levels,
    dlib_face *faces, int capacity, char *error, size_t error_size) {
    try {
        double scale;
        const matrix<unsigned char> image = upsampled_grey(rgb, width, height, upsample, scale, stride);
        const std::vector<rect_detection> detections = detector->detector(image, static_cast<unsigned long>(std::max(levels, 0)));
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
    dlib_face_engine *engine, const uint8_t *rgb, int width, int height, dlib_face *faces, int count, char *error, size_t error_size) {
    try {
        double scale;
        const matrix<unsigned char> image = upsampled_grey(rgb, width, height, 0, scale);
        for (int index = 0; index < count; ++index) {
            set_landmarks(faces[index], (*engine->landmarks)(image, landmark_box(faces[index])), 1);
        }
        return 0;
    } catch (const std::exception &failure) {
        write_error(error, error_size, failure.what());
        return -1;
    }
}

extern "C" int dlib_face_chips(
    dlib_face_engine *engine, const uint8_t *rgb, int width, int height, const dlib_face *faces, int count,
    uint8_t *chips, char *error, size_t error_size) {
    try {
        const matrix<rgb_pixel> image = image_from(rgb, width, height);
        const size_t chip_bytes = static_cast<size_t>(DLIB_FACE_CHIP_SIDE) * DLIB_FACE_CHIP_SIDE * 3;
        for (int index = 0; index < count; ++index) {
            matrix<rgb_pixel> chip;
            extract_image_chip(image, get_face_chip_details(shape_of(faces[index]), DLIB_FACE_CHIP_SIDE, 0.25), chip);
            if (chip.nr() != DLIB_FACE_CHIP_SIDE || chip.nc() != DLIB_FACE_CHIP_SIDE) throw std::runtime_error("a face chip of an unexpected size");
            uint8_t *out = chips + static_cast<size_t>(index) * chip_bytes;
            for (long row = 0; row < chip.nr(); ++row) {
                for (long column = 0; column < chip.nc(); ++column, out += 3) {
                    const rgb_pixel &pixel = chip(row, column);
                    out[0] = pixel.red;
                    out[1] = pixel.green;
                    out[2] = pixel.blue;
                }
            }
        }
        return 0;
    } catch (const std::exception &failure) {
        write_error(error, error_size, failure.what());
        return -1;
    }
}

namespace {
/// `count` chips of `DLIB_FACE_CHIP_SIDE`² RGB pixels, as the network reads them.
std::vector<matrix<rgb_pixel>> chip_images(const uint8_t *chips, int count) {
    std::vector<matrix<rgb_pixel>> batch(static_cast<size_t>(count));
    const uint8_t *in = chips;
    for (auto &chip : batch) {
        chip.set_size(DLIB_FACE_CHIP_SIDE, DLIB_FACE_CHIP_SIDE);
        for (long row = 0; row < chip.nr(); ++row) {
            for (long column = 0; column < chip.nc(); ++column, in += 3) chip(row, column) = rgb_pixel(in[0], in[1], in[2]);
        }
    }
    return batch;
}
}  // namespace

extern "C" int dlib_face_embed_chips(
    dlib_face_engine *engine, const uint8_t *chips, int count, float *embeddings, char *error, size_t error_size) {
    try {
        if (count <= 0) return 0;
        const std::vector<matrix<rgb_pixel>> batch = chip_images(chips, count);
        // Mini-batches of 16 chips, not dlib's default 128: a batch's activations are held at once, and a crowd
        // photo's tiles of ~100 faces took `ingest` to 718 MB (a crafted 48 MP HEIC of 2,961 faces; 301 MB with
        // 16, in the same 65 s; lfw10's 100 photos the same 3.4–3.6 s either way).
        const facecluster::scratch_lease lease(engine->scratch);
        std::vector<matrix<float, 0, 1>> vectors = engine->network(batch, 16);
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

extern "C" int dlib_winograd_check(double *largest_error) {
    if (largest_error) *largest_error = 0;
    try {
        // channels, height, width, filters: 1 × 1, a row, a column, odd and even sides, the network's 35 × 35.
        const long shapes[][4] = {{3, 1, 1, 2}, {2, 1, 7, 3}, {2, 7, 1, 3}, {5, 5, 6, 4}, {4, 2, 3, 1}, {32, 35, 35, 32}};
        std::mt19937 random(11);
        std::uniform_real_distribution<float> value(-1.0f, 1.0f);
        double largest = 0;
        facecluster::winograd_scratch scratch;
        for (const auto &shape : shapes) {
            const long channels = shape[0], height = shape[1], width = shape[2], filters = shape[3];
            facecluster::convolution_weights weights;  // dlib's convolution: no flip, zero padding of 1
            weights.channels = channels;
            weights.padding_y = weights.padding_x = 1;
            weights.filters.set_size(filters, channels, 3, 3);
            weights.bias.set_size(1, filters);
            dlib::resizable_tensor data(1, channels, height, width), output(1, filters, height, width);
            for (dlib::resizable_tensor *values : {&data, &weights.filters, &weights.bias}) {
                for (float &v : *values) v = value(random);
            }
            const std::vector<float> transformed = facecluster::winograd_filters(weights.filters.host(), filters, channels);
            facecluster::winograd_conv3x3(data.host(), channels, height, width, transformed.data(), filters, weights.bias.host(),
                                          output.host(), scratch);
            const double error = facecluster::largest_convolution_error(data, weights, 3, 1, output);
            if (!(error <= largest)) largest = error;  // a NaN counts too
        }
        if (largest_error) *largest_error = largest;
        return largest < 1e-4 ? 1 : -1;
    } catch (const std::exception &) {
        return -3;
    }
}

/// The embeddings a network of type `Network`, read from `path`, gives `batch`.
template <typename Network>
std::vector<matrix<float, 0, 1>> embeddings_with(const char *path, const std::vector<matrix<rgb_pixel>> &batch) {
    Network network;
    deserialize(path) >> network;
    return network(batch, 16);
}

extern "C" int dlib_face_network_check(
    const char *recognition_model_path, const uint8_t *chips, int count, double *largest_difference) {
    if (largest_difference) *largest_difference = 0;
    try {
        const std::vector<matrix<rgb_pixel>> batch = chip_images(chips, count);
        const auto a = embeddings_with<anet_type>(recognition_model_path, batch);
        const auto b = embeddings_with<dlib_anet_type>(recognition_model_path, batch);
        if (a.size() != b.size()) return -1;
        double largest = 0;
        for (size_t index = 0; index < a.size(); ++index) {
            if (a[index].size() != 128 || b[index].size() != 128) return -1;
            for (long element = 0; element < 128; ++element) {
                const double difference = std::fabs(double(a[index](element)) - double(b[index](element)));
                if (!(difference <= largest)) largest = difference;  // a NaN counts too
            }
        }
        if (largest_difference) *largest_difference = largest;
        return 1;
    } catch (const std::exception &) {
        return -3;
    }
}

extern "C" int dlib_face_elementwise_network_check(const char *recognition_model_path, const uint8_t *chips, int count) {
    try {
        const std::vector<matrix<rgb_pixel>> batch = chip_images(chips, count);
        const auto a = embeddings_with<anet_type>(recognition_model_path, batch);
        const auto b = embeddings_with<dlib_elementwise_anet_type>(recognition_model_path, batch);
        if (a.size() != b.size()) return -1;
        for (size_t index = 0; index < a.size(); ++index) {
            if (a[index].size() != 128 || b[index].size() != 128) return -1;
            if (std::memcmp(&a[index](0), &b[index](0), 128 * sizeof(float)) != 0) return -1;
        }
        return 1;
    } catch (const std::exception &) {
        return -3;
    }
}

extern "C" int dlib_elementwise_check(void) {
    try {
        std::mt19937 random(17);
        std::uniform_real_distribution<float> value(-2.0f, 2.0f);
        // Random values with the edge cases sprinkled in: both zeros, a NaN, both infinities.
        const auto fill = [&](dlib::tensor &t) {
            const float special[] = {0.0f, -0.0f, std::nanf(""), INFINITY, -INFINITY};
            float *p = t.host();
            for (size_t i = 0; i < t.size(); ++i) p[i] = i % 97 == 13 ? special[(i / 97) % 5] : value(random);
        };
        const auto same = [](const dlib::tensor &a, const dlib::tensor &b) {
            return have_same_dimensions(a, b) && std::memcmp(a.host(), b.host(), a.size() * sizeof(float)) == 0;
        };
        // samples, channels, rows, columns: the network's shapes (after the first layer, in its levels) and odd ones.
        const long shapes[][4] = {{1, 32, 72, 72}, {1, 32, 35, 35}, {1, 64, 17, 17}, {2, 128, 8, 8}, {1, 3, 5, 7}, {3, 1, 9, 2}};
        for (const auto &shape : shapes) {
            resizable_tensor data(shape[0], shape[1], shape[2], shape[3]), other, expected, actual;
            fill(data);
            other.copy_size(data);
            fill(other);

            expected.copy_size(data);
            tt::relu(expected, data);
            actual = data;
            facecluster::elementwise::relu(actual.host(), actual.host(), actual.size());  // in place
            if (!same(expected, actual)) return -1;
            actual.copy_size(data);
            facecluster::elementwise::relu(data.host(), actual.host(), data.size());
            if (!same(expected, actual)) return -1;

            resizable_tensor scale(1, shape[1]), shift(1, shape[1]);
            fill(scale);
            fill(shift);
            tt::affine_transform_conv(expected, data, scale, shift);
            actual = data;
            facecluster::elementwise::affine(actual.host(), actual.host(), shape[0], shape[1], shape[2] * shape[3], scale.host(), shift.host());
            if (!same(expected, actual)) return -1;
            actual.copy_size(data);
            facecluster::elementwise::affine(data.host(), actual.host(), shape[0], shape[1], shape[2] * shape[3], scale.host(), shift.host());
            if (!same(expected, actual)) return -1;

            tt::add(expected, data, other);
            actual.copy_size(data);
            facecluster::elementwise::add(data.host(), other.host(), actual.host(), data.size());
            if (!same(expected, actual)) return -1;

            // Windows of 3 × 3 by 2 (the network's max pool), 2 × 2 by 2 (its average pools), 3 × 2 by 3 and 2.
            const long windows[][4] = {{3, 3, 2, 2}, {2, 2, 2, 2}, {3, 2, 3, 2}};
            for (const auto &window : windows) {
                if (shape[2] < window[0] || shape[3] < window[1]) continue;
                for (const bool maximum : {true, false}) {
                    tt::pooling pooling;
                    if (maximum) {
                        pooling.setup_max_pooling(window[0], window[1], window[2], window[3], 0, 0);
                    } else {
                        pooling.setup_avg_pooling(window[0], window[1], window[2], window[3], 0, 0);
                    }
                    pooling(expected, data);
                    actual.set_size(shape[0], shape[1], 1 + (shape[2] - window[0]) / window[2], 1 + (shape[3] - window[1]) / window[3]);
                    const auto pool = maximum ? facecluster::elementwise::pool<true> : facecluster::elementwise::pool<false>;
                    pool(data.host(), shape[0] * shape[1], shape[2], shape[3], window[0], window[1], window[2], window[3],
                         actual.host(), actual.nr(), actual.nc());
                    if (!same(expected, actual)) return -1;
                }
            }
        }
        return 1;
    } catch (const std::exception &) {
        return -3;
    }
}

extern "C" int dlib_face_landmarks_check(
    dlib_face_engine *engine, const char *shape_predictor_path, const uint8_t *rgb, int width, int height, const dlib_face *faces, int count) {
    try {
        shape_predictor theirs;
        deserialize(shape_predictor_path) >> theirs;
        const matrix<rgb_pixel> colour = image_from(rgb, width, height);
        double scale;
        const matrix<unsigned char> grey = upsampled_grey(rgb, width, height, 0, scale);
        for (int index = 0; index < count; ++index) {
            const rectangle box = landmark_box(faces[index]);
            const full_object_detection a = (*engine->landmarks)(colour, box), b = theirs(colour, box);
            const full_object_detection c = (*engine->landmarks)(grey, box), d = theirs(grey, box);
            if (a.num_parts() != b.num_parts() || c.num_parts() != d.num_parts() || a.num_parts() != 5) return -1;
            for (unsigned long part = 0; part < a.num_parts(); ++part) {
                if (a.part(part) != b.part(part) || c.part(part) != d.part(part)) return -1;
            }
        }
        return 1;
    } catch (const std::exception &) {
        return -3;
    }
}

extern "C" int dlib_fhog_filters_fast(void) { return facecluster::fhog_filters_fast() ? 1 : 0; }

extern "C" int dlib_fhog_filters_check(double *largest_difference) {
    if (largest_difference) *largest_difference = 0;
    if (!facecluster::fhog_filters_fast()) return 0;
    try {
        face_detector detector = face_detector::shared();
        std::mt19937 random(7);
        // HOG features lie in [0, 0.5] (dlib clips at 0.2 and sums four of them).
        std::uniform_real_distribution<float> feature(0.0f, 0.5f);
        // Levels' shapes: the smallest the fast loop takes (17 columns), under 10 rows (no valid window), odd
        // widths that end in a part chunk, a 500 px photo's first level (62 × 62 cells plus padding) and a tile's.
        const long shapes[][2] = {{17, 17}, {9, 40}, {40, 25}, {23, 100}, {71, 71}, {169, 178}};
        double largest = 0;
        for (const auto &shape : shapes) {
            facecluster::fhog_planes planes;
            planes.set_max_size(31);
            planes.set_size(31);
            for (unsigned long plane = 0; plane < planes.size(); ++plane) {
                planes[plane].set_size(shape[0], shape[1]);
                for (long r = 0; r < shape[0]; ++r) {
                    for (long c = 0; c < shape[1]; ++c) planes[plane][r][c] = feature(random);
                }
            }
            for (unsigned long index = 0; index < detector.filters.size(); ++index) {
                array2d<float> ours, theirs, scratch;
                rectangle area;
                if (!facecluster::apply_fhog_filters(detector.fast_filters[index], planes, ours, scratch, area)) return -2;
                const rectangle expected = impl::apply_filters_to_fhog(detector.filters[index].get_detect_argument(), planes, theirs);
                if (area != expected) return -1;
                for (long r = area.top(); r <= area.bottom(); ++r) {
                    for (long c = area.left(); c <= area.right(); ++c) {
                        const double difference = std::abs(ours[r][c] - theirs[r][c]);
                        if (!(difference <= largest)) largest = difference;  // a NaN counts too
                    }
                }
            }
        }
        if (largest_difference) *largest_difference = largest;
        return largest <= 1e-4 ? 1 : -1;
    } catch (...) {
        return -3;
    }
}

/// Grey and colour images of each of `shapes` (rows, columns) for the checks below, noise, blocks (ties between
/// channels, gradients of 0) and ramps, from `seed`: `same(grey, colour)` for each until one answers false.
template <size_t count, typename check_type>
static bool all_check_images(const long (&shapes)[count][2], unsigned seed, check_type same) {
    std::mt19937 random(seed);
    for (const auto &shape : shapes) {
        for (int kind = 0; kind < 3; ++kind) {
            array2d<unsigned char> grey(shape[0], shape[1]);
            array2d<rgb_pixel> colour(shape[0], shape[1]);
            for (long r = 0; r < shape[0]; ++r) {
                for (long c = 0; c < shape[1]; ++c) {
                    const unsigned char block = (r / 3 + c / 5) % 2 ? 180 : 40;
                    const unsigned char ramp = static_cast<unsigned char>((r * 7 + c * 3 + random() % 3) % 256);
                    grey[r][c] = kind == 0 ? random() % 256 : kind == 1 ? block : ramp;
                    colour[r][c] = kind == 0 ? rgb_pixel(random() % 256, random() % 256, random() % 256)
                                 : kind == 1 ? rgb_pixel(block, block, random() % 2 ? block : 255 - block)
                                             : rgb_pixel(ramp, ramp, ramp);
                }
            }
            if (!same(grey, colour)) return false;
        }
    }
    return true;
}

extern "C" int dlib_fhog_features_check(void) {
#if defined(__AVX__)
    try {
        // Level shapes: too small for any feature, 1–5 cells (a chunk or two, then the scalar tail), odd sizes whose
        // vector loop ends in a scalar tail, a first pass's and a tile's.
        const long shapes[][2] = {{9, 9}, {24, 8}, {17, 23}, {24, 24}, {33, 41}, {41, 57}, {80, 80}, {81, 95}, {100, 257}, {333, 170}, {640, 481}};
        auto same = [](const facecluster::fhog_planes &a, const facecluster::fhog_planes &b) {
            if (a.size() != b.size()) return false;
            for (unsigned long p = 0; p < a.size(); ++p) {
                if (a[p].nr() != b[p].nr() || a[p].nc() != b[p].nc()) return false;
                for (long r = 0; r < a[p].nr(); ++r) {
                    if (std::memcmp(&a[p][r][0], &b[p][r][0], sizeof(float) * a[p].nc()) != 0) return false;
                }
            }
            return true;
        };
        const bool identical = all_check_images(shapes, 11, [&](const array2d<unsigned char> &grey, const array2d<rgb_pixel> &colour) {
            facecluster::fhog_planes ours, theirs;
            facecluster::extract_fhog_features_fast(grey, ours, 8, 10, 10);
            extract_fhog_features(grey, theirs, 8, 10, 10);
            if (!same(ours, theirs)) return false;
            facecluster::extract_fhog_features_fast(colour, ours, 8, 10, 10);
            extract_fhog_features(colour, theirs, 8, 10, 10);
            return same(ours, theirs);
        });
        if (!identical) return -1;
        return 1;
    } catch (...) {
        return -3;
    }
#else
    return 0;
#endif
}

extern "C" int dlib_resize_check(void) {
    if (!facecluster::resize_bilinear_fast()) return 0;
    try {
        // Input shapes: single pixels and rows, shapes dlib's 4-lane loop never enters or leaves after one group,
        // odd ones, a first pass's and a tile's. Each is resized as the pyramid does (5/6, 2×) and to odd sizes.
        const long shapes[][2] = {{1, 1}, {1, 9}, {9, 1}, {2, 2}, {3, 7}, {6, 6}, {7, 13}, {17, 23}, {40, 41}, {80, 80},
                                  {100, 257}, {333, 170}, {500, 500}, {640, 481}, {1201, 1920}};
        auto same = [](const auto &a_, const auto &b_) {
            const_image_view<std::decay_t<decltype(a_)>> a(a_);
            const_image_view<std::decay_t<decltype(b_)>> b(b_);
            if (a.nr() != b.nr() || a.nc() != b.nc()) return false;
            for (long r = 0; r < a.nr(); ++r) {
                for (long c = 0; c < a.nc(); ++c) {
                    if (!(a[r][c] == b[r][c])) return false;
                }
            }
            return true;
        };
        const bool identical = all_check_images(shapes, 13, [&](const array2d<unsigned char> &grey, const array2d<rgb_pixel> &colour) {
            const long rows = grey.nr(), columns = grey.nc();
            const long sizes[][2] = {{(5 * rows) / 6, (5 * columns) / 6}, {2 * rows, 2 * columns},
                                     {rows + 3, std::max(1L, columns / 3)}, {1, columns}, {rows, 1}};
            for (const auto &size : sizes) {
                if (size[0] <= 0 || size[1] <= 0) continue;
                array2d<unsigned char> grey_ours(size[0], size[1]), grey_theirs(size[0], size[1]);
                facecluster::resize_image_bilinear(grey, grey_ours);
                resize_image(grey, grey_theirs, interpolate_bilinear());
                if (!same(grey_ours, grey_theirs)) return false;
                array2d<rgb_pixel> colour_ours(size[0], size[1]), colour_theirs(size[0], size[1]);
                facecluster::resize_image_bilinear(colour, colour_ours);
                resize_image(colour, colour_theirs, interpolate_bilinear());
                if (!same(colour_ours, colour_theirs)) return false;
            }
            // The detector's own steps, from a matrix as the first level is.
            matrix<rgb_pixel> image = mat(colour), up_ours = image, up_theirs = image;
            facecluster::pyramid_up_2(up_ours);
            pyramid_up(up_theirs);
            if (!same(up_ours, up_theirs)) return false;
            array2d<rgb_pixel> down_ours, down_theirs;
            facecluster::pyramid_down_6(image, down_ours);
            pyramid_down<6>()(image, down_theirs);
            if (!same(down_ours, down_theirs)) return false;
            matrix<unsigned char> grey_image = mat(grey), grey_up_ours = grey_image, grey_up_theirs = grey_image;
            facecluster::pyramid_up_2(grey_up_ours);
            pyramid_up(grey_up_theirs);
            return same(grey_up_ours, grey_up_theirs);
        });
        if (!identical) return -1;
        return 1;
    } catch (...) {
        return -3;
    }
}
