package kiri.client;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.FindCoordinatorRequest;
import kiri.protocol.message.FindCoordinatorResponse;

/** FindCoordinator for a group, retried while the broker says it is still loading (retriable errors). */
final class GroupCoordinators {
    private GroupCoordinators() {
    }

    /** The node id of {@code groupId}'s coordinator; waits up to the cluster's timeout while the answer is retriable. */
    static int find(Cluster cluster, String groupId, Duration callTimeout) throws IOException {
        NodeConnection any = cluster.bootstrapConnection();
        long deadline = System.nanoTime() + cluster.timeout().toNanos();
        boolean batched = any.version(ApiKey.FIND_COORDINATOR) >= 4;
        while (true) {
            FindCoordinatorRequest request = new FindCoordinatorRequest().setKeyType((byte) 0);
            if (batched) {
                request.setCoordinatorKeys(new ArrayList<>(List.of(groupId)));
            } else {
                request.setKey(groupId);
            }
            FindCoordinatorResponse r = (FindCoordinatorResponse) NodeConnection.await(
                    any.send(ApiKey.FIND_COORDINATOR, request), callTimeout);
            FindCoordinatorResponse.Coordinator c = batched ? r.coordinators().getFirst() : null;
            short error = batched ? c.errorCode() : r.errorCode();
            if (error == 0) {
                return batched ? c.nodeId() : r.nodeId();
            }
            if (!retriable(error) || System.nanoTime() > deadline) {
                throw ClientException.of(error, batched ? c.errorMessage() : r.errorMessage(),
                        "find coordinator of group " + groupId);
            }
            pause();
        }
    }

    static boolean retriable(short code) {
        return ErrorCode.isKnown(code) && ErrorCode.forCode(code).retriable();
    }

    static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClientException("interrupted", e);
        }
    }
}
