package kiri.storage.api;

/**
 * The Kafka error codes a storage engine reports, with the values of Kafka 4.1's {@code Errors} table.
 * The storage API depends on nothing, so it carries its own copy of the few codes engines need; the
 * router maps them onto its per-partition / per-topic error fields unchanged.
 */
public final class ErrorCodes {
    private ErrorCodes() {}

    public static final short UNKNOWN_SERVER_ERROR = -1;
    public static final short NONE = 0;
    public static final short OFFSET_OUT_OF_RANGE = 1;
    public static final short CORRUPT_MESSAGE = 2;
    public static final short UNKNOWN_TOPIC_OR_PARTITION = 3;
    public static final short MESSAGE_TOO_LARGE = 10;
    public static final short COORDINATOR_LOAD_IN_PROGRESS = 14;
    public static final short NOT_COORDINATOR = 16;
    public static final short INVALID_TOPIC_EXCEPTION = 17;
    public static final short INVALID_GROUP_ID = 24;
    public static final short INVALID_TIMESTAMP = 32;
    public static final short TOPIC_ALREADY_EXISTS = 36;
    public static final short INVALID_PARTITIONS = 37;
    public static final short INVALID_REPLICATION_FACTOR = 38;
    public static final short INVALID_CONFIG = 40;
    public static final short INVALID_REQUEST = 42;
    public static final short POLICY_VIOLATION = 44;
    public static final short OUT_OF_ORDER_SEQUENCE_NUMBER = 45;
    public static final short DUPLICATE_SEQUENCE_NUMBER = 46;
    public static final short INVALID_PRODUCER_EPOCH = 47;
    public static final short INVALID_TXN_STATE = 48;
    public static final short INVALID_PRODUCER_ID_MAPPING = 49;
    public static final short INVALID_TRANSACTION_TIMEOUT = 50;
    public static final short CONCURRENT_TRANSACTIONS = 51;
    public static final short OPERATION_NOT_ATTEMPTED = 55;
    public static final short KAFKA_STORAGE_ERROR = 56;
    public static final short UNKNOWN_PRODUCER_ID = 59;
    public static final short NON_EMPTY_GROUP = 68;
    public static final short GROUP_ID_NOT_FOUND = 69;
    public static final short GROUP_SUBSCRIBED_TO_TOPIC = 86;
    public static final short INVALID_RECORD = 87;
    public static final short UNSTABLE_OFFSET_COMMIT = 88;
    public static final short PRODUCER_FENCED = 90;
    public static final short UNKNOWN_TOPIC_ID = 100;
    public static final short INCONSISTENT_CLUSTER_ID = 104;
    public static final short TRANSACTIONAL_ID_NOT_FOUND = 105;

    /** Kafka's name for a code listed here (e.g. {@code "UNKNOWN_TOPIC_OR_PARTITION"}), or {@code "ERROR_<code>"}. */
    public static String name(short code) {
        return switch (code) {
            case UNKNOWN_SERVER_ERROR -> "UNKNOWN_SERVER_ERROR";
            case NONE -> "NONE";
            case OFFSET_OUT_OF_RANGE -> "OFFSET_OUT_OF_RANGE";
            case CORRUPT_MESSAGE -> "CORRUPT_MESSAGE";
            case UNKNOWN_TOPIC_OR_PARTITION -> "UNKNOWN_TOPIC_OR_PARTITION";
            case MESSAGE_TOO_LARGE -> "MESSAGE_TOO_LARGE";
            case COORDINATOR_LOAD_IN_PROGRESS -> "COORDINATOR_LOAD_IN_PROGRESS";
            case NOT_COORDINATOR -> "NOT_COORDINATOR";
            case INVALID_TOPIC_EXCEPTION -> "INVALID_TOPIC_EXCEPTION";
            case INVALID_GROUP_ID -> "INVALID_GROUP_ID";
            case INVALID_TIMESTAMP -> "INVALID_TIMESTAMP";
            case TOPIC_ALREADY_EXISTS -> "TOPIC_ALREADY_EXISTS";
            case INVALID_PARTITIONS -> "INVALID_PARTITIONS";
            case INVALID_REPLICATION_FACTOR -> "INVALID_REPLICATION_FACTOR";
            case INVALID_CONFIG -> "INVALID_CONFIG";
            case INVALID_REQUEST -> "INVALID_REQUEST";
            case POLICY_VIOLATION -> "POLICY_VIOLATION";
            case OUT_OF_ORDER_SEQUENCE_NUMBER -> "OUT_OF_ORDER_SEQUENCE_NUMBER";
            case DUPLICATE_SEQUENCE_NUMBER -> "DUPLICATE_SEQUENCE_NUMBER";
            case INVALID_PRODUCER_EPOCH -> "INVALID_PRODUCER_EPOCH";
            case INVALID_TXN_STATE -> "INVALID_TXN_STATE";
            case INVALID_PRODUCER_ID_MAPPING -> "INVALID_PRODUCER_ID_MAPPING";
            case INVALID_TRANSACTION_TIMEOUT -> "INVALID_TRANSACTION_TIMEOUT";
            case CONCURRENT_TRANSACTIONS -> "CONCURRENT_TRANSACTIONS";
            case OPERATION_NOT_ATTEMPTED -> "OPERATION_NOT_ATTEMPTED";
            case KAFKA_STORAGE_ERROR -> "KAFKA_STORAGE_ERROR";
            case UNKNOWN_PRODUCER_ID -> "UNKNOWN_PRODUCER_ID";
            case NON_EMPTY_GROUP -> "NON_EMPTY_GROUP";
            case GROUP_ID_NOT_FOUND -> "GROUP_ID_NOT_FOUND";
            case GROUP_SUBSCRIBED_TO_TOPIC -> "GROUP_SUBSCRIBED_TO_TOPIC";
            case INVALID_RECORD -> "INVALID_RECORD";
            case UNSTABLE_OFFSET_COMMIT -> "UNSTABLE_OFFSET_COMMIT";
            case PRODUCER_FENCED -> "PRODUCER_FENCED";
            case UNKNOWN_TOPIC_ID -> "UNKNOWN_TOPIC_ID";
            case INCONSISTENT_CLUSTER_ID -> "INCONSISTENT_CLUSTER_ID";
            case TRANSACTIONAL_ID_NOT_FOUND -> "TRANSACTIONAL_ID_NOT_FOUND";
            default -> "ERROR_" + code;
        };
    }
}
