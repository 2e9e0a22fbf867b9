package kiri.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

class ErrorCodeTest {

    @Test
    void everyKafkaErrorHasTheSameCodeNameRetriabilityAndMessage() {
        for (Errors kafka : Errors.values()) {
            ErrorCode kiri = ErrorCode.forCode(kafka.code());
            assertTrue(ErrorCode.isKnown(kafka.code()), kafka.name());
            assertEquals(kafka.name(), kiri.name(), "name of code " + kafka.code());
            assertEquals(kafka.code(), kiri.code(), kafka.name());
            assertEquals(kafka.exception() instanceof RetriableException, kiri.retriable(), kafka.name());
            assertEquals(kafka.message(), kiri.message(), kafka.name());
        }
    }

    @Test
    void kiriHasNoErrorKafkaLacks() {
        Set<String> kafkaNames = new HashSet<>();
        Arrays.stream(Errors.values()).forEach(e -> kafkaNames.add(e.name()));
        for (ErrorCode e : ErrorCode.values()) {
            assertTrue(kafkaNames.contains(e.name()), e.name());
            assertEquals(e.name(), Errors.forCode(e.code()).name());
        }
        assertEquals(Errors.values().length, ErrorCode.values().length);
    }

    @Test
    void wellKnownCodes() {
        assertEquals(3, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code());
        assertEquals(-1, ErrorCode.UNKNOWN_SERVER_ERROR.code());
        assertSame(ErrorCode.NONE, ErrorCode.forCode((short) 0));
        assertSame(ErrorCode.INVALID_RECORD, ErrorCode.forCode((short) 87));
        assertTrue(ErrorCode.NOT_LEADER_OR_FOLLOWER.retriable());
        assertFalse(ErrorCode.TOPIC_AUTHORIZATION_FAILED.retriable());
    }

    @Test
    void unknownCodesMapToUnknownServerErrorLikeKafka() {
        for (short code : new short[] {-2, 134, 999, Short.MAX_VALUE, Short.MIN_VALUE}) {
            assertFalse(ErrorCode.isKnown(code), "code " + code);
            assertSame(ErrorCode.UNKNOWN_SERVER_ERROR, ErrorCode.forCode(code));
            assertEquals(Errors.UNKNOWN_SERVER_ERROR, Errors.forCode(code));
        }
    }
}
