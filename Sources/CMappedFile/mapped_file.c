// Read-only file mappings whose pages readers can release as they pass them, guarded against SIGBUS.
#include "mapped_file.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum { slot_count = 64 };

/// A registered mapping. The SIGBUS handler reads the slots without a lock, so `base` is written last when a
/// slot is taken and first (to 0) when it is freed.
typedef struct {
    _Atomic uintptr_t base;
    _Atomic size_t size;
    _Atomic int faulted;
    /// The file, kept open while it is mapped, and its size and modification time when it was mapped: a write
    /// in place (`cp` over it, `dd conv=notrunc`) changes them without any read faulting.
    int fd;
    off_t mapped_size;
    struct timespec mapped_mtime;
} mapping_slot;

static mapping_slot slots[slot_count];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;
static struct sigaction previous_handler;
static int guard_installed;
static uintptr_t page_size = 4096;

static uintptr_t page_down(uintptr_t value) { return value & ~(page_size - 1); }
static uintptr_t page_up(uintptr_t value) { return (value + page_size - 1) & ~(page_size - 1); }

static mapping_slot *slot_holding(uintptr_t address) {
    for (int i = 0; i < slot_count; i++) {
        uintptr_t base = atomic_load(&slots[i].base);
        if (base != 0 && address >= base && address < base + atomic_load(&slots[i].size)) return &slots[i];
    }
    return NULL;
}

/// A read of a mapped page past the end of a file that shrank: the rest of the mapping becomes zero pages (mmap
/// is a plain system call on Linux, safe here in practice) and the slot records the fault; the read is retried
/// and sees zeros. Any other SIGBUS goes to the handler that was there before (the Swift runtime's backtracer,
/// or the default action): it is put back and the faulting instruction runs again.
static void on_sigbus(int signal_number, siginfo_t *info, void *context) {
    (void)context;
    uintptr_t address = (uintptr_t)info->si_addr;
    mapping_slot *slot = info->si_code > 0 ? slot_holding(address) : NULL;  // a fault, not a kill -BUS
    if (slot) {
        uintptr_t page = page_down(address), end = page_up(atomic_load(&slot->base) + atomic_load(&slot->size));
        if (mmap((void *)page, end - page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
            atomic_store(&slot->faulted, 1);
            return;
        }
    }
    sigaction(signal_number, &previous_handler, NULL);
    // A SIGBUS sent by another process (kill -BUS) is not a fault that recurs when this returns: raise it again.
    if (info->si_code <= 0) raise(signal_number);
}

static void install_guard(void) {
    long size = sysconf(_SC_PAGESIZE);
    if (size > 0) page_size = (uintptr_t)size;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    guard_installed = sigaction(SIGBUS, &action, &previous_handler) == 0;
}

void *fck_map_file(int fd, size_t size) {
    pthread_once(&guard_once, install_guard);
    if (!guard_installed || size == 0) {
        errno = guard_installed ? EINVAL : ENOTSUP;
        return NULL;
    }
    pthread_mutex_lock(&slots_lock);
    mapping_slot *free_slot = NULL;
    for (int i = 0; i < slot_count && !free_slot; i++) {
        if (atomic_load(&slots[i].base) == 0) free_slot = &slots[i];
    }
    void *base = MAP_FAILED;
    struct stat status;
    int kept = -1;
    if (free_slot && fstat(fd, &status) == 0 && (kept = fcntl(fd, F_DUPFD_CLOEXEC, 0)) >= 0) {
        base = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (base == MAP_FAILED) {
            close(kept);
        } else {
            free_slot->fd = kept;
            free_slot->mapped_size = status.st_size;
            free_slot->mapped_mtime = status.st_mtim;
            atomic_store(&free_slot->size, size);
            atomic_store(&free_slot->faulted, 0);
            atomic_store(&free_slot->base, (uintptr_t)base);
        }
    } else if (!free_slot) {
        errno = EMFILE;
    }
    pthread_mutex_unlock(&slots_lock);
    return base == MAP_FAILED ? NULL : base;
}

void fck_unmap_file(void *base, size_t size) {
    pthread_mutex_lock(&slots_lock);
    for (int i = 0; i < slot_count; i++) {
        if (atomic_load(&slots[i].base) == (uintptr_t)base) {
            atomic_store(&slots[i].base, 0);
            close(slots[i].fd);
            slots[i].fd = -1;
        }
    }
    pthread_mutex_unlock(&slots_lock);
    munmap(base, size);
}

int fck_is_mapped(const void *address) { return slot_holding((uintptr_t)address) != NULL; }

int fck_mapping_changed(const void *address) {
    mapping_slot *slot = slot_holding((uintptr_t)address);
    if (!slot) return 0;
    if (atomic_load(&slot->faulted)) return 1;
    struct stat status;
    if (fstat(slot->fd, &status) != 0) return 1;
    return status.st_size != slot->mapped_size || status.st_mtim.tv_sec != slot->mapped_mtime.tv_sec
        || status.st_mtim.tv_nsec != slot->mapped_mtime.tv_nsec;
}

void fck_release_pages(const void *from, const void *to) {
    mapping_slot *slot = slot_holding((uintptr_t)from);
    if (!slot || to <= from) return;
    uintptr_t end = atomic_load(&slot->base) + atomic_load(&slot->size);
    uintptr_t first = page_up((uintptr_t)from), last = page_down((uintptr_t)to > end ? end : (uintptr_t)to);
    if (last > first) madvise((void *)first, last - first, MADV_DONTNEED);
}
