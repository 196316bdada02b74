// dlib's shape predictor (`dlib::shape_predictor`, image_processing/shape_predictor.h, Boost Software License),
// with its parts in reach: the same trees read from the same file and run by the same arithmetic (operator() is
// dlib's, step for step), so the landmarks are dlib's to the bit. dlib keeps the parts private, in a vector a
// tree and a matrix a leaf (120,000 allocations for the 5-point model), so its predictor can only be read in
// dlib's portable format, 50–110 ms of a core for the 9 MB model. This one keeps all trees' splits in one array
// and all leaves in another, and is also kept in model_cache.h's form, read in a few milliseconds.
#ifndef LANDMARK_MODEL_H
#define LANDMARK_MODEL_H

#include "model_cache.h"

#include <dlib/image_processing/shape_predictor.h>

#include <istream>
#include <ostream>
#include <vector>

namespace facecluster {

/// A regression tree of a cascade: `split_count` splits from `first_split` of the model's splits (a full binary
/// tree, node `i`'s children at 2i + 1 and 2i + 2), and `split_count` + 1 leaves from leaf `first_leaf`.
struct landmark_tree {
    uint64_t first_split = 0, split_count = 0, first_leaf = 0;
};

struct landmark_model {
    dlib::matrix<float, 0, 1> initial_shape;  // the mean shape: x, y of each part, in the box's normalized space
    std::vector<std::vector<landmark_tree>> forests;  // a forest a cascade
    std::vector<dlib::impl::split_feature> splits;  // every tree's, tree after tree
    std::vector<float> leaves;  // every leaf's shape change, `initial_shape.size()` floats a leaf
    std::vector<std::vector<unsigned long>> anchor_idx;  // a cascade's feature pixels: the part each is placed from
    std::vector<std::vector<dlib::vector<float, 2>>> deltas;  // and its offset from that part

    unsigned long num_parts() const { return initial_shape.size() / 2; }

    /// The parts located in `rect` of `img`: dlib's `shape_predictor::operator()`, each tree walked as
    /// `regression_tree::operator()` walks it and its leaf added as dlib adds it (a float sum an element).
    template <typename image_type>
    dlib::full_object_detection operator()(const image_type &img, const dlib::rectangle &rect) const {
        using namespace dlib::impl;
        dlib::matrix<float, 0, 1> current_shape = initial_shape;
        const long size = current_shape.size();
        std::vector<float> feature_pixel_values;
        for (unsigned long iter = 0; iter < forests.size(); ++iter) {
            extract_feature_pixel_values(img, rect, current_shape, initial_shape, anchor_idx[iter], deltas[iter], feature_pixel_values);
            for (const landmark_tree &tree : forests[iter]) {
                const split_feature *split = splits.data() + tree.first_split;
                uint64_t i = 0;
                while (i < tree.split_count) {
                    if (feature_pixel_values[split[i].idx1] - feature_pixel_values[split[i].idx2] > split[i].thresh) {
                        i = left_child(i);
                    } else {
                        i = right_child(i);
                    }
                }
                const float *leaf = leaves.data() + (tree.first_leaf + i - tree.split_count) * size;
                for (long k = 0; k < size; ++k) current_shape(k) += leaf[k];
            }
        }
        const dlib::point_transform_affine tform_to_img = unnormalizing_tform(rect);
        std::vector<dlib::point> parts(size / 2);
        for (unsigned long i = 0; i < parts.size(); ++i) parts[i] = tform_to_img(location(current_shape, i));
        return dlib::full_object_detection(rect, parts);
    }

