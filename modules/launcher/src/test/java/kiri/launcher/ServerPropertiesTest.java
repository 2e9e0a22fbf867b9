package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kiri broker --config server.properties --override KEY=VALUE}: Kafka's property names, the precedence
 * flag > environment > override > file, one warning naming the keys Kiri ignores, one error line for a bad value.
 */
class ServerPropertiesTest {

    private static Path write(Path dir, String... lines) throws Exception {
        Path file = dir.resolve("server.properties");
        Files.writeString(file, String.join("\n", lines) + "\n");
        return file;
    }

    @Test
    void fileFillsTheFlagsOverridesWinOverItAndTheEnvironmentAndFlagsWinOverBoth(@TempDir Path dir) throws Exception {
        Path file = write(dir, "listeners=PLAINTEXT://127.0.0.1:19092", "log.dirs=/data/a,/data/b", "node.id=7",
                "num.partitions=3", "auto.create.topics.enable=false", "group.initial.rebalance.delay.ms=0",
                "socket.request.max.bytes=2000000", "queued.max.request.bytes=5000000",
                "metrics.listener=http://127.0.0.1:19404");
        BrokerCommand.Values v = BrokerCommand.parse(List.of("--config", file.toString(), "--override", "num.partitions=5",
                "--override=node.id=8"), Map.<String, String>of()::get);
        assertEquals("PLAINTEXT://127.0.0.1:19092", v.listener());
        assertEquals("file:/data/a", v.storage(), "log.dirs: the first directory");
        assertEquals(8, v.nodeId(), "an override wins over the file");
        assertEquals(5, v.defaultPartitions());
        assertFalse(v.autoCreateTopics());
        assertEquals(0, v.groupInitialRebalanceDelayMs());
        assertEquals(2_000_000, v.socketRequestMaxBytes());
        assertEquals(5_000_000, v.queuedMaxRequestBytes());
        assertEquals("http://127.0.0.1:19404", v.metricsListener());

        Map<String, String> env = new HashMap<>(Map.of("KIRI_LISTENER", "tcp://127.0.0.1:1", "KIRI_CONFIG", file.toString()));
        v = BrokerCommand.parse(List.of("--node-id", "9"), env::get);
        assertEquals("tcp://127.0.0.1:1", v.listener(), "the environment wins over the file");
        assertEquals(9, v.nodeId(), "a flag wins over the file");
        assertEquals(3, v.defaultPartitions(), "KIRI_CONFIG names the file");
    }

    @Test
    void unknownKeysAreNamedOnceAndKnownOnesAreNot() {
        Map<String, String> props = ServerProperties.load(null, List.of("num.partitions=2", "process.roles=broker",
                "listener.name.sasl_ssl.plain.sasl.jaas.config=x", "ssl.keystore.location=/k", "no.such.key=1"));
        assertEquals(List.of("no.such.key", "process.roles"), ServerProperties.unsupported(props));
    }

    @Test
    void badValuesAndFilesAreOneLineWithExitOne(@TempDir Path dir) throws Exception {
        Path file = write(dir, "num.partitions=many");
        assertError("kiri: num.partitions: expected an integer, got 'many'", "broker", "--config", file.toString());
        assertError("kiri: --config /no/such/file: no such file", "broker", "--config", "/no/such/file");
        assertError("kiri: --override retention: expected KEY=VALUE", "broker", "--override", "retention");
        assertError("kiri: allow.everyone.if.no.acl.found: expected true or false, got 'maybe'", "broker",
                "--listener", "tcp://127.0.0.1:0", "--storage", "memory://", "--override", "allow.everyone.if.no.acl.found=maybe");
        assertError("kiri: listener CLIENT has no security protocol", "broker", "--listener", "CLIENT://127.0.0.1:0",
                "--storage", "memory://");
    }

    private static void assertError(String expected, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        assertEquals(1, exit, err.toString());
        String[] lines = err.toString().strip().split("\n");
        assertEquals(1, lines.length, err.toString());
        assertTrue(lines[0].startsWith(expected), err.toString());
    }

