package kiri.launcher;

import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Producer runs shared by the real-client tests. */
final class TestProducers {
    private TestProducers() {
    }

    /**
     * Sends {@code n} records of 100 bytes keyed "key-0".."key-9" and returns how many were
     * acknowledged; rethrows the first send failure.
     */
    static int produceAcked(Properties props, String topic, int n) throws Exception {
        AtomicInteger acked = new AtomicInteger();
        AtomicReference<Exception> failure = new AtomicReference<>();
        byte[] value = new byte[100];
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props)) {
            for (int i = 0; i < n; i++) {
                producer.send(new ProducerRecord<>(topic, "key-" + (i % 10), value), (metadata, e) -> {
                    if (e != null) {
                        failure.compareAndSet(null, e);
                    } else {
                        acked.incrementAndGet();
                    }
                });
            }
            producer.flush();
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        return acked.get();
    }
}
