package kiri.router.broker;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import kiri.protocol.ApiMessage;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.ProduceRequest;
import kiri.protocol.message.ProduceResponse;
import kiri.protocol.record.BatchStatus;
import kiri.protocol.record.RecordBatch;
import kiri.protocol.record.RecordsVerdict;
import kiri.router.Handler;
import kiri.router.RequestContext;
import kiri.router.security.AclOperation;
import kiri.router.security.ResourceType;
import kiri.storage.api.TopicConfigs;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TopicRef;

/**
 * Produce: validates each partition's batch as Kafka does (exactly one magic v2 batch, CRC32C,
 * size within max.message.bytes, lastOffsetDelta + 1 == record count, base offset 0, no control
 * batches from clients), then its records in one pass without an object per record
 * ({@link ProducedRecords}: structure, offset deltas, keys on compacted topics, timestamps;
 * compressed batches decompressed first), hands it to storage (which writes the base offset in
 * place) and answers per partition. Failures are per-partition error codes (with Kafka's
 * recordErrors for per-record failures); a refused batch is not stored, other partitions of the
 * request are unaffected, the connection lives. With acks=0 the batches are still validated and
 * stored but nothing is answered.
 */
final class ProduceHandler implements Handler {
    private final BrokerState broker;
    private final ProducedRecords producedRecords = new ProducedRecords();

    ProduceHandler(BrokerState broker) {
        this.broker = broker;
    }

    @Override
    public CompletionStage<? extends ApiMessage> handle(RequestContext context, ApiMessage message) {
        ProduceRequest request = (ProduceRequest) message;
        boolean byId = context.version() >= 13;
        // Kafka checks the transactional id first: without WRITE on it, no partition is written
        boolean txnAllowed = request.transactionalId() == null || broker.allowed(context, AclOperation.WRITE,
                ResourceType.TRANSACTIONAL_ID, request.transactionalId());
        List<CompletionStage<ProduceResponse.TopicProduceResponse>> topics = new ArrayList<>(request.topicData().size());
        for (ProduceRequest.TopicProduceData data : request.topicData()) {
            TopicRef ref = byId ? TopicRef.of(data.topicId()) : TopicRef.of(data.name());
            topics.add(broker.topics().get(ref).thenCompose(topic -> {
                String name = topic != null ? topic.name() : data.name();
                short refused = !txnAllowed ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code()
                        : name != null && !broker.allowedTopic(context, AclOperation.WRITE, name)
                        ? ErrorCode.TOPIC_AUTHORIZATION_FAILED.code() : ErrorCode.NONE.code();
                return produceTopic(request, data, ref, topic, refused);
            }));
        }
        CompletableFuture<List<ProduceResponse.TopicProduceResponse>> all = Futures.all(topics);
        if (request.acks() == 0) {
            return all.thenApply(ignored -> null);
        }
        return all.thenCompose(list -> {
            ProduceResponse response = new ProduceResponse();
            response.responses().addAll(list);
            if (!LeaderHints.any(response)) {
                return CompletableFuture.completedFuture(response);
            }
            return broker.liveBrokers().thenApply(live -> {
                LeaderHints.addEndpoints(response, live);
                return response;
            });
        });
    }

    /** {@code refused}: the authorization error every partition gets, or NONE. */
    private CompletionStage<ProduceResponse.TopicProduceResponse> produceTopic(ProduceRequest request,
            ProduceRequest.TopicProduceData data, TopicRef ref, TopicInfo topic, short refused) {
        ProduceResponse.TopicProduceResponse result = new ProduceResponse.TopicProduceResponse()
                .setName(data.name()).setTopicId(data.topicId());
        List<CompletionStage<ProduceResponse.PartitionProduceResponse>> partitions = new ArrayList<>(
                data.partitionData().size());
        for (ProduceRequest.PartitionProduceData p : data.partitionData()) {
            if (refused != ErrorCode.NONE.code()) {
                partitions.add(CompletableFuture.completedFuture(failed(p.index(), refused, null)));
                continue;
            }
            if (topic == null || p.index() < 0 || p.index() >= topic.partitionCount()) {
                short code = topic == null ? ref.unknownError().code() : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code();
                partitions.add(CompletableFuture.completedFuture(failed(p.index(), code,
                        "This server does not host this topic-partition.")));
                continue;
            }
            kiri.storage.api.PartitionInfo elsewhere = LeaderHints.elsewhere(broker, topic, p.index());
            partitions.add(elsewhere != null ? CompletableFuture.completedFuture(LeaderHints.produce(p.index(), elsewhere))
                    : producePartition(request.transactionalId(), topic, p));
        }
        return Futures.all(partitions).thenApply(list -> {
            result.partitionResponses().addAll(list);
            return result;
        });
    }

