package kiri.router.broker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import kiri.protocol.ApiMessage;
import kiri.protocol.message.FetchRequest;
import kiri.protocol.message.FetchResponse;
import kiri.router.Handler;
import kiri.router.RequestContext;
import kiri.storage.api.AbortedTransaction;
import kiri.storage.api.BatchRegion;
import kiri.storage.api.FetchResult;
import kiri.storage.api.IsolationLevel;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TopicRef;

/**
 * Fetch: stored batches per partition, within the partition and request byte limits (the first
 * batch of the response always goes, whole), waiting up to max.wait.ms for min.bytes by
 * listening to storage's data notifications rather than polling. Fetch sessions are not kept:
 * session id 0 tells clients to send full requests.
 *
 * <p>Batches are copied out of storage into the response for now; serving them without a copy
 * (file regions to the socket) is the log-storage issue's work.
 */
final class FetchHandler implements Handler {
    private final BrokerState broker;

    FetchHandler(BrokerState broker) {
        this.broker = broker;
    }

    /** One requested partition, resolved. */
    private record Wanted(FetchRequest.FetchTopic topic, FetchRequest.FetchPartition partition, TopicInfo info) {
    }

    @Override
    public CompletionStage<? extends ApiMessage> handle(RequestContext context, ApiMessage message) {
        FetchRequest request = (FetchRequest) message;
        boolean byId = context.version() >= 13;
        List<CompletionStage<List<Wanted>>> resolving = new ArrayList<>();
        for (FetchRequest.FetchTopic t : request.topics()) {
            TopicRef ref = byId ? TopicRef.of(t.topicId()) : TopicRef.of(t.topic());
            resolving.add(broker.topics().get(ref).thenApply(info -> {
                List<Wanted> out = new ArrayList<>();
                for (FetchRequest.FetchPartition p : t.partitions()) {
                    out.add(new Wanted(t, p, info));
                }
                return out;
            }));
        }
        IsolationLevel isolation = IsolationLevel.fromId(request.isolationLevel());
        return Futures.all(resolving).thenCompose(lists -> {
            List<Wanted> wanted = lists.stream().flatMap(List::stream).toList();
            return fetchAll(wanted, request, isolation).thenCompose(first -> {
                if (request.maxWaitMs() <= 0 || bytesOf(first) >= Math.max(1, request.minBytes()) || wanted.isEmpty()) {
                    return CompletableFuture.completedFuture(first);
                }
                return awaitAny(wanted, isolation, request.maxWaitMs())
                        .thenCompose(ignored -> fetchAll(wanted, request, isolation));
            }).thenApply(partitions -> response(wanted, partitions));
        });
    }

    private static long bytesOf(List<FetchResponse.PartitionData> partitions) {
        long n = 0;
        for (FetchResponse.PartitionData p : partitions) {
            n += p.records() == null ? 0 : p.records().byteSize();
        }
        return n;
    }

    /** Completes when any partition may have new data, or after maxWaitMs, whichever is first. */
    private CompletionStage<Void> awaitAny(List<Wanted> wanted, IsolationLevel isolation, int maxWaitMs) {
        CompletableFuture<Void> any = new CompletableFuture<>();
        List<CompletableFuture<Void>> waits = new ArrayList<>();
        for (Wanted w : wanted) {
            if (w.info() != null && w.partition().partition() < w.info().partitionCount()) {
                CompletableFuture<Void> wait = broker.storage().awaitData(
                        new TopicPartition(w.info().name(), w.partition().partition()),
                        w.partition().fetchOffset(), isolation);
                waits.add(wait);
                wait.whenComplete((v, e) -> any.complete(null));
            }
        }
        any.completeOnTimeout(null, maxWaitMs, TimeUnit.MILLISECONDS);
        // stop listening once answered, so waiters don't pile up in storage
        return any.whenComplete((v, e) -> waits.forEach(w -> w.cancel(false)));
    }

