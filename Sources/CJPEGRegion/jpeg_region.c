// Region decoding with the libjpeg API of libjpeg-turbo (TurboJPEG 2.1 cannot skip rows or crop columns).
// The symbols come from libturbojpeg.a, which the Swift module CTurboJPEG links.
#include "jpeg_region.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>
#include "mapped_file.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

typedef struct {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    fck_region_result *result;
} error_handler;

typedef struct {
    struct jpeg_progress_mgr manager;
    unsigned int max_scans;
    error_handler *errors;
} progress_handler;

static void on_error(j_common_ptr info) {
    error_handler *handler = (error_handler *)info->err;
    (*info->err->format_message)(info, handler->result->message);
    longjmp(handler->jump, 1);
}

static void on_message(j_common_ptr info, int level) {
    error_handler *handler = (error_handler *)info->err;
    if (level >= 0) return;  // trace messages
    int code = info->err->msg_code;
    if (code == JWRN_JPEG_EOF) handler->result->truncated = 1;
    else if ((code == JWRN_HIT_MARKER || code == JWRN_HUFF_BAD_CODE || code == JWRN_MUST_RESYNC
              || code == JWRN_NOT_SEQUENTIAL || code == JWRN_ARITH_BAD_CODE) && handler->result->damaged++ == 0) {
        (*info->err->format_message)(info, handler->result->message);
        handler->result->warnings++;
        return;
    }
    if (handler->result->warnings++ == 0) (*info->err->format_message)(info, handler->result->message);
}

static void on_progress(j_common_ptr info) {
    progress_handler *progress = (progress_handler *)info->progress;
    j_decompress_ptr decompress = (j_decompress_ptr)info;
    if (info->is_decompressor && decompress->input_scan_number > (int)progress->max_scans) {
        snprintf(progress->errors->result->message, sizeof progress->errors->result->message,
                 "more than %u progressive scans", progress->max_scans);
        longjmp(progress->errors->jump, 1);
    }
}

/// Where stored pixel (0, v) of a `width` x `height` stored image goes in the displayed one, and how far apart
/// (in bytes) the displayed places of stored pixels u and u + 1 are, for EXIF `orientation` (the inverse of
/// Orientation.storedPixel in PixelBuffer.swift).
static void displayed_row(int orientation, size_t width, size_t height, size_t v, ptrdiff_t *base, ptrdiff_t *step) {
    const int swaps = orientation >= 5;
    const ptrdiff_t dw = (ptrdiff_t)(swaps ? height : width), dh = (ptrdiff_t)(swaps ? width : height), y = (ptrdiff_t)v;
    switch (orientation) {
    case 2: *base = (y * dw + dw - 1) * 3; *step = -3; break;
    case 3: *base = ((dh - 1 - y) * dw + dw - 1) * 3; *step = -3; break;
    case 4: *base = (dh - 1 - y) * dw * 3; *step = 3; break;
    case 5: *base = y * 3; *step = dw * 3; break;
    case 6: *base = (dw - 1 - y) * 3; *step = dw * 3; break;
    case 7: *base = ((dh - 1) * dw + dw - 1 - y) * 3; *step = -dw * 3; break;
    case 8: *base = ((dh - 1) * dw + y) * 3; *step = -dw * 3; break;
    default: *base = y * dw * 3; *step = 3; break;
    }
}

