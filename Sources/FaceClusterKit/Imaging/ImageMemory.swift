import CJPEGRegion

/// How a process that decodes photos on several threads keeps its memory to what it uses.
///
/// glibc's malloc serves a block under its mmap threshold from the calling thread's arena, and after a large
/// block is freed it raises that threshold to the block's size (up to 32 MB). Decoded photos and libjpeg's
/// buffers are such blocks, freed on ``BlockingWork``'s threads: each thread's arena then keeps a photo's worth
/// of freed memory for good. Measured on the development machine (2026-12-01): `facecluster bench thumbnails`
/// on the 17.9 MP progressive photo peaked at 120 MB for one repeat and 171–205 MB for 2–10; with blocks of
/// 16 MB and more returned to the system, 122 MB for 10. An `ingest` of 72 photos of 0.2–3.4 MP: 212–232 MB →
/// 198–201 MB, in the same time (7.3–10.1 s either way). The price: such a block is faulted in afresh each time,
/// as the 18.4 MB baseline photo's file is (its thumbnails 100 → 107 ms, 72 → 56 MB). At 1 MB the 3 MP
/// photos' decodes went to the system too and cost their thumbnails up to a quarter more time; 16 MB leaves
/// them in the arenas, at the same speed as before.
public enum ImageMemory {
    /// Gives the free memory of every malloc arena back to the system (glibc's `malloc_trim`), for a moment
    /// when a large block is about to be allocated after many smaller ones were freed on other threads. Costs
    /// milliseconds; does nothing on a C library without it.
    public static func returnFreeMemory() {
        _ = fck_trim_free_memory()
    }

    /// Blocks of at least `bytes` go straight to the system and back when freed (glibc's `M_MMAP_THRESHOLD`,
    /// which also stops its threshold from rising; `M_TRIM_THRESHOLD` at twice that, where glibc would have
    /// raised it, so the heaps' tops are not handed back after every photo). For a process's start (the
    /// `facecluster` CLI and the Lambda `bootstrap` call it), not for a library: it changes malloc for the whole
    /// process. Returns whether the C library took it (false on one without the setting, such as musl).
    @discardableResult
    public static func returnLargeBlocksToSystem(atLeast bytes: Int = 16 << 20) -> Bool {
        fck_return_large_blocks(bytes) == 1
    }
}
