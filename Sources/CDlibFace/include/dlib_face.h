// A small C API over dlib 19.24's face detection (HOG), 5-point landmarks and 128-D ResNet embedding, so that
// Swift never sees dlib's C++ templates. One engine per thread: dlib's detector and network are not
// thread-safe.
#ifndef DLIB_FACE_H
#define DLIB_FACE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dlib_face_engine dlib_face_engine;

/// A detected face in the pixels of the image given to `dlib_face_detect`, with its HOG score (dlib's own
/// threshold is 0) and its 5 landmarks (x, y pairs: eye corners and the nose base), whole pixels of that image.
typedef struct {
    double left, top, right, bottom;
    double score;
    double landmarks[10];
} dlib_face;

/// The two models an engine runs (the 5-point landmark predictor and the recognition network), read once for the
/// engines made at once from them, both at once on two threads. Each is read from its cache (`*_cache`, a path or
/// NULL for none: model_cache.h) when that was made from the model file as it is now, in 10–30 ms; else from the
/// model file, 50–110 ms of one core each (dlib reads them a number at a time), and the cache is written for the
/// next process (a cache that cannot be written is passed by). Returns NULL and writes a message into `error`
/// when a model cannot be read or the landmark model does not locate 5 points.
typedef struct dlib_face_models dlib_face_models;

dlib_face_models *dlib_face_models_load(
    const char *shape_predictor_path, const char *shape_predictor_cache, const char *recognition_model_path,
    const char *recognition_model_cache, char *error, size_t error_size);

/// Frees the models; engines made from them keep what they need.
void dlib_face_models_destroy(dlib_face_models *models);

/// `count` (≥ 1) engines of `models` into `engines`: they share the models' landmark predictor (safe from several
/// threads at once) and the network's weights (read-only: network_layers.h), and each runs a network of its own
/// (its layers' outputs), a copy for all but the last, which takes the models' own; the models then make no more
/// engines. Returns 0, or -1 with `error` set (no engine made) when memory runs out or the models made engines
/// already.
int dlib_face_engines_create(dlib_face_models *models, int count, dlib_face_engine **engines, char *error, size_t error_size);

void dlib_face_engine_destroy(dlib_face_engine *engine);

/// Detects faces in an RGB image (3 bytes a pixel, rows `width * 3` apart), upsampled `upsample` times
/// (each doubles the sides: smaller faces are found, 4× the time). Writes at most `capacity` faces, largest
/// first, and returns how many were found (may be more than `capacity`), or -1 with `error` set. The landmarks are
/// located in the image as given (not upsampled), from the box cut to its whole pixels: those `dlib_face_chips`
/// aligns the face by.
int dlib_face_detect(
    dlib_face_engine *engine, const uint8_t *rgb, int width, int height, int upsample,
    dlib_face *faces, int capacity, char *error, size_t error_size);

/// The side of the aligned face chip the recognition network reads, in pixels (RGB, 3 bytes a pixel).
enum { DLIB_FACE_CHIP_SIDE = 150 };

/// Each face's aligned chip (dlib's `extract_image_chip` of `DLIB_FACE_CHIP_SIDE` pixels with 0.25 padding, aligned
/// by its 5 landmarks) into `chips`, `DLIB_FACE_CHIP_SIDE`² × 3 bytes a face, rows top to bottom. Faces are those
/// `dlib_face_detect` found in the same image, or a detector's with `dlib_face_landmarks`' landmarks. Cheap beside
/// the network: a 150 × 150 resample a face.
/// Returns 0, or -1 with `error` set.
int dlib_face_chips(
    dlib_face_engine *engine, const uint8_t *rgb, int width, int height, const dlib_face *faces, int count,
    uint8_t *chips, char *error, size_t error_size);

/// The 128-D embedding of each chip (from `dlib_face_chips`) into `embeddings` (128 floats a chip): dlib's
/// ResNet (its convolutions network_layers.h's), 10–12 ms of one core a face on the development machine (dlib's own
/// network 14–16 ms, one chip a call, alternating, 2026-12-03), in mini-batches of 16.
/// Returns 0, or -1 with `error` set.
int dlib_face_embed_chips(
    dlib_face_engine *engine, const uint8_t *chips, int count, float *embeddings, char *error, size_t error_size);

