package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.AlterConfigsOptions;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kafka-clients' Admin.incrementalAlterConfigs against Kiri: what {@code kafka-configs.sh --alter} does. */
class AlterConfigsTest {
    private static final ConfigResource TOPIC = new ConfigResource(ConfigResource.Type.TOPIC, "configured");
    /** Kafka's default segment.bytes, which describe shows while no override is set. */
    private static final String DEFAULT_SEGMENT_BYTES = "1073741824";

    private static Config describe(Admin admin) throws Exception {
        return admin.describeConfigs(List.of(TOPIC)).all().get().get(TOPIC);
    }

    private static void alter(Admin admin, AlterConfigOp... ops) throws Exception {
        admin.incrementalAlterConfigs(Map.of(TOPIC, List.of(ops))).all().get();
    }

    private static AlterConfigOp op(String name, String value, AlterConfigOp.OpType type) {
        return new AlterConfigOp(new ConfigEntry(name, value), type);
    }

    @Test
    void setDeleteAppendSubtractAndTheirErrors(@TempDir Path dir) throws Exception {
        try (Broker broker = InProcessBroker.start("file:" + dir.resolve("data"));
                Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, InProcessBroker.bootstrap(broker)))) {
            admin.createTopics(List.of(new NewTopic("configured", 1, (short) 1))).all().get();
            assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, describe(admin).get("retention.ms").source());

            alter(admin, op("retention.ms", "60000", AlterConfigOp.OpType.SET),
                    op("max.message.bytes", "2048", AlterConfigOp.OpType.SET));
            Config c = describe(admin);
            assertEquals("60000", c.get("retention.ms").value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, c.get("retention.ms").source());
            assertEquals("2048", c.get("max.message.bytes").value());

            alter(admin, op("cleanup.policy", "compact", AlterConfigOp.OpType.APPEND));
            assertEquals("delete,compact", describe(admin).get("cleanup.policy").value());
            alter(admin, op("cleanup.policy", "delete", AlterConfigOp.OpType.SUBTRACT));
            assertEquals("compact", describe(admin).get("cleanup.policy").value());

            alter(admin, op("retention.ms", null, AlterConfigOp.OpType.DELETE));
            c = describe(admin);
            assertEquals("604800000", c.get("retention.ms").value(), "back to Kafka's default");
            assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, c.get("retention.ms").source());

            admin.incrementalAlterConfigs(Map.of(TOPIC, List.of(op("segment.bytes", "1048576", AlterConfigOp.OpType.SET))),
                    new AlterConfigsOptions().validateOnly(true)).all().get();
            assertEquals(DEFAULT_SEGMENT_BYTES, describe(admin).get("segment.bytes").value(), "validateOnly changes nothing");

            assertCause(InvalidConfigurationException.class, () -> alter(admin, op("retention.ms", "soon", AlterConfigOp.OpType.SET)));
            assertCause(InvalidConfigurationException.class, () -> alter(admin, op("no.such.config", "1", AlterConfigOp.OpType.SET)));
            assertCause(UnknownTopicOrPartitionException.class, () -> admin.incrementalAlterConfigs(Map.of(
                    new ConfigResource(ConfigResource.Type.TOPIC, "missing"),
                    List.of(op("retention.ms", "1", AlterConfigOp.OpType.SET)))).all().get());
            assertCause(InvalidRequestException.class, () -> admin.incrementalAlterConfigs(Map.of(
                    new ConfigResource(ConfigResource.Type.BROKER, "0"),
                    List.of(op("log.retention.ms", "1", AlterConfigOp.OpType.SET)))).all().get());
            assertEquals("2048", describe(admin).get("max.message.bytes").value(), "failed alters changed nothing");
        }
    }

    @Test
    void overridesSurviveARestartOfTheFileEngine(@TempDir Path dir) throws Exception {
        String url = "file:" + dir.resolve("data");
        try (Broker broker = InProcessBroker.start(url);
                Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, InProcessBroker.bootstrap(broker)))) {
            admin.createTopics(List.of(new NewTopic("configured", 1, (short) 1))).all().get();
            alter(admin, op("retention.bytes", "123456789", AlterConfigOp.OpType.SET));
        }
        try (Broker broker = InProcessBroker.start(url);
                Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, InProcessBroker.bootstrap(broker)))) {
            assertEquals("123456789", describe(admin).get("retention.bytes").value());
        }
    }

    private interface Call {
        void run() throws Exception;
    }

    private static void assertCause(Class<? extends Throwable> expected, Call call) {
        ExecutionException e = assertThrows(ExecutionException.class, call::run);
        assertInstanceOf(expected, e.getCause(), String.valueOf(e.getCause()));
    }
}
