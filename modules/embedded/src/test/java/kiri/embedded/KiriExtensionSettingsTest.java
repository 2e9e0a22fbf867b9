package kiri.embedded;

import static kiri.embedded.KiriExtensionTest.partitions;
import static org.junit.jupiter.api.Assertions.assertEquals;

import kiri.embedded.junit.KiriBroker;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Without fields, a parameter's broker takes the settings of its method, else of its class or an enclosing one. */
@KiriBroker(topics = "class-default:2")
class KiriExtensionSettingsTest {
    @Test
    void parameterTakesTheClassSettings(EmbeddedKiri kiri) throws Exception {
        assertEquals(2, partitions(kiri, "class-default"));
    }

    @Test
    @KiriBroker(topics = "m:4")
    void parameterTakesTheMethodSettings(EmbeddedKiri kiri) throws Exception {
        assertEquals(4, partitions(kiri, "m"));
    }

    @Test
    void parameterAnnotationWins(@KiriBroker(topics = "p:5") EmbeddedKiri kiri) throws Exception {
        assertEquals(5, partitions(kiri, "p"));
    }

    @Nested
    class Inner {
        @Test
        void parameterTakesTheEnclosingClassSettings(EmbeddedKiri kiri) throws Exception {
            assertEquals(2, partitions(kiri, "class-default"));
        }
    }
}
