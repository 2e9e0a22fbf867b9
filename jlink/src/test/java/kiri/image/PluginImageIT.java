package kiri.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runtime image as a user gets it: a storage engine built outside the reactor, dropped into a copy
 * of the image's {@code plugins/}, serves a real kafka-clients producer through its own URL scheme;
 * {@code kiri cat consume} reads batches kafka-clients compressed with each codec.
 */
class PluginImageIT {
    private static final Pattern LISTENING = Pattern.compile("^kiri broker listening on tcp://[^:]+:(\\d+) .*");

    private static Path image;

    @TempDir
    Path work;

    private Process broker;

    @BeforeAll
    static void findImage() {
        image = Path.of(System.getProperty("kiri.image", "target/kiri"));
        assertTrue(Files.isExecutable(image.resolve("bin/kiri")), "no runtime image at " + image + " (mvn package builds it)");
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (broker != null && broker.isAlive()) {
            broker.destroy();
            if (!broker.waitFor(10, TimeUnit.SECONDS)) broker.destroyForcibly();
        }
    }

    @Test
    void imageHoldsOnlyWhatKiriNeeds() throws Exception {
        Process p = new ProcessBuilder(image.resolve("bin/java").toString(), "--list-modules").redirectErrorStream(true).start();
        List<String> modules = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines()
                .map(l -> l.replaceFirst("@.*", "")).sorted().toList();
        assertEquals(0, p.waitFor());
        // jdk.unsupported: sun.misc.Unsafe, for aircompressor's codecs
        // java.sql (and what it requires): for plugins over JDBC such as the postgres:// engine
        assertEquals(List.of("java.base", "java.logging", "java.sql", "java.transaction.xa", "java.xml", "jdk.unsupported"),
                modules.stream().filter(m -> m.startsWith("java.") || m.startsWith("jdk.")).toList(),
                "JDK modules in the image: a Kiri module now requires more of the JDK; if that is intended, update this test");
        assertTrue(modules.containsAll(List.of("info.picocli", "kiri.launcher", "kiri.protocol", "kiri.router",
                "kiri.storage.api", "kiri.storage.nullstore", "kiri.transport", "kiri.compress", "aircompressor.v3")),
                modules.toString());
        assertTrue(Files.isDirectory(image.resolve("plugins")));
        assertTrue(Files.notExists(image.resolve("include")) && Files.notExists(image.resolve("man")));
    }

    @Test
    void pluginEngineServesAProducer() throws Exception {
        Path copy = copyImage();
        PluginJars.build(work, "echo.jar", PluginJars.echoEngine());
        Files.copy(work.resolve("echo.jar"), copy.resolve("plugins/echo.jar"));

        broker = new ProcessBuilder(copy.resolve("bin/kiri").toString(), "broker", "--storage", "echo://",
                "--listener", "tcp://127.0.0.1:0", "--advertised-listener", "tcp://127.0.0.1:0")
                .redirectError(work.resolve("broker.err").toFile()).start();
        String line = firstLine(broker);
        Matcher m = LISTENING.matcher(line);
        assertTrue(m.matches(), "startup line: " + line + "\nstderr: " + Files.readString(work.resolve("broker.err")));
        assertTrue(line.contains("storage echo:// (test plugin over null://"), line);
        assertTrue(line.contains("[plugin kiri.storage.echo (echo.jar)]"), line);

        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + m.group(1));
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
            for (int i = 0; i < 10; i++) {
                RecordMetadata md = producer.send(new ProducerRecord<>("echoed", "k" + i, "v" + i)).get(20, TimeUnit.SECONDS);
                assertEquals(i, md.offset());
            }
        }

        broker.destroy(); // SIGTERM reaches the JVM: bin/kiri execs java
        assertTrue(broker.waitFor(10, TimeUnit.SECONDS), "broker did not stop on SIGTERM");
    }

    @Test
    void catConsumeReadsEveryCodecFromKafkaClients() throws Exception {
        broker = new ProcessBuilder(image.resolve("bin/kiri").toString(), "broker", "--storage", "memory://",
                "--listener", "tcp://127.0.0.1:0", "--advertised-listener", "tcp://127.0.0.1:0")
                .redirectError(work.resolve("broker.err").toFile()).start();
        Matcher m = LISTENING.matcher(firstLine(broker));
        assertTrue(m.matches(), Files.readString(work.resolve("broker.err")));
        String bootstrap = "127.0.0.1:" + m.group(1);
        for (String codec : List.of("gzip", "snappy", "lz4", "zstd")) {
            Properties props = new Properties();
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
            props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
                for (int i = 0; i < 200; i++) {
                    producer.send(new ProducerRecord<>("z-" + codec, 0, "k" + i, codec + " value " + i));
                }
                producer.flush();
            }
            Process cat = new ProcessBuilder(image.resolve("bin/kiri").toString(), "cat", "consume", "--bootstrap",
                    bootstrap, "--topic", "z-" + codec, "--from-beginning", "--max-messages", "200", "--print-key")
                    .redirectError(work.resolve("cat.err").toFile()).start();
            String out = new String(cat.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(cat.waitFor(30, TimeUnit.SECONDS));
            String err = Files.readString(work.resolve("cat.err"));
            assertEquals(0, cat.exitValue(), err);
            assertEquals("", err, "no warnings (e.g. sun.misc.Unsafe) on stderr");
            List<String> lines = out.lines().toList();
            assertEquals(200, lines.size(), out);
            for (int i = 0; i < 200; i++) {
                assertEquals("k" + i + "\t" + codec + " value " + i, lines.get(i));
            }
        }
    }

    @Test
    void brokenPluginIsOneLineNamingTheJar() throws Exception {
        Path plugins = Files.createDirectories(work.resolve("plugins"));
        // bad.jar requires a module that was there at compile time but is not among the plugins
        Path dep = PluginJars.build(work, "dep.jar", Map.of("module-info.java", "module kiri.plugin.dep { exports kiri.plugin.dep; }",
                "kiri/plugin/dep/Dep.java", "package kiri.plugin.dep; public final class Dep {}"));
        Path bad = PluginJars.build(work, "bad.jar", Map.of("module-info.java", """
                module kiri.storage.broken {
                    requires kiri.storage.api;
                    requires kiri.plugin.dep;
                }
                """, "kiri/storage/broken/Marker.java", "package kiri.storage.broken; public final class Marker {}"), dep);
        Files.copy(bad, plugins.resolve("bad.jar"));

        Process p = new ProcessBuilder(image.resolve("bin/kiri").toString(), "broker", "--plugins", plugins.toString(),
                "--listener", "tcp://127.0.0.1:0").redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(1, p.exitValue(), out);
        assertEquals(1, out.lines().count(), out);
        assertTrue(out.startsWith("kiri: plugin " + plugins.resolve("bad.jar")), out);
        assertTrue(out.contains("kiri.plugin.dep not found"), out);
    }

    private static String firstLine(Process p) throws Exception {
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                String l = r.readLine();
                return l == null ? "<no output; exit " + p.waitFor() + ">" : l;
            } catch (IOException | InterruptedException e) {
                return "<" + e + ">";
            }
        });
        return line.get(30, TimeUnit.SECONDS);
    }

    /** A copy of the image (timestamps kept, so its AOT cache still matches), to own its plugins/ folder. */
    private Path copyImage() throws IOException {
        Path copy = work.resolve("kiri");
        try (Stream<Path> files = Files.walk(image)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, copy.resolve(image.relativize(f).toString()), StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        return copy;
    }
}
