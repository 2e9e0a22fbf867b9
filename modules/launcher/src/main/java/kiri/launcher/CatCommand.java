package kiri.launcher;

import java.lang.foreign.ValueLayout;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import kiri.client.Cluster;
import kiri.client.Consumer;
import kiri.client.GroupMember;
import kiri.client.Producer;
import kiri.client.ProducerConfig;
import kiri.protocol.record.Header;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code kiri cat produce|consume}: records from stdin to a topic, and from a topic to stdout. */
@Command(name = "cat", mixinStandardHelpOptions = true,
        description = "Produce lines from stdin to a topic, or print a topic's records.",
        subcommands = {CatCommand.Produce.class, CatCommand.Consume.class})
final class CatCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    enum Format { text, json }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "produce", mixinStandardHelpOptions = true,
            description = "Send each line of stdin as a record: the line is the value (text; with --key-separator, "
                    + "KEY<sep>VALUE), or a JSON object {\"key\": ..., \"value\": ..., \"partition\": N} (json).")
    static final class Produce implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Mixin
        ClientOptions client;
        @Mixin
        ProducerOptions producing;
        @Option(names = {"--topic", "-t"}, required = true, paramLabel = "TOPIC", description = "Topic to write to.")
        String topic;
        @Option(names = "--format", defaultValue = "text", description = "text or json (default ${DEFAULT-VALUE}).")
        Format format;
        @Option(names = "--key-separator", paramLabel = "SEP",
                description = "In text format, split each line at the first SEP into key and value.")
        String keySeparator;
        @Option(names = "--partition", defaultValue = "-1", paramLabel = "N",
                description = "Partition to write to (default: by key, like Kafka's partitioner).")
        int partition;
        @Option(names = {"--header", "-H"}, paramLabel = "KEY=VALUE",
                description = "A header on every record (repeatable; VALUE may be empty), as kcat -H.")
        List<String> headerPairs;

        @Override
        public Integer call() throws Exception {
            ProducerConfig config = producing.config();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong acked = new AtomicLong();
            Producer.Callback callback = (token, p, offset, error) -> {
                if (error != null) {
                    failure.compareAndSet(null, error);
                } else {
                    acked.incrementAndGet();
                }
            };
            List<Header> headers = headers(headerPairs);
            long lines = 0;
            try (Cluster cluster = client.connect(); Producer producer = new Producer(cluster, config)) {
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                String line;
                while ((line = in.readLine()) != null && failure.get() == null) {
                    if (line.isEmpty() && format == Format.json) {
                        continue;
                    }
                    lines++;
                    byte[] key = null;
                    byte[] value;
                    int part = partition;
                    if (format == Format.json) {
                        Map<String, String> object;
                        try {
                            object = Json.parseObject(line);
                        } catch (IllegalArgumentException e) {
                            throw new IllegalArgumentException("line " + lines + ": " + e.getMessage());
                        }
                        key = bytes(object.get("key"));
                        value = bytes(object.get("value"));
                        if (object.get("partition") != null) {
                            part = Integer.parseInt(object.get("partition"));
                        }
                    } else if (keySeparator != null && line.contains(keySeparator)) {
                        int at = line.indexOf(keySeparator);
                        key = bytes(line.substring(0, at));
                        value = bytes(line.substring(at + keySeparator.length()));
                    } else {
                        value = bytes(line);
                    }
                    producer.send(topic, part, key, value, headers, lines, callback);
                }
                producer.flush();
            }
            if (failure.get() != null) {
                throw new IllegalStateException("producing to " + topic + " failed: " + failure.get().getMessage(),
                        failure.get());
            }
            spec.commandLine().getErr().println("produced " + lines + " records to " + topic
                    + (config.acks() == 0 ? " (acks=0: not acknowledged)" : ""));
            return 0;
        }

        static List<Header> headers(List<String> pairs) {
            List<Header> out = new java.util.ArrayList<>();
            if (pairs != null) {
                for (String pair : pairs) {
                    int eq = pair.indexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("--header must look like KEY=VALUE, got '" + pair + "'");
                    }
                    out.add(Header.of(pair.substring(0, eq), bytes(pair.substring(eq + 1))));
                }
            }
            return List.copyOf(out);
        }

        private static byte[] bytes(String s) {
            return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
        }
    }

    @Command(name = "consume", mixinStandardHelpOptions = true,
            description = "Print records of a topic: values, one per line (text), or one JSON object per record (json).")
    static final class Consume implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Mixin
        ClientOptions client;
        @Option(names = {"--topic", "-t"}, required = true, paramLabel = "TOPIC", description = "Topic to read.")
        String topic;
        @Option(names = "--partition", paramLabel = "N", description = "Only these partitions (repeatable; default all).")
        List<Integer> partitions;
        @Option(names = "--from-beginning", description = "Start at the earliest offset (default: only new records).")
        boolean fromBeginning;
        @Option(names = "--offset", paramLabel = "N", defaultValue = "-1", description = "Start at this offset.")
        long offset;
        @Option(names = "--max-messages", paramLabel = "N", defaultValue = "-1",
                description = "Exit after this many records.")
        long maxMessages;
        @Option(names = "--timeout-ms", paramLabel = "MS", defaultValue = "-1",
                description = "Exit when no record arrives for this long (default: wait forever).")
        long timeoutMs;
        @Option(names = "--format", defaultValue = "text", description = "text or json (default ${DEFAULT-VALUE}).")
        Format format;
        @Option(names = "--print-key", description = "In text format, print KEY<separator>VALUE.")
        boolean printKey;
        @Option(names = "--key-separator", defaultValue = "\t", paramLabel = "SEP", description = "Default: a tab.")
        String keySeparator;
        @Option(names = "--group", paramLabel = "GROUP",
                description = "Consume as a member of this consumer group (classic protocol, range assignor): start "
                        + "at the group's committed offsets and commit after each batch of records.")
        String group;

        @Override
        public Integer call() throws Exception {
            if (group != null && (partitions != null || offset >= 0)) {
                throw new IllegalArgumentException("--group takes its partitions and offsets from the group: "
                        + "drop --partition and --offset");
            }
            long start = offset >= 0 ? offset : fromBeginning ? Consumer.EARLIEST : Consumer.LATEST;
            long max = maxMessages < 0 ? Long.MAX_VALUE : maxMessages;
            PrintWriter out = spec.commandLine().getOut();
            long[] printed = {0};
            Consumer.RecordHandler handler = (t, p, o, ts, key, value, record) -> {
                if (format == Format.json) {
                    StringBuilder line = new StringBuilder("{\"topic\":").append(Json.quote(t)).append(",\"partition\":")
                            .append(p).append(",\"offset\":").append(o).append(",\"timestamp\":").append(ts)
                            .append(",\"key\":").append(Json.quote(text(key))).append(",\"value\":")
                            .append(Json.quote(text(value)));
                    if (record.headerCount() > 0) {
                        line.append(",\"headers\":{");
                        for (int h = 0; record.nextHeader(); h++) {
                            line.append(h == 0 ? "" : ",").append(Json.quote(record.headerKeyAsString())).append(':')
                                    .append(Json.quote(text(record.headerValue())));
                        }
                        line.append('}');
                    }
                    out.print(line.append("}\n"));
                } else {
                    if (printKey) {
                        out.print(key == null ? "null" : text(key));
                        out.print(keySeparator);
                    }
                    out.print(value == null ? "null" : text(value));
                    out.print('\n');
                }
                printed[0]++;
            };
            try (Cluster cluster = client.connect(); Consumer consumer = new Consumer(cluster, Consumer.Config.defaults())) {
                GroupMember member = group == null ? null : new GroupMember(cluster, group, List.of(topic));
                try {
                    if (member == null) {
                        consumer.assign(topic, partitions, start);
                    } else {
                        join(member, consumer, start);
                    }
                    long idleSince = System.nanoTime();
                    long lastHeartbeat = System.nanoTime();
                    while (printed[0] < max) {
                        int n = consumer.hasAssignment() ? consumer.poll(handler, max - printed[0]) : idle();
                        out.flush();
                        if (member != null) {
                            if (n > 0) {
                                member.commit(consumer.positionsByTopic());
                            }
                            if (System.nanoTime() - lastHeartbeat > 3_000_000_000L) {
                                lastHeartbeat = System.nanoTime();
                                if (!member.heartbeat()) {
                                    join(member, consumer, start);
                                }
                            }
                        }
                        if (n > 0) {
                            idleSince = System.nanoTime();
                        } else if (timeoutMs >= 0 && (System.nanoTime() - idleSince) / 1_000_000 >= timeoutMs) {
                            break;
                        }
                    }
                    if (member != null) {
                        member.commit(consumer.positionsByTopic());
                    }
                } finally {
                    if (member != null) {
                        member.close();
                    }
                }
            }
            out.flush();
            return 0;
        }

        /** Joins (or rejoins) the group and positions the consumer at the committed offsets (else at {@code reset}). */
        private void join(GroupMember member, Consumer consumer, long reset) throws java.io.IOException {
            Map<String, List<Integer>> assignment = member.join();
            consumer.unassignAll();
            List<Integer> mine = assignment.getOrDefault(topic, List.of());
            if (mine.isEmpty()) {
                return;
            }
            consumer.assign(topic, mine, reset);
            member.committed(Map.of(topic, mine)).forEach((tp, committed) -> {
                if (committed >= 0) {
                    int partition = Integer.parseInt(tp.substring(tp.lastIndexOf('-') + 1));
                    consumer.seek(topic, partition, committed);
                }
            });
        }

        private static int idle() throws InterruptedException {
            Thread.sleep(200);
            return 0;
        }

        private static String text(MemorySegment s) {
            if (s == null) {
                return null;
            }
            return new String(s.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }
    }
}