    private CompletionStage<ProduceResponse.PartitionProduceResponse> producePartition(String transactionalId,
            TopicInfo topic, ProduceRequest.PartitionProduceData p) {
        MemorySegment records = p.records() == null ? null : p.records().memory();
        if (records == null || records.byteSize() == 0) {
            return CompletableFuture.completedFuture(failed(p.index(), ErrorCode.INVALID_RECORD.code(),
                    "Produce request must contain exactly one record batch"));
        }
        RecordBatch batch = new RecordBatch().wrap(records, 0);
        int maxBytes = TopicConfigs.intValue(topic.configs(), TopicConfigs.MAX_MESSAGE_BYTES);
        BatchStatus status = batch.validateForProduce(maxBytes);
        if (!status.isValid()) {
            return CompletableFuture.completedFuture(failed(p.index(), status.errorCode().code(), status.message()));
        }
        if (batch.sizeInBytes() != records.byteSize()) {
            return CompletableFuture.completedFuture(failed(p.index(), ErrorCode.INVALID_RECORD.code(),
                    "Produce request must contain exactly one record batch"));
        }
        if (batch.baseOffset() != 0) {
            return CompletableFuture.completedFuture(failed(p.index(), ErrorCode.INVALID_RECORD.code(),
                    "The base offset of the record batch should be 0, but it is " + batch.baseOffset()));
        }
        RecordsVerdict verdict = ProducedRecords.validate(batch, producedRecords.policy(topic, p.index()),
                System.currentTimeMillis());
        if (!verdict.isValid()) {
            return CompletableFuture.completedFuture(refused(p.index(), verdict));
        }
        TopicPartition tp = new TopicPartition(topic.name(), p.index());
        int recordCount = batch.recordCount();
        long bytes = records.byteSize();
        return broker.storage().produce(transactionalId, tp, records).handle((ignored, failure) -> {
            if (failure != null) {
                return failed(p.index(), Futures.errorCode(failure), Futures.message(failure));
            }
            broker.metrics().in(tp.topic(), recordCount, bytes);
            // the engine wrote the assigned base offset (and a log-append time, if the topic uses it) in place
            boolean logAppendTime = batch.timestampType() == kiri.protocol.record.TimestampType.LOG_APPEND_TIME;
            return new ProduceResponse.PartitionProduceResponse().setIndex(p.index())
                    .setBaseOffset(batch.baseOffset())
                    .setLogAppendTimeMs(logAppendTime ? batch.maxTimestamp() : -1L);
        });
    }

    private static ProduceResponse.PartitionProduceResponse refused(int partition, RecordsVerdict verdict) {
        ProduceResponse.PartitionProduceResponse response = failed(partition, verdict.errorCode().code(),
                verdict.message());
        for (RecordsVerdict.RecordError e : verdict.recordErrors()) {
            response.recordErrors().add(new ProduceResponse.BatchIndexAndErrorMessage().setBatchIndex(e.batchIndex())
                    .setBatchIndexErrorMessage(e.message()));
        }
        return response;
    }

    private static ProduceResponse.PartitionProduceResponse failed(int partition, short code, String message) {
        return new ProduceResponse.PartitionProduceResponse().setIndex(partition).setErrorCode(code)
                .setBaseOffset(-1L).setErrorMessage(message);
    }
}
