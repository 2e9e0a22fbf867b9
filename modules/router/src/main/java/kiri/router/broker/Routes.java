package kiri.router.broker;

import kiri.coordinator.GroupCoordinator;
import kiri.protocol.message.ApiKey;
import kiri.router.ApiVersionsHandler;
import kiri.router.BrokerConfig;
import kiri.router.RouteTable;
import kiri.router.TopicMetrics;
import kiri.router.security.BrokerSecurity;
import kiri.storage.api.Storage;

/** Builds the broker's route table; public entry point is {@link kiri.router.BrokerRoutes}. */
public final class Routes {
    private Routes() {
    }

    public static RouteTable.Builder broker(Storage storage, BrokerConfig config,
            java.util.function.Supplier<RouteTable> finalTable) {
        return broker(storage, config, finalTable, null, new TopicMetrics(), BrokerSecurity.open(storage));
    }

    /**
     * With the group coordinator ({@code null}: no group or transaction APIs are served); produce and fetch
     * count bytes and records per topic in {@code metrics}; SCRAM credentials and ACLs come from {@code security}.
     */
    public static RouteTable.Builder broker(Storage storage, BrokerConfig config,
            java.util.function.Supplier<RouteTable> finalTable, GroupCoordinator groups, TopicMetrics metrics,
            BrokerSecurity security) {
        BrokerState broker = new BrokerState(storage, config, metrics, security);
        RouteTable.Builder builder = RouteTable.builder()
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
                .route(ApiKey.INCREMENTAL_ALTER_CONFIGS, AlterConfigsHandlers.incremental(broker))
                .route(ApiKey.ALTER_CONFIGS, AlterConfigsHandlers.legacy(broker))
                .route(ApiKey.DESCRIBE_LOG_DIRS, AdminInfoHandlers.describeLogDirs(broker))
                .route(ApiKey.DESCRIBE_ACLS, AclHandlers.describe(broker))
                .route(ApiKey.CREATE_ACLS, AclHandlers.create(broker))
                .route(ApiKey.DELETE_ACLS, AclHandlers.delete(broker))
                .route(ApiKey.DESCRIBE_TOPIC_PARTITIONS, new DescribeTopicPartitionsHandler(broker))
                .route(ApiKey.SASL_HANDSHAKE, SaslHandlers.handshake())
                .route(ApiKey.SASL_AUTHENTICATE, SaslHandlers.authenticate())
                .route(ApiKey.DESCRIBE_USER_SCRAM_CREDENTIALS, ScramCredentialHandlers.describe(broker))
                .route(ApiKey.ALTER_USER_SCRAM_CREDENTIALS, ScramCredentialHandlers.alter(broker));
        if (groups != null) {
            builder.route(ApiKey.JOIN_GROUP, GroupHandlers.joinGroup(groups))
                    .route(ApiKey.SYNC_GROUP, GroupHandlers.syncGroup(groups))
                    .route(ApiKey.HEARTBEAT, GroupHandlers.heartbeat(groups))
                    .route(ApiKey.LEAVE_GROUP, GroupHandlers.leaveGroup(groups))
                    .route(ApiKey.DESCRIBE_GROUPS, GroupHandlers.describeGroups(groups, broker))
                    .route(ApiKey.LIST_GROUPS, GroupHandlers.listGroups(groups, broker))
                    .route(ApiKey.DELETE_GROUPS, GroupHandlers.deleteGroups(groups, broker))
                    .route(ApiKey.CONSUMER_GROUP_HEARTBEAT, ConsumerGroupHandlers.heartbeat(groups))
                    .route(ApiKey.CONSUMER_GROUP_DESCRIBE, ConsumerGroupHandlers.describe(groups))
                    .route(ApiKey.OFFSET_COMMIT, OffsetHandlers.offsetCommit(broker, groups))
                    .route(ApiKey.OFFSET_FETCH, OffsetHandlers.offsetFetch(broker, groups))
                    .route(ApiKey.OFFSET_DELETE, OffsetHandlers.offsetDelete(broker, groups))
                    .route(ApiKey.ADD_PARTITIONS_TO_TXN, TxnHandlers.addPartitionsToTxn(broker))
                    .route(ApiKey.ADD_OFFSETS_TO_TXN, TxnHandlers.addOffsetsToTxn(broker))
                    .route(ApiKey.TXN_OFFSET_COMMIT, TxnHandlers.txnOffsetCommit(broker, groups))
                    .route(ApiKey.END_TXN, TxnHandlers.endTxn(broker))
                    .route(ApiKey.DESCRIBE_TRANSACTIONS, TxnHandlers.describeTransactions(broker))
                    .route(ApiKey.LIST_TRANSACTIONS, TxnHandlers.listTransactions(broker))
                    .route(ApiKey.DESCRIBE_PRODUCERS, TxnHandlers.describeProducers(broker));
        }
        return builder;
    }
}
