package kiri.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import kiri.embedded.junit.KiriBroker;
import org.apache.kafka.clients.admin.AdminClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** The scopes of {@link KiriBroker}: class brokers shared by every test, test brokers fresh for each. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KiriExtensionTest {
    @KiriBroker(topics = {"orders:3", "audit"})
    static EmbeddedKiri shared;

    @KiriBroker
    EmbeddedKiri perTest;

    static EmbeddedKiri sharedFromBeforeAll;
    static EmbeddedKiri firstTestBroker;
    EmbeddedKiri fromBeforeEach;

    @BeforeAll
    static void classScope(EmbeddedKiri kiri) {
        sharedFromBeforeAll = kiri;
    }

    @BeforeEach
    void testScope(EmbeddedKiri kiri) {
        fromBeforeEach = kiri;
    }

    @Test
    @Order(1)
    void classBrokerHasItsFieldsTopics() throws Exception {
        assertSame(shared, sharedFromBeforeAll);
        assertEquals(3, partitions(shared, "orders"));
        assertEquals(1, partitions(shared, "audit"));
    }

    @Test
    @Order(2)
    void testBrokerIsOneForFieldParameterAndBeforeEach(EmbeddedKiri param) throws Exception {
        assertSame(perTest, param);
        assertSame(perTest, fromBeforeEach);
        assertNotSame(shared, perTest);
        firstTestBroker = perTest;
        // an instance field's own annotation has defaults: no topics
        try (AdminClient admin = AdminClient.create(EmbeddedKiriTest.props(perTest))) {
            assertFalse(admin.listTopics().names().get().contains("orders"));
        }
    }

    @Test
    @Order(3)
    void nextTestGetsAFreshBrokerAndThePreviousIsClosed() {
        assertNotNull(firstTestBroker);
        assertFalse(firstTestBroker.isRunning());
        assertNotSame(firstTestBroker, perTest);
        assertTrue(perTest.isRunning());
        assertTrue(shared.isRunning());
    }

    @Test
    @Order(4)
    @KiriBroker(topics = "method-topic:4")
    void parameterWithoutAnnotationTakesTheMethods(EmbeddedKiri param) throws Exception {
        // the instance field asked first, with its own (default) settings
        assertSame(perTest, param);
        assertEquals(List.of("v"), KafkaRoundTrip.produceAndConsume(param.bootstrapServers(), "any", List.of("v")));
    }

    @Test
    @Order(5)
    void parameterAnnotationSetsTopics(@KiriBroker(topics = "p:5", storage = "null://") EmbeddedKiri ignored) {
        // the field asked first: the parameter's settings are not used for this test's broker
        assertSame(perTest, ignored);
    }

    @AfterAll
    static void classBrokerStillRunsInAfterAll(EmbeddedKiri kiri) {
        assertSame(shared, kiri);
        assertTrue(kiri.isRunning());
    }

    static int partitions(EmbeddedKiri kiri, String topic) throws Exception {
        try (AdminClient admin = AdminClient.create(EmbeddedKiriTest.props(kiri))) {
            return admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size();
        }
    }
}