    @Test
    void aSaslListenerFromAPropertiesFileServesKafkaClients(@TempDir Path dir) throws Exception {
        Path file = write(dir, "listeners=PLAINTEXT://127.0.0.1:0,CLIENT://127.0.0.1:0",
                "advertised.listeners=CLIENT://localhost:0",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CLIENT:SASL_PLAINTEXT",
                "sasl.enabled.mechanisms=PLAIN", "socket.request.max.bytes=2000000",
                "listener.name.client.plain.sasl.jaas.config=" + SaslBroker.JAAS,
                "log.dirs=" + dir.resolve("data"), "process.roles=broker");
        StringWriter out = new StringWriter();
        PrintStream stderr = System.err;
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
        Broker broker;
        try {
            broker = BrokerCommand.start(BrokerCommand.parse(List.of("--config", file.toString()), k -> null),
                    new PrintWriter(out, true));
        } finally {
            System.setErr(stderr);
        }
        try (broker) {
            assertTrue(warnings.toString(StandardCharsets.UTF_8).contains("Kiri does not support: process.roles"), warnings.toString());
            assertTrue(out.toString().contains("CLIENT://127.0.0.1:"), out.toString());
            Map<String, Object> client = new HashMap<>(SaslTest.client("PLAIN", "alice", "alice-secret"));
            client.put("bootstrap.servers", "127.0.0.1:" + broker.localAddress("CLIENT").getPort());
            try (Admin admin = Admin.create(client)) {
                var node = admin.describeCluster().nodes().get().iterator().next();
                assertEquals("localhost", node.host(), "CLIENT's advertised host");
                assertEquals(broker.localAddress("CLIENT").getPort(), node.port(), "port 0 advertises the bound port");
                // DescribeConfigs of the broker reports what the file said, under Kafka's names
                ConfigResource resource = new ConfigResource(ConfigResource.Type.BROKER, "0");
                Config config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
                assertEquals("PLAINTEXT://127.0.0.1:" + broker.localAddress("PLAINTEXT").getPort() + ",CLIENT://localhost:"
                        + broker.localAddress("CLIENT").getPort(), config.get("advertised.listeners").value());
                assertEquals("PLAINTEXT:PLAINTEXT,CLIENT:SASL_PLAINTEXT", config.get("listener.security.protocol.map").value());
                assertEquals("PLAIN", config.get("sasl.enabled.mechanisms").value());
                assertEquals("2000000", config.get("socket.request.max.bytes").value());
                assertEquals(ConfigEntry.ConfigSource.STATIC_BROKER_CONFIG, config.get("socket.request.max.bytes").source());
                assertEquals(null, config.get("listener.name.client.plain.sasl.jaas.config"), "never a secret");
            }
        }
    }

    @Test
    void leaseKeysBecomeParametersOfAPostgresUrlThatDoesNotSetThem() {
        Map<String, String> props = ServerProperties.load(null, List.of("broker.session.timeout.ms=6000",
                "broker.heartbeat.interval.ms=1000"));
        assertEquals(List.of(), ServerProperties.unsupported(props), "Kafka's lease keys are known");
        assertEquals("postgres://kiri@h:5432/db?broker.session.timeout.ms=6000&broker.heartbeat.interval.ms=1000",
                ServerProperties.storageUrl("postgres://kiri@h:5432/db", props));
        assertEquals("postgresql://kiri@h/db?pool=2&broker.session.timeout.ms=3000&broker.heartbeat.interval.ms=1000",
                ServerProperties.storageUrl("postgresql://kiri@h/db?pool=2&broker.session.timeout.ms=3000", props),
                "the URL's own value wins");
        assertEquals("file:/data", ServerProperties.storageUrl("file:/data", props), "an engine without a lease");
        assertEquals("postgres://kiri@h/db", ServerProperties.storageUrl("postgres://kiri@h/db", Map.of()));
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ServerProperties.load(null, List.of("broker.session.timeout.ms=soon")));
        assertEquals("broker.session.timeout.ms: expected an integer, got 'soon'", e.getMessage());
    }
}