    private CompletionStage<List<FetchResponse.PartitionData>> fetchAll(List<Wanted> wanted, FetchRequest request,
            IsolationLevel isolation) {
        List<CompletionStage<FetchResponse.PartitionData>> each = new ArrayList<>(wanted.size());
        for (Wanted w : wanted) {
            each.add(fetchOne(w, isolation));
        }
        return Futures.all(each).thenApply(list -> limitToMaxBytes(list, request.maxBytes()));
    }

    private CompletionStage<FetchResponse.PartitionData> fetchOne(Wanted w, IsolationLevel isolation) {
        FetchRequest.FetchPartition p = w.partition();
        FetchResponse.PartitionData data = new FetchResponse.PartitionData().setPartitionIndex(p.partition())
                .setHighWatermark(-1L).setRecords(null);
        if (w.info() == null || p.partition() < 0 || p.partition() >= w.info().partitionCount()) {
            short code = w.info() == null ? (w.topic().topic().isEmpty()
                    ? TopicRef.of(w.topic().topicId()).unknownErrorCode()
                    : TopicRef.of(w.topic().topic()).unknownErrorCode())
                    : kiri.storage.api.ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION;
            return CompletableFuture.completedFuture(data.setErrorCode(code));
        }
        TopicPartition tp = new TopicPartition(w.info().name(), p.partition());
        return broker.storage().fetch(tp, p.fetchOffset(), Math.max(0, p.partitionMaxBytes()), true, isolation)
                .handle((result, failure) -> {
                    if (failure != null) {
                        return data.setErrorCode(Futures.errorCode(failure));
                    }
                    try (FetchResult r = result) {
                        data.setHighWatermark(r.highWatermark()).setLastStableOffset(r.lastStableOffset())
                                .setLogStartOffset(r.logStartOffset()).setRecords(copy(r));
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
                        return data;
                    }
                });
    }

    /** The batches as one heap segment (storage's views end when the result is closed). */
    private static MemorySegment copy(FetchResult r) {
        if (r.isEmpty()) {
            return MemorySegment.ofArray(new byte[0]);
        }
        byte[] out = new byte[Math.toIntExact(r.byteSize())];
        MemorySegment target = MemorySegment.ofArray(out);
        long at = 0;
        for (BatchRegion region : r.batches()) {
            switch (region) {
                case BatchRegion.Segment s -> MemorySegment.copy(s.segment(), 0, target, at, s.byteSize());
                case BatchRegion.FileRange f -> {
                    ByteBuffer dst = target.asSlice(at, f.length()).asByteBuffer();
                    try {
                        long pos = f.position();
                        while (dst.hasRemaining()) {
                            int n = f.channel().read(dst, pos);
                            if (n < 0) {
                                throw new IOException("file region ended early");
                            }
                            pos += n;
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            }
            at += region.byteSize();
        }
        return target;
    }

    /** Keeps the response within the request's max bytes; the first partition with data always goes whole. */
    private static List<FetchResponse.PartitionData> limitToMaxBytes(List<FetchResponse.PartitionData> list,
            int maxBytes) {
        long used = 0;
        boolean first = true;
        for (FetchResponse.PartitionData p : list) {
            long n = p.records() == null ? 0 : p.records().byteSize();
            if (n == 0) {
                continue;
            }
            if (!first && used + n > maxBytes) {
                p.setRecords(MemorySegment.ofArray(new byte[0]));
                continue;
            }
            used += n;
            first = false;
        }
        return list;
    }

    private static FetchResponse response(List<Wanted> wanted, List<FetchResponse.PartitionData> partitions) {
        FetchResponse response = new FetchResponse();
        FetchResponse.FetchableTopicResponse current = null;
        FetchRequest.FetchTopic currentTopic = null;
        for (int i = 0; i < wanted.size(); i++) {
            Wanted w = wanted.get(i);
            if (w.topic() != currentTopic) {
                currentTopic = w.topic();
                current = new FetchResponse.FetchableTopicResponse().setTopic(w.topic().topic())
                        .setTopicId(w.topic().topicId());
                response.responses().add(current);
            }
            current.partitions().add(partitions.get(i));
        }
        return response;
    }
}
