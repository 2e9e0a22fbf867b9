package kiri.launcher;

import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.concurrent.Callable;
import kiri.client.Cluster;
import kiri.client.Consumer;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code kiri perf consume}: reads N records of a topic from its start with Kiri's consumer, in the manner of
 * Kafka's ConsumerPerformance: progress lines per window, then records/s, MB/s (keys plus values, as Kafka
 * counts) and HdrHistogram percentiles of fetch latency (request to response, including the broker's wait for
 * data). Single-threaded: the record handler only counts, so nothing is allocated per record.
 */
@Command(name = "consume", mixinStandardHelpOptions = true,
        description = "Consume N records of a topic from its start with Kiri's consumer (all partitions, no group); "
                + "print progress every 5 s, then throughput and fetch latency percentiles.")
final class PerfConsume implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;
    @Mixin
    ClientOptions client;
    @Option(names = "--topic", required = true, paramLabel = "TOPIC", description = "The topic to read.")
    String topic;
    @Option(names = {"--records", "--messages"}, required = true, paramLabel = "N", description = "Records to read in total.")
    long records;
    @Option(names = "--timeout-ms", defaultValue = "10000", paramLabel = "MS",
            description = "Give up after this long without a record (default ${DEFAULT-VALUE}, as ConsumerPerformance's --timeout).")
    long timeoutMs;
    @Option(names = "--fetch-max-wait-ms", defaultValue = "500", paramLabel = "MS", description = "fetch.max.wait.ms (default ${DEFAULT-VALUE}).")
    int maxWaitMs;
    @Option(names = "--fetch-max-bytes", defaultValue = "52428800", paramLabel = "BYTES", description = "fetch.max.bytes (default ${DEFAULT-VALUE}).")
    int maxBytes;
    @Option(names = "--max-partition-fetch-bytes", defaultValue = "1048576", paramLabel = "BYTES",
            description = "max.partition.fetch.bytes (default ${DEFAULT-VALUE}).")
    int partitionMaxBytes;
    @Option(names = "--json", description = "Print the summary as one JSON object (progress goes to stderr).")
    boolean json;
    @Option(names = "--report-interval-ms", defaultValue = "5000", paramLabel = "MS", description = "Progress line interval (default ${DEFAULT-VALUE}).")
    long reportIntervalMs;

    private long count;
    private long bytes;
    private long windowCount;
    private long windowBytes;
    private final Histogram fetchMicros = new Histogram(3);
    private long windowFetches;
    private long windowFetchMicros;
    private long windowFetchMax;
    private final Consumer.RecordHandler counter = this::count;

    @Override
    public Integer call() throws Exception {
        if (records < 1 || timeoutMs < 1 || reportIntervalMs < 1) {
            throw new IllegalArgumentException("--records, --timeout-ms and --report-interval-ms must be >= 1");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter progress = json ? spec.commandLine().getErr() : out;
        long begin;
        long end;
        try (Cluster cluster = client.connect();
             Consumer consumer = new Consumer(cluster, new Consumer.Config(maxWaitMs, 1, maxBytes, partitionMaxBytes))) {
            consumer.assign(topic, null, Consumer.EARLIEST);
            begin = System.nanoTime();
            long lastRecord = begin;
            long lastReport = begin;
            while (count < records) {
                long t0 = System.nanoTime();
                int n = consumer.poll(counter, records - count);
                long t1 = System.nanoTime();
                long micros = (t1 - t0) / 1000;
                fetchMicros.recordValue(micros);
                windowFetches++;
                windowFetchMicros += micros;
                windowFetchMax = Math.max(windowFetchMax, micros);
                if (n > 0) {
                    lastRecord = t1;
                } else if (t1 - lastRecord > timeoutMs * 1_000_000) {
                    break;
                }
                if (t1 - lastReport >= reportIntervalMs * 1_000_000) {
                    report(progress, t1 - lastReport);
                    lastReport = t1;
                }
            }
            end = System.nanoTime();
        }
        summary(out, end - begin);
        if (count < records) {
            spec.commandLine().getErr().println("kiri: read " + count + " of " + records + " records: none arrived for "
                    + timeoutMs + " ms");
            return 1;
        }
        return 0;
    }

    private void count(String t, int partition, long offset, long timestamp, MemorySegment key, MemorySegment value,
            kiri.protocol.record.RecordCursor record) {
        long size = (key == null ? 0 : key.byteSize()) + (value == null ? 0 : value.byteSize());
        count++;
        bytes += size;
        windowCount++;
        windowBytes += size;
    }

    /** One line per window with that window's counts, as Kafka's perf tools print. */
    private void report(PrintWriter progress, long windowNanos) {
        double seconds = windowNanos / 1e9;
        progress.printf(Locale.ROOT, "%d records consumed, %.1f records/sec (%.2f MB/sec), %.1f ms avg fetch latency, %.1f ms max fetch latency.%n",
                windowCount, windowCount / seconds, windowBytes / seconds / (1024.0 * 1024.0),
                windowFetches == 0 ? 0.0 : windowFetchMicros / (double) windowFetches / 1000.0, windowFetchMax / 1000.0);
        progress.flush();
        windowCount = 0;
        windowBytes = 0;
        windowFetches = 0;
        windowFetchMicros = 0;
        windowFetchMax = 0;
    }

    private void summary(PrintWriter out, long elapsedNanos) {
        double seconds = elapsedNanos / 1e9;
        double rate = count / seconds;
        double mb = bytes / seconds / (1024.0 * 1024.0);
        Histogram h = fetchMicros;
        double avg = h.getMean() / 1000.0;
        double p50 = h.getValueAtPercentile(50) / 1000.0;
        double p95 = h.getValueAtPercentile(95) / 1000.0;
        double p99 = h.getValueAtPercentile(99) / 1000.0;
        double p999 = h.getValueAtPercentile(99.9) / 1000.0;
        double max = h.getMaxValue() / 1000.0;
        if (json) {
            out.printf(Locale.ROOT, "{\"topic\":%s,\"records\":%d,\"bytes\":%d,\"elapsed_ms\":%.1f,\"records_per_sec\":%.1f,"
                            + "\"mb_per_sec\":%.3f,\"fetches\":%d,\"avg_fetch_ms\":%.3f,\"p50_fetch_ms\":%.3f,\"p95_fetch_ms\":%.3f,"
                            + "\"p99_fetch_ms\":%.3f,\"p999_fetch_ms\":%.3f,\"max_fetch_ms\":%.3f}%n",
                    Json.quote(topic), count, bytes, elapsedNanos / 1e6, rate, mb, h.getTotalCount(), avg, p50, p95, p99, p999, max);
        } else {
            out.printf(Locale.ROOT, "%d records consumed, %.2f MB, %.1f records/sec (%.2f MB/sec), %d fetches: %.2f ms avg, "
                            + "%.2f ms 50th, %.2f ms 95th, %.2f ms 99th, %.2f ms 99.9th, %.2f ms max fetch latency.%n",
                    count, bytes / (1024.0 * 1024.0), rate, mb, h.getTotalCount(), avg, p50, p95, p99, p999, max);
        }
        out.flush();
    }
}
