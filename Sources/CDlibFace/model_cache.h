// Derived copies of dlib's model files in a form read in milliseconds. dlib writes every number of a model
// portably (a float as a variable-length mantissa and exponent) and reads it back one istream call at a time:
// 50–110 ms of a core for each of the landmark model (9 MB) and the network (22 MB), paid before every process's
// first photo. A cache holds the same numbers as the machine keeps them in memory, written once beside the model
// and read in one call an array, under a checksum of the whole file; it is only a copy: deleted, damaged or
// stale, it is made again from the model.
#ifndef MODEL_CACHE_H
#define MODEL_CACHE_H

#include <dlib/revision.h>
#include <dlib/serialize.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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

/// What the cache of a model file must name to be read for it: the cache's `format` (the caller's layout of
/// what it writes), the dlib it was read with, this machine's sizes and byte order, and the file as it is now (its
/// size, modification time and inode: a model replaced or rewritten no longer matches). Throws
/// dlib::serialization_error when the file cannot be examined.
inline std::string model_identity(const std::string &source, const std::string &format) {
    struct stat status;
    if (stat(source.c_str(), &status) != 0) throw dlib::serialization_error("Unable to open " + source + " for reading.");
    const uint32_t byte_order = 0x01020304;
    return "facecluster model cache 2 (" + format + "), dlib " + std::to_string(DLIB_MAJOR_VERSION) + "." + std::to_string(DLIB_MINOR_VERSION) +
           ", float " + std::to_string(sizeof(float)) + ", long " + std::to_string(sizeof(long)) + ", order " +
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

/// A 64-bit checksum of a byte stream: xxHash64's rounds on four lanes of 8-byte words (each bit of a word moves
/// every bit of its lane), so that it runs at memory speed, 2–3 ms for a 26 MB cache. The same bytes give the same
/// sum however they are handed in.
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
        uint64_t sum = rotate(lanes[0], 1) + rotate(lanes[1], 7) + rotate(lanes[2], 12) + rotate(lanes[3], 18);
        for (const uint64_t lane : lanes) sum = (sum ^ round(0, lane)) * prime1 + prime4;
        for (size_t index = 0; index < pending_count; ++index) sum = rotate(sum ^ (uint8_t(pending[index]) * prime5), 11) * prime1;
        sum ^= sum >> 33;
        sum *= prime2;
        sum ^= sum >> 29;
        sum *= prime3;
        return sum ^ (sum >> 32);
    }

private:
    static constexpr uint64_t prime1 = 0x9E3779B185EBCA87ULL, prime2 = 0xC2B2AE3D27D4EB4FULL, prime3 = 0x165667B19E3779F9ULL,
                              prime4 = 0x85EBCA77C2B2AE63ULL, prime5 = 0x27D4EB2F165667C5ULL;
    uint64_t lanes[4] = {prime1 + prime2, prime2, 0, 0 - prime1};
    char pending[32];
    size_t pending_count = 0;

    static uint64_t rotate(uint64_t value, int bits) { return (value << bits) | (value >> (64 - bits)); }
    static uint64_t round(uint64_t lane, uint64_t word) { return rotate(lane + word * prime2, 31) * prime1; }

    void add_block(const char *block) {
        for (int lane = 0; lane < 4; ++lane) {
            uint64_t word;
            std::memcpy(&word, block + 8 * lane, 8);
            lanes[lane] = round(lanes[lane], word);
        }
    }
};

/// A cache file mapped into memory, its checksum (its last 8 bytes) verified before a byte of it is parsed; then
/// read as a stream (`std::istream in(&file)`) of the bytes before the checksum.
class verified_cache : public std::streambuf {
public:
    /// Maps `path`; `verified()` tells whether it could and the checksum matched.
    explicit verified_cache(const std::string &path) {
        const int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (descriptor < 0) return;
        struct stat status;
        if (fstat(descriptor, &status) == 0 && status.st_size > long(sizeof(uint64_t))) {
            void *mapped = mmap(nullptr, size_t(status.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, descriptor, 0);
            if (mapped != MAP_FAILED) {
                bytes = static_cast<char *>(mapped);
                size = size_t(status.st_size);
            }
        }
        ::close(descriptor);
        if (!bytes) return;
        const size_t body = size - sizeof(uint64_t);
        cache_checksum sum;
        sum.update(bytes, body);
        uint64_t stored;
        std::memcpy(&stored, bytes + body, sizeof stored);
        if (stored != sum.value()) return;
        setg(bytes, bytes, bytes + body);
        good = true;
    }
    ~verified_cache() override {
        if (bytes) munmap(bytes, size);
    }
    verified_cache(const verified_cache &) = delete;
    verified_cache &operator=(const verified_cache &) = delete;

    bool verified() const { return good; }

private:
    char *bytes = nullptr;
    size_t size = 0;
    bool good = false;
};

/// Appends to the file at `path` the checksum `verified_cache` checks. Returns false when it cannot.
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

/// Reads `model` from `cache` when it was made from `source` as `source` is now, in this `format`, and every byte
/// of it is as written (a checksum covers the whole file, verified before it is parsed; `read_cache`), else from
/// `source` in dlib's format (`read_source`, which sets all of `model` again after a cache that failed halfway),
/// then writes the cache (`write_cache`) to a temporary file of its own and renames it, so a reader never sees
/// half of one. An empty `cache` path, or a cache that cannot be read or written (a read-only folder, a full
/// disk, a damaged or stale file), is passed by: the model is read from `source`. A process killed while it
/// writes leaves its temporary file (`<cache>.tmp-XXXXXX`). Throws what `read_source` throws.
template <typename Model, typename ReadSource, typename ReadCache, typename WriteCache>
void read_model(Model &model, const std::string &source, const std::string &cache, const std::string &format, ReadSource read_source,
                ReadCache read_cache, WriteCache write_cache) {
    std::string identity;
    if (!cache.empty() && cache != source) {
        try {
            identity = model_identity(source, format);
            verified_cache file(cache);
            std::istream in(&file);
            std::string named;
            if (file.verified() && std::getline(in, named) && named == identity) {
                read_cache(model, in);
                if (in.peek() == std::char_traits<char>::eof()) return;
            }
        } catch (...) {
        }
    }
    {
        std::ifstream in(source, std::ios::binary);
        if (!in) throw dlib::serialization_error("Unable to open " + source + " for reading.");
        read_source(model, in);
    }
    if (identity.empty()) return;
    std::string temporary = cache + ".tmp-XXXXXX";
    const int descriptor = mkstemp(&temporary[0]);
    if (descriptor < 0) return;
    fchmod(descriptor, 0644);  // readable as the model files are (mkstemp makes it the owner's only)
    ::close(descriptor);
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
