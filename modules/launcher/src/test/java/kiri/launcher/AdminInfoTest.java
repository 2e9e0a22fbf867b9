package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.SecurityDisabledException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** kafka-clients' Admin: log dirs (sizes per partition) and ACLs (Kafka's answer without an authorizer). */
class AdminInfoTest {
    @Test
    void describeLogDirsReportsStoredBytesPerPartition() throws Exception {
        try (Broker broker = InProcessBroker.start("memory://");
                Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, InProcessBroker.bootstrap(broker)))) {
            admin.createTopics(List.of(new NewTopic("sized", 2, (short) 1), new NewTopic("empty", 1, (short) 1))).all().get();
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, InProcessBroker.bootstrap(broker),
                    ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
                    ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName()))) {
                for (int i = 0; i < 100; i++) {
                    producer.send(new ProducerRecord<>("sized", 1, null, new byte[1000])).get();
                }
            }
            Map<String, LogDirDescription> dirs = admin.describeLogDirs(List.of(0)).allDescriptions().get().get(0);
            assertEquals(1, dirs.size(), dirs.toString());
            assertEquals("memory://", dirs.keySet().iterator().next());
            Map<TopicPartition, ReplicaInfo> replicas = dirs.get("memory://").replicaInfos();
            assertEquals(0, replicas.get(new TopicPartition("sized", 0)).size());
            long size = replicas.get(new TopicPartition("sized", 1)).size();
            assertTrue(size >= 100 * 1000 && size < 200 * 1000, "100 records of 1000 B in batches: " + size);
            assertEquals(0, replicas.get(new TopicPartition("empty", 0)).size());

            var some = admin.describeReplicaLogDirs(List.of(new org.apache.kafka.common.TopicPartitionReplica("sized", 1, 0)))
                    .all().get();
            assertEquals("memory://", some.values().iterator().next().getCurrentReplicaLogDir());
        }
    }

    @Test
    void aclApisSayThatSecurityIsDisabledAsKafkaDoesWithoutAnAuthorizer() throws Exception {
        try (Broker broker = InProcessBroker.start("null://");
                Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, InProcessBroker.bootstrap(broker)))) {
            assertDisabled(() -> admin.describeAcls(AclBindingFilter.ANY).values().get());
            AclBinding binding = new AclBinding(new ResourcePattern(ResourceType.TOPIC, "t", PatternType.LITERAL),
                    new AccessControlEntry("User:alice", "*", AclOperation.READ, AclPermissionType.ALLOW));
            assertDisabled(() -> admin.createAcls(List.of(binding)).all().get());
            assertDisabled(() -> admin.deleteAcls(List.of(AclBindingFilter.ANY)).all().get());
        }
    }

    private interface Call {
        void run() throws Exception;
    }

    private static void assertDisabled(Call call) {
        ExecutionException e = assertThrows(ExecutionException.class, call::run);
        assertInstanceOf(SecurityDisabledException.class, e.getCause(), String.valueOf(e.getCause()));
    }
}
