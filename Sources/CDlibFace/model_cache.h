// Derived copies of dlib's model files in a form read in milliseconds. dlib writes every number of a model
// portably (a float as a variable-length mantissa and exponent) and reads it back one istream call at a time:
// 50–110 ms of a core for each of the landmark model (9 MB) and the network (22 MB), paid before every process's
// first photo. A cache holds the same numbers as the machine keeps them in memory, written once beside the model
// and read in one call an array, under a checksum of the whole file; it is only a copy: deleted, damaged or
// stale, it is made again from the model.
#ifndef MODEL_CACHE_H
#define MODEL_CACHE_H

#include <dlib/serialize.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <istream>
#include <ostream>
#include <streambuf>
#include <string>
#include <type_traits>
#include <vector>

namespace facecluster {

/// What the cache of a model file must name to be read for it: the cache's format, this machine's sizes and
/// byte order, and the file as it is now (its size, modification time and inode: a model replaced or rewritten
/// no longer matches). Throws dlib::serialization_error when the file cannot be examined.
inline std::string model_identity(const std::string &source) {
    struct stat status;
    if (stat(source.c_str(), &status) != 0) throw dlib::serialization_error("Unable to open " + source + " for reading.");
    const uint32_t byte_order = 0x01020304;
    return "facecluster model cache 1, float " + std::to_string(sizeof(float)) + ", long " + std::to_string(sizeof(long)) + ", order " +
           std::to_string(*reinterpret_cast<const unsigned char *>(&byte_order)) + "; " + source + ": " + std::to_string(status.st_size) +
           " bytes, modified " + std::to_string(status.st_mtim.tv_sec) + "." + std::to_string(status.st_mtim.tv_nsec) + ", inode " +
           std::to_string(status.st_ino);
}

/// Writes `count` values as they are in memory, after their count.
template <typename T>
void write_array(std::ostream &out, const T *values, uint64_t count) {
    static_assert(std::is_trivially_copyable<T>::value, "only plain values are written as they are in memory");
    out.write(reinterpret_cast<const char *>(&count), sizeof count);
    out.write(reinterpret_cast<const char *>(values), std::streamsize(count * sizeof(T)));
}

/// Reads the count `write_array` wrote; throws unless it is at most `largest` (a damaged cache asks for no
/// more memory than the model needs).
inline uint64_t read_count(std::istream &in, uint64_t largest) {
    uint64_t count = 0;
    if (!in.read(reinterpret_cast<char *>(&count), sizeof count) || count > largest) throw dlib::serialization_error("a damaged model cache");
    return count;
}

/// Reads `count` values `write_array` wrote; throws unless exactly `count` were written.
template <typename T>
void read_array(std::istream &in, T *values, uint64_t count) {
    static_assert(std::is_trivially_copyable<T>::value, "only plain values are read as they are in memory");
    if (read_count(in, count) != count || !in.read(reinterpret_cast<char *>(values), std::streamsize(count * sizeof(T)))) {
        throw dlib::serialization_error("a damaged model cache");
    }
}

/// Reads the values `write_array` wrote into `values`, sized to their count (at most `largest`).
template <typename T>
void read_vector(std::istream &in, std::vector<T> &values, uint64_t largest) {
    static_assert(std::is_trivially_copyable<T>::value, "only plain values are read as they are in memory");
    values.resize(read_count(in, largest));
    if (!in.read(reinterpret_cast<char *>(values.data()), std::streamsize(values.size() * sizeof(T)))) {
        throw dlib::serialization_error("a damaged model cache");
    }
}

/// A 64-bit checksum of a byte stream, in four lanes of 8-byte words (FNV-1a's prime on each lane), so that it
/// runs at memory speed: 2–3 ms for a 26 MB cache. The same bytes give the same sum however they are handed in.
class cache_checksum {
public:
    void update(const char *bytes, size_t count) {
        while (count > 0 && pending_count > 0) {
            pending[pending_count++] = *bytes++;
            --count;
            if (pending_count == sizeof pending) {
                add_block(pending);
                pending_count = 0;
            }
        }
        for (; count >= sizeof pending; bytes += sizeof pending, count -= sizeof pending) add_block(bytes);
        for (; count > 0; --count) pending[pending_count++] = *bytes++;
    }

    uint64_t value() const {
        uint64_t sum = 0xcbf29ce484222325ULL;
        for (const uint64_t lane : lanes) sum = (sum ^ lane) * 0x100000001b3ULL;
        for (size_t index = 0; index < pending_count; ++index) sum = (sum ^ uint8_t(pending[index])) * 0x100000001b3ULL;
        return sum;
    }

private:
    uint64_t lanes[4] = {1, 2, 3, 4};
    char pending[32];
    size_t pending_count = 0;