/// `count` CMYK pixels as RGB, each written `step` bytes after the last. Adobe applications store CMYK inverted
/// (0 = full ink, `inverted`); others plain. R = C' × K' / 255 rounded, where C' and K' are the paper left
/// uncovered (255 − ink).
static void rgb_from_cmyk(const unsigned char *cmyk, JDIMENSION count, int inverted, unsigned char *to, ptrdiff_t step) {
    for (JDIMENSION u = 0; u < count; u++, cmyk += 4, to += step) {
        unsigned int c = cmyk[0], m = cmyk[1], y = cmyk[2], k = cmyk[3];
        if (!inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
        to[0] = (unsigned char)((c * k + 127) / 255);
        to[1] = (unsigned char)((m * k + 127) / 255);
        to[2] = (unsigned char)((y * k + 127) / 255);
    }
}

/// The encoded photo handed to libjpeg: a registered file mapping a window at a time, releasing the pages
/// behind each window (fck_release_pages; libjpeg reads its input once, front to back, so a mapped photo never
/// becomes resident as a whole); other bytes all at once, as jpeg_mem_src does (a progressive photo's decode
/// was 13 % slower in windows).
typedef struct {
    struct jpeg_source_mgr manager;
    const JOCTET *data;
    size_t size;
    size_t window;
    size_t handed;    // bytes handed to libjpeg so far (the end of the current window)
    size_t released;  // bytes before this were released
} window_source;

enum { source_window = 1 << 20 };

static void window_init(j_decompress_ptr info) { (void)info; }

static boolean window_fill(j_decompress_ptr info) {
    static const JOCTET end_of_image[2] = {0xFF, JPEG_EOI};
    window_source *source = (window_source *)info->src;
    // A source that never suspends is asked for more only once libjpeg has used every byte handed to it.
    fck_release_pages(source->data + source->released, source->data + source->handed);
    source->released = source->handed;
    if (source->handed >= source->size) {
        WARNMS(info, JWRN_JPEG_EOF);  // as jpeg_mem_src does: a fake end of image
        source->manager.next_input_byte = end_of_image;
        source->manager.bytes_in_buffer = 2;
        return TRUE;
    }
    size_t count = source->size - source->handed < source->window ? source->size - source->handed : source->window;
    source->manager.next_input_byte = source->data + source->handed;
    source->manager.bytes_in_buffer = count;
    source->handed += count;
    return TRUE;
}

static void window_skip(j_decompress_ptr info, long count) {
    struct jpeg_source_mgr *manager = info->src;
    if (count <= 0) return;
    while (count > (long)manager->bytes_in_buffer) {
        count -= (long)manager->bytes_in_buffer;
        (void)(*manager->fill_input_buffer)(info);
    }
    manager->next_input_byte += count;
    manager->bytes_in_buffer -= (size_t)count;
}

static void window_term(j_decompress_ptr info) { (void)info; }

static void window_src(j_decompress_ptr info, window_source *source, const unsigned char *data, size_t size) {
    memset(source, 0, sizeof *source);
    source->data = data;
    source->size = size;
    source->window = fck_is_mapped(data) ? source_window : size;
    source->manager.init_source = window_init;
    source->manager.fill_input_buffer = window_fill;
    source->manager.skip_input_data = window_skip;
    source->manager.resync_to_restart = jpeg_resync_to_restart;
    source->manager.term_source = window_term;
    info->src = &source->manager;
}

int fck_decode_region(const unsigned char *data, size_t size, const fck_region_request *request,
                      unsigned char *pixels, size_t capacity, fck_region_result *result) {
    struct jpeg_decompress_struct info;
    unsigned char *volatile scanline = NULL;  // a row to turn or to convert from CMYK, freed on every way out
    error_handler errors;
    progress_handler progress;
    window_source source;
    memset(result, 0, sizeof *result);
    info.err = jpeg_std_error(&errors.manager);
    errors.manager.error_exit = on_error;
    errors.manager.emit_message = on_message;
    errors.result = result;
    progress.manager.progress_monitor = on_progress;
    progress.max_scans = request->max_scans;
    progress.errors = &errors;
    if (setjmp(errors.jump)) {
        jpeg_destroy_decompress(&info);
        free(scanline);
        return -1;
    }
    jpeg_create_decompress(&info);
    if (request->max_memory > 0) info.mem->max_memory_to_use = request->max_memory;
    info.progress = &progress.manager;
    window_src(&info, &source, data, size);
    jpeg_read_header(&info, TRUE);
    info.scale_num = (unsigned int)request->scale_num;
    info.scale_denom = (unsigned int)request->scale_denom;
    info.out_color_space = request->cmyk ? JCS_CMYK : JCS_RGB;
    if (request->fast_upsampling) info.do_fancy_upsampling = FALSE;
    jpeg_start_decompress(&info);

    JDIMENSION x = request->crop_x, width = request->crop_width;
    if (x >= info.output_width) x = 0;
    if (width == 0 || x + width > info.output_width) width = info.output_width - x;
    if (width < info.output_width) jpeg_crop_scanline(&info, &x, &width);
    result->x_offset = x;
    result->width = info.output_width;
    result->height = info.output_height;
    const int cmyk = info.output_components == 4;
    result->components = cmyk ? 3 : info.output_components;
    size_t stride = (size_t)info.output_width * (size_t)result->components;
    if (stride * (size_t)info.output_height > capacity) {
        snprintf(result->message, sizeof result->message, "the output buffer is too small");
        longjmp(errors.jump, 1);
    }
    const int turned = request->orientation > 1 && request->orientation <= 8;
    if (turned) {
        if (width < info.output_width || result->components != 3 || request->band_count != 1
            || request->bands[0] != 0 || request->bands[1] < info.output_height) {
            snprintf(result->message, sizeof result->message, "an orientation needs the whole image in colour");
            longjmp(errors.jump, 1);
        }
    }
    if (turned || cmyk) {
        scanline = malloc((size_t)info.output_width * (size_t)info.output_components);
        if (!scanline) {
            snprintf(result->message, sizeof result->message, "Insufficient memory for a row");
            longjmp(errors.jump, 1);
        }
    }
    // Bands start and end on iMCU-row boundaries: jpeg_skip_scanlines from inside a row group (the merged
    // upsampler's two rows, a context row group) leaves libjpeg-turbo 2.1's row state stale, so it returns
    // rows from before the skip and decodes past the last iMCU row ("premature end of data segment";
    // libjpeg-turbo issue 915). Rounding costs at most one iMCU row (16 rows at 4:2:0) per band edge.
    JDIMENSION group = (JDIMENSION)(info.max_v_samp_factor * info.min_DCT_scaled_size);
    const int follows = request->rows_ready && !turned && width == info.output_width && request->band_count == 1
        && request->bands[0] == 0 && request->bands[1] >= info.output_height;
    JDIMENSION reported = 0;
    for (unsigned int band = 0; band < request->band_count; band++) {
        JDIMENSION start = request->bands[2 * band] / group * group;
        JDIMENSION end = (request->bands[2 * band + 1] + group - 1) / group * group;
        if (end > info.output_height) end = info.output_height;
        if (start > info.output_scanline) jpeg_skip_scanlines(&info, start - info.output_scanline);
        while (info.output_scanline < end) {
            if (turned || cmyk) {
                ptrdiff_t base = (ptrdiff_t)((size_t)info.output_scanline * stride), step = 3;
                if (turned) displayed_row(request->orientation, info.output_width, info.output_height, info.output_scanline, &base, &step);
                JSAMPROW row = scanline;
                jpeg_read_scanlines(&info, &row, 1);
                unsigned char *to = pixels + base;
                if (cmyk) {
                    rgb_from_cmyk(scanline, info.output_width, request->cmyk_inverted, to, step);
                } else {
                    for (JDIMENSION u = 0; u < info.output_width; u++, to += step) {
                        to[0] = scanline[3 * u];
                        to[1] = scanline[3 * u + 1];
                        to[2] = scanline[3 * u + 2];
                    }
                }
            } else {
                JSAMPROW row = pixels + (size_t)info.output_scanline * stride;
                jpeg_read_scanlines(&info, &row, 1);
            }
            if (follows && (info.output_scanline - reported >= 32 || info.output_scanline == end)) {
                reported = info.output_scanline;
                request->rows_ready(request->rows_context, pixels, reported);
            }
        }
    }
    if (request->stop_after_bands && info.output_scanline < info.output_height) {
        jpeg_abort_decompress(&info);
    } else {
        // Run to the end, without reconstructing pixels, so libjpeg notices a file cut short.
        if (info.output_scanline < info.output_height) jpeg_skip_scanlines(&info, info.output_height - info.output_scanline);
        jpeg_finish_decompress(&info);
    }
    jpeg_destroy_decompress(&info);
    free(scanline);
    return 0;
}

int fck_return_large_blocks(size_t bytes) {
#if defined(__GLIBC__)
    const int threshold = bytes > 0x3fffffff ? 0x3fffffff : (int)bytes;
    // Setting the threshold stops glibc from raising the trim threshold with it (to twice the mmap threshold):
    // left at 128 kB, the top of a heap is handed back after every photo and faulted in again for the next.
    return mallopt(M_MMAP_THRESHOLD, threshold) == 1 && mallopt(M_TRIM_THRESHOLD, 2 * threshold) == 1;
#else
    (void)bytes;
    return 0;
#endif
}

int fck_trim_free_memory(void) {
#if defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}
