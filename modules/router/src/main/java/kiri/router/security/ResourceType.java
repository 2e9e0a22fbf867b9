package kiri.router.security;

/** Kafka's ACL resource types, with their protocol codes. */
public enum ResourceType {
    UNKNOWN(0), ANY(1), TOPIC(2), GROUP(3), CLUSTER(4), TRANSACTIONAL_ID(5), DELEGATION_TOKEN(6), USER(7);

    /** The one CLUSTER resource's name. */
    public static final String CLUSTER_NAME = "kafka-cluster";

    public final byte code;

    ResourceType(int code) {
        this.code = (byte) code;
    }

    public static ResourceType forCode(byte code) {
        for (ResourceType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return UNKNOWN;
    }
}