    void add_block(const char *block) {
        for (int lane = 0; lane < 4; ++lane) {
            uint64_t word;
            std::memcpy(&word, block + 8 * lane, 8);
            lanes[lane] = (lanes[lane] ^ word) * 0x100000001b3ULL;
        }
    }
};

/// Reads a cache's bytes up to its checksum (its last 8 bytes) and sums them as they pass.
class checksummed_file : public std::streambuf {
public:
    /// Opens `path`; `is_open()` tells whether it could (and holds at least a checksum).
    explicit checksummed_file(const std::string &path) : file(std::fopen(path.c_str(), "rb")) {
        if (!file) return;
        struct stat status;
        if (fstat(fileno(file), &status) != 0 || status.st_size < long(sizeof(uint64_t))) return;
        remaining = uint64_t(status.st_size) - sizeof(uint64_t);
        open = true;
    }
    ~checksummed_file() override {
        if (file) std::fclose(file);
    }
    checksummed_file(const checksummed_file &) = delete;
    checksummed_file &operator=(const checksummed_file &) = delete;

    bool is_open() const { return open; }

    /// Whether every byte before the checksum was read and sums to it.
    bool verified() {
        if (!open || remaining != 0 || gptr() != egptr()) return false;
        uint64_t stored = 0;
        return std::fread(&stored, sizeof stored, 1, file) == 1 && stored == sum.value();
    }

protected:
    int_type underflow() override {
        if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
        const size_t wanted = size_t(std::min<uint64_t>(remaining, sizeof buffer));
        const size_t got = wanted ? std::fread(buffer, 1, wanted, file) : 0;
        if (got == 0) return traits_type::eof();
        remaining -= got;
        sum.update(buffer, got);
        setg(buffer, buffer, buffer + got);
        return traits_type::to_int_type(*gptr());
    }

    std::streamsize xsgetn(char *destination, std::streamsize count) override {
        std::streamsize copied = 0;
        while (copied < count) {
            if (gptr() == egptr()) {
                // A large read goes straight into its destination, summed there.
                if (count - copied >= std::streamsize(sizeof buffer)) {
                    const size_t wanted = size_t(std::min<uint64_t>(remaining, uint64_t(count - copied)));
                    const size_t got = wanted ? std::fread(destination + copied, 1, wanted, file) : 0;
                    if (got == 0) break;
                    remaining -= got;
                    sum.update(destination + copied, got);
                    copied += std::streamsize(got);
                    continue;
                }
                if (traits_type::eq_int_type(underflow(), traits_type::eof())) break;
            }
            const std::streamsize taken = std::min<std::streamsize>(egptr() - gptr(), count - copied);
            std::memcpy(destination + copied, gptr(), size_t(taken));
            gbump(int(taken));
            copied += taken;
        }
        return copied;
    }

private:
    std::FILE *file;
    uint64_t remaining = 0;
    bool open = false;
    cache_checksum sum;
    char buffer[1 << 16];
};

/// Appends to the file at `path` the checksum `checksummed_file` verifies. Returns false when it cannot.
inline bool append_checksum(const std::string &path) {
    std::FILE *file = std::fopen(path.c_str(), "r+b");
    if (!file) return false;
    cache_checksum sum;
    std::vector<char> buffer(1 << 16);
    size_t got;
    while ((got = std::fread(buffer.data(), 1, buffer.size(), file)) > 0) sum.update(buffer.data(), got);
    const uint64_t value = sum.value();
    const bool written = !std::ferror(file) && std::fseek(file, 0, SEEK_END) == 0 && std::fwrite(&value, sizeof value, 1, file) == 1;
    return std::fclose(file) == 0 && written;
}

/// Reads `model` from `cache` when it was made from `source` as `source` is now and every byte of it is as
/// written (`read_cache`; a checksum covers the whole file), else from `source` in dlib's format (`read_source`,
/// which sets all of `model` again after a cache that failed halfway), then writes the cache (`write_cache`) to
/// a temporary name and renames it, so a reader never sees half of one. An empty `cache` path, or a cache that
/// cannot be read or written (a read-only folder, a full disk, a damaged file), is passed by: the model is read
/// from `source`. Throws what `read_source` throws.
template <typename Model, typename ReadSource, typename ReadCache, typename WriteCache>
void read_model(Model &model, const std::string &source, const std::string &cache, ReadSource read_source, ReadCache read_cache,
                WriteCache write_cache) {
    std::string identity;
    if (!cache.empty()) {
        try {
            identity = model_identity(source);
            checksummed_file file(cache);
            std::istream in(&file);
            std::string named;
            if (file.is_open() && std::getline(in, named) && named == identity) {
                read_cache(model, in);
                if (in.peek() == std::char_traits<char>::eof() && file.verified()) return;
            }
        } catch (...) {
        }
    }
    {
        std::ifstream in(source, std::ios::binary);
        if (!in) throw dlib::serialization_error("Unable to open " + source + " for reading.");
        read_source(model, in);
    }
    if (cache.empty() || identity.empty()) return;
    static std::atomic<unsigned> written{0};  // two threads of a process may write one cache at once
    const std::string temporary = cache + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(written++);
    try {
        {
            std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
            out << identity << '\n';
            write_cache(model, out);
            out.flush();
            if (!out) throw dlib::serialization_error("the model cache could not be written");
        }
        if (!append_checksum(temporary) || std::rename(temporary.c_str(), cache.c_str()) != 0) std::remove(temporary.c_str());
    } catch (...) {
        std::remove(temporary.c_str());
    }
}

}  // namespace facecluster

#endif
