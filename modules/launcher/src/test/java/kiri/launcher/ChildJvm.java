package kiri.launcher;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.jar.JarFile;

/**
 * A child JVM running a test class's {@code main} on a plain class path made of this test JVM's class path and
 * module path (so real Kafka libraries run there unmodified), for tests that must SIGKILL a client. Its stdout
 * lines are collected ({@link #lines}), its stderr goes to a file.
 */
final class ChildJvm implements AutoCloseable {
    private final Process process;
    final Queue<String> lines = new ConcurrentLinkedQueue<>();

    private ChildJvm(Process process) {
        this.process = process;
        Thread.ofVirtual().start(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) lines.add(line);
            } catch (IOException ignored) {
                // the process went away
            }
        });
    }

    static ChildJvm start(Class<?> main, Path stderr, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-Xmx256m", "--sun-misc-unsafe-memory-access=allow", "-cp", classPath(), main.getName()));
        cmd.addAll(List.of(args));
        return new ChildJvm(new ProcessBuilder(cmd).redirectError(stderr.toFile()).start());
    }

    boolean printed(String line) {
        return lines.contains(line);
    }

    /** SIGKILL: no shutdown hook, no close, as a crashed machine or an OOM kill. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }

    /** Test classes first, then every jar and class folder this JVM was given (a manifest-only jar expanded). */
    private static String classPath() throws IOException {
        List<String> out = new ArrayList<>();
        out.add(Path.of("target", "test-classes").toAbsolutePath().toString());
        for (String prop : List.of("java.class.path", "jdk.module.path")) {
            for (String e : System.getProperty(prop, "").split(File.pathSeparator)) {
                if (e.isBlank() || out.contains(e)) continue;
                if (e.contains("surefirebooter") && e.endsWith(".jar")) {
                    try (JarFile jar = new JarFile(e)) {
                        String cp = jar.getManifest().getMainAttributes().getValue("Class-Path");
                        if (cp != null) for (String u : cp.split(" ")) out.add(Path.of(java.net.URI.create(u)).toString());
                    }
                    continue;
                }
                out.add(e);
            }
        }
        return String.join(File.pathSeparator, out);
    }
}
