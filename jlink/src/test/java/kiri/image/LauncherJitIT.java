package kiri.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/kiri} runs a broker with C1 only, for footprint, unless it serves TLS: then with C2, whose AES-GCM
 * intrinsics C1 lacks. Checked on the JVM the script execs, through its command line.
 */
class LauncherJitIT {
    private static final String C1_ONLY = "-XX:TieredStopAtLevel=1";
    private static final Path IMAGE = Path.of(System.getProperty("kiri.image", "target/kiri"));

    @TempDir
    Path work;

    private final List<Process> brokers = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (Process p : brokers) {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
        }
    }

    @Test
    void aBrokerWithATlsListenerRunsWithC2AndAPlaintextOneWithC1Only() throws Exception {
        Path keystore = work.resolve("broker.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "broker", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", keystore.toString(), "-storepass", "secret")
                .redirectErrorStream(true).start();
        String out = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, keytool.waitFor(), out);
        Path config = work.resolve("server.properties");
        Files.writeString(config, "listeners=PLAINTEXT://127.0.0.1:0,CLIENT://127.0.0.1:0\n"
                + "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CLIENT:SSL\n"
                + "ssl.keystore.location=" + keystore + "\nssl.keystore.password=secret\n");

        assertTrue(jvmOptions("--listener", "PLAINTEXT://127.0.0.1:0").contains(C1_ONLY));
        // a listener named CLIENT, SSL through the protocol map of the --config file
        List<String> tls = jvmOptions("--config", config.toString());
        assertTrue(!tls.contains(C1_ONLY) && tls.contains("-XX:+UseSerialGC"), "C2, the other options kept: " + tls);
        // the flag wins over the file, as in the broker
        assertTrue(jvmOptions("--config", config.toString(), "--listener", "tcp://127.0.0.1:0").contains(C1_ONLY));
    }

    /** Starts {@code bin/kiri broker ARGS} until it listens; the arguments of the JVM it became. */
    private List<String> jvmOptions(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(IMAGE.resolve("bin/kiri").toString(), "broker", "--storage", "memory://"));
        command.addAll(List.of(args));
        Path err = work.resolve("broker-" + brokers.size() + ".err");
        Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
        brokers.add(p);
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = CompletableFuture.supplyAsync(() -> {
            try {
                return r.readLine();
            } catch (java.io.IOException e) {
                return e.toString();
            }
        }).get(60, TimeUnit.SECONDS);
        assertTrue(line != null && line.startsWith("kiri broker listening"), command + ": " + line + "\n" + Files.readString(err));
        return List.of(p.info().arguments().orElseThrow());
    }
}
