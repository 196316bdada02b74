#ifndef FACECLUSTER_JPEG_REGION_H
#define FACECLUSTER_JPEG_REGION_H

#include <stddef.h>

/// Which part of a JPEG to decode: a DCT scale, a column range and bands of rows, all in scaled pixels.
typedef struct {
    int scale_num;
    int scale_denom;
    /// 1: a CMYK or YCCK image: libjpeg decodes each row to CMYK and it is converted to RGB as it is written
    /// (so the output is RGB either way, and no whole CMYK image is held); 0: decoded to RGB by libjpeg.
    int cmyk;
    /// With `cmyk`: 1 when the CMYK is stored inverted (0 = full ink), as Adobe's APP14 marker signals.
    int cmyk_inverted;
    /// Columns wanted; libjpeg widens the range to whole iMCUs (see fck_region_result.x_offset).
    unsigned int crop_x;
    unsigned int crop_width;
    /// Pairs of [start, end) rows, sorted and disjoint; rows outside every band are skipped (left zero).
    const unsigned int *bands;
    unsigned int band_count;
    /// A progressive image with more scans than this is refused (a decompression bomb).
    unsigned int max_scans;
    /// 1: stop after the last band instead of reading the rest of the image (the caller checks for
    /// truncation itself); 0: read to the end, so libjpeg reports a file cut short.
    int stop_after_bands;
    /// 1: simple chroma upsampling (no visible difference once the crop is shrunk; about 10 % faster).
    int fast_upsampling;
    /// The most memory libjpeg may allocate (0: no limit); past it the decode fails instead of growing
    /// (a progressive frame's whole-image coefficient buffer, above all).
    long max_memory;
    /// EXIF orientation 1-8: each decoded row is written where it is displayed, so the output holds the image
    /// upright (width and height swapped for 5-8) without a second buffer. Above 1 only for a whole image:
    /// no column crop, one band of every row.
    int orientation;
    /// Called as rows become final (NULL: never), for a request of the whole image upright (orientation 1, one
    /// band of every row, no column crop): the first `rows` rows of `pixels` hold their values and are not
    /// written again. At least every 32 rows, on the decoding thread, in order; not called once the decode fails.
    void (*rows_ready)(void *context, const unsigned char *pixels, unsigned int rows);
    void *rows_context;
} fck_region_request;

typedef struct {
    unsigned int width;
    unsigned int height;
    /// The first column held, in scaled pixels of the whole image.
    unsigned int x_offset;
    int components;
    /// Set when libjpeg warned that the data ended early.
    int truncated;
    int warnings;
    /// Warnings that mean damaged entropy-coded data (a bad Huffman or arithmetic code, a segment cut by a
    /// marker, a lost restart, bad scan parameters), as opposed to harmless ones ("extraneous bytes before
    /// marker", an unknown Adobe transform) and the end of data (`truncated`).
    int damaged;
    /// The first error or warning, as libjpeg words it.
    char message[200];
} fck_region_result;

/// Decodes the requested region into `pixels` as RGB (rows of width × 3 bytes, grey and CMYK images converted;
/// rows outside the bands are not written). `capacity` must hold the whole scaled image. Returns 0 on success
/// (check `truncated`), -1 on error (`message` says why).
int fck_decode_region(const unsigned char *data, size_t size, const fck_region_request *request,
                      unsigned char *pixels, size_t capacity, fck_region_result *result);

/// Makes the C library's malloc hand blocks of at least `bytes` straight to the system (mmap) and give them back
/// when freed, instead of keeping them in the freeing thread's arena. Returns 1 when it took the setting (glibc),
/// 0 where there is no such setting.
int fck_return_large_blocks(size_t bytes);

/// Hands the free memory of every malloc arena back to the system (glibc's malloc_trim): blocks under the mmap
/// threshold that threads freed stay in their arenas otherwise. Returns 1 when memory was returned.
int fck_trim_free_memory(void);

#endif
