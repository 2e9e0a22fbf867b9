package kiri.launcher;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import kiri.client.Admin;
import kiri.client.ClientException;
import kiri.client.Cluster;
import kiri.client.Consumer;
import kiri.client.TopicPartition;
import kiri.protocol.ErrorCode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kiri topic create|list|describe|delete}: topic administration against Kiri or Kafka. */
@Command(name = "topic", mixinStandardHelpOptions = true, description = "Create, list, describe and delete topics.",
        subcommands = {TopicCommand.Create.class, TopicCommand.ListTopics.class, TopicCommand.Describe.class,
                TopicCommand.Delete.class})
final class TopicCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static String one(String positional, String option) {
        if (positional != null && option != null && !positional.equals(option)) {
            throw new IllegalArgumentException("name the topic once: '" + positional + "' or --topic '" + option + "'");
        }
        String topic = positional != null ? positional : option;
        if (topic == null || topic.isBlank()) {
            throw new IllegalArgumentException("name the topic (TOPIC or --topic TOPIC)");
        }
        return topic;
    }

    static List<String> all(List<String> positional, List<String> options) {
        List<String> out = new java.util.ArrayList<>();
        if (positional != null) {
            out.addAll(positional);
        }
        if (options != null) {
            out.addAll(options);
        }
        return out;
    }

    static Map<String, String> parseConfigs(List<String> pairs) {
        Map<String, String> configs = new LinkedHashMap<>();
        if (pairs != null) {
            for (String pair : pairs) {
                int eq = pair.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("--config must look like KEY=VALUE, got '" + pair + "'");
                }
                configs.put(pair.substring(0, eq).strip(), pair.substring(eq + 1));
            }
        }
        return configs;
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a topic.")
    static final class Create implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Mixin
        ClientOptions client;
        @Parameters(index = "0", arity = "0..1", paramLabel = "TOPIC", description = "The topic's name (or --topic).")
        String topic;
        @Option(names = "--topic", paramLabel = "TOPIC", description = "The topic's name, as kafka-topics takes it.")
        String topicOption;
        @Option(names = "--partitions", paramLabel = "N", defaultValue = "1", description = "Partitions (default ${DEFAULT-VALUE}).")
        int partitions;
        @Option(names = "--replication-factor", paramLabel = "N", defaultValue = "-1",
                description = "Replicas per partition (default: the broker's).")
        short replicationFactor;
        @Option(names = "--config", paramLabel = "KEY=VALUE", description = "A topic config; repeatable.")
        List<String> configs;
        @Option(names = "--if-not-exists", description = "Succeed quietly if the topic exists.")
        boolean ifNotExists;

        @Override
        public Integer call() throws Exception {
            topic = one(topic, topicOption);
            if (partitions < 1) {
                throw new IllegalArgumentException("--partitions must be >= 1, got " + partitions);
            }
            Map<String, String> cfg = parseConfigs(configs);
            try (Cluster cluster = client.connect()) {
                try {
                    new Admin(cluster).createTopic(topic, partitions, replicationFactor, cfg);
                } catch (ClientException e) {
                    if (ifNotExists && e.error() == ErrorCode.TOPIC_ALREADY_EXISTS) {
                        return 0;
                    }
                    throw e;
                }
            }
            spec.commandLine().getOut().println("Created topic " + topic + ".");
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List topics, one per line.")
    static final class ListTopics implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Mixin
        ClientOptions client;
        @Option(names = "--include-internal", description = "Also list internal topics.")
        boolean internal;

        @Override
        public Integer call() throws Exception {
            try (Cluster cluster = client.connect()) {
                PrintWriter out = spec.commandLine().getOut();
                for (String name : new Admin(cluster).listTopics(internal)) {
                    out.println(name);
                }
                out.flush();
            }
            return 0;
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true,
            description = "Describe topics (all when none is named): partitions with leader, replicas, log start and end offsets; non-default configs.")
    static final class Describe implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Mixin
        ClientOptions client;
        @Parameters(paramLabel = "TOPIC", arity = "0..*", description = "Topics to describe.")
        List<String> topics;
        @Option(names = "--topic", paramLabel = "TOPIC", description = "A topic to describe; repeatable.")
        List<String> topicOptions;

        @Override
        public Integer call() throws Exception {
            try (Cluster cluster = client.connect()) {
                Admin admin = new Admin(cluster);
                List<String> named = all(topics, topicOptions);
                List<String> names = named.isEmpty() ? admin.listTopics(false) : named;
                PrintWriter out = spec.commandLine().getOut();
                for (Cluster.TopicInfo t : admin.describeTopics(names).values()) {
                    String configs;
                    try {
                        configs = admin.describeTopicConfigs(t.name()).stream().filter(c -> !c.isDefault())
                                .map(c -> c.name() + "=" + (c.sensitive() ? "(sensitive)" : c.value()))
                                .collect(Collectors.joining(","));
                    } catch (ClientException e) {
                        configs = "(unavailable: " + e.getMessage() + ")";
                    }
                    int rf = t.partitions().isEmpty() ? 0 : t.partitions().getFirst().replicas().length;
                    out.printf("Topic: %s\tTopicId: %s\tPartitionCount: %d\tReplicationFactor: %d\tConfigs: %s%n",
                            t.name(), t.id(), t.partitions().size(), rf, configs);
                    List<TopicPartition> parts = t.partitions().stream().map(p -> new TopicPartition(t.name(), p.partition())).toList();
                    Map<TopicPartition, Long> starts = admin.listOffsets(parts, Consumer.EARLIEST);
                    Map<TopicPartition, Long> ends = admin.listOffsets(parts, Consumer.LATEST);
                    for (Cluster.PartitionInfo p : t.partitions()) {
                        TopicPartition tp = new TopicPartition(t.name(), p.partition());
                        out.printf("\tTopic: %s\tPartition: %d\tLeader: %d\tReplicas: %s\tIsr: %s\tLogStartOffset: %d\tLogEndOffset: %d%n",
                                t.name(), p.partition(), p.leader(), join(p.replicas()), join(p.isr()), starts.get(tp), ends.get(tp));
                    }
                }
                out.flush();
            }
            return 0;
        }

        private static String join(int[] ids) {
            return java.util.Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(","));
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete topics.")
    static final class Delete implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Mixin
        ClientOptions client;
        @Parameters(paramLabel = "TOPIC", arity = "0..*", description = "Topics to delete.")
        List<String> topics;
        @Option(names = "--topic", paramLabel = "TOPIC", description = "A topic to delete; repeatable.")
        List<String> topicOptions;
        @Option(names = "--if-exists", description = "Succeed quietly for topics that don't exist.")
        boolean ifExists;

        @Override
        public Integer call() throws Exception {
            List<String> named = all(topics, topicOptions);
            if (named.isEmpty()) {
                throw new IllegalArgumentException("name the topics to delete");
            }
            try (Cluster cluster = client.connect()) {
                Admin admin = new Admin(cluster);
                for (String topic : named) {
                    try {
                        admin.deleteTopics(List.of(topic));
                        spec.commandLine().getOut().println("Deleted topic " + topic + ".");
                    } catch (ClientException e) {
                        if (!(ifExists && e.error() == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)) {
                            throw e;
                        }
                    }
                }
            }
            return 0;
        }
    }
}
