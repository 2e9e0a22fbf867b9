package kiri.launcher;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import kiri.metrics.MetricWriter;

/**
 * The process's own figures: heap, garbage collections, resident memory (Linux's {@code /proc/self/status}) and
 * CPU time. Read at scrape time only; nothing here runs on the request path. Stateless and thread-safe.
 */
final class JvmMetrics {
    private static final Path STATUS = Path.of("/proc/self/status");

    private JvmMetrics() {
    }

    static void writeTo(MetricWriter w) {
        Runtime rt = Runtime.getRuntime();
        w.family("kiri_jvm_heap_bytes", "gauge", "Java heap: used, committed and the maximum it may grow to.")
                .sample("kiri_jvm_heap_bytes", rt.totalMemory() - rt.freeMemory(), "state", "used")
                .sample("kiri_jvm_heap_bytes", rt.totalMemory(), "state", "committed")
                .sample("kiri_jvm_heap_bytes", rt.maxMemory(), "state", "max");
        var collectors = ManagementFactory.getGarbageCollectorMXBeans();
        w.family("kiri_jvm_gc_collections_total", "counter", "Garbage collections, by collector.");
        for (GarbageCollectorMXBean gc : collectors) {
            w.sample("kiri_jvm_gc_collections_total", Math.max(0, gc.getCollectionCount()), "gc", gc.getName());
        }
        w.family("kiri_jvm_gc_collection_seconds_total", "counter", "Time spent in garbage collections, by collector.");
        for (GarbageCollectorMXBean gc : collectors) {
            w.sample("kiri_jvm_gc_collection_seconds_total", Math.max(0, gc.getCollectionTime()) / 1e3, "gc", gc.getName());
        }
        w.gauge("kiri_jvm_threads", "Live threads.", ManagementFactory.getThreadMXBean().getThreadCount());
        long rss = residentBytes();
        if (rss >= 0) {
            w.gauge("kiri_process_resident_memory_bytes", "Resident set size (RSS) of the broker process.", rss);
        }
        ProcessHandle.current().info().totalCpuDuration().map(Duration::toNanos).ifPresent(nanos ->
                w.family("kiri_process_cpu_seconds_total", "counter", "CPU time (user and system) of the broker process.")
                        .sample("kiri_process_cpu_seconds_total", nanos / 1e9));
    }

    /** VmRSS from /proc/self/status, or -1 where there is none (not Linux). */
    static long residentBytes() {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).replace("kB", "").strip()) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or an unexpected format: leave the gauge out
        }
        return -1;
    }
}
