package kiri.storage.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import kiri.testsupport.Wait;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Kafka's cluster rules on three brokers over one PostgreSQL: replication factors against the live brokers. */
class PgClusterRulesTest {
    private PgClusterFixture cluster;
    private Admin admin;

    @BeforeEach
    void start() throws Exception {
        cluster = PgClusterFixture.threeBrokers();
        admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrap()));
        Wait.until("three live brokers", () -> admin.describeCluster().nodes().get().size() == 3);
    }

    @AfterEach
    void stop() {
        if (admin != null) admin.close();
        if (cluster != null) cluster.close();
    }

    @Test
    void aReplicationFactorBeyondTheLiveBrokersIsRefusedAndMetadataShowsWhatWasAccepted() throws Exception {
        for (boolean validateOnly : List.of(true, false)) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> admin.createTopics(
                    List.of(new NewTopic("four", 1, (short) 4)), new CreateTopicsOptions().validateOnly(validateOnly))
                    .all().get(60, TimeUnit.SECONDS));
            assertInstanceOf(InvalidReplicationFactorException.class, e.getCause(), "validateOnly " + validateOnly);
        }
        admin.createTopics(List.of(new NewTopic("three", 6, (short) 3), new NewTopic("default", Optional.of(2), Optional.empty())))
                .all().get(60, TimeUnit.SECONDS);

        Map<String, TopicDescription> topics = admin.describeTopics(List.of("three", "default")).allTopicNames().get(60, TimeUnit.SECONDS);
        Set<Integer> leaders = new HashSet<>();
        for (TopicPartitionInfo p : topics.get("three").partitions()) {
            List<Integer> replicas = p.replicas().stream().map(Node::id).toList();
            assertEquals(Set.of(1, 2, 3), new HashSet<>(replicas), "three distinct replicas of partition " + p.partition());
            assertEquals(replicas, p.isr().stream().map(Node::id).toList(), "all in sync: they share one storage");
            assertEquals(replicas.getFirst(), p.leader().id(), "the leader is the first replica");
            leaders.add(p.leader().id());
        }
        assertEquals(Set.of(1, 2, 3), leaders, "leadership spread over the brokers");
        for (TopicPartitionInfo p : topics.get("default").partitions()) {
            assertEquals(1, p.replicas().size(), "default.replication.factor is 1: " + p);
        }
        assertEquals(List.of("default", "three"), admin.listTopics().names().get(60, TimeUnit.SECONDS).stream().sorted().toList(),
                "the refused topic was not created");
    }
}
