package kiri.router.broker;

import java.util.Map;
import java.util.TreeMap;
import kiri.protocol.message.DescribeLogDirsRequest;
import kiri.protocol.message.DescribeLogDirsResponse;
import kiri.router.Handler;
import kiri.storage.api.TopicPartition;

/**
 * Admin APIs that report on the broker rather than change records: DescribeLogDirs (kafka-log-dirs,
 * and UIs that show topic sizes) from the engine's partition sizes.
 */
final class AdminInfoHandlers {
    /** DescribeLogDirs' value for volume sizes the broker does not report. */
    private static final long UNKNOWN_BYTES = -1L;

    private AdminInfoHandlers() {
    }

    /** One log dir, named after the storage (its URL without the description), holding every partition's size. */
    static Handler describeLogDirs(BrokerState broker) {
        return (context, message) -> {
            DescribeLogDirsRequest request = (DescribeLogDirsRequest) message;
            return broker.storage().partitionSizes().thenApply(sizes -> {
                Map<String, Map<Integer, Long>> byTopic = new TreeMap<>();
                for (Map.Entry<TopicPartition, Long> e : sizes.entrySet()) {
                    if (wanted(request, e.getKey())) {
                        byTopic.computeIfAbsent(e.getKey().topic(), t -> new TreeMap<>()).put(e.getKey().partition(), e.getValue());
                    }
                }
                DescribeLogDirsResponse.DescribeLogDirsResult dir = new DescribeLogDirsResponse.DescribeLogDirsResult()
                        .setLogDir(logDirName(broker.storage().describe()))
                        .setTotalBytes(UNKNOWN_BYTES).setUsableBytes(UNKNOWN_BYTES);
                byTopic.forEach((topic, partitions) -> {
                    DescribeLogDirsResponse.DescribeLogDirsTopic t = new DescribeLogDirsResponse.DescribeLogDirsTopic().setName(topic);
                    partitions.forEach((index, size) -> t.partitions().add(new DescribeLogDirsResponse.DescribeLogDirsPartition()
                            .setPartitionIndex(index).setPartitionSize(size).setOffsetLag(0).setIsFutureKey(false)));
                    dir.topics().add(t);
                });
                DescribeLogDirsResponse response = new DescribeLogDirsResponse();
                response.results().add(dir);
                return response;
            });
        };
    }

    private static boolean wanted(DescribeLogDirsRequest request, TopicPartition tp) {
        if (request.topics() == null) {
            return true;   // null: every topic
        }
        for (DescribeLogDirsRequest.DescribableLogDirTopic t : request.topics()) {
            if (t.topic().equals(tp.topic())) {
                for (int p : t.partitions()) {
                    if (p == tp.partition()) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** "file:/var/kiri (durable log, ...)" -> "file:/var/kiri". */
    static String logDirName(String storageDescription) {
        int paren = storageDescription.indexOf(" (");
        return paren < 0 ? storageDescription : storageDescription.substring(0, paren);
    }
}
