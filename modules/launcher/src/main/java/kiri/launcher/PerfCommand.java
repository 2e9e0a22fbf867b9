package kiri.launcher;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import kiri.client.Cluster;
import kiri.client.Producer;
import kiri.client.ProducerConfig;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code kiri perf produce|consume}: load generators in the manner of kafka-producer-perf-test and ConsumerPerformance. */
@Command(name = "perf", mixinStandardHelpOptions = true, description = "Load generators.",
        subcommands = {PerfCommand.Produce.class, PerfConsume.class})
final class PerfCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "produce", mixinStandardHelpOptions = true,
            description = "Produce N records of B bytes at up to R records/s with Kiri's producer; print progress "
                    + "every 5 s, then throughput and HdrHistogram latency percentiles (send to acknowledgement).")
    static final class Produce implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Mixin
        ClientOptions client;
        @Mixin
        ProducerOptions producing;
        @Option(names = "--topic", required = true, paramLabel = "TOPIC", description = "Topic (auto-created if the broker allows).")
        String topic;
        @Option(names = "--records", required = true, paramLabel = "N", description = "Records to send in total.")
        long records;
        @Option(names = "--record-size", required = true, paramLabel = "BYTES", description = "Value size of each record.")
        int recordSize;
        @Option(names = "--throughput", required = true, paramLabel = "R",
                description = "Records/s to aim for in total; -1 for as fast as possible.")
        double throughput;
        @Option(names = "--batch-size", defaultValue = "16384", paramLabel = "BYTES", description = "Default ${DEFAULT-VALUE}.")
        int batchSize;
        @Option(names = "--linger-ms", defaultValue = "5", paramLabel = "MS", description = "Default ${DEFAULT-VALUE}.")
        int lingerMs;
        @Option(names = "--max-in-flight", defaultValue = "5", paramLabel = "N",
                description = "Produce requests in flight per connection (default ${DEFAULT-VALUE}).")
        int maxInFlight;
        @Option(names = "--producers", defaultValue = "1", paramLabel = "P",
                description = "Producers, each with its own connections and thread (default ${DEFAULT-VALUE}).")
        int producers;
        @Option(names = "--json", description = "Print the summary as one JSON object (progress goes to stderr).")
        boolean json;
        @Option(names = "--report-interval-ms", defaultValue = "5000", hidden = true)
        long reportIntervalMs;

        private final LongAdder sent = new LongAdder();
        private final LongAdder acked = new LongAdder();
        private final LongAdder errors = new LongAdder();
        private final AtomicReference<Throwable> firstError = new AtomicReference<>();
        private final ConcurrentHistogram latencyMicros = new ConcurrentHistogram(3);
        // the current progress window
        private final LongAdder windowCount = new LongAdder();
        private final LongAdder windowLatencySum = new LongAdder();
        private final LongAccumulator windowMax = new LongAccumulator(Math::max, 0);

        @Override
        public Integer call() throws Exception {
            if (records < 1 || recordSize < 0 || producers < 1 || reportIntervalMs < 1) {
                throw new IllegalArgumentException("--records and --producers must be >= 1 and --record-size >= 0");
            }
            if (throughput == 0) {
                throw new IllegalArgumentException("--throughput must be positive, or -1 for unlimited");
            }
            ProducerConfig config = producing.config().withBatchSize(batchSize).withLingerMs(lingerMs)
                    .withMaxInFlight(maxInFlight);
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter progress = json ? spec.commandLine().getErr() : out;
            String note = BenchCommand.c1OnlyNote();
            if (note != null) {
                spec.commandLine().getErr().println(note);
            }

            List<Cluster> clusters = new ArrayList<>();
            List<Producer> started = new ArrayList<>();
            try {
                for (int i = 0; i < producers; i++) {
                    Cluster c = client.connect();
                    clusters.add(c);
                    started.add(new Producer(c, config));
                }
                long begin = System.nanoTime();
                List<Thread> threads = new ArrayList<>();
                for (int i = 0; i < producers; i++) {
                    long share = records / producers + (i < records % producers ? 1 : 0);
                    Producer producer = started.get(i);
                    int seed = i;
                    threads.add(Thread.ofPlatform().name("kiri-perf-" + i).start(() -> drive(producer, share, seed)));
                }
                long lastReport = begin;
                while (true) {
                    boolean done = true;
                    for (Thread t : threads) {
                        t.join(Math.max(1, (lastReport + reportIntervalMs * 1_000_000 - System.nanoTime()) / 1_000_000));
                        done &= !t.isAlive();
                    }
                    long now = System.nanoTime();
                    if (done) {
                        break;
                    }
                    if (now - lastReport >= reportIntervalMs * 1_000_000) {
                        report(progress, now - lastReport);
                        lastReport = now;
                    }
                }
                for (Producer p : started) {
                    p.flush();
                }
                long elapsed = System.nanoTime() - begin;
                summary(out, elapsed, config);
            } finally {
                for (Producer p : started) {
                    p.close();
                }
                for (Cluster c : clusters) {
                    c.close();
                }
            }
            if (firstError.get() != null) {
                spec.commandLine().getErr().println("kiri: " + errors.sum() + " records failed; first error: "
                        + firstError.get().getMessage());
                return 1;
            }
            return 0;
        }

        /** One producer's loop: reuses one payload, throttles to its share of the rate, no per-record allocation. */
        private void drive(Producer producer, long count, int seed) {
            byte[] payload = new byte[recordSize];
            SplittableRandom random = new SplittableRandom(seed);
            for (int i = 0; i < payload.length; i++) {
                payload[i] = (byte) ('A' + random.nextInt(26));
            }
            Producer.Callback callback = this::completed;
            double perThread = throughput / producers;
            long nanosPerRecord = throughput < 0 ? 0 : (long) (1e9 / perThread);
            long start = System.nanoTime();
            try {
                for (long i = 0; i < count; i++) {
                    if (nanosPerRecord > 0) {
                        long due = start + i * nanosPerRecord;
                        long wait = due - System.nanoTime();
                        if (wait > 0) {
                            LockSupport.parkNanos(wait);
                        }
                    }
                    producer.send(topic, -1, null, payload, System.nanoTime(), callback);
                    sent.increment();
                }
            } catch (Exception e) {
                firstError.compareAndSet(null, e);
                errors.increment();
            }
        }

        private void completed(long sentAtNanos, int partition, long offset, Throwable error) {
            if (error != null) {
                errors.increment();
                firstError.compareAndSet(null, error);
                return;
            }
            long micros = (System.nanoTime() - sentAtNanos) / 1000;
            latencyMicros.recordValue(micros);
            acked.increment();
            windowCount.increment();
            windowLatencySum.add(micros);
            windowMax.accumulate(micros);
        }

        private void report(PrintWriter progress, long windowNanos) {
            long n = windowCount.sumThenReset();
            long sum = windowLatencySum.sumThenReset();
            long max = windowMax.getThenReset();
            double seconds = windowNanos / 1e9;
            double rate = n / seconds;
            // the window's own count, as kafka-producer-perf-test prints it
            progress.printf(Locale.ROOT, "%d records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.%n",
                    n, rate, rate * recordSize / (1024.0 * 1024.0), n == 0 ? 0.0 : sum / (double) n / 1000.0,
                    max / 1000.0);
            progress.flush();
        }

        private void summary(PrintWriter out, long elapsedNanos, ProducerConfig config) {
            Histogram h = latencyMicros.copy();
            long n = acked.sum();
            double seconds = elapsedNanos / 1e9;
            double rate = n / seconds;
            double mb = rate * recordSize / (1024.0 * 1024.0);
            double avg = n == 0 ? 0 : h.getMean() / 1000.0;
            double max = h.getMaxValue() / 1000.0;
            double p50 = h.getValueAtPercentile(50) / 1000.0;
            double p95 = h.getValueAtPercentile(95) / 1000.0;
            double p99 = h.getValueAtPercentile(99) / 1000.0;
            double p999 = h.getValueAtPercentile(99.9) / 1000.0;
            if (json) {
                out.printf(Locale.ROOT, "{\"topic\":%s,\"records\":%d,\"acked\":%d,\"errors\":%d,\"record_size\":%d,"
                                + "\"producers\":%d,\"acks\":%d,\"batch_size\":%d,\"linger_ms\":%d,\"compression\":%s,"
                                + "\"elapsed_ms\":%.1f,"
                                + "\"records_per_sec\":%.1f,\"mb_per_sec\":%.3f,\"avg_latency_ms\":%.3f,\"max_latency_ms\":%.3f,"
                                + "\"p50_ms\":%.3f,\"p95_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f}%n",
                        Json.quote(topic), sent.sum(), n, errors.sum(), recordSize, producers, config.acks(),
                        config.batchSize(), config.lingerMs(),
                        Json.quote(config.compression().name().toLowerCase(Locale.ROOT)), elapsedNanos / 1e6, rate, mb, avg, max, p50, p95, p99, p999);
            } else {
                String what = config.acks() == 0 ? "records sent (acks=0: latency is send to write)" : "records sent";
                out.printf(Locale.ROOT, "%d %s, %.1f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, "
                                + "%.2f ms 50th, %.2f ms 95th, %.2f ms 99th, %.2f ms 99.9th.%n",
                        sent.sum(), what, rate, mb, avg, max, p50, p95, p99, p999);
            }
            out.flush();
        }
    }
}
