#ifndef FACECLUSTER_MAPPED_FILE_H
#define FACECLUSTER_MAPPED_FILE_H

#include <stddef.h>

/// Maps the first `size` bytes of the open file `fd` read-only (MAP_PRIVATE) and registers the range, so that
/// readers can hand its pages back as they pass them (fck_release_pages) and a file cut short while it is mapped
/// does not kill the process: a read past its new end gets zero pages instead of SIGBUS, and
/// fck_mapping_changed says so. At most 64 mappings are registered at once. Returns NULL (errno set, EMFILE when
/// every slot is taken) when the file cannot be mapped; the caller reads it instead. `fd` may be closed after (a
/// duplicate is kept open until fck_unmap_file, for fck_mapping_changed).
void *fck_map_file(int fd, size_t size);

/// Unregisters and unmaps a mapping made by fck_map_file.
void fck_unmap_file(void *base, size_t size);

/// 1 when `address` lies in a registered mapping.
int fck_is_mapped(const void *address);

/// 1 when the file of the registered mapping holding `address` changed since it was mapped: a read past its
/// new end faulted (and read zeros), or its size or modification time is not what it was (written in place); 0 when it is
/// unchanged, and for memory outside every registered mapping. One fstat.
int fck_mapping_changed(const void *address);

/// Drops the whole pages of [from, to) from the process's resident memory when the range lies inside a
/// registered mapping (they stay in the page cache and are read again if touched: MADV_DONTNEED on a private
/// file mapping never written to); does nothing for any other memory. Sequential readers (the JPEG decoder's
/// source, a hash) call it behind them, so a 181 MB photo does not stay resident while it is decoded.
void fck_release_pages(const void *from, const void *to);

#endif