/// A HOG face detector of its own (dlib's frontal detector, a few hundred kB), so that several threads can scan
/// tiles of one photo at once: one detector per thread at a time. Returns NULL and writes a message into
/// `error` on failure.
typedef struct dlib_face_detector dlib_face_detector;

dlib_face_detector *dlib_face_detector_create(char *error, size_t error_size);

void dlib_face_detector_destroy(dlib_face_detector *detector);

/// Like `dlib_face_detect`, without landmarks (left zero): the boxes and scores only, largest first, from at
/// most `levels` levels of the detector's pyramid (each 5/6 the size of the last, so level n finds faces of
/// 80 × 1.2^n pixels of the upsampled image), or every level it scans when `levels` is 0. Rows of `rgb` are
/// `stride` bytes apart (0: `width * 3`), so a tile of a larger image is scanned where it lies.
int dlib_face_detector_detect(
    dlib_face_detector *detector, const uint8_t *rgb, int width, int height, size_t stride, int upsample, int levels,
    dlib_face *faces, int capacity, char *error, size_t error_size);

/// Fills in the 5 landmarks of `count` faces whose boxes `dlib_face_detector_detect` found in the same image, with
/// the engine's predictor, as `dlib_face_detect` locates them. Returns 0, or -1 with `error` set.
int dlib_face_landmarks(
    dlib_face_engine *engine, const uint8_t *rgb, int width, int height, dlib_face *faces, int count, char *error, size_t error_size);

/// Where to keep dlib's HOG face detector decoded: `get_frontal_face_detector()` decompresses the copy dlib embeds,
/// 0.3 s of one core, on a process's first detection; with a cache file it is read in milliseconds (written
/// on the first run). Takes effect when called before the first engine or detector is made; NULL: no cache.
void dlib_face_set_detector_cache(const char *path);

/// The OpenBLAS kernels this process runs ("SkylakeX", "Haswell", "Prescott", …), or NULL when the BLAS behind
/// libblas.so.3 is not OpenBLAS.
const char *dlib_face_blas_kernels(void);

/// The best OpenBLAS kernels this CPU and its OS support, among those of OpenBLAS 0.3.21: "SkylakeX" (AVX-512
/// F, BW, VL, DQ and CD), "Haswell" (AVX2 and FMA), or NULL for neither (or a CPU other than x86-64).
const char *dlib_face_cpu_blas_kernels(void);

/// How far the engines' network (its 3×3 stride-1 convolutions by Winograd's F(2×2, 3×3), winograd_conv.h; those
/// with outputs of 3 to 16 pixels by few_pixel_conv.cpp; the first by few_channel_conv.cpp) lands from dlib's own
/// on `count` chips (as `dlib_face_embed_chips` takes them), both read from the same model file: 1 with the largest
/// difference of any embedding component in `largest_difference` (a NaN counts as larger than any); -1 when the
/// two disagree on the shape of the result; -3 when either throws (the model cannot be read, memory runs out).
int dlib_face_network_check(const char *recognition_model_path, const uint8_t *chips, int count, double *largest_difference);

/// Whether the engines' network, with elementwise_layers.h's relu, affine, add and pooling layers, gives the same
/// embeddings bit for bit as the same network with dlib's layers, on `count` chips (as `dlib_face_embed_chips`
/// takes them): 1 when every component is the same float, -1 when one is not, -3 when either throws.
int dlib_face_elementwise_network_check(const char *recognition_model_path, const uint8_t *chips, int count);

/// elementwise_layers.h's loops against dlib's (`tt::relu`, `affine_transform_conv`, `add`, max and average
/// `pooling`) on random tensors holding ±0, NaN and ±infinity, of the network's shapes and odd ones, in place and
/// not: 1 when every output is the same float, bit for bit; -1 when one is not; -3 on an exception.
int dlib_elementwise_check(void);

/// The engine's landmark predictor (landmark_model.h, read from a model file or its cache) against dlib's own
/// `shape_predictor` read from `shape_predictor_path`, locating the parts of each of `faces` in the RGB image and
/// in its grey: 1 when every part is the same pixel, -1 when one is not, -3 when either throws.
int dlib_face_landmarks_check(
    dlib_face_engine *engine, const char *shape_predictor_path, const uint8_t *rgb, int width, int height, const dlib_face *faces, int count);

