package kiri.router.security;

/** Kafka's resource pattern types, with their protocol codes (MATCH and ANY only appear in filters). */
public enum PatternType {
    UNKNOWN(0), ANY(1), MATCH(2), LITERAL(3), PREFIXED(4);

    public final byte code;

    PatternType(int code) {
        this.code = (byte) code;
    }

    public static PatternType forCode(byte code) {
        for (PatternType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return UNKNOWN;
    }
}
