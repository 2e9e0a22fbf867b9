package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ACLs with Kafka's StandardAuthorizer semantics, driven by unmodified clients over SASL_PLAINTEXT: the super user
 * admin may do everything, alice only what ACLs allow; {@code kafka-acls} adds, lists and removes them; they survive
 * a restart of the file engine.
 */
class AclTest {
    private static final Map<String, String> AUTHORIZER = Map.of(
            "authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "super.users", "User:admin");

    private static Map<String, Object> as(Broker broker, String user, String password) {
        Map<String, Object> c = new HashMap<>(SaslTest.client("PLAIN", user, password));
        c.put("bootstrap.servers", SaslBroker.bootstrap(broker, "SASL_PLAINTEXT"));
        return c;
    }

    private static void produce(Map<String, Object> config, String topic) throws Exception {
        Map<String, Object> p = new HashMap<>(config);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            producer.send(new ProducerRecord<>(topic, "k", "v")).get();
        }
    }

    /** Consumes in {@code group} until a record arrives; the error the consumer throws, if any. */
    private static int consume(Map<String, Object> config, String topic, String group) {
        Map<String, Object> c = new HashMap<>(config);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            int n = 0;
            while (n == 0 && System.nanoTime() < deadline) {
                n += consumer.poll(Duration.ofMillis(200)).count();
            }
            consumer.commitSync();
            return n;
        }
    }

    private static AclBinding allow(ResourceType type, String name, PatternType pattern, String principal, AclOperation op) {
        return new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry(principal, "*", op, AclPermissionType.ALLOW));
    }

    @Test
    void principalsDoWhatTheirAclsAllowAndTheSuperUserEverything() throws Exception {
        try (Broker broker = SaslBroker.start("memory://", AUTHORIZER);
                Admin admin = Admin.create(as(broker, "admin", "admin-secret"))) {
            admin.createTopics(List.of(new NewTopic("orders", 1, (short) 1), new NewTopic("secret", 1, (short) 1))).all().get();
            produce(as(broker, "admin", "admin-secret"), "orders");
            Map<String, Object> alice = as(broker, "alice", "alice-secret");

            ExecutionException e = assertThrows(ExecutionException.class, () -> produce(alice, "orders"));
            assertInstanceOf(TopicAuthorizationException.class, e.getCause(), "no WRITE: cannot produce");

            admin.createAcls(List.of(allow(ResourceType.TOPIC, "ord", PatternType.PREFIXED, "User:alice", AclOperation.WRITE),
                    allow(ResourceType.TOPIC, "orders", PatternType.LITERAL, "User:alice", AclOperation.READ))).all().get();
            produce(alice, "orders");

            var refused = assertThrows(GroupAuthorizationException.class, () -> consume(alice, "orders", "alice-group"),
                    "READ on the topic but not on the group: cannot consume");
            assertTrue(refused.getMessage().contains("alice-group"), refused.getMessage());
            admin.createAcls(List.of(allow(ResourceType.GROUP, "alice-", PatternType.PREFIXED, "User:alice", AclOperation.READ)))
                    .all().get();
            assertTrue(consume(alice, "orders", "alice-group") > 0);

            try (Admin asAlice = Admin.create(alice)) {
                assertEquals(java.util.Set.of("orders"), asAlice.listTopics().names().get(), "Metadata hides 'secret'");
                assertFalse(asAlice.listConsumerGroups().all().get().isEmpty(), "alice sees her group");
                ExecutionException create = assertThrows(ExecutionException.class,
                        () -> asAlice.createTopics(List.of(new NewTopic("mine", 1, (short) 1))).all().get());
                assertInstanceOf(TopicAuthorizationException.class, create.getCause());
                ExecutionException acls = assertThrows(ExecutionException.class,
                        () -> asAlice.describeAcls(AclBindingFilter.ANY).values().get());
                assertInstanceOf(org.apache.kafka.common.errors.ClusterAuthorizationException.class, acls.getCause());
            }
            // a DENY wins over the ALLOW
            admin.createAcls(List.of(new AclBinding(new ResourcePattern(ResourceType.TOPIC, "orders", PatternType.LITERAL),
                    new AccessControlEntry("User:alice", "*", AclOperation.WRITE, AclPermissionType.DENY)))).all().get();
            e = assertThrows(ExecutionException.class, () -> produce(alice, "orders"));
            assertInstanceOf(TopicAuthorizationException.class, e.getCause());
            // the super user: every topic, every group, without any ACL
            assertEquals(java.util.Set.of("orders", "secret"), admin.listTopics().names().get());
            produce(as(broker, "admin", "admin-secret"), "secret");
            assertTrue(consume(as(broker, "admin", "admin-secret"), "secret", "admin-group") > 0);
            assertTrue(admin.listConsumerGroups().all().get().size() >= 2);
        }
    }

    @Test
    void adminAndTransactionalRequestsAreCheckedToo() throws Exception {
        try (Broker broker = SaslBroker.start("memory://", AUTHORIZER);
                Admin admin = Admin.create(as(broker, "admin", "admin-secret"));
                Admin alice = Admin.create(as(broker, "alice", "alice-secret"))) {
            admin.createTopics(List.of(new NewTopic("t", 1, (short) 1))).all().get();
            admin.createAcls(List.of(allow(ResourceType.TOPIC, "t", PatternType.LITERAL, "User:alice", AclOperation.DESCRIBE)))
                    .all().get();
            var topic = new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.TOPIC, "t");
            List<org.apache.kafka.common.KafkaFuture<?>> refused = List.of(
                    alice.describeConfigs(List.of(topic)).all(),
                    alice.incrementalAlterConfigs(Map.of(topic, List.of(new org.apache.kafka.clients.admin.AlterConfigOp(
                            new org.apache.kafka.clients.admin.ConfigEntry("retention.ms", "1000"),
                            org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET)))).all(),
                    alice.createPartitions(Map.of("t", org.apache.kafka.clients.admin.NewPartitions.increaseTo(2))).all(),
                    alice.deleteRecords(Map.of(new org.apache.kafka.common.TopicPartition("t", 0),
                            org.apache.kafka.clients.admin.RecordsToDelete.beforeOffset(0))).all(),
                    alice.deleteTopics(List.of("t")).all());
            for (var f : refused) {
                ExecutionException e = assertThrows(ExecutionException.class, f::get);
                assertInstanceOf(org.apache.kafka.common.errors.AuthorizationException.class, e.getCause(), e.toString());
            }
            assertEquals(1, admin.describeTopics(List.of("t")).allTopicNames().get().get("t").partitions().size(),
                    "nothing changed");
            Map<String, Object> txn = new HashMap<>(as(broker, "alice", "alice-secret"));
            txn.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "alice-txn");
            txn.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            txn.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(txn)) {
                assertThrows(org.apache.kafka.common.errors.TransactionalIdAuthorizationException.class, producer::initTransactions);
            }
        }
    }

    @Test
    void offsetCommitsAndDeletesNeedReadOnTheTopicAndDeleteByIdNeedsDelete() throws Exception {
        try (Broker broker = SaslBroker.start("memory://", AUTHORIZER);
                Admin admin = Admin.create(as(broker, "admin", "admin-secret"));
                Admin alice = Admin.create(as(broker, "alice", "alice-secret"))) {
            admin.createTopics(List.of(new NewTopic("t", 1, (short) 1), new NewTopic("u", 1, (short) 1))).all().get();
            var t0 = new org.apache.kafka.common.TopicPartition("t", 0);
            var u0 = new org.apache.kafka.common.TopicPartition("u", 0);
            admin.createAcls(List.of(allow(ResourceType.GROUP, "g", PatternType.PREFIXED, "User:alice", AclOperation.READ),
                    allow(ResourceType.GROUP, "g1", PatternType.LITERAL, "User:alice", AclOperation.DELETE),
                    allow(ResourceType.TOPIC, "t", PatternType.LITERAL, "User:alice", AclOperation.DESCRIBE),
                    allow(ResourceType.TRANSACTIONAL_ID, "alice-txn", PatternType.LITERAL, "User:alice", AclOperation.WRITE)))
                    .all().get();
            var zero = Map.of(t0, new org.apache.kafka.clients.consumer.OffsetAndMetadata(0));

            // OffsetCommit: READ on the group is not enough without READ on the topic
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> alice.alterConsumerGroupOffsets("g1", zero).all().get());
            assertInstanceOf(TopicAuthorizationException.class, e.getCause());
            assertTrue(admin.listConsumerGroupOffsets("g1").partitionsToOffsetAndMetadata().get().isEmpty(), "nothing kept");
            admin.createAcls(List.of(allow(ResourceType.TOPIC, "t", PatternType.LITERAL, "User:alice", AclOperation.READ)))
                    .all().get();
            alice.alterConsumerGroupOffsets("g1", zero).all().get();
            admin.alterConsumerGroupOffsets("g1", Map.of(u0, new org.apache.kafka.clients.consumer.OffsetAndMetadata(0)))
                    .all().get();

            // OffsetDelete: DELETE on the group, READ on each topic
            e = assertThrows(ExecutionException.class,
                    () -> alice.deleteConsumerGroupOffsets("g1", java.util.Set.of(u0)).partitionResult(u0).get());
            assertInstanceOf(TopicAuthorizationException.class, e.getCause());
            assertEquals(java.util.Set.of(t0, u0),
                    admin.listConsumerGroupOffsets("g1").partitionsToOffsetAndMetadata().get().keySet(), "u-0 kept");
            alice.deleteConsumerGroupOffsets("g1", java.util.Set.of(t0)).partitionResult(t0).get();
            assertEquals(java.util.Set.of(u0),
                    admin.listConsumerGroupOffsets("g1").partitionsToOffsetAndMetadata().get().keySet(), "t-0 deleted");

            // TxnOffsetCommit: WRITE on the transactional id and READ on the group, but no READ on u
            Map<String, Object> txn = new HashMap<>(as(broker, "alice", "alice-secret"));
            txn.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "alice-txn");
            txn.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            txn.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(txn)) {
                producer.initTransactions();
                producer.beginTransaction();
                RuntimeException refused = assertThrows(RuntimeException.class, () -> producer.sendOffsetsToTransaction(
                        Map.of(u0, new org.apache.kafka.clients.consumer.OffsetAndMetadata(5)),
                        new org.apache.kafka.clients.consumer.ConsumerGroupMetadata("g1")));
                // kafka-clients turns this error of TxnOffsetCommit into a fatal KafkaException naming it
                assertTrue(refused.getMessage().contains(org.apache.kafka.common.protocol.Errors.TOPIC_AUTHORIZATION_FAILED
                        .message()), refused.toString());
            }
            assertEquals(0, admin.listConsumerGroupOffsets("g1").partitionsToOffsetAndMetadata().get().get(u0).offset());

            // DeleteTopics by id: an unknown id, a topic alice may not describe, one she may describe but not delete
            var ids = admin.describeTopics(List.of("t", "u")).allTopicNames().get();
            var unknown = org.apache.kafka.common.Uuid.randomUuid();
            var byId = alice.deleteTopics(org.apache.kafka.common.TopicCollection.ofTopicIds(
                    List.of(unknown, ids.get("t").topicId(), ids.get("u").topicId()))).topicIdValues();
            e = assertThrows(ExecutionException.class, byId.get(unknown)::get);
            assertInstanceOf(org.apache.kafka.common.errors.UnknownTopicIdException.class, e.getCause());
            for (var id : List.of(ids.get("t").topicId(), ids.get("u").topicId())) {
                e = assertThrows(ExecutionException.class, byId.get(id)::get);
                assertInstanceOf(TopicAuthorizationException.class, e.getCause());
            }
            assertEquals(java.util.Set.of("t", "u"), admin.listTopics().names().get(), "nothing deleted");
            admin.createAcls(List.of(allow(ResourceType.TOPIC, "t", PatternType.LITERAL, "User:alice", AclOperation.DELETE)))
                    .all().get();
            alice.deleteTopics(org.apache.kafka.common.TopicCollection.ofTopicIds(List.of(ids.get("t").topicId()))).all().get();
            assertEquals(java.util.Set.of("u"), admin.listTopics().names().get());
        }
    }

    @Test
    void offsetFetchAnswersOnlyTopicsThePrincipalMayDescribe() throws Exception {
        try (Broker broker = SaslBroker.start("memory://", AUTHORIZER);
                Admin admin = Admin.create(as(broker, "admin", "admin-secret"));
                Admin alice = Admin.create(as(broker, "alice", "alice-secret"))) {
            var offsets = Map.of(new org.apache.kafka.common.TopicPartition("t", 0),
                    new org.apache.kafka.clients.consumer.OffsetAndMetadata(3),
                    new org.apache.kafka.common.TopicPartition("u", 0), new org.apache.kafka.clients.consumer.OffsetAndMetadata(4));
            for (var tp : offsets.keySet()) admin.createTopics(List.of(new NewTopic(tp.topic(), 1, (short) 1))).all().get();
            admin.alterConsumerGroupOffsets("g1", offsets).all().get();
            var t0 = new org.apache.kafka.common.TopicPartition("t", 0);
            var u0 = new org.apache.kafka.common.TopicPartition("u", 0);
            admin.createAcls(List.of(allow(ResourceType.GROUP, "g1", PatternType.LITERAL, "User:alice", AclOperation.DESCRIBE),
                    allow(ResourceType.TOPIC, "t", PatternType.LITERAL, "User:alice", AclOperation.DESCRIBE))).all().get();

            // every committed offset of the group (OffsetFetch without topics): u is left out
            assertEquals(Map.of(t0, new org.apache.kafka.clients.consumer.OffsetAndMetadata(3)),
                    alice.listConsumerGroupOffsets("g1").partitionsToOffsetAndMetadata().get());
            assertEquals(java.util.Set.of(t0, u0),
                    admin.listConsumerGroupOffsets("g1").partitionsToOffsetAndMetadata().get().keySet(), "the super user sees both");
            // named partitions: u answers TOPIC_AUTHORIZATION_FAILED, which the consumer raises naming the topic
            Map<String, Object> c = new HashMap<>(as(broker, "alice", "alice-secret"));
            c.put(ConsumerConfig.GROUP_ID_CONFIG, "g1");
            c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
                assertEquals(3, consumer.committed(java.util.Set.of(t0), Duration.ofSeconds(30)).get(t0).offset());
                TopicAuthorizationException refused = assertThrows(TopicAuthorizationException.class,
                        () -> consumer.committed(java.util.Set.of(t0, u0), Duration.ofSeconds(30)));
                assertEquals(java.util.Set.of("u"), refused.unauthorizedTopics());
            }
            // without DESCRIBE on the group, nothing at all
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> alice.listConsumerGroupOffsets("other").partitionsToOffsetAndMetadata().get());
            assertInstanceOf(GroupAuthorizationException.class, e.getCause());
        }
    }

    @Test
    void kafkaAclsAddsListsAndRemovesAndAclsSurviveARestart(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("admin.properties");
        Files.writeString(config, "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config="
                + "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"admin-secret\";\n");
        String storage = "file:" + dir.resolve("data");
        try (Broker broker = SaslBroker.start(storage, AUTHORIZER)) {
            String bootstrap = SaslBroker.bootstrap(broker, "SASL_PLAINTEXT");
            acls(bootstrap, config, "--add", "--allow-principal", "User:alice", "--operation", "Read", "--operation", "Write",
                    "--topic", "payments", "--resource-pattern-type", "prefixed");
            acls(bootstrap, config, "--add", "--allow-principal", "User:bob", "--operation", "Read", "--group", "g1");
            String listed = acls(bootstrap, config, "--list", "--topic", "payments", "--resource-pattern-type", "prefixed");
            assertTrue(listed.contains("User:alice") && listed.contains("READ") && listed.contains("WRITE"), listed);
        }
        try (Broker broker = SaslBroker.start(storage, AUTHORIZER)) {
            String bootstrap = SaslBroker.bootstrap(broker, "SASL_PLAINTEXT");
            String all = acls(bootstrap, config, "--list");
            assertTrue(all.contains("User:alice") && all.contains("User:bob") && all.contains("name=g1"), "kept: " + all);
            acls(bootstrap, config, "--remove", "--force", "--allow-principal", "User:alice", "--topic", "payments",
                    "--resource-pattern-type", "prefixed", "--operation", "Read");
            String left = acls(bootstrap, config, "--list", "--topic", "payments", "--resource-pattern-type", "prefixed");
            assertTrue(left.contains("WRITE") && !left.contains("operation=READ"), left);
        }
    }

    private static String acls(String bootstrap, Path config, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("--bootstrap-server", bootstrap, "--command-config", config.toString()));
        command.addAll(List.of(args));
        KafkaTool.Run r = KafkaTool.run("AclCommand", command.toArray(String[]::new));
        assertEquals(0, r.exit(), "kafka-acls " + command + ":\n" + r.out());
        return r.out();
    }
}
