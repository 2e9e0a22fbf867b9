package kiri.launcher;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import kiri.launcher.bench.CodecBench;
import kiri.launcher.bench.CodecCorpus;
import kiri.protocol.message.ApiKey;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kiri bench codec}: decode + re-encode a built-in corpus of frames, checking every byte. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Micro benchmarks.",
        subcommands = {BenchCommand.Codec.class})
final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * A note for stderr when the JVM runs without its optimizing compiler (./kiri starts the
     * launcher with -XX:TieredStopAtLevel=1 for a fast start), or null.
     */
    static String c1OnlyNote() {
        java.util.Optional<String[]> args = ProcessHandle.current().info().arguments();
        if (args.isPresent()) {
            for (String a : args.get()) {
                if (a.startsWith("-XX:TieredStopAtLevel=") && !a.endsWith("=4")) {
                    return "kiri: note: this JVM runs with " + a + " (no C2), so figures understate steady-state speed; "
                            + "set KIRI_JAVA_OPTS (e.g. KIRI_JAVA_OPTS=-XX:+UseParallelGC) to measure";
                }
            }
        }
        return null;
    }

    @Command(name = "codec", mixinStandardHelpOptions = true,
            description = "Decode and re-encode a corpus of request/response frames (every API a broker serves in "
                    + "old, flexible and tagged versions, plus produce/fetch frames with 1 KiB records in 16 KiB "
                    + "batches); every re-encoding must match the frame byte for byte. Prints ns/frame and MB/s per API.")
    static final class Codec implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "--iterations", defaultValue = "1000", paramLabel = "N",
                description = "Timed passes over each API's frames (default ${DEFAULT-VALUE}).")
        int iterations;
        @Option(names = "--warmup", defaultValue = "-1", paramLabel = "N",
                description = "Untimed passes over the corpus first (default: iterations / 5).")
        int warmup;
        @Option(names = "--api-key", paramLabel = "K", description = "Only this API: a key number or name (Produce, FETCH, "
                + "list_offsets); repeatable.")
        List<String> apiKeys;
        @Option(names = "--request", description = "Only request frames.")
        boolean requestsOnly;
        @Option(names = "--response", description = "Only response frames.")
        boolean responsesOnly;
        @Option(names = "--json", description = "Print the results as one JSON object.")
        boolean json;
        @Option(names = "--verbose", description = "Print stack traces with errors.")
        boolean verbose;

        @Override
        public Integer call() {
            if (iterations < 1) {
                throw new IllegalArgumentException("--iterations must be >= 1, got " + iterations);
            }
            if (requestsOnly && responsesOnly) {
                throw new IllegalArgumentException("--request and --response exclude each other");
            }
            String note = c1OnlyNote();
            if (note != null) {
                spec.commandLine().getErr().println(note);
            }
            List<ApiKey> wanted = new ArrayList<>();
            if (apiKeys != null) {
                for (String k : apiKeys) {
                    wanted.add(parseApi(k));
                }
            }
            List<CodecCorpus.Frame> frames = new ArrayList<>();
            for (CodecCorpus.Frame f : CodecCorpus.build()) {
                if ((wanted.isEmpty() || wanted.contains(f.api())) && !(requestsOnly && !f.request())
                        && !(responsesOnly && f.request())) {
                    frames.add(f);
                }
            }
            if (frames.isEmpty()) {
                throw new IllegalArgumentException("no frames in the corpus match " + apiKeys);
            }
            CodecBench bench = new CodecBench(frames);
            Map<ApiKey, CodecBench.Stats> stats;
            try {
                stats = bench.run(frames, warmup < 0 ? Math.max(1, iterations / 5) : warmup, iterations);
            } catch (CodecBench.Mismatch e) {
                throw new IllegalStateException("codec mismatch: " + e.getMessage(), e);
            }
            long frameCount = 0;
            long bytes = 0;
            long nanos = 0;
            for (CodecBench.Stats s : stats.values()) {
                frameCount += s.frames();
                bytes += s.bytes();
                nanos += s.nanos();
            }
            CodecBench.Stats total = new CodecBench.Stats("total", -1, frameCount, bytes, nanos);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                StringBuilder b = new StringBuilder("{\"iterations\":").append(iterations).append(",\"corpus_frames\":")
                        .append(frames.size()).append(",\"apis\":[");
                boolean first = true;
                for (CodecBench.Stats s : stats.values()) {
                    b.append(first ? "" : ",").append(jsonStats(s));
                    first = false;
                }
                b.append("],\"total\":").append(jsonStats(total)).append('}');
                out.println(b);
            } else {
                out.printf(Locale.ROOT, "%-28s %4s %10s %10s %12s %10s%n", "api", "key", "frames", "bytes/frame",
                        "ns/frame", "MB/s");
                for (CodecBench.Stats s : stats.values()) {
                    line(out, s);
                }
                line(out, total);
                out.printf(Locale.ROOT, "%d corpus frames, %d iterations; every re-encoding matched its frame byte for byte.%n",
                        frames.size(), iterations);
            }
            out.flush();
            return 0;
        }

        private static void line(PrintWriter out, CodecBench.Stats s) {
            out.printf(Locale.ROOT, "%-28s %4s %10d %10d %12.1f %10.1f%n", s.api(), s.key() < 0 ? "" : Integer.toString(s.key()),
                    s.frames(), s.frames() == 0 ? 0 : s.bytes() / s.frames(), s.nsPerFrame(), s.mbPerSecond());
        }

        private static String jsonStats(CodecBench.Stats s) {
            return String.format(Locale.ROOT, "{\"api\":%s,\"key\":%d,\"frames\":%d,\"bytes\":%d,\"ns_per_frame\":%.1f,"
                    + "\"mb_per_sec\":%.1f}", Json.quote(s.api()), s.key(), s.frames(), s.bytes(), s.nsPerFrame(),
                    s.mbPerSecond());
        }

        static ApiKey parseApi(String k) {
            String s = k.strip();
            try {
                ApiKey api = ApiKey.forId(Integer.parseInt(s));
                if (api != null) {
                    return api;
                }
            } catch (NumberFormatException e) {
                String norm = s.replace("_", "").replace("-", "").toLowerCase(Locale.ROOT);
                for (ApiKey api : ApiKey.values()) {
                    if (api.title.toLowerCase(Locale.ROOT).equals(norm) || api.name().replace("_", "").toLowerCase(Locale.ROOT).equals(norm)) {
                        return api;
                    }
                }
            }
            throw new IllegalArgumentException("unknown api key '" + k + "' (use a number or a name such as Produce)");
        }
    }
}
