package kiri.router.broker;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.FetchRequest;
import kiri.protocol.message.FetchResponse;

/**
 * Incremental fetch sessions (KIP-227), as Kafka's broker keeps them: a consumer's first full fetch
 * (epoch 0) creates a session holding its partitions and fetch positions; later fetches (epoch 1, 2,
 * ...) carry only what changed plus the topics to forget, and their responses carry only partitions
 * with records, an error, or offsets (high watermark, last stable offset, log start) that moved since
 * the last response. Epoch -1 is a sessionless full fetch. A bounded cache with least-recently-used
 * eviction: an evicted client gets FETCH_SESSION_ID_NOT_FOUND and starts a new session.
 *
 * <p>Thread-safe: the cache is guarded by its monitor, each session by its own. A client has at
 * most one fetch in flight per session.
 */
final class FetchSessions {
    static final int INITIAL_EPOCH = 0;
    static final int FINAL_EPOCH = -1;

    /** One partition of a session: the fetch position the client last sent, and what we last answered. */
    static final class Entry {
        final String topic;
        final UUID topicId;
        final int partition;
        long fetchOffset;
        int maxBytes;
        long sentHighWatermark = Long.MIN_VALUE;
        long sentLastStable = Long.MIN_VALUE;
        long sentLogStart = Long.MIN_VALUE;

        Entry(String topic, UUID topicId, int partition) {
            this.topic = topic;
            this.topicId = topicId;
            this.partition = partition;
        }

        /** The partition as a request would carry it. */
        FetchRequest.FetchPartition asRequest() {
            return new FetchRequest.FetchPartition().setPartition(partition).setFetchOffset(fetchOffset)
                    .setPartitionMaxBytes(maxBytes);
        }

        /** Whether a response must carry this partition, recording what it carries. */
        boolean changedBy(FetchResponse.PartitionData data) {
            boolean changed = data.errorCode() != 0 || (data.records() != null && data.records().byteSize() > 0)
                    || data.highWatermark() != sentHighWatermark || data.lastStableOffset() != sentLastStable
                    || data.logStartOffset() != sentLogStart;
            sentHighWatermark = data.highWatermark();
            sentLastStable = data.lastStableOffset();
            sentLogStart = data.logStartOffset();
            return changed;
        }
    }

    /** A session: its partitions in fetch order. Guarded by its monitor. */
    static final class Session {
        final int id;
        final boolean byId;
        int nextEpoch = 1;
        final LinkedHashMap<Object, Entry> partitions = new LinkedHashMap<>();

        Session(int id, boolean byId) {
            this.id = id;
            this.byId = byId;
        }

        /** Moves a partition that just returned records behind the others, so partitions take turns at the byte budget. */
        void rotate(Entry e) {
            Object key = key(byId, e.topic, e.topicId, e.partition);
            if (partitions.remove(key) != null) {
                partitions.put(key, e);
            }
        }
    }

    /**
     * What to do with one request.
     *
     * @param error     a top-level error to answer with (no partitions), else 0
     * @param session   the session to answer for (new or incremental), or null for a sessionless fetch
     * @param full      whether the response carries every partition (sessionless or new session)
     * @param entries   the partitions to fetch, in order (for a session: its partitions)
     */
    record Plan(short error, Session session, boolean full, List<Entry> entries) {
        int sessionId() {
            return session == null ? 0 : session.id;
        }
    }

    private final int maxSessions;
    /** Sessions by id, in least-recently-used order (access order). Guarded by this. */
    private final LinkedHashMap<Integer, Session> sessions = new LinkedHashMap<>(16, 0.75f, true);

    FetchSessions(int maxSessions) {
        this.maxSessions = maxSessions;
    }

    static Object key(boolean byId, String topic, UUID topicId, int partition) {
        return byId ? new IdKey(topicId, partition) : new NameKey(topic, partition);
    }

    private record IdKey(UUID topicId, int partition) {
    }

    private record NameKey(String topic, int partition) {
    }

    /** Interprets a request's session fields (Fetch v7+; older requests have sessionId 0 and epoch -1). */
    Plan plan(FetchRequest request, boolean byId) {
        int id = request.sessionId();
        int epoch = request.sessionEpoch();
        if (epoch == FINAL_EPOCH || epoch == INITIAL_EPOCH) {
            if (id != 0) {
                remove(id); // closing (or replacing) a session
            }
            List<Entry> entries = new ArrayList<>();
            for (FetchRequest.FetchTopic t : request.topics()) {
                for (FetchRequest.FetchPartition p : t.partitions()) {
                    Entry e = new Entry(t.topic(), t.topicId(), p.partition());
                    e.fetchOffset = p.fetchOffset();
                    e.maxBytes = p.partitionMaxBytes();
                    entries.add(e);
                }
            }
            if (epoch == FINAL_EPOCH || maxSessions <= 0) {
                return new Plan((short) 0, null, true, entries);
            }
            Session session = create(byId);
            for (Entry e : entries) {
                session.partitions.put(key(byId, e.topic, e.topicId, e.partition), e);
            }
            return new Plan((short) 0, session, true, entries);
        }
        Session session;
        synchronized (this) {
            session = sessions.get(id);
        }
        if (session == null) {
            return new Plan(ErrorCode.FETCH_SESSION_ID_NOT_FOUND.code(), null, true, List.of());
        }
        synchronized (session) {
            if (epoch != session.nextEpoch || session.byId != byId) {
                return new Plan(ErrorCode.INVALID_FETCH_SESSION_EPOCH.code(), null, true, List.of());
            }
            session.nextEpoch = epoch == Integer.MAX_VALUE ? 1 : epoch + 1;
            for (FetchRequest.ForgottenTopic f : request.forgottenTopicsData()) {
                for (int p : f.partitions()) {
                    session.partitions.remove(key(byId, f.topic(), f.topicId(), p));
                }
            }
            for (FetchRequest.FetchTopic t : request.topics()) {
                for (FetchRequest.FetchPartition p : t.partitions()) {
                    Entry e = session.partitions.computeIfAbsent(key(byId, t.topic(), t.topicId(), p.partition()),
                            k -> new Entry(t.topic(), t.topicId(), p.partition()));
                    e.fetchOffset = p.fetchOffset();
                    e.maxBytes = p.partitionMaxBytes();
                }
            }
            return new Plan((short) 0, session, false, new ArrayList<>(session.partitions.values()));
        }
    }

    private synchronized Session create(boolean byId) {
        while (sessions.size() >= maxSessions) { // evict the least recently used
            Iterator<Integer> oldest = sessions.keySet().iterator();
            oldest.next();
            oldest.remove();
        }
        int id;
        do {
            id = ThreadLocalRandom.current().nextInt(1, Integer.MAX_VALUE);
        } while (sessions.containsKey(id));
        Session s = new Session(id, byId);
        sessions.put(id, s);
        return s;
    }

    private synchronized void remove(int id) {
        sessions.remove(id);
    }

    synchronized int size() {
        return sessions.size();
    }

    synchronized boolean contains(int id) {
        return sessions.containsKey(id);
    }

    @Override
    public String toString() {
        return "FetchSessions[" + size() + " of " + maxSessions + "]";
    }
}
