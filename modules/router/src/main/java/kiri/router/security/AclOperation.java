package kiri.router.security;

/** Kafka's ACL operations, with their protocol codes. */
public enum AclOperation {
    UNKNOWN(0), ANY(1), ALL(2), READ(3), WRITE(4), CREATE(5), DELETE(6), ALTER(7), DESCRIBE(8), CLUSTER_ACTION(9),
    DESCRIBE_CONFIGS(10), ALTER_CONFIGS(11), IDEMPOTENT_WRITE(12), CREATE_TOKENS(13), DESCRIBE_TOKENS(14),
    TWO_PHASE_COMMIT(15);

    public final byte code;

    AclOperation(int code) {
        this.code = (byte) code;
    }

    public static AclOperation forCode(byte code) {
        for (AclOperation o : values()) {
            if (o.code == code) {
                return o;
            }
        }
        return UNKNOWN;
    }

    /**
     * Whether an ALLOW of {@code granted} allows this operation: itself, ALL, and the implications Kafka
     * defines (DESCRIBE by READ, WRITE, DELETE or ALTER; DESCRIBE_CONFIGS by ALTER_CONFIGS).
     */
    public boolean allowedBy(AclOperation granted) {
        return granted == this || granted == ALL
                || this == DESCRIBE && (granted == READ || granted == WRITE || granted == DELETE || granted == ALTER)
                || this == DESCRIBE_CONFIGS && granted == ALTER_CONFIGS;
    }
}
