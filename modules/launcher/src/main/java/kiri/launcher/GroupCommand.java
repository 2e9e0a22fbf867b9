package kiri.launcher;

import java.io.PrintWriter;
import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import kiri.client.Admin;
import kiri.client.ClientException;
import kiri.client.Cluster;
import kiri.client.Consumer;
import kiri.client.GroupAdmin;
import kiri.client.TopicPartition;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code kiri group list|describe|reset-offsets|delete}: consumer group administration as Kafka's
 * {@code kafka-consumer-groups} does it (same columns, dry-run resets by default), on Kiri's own client.
 */
@Command(name = "group", mixinStandardHelpOptions = true,
        description = "List, describe, reset the offsets of, and delete consumer groups.",
        subcommands = {GroupCommand.ListGroups.class, GroupCommand.Describe.class, GroupCommand.ResetOffsets.class,
                GroupCommand.Delete.class})
final class GroupCommand implements Runnable {
    /** Kafka's column layout for the describe and reset tables. */
    private static final String DESCRIBE_ROW = "%-30s %-30s %-10s %-15s %-15s %-15s %-45s %-20s %s%n";
    private static final String RESET_ROW = "%-30s %-30s %-10s %s%n";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List groups, one per line.")
    static final class ListGroups implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Mixin
        ClientOptions client;
        @Option(names = "--state", description = "Also print each group's state.")
        boolean state;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            try (Cluster cluster = client.connect()) {
                List<GroupAdmin.GroupListing> groups = new GroupAdmin(cluster).listGroups();
                if (state) {
                    out.printf("%-30s %s%n", "GROUP", "STATE");
                }
                for (GroupAdmin.GroupListing g : groups) {
                    out.println(state ? String.format("%-30s %s", g.groupId(), g.state()) : g.groupId());
                }
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true,
            description = "Per partition: the group's committed offset, the log end offset, the lag and the member that has it.")
    static final class Describe implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Mixin
        ClientOptions client;
        @Option(names = "--group", required = true, paramLabel = "GROUP", description = "The group; repeatable.")
        List<String> groups;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            try (Cluster cluster = client.connect()) {
                GroupAdmin admin = new GroupAdmin(cluster);
                Admin topics = new Admin(cluster);
                for (String group : groups) {
                    describe(admin, topics, group, out);
                }
            }
            out.flush();
            return 0;
        }

        private static void describe(GroupAdmin admin, Admin topics, String group, PrintWriter out) throws Exception {
            GroupAdmin.GroupDescription d = admin.describeGroup(group);
            Map<TopicPartition, Long> committed = admin.committedOffsets(group);
            if (d.state().equals("Dead") && committed.isEmpty()) {
                throw new IllegalArgumentException("consumer group '" + group + "' does not exist");
            }
            Map<TopicPartition, GroupAdmin.Member> owners = new TreeMap<>();
            for (GroupAdmin.Member m : d.members()) {
                m.assignment().forEach(tp -> owners.put(tp, m));
            }
            TreeSet<TopicPartition> partitions = new TreeSet<>(committed.keySet());
            partitions.addAll(owners.keySet());
            Map<TopicPartition, Long> ends = new TreeMap<>();
            for (String topic : partitions.stream().map(TopicPartition::topic).distinct().toList()) {
                try {
                    ends.putAll(topics.listOffsets(partitions.stream().filter(tp -> tp.topic().equals(topic)).toList(),
                            Consumer.LATEST));
                } catch (ClientException e) { // e.g. the topic was deleted: its rows show "-", as Kafka's do
                }
            }
            out.println();
            if (d.members().isEmpty()) {
                out.println("Consumer group '" + group + "' has no active members.");
                out.println();
            }
            out.printf(DESCRIBE_ROW, "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID",
                    "HOST", "CLIENT-ID");
            for (TopicPartition tp : partitions) {
                Long current = committed.get(tp);
                long end = ends.getOrDefault(tp, -1L);
                GroupAdmin.Member m = owners.get(tp);
                out.printf(DESCRIBE_ROW, group, tp.topic(), tp.partition(), current == null ? "-" : current,
                        end < 0 ? "-" : end, current == null || end < 0 ? "-" : Math.max(0, end - current),
                        m == null ? "-" : m.memberId(), m == null ? "-" : m.host(), m == null ? "-" : m.clientId());
            }
        }
    }

    @Command(name = "reset-offsets", mixinStandardHelpOptions = true,
            description = "Reset a group's committed offsets (the group must have no active members). "
                    + "Prints the plan only, unless --execute.")
    static final class ResetOffsets implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Mixin
        ClientOptions client;
        @Option(names = "--group", required = true, paramLabel = "GROUP", description = "The group.")
        String group;
        @Option(names = "--topic", paramLabel = "TOPIC[:P,P...]",
                description = "A topic, or some of its partitions; repeatable.")
        List<String> topics;
        @Option(names = "--all-topics", description = "Every topic the group has committed offsets for.")
        boolean allTopics;
        @ArgGroup(exclusive = true, multiplicity = "1")
        Target target;
        @Option(names = "--execute", description = "Commit the new offsets (without it, only print them).")
        boolean execute;
        @Option(names = "--dry-run", description = "Only print the new offsets (the default).")
        boolean dryRun;

        /** Where to move the offsets: exactly one of these. */
        static final class Target {
            @Option(names = "--to-earliest", description = "The log start offset.")
            boolean earliest;
            @Option(names = "--to-latest", description = "The log end offset.")
            boolean latest;
            @Option(names = "--to-offset", paramLabel = "OFFSET", description = "This offset (kept within log start and end).")
            Long offset;
            @Option(names = "--to-datetime", paramLabel = "YYYY-MM-DDTHH:mm:SS.sss",
                    description = "The first offset at or after this time (local time unless it ends with Z or +hh:mm).")
            String datetime;
        }

        @Override
        public Integer call() throws Exception {
            if (execute && dryRun) {
                throw new IllegalArgumentException("give --execute or --dry-run, not both");
            }
            boolean named = topics != null && !topics.isEmpty();
            if (named == allTopics) {
                throw new IllegalArgumentException("name the partitions to reset: --topic TOPIC[:P,P...] or --all-topics");
            }
            Long time = target.datetime == null ? null : parseDateTime(target.datetime);
            PrintWriter out = spec.commandLine().getOut();
            try (Cluster cluster = client.connect()) {
                GroupAdmin admin = new GroupAdmin(cluster);
                Admin topicAdmin = new Admin(cluster);
                String state = admin.describeGroup(group).state();
                if (!state.equals("Empty") && !state.equals("Dead")) {
                    throw new IllegalStateException("assignments can only be reset if the group '" + group
                            + "' is inactive, but the current state is " + state + ".");
                }
                List<TopicPartition> partitions = allTopics ? new ArrayList<>(admin.committedOffsets(group).keySet())
                        : partitions(topicAdmin);
                Map<TopicPartition, Long> plan = plan(topicAdmin, partitions, time);
                out.println();
                out.printf(RESET_ROW, "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET");
                plan.forEach((tp, o) -> out.printf(RESET_ROW, group, tp.topic(), tp.partition(), o));
                if (execute) {
                    admin.commitOffsets(group, plan);
                }
            }
            out.flush();
            return 0;
        }

        private List<TopicPartition> partitions(Admin topicAdmin) throws Exception {
            List<TopicPartition> out = new ArrayList<>();
            for (String arg : topics) {
                int colon = arg.indexOf(':');
                if (colon < 0) {
                    out.addAll(topicAdmin.partitions(arg));
                    continue;
                }
                String topic = arg.substring(0, colon);
                List<TopicPartition> existing = topicAdmin.partitions(topic);
                for (String p : arg.substring(colon + 1).split(",")) {
                    TopicPartition tp;
                    try {
                        tp = new TopicPartition(topic, Integer.parseInt(p.strip()));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("--topic '" + arg + "' must look like TOPIC or TOPIC:P,P...");
                    }
                    if (!existing.contains(tp)) {
                        throw new IllegalArgumentException("partition " + tp + " does not exist");
                    }
                    out.add(tp);
                }
            }
            return out;
        }

        /** The new offset of each partition, as kafka-consumer-groups computes it. */
        private Map<TopicPartition, Long> plan(Admin topicAdmin, List<TopicPartition> partitions, Long time) throws Exception {
            Map<TopicPartition, Long> earliest = topicAdmin.listOffsets(partitions, Consumer.EARLIEST);
            Map<TopicPartition, Long> latest = topicAdmin.listOffsets(partitions, Consumer.LATEST);
            Map<TopicPartition, Long> byTime = time == null ? Map.of() : topicAdmin.listOffsets(partitions, time);
            Map<TopicPartition, Long> plan = new LinkedHashMap<>();
            for (TopicPartition tp : new TreeSet<>(partitions)) {
                long start = earliest.get(tp);
                long end = latest.get(tp);
                long next;
                if (target.earliest) {
                    next = start;
                } else if (target.latest) {
                    next = end;
                } else if (target.offset != null) {
                    next = Math.max(start, Math.min(end, target.offset));
                } else {
                    long found = byTime.get(tp);
                    next = found < 0 ? end : found; // no record that recent: the end, as Kafka does
                }
                plan.put(tp, next);
            }
            return plan;
        }

        static long parseDateTime(String text) {
            try {
                return OffsetDateTime.parse(text).toInstant().toEpochMilli();
            } catch (DateTimeException e) {
                try {
                    return LocalDateTime.parse(text).atZone(ZoneId.systemDefault()).toInstant().toEpochMilli();
                } catch (DateTimeException e2) {
                    throw new IllegalArgumentException("--to-datetime '" + text
                            + "' must look like YYYY-MM-DDTHH:mm:SS.sss, optionally with Z or +hh:mm");
                }
            }
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete groups (they must have no active members).")
    static final class Delete implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Mixin
        ClientOptions client;
        @Option(names = "--group", required = true, paramLabel = "GROUP", description = "A group to delete; repeatable.")
        List<String> groups;

        @Override
        public Integer call() throws Exception {
            try (Cluster cluster = client.connect()) {
                GroupAdmin admin = new GroupAdmin(cluster);
                for (String group : groups) {
                    admin.deleteGroup(group);
                }
            }
            spec.commandLine().getOut().println("Deletion of requested consumer groups ('" + String.join("', '", groups)
                    + "') was successful.");
            return 0;
        }
    }
}
