/**
 * Log compaction shared by the storage engines that keep records: which records of a compacted topic a cleaner
 * keeps ({@link kiri.storage.compaction.BatchCleaner}), the key map it decides with, its configs and I/O rate.
 */
module kiri.storage.compaction {
    requires transitive kiri.storage.api;
    requires kiri.compress;
    exports kiri.storage.compaction;
}