/// `winograd_conv3x3` (winograd_conv.h) against the direct sum in double precision, with random data, filters and
/// biases in [−1, 1], on 1 × 1, 1 × 7, 7 × 1, 5 × 6, 2 × 3 and 35 × 35 inputs of 2–32 channels: 1 when every output
/// is within 1e-4 (`largest_error` gets the largest error; sums of up to 288 products of order 1); -1 when one is
/// not; -3 on an exception.
int dlib_winograd_check(double *largest_error);

/// `convolve_few_pixels` (few_pixel_conv.cpp: the network's convolutions with outputs of 3 to 16 pixels) against the
/// direct sum in double precision, with random data, filters and biases in [−1, 1], on the network's 256-filter
/// shapes (sums of 1,152–2,304 products) and odd ones (3–15 pixels, 7 × 7 filters, two samples, no bias): 1 when
/// every output is within 1e-4 (`largest_error` gets the largest error); 0 when this CPU lacks AVX2 or FMA (dlib's
/// convolution runs); -1 when an output or the output's shape is wrong; -2 when it refused a shape it takes; -3 on
/// an exception.
int dlib_few_pixel_conv_check(double *largest_error);

/// `convolve_few_channels` (few_channel_conv.cpp: the network's first convolution, 32 filters over the chip's
/// colours) against the direct sum in double precision, with random data, filters and biases in [−1, 1], on the
/// network's shape (7 × 7 by 2 over 3 × 150 × 150) and odd ones (1–4 channels, strides that do not divide the
/// sides, one output pixel, two samples, no bias): 1 when every output is within 1e-4 (`largest_error` gets the
/// largest error); 0 when this CPU lacks AVX2 or FMA (dlib's convolution runs); -1 when an output or the output's
/// shape is wrong; -2 when it refused a shape it takes; -3 on an exception.
int dlib_few_channel_conv_check(double *largest_error);

/// Whether the convolutions of the face network run on our img2col (img2col.cpp): 1 when libdlib.so's calls
/// reach it and it writes what dlib's writes, element for element, on the network's shapes and odd ones;
/// 0 when dlib's own runs (another dlib version, or the symbol not exported); -1 when the two differ; -2 when
/// dlib's cannot be found to compare.
int dlib_img2col_check(void);

/// Whether the HOG detector's filters run on fhog_filters.cpp's AVX2/FMA loop, checked against dlib's
/// `apply_filters_to_fhog` on the five detectors' filters and random HOG planes of the shapes pyramid levels take:
/// 1 when they run and every score agrees within 1e-4 (`largest_difference` gets the largest gap; scores are
/// sums of about 3,000 products of order 1); 0 when this CPU lacks AVX2 or FMA (dlib's loop runs); -1 when the
/// scores or their valid area differ; -2 when the fast loop refused a shape it takes; -3 on an exception.
int dlib_fhog_filters_check(double *largest_difference);

/// Whether the HOG detector builds its features with fhog_features.h (x86-64) and they are dlib's bit for bit:
/// compared with dlib's `extract_fhog_features` on grey and colour images of the shapes pyramid levels take
/// (noise, blocks, ramps). 1 when identical; 0 when dlib's own extraction runs (not x86-64); -1 when any value
/// differs; -3 on an exception.
int dlib_fhog_features_check(void);

/// Whether the detector's image pyramid (`pyramid_down<6>`, `pyramid_up`) resizes with resize_bilinear.cpp's AVX2
/// kernels and they give dlib's `resize_image` pixels exactly: compared on RGB and grey images (noise, blocks,
/// ramps) of 15 shapes, from 1 × 1 to 1,201 × 1,920, each resized 5/6, 2× and to odd sizes. 1 when identical; 0 when
/// this CPU lacks AVX2 (dlib's resize runs); -1 when any pixel differs; -3 on an exception.
int dlib_resize_check(void);

/// 1 when this CPU has AVX2 and FMA, so the HOG detector's filters run on fhog_filters.cpp's loop; else 0.
int dlib_fhog_filters_fast(void);

#ifdef __cplusplus
}
#endif

#endif
