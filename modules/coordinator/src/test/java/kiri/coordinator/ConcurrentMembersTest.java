package kiri.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import kiri.protocol.ErrorCode;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.Storages;
import org.junit.jupiter.api.Test;

/**
 * Many simulated clients join, sync, heartbeat and leave one group at once, on the real one-thread
 * timer: no deadlock, no lost response, and the group ends empty. Only liveness is asserted (with
 * generous timeouts); which member leads which generation is up to the scheduler.
 */
class ConcurrentMembersTest {
    private static final int CLIENTS = 6;
    private static final int ROUNDS = 6;

    @Test
    void clientsChurningConcurrentlyAlwaysGetAnswersAndLeaveTheGroupEmpty() throws Exception {
        ScheduledExecutorService timerThread = Executors.newSingleThreadScheduledExecutor();
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        try (Storage storage = Storages.open("null://", new StorageContext(0, "c", "localhost", 9092))) {
            GroupCoordinator coordinator = new GroupCoordinator(storage,
                    CoordinatorConfig.defaults().withMinSessionTimeoutMs(100).withInitialRebalanceDelayMs(0),
                    Timer.of(timerThread));
            AtomicInteger stableSyncs = new AtomicInteger();
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                running.add(clients.submit(() -> {
                    runClient(coordinator, client, stableSyncs);
                    return null;
                }));
            }
            for (Future<?> f : running) f.get(120, TimeUnit.SECONDS);
            assertTrue(stableSyncs.get() > 0, "some generations completed");
            GroupDescription d = coordinator.describe("churn").toCompletableFuture().get(10, TimeUnit.SECONDS);
            // members that did not leave explicitly (none should remain) would expire after 1 s anyway
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!d.state().equals("Empty") && System.nanoTime() < deadline) {
                Thread.sleep(50);
                d = coordinator.describe("churn").toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
            assertEquals("Empty", d.state(), d.toString());
            assertTrue(d.members().isEmpty());
        } finally {
            clients.shutdownNow();
            timerThread.shutdownNow();
        }
    }

    private static void runClient(GroupCoordinator coordinator, int client, AtomicInteger stableSyncs) throws Exception {
        String memberId = "";
        int rounds = 0;
        while (rounds < ROUNDS) {
            JoinResult j = coordinator.join(new JoinRequest("churn", memberId, null, "consumer",
                    List.of(new Protocol("range", new byte[] {(byte) client})), 1000, 1500, "client-" + client, "h", true))
                    .toCompletableFuture().get(30, TimeUnit.SECONDS);
            if (j.error() == ErrorCode.MEMBER_ID_REQUIRED.code() || j.error() == ErrorCode.UNKNOWN_MEMBER_ID.code()) {
                memberId = j.error() == ErrorCode.MEMBER_ID_REQUIRED.code() ? j.memberId() : "";
                continue;
            }
            if (j.error() != ErrorCode.NONE.code()) continue; // REBALANCE_IN_PROGRESS for a superseded join
            memberId = j.memberId();
            Map<String, byte[]> assignments = new HashMap<>();
            for (JoinResult.JoinedMember m : j.members()) assignments.put(m.memberId(), new byte[] {1});
            SyncResult s = coordinator.sync(new SyncRequest("churn", j.generationId(), memberId, null, null, null,
                    assignments)).toCompletableFuture().get(30, TimeUnit.SECONDS);
            if (s.error() == ErrorCode.UNKNOWN_MEMBER_ID.code()) {
                memberId = "";
                continue;
            }
            if (s.error() != ErrorCode.NONE.code()) continue; // a rebalance started: join again
            stableSyncs.incrementAndGet();
            rounds++;
            // heartbeat until told to rejoin, or leave now and then
            for (int beats = 0; beats < 5; beats++) {
                Thread.sleep(ThreadLocalRandom.current().nextInt(20, 120));
                short hb = coordinator.heartbeat("churn", memberId, null, j.generationId())
                        .toCompletableFuture().get(30, TimeUnit.SECONDS);
                if (hb == ErrorCode.UNKNOWN_MEMBER_ID.code()) memberId = "";
                if (hb != ErrorCode.NONE.code()) break;
            }
            if (ThreadLocalRandom.current().nextInt(3) == 0 && !memberId.isEmpty()) {
                coordinator.leave("churn", List.of(new GroupCoordinator.Leaving(memberId, null)))
                        .toCompletableFuture().get(30, TimeUnit.SECONDS);
                memberId = "";
            }
        }
        if (!memberId.isEmpty()) {
            LeaveResult left = coordinator.leave("churn", List.of(new GroupCoordinator.Leaving(memberId, null)))
                    .toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertEquals(ErrorCode.NONE.code(), left.error());
        }
    }
}
