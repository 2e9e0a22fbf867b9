package kiri.router.broker;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import kiri.protocol.ApiMessage;
import kiri.protocol.ErrorCode;
import kiri.protocol.Records;
import kiri.protocol.message.FetchRequest;
import kiri.protocol.message.FetchResponse;
import kiri.router.Handler;
import kiri.router.Pinned;
import kiri.router.RequestContext;
import kiri.router.security.AclOperation;
import kiri.storage.api.AbortedTransaction;
import kiri.storage.api.FetchResult;
import kiri.storage.api.IsolationLevel;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TopicRef;

/**
 * Fetch: stored batches per partition, as a long poll.
 *
 * <p>Limits, as Kafka's broker applies them (KIP-74): the response holds at most the request's max bytes, capped by
 * the broker's {@code fetch.max.bytes} ({@link #FETCH_MAX_BYTES}, 55 MiB); partitions are read in request order,
 * each up to {@code min(partition max bytes, what is left of that)}, whole batches only; the first partition that
 * returns data may exceed both with one batch (so consumers always progress), later ones may not. Responses of this
 * connection still waiting to be written count against the cap ({@link
 * kiri.transport.ConnectionContext#queuedResponseBytes}), and the first batch is then not exempt: a peer that
 * pipelines fetches without reading the answers gets empty ones rather than making the broker hold
 * {@code fetch.max.bytes} per request. (Kafka reads one request per connection at a time, so it never has more than
 * one such response; real consumers have one fetch in flight per broker and never see the difference.) The response goes out as soon as it holds {@code min.bytes} (at least 1) or a
 * partition error, else once new data arrives and brings it there, else after {@code max.wait.ms}.
 * Waiting listens to storage's data notifications ({@link kiri.storage.api.Storage#awaitData}) for
 * data beyond what each partition had at the last read, so a consumer behind the high watermark but
 * short of min.bytes does not spin.
 *
 * <p>Threading: wake-ups arrive on the producing connection's event loop (or on the JDK's timeout
 * thread); the re-read and building the response then run on {@link #WAKE_UPS}, a small daemon
 * pool, never on those threads.
 *
 * <p>Fetch sessions (KIP-227, v7+) are kept in {@link FetchSessions}: incremental requests name only
 * the partitions that changed, and their responses carry only partitions with news.
 *
 * <p>Batches are not copied through the heap: a partition's records field holds the storage regions
 * themselves ({@link Records}), which the router encodes ({@link Pinned}) by copying memory regions
 * off-heap to off-heap and leaving file regions to the transport's {@code transferTo}. The storage {@link FetchResult}s stay open until the response has been sent
 * (or dropped); results of a long poll's earlier reads are closed before it reads again.
 */
final class FetchHandler implements Handler {
    /** Where long polls continue after a wake-up or a timeout: not the producer's event loop. */
    private static final Executor WAKE_UPS = wakeUpPool();

    /** Kafka's broker default {@code fetch.max.bytes} (57671680): the most one fetch response holds. */
    static final int FETCH_MAX_BYTES = 55 << 20;

    /** Kafka's default max.incremental.fetch.session.cache.slots. */
    static final int MAX_SESSIONS = 1000;

    private final BrokerState broker;
    private final FetchSessions sessions;

    FetchHandler(BrokerState broker) {
        this(broker, new FetchSessions(MAX_SESSIONS));
    }

    FetchHandler(BrokerState broker, FetchSessions sessions) {
        this.broker = broker;
        this.sessions = sessions;
    }

