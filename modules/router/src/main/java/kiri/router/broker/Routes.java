package kiri.router.broker;

import kiri.protocol.message.ApiKey;
import kiri.router.ApiVersionsHandler;
import kiri.router.BrokerConfig;
import kiri.router.RouteTable;
import kiri.storage.api.Storage;

/** Builds the broker's route table; public entry point is {@link kiri.router.BrokerRoutes}. */
public final class Routes {
    private Routes() {
    }

    public static RouteTable.Builder broker(Storage storage, BrokerConfig config,
            java.util.function.Supplier<RouteTable> finalTable) {
        BrokerState broker = new BrokerState(storage, config);
        return RouteTable.builder()
                .route(ApiKey.API_VERSIONS, new ApiVersionsHandler(finalTable))
                .route(ApiKey.METADATA, new MetadataHandler(broker))
                .route(ApiKey.CREATE_TOPICS, new CreateTopicsHandler(broker))
                .route(ApiKey.DELETE_TOPICS, new DeleteTopicsHandler(broker))
                .route(ApiKey.CREATE_PARTITIONS, new CreatePartitionsHandler(broker))
                .route(ApiKey.PRODUCE, new ProduceHandler(broker))
                .route(ApiKey.FETCH, new FetchHandler(broker))
                .route(ApiKey.LIST_OFFSETS, new ListOffsetsHandler(broker))
                .route(ApiKey.DELETE_RECORDS, new DeleteRecordsHandler(broker))
                .route(ApiKey.INIT_PRODUCER_ID, ClusterHandlers.initProducerId(broker))
                .route(ApiKey.FIND_COORDINATOR, ClusterHandlers.findCoordinator(broker))
                .route(ApiKey.DESCRIBE_CLUSTER, ClusterHandlers.describeCluster(broker))
                .route(ApiKey.DESCRIBE_CONFIGS, new DescribeConfigsHandler(broker))
                .route(ApiKey.DESCRIBE_TOPIC_PARTITIONS, new DescribeTopicPartitionsHandler(broker));
    }
}
