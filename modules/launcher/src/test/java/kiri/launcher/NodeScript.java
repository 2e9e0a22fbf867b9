package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a Node.js script of a test folder (kafkajs/, rdkafka/) as an external process, bounded in time. */
final class NodeScript {
    private NodeScript() {
    }

    /** Runs {@code node script args...} in {@code dir}; asserts it finishes in time with exit 0; returns its output. */
    static String run(Path dir, long timeoutSeconds, String script, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("node", script));
        command.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("node is needed for this test (apt-get install nodejs npm)", e);
        }
        p.getOutputStream().close();
        // Read while it runs: a full pipe would stall the script.
        var output = new java.io.ByteArrayOutputStream();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (var in = p.getInputStream()) {
                in.transferTo(output);
            } catch (IOException ignored) {
                // the process was killed
            }
        });
        boolean finished = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        if (!finished) {
            p.destroyForcibly();
        }
        reader.join(TimeUnit.SECONDS.toMillis(30));
        String out = output.toString(StandardCharsets.UTF_8);
        assertTrue(finished, "node " + script + " finished in " + timeoutSeconds + " s: " + out);
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}
