package kiri.launcher;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.tools.consumer.group.ConsumerGroupCommand;

/**
 * An in-process broker for consumer-group tests, with an Admin on it and group timeouts shortened
 * through the launcher's system-property overrides (set before the broker starts, cleared on close);
 * and what those tests share around it: consumer settings, waiting, and Kafka's consumer-group tool.
 */
record GroupTestBroker(Broker broker, String bootstrap, Admin admin, Set<String> properties) implements AutoCloseable {
    /** Classic groups: sessions from 1 s, no initial rebalance delay. */
    static final Map<String, String> SHORT_CLASSIC_TIMEOUTS = Map.of(
            "kiri.group.min.session.timeout.ms", "1000",
            "kiri.group.initial.rebalance.delay.ms", "0");

    static GroupTestBroker start(String storageUrl, Map<String, String> properties) throws IOException {
        properties.forEach(System::setProperty);
        Broker broker = InProcessBroker.start(storageUrl);
        String bootstrap = InProcessBroker.bootstrap(broker);
        return new GroupTestBroker(broker, bootstrap,
                Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap)), properties.keySet());
    }

    @Override
    public void close() {
        admin.close();
        broker.close();
        properties.forEach(System::clearProperty);
    }

    /** A String consumer of {@code group}: no auto-commit, from the earliest offset without a commit. */
    static Properties stringConsumer(String bootstrap, String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return p;
    }

    /** Waits until {@code done}, failing the test with {@code what} after {@code timeout}. */
    static void waitFor(BooleanSupplier done, String what, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(20);
        }
    }

    /** Runs Kafka's kafka-consumer-groups tool in-process against {@code bootstrap}; returns its standard output. */
    static String consumerGroupCommand(String bootstrap, String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)); // its stack traces
        try {
            String[] all = new String[args.length + 2];
            all[0] = "--bootstrap-server";
            all[1] = bootstrap;
            System.arraycopy(args, 0, all, 2, args.length);
            ConsumerGroupCommand.main(all);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        String text = captured.toString(StandardCharsets.UTF_8);
        System.out.println(text);
        return text;
    }
}
