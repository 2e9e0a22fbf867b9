package kiri.router.broker;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.CreateAclsRequest;
import kiri.protocol.message.CreateAclsResponse;
import kiri.protocol.message.DeleteAclsRequest;
import kiri.protocol.message.DeleteAclsResponse;
import kiri.protocol.message.DescribeAclsResponse;
import kiri.protocol.message.DescribeLogDirsRequest;
import kiri.protocol.message.DescribeLogDirsResponse;
import kiri.router.Handler;
import kiri.storage.api.TopicPartition;

/**
 * Admin APIs that report on the broker rather than change records: DescribeLogDirs (kafka-log-dirs,
 * and UIs that show topic sizes) from the engine's partition sizes, and the ACL APIs answered as Kafka
 * answers them when no authorizer is configured (SECURITY_DISABLED), so tools get Kafka's error
 * instead of an unsupported API.
 */
final class AdminInfoHandlers {
    private static final String NO_AUTHORIZER = "No Authorizer is configured.";
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

    static Handler describeAcls() {
        return (context, message) -> CompletableFuture.completedFuture(new DescribeAclsResponse()
                .setErrorCode(ErrorCode.SECURITY_DISABLED.code()).setErrorMessage(NO_AUTHORIZER));
    }

    static Handler createAcls() {
        return (context, message) -> {
            CreateAclsResponse response = new CreateAclsResponse();
            for (int i = 0; i < ((CreateAclsRequest) message).creations().size(); i++) {
                response.results().add(new CreateAclsResponse.AclCreationResult()
                        .setErrorCode(ErrorCode.SECURITY_DISABLED.code()).setErrorMessage(NO_AUTHORIZER));
            }
            return CompletableFuture.completedFuture(response);
        };
    }

    static Handler deleteAcls() {
        return (context, message) -> {
            DeleteAclsResponse response = new DeleteAclsResponse();
            for (int i = 0; i < ((DeleteAclsRequest) message).filters().size(); i++) {
                response.filterResults().add(new DeleteAclsResponse.DeleteAclsFilterResult()
                        .setErrorCode(ErrorCode.SECURITY_DISABLED.code()).setErrorMessage(NO_AUTHORIZER));
            }
            return CompletableFuture.completedFuture(response);
        };
    }
}
