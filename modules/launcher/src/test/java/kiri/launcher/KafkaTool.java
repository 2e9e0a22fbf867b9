package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs one of Apache Kafka's command-line tools ({@code org.apache.kafka.tools.<tool>}) in a child JVM. */
final class KafkaTool {
    record Run(int exit, String out) {
    }

    private KafkaTool() {
    }

    /** stdout and stderr together, and the exit code. */
    static Run run(String tool, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "org.apache.kafka.tools." + tool));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(
                new java.io.File("/dev/null"))).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), tool + " finished");
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