    private static Executor wakeUpPool() {
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "kiri-fetch-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    /**
     * One partition to read, resolved ({@code info} null if the topic is unknown; {@code denied} when the principal
     * may not READ the topic).
     */
    private record Wanted(FetchSessions.Entry entry, FetchRequest.FetchPartition partition, TopicInfo info,
            boolean denied) {
        boolean exists() {
            return !denied && info != null && partition.partition() >= 0 && partition.partition() < info.partitionCount();
        }

        TopicPartition tp() {
            return new TopicPartition(info.name(), partition.partition());
        }
    }

    /**
     * No records, also for a partition in error: Kafka answers an empty records field, never a null one
     * (librdkafka reads a null one as "invalid MessageSetSize -1" and never resets an out-of-range offset).
     */
    private static final Records NO_RECORDS = Records.EMPTY;

    /**
     * One partition's answer, the fetchable end it saw (-1 after an error) and, if storage returned
     * batches, the result pinning the regions its records field holds.
     */
    private record Read(FetchResponse.PartitionData data, long end, FetchResult result) {
        Read(FetchResponse.PartitionData data, long end) {
            this(data, end, null);
        }

        long bytes() {
            return data.records() == null ? 0 : data.records().byteSize();
        }
    }

    private static void release(List<Read> reads) {
        for (Read r : reads) {
            if (r.result() != null) {
                r.result().close();
            }
        }
    }

    @Override
    public CompletionStage<? extends ApiMessage> handle(RequestContext context, ApiMessage message) {
        FetchRequest request = (FetchRequest) message;
        boolean byId = context.version() >= 13;
        FetchSessions.Plan plan = sessions.plan(request, byId);
        if (plan.error() != ErrorCode.NONE.code()) {
            return CompletableFuture.completedFuture(new FetchResponse().setErrorCode(plan.error()).setSessionId(0));
        }
        List<FetchRequest.FetchPartition> positions = new ArrayList<>(plan.entries().size());
        Object lock = plan.session() != null ? plan.session() : positions;
        synchronized (lock) { // the positions as of this request
            for (FetchSessions.Entry e : plan.entries()) {
                positions.add(e.asRequest());
            }
        }
        List<CompletionStage<Wanted>> resolving = new ArrayList<>(plan.entries().size());
        for (int i = 0; i < positions.size(); i++) {
            FetchSessions.Entry e = plan.entries().get(i);
            FetchRequest.FetchPartition p = positions.get(i);
            TopicRef ref = byId ? TopicRef.of(e.topicId) : TopicRef.of(e.topic);
            resolving.add(broker.topics().get(ref).thenApply(info -> {
                String name = info != null ? info.name() : e.topic;
                boolean denied = name != null && !name.isEmpty() && !broker.allowedTopic(context, AclOperation.READ, name);
                return new Wanted(e, p, info, denied);
            }));
        }
        IsolationLevel isolation = IsolationLevel.fromId(request.isolationLevel());
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, request.maxWaitMs()));
        return Futures.all(resolving).thenCompose(wanted -> poll(context, wanted, request, isolation, deadline)
                .thenCompose(reads -> {
                    FetchResponse response;
                    try {
                        countOut(wanted, reads);
                        response = response(plan, wanted, reads);
                    } catch (RuntimeException | Error e) {
                        release(reads);
                        throw e;
                    }
                    java.util.Set<Integer> leaders = LeaderHints.leaders(response);
                    if (leaders.isEmpty()) {
                        return CompletableFuture.completedFuture(pinnedOrRelease(response, reads));
                    }
                    return broker.liveBrokers().handle((live, failure) -> {
                        if (failure == null) {
                            LeaderHints.addEndpoints(response, leaders, live);
                        }
                        return pinnedOrRelease(response, reads);
                    });
                }));
    }

    /** Bytes out per topic, counted once per request (not per long-poll round). */
    private void countOut(List<Wanted> wanted, List<Read> reads) {
        for (int i = 0; i < reads.size(); i++) {
            long bytes = reads.get(i).bytes();
            if (bytes > 0) {
                broker.metrics().out(wanted.get(i).info().name(), bytes);
            }
        }
    }

    private static ApiMessage pinnedOrRelease(FetchResponse response, List<Read> reads) {
        try {
            return pinned(response, reads);
        } catch (RuntimeException | Error e) {
            release(reads);
            throw e;
        }
    }

    /**
     * The response, with the reads' storage results to release once it is sent and the bytes of the file
     * regions it carries (an incremental response may leave partitions out).
     */
    private static ApiMessage pinned(FetchResponse response, List<Read> reads) {
        boolean pinned = false;
        for (Read r : reads) {
            pinned |= r.result() != null;
        }
        if (!pinned) {
            return response;
        }
        long fileBytes = 0;
        for (FetchResponse.FetchableTopicResponse topic : response.responses()) {
            for (FetchResponse.PartitionData p : topic.partitions()) {
                fileBytes += p.records() == null ? 0 : p.records().fileBytes();
            }
        }
        List<Read> held = List.copyOf(reads);
        return new Pinned(response, fileBytes, () -> release(held));
    }

    /** Reads every partition; answers if that is enough or time is up, else waits for new data and reads again. */
    private CompletionStage<List<Read>> poll(RequestContext context, List<Wanted> wanted, FetchRequest request,
            IsolationLevel isolation, long deadline) {
        return readAll(context, wanted, request, isolation).thenCompose(reads -> {
            long waitNanos = deadline - System.nanoTime();
            if (reads.isEmpty() && waitNanos > 0) { // nothing to wait for (an emptied session): wait out max wait, as Kafka does
                return CompletableFuture.supplyAsync(() -> reads,
                        CompletableFuture.delayedExecutor(waitNanos, TimeUnit.NANOSECONDS, WAKE_UPS));
            }
            if (enough(reads, request) || waitNanos <= 0) {
                return CompletableFuture.completedFuture(reads);
            }
            release(reads); // read again after the wait; awaitAny needs only the ends
            return awaitAny(wanted, reads, isolation, waitNanos)
                    .thenComposeAsync(ignored -> poll(context, wanted, request, isolation, deadline), WAKE_UPS);
        });
    }

    private static boolean enough(List<Read> reads, FetchRequest request) {
        long bytes = 0;
        for (Read r : reads) {
            if (r.data().errorCode() != ErrorCode.NONE.code()) {
                return true; // errors are answered at once, as Kafka does
            }
            bytes += r.bytes();
        }
        return bytes >= Math.max(1, request.minBytes());
    }

    /** Completes when any partition's fetchable end moves past what the last read saw, or after waitNanos. */
    private CompletionStage<Void> awaitAny(List<Wanted> wanted, List<Read> reads, IsolationLevel isolation,
            long waitNanos) {
        CompletableFuture<Void> any = new CompletableFuture<>();
        List<CompletableFuture<Void>> waits = new ArrayList<>();
        for (int i = 0; i < wanted.size(); i++) {
            Wanted w = wanted.get(i);
            if (!w.exists()) {
                continue;
            }
            long from = Math.max(w.partition().fetchOffset(), reads.get(i).end());
            CompletableFuture<Void> wait = broker.storage().awaitData(w.tp(), from, isolation);
            waits.add(wait);
            wait.whenComplete((v, e) -> any.complete(null));
        }
        any.completeOnTimeout(null, waitNanos, TimeUnit.NANOSECONDS);
        // stop listening once answered, so waiters don't pile up in storage
        return any.whenComplete((v, e) -> waits.forEach(w -> w.cancel(false)));
    }

    /** Reads the partitions in order within the request's byte budget (see the class comment). */
    private CompletionStage<List<Read>> readAll(RequestContext context, List<Wanted> wanted, FetchRequest request,
            IsolationLevel isolation) {
        List<Read> reads = new ArrayList<>(wanted.size());
        long queued = context.connection() == null ? 0 : context.connection().queuedResponseBytes(); // null: unit tests
        long[] left = {Math.max(0, Math.min(request.maxBytes(), FETCH_MAX_BYTES) - queued)};
        boolean[] gotData = {queued > 0}; // then no batch is exempt from the cap
        CompletionStage<Void> chain = CompletableFuture.completedFuture(null);
        for (Wanted w : wanted) {
            chain = chain.thenCompose(ignored -> {
                int limit = (int) Math.min(Math.max(0, w.partition().partitionMaxBytes()), left[0]);
                return readOne(w, limit, !gotData[0], isolation).thenAccept(read -> {
                    reads.add(read);
                    long n = read.bytes();
                    if (n > 0) {
                        gotData[0] = true;
                        left[0] = Math.max(0, left[0] - n);
                    }
                });
            });
        }
        return chain.whenComplete((ignored, failure) -> {
            if (failure != null) {
                release(reads);
            }
        }).thenApply(ignored -> reads);
    }

    private CompletionStage<Read> readOne(Wanted w, int maxBytes, boolean minOneBatch, IsolationLevel isolation) {
        FetchRequest.FetchPartition p = w.partition();
        FetchResponse.PartitionData data = new FetchResponse.PartitionData().setPartitionIndex(p.partition())
                .setHighWatermark(-1L).setRecords(NO_RECORDS);
        if (w.denied()) {
            return CompletableFuture.completedFuture(new Read(data.setErrorCode(
                    ErrorCode.TOPIC_AUTHORIZATION_FAILED.code()), -1L));
        }
        if (!w.exists()) {
            short code = w.info() == null ? (w.entry().topic.isEmpty()
                    ? TopicRef.of(w.entry().topicId).unknownError().code()
                    : TopicRef.of(w.entry().topic).unknownError().code())
                    : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code();
            return CompletableFuture.completedFuture(new Read(data.setErrorCode(code), -1L));
        }
        kiri.storage.api.PartitionInfo elsewhere = LeaderHints.elsewhere(broker, w.info(), p.partition());
        if (elsewhere != null) {
            return CompletableFuture.completedFuture(new Read(LeaderHints.fetch(data, elsewhere), -1L));
        }
        TopicPartition tp = w.tp();
        return broker.storage().fetch(tp, p.fetchOffset(), maxBytes, minOneBatch, isolation)
                .<CompletionStage<Read>>handle((result, failure) -> {
                    if (failure != null) {
                        return outOfRange(tp, data.setErrorCode(Futures.errorCode(failure)));
                    }
                    FetchResult r = result;
                    try {
                        data.setHighWatermark(r.highWatermark()).setLastStableOffset(r.lastStableOffset())
                                .setLogStartOffset(r.logStartOffset());
                        if (isolation == IsolationLevel.READ_COMMITTED) {
                            List<FetchResponse.AbortedTransaction> aborted = new ArrayList<>();
                            for (AbortedTransaction a : r.abortedTransactions()) {
                                aborted.add(new FetchResponse.AbortedTransaction().setProducerId(a.producerId())
                                        .setFirstOffset(a.firstOffset()));
                            }
                            data.setAbortedTransactions(aborted);
                        } else {
                            data.setAbortedTransactions(null);
                        }
                        long end = isolation == IsolationLevel.READ_COMMITTED ? r.lastStableOffset() : r.highWatermark();
                        return CompletableFuture.completedFuture(records(data, end, r));
                    } catch (RuntimeException | Error e) {
                        r.close();
                        throw e;
                    }
                }).thenCompose(stage -> stage);
    }

    /** OFFSET_OUT_OF_RANGE also tells the client the partition's log start offset and high watermark. */
    private CompletionStage<Read> outOfRange(TopicPartition tp, FetchResponse.PartitionData data) {
        if (data.errorCode() != ErrorCode.OFFSET_OUT_OF_RANGE.code()) {
            return CompletableFuture.completedFuture(new Read(data, -1L));
        }
        return broker.storage().offsets(tp).handle((o, failure) -> {
            if (o != null) {
                data.setHighWatermark(o.highWatermark()).setLastStableOffset(o.lastStableOffset())
                        .setLogStartOffset(o.logStartOffset());
            }
            return new Read(data, -1L);
        });
    }

    /** Sets the records field to the stored regions, without copying; for no batches the result is closed. */
    private static Read records(FetchResponse.PartitionData data, long end, FetchResult r) {
        if (r.isEmpty()) {
            r.close();
            data.setRecords(NO_RECORDS);
            return new Read(data, end);
        }
        data.setRecords(Records.of(r.batches()));
        return new Read(data, end, r);
    }

    /**
     * The response: every partition for a full fetch; for an incremental one only partitions with
     * records, an error or offsets that moved since the session's last response.
     */
    private static FetchResponse response(FetchSessions.Plan plan, List<Wanted> wanted, List<Read> reads) {
        FetchResponse response = new FetchResponse().setSessionId(plan.sessionId());
        FetchSessions.Session session = plan.session();
        FetchResponse.FetchableTopicResponse current = null;
        FetchSessions.Entry currentTopic = null;
        for (int i = 0; i < wanted.size(); i++) {
            FetchSessions.Entry e = wanted.get(i).entry();
            FetchResponse.PartitionData data = reads.get(i).data();
            if (session != null) {
                synchronized (session) {
                    boolean include = e.changedBy(data) || plan.full();
                    if (reads.get(i).bytes() > 0) {
                        session.rotate(e);
                    }
                    if (!include) {
                        continue;
                    }
                }
            }
            if (currentTopic == null || !java.util.Objects.equals(currentTopic.topic, e.topic)
                    || !java.util.Objects.equals(currentTopic.topicId, e.topicId)) {
                currentTopic = e;
                current = new FetchResponse.FetchableTopicResponse().setTopic(e.topic).setTopicId(e.topicId);
                response.responses().add(current);
            }
            current.partitions().add(data);
        }
        return response;
    }
}