    /// Throws dlib::serialization_error unless every tree's splits, leaves and feature pixels are within the
    /// model's arrays (a damaged cache, or a file that is no shape predictor).
    void check() const {
        const auto fail = [] { throw dlib::serialization_error("a damaged shape predictor"); };
        const uint64_t size = initial_shape.size();
        if (size == 0 || size % 2 != 0 || anchor_idx.size() != forests.size() || deltas.size() != forests.size()) fail();
        for (unsigned long cascade = 0; cascade < forests.size(); ++cascade) {
            if (deltas[cascade].size() != anchor_idx[cascade].size()) fail();
            for (const unsigned long anchor : anchor_idx[cascade]) {
                if (anchor >= num_parts()) fail();
            }
            for (const landmark_tree &tree : forests[cascade]) {
                if (tree.first_split > splits.size() || tree.split_count > splits.size() - tree.first_split) fail();
                if (tree.first_leaf > leaves.size() / size || tree.split_count + 1 > leaves.size() / size - tree.first_leaf) fail();
                for (uint64_t index = tree.first_split; index < tree.first_split + tree.split_count; ++index) {
                    if (splits[index].idx1 >= anchor_idx[cascade].size() || splits[index].idx2 >= anchor_idx[cascade].size()) fail();
                }
            }
        }
    }
};

/// Reads a shape predictor as dlib wrote it (`serialize(const shape_predictor&)`), its trees into the model's
/// arrays.
inline void deserialize(landmark_model &model, std::istream &in) {
    int version = 0;
    dlib::deserialize(version, in);
    if (version != 1) throw dlib::serialization_error("Unexpected version found while deserializing dlib::shape_predictor.");
    std::vector<std::vector<dlib::impl::regression_tree>> forests;
    dlib::deserialize(model.initial_shape, in);
    dlib::deserialize(forests, in);
    dlib::deserialize(model.anchor_idx, in);
    dlib::deserialize(model.deltas, in);
    const long size = model.initial_shape.size();
    model.forests.assign(forests.size(), {});
    model.splits.clear();
    model.leaves.clear();
    for (unsigned long cascade = 0; cascade < forests.size(); ++cascade) {
        for (const dlib::impl::regression_tree &tree : forests[cascade]) {
            if (tree.leaf_values.size() != tree.splits.size() + 1) throw dlib::serialization_error("a shape predictor's tree of the wrong number of leaves");
            model.forests[cascade].push_back({model.splits.size(), tree.splits.size(), model.leaves.size() / std::max(size, 1L)});
            model.splits.insert(model.splits.end(), tree.splits.begin(), tree.splits.end());
            for (const dlib::matrix<float, 0, 1> &leaf : tree.leaf_values) {
                if (leaf.size() != size) throw dlib::serialization_error("a shape predictor's leaf of the wrong size");
                model.leaves.insert(model.leaves.end(), leaf.begin(), leaf.end());
            }
        }
    }
    model.check();
}

/// Writes `model` in model_cache.h's form: each array as it is in memory.
inline void write_cache(const landmark_model &model, std::ostream &out) {
    write_array(out, model.initial_shape.begin(), uint64_t(model.initial_shape.size()));
    write_array(out, model.splits.data(), model.splits.size());
    write_array(out, model.leaves.data(), model.leaves.size());
    const uint64_t cascades = model.forests.size();
    out.write(reinterpret_cast<const char *>(&cascades), sizeof cascades);
    for (uint64_t cascade = 0; cascade < cascades; ++cascade) {
        write_array(out, model.forests[cascade].data(), model.forests[cascade].size());
        write_array(out, model.anchor_idx[cascade].data(), model.anchor_idx[cascade].size());
        std::vector<float> deltas;  // dlib::vector is not trivially copyable: x, y of each
        for (const dlib::vector<float, 2> &delta : model.deltas[cascade]) deltas.insert(deltas.end(), {delta.x(), delta.y()});
        write_array(out, deltas.data(), deltas.size());
    }
}

/// Reads what `write_cache` wrote; throws dlib::serialization_error on a damaged cache. Each count is checked
/// against a bound well above dlib's models' (the 68-point one: 15 cascades of 500 trees of 15 splits and 16
/// leaves of 136 floats, 500 feature pixels a cascade), so a damaged one asks for no more memory than a model
/// could need.
inline void read_cache(landmark_model &model, std::istream &in) {
    model.initial_shape.set_size(long(read_count(in, 1 << 12)));
    if (!in.read(reinterpret_cast<char *>(model.initial_shape.begin()), std::streamsize(model.initial_shape.size() * sizeof(float)))) {
        throw dlib::serialization_error("a damaged model cache");
    }
    read_vector(in, model.splits, uint64_t(1) << 24);
    read_vector(in, model.leaves, uint64_t(1) << 28);
    const uint64_t cascades = read_count(in, 1 << 8);
    model.forests.resize(cascades);
    model.anchor_idx.resize(cascades);
    model.deltas.resize(cascades);
    for (uint64_t cascade = 0; cascade < cascades; ++cascade) {
        read_vector(in, model.forests[cascade], 1 << 16);
        read_vector(in, model.anchor_idx[cascade], 1 << 16);
        std::vector<float> deltas;
        read_vector(in, deltas, 1 << 17);
        if (deltas.size() != 2 * model.anchor_idx[cascade].size()) throw dlib::serialization_error("a damaged model cache");
        model.deltas[cascade].resize(model.anchor_idx[cascade].size());
        for (size_t index = 0; index < model.deltas[cascade].size(); ++index) {
            model.deltas[cascade][index] = dlib::vector<float, 2>(deltas[2 * index], deltas[2 * index + 1]);
        }
    }
    model.check();
}

}  // namespace facecluster

#endif
