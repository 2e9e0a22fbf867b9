package kiri.router.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.FetchRequest;
import org.junit.jupiter.api.Test;

class FetchSessionsTest {

    private static FetchRequest request(int session, int epoch, int... partitions) {
        FetchRequest r = new FetchRequest().setSessionId(session).setSessionEpoch(epoch);
        FetchRequest.FetchTopic t = new FetchRequest.FetchTopic().setTopic("t");
        for (int p : partitions) {
            t.partitions().add(new FetchRequest.FetchPartition().setPartition(p).setFetchOffset(p * 10L).setPartitionMaxBytes(100));
        }
        r.topics().add(t);
        return r;
    }

    @Test
    void sessionlessFetchesKeepNothing() {
        FetchSessions sessions = new FetchSessions(10);
        FetchSessions.Plan plan = sessions.plan(request(0, FetchSessions.FINAL_EPOCH, 0, 1), false);
        assertNull(plan.session());
        assertTrue(plan.full());
        assertEquals(2, plan.entries().size());
        assertEquals(0, sessions.size());
    }

    @Test
    void incrementalRequestsUpdateAndForget() {
        FetchSessions sessions = new FetchSessions(10);
        FetchSessions.Plan created = sessions.plan(request(0, 0, 0, 1, 2), false);
        int id = created.sessionId();
        assertTrue(id != 0);
        FetchRequest next = request(id, 1, 1);
        next.topics().get(0).partitions().get(0).setFetchOffset(99);
        next.forgottenTopicsData().add(new FetchRequest.ForgottenTopic().setTopic("t").setPartitions(new int[] {2}));
        FetchSessions.Plan plan = sessions.plan(next, false);
        assertFalse(plan.full());
        assertEquals(List.of(0, 1), plan.entries().stream().map(e -> e.partition).toList());
        assertEquals(99L, plan.entries().get(1).fetchOffset, "the new position");
        assertEquals(0L, plan.entries().get(0).fetchOffset, "the remembered one");
        assertEquals(ErrorCode.INVALID_FETCH_SESSION_EPOCH.code(), sessions.plan(request(id, 1), false).error(), "epoch 1 was used");
        assertEquals(ErrorCode.INVALID_FETCH_SESSION_EPOCH.code(), sessions.plan(request(id, 2), true).error(),
                "a session by name is not one by id");
    }

    @Test
    void theLeastRecentlyUsedSessionIsEvictedWhenFull() {
        FetchSessions sessions = new FetchSessions(2);
        int a = sessions.plan(request(0, 0, 0), false).sessionId();
        int b = sessions.plan(request(0, 0, 0), false).sessionId();
        assertEquals(0, sessions.plan(request(a, 1, 0), false).error()); // a is now the most recently used
        int c = sessions.plan(request(0, 0, 0), false).sessionId();
        assertEquals(2, sessions.size());
        assertTrue(sessions.contains(a));
        assertFalse(sessions.contains(b), "b was the least recently used");
        assertTrue(sessions.contains(c));
        assertEquals(ErrorCode.FETCH_SESSION_ID_NOT_FOUND.code(), sessions.plan(request(b, 1), false).error());
        sessions.plan(request(c, FetchSessions.FINAL_EPOCH), false);
        assertFalse(sessions.contains(c), "epoch -1 closes the session");
    }
}
